"""Satellite and State: SGP4 propagation (C++ ``sgp4_array``) from the element set nearest each
instant, TEME -> ITRS -> WGS84 geodetic, and the station's sunlight, vectorised over time.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np

from .elements import (
    ElementArchive,
    ElementSet,
    bundled_archive,
    load_element_file,
    parse_omm,
    parse_tle,
)
from .errors import ElementSetError
from .frames import geodetic, teme_to_itrs
from .lighting import sun_fraction, sun_teme_km, sunlit_geometric
from .timebase import NS_PER_DAY, Instants, instants

log = logging.getLogger(__name__)

# An element set is trusted for a few days around its epoch (SGP4 drifts 1-3 km/day).
STALE_AFTER_DAYS = 3.0

SGP4_ERRORS = {
    0: "",
    1: "mean eccentricity out of range",
    2: "mean motion below zero",
    3: "perturbed eccentricity out of range",
    4: "semi-latus rectum below zero",
    5: "satellite has decayed (below the Earth's surface)",
    6: "satellite has decayed",
}


@dataclass(frozen=True, eq=False)
class State:
    """The station's state at each instant; every array is shaped like the input times.

    Positions in km, velocities in km/s; vectors carry a trailing xyz axis. Rows where SGP4
    failed hold NaN and a non-zero `error` (see ``SGP4_ERRORS``); nothing raises per element.
    """

    t_utc: np.ndarray  # datetime64[ns]
    r_teme_km: np.ndarray
    v_teme_km_s: np.ndarray
    r_itrs_km: np.ndarray
    v_itrs_km_s: np.ndarray
    lat_deg: np.ndarray
    lon_deg: np.ndarray
    alt_km: np.ndarray
    sun_teme_km: np.ndarray
    sunlit: np.ndarray  # bool, geometric model (matches skyfield's is_sunlit)
    error: np.ndarray  # int8 SGP4 error code, 0 = fine
    set_index: np.ndarray  # index into the satellite's archive
    tle_epoch_utc: np.ndarray  # datetime64[ns] epoch of the set used
    tle_age_days: np.ndarray  # t - epoch, days (negative before the epoch)
    instants: Instants

    @property
    def shape(self) -> tuple[int, ...]:
        return self.t_utc.shape

    @property
    def error_message(self) -> np.ndarray:
        """Return the SGP4 error text for each instant ('' where fine)."""
        return np.vectorize(SGP4_ERRORS.get, otypes=[object])(self.error)


class Satellite:
    """A satellite defined by one or more element sets; `at(t)` uses the set nearest each t."""

    def __init__(self, archive: ElementArchive, name: str | None = None):
        self.archive = archive
        self.name = name or archive.sets[0].name or f"NORAD {archive.sets[0].satnum}"
        self._satrecs: dict[int, object] = {}

    def __repr__(self) -> str:
        e = self.archive.epochs_utc
        return f"Satellite({self.name!r}, {len(self.archive)} element sets, {e[0]} .. {e[-1]})"

    # -- constructors -------------------------------------------------------------------
    @classmethod
    def from_tle(cls, line1: str, line2: str, name: str | None = None) -> "Satellite":
        """Return a Satellite from one two-line element set (checked before use)."""
        text = "\n".join(([name] if name else []) + [line1, line2])
        return cls(ElementArchive.from_sets(parse_tle(text, source="<from_tle>")), name)

    @classmethod
    def from_omm(cls, omm: str | Mapping[str, object]) -> "Satellite":
        """Return a Satellite from OMM text (JSON, XML or CSV) or one OMM mapping."""
        if not isinstance(omm, str):
            import json

            omm = json.dumps([{k: str(v) for k, v in dict(omm).items()}])
        return cls(ElementArchive.from_sets(parse_omm(omm, source="<from_omm>")))

    @classmethod
    def from_sets(cls, sets: Sequence[ElementSet]) -> "Satellite":
        """Return a Satellite from parsed element sets (one satellite, any number of epochs)."""
        return cls(ElementArchive.from_sets(sets))

    @classmethod
    def from_file(cls, path: str | os.PathLike) -> "Satellite":
        """Return a Satellite from a file of element sets (TLE 2/3-line or OMM JSON/XML/CSV)."""
        return cls(ElementArchive.from_sets(load_element_file(path)))

    @classmethod
    def from_archive(cls) -> "Satellite":
        """Return the ISS with the element-set history bundled with cupola."""
        return cls(bundled_archive())

    # -- propagation --------------------------------------------------------------------
    def _satrec(self, i: int):
        rec = self._satrecs.get(i)
        if rec is None:
            rec = self._satrecs[i] = self.archive.sets[i].satrec()
        return rec

    def propagate_teme(self, inst: Instants):
        """Return (r_teme_km, v_teme_km_s, error, set_index), flat arrays of length inst size."""
        flat_ns = inst.utc.ravel()
        n = flat_ns.size
        idx = self.archive.nearest(flat_ns)
        jd = inst.jd_whole.ravel()
        fr = inst.utc_fraction.ravel()
        r = np.empty((n, 3))
        v = np.empty((n, 3))
        err = np.zeros(n, dtype=np.int8)
        uniq = np.unique(idx) if n else idx
        for i in uniq:  # one C++ call per element set (a handful), never per instant
            sel = slice(None) if uniq.size == 1 else np.flatnonzero(idx == i)
            e, rr, vv = self._satrec(int(i)).sgp4_array(jd[sel], fr[sel])
            r[sel], v[sel], err[sel] = rr, vv, e
        bad = err != 0
        if bad.any():
            r[bad] = np.nan
            v[bad] = np.nan
        return r, v, err, idx

    def sunlit_at(self, t, model: str = "geometric", atmosphere_km: float = 0.0) -> np.ndarray:
        """Return the visible fraction (0..1) of the Sun's disc from the satellite at `t`.

        A lighter path than `at` (no geodetic conversion) for searches; NaN where SGP4 failed.
        """
        inst = t if isinstance(t, Instants) else instants(t)
        r, _, err, _ = self.propagate_teme(inst)
        r = r.reshape(inst.shape + (3,))
        f = sun_fraction(r, sun_teme_km(inst), model, atmosphere_km)
        return np.where(err.reshape(inst.shape) == 0, f, np.nan)

    def at(self, t) -> State:
        """Return the :class:`State` at each instant of `t` (scalar or any-shaped array).

        Args:
            t: ISO-8601 text with a zone, aware datetime, numpy datetime64 (UTC), or arrays.
        Returns:
            State with arrays shaped like `t`.
        """
        inst = t if isinstance(t, Instants) else instants(t)
        shape = inst.shape
        r, v, err, idx = self.propagate_teme(inst)
        r = r.reshape(shape + (3,))
        v = v.reshape(shape + (3,))
        r_itrs, v_itrs = teme_to_itrs(r, v, inst)
        lat, lon, alt = geodetic(r_itrs)
        sun = sun_teme_km(inst)
        sunlit = sunlit_geometric(r, sun)
        epochs = self.archive.epochs_utc[idx].reshape(shape)
        age = (inst.utc - epochs).astype(np.int64) / NS_PER_DAY
        if age.size and np.nanmax(np.abs(age)) > STALE_AFTER_DAYS:
            log.warning(
                "element set is %.1f days from the requested time (more than %g days): "
                "positions may be off by several km; pass a closer set with --tle FILE",
                float(np.nanmax(np.abs(age))), STALE_AFTER_DAYS,
            )
        return State(
            t_utc=inst.utc,
            r_teme_km=r,
            v_teme_km_s=v,
            r_itrs_km=r_itrs,
            v_itrs_km_s=v_itrs,
            lat_deg=lat,
            lon_deg=lon,
            alt_km=alt,
            sun_teme_km=sun,
            sunlit=sunlit,
            error=err.reshape(shape),
            set_index=idx.reshape(shape),
            tle_epoch_utc=epochs,
            tle_age_days=age,
            instants=inst,
        )


__all__ = ["Satellite", "State", "SGP4_ERRORS", "STALE_AFTER_DAYS", "ElementSetError"]
