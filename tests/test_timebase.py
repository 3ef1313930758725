"""Tests of time parsing (cupola.timebase.to_utc64): the supported range, leap seconds, zones, the suggestions the
messages make, and how a bad input is echoed.

Reference values are hand-computed: the Unix-epoch nanoseconds of the range's edges, the leap seconds of the IERS
table (2015-06-30 and 2016-12-31 end in 23:59:60), and the wrap-around numpy does without cupola's checks
(2608-08-09T15:37:27.709551 is 2**64 ns after 2024-01-19T16:02:53.999999384).
"""

from __future__ import annotations

import ast
import datetime as dt
import re

import numpy as np
import pytest

from cupola.errors import CupolaError, TimeInputError
from cupola.timebase import EARLIEST_UTC, LATEST_UTC, SUPPORTED_RANGE, instants, iso_utc, to_utc64

UTC = dt.timezone.utc
RANGE = re.escape(SUPPORTED_RANGE)
# Every example a time message offers, quoted: "for example '...'" and "or '...'" after it.
_SUGGESTION_RE = re.compile(r"for example ('(?:[^'\\]|\\.)*')(?: or ('(?:[^'\\]|\\.)*'))?")


def suggestions(message: str) -> list[str]:
    """Return the example times a message suggests (the texts after 'for example' and its 'or')."""
    return [ast.literal_eval(q) for m in _SUGGESTION_RE.finditer(message) for q in m.groups() if q]


def assert_clean(message: str) -> None:
    """Fail if `message` holds a control character or a bidirectional mark, raw."""
    bad = [c for c in message if (ord(c) < 32 and c != "\n") or c == "\x7f" or "\u202a" <= c <= "\u202e"
           or "\u2066" <= c <= "\u2069"]
    assert not bad, f"raw control characters {bad!r} in {message!r}"


def ns(text: str) -> int:
    return int(np.datetime64(text, "ns").astype(np.int64))


# ---------------------------------------------------------------------------------------------------------
# The supported range


def test_range_constants():
    assert SUPPORTED_RANGE == "1678-01-01T00:00:00Z to 2261-12-31T23:59:59Z"
    assert EARLIEST_UTC == np.datetime64("1678-01-01T00:00:00", "ns")
    assert LATEST_UTC == np.datetime64("2261-12-31T23:59:59.999999999", "ns")


def test_numpy_wraps_silently_which_is_why_cupola_checks():
    # The failure the checks exist for: numpy turns 2608 into 2024 without an error.
    wrapped = np.datetime64(dt.datetime(2608, 8, 9, 15, 37, 27, 709551), "ns")
    assert str(wrapped).startswith("2024-01-19")


@pytest.mark.parametrize(
    "text",
    [
        "2608-08-09T15:37:27.709551Z",  # numpy would make it 2024-01-19
        "1600-01-01T00:00:00Z",  # numpy would make it 2184
        "2262-01-01T00:00:00Z",
        "1677-12-31T23:59:59.999999999Z",
        "1678-01-01T00:30:00+01:00",  # 1677-12-31T23:30Z
        "2261-12-31T23:30:00-01:00",  # 2262-01-01T00:30Z
        "0001-01-01T00:00:00+01:00",  # before year 1 in UTC: datetime itself overflows
        "9999-12-31T23:59:59-01:00",
        "10000-01-01T00:00:00Z",
        "-0044-03-15T12:00:00Z",
        "0000-01-01T00:00:00Z",
        "2608-08-09T15:37:27",  # zone-less, but no zone would bring it into range
    ],
)
def test_text_outside_the_range_is_refused_with_the_range(text):
    with pytest.raises(TimeInputError, match=rf"^the time {re.escape(repr(text))} lies outside the times cupola "
                       rf"supports, {RANGE} \(.*datetime64\[ns\].*\); pass a time in that range, for example") as info:
        to_utc64(text)
    assert info.value.param == "t"
    assert all(to_utc64(s).dtype == np.dtype("datetime64[ns]") for s in suggestions(str(info.value)))


def test_the_edges_of_the_range_are_accepted_exactly():
    plus_one = dt.timezone(dt.timedelta(hours=1))
    assert to_utc64(dt.datetime(2262, 1, 1, 0, 30, tzinfo=plus_one)) == np.datetime64("2261-12-31T23:30", "ns")
    assert to_utc64("1678-01-01T00:00:00Z") == EARLIEST_UTC
    assert to_utc64("2261-12-31T23:59:59.999999999Z") == LATEST_UTC
    assert to_utc64("1678-01-01T01:00:00+01:00") == EARLIEST_UTC
    assert to_utc64(dt.datetime(2261, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)) == LATEST_UTC - np.timedelta64(999, "ns")
    both = instants(np.array([EARLIEST_UTC, LATEST_UTC]))
    assert np.all(np.isfinite(both.jd_tt)) and np.all(np.isfinite(both.jd_ut1))


@pytest.mark.parametrize(
    "value",
    [
        dt.datetime(2608, 8, 9, 15, 37, 27, tzinfo=UTC),
        dt.datetime(1600, 1, 1, tzinfo=UTC),
        dt.datetime(1, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=1))),  # astimezone overflows
        dt.datetime(2261, 12, 31, 23, 30, tzinfo=dt.timezone(dt.timedelta(hours=-1))),  # 2262-01-01T00:30Z
    ],
)
def test_aware_datetimes_outside_the_range(value):
    with pytest.raises(TimeInputError, match=rf"^the datetime datetime\.datetime\(.* lies outside the times cupola "
                       rf"supports, {RANGE}"):
        to_utc64(value)


@pytest.mark.parametrize(
    "value",
    [
        np.datetime64("2608-08-09", "D"),  # casts to 2024-01-19T00:25 in ns
        np.datetime64("1600-01-01", "D"),  # casts to 2184-07-20
        np.datetime64("2608", "Y"),
        np.datetime64("1677-12-30", "W"),  # representable in ns, but before the range
        np.datetime64("2262-04-11T23:47:17", "s"),  # just past what datetime64[ns] holds
        np.datetime64(2**62, "s"),
        np.datetime64("2608-08-09T15:37:27.709551", "us"),
        np.datetime64(200_000, "2D"),  # 400,000 days: 3065; a multiple of a unit is checked too
    ],
)
def test_datetime64_of_other_units_outside_the_range(value):
    shown = re.escape(repr(str(value)))
    with pytest.raises(TimeInputError, match=rf"^the datetime64 value {shown} lies outside the times cupola "
                       rf"supports, {RANGE}"):
        to_utc64(value)
    grid = np.array([[np.datetime64("2024-01-22", "D")] * 2, [value] * 2])
    shown = re.escape(repr(str(grid[1, 0])))
    with pytest.raises(TimeInputError, match=rf"^the datetime64 value {shown} \(at index \[1, 0\] of the time "
                       rf"array\) lies outside"):
        to_utc64(grid)
    with pytest.raises(TimeInputError, match=r"lies outside the times cupola supports"):
        to_utc64(["2024-01-22T00:00:00Z", value])


def test_datetime64_of_other_units_inside_the_range_convert_exactly():
    assert to_utc64(np.datetime64("2024-01-22", "D")) == np.datetime64("2024-01-22T00:00", "ns")
    assert to_utc64(np.datetime64("1678", "Y")) == EARLIEST_UTC
    a = np.array(["1999-12-31", "2000-12-31"], dtype="datetime64[2D]")
    assert to_utc64(a).tolist() == np.array(["1999-12-31", "2000-12-31"], "datetime64[ns]").tolist()
    # Units finer than ns divide: no overflow is possible, the value is truncated to ns.
    assert to_utc64(np.datetime64(1_500, "ps")) == np.datetime64(1, "ns")
    assert to_utc64(np.datetime64("2024-01-22T10:00:00.123456789", "ns")).dtype == np.dtype("datetime64[ns]")


def test_a_multiple_of_a_unit_finer_than_ns_is_checked_too():
    ms_in_ps = np.array([2**62, 1_700_000_000_000], "datetime64[1000000000ps]")  # milliseconds, written as ps
    with pytest.raises(TimeInputError, match=r"\(at index \[0\] of the time array\) lies outside the times cupola "
                       r"supports"):
        to_utc64(ms_in_ps)  # numpy's cast to ns wraps 2**62 ms around to 1970
    assert to_utc64(ms_in_ps[1:]) == np.datetime64(1_700_000_000, "s")


def test_nat_is_still_refused():
    with pytest.raises(TimeInputError, match=r"^got NaT \(not-a-time\); pass a real instant$"):
        to_utc64(np.datetime64("NaT", "D"))
    with pytest.raises(TimeInputError, match=r"^the time array holds NaT"):
        to_utc64(np.array(["2024-01-22", "NaT"], "datetime64[D]"))


# ---------------------------------------------------------------------------------------------------------
# Leap seconds, zones, decimals


@pytest.mark.parametrize(
    "text",
    ["2016-12-31T23:59:60Z", "2016-12-31T23:59:60.5Z", "2016-12-31T23:59:60.999999999Z", "2017-01-01T00:59:60+01:00",
     "2016-12-31T18:59:60-05:00", "2016-12-31 23:59:60 UTC"],
)
def test_a_leap_second_is_the_first_instant_of_the_next_day(text):
    # As skyfield's datetime conversion does: datetime64 has no value for 23:59:60.
    assert to_utc64(text) == np.datetime64("2017-01-01T00:00:00", "ns")


def test_times_around_a_leap_second_never_run_backwards():
    texts = ["2015-06-30T23:59:59.999Z", "2015-06-30T23:59:60Z", "2015-06-30T23:59:60.7Z", "2015-07-01T00:00:00Z",
             "2015-07-01T00:00:00.001Z"]
    values = to_utc64(texts).astype(np.int64)
    assert np.all(np.diff(values) >= 0)
    assert values[1] == ns("2015-07-01T00:00:00")


@pytest.mark.parametrize(
    ("text", "example"),
    [
        ("2017-03-05T10:00:60Z", "2017-03-05T10:01:00+00:00"),
        ("2017-12-31T23:59:60Z", "2018-01-01T00:00:00+00:00"),  # no leap second at the end of 2017
        ("2016-12-31T23:59:60+01:00", "2017-01-01T00:00:00+01:00"),  # 22:59:60 UTC
        ("2017-03-05T10:00:60", "2017-03-05T10:01:00Z"),
        ("2261-12-31T23:59:60Z", "2261-12-31T23:59:59+00:00"),  # the next second is out of range
    ],
)
def test_second_60_outside_a_leap_second_is_refused(text, example):
    with pytest.raises(TimeInputError, match=rf"^the time {re.escape(repr(text))} has second 60, but no leap second "
                       r"ended that minute: .*the last ended 2016-12-31\); write the seconds as 00-59, for "
                       rf"example {re.escape(repr(example))}$") as info:
        to_utc64(text)
    assert info.value.param == "t"
    (suggested,) = suggestions(str(info.value))
    to_utc64(suggested)


def test_a_zone_less_leap_second_is_told_to_add_a_zone():
    with pytest.raises(TimeInputError, match=r"has no time zone; add 'Z' for UTC \(for example "
                       r"'2016-12-31T23:59:60Z'\)") as info:
        to_utc64("2016-12-31T23:59:60")
    assert [to_utc64(s) for s in suggestions(str(info.value))] == [np.datetime64("2017-01-01", "ns")]


@pytest.mark.parametrize("text", ["2024-01-22T10:00:00z", "2024-01-22T10:00:00Z", "2024-01-22T10:00z",
                                  " 2024-01-22T10:00:00z ", "2024-01-22 10:00:00 utc", "2024-01-22T11:00:00+01:00"])
def test_lowercase_z_and_utc_suffixes(text):
    assert to_utc64(text) == np.datetime64("2024-01-22T10:00:00", "ns")


def test_nine_decimals_of_a_second_are_kept():
    assert to_utc64("2024-01-22T10:00:00.123456789Z") == np.datetime64("2024-01-22T10:00:00.123456789", "ns")
    assert to_utc64("2024-01-22T10:00:00.1234567Z") == np.datetime64("2024-01-22T10:00:00.123456700", "ns")
    # Digits past the nanosecond are dropped.
    assert to_utc64("2024-01-22T10:00:00,12345678999Z") == np.datetime64("2024-01-22T10:00:00.123456789", "ns")
    t = np.datetime64("2024-01-22T10:00:00.000000001", "ns")
    assert to_utc64(iso_utc(t, digits=9)) == t


# ---------------------------------------------------------------------------------------------------------
# What the messages suggest, and how they show the input


@pytest.mark.parametrize(
    ("text", "example"),
    [
        ("2024-01-22", "2024-01-22T00:00:00Z"),  # not '2024-01-22Z', which is not ISO-8601
        ("20240122", "2024-01-22T00:00:00Z"),
        ("2024-W04-1", "2024-01-22T00:00:00Z"),
        ("2024-01-22T10:00:00", "2024-01-22T10:00:00Z"),
        ("2024-01-22 10:00", "2024-01-22 10:00Z"),
        ("2024-01-22T10", "2024-01-22T10Z"),
        ("2024-01-22T10:00:00.123456789", "2024-01-22T10:00:00.123456789Z"),
    ],
)
def test_the_no_zone_suggestion_parses(text, example):
    with pytest.raises(TimeInputError, match=rf"^the time {re.escape(repr(text))} has no time zone; add 'Z' for UTC "
                       rf"\(for example {re.escape(repr(example))}\) or an offset such as '\+02:00'$") as info:
        to_utc64(text)
    assert suggestions(str(info.value)) == [example]
    assert to_utc64(example) == np.datetime64(
        "2024-01-22T10:00:00.123456789" if "." in text else "2024-01-22T10" if "T10" in text or " 10" in text
        else "2024-01-22", "ns")


@pytest.mark.parametrize(
    "value",
    ["2024-01-22", "2024-01-22T10:00:00", "soon", "2024-13-01T00:00:00Z", "2608-01-01T00:00:00Z", "2017-03-05T10:00:60",
     "2017-03-05T10:00:60-03:00", dt.date(2024, 1, 22), dt.datetime(2024, 1, 22), 17.5,
     np.datetime64("2608-01-01", "D"), "2024-01-22Z"],
)
def test_every_suggestion_in_a_time_message_parses(value):
    with pytest.raises(TimeInputError) as info:
        to_utc64(value)
    message = str(info.value)
    assert message[0].islower()
    found = suggestions(message)
    if isinstance(value, (str, np.datetime64, float)):
        assert found, message
    for text in found:
        assert to_utc64(text).dtype == np.dtype("datetime64[ns]"), (message, text)


def test_a_long_input_is_cut_to_80_characters():
    text = "2024-01-22T10:00:00" + "x" * 5000
    with pytest.raises(TimeInputError, match=r"^cannot read the time '2024-01-22T10:00:00x+'\.\.\. \(5019 "
                       r"characters\); write ISO-8601 with a zone") as info:
        to_utc64(text)
    assert len(str(info.value)) < 250
    with pytest.raises(TimeInputError, match=r"\.\.\. \(\d+ characters\) \(type set\) as a time") as info:
        to_utc64(set(range(500)))


@pytest.mark.parametrize("text", ["\x1b[2J\x1b[31m2024-01-22\x07", "2024-01-22T10:00:00\x00Z", "\u202e2024-01-22Z",
                                  "2024\u2066-01-22T10:00:00Z\u2069", "2024-01-22T10:00:00\r\nZ"])
def test_control_characters_of_a_bad_input_are_escaped(text):
    with pytest.raises(TimeInputError) as info:
        to_utc64(text)
    message = str(info.value)
    assert_clean(message)
    assert repr(text.strip()) in message or repr(text) in message


def test_time_errors_are_cupola_and_value_errors():
    with pytest.raises(CupolaError):
        to_utc64("3000-01-01T00:00:00Z")
    with pytest.raises(ValueError):
        to_utc64("3000-01-01T00:00:00Z")
