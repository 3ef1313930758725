"""The curated public names of cupola: ``from cupola.api import Satellite``."""

from .elements import ElementArchive, ElementSet, bundled_archive, load_element_file, parse_element_sets, parse_omm, parse_tle
from .errors import CupolaError, DataMissingError, ElementSetError, InputError, TimeInputError
from .geo.caption import PHASES, caption
from .geo.places import Places, locate
from .lighting import (
    next_sun_events,
    orbital_sun_events,
    phases,
    shadow_status,
    sun_elevation_deg,
    sun_fraction,
    sun_teme_km,
)
from .orbit import SGP4_ERRORS, Satellite, State
from .search import Edges, Predicate, find_edges, windows
from .timebase import Instants, instants, iso_utc, to_utc64
from .where import Where, where
from .scene import Lighting, Scene, compute_scene
from .view import (
    azel_deg,
    earth_blocks,
    footprint_radius_km,
    horizon_dip_deg,
    limb_height_above_hard_limb_deg,
    lvlh_basis,
    ray_ellipsoid,
    ray_sphere,
    shell_visible_arc_deg,
)
from .colour import star_colour_rgb
from .sky.stars import StarCatalog, StarsView, catalog, visible_stars
from .sky.bodies import Body, bodies
from .phenomena.airglow import LAYERS as AIRGLOW_LAYERS, AirglowLayerView, airglow_in_view, layer_emission_along_rays
from .phenomena.aurora import AuroraView, aurora_in_view, oval_mlat_deg
from .phenomena.kp import KpValues, kp_at, last_observed_utc
from .phenomena.lights import City, cities_in_view, light_sources

__all__ = [
    "CupolaError", "DataMissingError", "ElementSetError", "InputError", "TimeInputError",
    "ElementArchive", "ElementSet", "bundled_archive", "load_element_file", "parse_element_sets",
    "parse_omm", "parse_tle",
    "Satellite", "State", "SGP4_ERRORS",
    "Instants", "instants", "iso_utc", "to_utc64",
    "PHASES", "next_sun_events", "orbital_sun_events", "phases", "shadow_status",
    "sun_elevation_deg", "sun_fraction", "sun_teme_km",
    "Edges", "Predicate", "find_edges", "windows",
    "Places", "locate", "caption",
    "Where", "where",
    "Lighting", "Scene", "compute_scene",
    "azel_deg", "earth_blocks", "footprint_radius_km", "horizon_dip_deg",
    "limb_height_above_hard_limb_deg", "lvlh_basis", "ray_ellipsoid", "ray_sphere", "shell_visible_arc_deg",
    "StarCatalog", "StarsView", "catalog", "star_colour_rgb", "visible_stars", "Body", "bodies",
    "AIRGLOW_LAYERS", "AirglowLayerView", "airglow_in_view", "layer_emission_along_rays",
    "AuroraView", "aurora_in_view", "oval_mlat_deg", "KpValues", "kp_at", "last_observed_utc",
    "City", "cities_in_view", "light_sources",
]
