"""Parse and hold times: one time type, UTC ``datetime64[ns]`` arrays, with TT and UT1.

Every public function that takes a time accepts a scalar or any array of: ISO-8601 text with
``Z`` or an offset, timezone-aware :class:`datetime.datetime`, or numpy ``datetime64`` (taken as
UTC). Naive datetimes and zone-less text are refused with a message that shows the fix.

UT1 and leap seconds come from skyfield's builtin, offline timescale (IERS tables shipped
inside skyfield); a 0.2 s UT1 error would move longitudes by ~100 m.
"""

from __future__ import annotations

import datetime as _dt
import functools
from dataclasses import dataclass

import numpy as np

from .errors import TimeInputError

NS_PER_S = 1_000_000_000
NS_PER_DAY = 86_400 * NS_PER_S
# Julian date of the Unix epoch 1970-01-01T00:00:00 UTC.
JD_UNIX_EPOCH = 2440587.5
TT_MINUS_TAI_S = 32.184

_UNIX0 = np.datetime64(0, "ns")


@functools.cache
def timescale():
    """Return skyfield's builtin (offline) timescale, loaded once."""
    from skyfield.api import load

    return load.timescale(builtin=True)


def _parse_text(text: str) -> np.datetime64:
    s = text.strip()
    if s.upper().endswith(" UTC"):
        s = s[:-4].strip() + "Z"
    try:
        d = _dt.datetime.fromisoformat(s.replace(" ", "T", 1) if "T" not in s else s)
    except ValueError:
        raise TimeInputError(
            f"cannot read the time {text!r}; write ISO-8601 with a zone, "
            "for example '2024-01-22T13:05:00Z' or '2021-05-02T08:45:00+02:00'"
        ) from None
    if d.tzinfo is None:
        raise TimeInputError(
            f"the time {text!r} has no time zone; add 'Z' for UTC "
            f"(for example '{s}Z') or an offset such as '+02:00'"
        )
    return _from_aware(d)


def _from_aware(d: _dt.datetime) -> np.datetime64:
    if d.tzinfo is None or d.tzinfo.utcoffset(d) is None:
        raise TimeInputError(
            f"the datetime {d!r} is naive (no tzinfo); pass an aware one, "
            "for example datetime(2024, 1, 22, 13, 5, tzinfo=timezone.utc)"
        )
    u = d.astimezone(_dt.timezone.utc).replace(tzinfo=None)
    return np.datetime64(u, "ns")


def _one(x) -> np.datetime64:
    if isinstance(x, np.datetime64):
        if np.isnat(x):
            raise TimeInputError("got NaT (not-a-time); pass a real instant")
        return x.astype("datetime64[ns]")
    if isinstance(x, _dt.datetime):
        return _from_aware(x)
    if isinstance(x, str):
        return _parse_text(x)
    if isinstance(x, _dt.date):
        raise TimeInputError(
            f"got a date without a time ({x!r}); pass an aware datetime or text such as "
            f"'{x.isoformat()}T00:00:00Z'"
        )
    raise TimeInputError(
        f"cannot use {x!r} (type {type(x).__name__}) as a time; pass ISO-8601 text with a zone, "
        "an aware datetime, or numpy datetime64 (UTC)"
    )


def to_utc64(t) -> np.ndarray:
    """Return `t` as a UTC ``datetime64[ns]`` array with the same shape (0-d for a scalar).

    Args:
        t: ISO text, aware datetime, numpy datetime64, or a list/array of these.
    Raises:
        TimeInputError: naive datetimes, zone-less text, NaT, or anything unreadable.
    """
    if isinstance(t, np.ndarray) and np.issubdtype(t.dtype, np.datetime64):
        out = t.astype("datetime64[ns]")
        if np.isnat(out).any():
            raise TimeInputError("the time array holds NaT (not-a-time); drop or fill those entries")
        return out
    if isinstance(t, (str, _dt.datetime, np.datetime64, _dt.date)):
        return np.asarray(_one(t))
    arr = np.asarray(t, dtype=object)
    if arr.size == 0:
        return np.zeros(arr.shape, dtype="datetime64[ns]")
    flat = [_one(x) for x in arr.ravel()]
    return np.array(flat, dtype="datetime64[ns]").reshape(arr.shape)


def iso_utc(t64, digits: int = 0) -> np.ndarray | str:
    """Return ISO-8601 UTC text ending in 'Z' for datetime64 values (scalar in, str out)."""
    unit = {0: "s", 3: "ms", 6: "us", 9: "ns"}[digits]
    a = np.datetime_as_string(np.asarray(t64, dtype="datetime64[ns]"), unit=unit)
    a = np.char.add(a, "Z")
    return str(a) if a.ndim == 0 else a


@dataclass(frozen=True)
class Instants:
    """Times in the scales the orbit and lighting code need, all shaped like the input.

    Julian dates are split into a whole part and a fraction to keep nanosecond precision.
    """

    utc: np.ndarray  # datetime64[ns]
    jd_whole: np.ndarray  # float64, whole UTC Julian days ending in .5 (UTC midnight)
    utc_fraction: np.ndarray  # float64 days since jd_whole, UTC
    tt_fraction: np.ndarray  # float64 days since jd_whole, TT
    ut1_fraction: np.ndarray  # float64 days since jd_whole, UT1

    @property
    def shape(self):
        return self.utc.shape

    @property
    def jd_tt(self) -> np.ndarray:
        return self.jd_whole + self.tt_fraction

    def __getitem__(self, i) -> "Instants":
        """Return the instants at flat index (or index array / slice) `i`."""
        return Instants(*(np.asarray(a).reshape(-1)[i] for a in (self.utc, self.jd_whole, self.utc_fraction,
                                                                   self.tt_fraction, self.ut1_fraction)))

    @property
    def jd_ut1(self) -> np.ndarray:
        return self.jd_whole + self.ut1_fraction


def instants(t) -> Instants:
    """Return :class:`Instants` for any accepted time input (see :func:`to_utc64`)."""
    utc = to_utc64(t)
    ns = (utc - _UNIX0).astype(np.int64)
    days, rem = np.divmod(ns, NS_PER_DAY)
    jd_whole = days.astype(np.float64) + JD_UNIX_EPOCH
    utc_fraction = rem.astype(np.float64) / NS_PER_DAY
    ts = timescale()
    # TAI - UTC from the leap-second table (offset applies from each leap date on).
    jd_utc = jd_whole + utc_fraction
    k = np.searchsorted(ts.leap_dates, jd_utc, side="right") - 1
    leap_s = np.where(k >= 0, ts.leap_offsets[np.clip(k, 0, None)], ts.leap_offsets[0])
    tt_fraction = utc_fraction + (leap_s + TT_MINUS_TAI_S) / 86_400.0
    delta_t_s = _delta_t(jd_whole + tt_fraction)
    ut1_fraction = tt_fraction - delta_t_s / 86_400.0
    return Instants(utc, jd_whole, utc_fraction, tt_fraction, ut1_fraction)


def _delta_t(jd_tt: np.ndarray) -> np.ndarray:
    """Return TT - UT1 in seconds, from skyfield's builtin tables, evaluated cheaply.

    Delta T changes by about a millisecond a day, so it is evaluated at the unique half-day nodes
    around the input and interpolated linearly; the interpolation error is below 0.1 ms.
    """
    ts = timescale()
    flat = np.asarray(jd_tt, dtype=np.float64).ravel()
    if flat.size <= 64:
        return np.asarray(ts.delta_t_function(flat)).reshape(np.shape(jd_tt))
    lo, hi = np.floor(flat.min() * 2.0) / 2.0, np.floor(flat.max() * 2.0) / 2.0
    if (hi - lo) * 2.0 < 4 * flat.size:
        nodes = np.arange(lo, hi + 1.0, 0.5)  # dense input: one contiguous run, no sort
    else:
        node = np.floor(flat * 2.0) / 2.0
        nodes = np.unique(np.concatenate([node, node + 0.5]))
    values = np.asarray(ts.delta_t_function(nodes), dtype=np.float64)
    return np.interp(flat, nodes, values).reshape(np.shape(jd_tt))


def seconds_between(a64, b64) -> np.ndarray:
    """Return (b - a) in float seconds for datetime64 inputs (broadcasting)."""
    return (np.asarray(b64, "datetime64[ns]") - np.asarray(a64, "datetime64[ns]")).astype(np.int64) / NS_PER_S


def add_seconds(t64, seconds) -> np.ndarray:
    """Return ``t64 + seconds`` as datetime64[ns] (broadcasting; seconds rounded to ns)."""
    dt = np.round(np.asarray(seconds, dtype=np.float64) * NS_PER_S).astype(np.int64)
    return np.asarray(t64, "datetime64[ns]") + dt.astype("timedelta64[ns]")
