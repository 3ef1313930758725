"""Property tests of the input parsers: whatever text comes in, the time parser and the element-set parsers either
return a value or raise their own error (TimeInputError, ElementSetError), never another exception, and their
messages stay short, printable and helpful.

Each property runs 2,000 examples, derandomized (the same examples on every run, so CI is repeatable) and with no
example database written; the whole file takes well under a minute.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_timebase import assert_clean, suggestions

from cupola.elements import parse_element_sets, parse_omm, parse_tle
from cupola.errors import ElementSetError, TimeInputError
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
        try:  # where the datetime module reads the text too, both must name the same instant (to the µs)
            ref = dt.datetime.fromisoformat(text.strip())
        except ValueError:
            return
        if ref.tzinfo is not None:
            ref_us = (ref - dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)) // dt.timedelta(microseconds=1)
            assert int(out.astype("datetime64[us]").astype(np.int64)) == ref_us, text


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


# ---------------------------------------------------------------------------------------------------------
# Element sets: TLE and OMM (JSON, XML, CSV)

DATA = Path(__file__).parent / "data" / "elements"
L1 = "1 25544U 98067A   17001.10660880  .00001073  00000-0  23630-4 0  9997"
L2 = "2 25544  51.6423 151.2131 0007045  39.8224 315.5565 15.53964187 35761"
TLE_TEXTS = [
    f"ISS (ZARYA)\n{L1}\n{L2}\n",
    f"{L1}\r\n{L2}\r\n",
    "0 ISS\n1 25544U 98067A   17023.63312707 +.00004251 +00000-0 +71414-4 0  9995\n"
    "2 25544 051.6447 038.9362 0007650 112.0743 353.1241 15.54132975039278\n",  # the legacy '+' variant
    (DATA / "derived_group.tle").read_text(),
]
OMM_JSON = (DATA / "iss_omm.json").read_text()
OMM_XML = (DATA / "iss_omm.xml").read_text()
OMM_CSV = (DATA / "iss_omm.csv").read_text()
# The longest message a bad element set may produce (TLE messages carry a template block of a few lines).
MAX_SET_MESSAGE = 1_500

# Characters a mutation writes: the ones the formats give meaning to, hostile ones, and any at all.
_SPECIAL = list("0123456789 -+.,:;ETZz\n\r\t\"'<>/&{}[]\\#xX") + ["\x00", "\x1b", "\x07", "\u2013", "\u00a0", "\u202e",
                                                                   "\ufeff", "\u0663", "é", "\ud800"]
_CHAR = st.one_of(st.sampled_from(_SPECIAL), st.characters())
_PIECE = st.one_of(st.text(_CHAR, min_size=1, max_size=4),
                   st.sampled_from(["]]>", "&lol;", "<!--", "<![CDATA[", "\r\n", '","', "E+99", "e-400", "\\u0000"]))
_DIGIT_RE = re.compile(r"[0-9]")


@st.composite
def mutated(draw, texts: list[str]) -> str:
    """Return one of `texts` with 1-6 edits: characters flipped, inserted or deleted, digits changed, a piece
    repeated (up to ~40 kB), two lines swapped, or the text truncated."""
    text = draw(st.sampled_from(texts))
    for _ in range(draw(st.integers(1, 6))):
        op = draw(st.sampled_from(["flip", "insert", "delete", "digit", "digit", "repeat", "swap", "truncate"]))
        pos = draw(st.integers(0, max(len(text) - 1, 0)))
        if op == "flip":
            text = text[:pos] + draw(_CHAR) + text[pos + 1 :]
        elif op == "insert":
            text = text[:pos] + draw(_PIECE) + text[pos:]
        elif op == "delete":
            text = text[:pos] + text[pos + draw(st.integers(1, 8)) :]
        elif op == "digit":
            m = _DIGIT_RE.search(text, pos) or _DIGIT_RE.search(text)
            if m:
                text = text[: m.start()] + draw(st.sampled_from("0123456789")) + text[m.end() :]
        elif op == "repeat":
            piece = text[pos : pos + draw(st.integers(1, 12))]
            text = text[:pos] + piece * draw(st.sampled_from([2, 10, 500, 4000])) + text[pos:]
        elif op == "swap":
            lines = text.split("\n")
            i, j = draw(st.integers(0, len(lines) - 1)), draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
            text = "\n".join(lines)
        else:
            text = text[:pos]
    return text


def _check_sets(parse, text: str) -> None:
    """`parse(text)` returns usable element sets or raises ElementSetError with a short, clean message."""
    try:
        sets = parse(text)
    except ElementSetError as exc:
        message = str(exc)
        assert message[:1].islower(), message
        assert len(message) <= MAX_SET_MESSAGE, message[:300]
        assert_clean(message)
        return
    assert sets
    for s in sets:
        assert EARLIEST_UTC <= s.epoch_utc <= LATEST_UTC
        assert 0 <= s.satnum <= 339_999
        try:
            s.satrec()  # what the parser let through, SGP4 takes (or refuses in words)
        except ElementSetError as exc:
            assert_clean(str(exc))


@fuzz
@given(st.text(max_size=300))
def test_tle_parser_on_arbitrary_text(text):
    _check_sets(parse_tle, text)


@fuzz
@given(st.sampled_from(["", "[", "{", "<", "<ndm>", "\ufeff", "1 ", "EPOCH,NORAD_CAT_ID,MEAN_MOTION\n"]),
       st.text(max_size=300))
def test_element_set_parsers_on_arbitrary_text(start, text):
    _check_sets(parse_element_sets, start + text)
    _check_sets(parse_omm, start + text)


@fuzz
@given(mutated(TLE_TEXTS))
def test_tle_parser_on_mutated_sets(text):
    _check_sets(parse_tle, text)
    _check_sets(parse_element_sets, text)


@fuzz
@given(mutated([OMM_JSON, json.dumps(json.loads(OMM_JSON)[0])]))
def test_omm_json_parser_on_mutated_records(text):
    _check_sets(parse_omm, text)


@fuzz
@given(mutated([OMM_XML]))
def test_omm_xml_parser_on_mutated_records(text):
    _check_sets(parse_omm, text)


@fuzz
@given(mutated([OMM_CSV]))
def test_omm_csv_parser_on_mutated_records(text):
    _check_sets(parse_omm, text)


_JSON_VALUE = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-(10**30), 10**30), st.floats(), st.text(_CHAR, max_size=12),
              st.sampled_from(["9" * 5000, "1e400", "-0", "NaN", "0x10", "1_000", " 25544 ", "2608-08-09T15:37:27"])),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=6,
)
_RECORD = json.loads(OMM_JSON)[0]


@fuzz
@given(st.dictionaries(st.sampled_from(sorted(_RECORD)), _JSON_VALUE, max_size=5),
       st.lists(st.sampled_from(sorted(_RECORD)), max_size=2),
       st.dictionaries(st.text(max_size=8), _JSON_VALUE, max_size=2))
def test_omm_json_parser_on_records_with_arbitrary_values(changed, dropped, extra):
    """A valid record with some values replaced by arbitrary JSON (numbers, huge digit strings, nesting), some
    fields dropped and others added."""
    record = {**_RECORD, **changed, **extra}
    for key in dropped:
        record.pop(key, None)
    _check_sets(parse_omm, json.dumps([record]))
