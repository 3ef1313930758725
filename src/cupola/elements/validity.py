"""How far an element set can be trusted: its position uncertainty against its age, and when the
satellite it describes existed.

* **Uncertainty.** ``position_uncertainty_km(age_days)`` is the 90th percentile of the error of an
  ISS element set propagated with SGP4 to an instant `age_days` from its epoch, measured on the
  bundled history (every pair of sets less than 120 days apart, 27,790 pairs:
  ``tools/build_uncertainty.py``, table in ``docs/elements_uncertainty.md``): ~2 km at half a day,
  ~6.5 km at 1.5 days, ~49 km at 4 days, ~217 km at 6 days, ~940 km at 12 days, capped at the
  orbit's diameter (~13,600 km). The estimate is interpolated in log(age) and log(error) between
  the measured bins. It is the ISS's (drag and reboosts of a station at ~420 km); other
  satellites get it as a stated approximation.
* **Existence.** A satellite has no position before its launch. The ISS (NORAD 25544, Zarya) was
  launched on 1998-11-20 at 06:40 UTC; for other satellites the launch year comes from the
  international designator of their element sets (TLE columns 10-11, OMM OBJECT_ID), and only
  instants before that year are refused.
"""

from __future__ import annotations

import functools
import json

import numpy as np

from ..constants import ISS_NORAD_ID

# NORAD id -> launch instant, for satellites whose launch day is known (not only its year).
KNOWN_LAUNCH_UTC = {ISS_NORAD_ID: np.datetime64("1998-11-20T06:40:00", "ns")}  # Zarya on a Proton-K


@functools.cache
def _model() -> tuple[np.ndarray, np.ndarray, float]:
    from ..bundled import load

    def parse(raw: bytes):
        doc = json.loads(raw.decode("utf-8"))
        nodes = np.array(doc["nodes_age_days_sigma_km"], float)
        return nodes[:, 0], nodes[:, 1], float(doc["cap_km"])

    return load("elements_uncertainty.json", "table of element-set uncertainty", parse,
                "python tools/build_uncertainty.py")


def position_uncertainty_km(age_days) -> np.ndarray:
    """Return the position uncertainty (km, 90th percentile) of an element set `age_days` from its
    epoch (either side; any shape; NaN stays NaN). See the module docstring."""
    ages, sig, cap = _model()
    a = np.abs(np.asarray(age_days, float))
    near = np.interp(a, ages[:2], sig[:2])  # linear from age 0 to the first measured bin
    far = np.exp(np.interp(np.log(np.maximum(np.where(np.isfinite(a), a, ages[1]), ages[1])),
                           np.log(ages[1:]), np.log(sig[1:]), right=np.log(cap)))
    out = np.minimum(np.where(a < ages[1], near, far), cap)
    return np.where(np.isfinite(a), out, np.nan)


def age_for_uncertainty_days(sigma_km: float) -> float:
    """Return the age (days) at which the estimate first exceeds `sigma_km`."""
    grid = np.linspace(0.0, 120.0, 240_001)
    over = position_uncertainty_km(grid) > sigma_km
    return float(grid[np.argmax(over)]) if over.any() else float("inf")


def launched_utc(sets) -> np.datetime64:
    """Return the earliest instant the satellite of element sets `sets` can be asked about: its
    launch when known, else the start of its launch year from the international designator
    (NaT when no set carries one)."""
    satnum = int(sets[0].satnum)
    if satnum in KNOWN_LAUNCH_UTC:
        return KNOWN_LAUNCH_UTC[satnum]
    years = [y for y in (_launch_year(s) for s in sets) if y is not None]
    if not years:
        return np.datetime64("NaT", "ns")
    return np.datetime64(f"{min(years):04d}-01-01T00:00:00", "ns")


def _launch_year(es) -> int | None:
    """Return the launch year of an element set from its international designator, or None."""
    if es.line1 is not None:
        yy = es.line1[9:11].strip()
        if len(yy) == 2 and yy.isdigit():
            y = int(yy)
            return 1900 + y if y >= 57 else 2000 + y  # the catalogue's two-digit convention (Sputnik 1957)
        return None
    obj = str((es.omm or {}).get("OBJECT_ID", "")).strip()
    if len(obj) >= 4 and obj[:4].isdigit():
        return int(obj[:4])
    return None


__all__ = ["KNOWN_LAUNCH_UTC", "position_uncertainty_km", "age_for_uncertainty_days", "launched_utc"]
