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
    arrays as long as the number of edges.
    """
    t0, t1 = to_utc64(start), to_utc64(end)
    if t0.ndim or t1.ndim:
        raise InputError("start and end must be single instants")
    if t1 <= t0:
        raise InputError(f"the search end {iso_utc(t1)} is not after its start {iso_utc(t0)}; swap them")
    if not pred.step_s > 0:
        raise InputError(f"the search step must be positive, got {pred.step_s!r} s")
    step_ns = max(int(round(pred.step_s * NS_PER_S)), 1)
    i0, i1 = int(t0.astype(np.int64)), int(t1.astype(np.int64))
    grid_all = np.arange(i0, i1, step_ns, dtype=np.int64)
    grid_all = np.append(grid_all, i1)
    lo_list, hi_list, rise_list = [], [], []
    prev_t = prev_v = None
    chunks = range(0, grid_all.size, CHUNK)
    if progress:
        from tqdm import tqdm

        chunks = tqdm(chunks, desc=f"searching {pred.name}", unit="chunk")
    for c in chunks:
        g = grid_all[c : c + CHUNK]
        val = pred(g.astype("datetime64[ns]"))
        if prev_t is not None:
            g = np.concatenate([[prev_t], g])
            val = np.concatenate([[prev_v], val])
        change = np.flatnonzero(val[1:] != val[:-1])
        lo_list.append(g[change])
        hi_list.append(g[change + 1])
        rise_list.append(val[change + 1])
        prev_t, prev_v = g[-1], val[-1]
    lo = np.concatenate(lo_list) if lo_list else np.zeros(0, np.int64)
    hi = np.concatenate(hi_list) if hi_list else np.zeros(0, np.int64)
    rising = np.concatenate(rise_list) if rise_list else np.zeros(0, bool)
    tol_ns = max(int(tol_s * NS_PER_S), 1)
    while lo.size and (hi - lo).max() > tol_ns:
        mid = lo + (hi - lo) // 2
        v = pred(mid.astype("datetime64[ns]"))
        at_hi = v == rising  # mid already has the value after the edge
        hi = np.where(at_hi, mid, hi)
        lo = np.where(at_hi, lo, mid)
    t = (lo + (hi - lo) // 2).astype("datetime64[ns]")
    return Edges(t, rising.astype(bool))


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
