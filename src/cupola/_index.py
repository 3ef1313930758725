"""Take one instant out of a series-shaped value (the shape rule of every ``*View``).

Every per-instant field of a view is a numpy array whose leading axes are the instants' shape;
per-instant lists add trailing axes; constant metadata are plain Python values (str, float,
tuples). :func:`take_instant` applies the same flat index to every such array, recursing into
nested dataclasses (a State's Instants), so a series and its i-th Scene cannot disagree.
"""

from __future__ import annotations

import dataclasses

import numpy as np


def take_instant(value, i: int, shape: tuple[int, ...]):
    """Return `value` at flat instant index `i` of a series of `shape` (views, arrays, tuples)."""
    n = int(np.prod(shape, dtype=np.int64))
    if isinstance(value, np.ndarray):
        if value.shape[:len(shape)] == tuple(shape):
            return value.reshape((n,) + value.shape[len(shape):])[i]
        return value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes = {f.name: take_instant(getattr(value, f.name), i, shape)
                   for f in dataclasses.fields(value) if f.init}
        return dataclasses.replace(value, **changes)
    if isinstance(value, tuple):
        return tuple(take_instant(v, i, shape) for v in value)
    return value


def shaped(a, shape: tuple[int, ...]):
    """Return per-instant values `a`, flat (n, ...) or already shaped like the instants, shaped
    `shape` + trailing axes; for one instant (shape ()) a numpy scalar (or the object itself)
    instead of a 0-d array."""
    a = np.asarray(a)
    shape = tuple(shape)
    if shape and a.shape[:len(shape)] == shape:
        out = a
    else:
        out = a.reshape(shape + a.shape[1:]) if a.ndim else a
    return out[()] if out.ndim == 0 else out


def check_index(i, n: int) -> int:
    """Return `i` as a non-negative flat index into `n` instants, or raise IndexError."""
    k = int(i)
    if k != i:
        raise TypeError(f"instants are indexed by whole numbers, got {i!r}")
    if not -n <= k < n:
        raise IndexError(f"instant {k} is out of range for {n} instants")
    return k % n
