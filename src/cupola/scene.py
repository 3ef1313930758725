"""The Scene: everything in view from the station at one instant, in one frozen object.

Everything below this seam computes (orbit, geo, lighting, sky, phenomena); everything above it
(the `where` answer, the CLI, later the renderer and the web layer) only reads Scenes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .errors import DataMissingError, InputError
from .geo.caption import caption as _caption
from .geo.places import Places, locate
from .lighting import next_sun_events, phases, shadow_status, sun_elevation_deg, sun_fraction
from .orbit import Satellite, State
from .phenomena.airglow import AirglowLayerView, airglow_in_view
from .phenomena.aurora import AuroraView, aurora_in_view
from .phenomena.lights import City, cities_in_view
from .sky.bodies import Body, bodies
from .sky.stars import StarsView, visible_stars
from .timebase import iso_utc, to_utc64

PLANETS = ("Mercury", "Venus", "Mars", "Jupiter", "Saturn")
STAR_MAG_LIMIT = 6.0
CITY_LIMIT = 10


@dataclass(frozen=True, eq=False)
class Lighting:
    """The station's light at the instant."""

    sunlit: bool  # geometric model (skyfield's is_sunlit)
    sun_fraction: float  # visible fraction of the solar disc (cone model, no atmosphere)
    shadow: str  # 'sunlit', 'penumbra' or 'umbra' (cone model)
    sun_elevation_below_deg: float  # the Sun seen from the ground point below
    phase: str  # see cupola.geo.caption.PHASES
    next_orbital_sunrise_utc: np.datetime64
    next_orbital_sunset_utc: np.datetime64


@dataclass(frozen=True, eq=False)
class Scene:
    """What is in view from the station at one instant (plain arrays and frozen dataclasses)."""

    t_utc: np.datetime64
    satellite: str
    state: State  # 0-d arrays
    lighting: Lighting
    places: Places  # under the station
    stars: StarsView  # stars brighter than STAR_MAG_LIMIT above the limb
    bodies: tuple[Body, ...]  # Sun, Moon, planets
    airglow: tuple[AirglowLayerView, ...]
    aurora: AuroraView | None  # None when no Kp is known for the instant (see aurora_note)
    cities: tuple[City, ...]  # lit cities in view, brightest first
    camera: object | None = None
    aurora_note: str = ""  # why there is no aurora answer, when `aurora` is None

    def body(self, name: str) -> Body:
        """Return the body called `name` ('Sun', 'Moon', 'Venus', ...)."""
        for b in self.bodies:
            if b.name.lower() == name.lower():
                return b
        raise InputError(f"no body named {name!r} in the scene; use one of {', '.join(b.name for b in self.bodies)}")

    def caption(self, lang: str = "en") -> str:
        """Return the NASA-style caption in `lang` ('en' or 'fr')."""
        return str(_caption(self.state.alt_km, self.places, self.lighting.phase, lang))

    def in_view_json(self) -> dict:
        """Return the `in_view` object of `cupola where --json`."""
        return {
            "stars_visible": int(self.stars.count),
            "star_mag_limit": STAR_MAG_LIMIT,
            "sun": _body_json(self.body("Sun")),
            "moon": _body_json(self.body("Moon")),
            "planets": [_body_json(b) for b in self.bodies if b.name.capitalize() in PLANETS],
            "airglow": [
                {
                    "name": a.name,
                    "species": a.species,
                    "wavelength_nm": a.wavelength_nm,
                    "height_km": a.height_km,
                    "visible": bool(a.visible),
                    "colour_hex": a.colour_hex,
                    "limb_elevation_deg": _r(a.limb_elevation_deg, 3),
                    "limb_rayleigh": _r(a.limb_rayleigh, 0),
                    "note": str(a.note),
                }
                for a in self.airglow
            ],
            "aurora": _aurora_json(self.aurora, self.aurora_note),
            "cities": [
                {
                    "name": c.name,
                    "country": c.country,
                    "population": int(c.population),
                    "azimuth_deg": _r(c.azimuth_deg, 2),
                    "elevation_deg": _r(c.elevation_deg, 2),
                    "distance_km": _r(c.distance_km, 1),
                }
                for c in self.cities
            ],
            "next_orbital_sunrise_utc": _iso_or_none(self.lighting.next_orbital_sunrise_utc),
            "next_orbital_sunset_utc": _iso_or_none(self.lighting.next_orbital_sunset_utc),
        }


def _aurora_json(a: AuroraView | None, note: str) -> dict:
    if a is None:
        return {"kp": None, "kp_symbol": None, "kp_is_prediction": None, "kp_source": None, "visible": None,
                "hemisphere": None, "azimuth_deg": None, "elevation_deg": None, "distance_km": None,
                "emissions": [], "activity_al_nt": None, "storm_scale": None, "magnetic_model": None,
                "note": note}
    return {
        "kp": float(a.kp),
        "kp_symbol": a.kp_symbol,
        "kp_is_prediction": bool(a.kp_is_prediction),
        "kp_source": a.kp_source,
        "visible": bool(a.visible),
        "hemisphere": a.hemisphere,
        "azimuth_deg": _r(a.azimuth_deg, 2),
        "elevation_deg": _r(a.elevation_deg, 2),
        "distance_km": _r(a.distance_km, 1),
        "emissions": a.emissions,
        "activity_al_nt": _r(a.intensity, 1),
        "storm_scale": a.storm_scale,
        "magnetic_model": a.magnetic_model,
        "note": a.note,
    }


def _r(x, digits):
    x = float(x)
    return None if not math.isfinite(x) else round(x, digits)


def _iso_or_none(t):
    return None if np.isnat(t) else iso_utc(t)


def _body_json(b: Body) -> dict:
    name = b.name.capitalize()
    out = {
        "name": name,
        "visible": bool(b.above_limb),
        "azimuth_deg": _r(b.az_deg, 2),
        "elevation_deg": _r(b.el_deg, 2),
        "limb_margin_deg": _r(b.limb_margin_deg, 2),
        "vmag": _r(b.vmag, 2),
    }
    if name == "Moon":
        out["illuminated_fraction"] = _r(b.illuminated_fraction, 4)
        out["phase_name"] = str(b.phase_name)
    return out


def compute_scene(t, camera=None, sat: Satellite | None = None, kp: float | None = None) -> Scene:
    """Return the :class:`Scene` at one instant `t`.

    Args:
        t: one instant (ISO text with a zone, aware datetime, or numpy datetime64 UTC).
        camera: an optional `cupola.camera.Camera`, carried for the renderer.
        sat: the satellite (default: the ISS with the bundled element-set history).
        kp: the Kp index to use for the aurora (0-9); default: the bundled Kp history's value.
            Outside that history the Scene has no aurora answer and says why.
    """
    sat = sat or Satellite.from_archive()
    t64 = to_utc64(t)
    if t64.ndim:
        raise InputError("compute_scene takes one instant; call it once per frame for a series")
    st = sat.at(t64)
    if int(st.error) != 0:
        raise InputError(
            f"SGP4 cannot propagate the element set to {iso_utc(t64)} (error {int(st.error)}: "
            f"{st.error_message}); pass element sets closer to that time with --tle FILE"
        )
    frac = float(sun_fraction(st.r_teme_km, st.sun_teme_km, "cone"))
    rise, sset = next_sun_events(sat, t64)
    lighting = Lighting(
        sunlit=bool(st.sunlit),
        sun_fraction=frac,
        shadow=str(shadow_status(frac)),
        sun_elevation_below_deg=float(sun_elevation_deg(st.lat_deg, st.lon_deg, st.sun_teme_km, st.instants)),
        phase=str(phases(sat, st)),
        next_orbital_sunrise_utc=rise,
        next_orbital_sunset_utc=sset,
    )
    if kp is not None and not 0.0 <= float(kp) <= 9.0:
        raise InputError(f"Kp must be between 0 and 9, got {kp!r}; e.g. --kp 5")
    aurora, aurora_note = None, ""
    try:
        aurora = aurora_in_view(st, kp=kp)
    except DataMissingError as exc:  # no Kp for this date: answer the rest, say why
        aurora_note = f"{exc}"
    return Scene(
        t_utc=t64,
        satellite=sat.name,
        state=st,
        lighting=lighting,
        places=locate(st.lat_deg, st.lon_deg),
        stars=visible_stars(st, STAR_MAG_LIMIT),
        bodies=tuple(bodies(st)),
        airglow=tuple(airglow_in_view(st)),
        aurora=aurora,
        aurora_note=aurora_note,
        cities=tuple(cities_in_view(st, limit=CITY_LIMIT)),
        camera=camera,
    )
