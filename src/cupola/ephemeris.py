"""Offline solar-system ephemeris (JPL DE421 shipped by ``skyfield-data``) in the TEME frame.

Bodies are evaluated with skyfield at hourly nodes (geometric geocentric vectors, the same
quantities skyfield's ``is_sunlit`` uses) and rotated into TEME with skyfield's own TEME
rotation; each instant is then a cubic Lagrange interpolation between the four surrounding
nodes. Over one hour the Sun moves 0.04 deg and the Moon 0.5 deg along smooth paths, so the
interpolation error is below 1e-9 of the distance (sub-metre for the Sun's 150 million km),
while the cost no longer grows with the number of instants beyond a few array operations.
"""

from __future__ import annotations

import functools
import os
import threading
import warnings

import numpy as np

from . import _kernels
from .errors import DataMissingError, TimeInputError
from .timebase import NS_PER_S, Instants, instants, timescale

NODE_STEP_S = 3600
_NODE_NS = NODE_STEP_S * NS_PER_S


@functools.cache
def kernel():
    """Return the DE421 kernel loaded with skyfield from the ``skyfield-data`` package."""
    try:
        with warnings.catch_warnings():
            # skyfield-data warns on import that its IERS file is old; cupola takes UT1 from
            # skyfield's own builtin tables and uses only the DE421 kernel from this package.
            warnings.simplefilter("ignore", RuntimeWarning)
            from skyfield_data import get_skyfield_data_path

            data_dir = get_skyfield_data_path()
    except ImportError as exc:  # pragma: no cover - declared dependency
        raise DataMissingError(
            "the JPL DE421 ephemeris is missing; install it with 'pip install skyfield-data'"
        ) from exc
    from skyfield.api import load_file

    path = os.path.join(data_dir, "de421.bsp")
    if not os.path.exists(path):
        raise DataMissingError(f"the ephemeris file {path} is missing; reinstall 'skyfield-data'")
    return load_file(path)


# Node vectors already computed, per body: {hour index: (3,) TEME km}. Searches call the
# ephemeris many times on a few instants each; the skyfield work is then done once per hour.
# The cache is shared by every thread of the process (a web server's workers): a lock guards
# it, and the skyfield work for missing nodes runs outside the lock (two threads may both
# compute a node; both results are the same).
_NODE_CACHE: dict[str, dict[int, np.ndarray]] = {}
_NODE_CACHE_MAX = 200_000
_NODE_LOCK = threading.Lock()


def _nodes_cached(body: str, node_hours: np.ndarray) -> np.ndarray:
    hours = node_hours.tolist()
    with _NODE_LOCK:
        cache = _NODE_CACHE.setdefault(body, {})
        found = {h: cache[h] for h in hours if h in cache}
    missing = [h for h in hours if h not in found]
    if missing:
        vecs = _body_teme_at_nodes(body, np.asarray(missing, dtype=np.int64) * _NODE_NS)
        found.update(zip(missing, vecs))
        with _NODE_LOCK:
            cache = _NODE_CACHE.setdefault(body, {})
            if len(cache) + len(missing) > _NODE_CACHE_MAX:
                cache.clear()
            cache.update(zip(missing, vecs))
    return np.array([found[h] for h in hours])


def _body_teme_at_nodes(body: str, node_ns: np.ndarray) -> np.ndarray:
    from skyfield.sgp4lib import TEME

    inst = instants(node_ns.astype("datetime64[ns]"))
    ts = timescale()
    t = ts.tt_jd(inst.jd_whole, inst.tt_fraction)
    eph = kernel()
    xyz = (eph[body] - eph["earth"]).at(t).xyz.km  # (3, n) GCRS, geometric
    rot = TEME.rotation_at(t)  # (3, 3, n)
    return np.einsum("ijn,jn->ni", rot, xyz)


@functools.cache
def coverage_utc() -> tuple[np.datetime64, np.datetime64]:
    """Return the span (UTC, datetime64[ns]) the bundled ephemeris answers for, a day inside the
    DE421 kernel's own limits (1899-07-29 .. 2053-10-09) so the hourly nodes around an instant
    stay in it."""
    segs = [seg.spk_segment for seg in kernel().segments]
    start = max(float(s.start_jd) for s in segs) + 1.0
    end = min(float(s.end_jd) for s in segs) - 1.0
    unix0 = 2440587.5
    to_ns = lambda jd: np.datetime64(int(round((jd - unix0) * 86_400)) * NS_PER_S, "ns")  # noqa: E731
    return to_ns(start), to_ns(end)


def check_coverage(inst: Instants) -> None:
    """Raise TimeInputError when an instant of `inst` lies outside :func:`coverage_utc`."""
    start, end = coverage_utc()
    utc = np.asarray(inst.utc).ravel()
    outside = (utc < start) | (utc > end)
    if outside.any():
        from .timebase import iso_utc

        raise TimeInputError(
            f"{iso_utc(utc[outside][0])} is outside the span the bundled JPL DE421 ephemeris covers "
            f"({iso_utc(start)[:10]} to {iso_utc(end)[:10]}): the Sun, Moon and planets cannot be placed then; "
            "ask for an instant inside it", param="t")


def body_teme_km(body: str, inst: Instants) -> np.ndarray:
    """Return the geocentric geometric position of `body` in TEME, km, shape inst.shape + (3,).

    Args:
        body: a DE421 name such as 'sun', 'moon', 'venus', 'jupiter barycenter'.
        inst: the instants.
    """
    ns = inst.utc.astype(np.int64).ravel()
    if ns.size == 0:
        return np.zeros(inst.shape + (3,))
    check_coverage(inst)
    hour = np.floor_divide(ns, _NODE_NS)
    lo, hi = hour.min(), hour.max()
    if hi - lo < 4 * ns.size + 64:
        # Dense or short spans: a contiguous run of nodes (cheapest, no sort).
        node_hours = np.arange(lo - 1, hi + 3)
        base = (hour - lo).astype(np.intp)  # index of node hour-1
    else:
        node_hours = np.unique(np.concatenate([hour - 1, hour, hour + 1, hour + 2]))
        base = np.searchsorted(node_hours, hour - 1)
    nodes = _nodes_cached(body, node_hours)
    x = (ns - hour * _NODE_NS) / _NODE_NS  # in [0, 1); nodes at -1, 0, 1, 2 around it
    out = np.empty((ns.size, 3))
    _kernels.lagrange4(nodes, np.ascontiguousarray(base, dtype=np.intp), x, out)
    return out.reshape(inst.shape + (3,))
