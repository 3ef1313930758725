"""Shared test helpers."""

from __future__ import annotations

import warnings

import numpy as np
import pytest


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
