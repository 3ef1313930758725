"""What is in the sky from the station: stars (Hipparcos), the Sun, the Moon and the planets."""

from .bodies import BODY_KEYS, MOON_PHASES, Body, bodies, moon_phase_name, planet_vmag
from .stars import (
    ATMOSPHERE_KM,
    StarCatalog,
    StarsView,
    apparent_directions_teme,
    catalog,
    limb_margin_deg,
    unit_vectors_icrs,
    visible_stars,
)

__all__ = [
    "ATMOSPHERE_KM", "BODY_KEYS", "MOON_PHASES", "Body", "StarCatalog", "StarsView",
    "apparent_directions_teme", "bodies", "catalog", "limb_margin_deg", "moon_phase_name",
    "planet_vmag", "unit_vectors_icrs", "visible_stars",
]
