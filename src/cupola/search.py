"""Search time for the edges of a boolean condition: sample at the predicate's own step, then
refine every bracketed edge at once by vectorised bisection.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from .errors import InputError
from .timebase import NS_PER_S, iso_utc, to_utc64

# Keep the sampled grid in chunks of this many instants to bound memory.
CHUNK = 500_000


@dataclass(frozen=True)
class Predicate:
    """A condition of time with the sampling step that cannot skip one of its events.

    Args:
        fn: maps a 1-D datetime64[ns] array to a bool array of the same length.
        step_s: sampling step; the condition must not change twice within it.
        name: words for messages.
    """

    fn: Callable[[np.ndarray], np.ndarray]
    step_s: float
    name: str = "condition"

    def __call__(self, t64: np.ndarray) -> np.ndarray:
        return np.asarray(self.fn(np.asarray(t64, dtype="datetime64[ns]")), dtype=bool)


@dataclass(frozen=True)
class Edges:
    """Instants where a predicate changes; `rising` is True where it becomes true."""

    t_utc: np.ndarray  # datetime64[ns], sorted
    rising: np.ndarray  # bool

    def __len__(self) -> int:
        return int(self.t_utc.size)


def find_edges(pred: Predicate, start, end, tol_s: float = 0.01, progress: bool = False) -> Edges:
    """Return every change of `pred` between `start` and `end`, each located to `tol_s`.

    The span is sampled at ``pred.step_s`` (in chunks, so a year at 10 s steps fits in memory),
    then all brackets are bisected together: about log2(step/tol) evaluations of `pred` on
    arrays as long as the number of edges. See :func:`find_edges_in_spans` for how an edge's
    time is made independent of where the search started.
    """
    t0, t1 = to_utc64(start), to_utc64(end)
    if t0.ndim or t1.ndim:
        raise InputError("start and end must be single instants")
    return find_edges_in_spans(pred, t0.reshape(1), t1.reshape(1), tol_s, progress)


def find_edges_in_spans(pred: Predicate, starts, ends, tol_s: float = 0.01, progress: bool = False) -> Edges:
    """Return every change of `pred` inside the spans [starts[k], ends[k]] (overlapping spans are
    merged), each located to `tol_s`, sorted in time.

    Each merged span is sampled at ``pred.step_s`` from its start; every bracketed change is then
    bisected on the grid of multiples of `tol_s` counted from 1970-01-01 (not from the span's
    start), so the same edge gets the same time whichever span found it: the middle of the
    `tol_s` tick in which the predicate changes.
    """
    t0 = np.asarray(to_utc64(starts), "datetime64[ns]").ravel().astype(np.int64)
    t1 = np.asarray(to_utc64(ends), "datetime64[ns]").ravel().astype(np.int64)
    if t0.shape != t1.shape:
        raise InputError(f"{t0.size} span starts but {t1.size} span ends; give one end per start")
    bad = np.flatnonzero(t1 <= t0)
    if bad.size:
        k = bad[0]
        raise InputError(f"the search end {iso_utc(np.datetime64(int(t1[k]), 'ns'))} is not after its start "
                         f"{iso_utc(np.datetime64(int(t0[k]), 'ns'))}; swap them")
    if not pred.step_s > 0:
        raise InputError(f"the search step must be positive, got {pred.step_s!r} s")
    if not tol_s > 0:
        raise InputError(f"the search tolerance must be positive, got {tol_s!r} s")
    step_ns = max(int(round(pred.step_s * NS_PER_S)), 1)
    tol_ns = max(int(round(tol_s * NS_PER_S)), 1)
    # Widen each span to whole ticks: an instant just after a change but before the middle of
    # its tick (where the edge is reported) then still finds that edge, alone or in a series.
    t0 = np.floor_divide(t0, tol_ns) * tol_ns
    t1 = -np.floor_divide(-t1, tol_ns) * tol_ns
    # Merge overlapping spans.
    order = np.argsort(t0, kind="stable")
    t0, t1 = t0[order], t1[order]
    reach = np.maximum.accumulate(t1)
    new = np.concatenate([[True], t0[1:] > reach[:-1]]) if t0.size else np.zeros(0, bool)
    group = np.cumsum(new) - 1
    s0 = t0[new]
    s1 = np.zeros(s0.size, np.int64)
    np.maximum.at(s1, group, t1)
    # One grid over all spans: each span's samples, its end appended; a span boundary is never
    # a bracket (changes are looked for only between samples of the same span).
    counts = (s1 - s0 + step_ns - 1) // step_ns + 1
    span_of = np.repeat(np.arange(s0.size), counts)
    first = np.concatenate([[0], np.cumsum(counts)[:-1]]) if s0.size else np.zeros(0, np.int64)
    grid = s0[span_of] + (np.arange(span_of.size) - first[span_of]) * step_ns
    grid = np.minimum(grid, s1[span_of])
    lo_list, hi_list, rise_list = [], [], []
    prev_t = prev_v = prev_span = None
    chunks = range(0, grid.size, CHUNK)
    if progress:
        from tqdm import tqdm

        chunks = tqdm(chunks, desc=f"searching {pred.name}", unit="chunk")
    for c in chunks:
        g = grid[c : c + CHUNK]
        sp = span_of[c : c + CHUNK]
        val = pred(g.astype("datetime64[ns]"))
        if prev_t is not None:
            g = np.concatenate([[prev_t], g])
            val = np.concatenate([[prev_v], val])
            sp = np.concatenate([[prev_span], sp])
        change = np.flatnonzero((val[1:] != val[:-1]) & (sp[1:] == sp[:-1]))
        lo_list.append(g[change])
        hi_list.append(g[change + 1])
        rise_list.append(val[change + 1])
        prev_t, prev_v, prev_span = g[-1], val[-1], sp[-1]
    lo = np.concatenate(lo_list) if lo_list else np.zeros(0, np.int64)
    hi = np.concatenate(hi_list) if hi_list else np.zeros(0, np.int64)
    rising = np.concatenate(rise_list).astype(bool) if rise_list else np.zeros(0, bool)
    # Bisect on whole ticks: lo_k = floor(lo / tol), hi_k = ceil(hi / tol); the value at the
    # tick just below `lo` is the value at `lo` (no second change within one tick).
    lo_k = np.floor_divide(lo, tol_ns)
    hi_k = -np.floor_divide(-hi, tol_ns)
    while lo_k.size and (hi_k - lo_k).max() > 1:
        wide = hi_k - lo_k > 1
        mid = lo_k + (hi_k - lo_k) // 2
        v = pred((mid[wide] * tol_ns).astype("datetime64[ns]"))
        at_hi = np.zeros(lo_k.size, bool)
        at_hi[wide] = v == rising[wide]  # mid already has the value after the edge
        hi_k = np.where(wide & at_hi, mid, hi_k)
        lo_k = np.where(wide & ~at_hi, mid, lo_k)
    t = (lo_k * tol_ns + tol_ns // 2).astype("datetime64[ns]")
    return Edges(t, rising)


def windows(pred: Predicate, start, end, tol_s: float = 0.01) -> list[tuple[np.datetime64, np.datetime64]]:
    """Return the (begin, end) intervals within [start, end] where `pred` holds."""
    t0, t1 = to_utc64(start), to_utc64(end)
    edges = find_edges(pred, t0, t1, tol_s)
    inside = bool(pred(np.asarray([t0]))[0])
    out, begin = [], (t0 if inside else None)
    for t, r in zip(edges.t_utc, edges.rising):
        if r:
            begin = t
        elif begin is not None:
            out.append((begin, t))
            begin = None
    if begin is not None:
        out.append((begin, t1))
    return out
