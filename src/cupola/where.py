"""The `where` answer: position, lighting, caption and next orbital sunrise/sunset for instants.

Shared by the CLI, the Python API and (later) the web layer, so they never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .errors import InputError
from .geo.caption import KM_PER_MILE, LANGS
from .geo.caption import caption as _caption
from .geo.places import locate
from .lighting import next_sun_events, phases, sun_elevation_deg
from .orbit import SGP4_ERRORS, STALE_AFTER_DAYS, Satellite
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

    def to_json(self) -> dict:
        return dict(self.__dict__)


def check_lang(lang: str) -> str:
    """Return `lang` if supported, else raise InputError naming the accepted values."""
    if lang not in LANGS:
        raise InputError(f"unknown language {lang!r}; use one of: {', '.join(LANGS)} (for example --lang fr)")
    return lang


def where(sat: Satellite, t, lang: str = "en") -> Where:
    """Return the :class:`Where` answer for one instant `t`."""
    check_lang(lang)
    t64 = to_utc64(t)
    if t64.ndim:
        raise InputError("where() takes one instant; call it once per instant or use Satellite.at for arrays")
    st = sat.at(t64)
    phase = str(phases(sat, st))
    elev = float(sun_elevation_deg(st.lat_deg, st.lon_deg, st.sun_teme_km, st.instants))
    caption = str(_caption(st.alt_km, locate(st.lat_deg, st.lon_deg), phase, lang))
    age = float(st.tle_age_days)
    warns = []
    if abs(age) > STALE_AFTER_DAYS:
        warns.append(
            f"the nearest element set is {abs(age):.1f} days {'before' if age > 0 else 'after'} this time "
            f"(more than {STALE_AFTER_DAYS:g}); positions may be off by several km: "
            "pass --tle FILE with a closer set"
        )
    err = int(st.error)
    rise = sets = None
    if err == 0:
        r, s = next_sun_events(sat, t64)
        rise = None if np.isnat(r) else iso_utc(r)
        sets = None if np.isnat(s) else iso_utc(s)
    else:
        warns.append(f"SGP4 failed at this time (error {err}: {SGP4_ERRORS.get(err, '?')})")
    alt = float(st.alt_km)
    whole_second = int(t64.astype(np.int64)) % 1_000_000_000 == 0
    return Where(
        time_utc=iso_utc(t64) if whole_second else iso_utc(t64, 3),
        satellite=sat.name,
        tle_epoch_utc=iso_utc(st.tle_epoch_utc, 3),
        tle_age_days=round(age, 4),
        lat_deg=round(float(st.lat_deg), 6),
        lon_deg=round(float(st.lon_deg), 6),
        alt_km=round(alt, 3),
        alt_mi=round(alt / KM_PER_MILE, 3),
        r_teme_km=[round(float(x), 6) for x in st.r_teme_km],
        sunlit=bool(st.sunlit),
        sun_elevation_deg=round(elev, 3),
        phase=phase,
        caption=caption,
        next_orbital_sunrise_utc=rise,
        next_orbital_sunset_utc=sets,
        sgp4_error=err,
        warnings=warns,
        lang=lang,
    )


def seconds_until(a_iso: str | None, t_iso: str) -> float | None:
    """Return seconds from `t_iso` to `a_iso` (None when `a_iso` is None)."""
    if a_iso is None:
        return None
    return float(seconds_between(to_utc64(t_iso), to_utc64(a_iso)))
