"""Hostile input values shared by the property tests of the command line (tests/test_cli_fuzz.py) and of the web
API (tests/test_web_fuzz.py), and the suite's hypothesis settings.

``TEXT`` is text a user (or a script, or a file name) may pass: numbers in every spelling float() reads and some it
does not, and characters that have broken parsers before (NUL, ESC, bidirectional marks, lone surrogates as
``sys.argv`` holds for bytes that are not UTF-8, 3,000-character strings, Arabic-Indic and full-width digits).
``TIMES`` adds instants written every way, inside and outside the supported range.
"""

from __future__ import annotations

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

EXAMPLES = 150  # examples per test unless a test says fewer


def fuzz(test=None, *, examples: int = EXAMPLES):
    """Return `test` under the suite's hypothesis settings: `examples` derandomized examples, no database."""
    wrap = settings(max_examples=examples, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                           HealthCheck.function_scoped_fixture])
    return wrap(test) if test is not None else wrap


HOSTILE = [
    "", " ", "-", "--", "nan", "NaN", "-nan", "inf", "-inf", "Infinity", "1e309", "-1e309", "1e-320", "-0", "0", "1",
    "-1", "90", "-90", "180", "-180", "360", "540", "89.999", "-89.999", "179.9999", "1e5", "9" * 400, "0x10",
    "1_000", " 5 ", "\u0663", "\uff15", "5\u00a0", "\x00", "a\x00b", "\x1b[31m", "\u202eevil", "\udcff", "\ud800",
    "é", "a" * 3000, "1/0", "0/0", "1/", "/", "1/-60", "x", "1x1", "16x16", "0x0", "-16x16", "16x", ",", ",,",
    "90,180", "-90,-180", "45,", ",45", "nan,0", "0,inf", "48.85,2.35", "Paris", "paris", "PARIS", "Pacific Ocean",
    "Quebec", "Sirius", "moon", "sun", "Milky Way core", "nadir", "horizon:", "horizon:30", "horizon:ahead,-5",
    "target:", "target:48.8,2.3", "target:Paris", "target:Nowhere", "sky:", "sky:Sirius", "sky:moon", "sky:10,95",
    "en", "fr", "EN", "de", "D4", "D5", "Z9", "FF", "earth", "stars,earth", "earth,,", "10s", "500ms", "1m", "1h",
    "0s", "-1s", "1e-9", "10 s", "25544", "ISS", "ISS (ZARYA)", "zarya", "99999", "0", "%", "%s", "{}", "{0}",
    "'", '"', "\\", "\n", "\r\n", "\t", "$(id)", "`id`", "../../etc/passwd", "~", "."
]
NUMBERS = st.one_of(
    st.floats().map(repr),
    st.integers(-(10**30), 10**30).map(str),
    st.floats(-1e4, 1e4).map(lambda x: f"{x:.6g}"),
    st.decimals(allow_nan=True).map(str),
)
CHARS = st.characters(codec=None, exclude_categories=())
TEXT = st.one_of(
    st.sampled_from(HOSTILE),
    NUMBERS,
    st.text(CHARS, max_size=30),
    st.tuples(st.sampled_from(HOSTILE), st.sampled_from(["", ",", ":", "x", "/", " "]), NUMBERS).map("".join),
)

# Instants: good ones near 2024-01-20 (inside the bundled element sets), and every way of getting one wrong.
GOOD_TIMES = ["2024-01-20T00:10:00Z", "2024-01-20T00:10:00+00:00", "2024-01-20T01:10:00+01:00",
              "2024-01-19T23:55:00-00:15", "2024-01-20T00:10:00.123456789Z", "2024-01-20 00:10:00Z", "now"]
BAD_TIMES = [
    "2024-01-20T00:10:00", "2024-01-20", "2024-01-20T00:10Z", "2024-13-01T00:00:00Z", "2024-02-30T00:00:00Z",
    "2024-01-20T24:00:00Z", "2024-01-20T00:10:60Z", "2016-12-31T23:59:60Z", "2024-01-20T00:10:00+25:00",
    "2024-01-20T00:10:00+99:99", "1677-12-31T23:59:59Z", "1678-01-01T00:00:00Z", "2261-12-31T23:59:59Z",
    "2262-04-11T23:47:16.854775808Z", "9999-12-31T23:59:59Z", "+10000-01-01T00:00:00Z", "-0001-01-01T00:00:00Z",
    "0000-01-01T00:00:00Z", "1970-01-01T00:00:00Z", "2026-01-20T00:10:00Z", "1705709400", "1705709400.5",
    "2024-W03-6T00:10:00Z", "2024-020T00:10:00Z", "2024-01-20T00:10:00Z\x00", "2024-01-20T00:10:00\u202eZ",
    "\u0662\u0660\u0662\u0664-01-20T00:10:00Z", "2024-01-20T00:10:00.1234567890123456789Z", "2024-01-20T00:10:00 UTC",
    "20240120T001000Z", "2024-01-20T00:10:00ZZ", "2024-01-20T00:10:00+00:00Z", "yesterday", "NOW", " now ",
    "1990-01-01T00:00:00Z", "1990-01-01T00:10:00Z",  # before the ISS
]
TIMES = st.one_of(st.sampled_from(GOOD_TIMES + BAD_TIMES), TEXT)

__all__ = ["EXAMPLES", "fuzz", "HOSTILE", "NUMBERS", "CHARS", "TEXT", "GOOD_TIMES", "BAD_TIMES", "TIMES"]
