"""Shared test helpers."""

from __future__ import annotations

import os
import warnings

import numpy as np
import pytest

# The compiled kernels at every size (cupola.jit: with CUPOLA_NO_JIT unset, calls on a few
# elements run the numpy twins), so that the suite exercises what it claims to; the CI rerun with
# CUPOLA_NO_JIT=1 covers the twins. Subprocesses of the CLI tests inherit it.
os.environ.setdefault("CUPOLA_NO_JIT", "0")


@pytest.fixture
def colour_science():
    """Return the colour-science module, undoing its global side effect: on import it calls
    ``np.set_printoptions(legacy="1.13")``, which changes how numpy prints datetime64 arrays
    for every later test."""
    options = np.get_printoptions()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return pytest.importorskip("colour")
    finally:
        np.set_printoptions(**options)
