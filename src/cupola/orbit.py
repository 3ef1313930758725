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
    parse_omm,
    parse_tle,
)
from .elements.base import SGP4_ERRORS
from .elements.validity import launched_utc, position_uncertainty_km
from . import _kernels
from .constants import STALE_AFTER_DAYS, SKYFIELD_ERAD_KM, WGS84_A_KM, WGS84_B_KM, WGS84_E2
from .lighting import sun_fraction, sun_teme_km
from .timebase import JD_UNIX_EPOCH, NS_PER_DAY, Instants, instants

log = logging.getLogger(__name__)



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
        """Return the error text for each instant ('' where fine): SGP4's, or cupola's own check
        of the height (``STATE_ERRORS``)."""
        return np.vectorize(STATE_ERRORS.get, otypes=[object])(self.error)

    @property
    def position_uncertainty_km(self) -> np.ndarray:
        """Return how far off the position may be (km, 90th percentile) given the element set's
        age at each instant (:func:`cupola.elements.validity.position_uncertainty_km`)."""
        return position_uncertainty_km(self.tle_age_days)

    def __len__(self) -> int:
        return int(self.t_utc.size)

    def __getitem__(self, i) -> "State":
        """Return the state at flat index `i` (an int gives one instant: scalars and (3,) vectors;
        an index array or slice gives a 1-D series)."""
        shape = self.shape
        n = int(np.prod(shape, dtype=np.int64))

        def take(a):
            a = np.asarray(a)
            return a.reshape((n,) + a.shape[len(shape):])[i]

        fields = {f: take(getattr(self, f)) for f in self.__dataclass_fields__ if f != "instants"}
        return State(**fields, instants=self.instants[i])


# Heights outside this range cannot belong to an orbiting satellite: SGP4 still returns numbers
# (an epoch typed as 2056 instead of 1956 gives ~8.6e8 km), so they are marked, never used.
PLAUSIBLE_HEIGHT_KM = (80.0, 100_000.0)
IMPLAUSIBLE_HEIGHT = 7  # State.error code beyond SGP4's own 1-6
STATE_ERRORS = {**SGP4_ERRORS, IMPLAUSIBLE_HEIGHT: (
    f"the height is outside {PLAUSIBLE_HEIGHT_KM[0]:g}..{PLAUSIBLE_HEIGHT_KM[1]:,.0f} km, so the element set cannot "
    "describe an orbiting satellite at that time")}

HERMITE_STEP_S = 10
HERMITE_STEP_NS = HERMITE_STEP_S * 1_000_000_000


def _hermite_sgp4(rec, ns: np.ndarray):
    """Return (r, v, err) at instants `ns` (int64 UTC ns) by cubic Hermite interpolation of
    SGP4 states on a grid aligned to multiples of ``HERMITE_STEP_S``."""
    k0 = int(ns.min() // HERMITE_STEP_NS)
    node_ns = np.arange(k0, ns.max() // HERMITE_STEP_NS + 2, dtype=np.int64) * HERMITE_STEP_NS
    days, rem = np.divmod(node_ns, NS_PER_DAY)
    e, rn, vn = rec.sgp4_array(days + JD_UNIX_EPOCH, rem / NS_PER_DAY)
    n = ns.size
    r, v, err = np.empty((n, 3)), np.empty((n, 3)), np.empty(n, np.int8)
    _kernels.hermite_fill(rn, vn, ns, k0, HERMITE_STEP_NS, r, v, e.astype(np.int8), err)
    return r, v, err


def _teme_chain(r, v, sun, inst: Instants):
    """Return r_itrs, v_itrs, lat, lon, alt, sunlit (fused numba kernel; the numpy equivalents
    are frames.teme_to_itrs, frames.geodetic and lighting.sunlit_geometric)."""
    shape = inst.shape
    n = int(np.prod(shape, dtype=np.int64))
    r_itrs, v_itrs = np.empty((n, 3)), np.empty((n, 3))
    lat, lon, alt = np.empty(n), np.empty(n), np.empty(n)
    sunlit = np.empty(n, dtype=np.bool_)
    _kernels.teme_chain(
        np.ascontiguousarray(r.reshape(n, 3)), np.ascontiguousarray(v.reshape(n, 3)),
        np.ascontiguousarray(inst.jd_whole.ravel()), np.ascontiguousarray(inst.ut1_fraction.ravel()),
        np.ascontiguousarray(sun.reshape(n, 3)), WGS84_A_KM, WGS84_B_KM, WGS84_E2, SKYFIELD_ERAD_KM**2,
        r_itrs, v_itrs, lat, lon, alt, sunlit,
    )
    v3 = shape + (3,)
    return (r_itrs.reshape(v3), v_itrs.reshape(v3), lat.reshape(shape), lon.reshape(shape),
            alt.reshape(shape), sunlit.reshape(shape))


class Satellite:
    """A satellite defined by one or more element sets; `at(t)` uses the set nearest each t."""

    def __init__(self, archive: ElementArchive, name: str | None = None):
        self.archive = archive
        self.name = name or archive.sets[0].name or f"NORAD {archive.sets[0].satnum}"
        # Built on first use, one per element set; sgp4's Satrec does not pickle, so the cache is
        # left out of the pickled state (web workers, Dask) and rebuilt where it lands. Two
        # threads may both build a Satrec for a set: each is complete, the second one wins.
        self._satrecs: dict[int, object] = {}

    def __getstate__(self) -> dict:
        return {"archive": self.archive, "name": self.name}

    def __setstate__(self, state: dict) -> None:
        self.archive = state["archive"]
        self.name = state["name"]
        self._satrecs = {}

    @property
    def launched_utc(self) -> np.datetime64:
        """Return the earliest instant this satellite can be asked about (its launch, or the start
        of its launch year; NaT when unknown): :func:`cupola.elements.validity.launched_utc`."""
        return launched_utc(self.archive.sets)

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
    def from_sets(cls, sets: Sequence[ElementSet], select: int | str | None = None) -> "Satellite":
        """Return a Satellite from parsed element sets (any number of epochs).

        Args:
            sets: element sets, of one satellite or of several (then `select` picks one).
            select: None, a NORAD id (int or digits) or a name (case-insensitive: exact, else a unique prefix,
                else a unique substring); see :func:`cupola.elements.select_sets`.
        Raises:
            ElementSetError: (param 'sat') several satellites and no `select`, or `select` matching none or
                several; the message lists them.
        """
        from .elements import select_sets

        return cls(ElementArchive.from_sets(select_sets(sets, select)))

    @classmethod
    def from_file(cls, path: str | os.PathLike, select: int | str | None = None) -> "Satellite":
        """Return a Satellite from a file of element sets (TLE 2/3-line or OMM JSON/XML/CSV).

        Args:
            path: the file, or '-' for standard input (see :func:`cupola.elements.load_element_file`). It may hold
                several satellites, as CelesTrak's group files (stations.txt) do; then `select` picks one.
            select: as for :meth:`from_sets`.
        Raises:
            DataMissingError: no such file.
            ElementSetError: (param 'sat') unreadable, not a regular file, too large, binary, empty or malformed;
                several satellites and no `select`; `select` matching none or several.
        """
        from .elements.archive import select_from_file

        return cls(ElementArchive.from_sets(select_from_file(path, select)))

    @classmethod
    def from_archive(cls, select: int | str | None = None) -> "Satellite":
        """Return the ISS with the element-set history bundled with cupola.

        Args:
            select: None, or a choice that must name the ISS (25544, 'ISS', ...), as for :meth:`from_sets`; another
                satellite is refused with the way to load its elements.
        """
        from .elements import select_sets

        archive = bundled_archive()
        if select is not None:
            select_sets(archive.sets, select, where="the ISS history bundled with cupola",
                        fix="fix: the bundled history is the ISS only; for another satellite load its element sets, "
                        "e.g. Satellite.from_file('stations.txt', select=...).")
        return cls(archive)

    # -- propagation --------------------------------------------------------------------
    def _satrec(self, i: int):
        rec = self._satrecs.get(i)
        if rec is None:
            rec = self._satrecs[i] = self.archive.sets[i].satrec()
        return rec

    def propagate_teme(self, inst: Instants, exact: bool = False):
        """Return (r_teme_km, v_teme_km_s, error, set_index), flat arrays of length inst size.

        Each instant uses the element set nearest it: one C++ ``sgp4_array`` call per set,
        never a Python loop per instant. Where one set serves many closely spaced instants
        (more than four per node), SGP4 runs on a node grid every ``HERMITE_STEP_S`` seconds
        and the instants are filled by cubic Hermite interpolation of position and velocity.
        The smooth-orbit error bound h^4/384 |d4r/dt4| is < 1 mm for h = 10 s; what remains is
        SGP4's own velocity, which differs from the derivative of its position by ~3 cm/s,
        so positions agree with direct SGP4 within 2 cm and velocities within 3 cm/s (see
        tests/test_orbit.py). ``exact=True`` calls SGP4 at every instant.
        """
        flat_ns = inst.utc.ravel().astype(np.int64)
        n = flat_ns.size
        idx = self.archive.nearest(inst.utc.ravel())
        jd = inst.jd_whole.ravel()
        fr = inst.utc_fraction.ravel()
        r = np.empty((n, 3))
        v = np.empty((n, 3))
        err = np.zeros(n, dtype=np.int8)
        uniq = np.unique(idx) if n else idx
        for i in uniq:  # one C++ call per element set (a handful), never per instant
            sel = slice(None) if uniq.size == 1 else np.flatnonzero(idx == i)
            rec = self._satrec(int(i))
            ns = flat_ns[sel]
            span_nodes = (ns.max() - ns.min()) // HERMITE_STEP_NS + 2
            if not exact and ns.size > 4 * span_nodes:
                r[sel], v[sel], err[sel] = _hermite_sgp4(rec, ns)
            else:
                e, rr, vv = rec.sgp4_array(jd[sel], fr[sel])
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

    def at(self, t, exact: bool = False) -> State:
        """Return the :class:`State` at each instant of `t` (scalar or any-shaped array).

        Args:
            t: ISO-8601 text with a zone, aware datetime, numpy datetime64 (UTC), or arrays.
            exact: call SGP4 at every instant instead of interpolating dense runs (see
                `propagate_teme`).
        Returns:
            State with arrays shaped like `t`.
        """
        inst = t if isinstance(t, Instants) else instants(t)
        shape = inst.shape
        r, v, err, idx = self.propagate_teme(inst, exact=exact)
        r = r.reshape(shape + (3,))
        v = v.reshape(shape + (3,))
        sun = sun_teme_km(inst)
        r_itrs, v_itrs, lat, lon, alt, sunlit = _teme_chain(r, v, sun, inst)
        err = err.reshape(shape)
        wild = (err == 0) & ~((alt >= PLAUSIBLE_HEIGHT_KM[0]) & (alt <= PLAUSIBLE_HEIGHT_KM[1]))
        if wild.any():
            err = np.where(wild, np.int8(IMPLAUSIBLE_HEIGHT), err)
            for a in (r, v, r_itrs, v_itrs):
                a[wild] = np.nan
            lat, lon, alt = (np.where(wild, np.nan, a) for a in (lat, lon, alt))
            sunlit = np.where(wild, False, sunlit)
        epochs = self.archive.epochs_utc[idx].reshape(shape)
        age = (inst.utc - epochs).astype(np.int64) / NS_PER_DAY
        if age.size and np.nanmax(np.abs(age)) > STALE_AFTER_DAYS:
            worst = float(np.nanmax(np.abs(age)))
            log.warning(
                "element set is %.1f days from a requested time (more than %g days): the position there is "
                "good only to ~%.0f km; use element sets nearer that time",
                worst, STALE_AFTER_DAYS, float(position_uncertainty_km(worst)),
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
            error=err,
            set_index=idx.reshape(shape),
            tle_epoch_utc=epochs,
            tle_age_days=age,
            instants=inst,
        )


__all__ = ["Satellite", "State", "SGP4_ERRORS", "STATE_ERRORS", "STALE_AFTER_DAYS", "PLAUSIBLE_HEIGHT_KM"]
