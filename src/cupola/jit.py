"""One kernel policy for every numba kernel in cupola.

* **Fast-math without assumptions about NaN or inf.** Every kernel compiles with the LLVM flags
  in :data:`FASTMATH` (contraction to FMA, reciprocal approximations, approximate functions and
  reassociation). The flags ``nnan`` and ``ninf`` (part of numba's all-flags fast-math setting) are never
  used: they let the compiler delete ``math.isfinite`` tests and NaN comparisons, and cupola's
  kernels rely on those guards (NaN marks "no value": no oval in a hemisphere, a failed SGP4 row,
  a ray that misses the Earth).
* **Compiled once, cached on disk** (``cache=True``): numba writes the machine code next to the
  sources (``__pycache__``) or, where that folder is read-only, into its user cache folder; set
  ``NUMBA_CACHE_DIR`` to choose the folder (``cupola warmup --cache-dir DIR`` does it for one
  run and compiles every kernel).
* **numpy twins.** Where a kernel has a numpy twin (the same maths written with array
  operations, the reference the kernel is tested against), setting the environment variable
  ``CUPOLA_NO_JIT=1`` runs the twin instead: :func:`twin` picks one at each call. Kernels without
  a twin always run compiled.
* **Tiny inputs run the twin.** With ``CUPOLA_NO_JIT`` unset, a call on fewer than
  :data:`TWIN_BELOW` elements (one instant, a handful of interpolation points) runs the twin too:
  the first compiled call of a process costs ~0.4 s (numba's CPU target, which imports
  scipy.linalg, and the cached machine code of each kernel), the twin a few milliseconds; so a
  one-instant ``cupola where`` starts in under a second. ``CUPOLA_NO_JIT=0`` forces the compiled
  kernels at every size (the test suite sets it, so the kernels stay what the tests exercise; the
  ``CUPOLA_NO_JIT=1`` rerun covers the twins). The two agree to the tolerances their tests assert
  (a few ulps to 1e-9 relative), far below any printed digit.
* **Parallel only when it pays.** :func:`parallel_pair` compiles a kernel twice, parallel and
  serial, and runs the serial one below :data:`PARALLEL_MIN` elements (thread start-up costs
  more than it saves).
"""

from __future__ import annotations

import functools
import os

import numba as nb
import numpy as np

FASTMATH = frozenset({"contract", "arcp", "afn", "reassoc"})  # no 'nnan', 'ninf' (module docstring)
PARALLEL_MIN = 20_000
NO_JIT_ENV = "CUPOLA_NO_JIT"
TWIN_BELOW = 256  # elements under which the numpy twin runs unless CUPOLA_NO_JIT=0 (module docstring)


def kernel(parallel: bool = False):
    """Return the decorator for a cupola kernel: cached, GIL-free, :data:`FASTMATH`."""
    return nb.njit(parallel=parallel, cache=True, nogil=True, fastmath=set(FASTMATH))


def inline(fn):
    """Compile `fn` as a helper inlined into the kernels that call it."""
    return nb.njit(cache=True, inline="always", fastmath=set(FASTMATH))(fn)


# numba's prange hands each thread one contiguous block of rows; where the work sits in part of the
# frame (the Earth in its lower half, cities in a few rows) one thread then does nearly all of it.
# Kernels take row spread_row(k, h) on iteration k: a stride coprime to h scatters each block over
# the whole frame, so every thread gets a fair share of ground, limb and sky.
ROW_STRIDE = 7919  # a prime: coprime to every frame height that is not a multiple of it


@inline
def spread_row(k, n):  # pragma: no cover - jit
    """Return the row for prange iteration `k` of `n` rows: a permutation of 0..n-1 that spreads
    consecutive iterations across the frame (identity when n is a multiple of ROW_STRIDE)."""
    kk, nn = np.int64(k), np.int64(n)  # prange's index may be unsigned: int64 arithmetic throughout
    if nn % ROW_STRIDE == 0:
        return kk
    return (kk * ROW_STRIDE) % nn


def use_twins(n: int | None = None) -> bool:
    """Return True when kernels with a numpy twin should run the twin: always under
    ``CUPOLA_NO_JIT=1``, never under ``CUPOLA_NO_JIT=0``, and otherwise for a call on `n` <
    :data:`TWIN_BELOW` elements (`n` None: the size does not decide)."""
    flag = os.environ.get(NO_JIT_ENV, "")
    if flag in ("0", "1"):
        return flag == "1"
    return n is not None and n < TWIN_BELOW


def twin(numpy_fn, size_arg: int | None = None):
    """Decorate a compiled-kernel caller so that it runs `numpy_fn` (same signature) instead
    when :func:`use_twins` is true, given the length of its argument number `size_arg`."""

    def wrap(compiled_fn):
        @functools.wraps(compiled_fn)
        def call(*args, **kwargs):
            n = None if size_arg is None else args[size_arg].shape[0]
            return (numpy_fn if use_twins(n) else compiled_fn)(*args, **kwargs)

        call.numpy_twin = numpy_fn
        call.compiled = compiled_fn
        return call

    return wrap


def parallel_pair(py_func, size_arg: int):
    """Return a caller of `py_func` compiled parallel and serial, choosing by the length of its
    argument number `size_arg` (see :data:`PARALLEL_MIN`)."""
    par = kernel(parallel=True)(py_func)
    ser = kernel(parallel=False)(py_func)

    def call(*args):
        n = args[size_arg].shape[0]
        return (par if n >= PARALLEL_MIN else ser)(*args)

    call.__doc__ = py_func.__doc__
    call.__name__ = py_func.__name__.lstrip("_")
    call.parallel, call.serial = par, ser
    return call


__all__ = ["FASTMATH", "PARALLEL_MIN", "NO_JIT_ENV", "TWIN_BELOW", "kernel", "inline", "use_twins", "twin", "parallel_pair"]
