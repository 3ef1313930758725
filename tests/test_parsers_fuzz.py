"""Property tests of the input parsers: whatever text comes in, the time parser and the element-set parsers either
return a value or raise their own error (TimeInputError, ElementSetError), never another exception, and their
messages stay short, printable and helpful.

Each property runs 2,000 examples, derandomized (the same examples on every run, so CI is repeatable) and with no
example database written; the whole file takes well under a minute.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_timebase import assert_clean, suggestions

from cupola.errors import TimeInputError
from cupola.timebase import EARLIEST_UTC, LATEST_UTC, iso_utc, to_utc64

EXAMPLES = 2_000
fuzz = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
# The longest message a bad input may produce: the input is echoed cut to ~80 characters.
MAX_TIME_MESSAGE = 400


# ---------------------------------------------------------------------------------------------------------
# Times

_TIME_FRAGMENTS = [
    "2024", "1677", "1678", "2261", "2262", "2608", "0000", "10000", "-0044", "+2024", "-", "--", "01", "12", "13", "00",
    "29", "30", "31", "32", "T", "t", " ", ":", "23", "24", "59", "60", "61", "Z", "z", "+02:00", "-05:30", "+24:00",
    "+0200", "+02", "-00:00", ".", ",", "123456789", "5", ".999999999999", "W", "W04", "W53", "-1", "-7", " UTC",
    "utc", "\x00", "\x1b", "\u202e", "\u00a0", "\u0663", "2016-12-31T23:59:60", "2017-01-01T00:00:00",
]
iso_like = st.lists(st.one_of(st.sampled_from(_TIME_FRAGMENTS), st.text("0123456789-:TZ.+ ", max_size=3)),
                    max_size=12).map("".join)


def _check_time(text: str) -> None:
    try:
        out = to_utc64(text)
    except TimeInputError as exc:
        message = str(exc)
        assert message[0].islower(), message
        assert len(message) <= MAX_TIME_MESSAGE, message
        assert_clean(message)
        assert exc.param == "t"
        for suggested in suggestions(message):
            to_utc64(suggested)  # every example a message gives is itself accepted
    else:
        assert out.dtype == np.dtype("datetime64[ns]") and out.shape == ()
        assert EARLIEST_UTC <= out <= LATEST_UTC


@fuzz
@given(st.text(max_size=80))
def test_time_parser_on_arbitrary_text(text):
    _check_time(text)


@fuzz
@given(iso_like)
def test_time_parser_on_iso_like_text(text):
    _check_time(text)


_NS_LO = int(EARLIEST_UTC.astype(np.int64))
_NS_HI = int(LATEST_UTC.astype(np.int64))


@fuzz
@given(
    st.integers(_NS_LO + 86_400 * 10**9, _NS_HI - 86_400 * 10**9),
    st.integers(-(23 * 60 + 59), 23 * 60 + 59),
    st.integers(0, 9),
    st.sampled_from(["T", " ", "t"]),
    st.booleans(),
)
def test_aware_iso_text_round_trips(ns, offset_min, digits, sep, lower_z):
    """Write an instant as local time with an offset (or Z) and any number of decimals; read it back exactly."""
    ns -= ns % 10 ** (9 - digits)  # the instant as written with `digits` decimals
    local_ns = ns + offset_min * 60 * 10**9
    whole, frac = divmod(local_ns, 10**9)
    local = dt.datetime(1970, 1, 1) + dt.timedelta(seconds=whole)
    text = local.strftime(f"%Y-%m-%d{sep}%H:%M:%S")
    if digits:
        text += "." + f"{frac:09d}"[:digits]
    if offset_min == 0:
        text += "z" if lower_z else "Z"
    else:
        sign = "+" if offset_min > 0 else "-"
        text += f"{sign}{abs(offset_min) // 60:02d}:{abs(offset_min) % 60:02d}"
    out = to_utc64(text)
    assert out == np.datetime64(ns, "ns"), text
    assert to_utc64(iso_utc(out, digits=9)) == out
    assert iso_utc(to_utc64(iso_utc(out)), digits=0) == iso_utc(out)
