"""One kernel policy for every numba kernel in cupola.

* **Fast-math without assumptions about NaN or inf.** Every kernel compiles with the LLVM flags
  in :data:`FASTMATH` (contraction to FMA, reciprocal approximations, approximate functions and
  reassociation). The flags ``nnan`` and ``ninf`` (part of numba's ``fastmath=True``) are never
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
* **Parallel only when it pays.** :func:`parallel_pair` compiles a kernel twice, parallel and
  serial, and runs the serial one below :data:`PARALLEL_MIN` elements (thread start-up costs
  more than it saves).
"""

from __future__ import annotations

import functools
import os

import numba as nb

FASTMATH = frozenset({"contract", "arcp", "afn", "reassoc"})  # no 'nnan', 'ninf' (module docstring)
PARALLEL_MIN = 20_000
NO_JIT_ENV = "CUPOLA_NO_JIT"


def kernel(parallel: bool = False):
    """Return the decorator for a cupola kernel: cached, GIL-free, :data:`FASTMATH`."""
    return nb.njit(parallel=parallel, cache=True, nogil=True, fastmath=set(FASTMATH))


def inline(fn):
    """Compile `fn` as a helper inlined into the kernels that call it."""
    return nb.njit(cache=True, inline="always", fastmath=set(FASTMATH))(fn)


def use_twins() -> bool:
    """Return True when ``CUPOLA_NO_JIT=1``: kernels with a numpy twin run the twin."""
    return os.environ.get(NO_JIT_ENV, "") == "1"


def twin(numpy_fn):
    """Decorate a compiled-kernel caller so that it runs `numpy_fn` (same signature) instead
    when :func:`use_twins` is true."""

    def wrap(compiled_fn):
        @functools.wraps(compiled_fn)
        def call(*args, **kwargs):
            return (numpy_fn if use_twins() else compiled_fn)(*args, **kwargs)

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


__all__ = ["FASTMATH", "PARALLEL_MIN", "NO_JIT_ENV", "kernel", "inline", "use_twins", "twin", "parallel_pair"]
