"""Parse and hold times: one time type, UTC ``datetime64[ns]`` arrays, with TT and UT1.

Every public function that takes a time accepts a scalar or any array of: ISO-8601 text with
``Z`` or an offset, timezone-aware :class:`datetime.datetime`, or numpy ``datetime64`` (taken as
UTC). Naive datetimes and zone-less text are refused with a message that shows the fix.

Times must lie in :data:`SUPPORTED_RANGE` (1678-01-01..2261-12-31 UTC): ``datetime64[ns]`` cannot hold
instants much beyond it, and numpy's own conversions wrap around there without a word (year 2608 would
become 2024), so every conversion is checked. Text keeps up to nine decimals of a second. A leap second
('2016-12-31T23:59:60Z', when the IERS table lists it) is taken as the first instant of the next day, since
``datetime64`` counts 86,400 s a day and has no value for it; second 60 at any other minute is refused.

UT1 and leap seconds come from skyfield's builtin, offline timescale (IERS tables shipped
inside skyfield); a 0.2 s UT1 error would move longitudes by ~100 m.
"""

from __future__ import annotations

import datetime as _dt
import functools
import re
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


# The instants cupola accepts. numpy's datetime64[ns] spans 1677-09-21..2262-04-11 and wraps around
# silently outside it (2608 becomes 2024); whole years inside it leave room for the arithmetic done on
# times (search windows, interpolation grids) without nearing the edges.
EARLIEST_UTC = np.datetime64("1678-01-01T00:00:00", "ns")
LATEST_UTC = np.datetime64("2261-12-31T23:59:59.999999999", "ns")
SUPPORTED_RANGE = "1678-01-01T00:00:00Z to 2261-12-31T23:59:59Z"
_EARLIEST_PY = _dt.datetime(1678, 1, 1)
_LATEST_PY = _dt.datetime(2261, 12, 31, 23, 59, 59, 999999)
_UNIX0_PY = _dt.datetime(1970, 1, 1)
_EXAMPLES = "for example '2024-01-22T13:05:00Z' or '2021-05-02T08:45:00+02:00'"
# No ISO-8601 instant is longer than this; longer text is refused before any parsing.
_MAX_TEXT = 64
# Units finer than ns: converting them to ns divides, so it cannot overflow (multiples such as [10ps] are
# checked like coarser units).
_FINER_THAN_NS = ("ps", "fs", "as")


def shown(value, limit: int = 80) -> str:
    """Return `value` quoted for a message: at most `limit` characters, control characters escaped.

    Text is shown as its ``repr`` (which escapes control characters such as ESC, BEL and NUL and the
    bidirectional marks U+202A-U+202E, U+2066-U+2069); anything else as its ``repr`` with non-printing
    characters escaped. What is cut off is counted: ``'aaaa...' (1000 characters)``.
    """
    if isinstance(value, str):
        if len(value) <= limit:
            return repr(value)
        return f"{value[:limit]!r}... ({len(value)} characters)"
    text = escaped(repr(value))
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text)} characters)"


def escaped(text: str) -> str:
    """Return `text` with each non-printing character (control, format, bidi mark) written as its escape."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def _out_of_range(what: str) -> TimeInputError:
    return TimeInputError(
        f"{what} lies outside the times cupola supports, {SUPPORTED_RANGE} (cupola holds times as numpy "
        f"datetime64[ns], which cannot represent instants much beyond them); pass a time in that range, {_EXAMPLES}",
        param="t",
    )


def _cannot_read(text: str) -> TimeInputError:
    return TimeInputError(f"cannot read the time {shown(text)}; write ISO-8601 with a zone, {_EXAMPLES}", param="t")


# A year the datetime module cannot hold (0, negative, or five digits and more): outside the range, not garbled.
_FAR_YEAR_RE = re.compile(r"(?:[+-]\d{4,}|\d{5,}|0000)-\d", re.ASCII)
# More than six decimals of a second: datetime keeps microseconds, so the rest is read here.
_SUBMICRO_RE = re.compile(r"(?<=[.,]\d{6})\d+", re.ASCII)
# Second 60 in hh:mm:ss (a leap second), followed by a fraction, a zone or the end.
_LEAP_RE = re.compile(r"(?<=\d\d:\d\d:)60(?=[.,Z+-]|$)", re.ASCII)


def _leap_second_ends(day: _dt.date) -> bool:
    """Return True when a leap second was inserted at the end of UTC `day` (skyfield's IERS table)."""
    jd_next = (day - _dt.date(1970, 1, 1)).days + 1 + JD_UNIX_EPOCH
    return bool(np.isin(jd_next, timescale().leap_dates))


def _last_leap_day() -> str:
    """Return the UTC day at whose end the last leap second of skyfield's table was inserted, 'YYYY-MM-DD'."""
    days = int(timescale().leap_dates[-1] - JD_UNIX_EPOCH) - 1
    return str(_dt.date(1970, 1, 1) + _dt.timedelta(days=days))


def _parse_text(text: str) -> np.datetime64:
    s = text.strip()
    # ISO-8601 is printable ASCII; datetime.fromisoformat would stop reading at a NUL and accept the rest.
    if len(s) > _MAX_TEXT or not (s.isascii() and s.isprintable()):
        raise _cannot_read(text)
    if s.upper().endswith(" UTC"):
        s = s[:-4].strip() + "Z"
    if s.endswith("z"):
        s = s[:-1] + "Z"
    # Digits past the microsecond: datetime would drop them; keep the nanoseconds (later digits are dropped).
    extra_ns = 0
    m = _SUBMICRO_RE.search(s)
    if m:
        extra_ns = int(m[0][:3].ljust(3, "0"))
        s = s[: m.start()] + s[m.end() :]
    leap = _LEAP_RE.search(s)
    if leap:
        s = s[: leap.start()] + "59" + s[leap.end() :]
    iso = s.replace(" ", "T", 1) if "T" not in s else s
    try:
        d = _dt.datetime.fromisoformat(iso)
    except ValueError:
        if _FAR_YEAR_RE.match(iso):
            raise _out_of_range(f"the time {shown(text)}") from None
        raise _cannot_read(text) from None
    naive = d.tzinfo is None
    # A zone-less time is checked as if it were UTC, so that the suggestion below is itself accepted.
    u = d if naive else _utc_naive(d, f"the time {shown(text)}")
    if not _EARLIEST_PY <= u <= _LATEST_PY:
        raise _out_of_range(f"the time {shown(text)}")
    if leap:
        if u.time() != _dt.time(23, 59, 59, u.microsecond) or not _leap_second_ends(u.date()):
            # The next minute's first second, unless that leaves the range (then second 59 of this one).
            step = _dt.timedelta(seconds=1 if u + _dt.timedelta(seconds=1) <= _LATEST_PY else 0)
            nxt = (d.replace(microsecond=0) + step).isoformat()
            raise TimeInputError(
                f"the time {shown(text)} has second 60, but no leap second ended that minute: leap seconds "
                "fall at 23:59:60 UTC at the end of the days listed by the IERS (the last ended "
                f"{_last_leap_day()}); write the seconds as 00-59, for example '{nxt}{'Z' if naive else ''}'",
                param="t",
            )
        # The leap second 23:59:60 has no datetime64 value (datetime64 counts days of 86,400 s, as POSIX
        # time does): every instant of it is taken as the first instant of the next day, as skyfield's
        # datetime conversion does, so that times never run backwards.
        u = u.replace(microsecond=0) + _dt.timedelta(seconds=1)
        extra_ns = 0
    if naive:
        try:
            _dt.date.fromisoformat(iso)
            example = f"{d.date().isoformat()}T00:00:00Z"  # 'YYYY-MM-DDZ' is not ISO-8601: name the midnight
        except ValueError:
            example = f"{text.strip()}Z"
        raise TimeInputError(
            f"the time {shown(text)} has no time zone; add 'Z' for UTC "
            f"(for example '{example}') or an offset such as '+02:00'",
            param="t",
        )
    return _checked_ns(u, extra_ns, f"the time {shown(text)}")


def _utc_naive(d: _dt.datetime, what: str) -> _dt.datetime:
    """Return aware `d` as a naive UTC datetime; an instant the datetime module cannot hold is out of range."""
    try:
        return d.astimezone(_dt.timezone.utc).replace(tzinfo=None)
    except OverflowError:
        raise _out_of_range(what) from None


def _checked_ns(u: _dt.datetime, extra_ns: int, what: str) -> np.datetime64:
    """Return naive UTC `u` plus `extra_ns` as datetime64[ns], its integer value computed and bounded here."""
    ns = (u - _UNIX0_PY) // _dt.timedelta(microseconds=1) * 1000 + getattr(u, "nanosecond", 0) + extra_ns
    if not int(EARLIEST_UTC.astype(np.int64)) <= ns <= int(LATEST_UTC.astype(np.int64)):
        raise _out_of_range(what)
    return np.datetime64(ns, "ns")


def _from_aware(d: _dt.datetime) -> np.datetime64:
    if d.tzinfo is None or d.tzinfo.utcoffset(d) is None:
        raise TimeInputError(
            f"the datetime {shown(d)} is naive (no tzinfo); pass an aware one, "
            "for example datetime(2024, 1, 22, 13, 5, tzinfo=timezone.utc)",
            param="t",
        )
    what = f"the datetime {shown(d)}"
    return _checked_ns(_utc_naive(d, what), 0, what)


def _datetime64_ns(a: np.ndarray) -> np.ndarray:
    """Return datetime64 array `a` in ns, refusing NaT and instants outside the supported range.

    The cast to ns wraps around silently on overflow, so it is checked by casting back to the input's unit
    (exact for every unit from years to ns) as well as against the range.
    """
    if np.isnat(a).any():
        if a.ndim == 0:
            raise TimeInputError("got NaT (not-a-time); pass a real instant", param="t")
        raise TimeInputError("the time array holds NaT (not-a-time); drop or fill those entries", param="t")
    unit, count = np.datetime_data(a.dtype)
    try:
        out = a.astype("datetime64[ns]")
        if count == 1 and (unit == "ns" or unit in _FINER_THAN_NS):
            wrapped = np.zeros(a.shape, bool)  # no cast, or a division: nothing can wrap
        else:
            wrapped = out.astype(a.dtype) != a
    except OverflowError:
        wrapped = np.ones(a.shape, bool)
        out = np.full(a.shape, EARLIEST_UTC)
    bad = wrapped | np.isnat(out) | (out < EARLIEST_UTC) | (out > LATEST_UTC)
    if bad.any():
        first = a[bad].ravel()[0] if a.ndim else a[()]
        where = "" if a.ndim == 0 else f" (at index {np.argwhere(bad)[0].tolist()} of the time array)"
        raise _out_of_range(f"the datetime64 value {str(first)!r}{where}")
    return out


def _one(x) -> np.datetime64:
    if isinstance(x, np.datetime64):
        return _datetime64_ns(np.asarray(x))[()]
    if isinstance(x, _dt.datetime):
        return _from_aware(x)
    if isinstance(x, str):
        return _parse_text(x)
    if isinstance(x, _dt.date):
        raise TimeInputError(
            f"got a date without a time ({x!r}); pass an aware datetime or text such as "
            f"'{x.isoformat()}T00:00:00Z'",
            param="t",
        )
    raise TimeInputError(
        f"cannot use {shown(x)} (type {type(x).__name__}) as a time; pass ISO-8601 text with a zone "
        f"({_EXAMPLES}), an aware datetime, or numpy datetime64 (UTC)",
        param="t",
    )


def to_utc64(t) -> np.ndarray:
    """Return `t` as a UTC ``datetime64[ns]`` array with the same shape (0-d for a scalar).

    Text is ISO-8601 with a zone: 'Z' (or 'z', or ' UTC') or an offset. Up to nine decimals of a second are
    kept (datetime keeps six). A leap second, '2016-12-31T23:59:60Z', is accepted when the IERS table lists it
    and taken as the next day's first instant ('2017-01-01T00:00:00Z'): datetime64 has no value for it.

    Args:
        t: ISO text, aware datetime, numpy datetime64, or a list/array of these.
    Raises:
        TimeInputError: naive datetimes, zone-less text, NaT, instants outside :data:`SUPPORTED_RANGE`
            (1678-01-01..2261-12-31), or anything unreadable.
    """
    if isinstance(t, np.ndarray) and np.issubdtype(t.dtype, np.datetime64):
        return _datetime64_ns(t)
    if isinstance(t, (str, _dt.datetime, np.datetime64, _dt.date)):
        return np.asarray(_one(t))
    arr = np.asarray(t, dtype=object)
    if arr.size == 0:
        return np.zeros(arr.shape, dtype="datetime64[ns]")
    flat = [_one(x) for x in arr.ravel()]
    return np.array(flat, dtype="datetime64[ns]").reshape(arr.shape)


def one_instant(value, param: str) -> np.datetime64:
    """Return one instant (datetime64[ns] UTC) read as :func:`to_utc64` does; its errors name `param`.

    Raises:
        TimeInputError: (param `param`) a time that cannot be read.
        InputError: (param `param`) more than one instant.
    """
    from .errors import CupolaError, InputError

    try:
        t = to_utc64(value)
    except CupolaError as exc:
        raise type(exc)(exc.detail, param=param, fix=exc.fix) from None
    if t.ndim != 0:
        raise InputError(f"{param} is one instant, got {t.size} of them", param=param)
    return t


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
    """Return TT - UT1 in seconds, from skyfield's builtin tables, at every instant.

    Evaluated per instant (skyfield's table interpolation costs ~20 ms per million instants), so an
    instant in a series gets exactly the UT1 it gets alone: the half-day node interpolation used
    before differed by up to 2e-7 s, enough to move a longitude's sixth decimal (``cupola.batch``
    promises each row equals the single-instant answer).
    """
    flat = np.asarray(jd_tt, dtype=np.float64).ravel()
    return np.asarray(timescale().delta_t_function(flat), dtype=np.float64).reshape(np.shape(jd_tt))


def seconds_between(a64, b64) -> np.ndarray:
    """Return (b - a) in float seconds for datetime64 inputs (broadcasting)."""
    return (np.asarray(b64, "datetime64[ns]") - np.asarray(a64, "datetime64[ns]")).astype(np.int64) / NS_PER_S


def add_seconds(t64, seconds) -> np.ndarray:
    """Return ``t64 + seconds`` as datetime64[ns] (broadcasting; seconds rounded to ns)."""
    dt = np.round(np.asarray(seconds, dtype=np.float64) * NS_PER_S).astype(np.int64)
    return np.asarray(t64, "datetime64[ns]") + dt.astype("timedelta64[ns]")
