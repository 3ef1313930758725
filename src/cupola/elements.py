"""Element sets: parse TLEs (3-line, 2-line, legacy '+' variant) and OMM (JSON, XML, CSV); hold an archive.

An :class:`ElementSet` is the parsed, validated text of one set of mean elements; it builds an
``sgp4.api.Satrec`` on demand. An :class:`ElementArchive` holds one satellite's sets sorted by epoch and picks
the set nearest each instant (vectorised). :func:`bundled_archive` returns the ISS history shipped with cupola.

Every problem found in the text raises :class:`~cupola.errors.ElementSetError` before anything is propagated.

Sources for the formats:
- TLE columns and checksum: CelesTrak "FAQs: Two-Line Element Set Format" (T.S. Kelso) and Vallado et al. 2006,
  "Revisiting Spacetrack Report #3", AIAA 2006-6753, appendix (the layout sgp4's ``twoline2rv`` reads).
- OMM: CCSDS 502.0-B-3 "Orbit Data Messages" (OMM keywords, NDM/XML layout) and CelesTrak's
  "A New Way to Obtain GP Data" (JSON/CSV/XML field names).
"""

from __future__ import annotations

import csv
import functools
import io
import json
import logging
import math
import os
import re
import unicodedata
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np
from sgp4 import omm as _sgp4_omm
from sgp4.api import WGS72, Satrec

from .errors import DataMissingError, ElementSetError, TimeInputError

__all__ = [
    "ElementSet",
    "ElementArchive",
    "parse_tle",
    "parse_omm",
    "parse_element_sets",
    "load_element_file",
    "bundled_archive",
]

logger = logging.getLogger(__name__)

_NS_PER_DAY = 86_400 * 10**9
_TEXT_SOURCE = "<text>"

# Column templates shown above a malformed line (N digit, C classification, A designator piece, +/- signs).
_TEMPLATE = {
    1: "1 NNNNNC NNNNNAAA NNNNN.NNNNNNNN +.NNNNNNNN +NNNNN-N +NNNNN-N N NNNNN",
    2: "2 NNNNN NNN.NNNN NNN.NNNN NNNNNNN NNN.NNNN NNN.NNNN NN.NNNNNNNNNNNNNN",
}
_TLE_LENGTH = 69

# Columns (1-based) that must hold a space in each line; a character there means the fields are shifted.
_SEPARATORS = {1: (2, 9, 18, 33, 44, 53, 62, 64), 2: (2, 8, 17, 26, 34, 43, 52)}

_SATNUM_RE = r"(?: *\d{1,5}|[A-HJ-NP-Z]\d{4})"
_ANGLE_RE = r" *\d{1,3}\.\d{4}"
_EXP_RE = r"[ +-]\d{5}[ +-]\d"


@dataclass(frozen=True)
class _Field:
    name: str
    line: int
    first: int  # 1-based first column
    last: int  # 1-based last column (inclusive)
    pattern: str
    form: str  # human description of the expected form

    def text(self, line: str) -> str:
        return line[self.first - 1 : self.last]


_FIELDS = {
    1: (
        _Field("satellite number", 1, 3, 7, _SATNUM_RE, "5 digits, or a letter and 4 digits (Alpha-5)"),
        _Field("classification", 1, 8, 8, r"[A-Z ]", "a letter such as U"),
        _Field("epoch", 1, 19, 32, r"\d{2}[ \d]{2}\d\.\d{8}", "YYDDD.DDDDDDDD (year, day of year)"),
        _Field("first derivative of mean motion", 1, 34, 43, r"[ +-]\.\d{8}", "±.NNNNNNNN"),
        _Field("second derivative of mean motion", 1, 45, 52, _EXP_RE, "±NNNNN±N (implied decimal point)"),
        _Field("B* drag term", 1, 54, 61, _EXP_RE, "±NNNNN±N (implied decimal point)"),
        _Field("ephemeris type", 1, 63, 63, r"[ \d]", "one digit"),
        _Field("element set number", 1, 65, 68, r" *\d{1,4}", "up to 4 digits"),
    ),
    2: (
        _Field("satellite number", 2, 3, 7, _SATNUM_RE, "5 digits, or a letter and 4 digits (Alpha-5)"),
        _Field("inclination", 2, 9, 16, _ANGLE_RE, "NNN.NNNN degrees"),
        _Field("right ascension of the ascending node", 2, 18, 25, _ANGLE_RE, "NNN.NNNN degrees"),
        _Field("eccentricity", 2, 27, 33, r"\d{7}", "7 digits (implied leading decimal point)"),
        _Field("argument of perigee", 2, 35, 42, _ANGLE_RE, "NNN.NNNN degrees"),
        _Field("mean anomaly", 2, 44, 51, _ANGLE_RE, "NNN.NNNN degrees"),
        _Field("mean motion", 2, 53, 63, r" *\d{1,2}\.\d{8}", "NN.NNNNNNNN revolutions per day"),
        _Field("revolution number at epoch", 2, 64, 68, r" *\d{1,5}", "up to 5 digits"),
    ),
}
_FIELD_BY_NAME = {(f.line, f.name): f for fields in _FIELDS.values() for f in fields}

# Angle fields of line 2 and their allowed ranges in degrees (Kelso, TLE FAQ).
_ANGLE_LIMITS = {
    "inclination": (0.0, 180.0),
    "right ascension of the ascending node": (0.0, 360.0),
    "argument of perigee": (0.0, 360.0),
    "mean anomaly": (0.0, 360.0),
}


# --------------------------------------------------------------------------------------------------------------
# ElementSet


@dataclass(frozen=True)
class ElementSet:
    """One validated set of SGP4 mean elements, from a TLE or an OMM record.

    Attributes:
        name: object name (3-line TLE name line, OMM OBJECT_NAME), stripped; None when absent.
        satnum: NORAD catalogue number (Alpha-5 numbers decoded, e.g. 'A0001' -> 100001).
        epoch_utc: epoch of the elements as ``datetime64[ns]``, UTC.
        line1, line2: the TLE lines normalised to the standard form (legacy '+' signs and zero padding
            replaced by spaces; 69 columns; checksum unchanged); None for OMM input.
        omm: the OMM fields as text (read-only mapping); None for TLE input.
        source: where the set came from: file name or '<text>', with ':line' (TLE, line number of line 1)
            or ' record N' (OMM, 1-based).
    """

    name: str | None
    satnum: int
    epoch_utc: np.datetime64
    line1: str | None = None
    line2: str | None = None
    omm: Mapping[str, str] | None = field(default=None, hash=False)  # a mapping is not hashable
    source: str | None = None

    def satrec(self) -> Satrec:
        """Return a fresh ``sgp4.api.Satrec`` for these elements (WGS72 constants, as SGP4 element sets assume).

        TLE input goes through ``Satrec.twoline2rv(line1, line2, WGS72)``; OMM input through
        ``sgp4.omm.initialize``. A new object is returned on each call, so callers may keep it.

        Returns:
            Satrec: ready to propagate with ``sgp4`` / ``sgp4_array``.

        Raises:
            ElementSetError: if SGP4 rejects the elements at initialisation (its error code is named).
        """
        if self.line1 is not None and self.line2 is not None:
            sat = Satrec.twoline2rv(self.line1, self.line2, WGS72)
        elif self.omm is not None:
            fields = dict(_OMM_DEFAULTS)
            fields.update(self.omm)
            # sgp4.omm.initialize reads EPOCH with '%Y-%m-%dT%H:%M:%S.%f': hand it that exact form.
            fields["EPOCH"] = self.with_epoch_text()[:-1]
            sat = Satrec()
            _sgp4_omm.initialize(sat, fields, WGS72)
        else:
            raise ElementSetError(
                f"the element set from {self.source or _TEXT_SOURCE} has neither TLE lines nor OMM fields; "
                "fix: build element sets with parse_tle, parse_omm or load_element_file."
            )
        if sat.error:
            raise ElementSetError(
                f"sgp4 rejected the element set from {self.source or _TEXT_SOURCE} (epoch "
                f"{self.with_epoch_text()}) with error code {sat.error} ({_SGP4_ERRORS.get(sat.error, 'unknown')}); "
                "fix: check the eccentricity and mean motion, or use another set."
            )
        return sat

    def with_epoch_text(self) -> str:
        """Return the epoch as ISO-8601 UTC text with microseconds, e.g. '2017-01-01T02:33:30.000320Z'."""
        return str(np.datetime_as_string(self.epoch_utc, unit="us")) + "Z"


_SGP4_ERRORS = {
    1: "mean elements: eccentricity outside 0..1 or semi-major axis below 0.95 Earth radii",
    2: "mean motion below zero",
    3: "perturbed eccentricity outside 0..1",
    4: "semi-latus rectum below zero",
    6: "orbit decayed",
}


# --------------------------------------------------------------------------------------------------------------
# TLE


def _checksum(line: str) -> int:
    """Return the modulo-10 tally of a TLE line's first 68 columns: digits count their value, '-' counts 1."""
    total = 0
    for ch in line[:68]:
        if "0" <= ch <= "9":
            total += ord(ch) - 48
        elif ch == "-":
            total += 1
    return total % 10


def _template_block(number: int, line: str, first: int | None = None, last: int | None = None) -> str:
    """Return the 'expected/got' block shown under a line-level error, with an optional ^^^ marker."""
    block = f"\n    expected: {_TEMPLATE[number]}\n    got:      {line}"
    if first is not None:
        last = first if last is None else last
        block += "\n              " + " " * (first - 1) + "^" * (last - first + 1)
    return block


def _where(number: int, src: str) -> str:
    return f"line {number} of the set at {src}"


def _check_characters(number: int, line: str, src: str) -> None:
    for col, ch in enumerate(line, start=1):
        if not (" " <= ch <= "~"):
            uname = unicodedata.name(ch, "control character")
            kind = "non-ASCII" if ord(ch) > 127 else "non-printing"
            raise ElementSetError(
                f"{_where(number, src)} contains the {kind} character {ch!r} (U+{ord(ch):04X} {uname}) "
                f"at column {col}; TLE lines are plain ASCII."
                + _template_block(number, line.encode("ascii", "replace").decode(), col)
                + "\nfix: retype that character as its ASCII equivalent (a plain '-', space or digit); "
                "word processors and web pages often substitute dashes and spaces."
            )


def _check_length(number: int, line: str, src: str) -> None:
    if len(line) != _TLE_LENGTH:
        raise ElementSetError(
            f"{_where(number, src)} has {len(line)} characters; a TLE line has exactly {_TLE_LENGTH}."
            + _template_block(number, line)
            + "\nfix: check that the line was not wrapped or truncated when copied."
        )


def _check_line_number(number: int, line: str, src: str, detail: str = "") -> None:
    if line[:1] != str(number) or line[1:2] != " ":
        raise ElementSetError(
            f"{_where(number, src)} starts with {line[:2]!r}; line {number} of a TLE starts with "
            f"'{number} '{detail}."
            + _template_block(number, line, 1, 2)
            + "\nfix: put line 1 (starting '1 ') directly above line 2 (starting '2 '), "
            "each set optionally preceded by one name line."
        )


def _field_error(fld: _Field, line: str, src: str, reason: str) -> ElementSetError:
    return ElementSetError(
        f"the {fld.name} field (columns {fld.first}-{fld.last}) of {_where(fld.line, src)} reads "
        f"{fld.text(line)!r}, {reason}."
        + _template_block(fld.line, line, fld.first, fld.last)
        + f"\nfix: recopy the line from its source; the {fld.name} must sit in columns {fld.first}-{fld.last} "
        f"as {fld.form}."
    )


def _check_fields(number: int, line: str, src: str) -> None:
    for col in _SEPARATORS[number]:
        if line[col - 1] != " ":
            raise ElementSetError(
                f"column {col} of {_where(number, src)} holds {line[col - 1]!r} where a TLE has a space "
                "between fields, so the fields are shifted."
                + _template_block(number, line, col)
                + "\nfix: recopy the line from its source, keeping every field in its columns "
                "(spaces matter in a TLE)."
            )
    for fld in _FIELDS[number]:
        if not re.fullmatch(fld.pattern, fld.text(line)):
            raise _field_error(fld, line, src, f"which is not of the form {fld.form}")


def _check_checksum(number: int, line: str, src: str) -> None:
    digit = line[68]
    tally = _checksum(line)
    if not digit.isdigit():
        raise ElementSetError(
            f"{_where(number, src)} has {digit!r} in column 69, where the checksum digit goes; "
            f"the line tallies to {tally}."
            + _template_block(number, line, 69)
            + f"\nfix: recopy the line from its source (the checksum of the line as given would be {tally})."
        )
    if int(digit) != tally:
        raise ElementSetError(
            f"{_where(number, src)} fails its checksum: the checksum digit is {digit} but the line tallies "
            f"to {tally} (digits count their value, '-' counts 1, modulo 10)."
            + _template_block(number, line, 69)
            + "\nfix: a character was probably mistyped or changed; recopy the line from its source "
            f"(if you edited it on purpose, set column 69 to {tally})."
        )


def _decode_satnum(text: str) -> int:
    text = text.strip()
    if text[:1].isalpha():
        # Alpha-5 (Space-Track): A=10 ... Z=33, skipping I and O; 'A0001' -> 100001.
        c = text[0]
        value = ord(c) - ord("A") + 10 - (c > "I") - (c > "O")
        return value * 10000 + int(text[1:])
    return int(text)


def _epoch_from_tle(line1: str, src: str) -> np.datetime64:
    """Return the epoch of line 1 as exact integer nanoseconds (datetime64[ns], UTC)."""
    fld = _FIELD_BY_NAME[(1, "epoch")]
    text = fld.text(line1)
    yy = int(text[:2])
    # Two-digit year convention of the TLE format (Kelso): 57-99 -> 19xx, 00-56 -> 20xx.
    year = 1900 + yy if yy >= 57 else 2000 + yy
    day_text, frac_text = text[2:].split(".")
    day = int(day_text)
    leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
    days_in_year = 366 if leap else 365
    if not 1 <= day <= days_in_year:
        raise _field_error(
            fld, line1, src, f"whose day of year {day} lies outside 1-{days_in_year} for {year}"
        )
    # Exact: the fraction has 8 digits, and 86400e9 ns / 1e8 = 864000 ns per unit of the last digit.
    frac_ns = int(frac_text) * _NS_PER_DAY // 10 ** len(frac_text)
    start = np.datetime64(f"{year:04d}-01-01", "ns")
    return start + np.timedelta64((day - 1) * _NS_PER_DAY + frac_ns, "ns")


def _check_ranges(line2: str, src: str) -> None:
    for name, (lo, hi) in _ANGLE_LIMITS.items():
        fld = _FIELD_BY_NAME[(2, name)]
        value = float(fld.text(line2))
        if not lo <= value <= hi:
            raise _field_error(fld, line2, src, f"an angle of {value:g} degrees, outside {lo:g}-{hi:g}")
    mm = _FIELD_BY_NAME[(2, "mean motion")]
    if float(mm.text(line2)) <= 0.0:
        raise _field_error(mm, line2, src, "but the mean motion must be above zero revolutions per day")


def _normalise_line1(line: str) -> str:
    """Replace the legacy '+' mantissa signs (columns 34, 45, 54) by spaces; the checksum is unchanged."""
    chars = list(line)
    for col in (34, 45, 54):
        if chars[col - 1] == "+":
            chars[col - 1] = " "
    return "".join(chars)


def _normalise_line2(line: str) -> str:
    """Replace leading zeros of the angle and mean-motion fields by spaces (legacy zero padding).

    Zeros and spaces both count 0 in the checksum, so column 69 stays valid.
    """
    out = line
    for name in ("inclination", "right ascension of the ascending node", "argument of perigee",
                 "mean anomaly", "mean motion"):
        fld = _FIELD_BY_NAME[(2, name)]
        text = fld.text(out)
        integer, _, decimals = text.partition(".")
        stripped = integer.lstrip(" 0") or "0"
        text = stripped.rjust(len(integer)) + "." + decimals
        out = out[: fld.first - 1] + text + out[fld.last :]
    return out


def _make_tle_set(name: str | None, line1: str, line2: str, src: str) -> ElementSet:
    for number, line in ((1, line1), (2, line2)):
        _check_characters(number, line, src)
        _check_length(number, line, src)
        _check_line_number(number, line, src)
        _check_fields(number, line, src)
        _check_checksum(number, line, src)
    sat1 = _decode_satnum(line1[2:7])
    sat2 = _decode_satnum(line2[2:7])
    if sat1 != sat2:
        raise ElementSetError(
            f"line 1 of the set at {src} is for satellite {line1[2:7].strip()} but line 2 is for satellite "
            f"{line2[2:7].strip()} (columns 3-7).\n    line 1:   {line1}\n    line 2:   {line2}\n"
            "fix: the two lines come from different sets; take line 1 and line 2 from the same set."
        )
    _check_ranges(line2, src)
    epoch = _epoch_from_tle(line1, src)
    return ElementSet(
        name=name,
        satnum=sat1,
        epoch_utc=epoch,
        line1=_normalise_line1(line1),
        line2=_normalise_line2(line2),
        omm=None,
        source=src,
    )


def _looks_like(line: str, number: int) -> bool:
    """Return True when `line` is meant as TLE line `number` ('1 ...' or a long line starting with the digit)."""
    return line.startswith(f"{number} ") or (line.startswith(str(number)) and len(line) >= 60)


def _content_lines(text: str) -> list[tuple[int, str]]:
    """Return (1-based line number, line) for every non-blank, non-comment line; CRLF and trailing blanks go."""
    text = text.lstrip("\ufeff")
    out = []
    for i, raw in enumerate(text.splitlines(), start=1):
        line = raw.rstrip()
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        out.append((i, line))
    return out


def parse_tle(text: str, *, source: str | None = None) -> list[ElementSet]:
    """Return the element sets in two-line or three-line TLE text, validated.

    Accepts 2-line sets, 3-line sets (a name line above line 1, optionally written '0 NAME' as Space-Track
    does), the legacy variant with explicit '+' signs and zero-padded fields, '#' comment lines, blank lines and
    CRLF line ends. Each set's lines are checked for non-ASCII characters, length (69), line numbers, field
    formats, checksum and matching satellite numbers before anything is propagated.

    Args:
        text: the TLE text.
        source: a label for messages and ``ElementSet.source`` (a file name); '<text>' when None.

    Returns:
        list[ElementSet]: in the order of the text.

    Raises:
        ElementSetError: for the first problem found, with the expected column template and the fix.
    """
    src = source or _TEXT_SOURCE
    lines = _content_lines(text)
    sets: list[ElementSet] = []
    i = 0
    name: str | None = None
    name_line = ""
    name_at: int | None = None
    while i < len(lines):
        lineno, line = lines[i]
        nxt = lines[i + 1] if i + 1 < len(lines) else None
        if _looks_like(line, 1):
            where = f"{src}:{lineno}"
            if nxt is not None and not _looks_like(nxt[1], 2) and not _looks_like(nxt[1], 1) \
                    and len(nxt[1]) >= 60:
                # A full-length line follows, but its column 1 does not say '2'.
                _check_characters(2, nxt[1], where)
                _check_line_number(2, nxt[1], where, ", directly below line 1")
            if nxt is None or not _looks_like(nxt[1], 2):
                # A wrapped or truncated line 1 explains a "missing" line 2 better: report that first.
                _check_characters(1, line, where)
                _check_length(1, line, where)
                after = "the end of the text" if nxt is None else f"{nxt[1]!r} ({src}:{nxt[0]})"
                raise ElementSetError(
                    f"line 1 of the set at {where} has no line 2 after it: it is followed by {after}."
                    + _template_block(2, "(missing)")
                    + "\nfix: add the set's line 2 (starting '2 ') directly below line 1, or remove the "
                    "incomplete set."
                )
            sets.append(_make_tle_set(name, line, nxt[1], where))
            name, name_at = None, None
            i += 2
            continue
        if _looks_like(line, 2):
            raise ElementSetError(
                f"line 2 at {src}:{lineno} has no line 1 before it"
                + (f" (the line before it is {lines[i - 1][1]!r})" if i > 0 else "")
                + "."
                + _template_block(2, line, 1)
                + "\nfix: put line 1 (starting '1 ') directly above line 2; if the lines are swapped, swap "
                "them back."
            )
        # A name line: must be followed by line 1, unless it is a mis-numbered line 1 itself.
        if name is not None:
            raise ElementSetError(
                f"the line {name_line!r} at {src}:{name_at} is followed by another non-TLE line {line!r} "
                f"at {src}:{lineno}; only one name line may precede a set."
                + "\nfix: remove stray text, or prefix it with '#' to make it a comment."
            )
        if nxt is not None and _looks_like(nxt[1], 2) and len(line) >= 60:
            _check_characters(1, line, f"{src}:{lineno}")
            _check_line_number(1, line, f"{src}:{lineno}")
        if nxt is None:
            raise ElementSetError(
                f"the last line {line!r} at {src}:{lineno} is neither a TLE line nor followed by one."
                + "\nfix: complete the set with its line 1 and line 2, or prefix the line with '#' to make it "
                "a comment."
            )
        name_line = line
        name = line.strip()
        if name.startswith("0 "):
            name = name[2:].strip()
        name = name or None
        name_at = lineno
        i += 1
    if not sets:
        raise ElementSetError(
            f"no TLE sets were found in {src}.\n"
            "fix: pass text holding line 1 and line 2 of at least one set (an OMM file is also accepted by "
            "parse_element_sets)."
        )
    return sets


# --------------------------------------------------------------------------------------------------------------
# OMM

_OMM_REQUIRED = (
    "EPOCH",
    "MEAN_MOTION",
    "ECCENTRICITY",
    "INCLINATION",
    "RA_OF_ASC_NODE",
    "ARG_OF_PERICENTER",
    "MEAN_ANOMALY",
    "NORAD_CAT_ID",
    "BSTAR",
    "MEAN_MOTION_DOT",
    "MEAN_MOTION_DDOT",
)
_OMM_FLOATS = (
    "MEAN_MOTION",
    "ECCENTRICITY",
    "INCLINATION",
    "RA_OF_ASC_NODE",
    "ARG_OF_PERICENTER",
    "MEAN_ANOMALY",
    "BSTAR",
    "MEAN_MOTION_DOT",
    "MEAN_MOTION_DDOT",
)
_OMM_INTS = ("NORAD_CAT_ID", "EPHEMERIS_TYPE", "ELEMENT_SET_NO", "REV_AT_EPOCH")
# Defaults for the fields sgp4.omm.initialize reads but that do not change the orbit.
_OMM_DEFAULTS = {
    "OBJECT_ID": "",
    "CLASSIFICATION_TYPE": "U",
    "EPHEMERIS_TYPE": "0",
    "ELEMENT_SET_NO": "999",
    "REV_AT_EPOCH": "0",
}
# Metadata values that must hold for SGP4 mean elements (CCSDS 502.0-B-3 section 4.2), when present.
_OMM_EXPECTED_META = {
    "TIME_SYSTEM": ("UTC",),
    "MEAN_ELEMENT_THEORY": ("SGP4", "SGP/SGP4"),
    "REF_FRAME": ("TEME",),
    "CENTER_NAME": ("EARTH",),
}
_OMM_EPOCH_RE = re.compile(
    r"(?P<date>\d{4}-\d{2}-\d{2}|\d{4}-\d{3})T(?P<h>\d{2}):(?P<m>\d{2}):(?P<s>\d{2})(?:\.(?P<f>\d+))?Z?"
)
_CSV_HINTS = ("NORAD_CAT_ID", "MEAN_MOTION", "EPOCH")


def _omm_epoch(text: str, where: str) -> np.datetime64:
    m = _OMM_EPOCH_RE.fullmatch(text.strip())
    if not m:
        raise ElementSetError(
            f"the OMM field EPOCH of the record at {where} is {text!r}, which is not an ISO-8601 UTC time.\n"
            "fix: write it as YYYY-MM-DDThh:mm:ss.ffffff (or YYYY-DDDThh:mm:ss.ffffff), e.g. "
            "'2024-01-18T10:29:15.092064'."
        )
    date = m["date"]
    try:
        if len(date) == 8:  # YYYY-DDD (day of year)
            year, doy = int(date[:4]), int(date[5:])
            day0 = np.datetime64(f"{year:04d}-01-01", "D")
            if not 1 <= doy <= 366 or (day0 + np.timedelta64(doy - 1, "D")).astype(object).year != year:
                raise ValueError(doy)
            base = (day0 + np.timedelta64(doy - 1, "D")).astype("datetime64[ns]")
        else:
            base = np.datetime64(date, "D").astype("datetime64[ns]")
            if str(np.datetime64(date, "D")) != date:
                raise ValueError(date)
        h, mi, s = int(m["h"]), int(m["m"]), int(m["s"])
        if h > 23 or mi > 59 or s > 60:
            raise ValueError((h, mi, s))
    except ValueError:
        raise ElementSetError(
            f"the OMM field EPOCH of the record at {where} is {text!r}, which names no real date and time.\n"
            "fix: check the date (month 1-12, day within the month) and the time (hours 0-23)."
        ) from None
    frac = m["f"] or "0"
    # Round to whole nanoseconds, exactly, in integers.
    frac_ns = (int(frac) * 10**9 * 2 // 10 ** len(frac) + 1) // 2
    return base + np.timedelta64((h * 3600 + mi * 60 + s) * 10**9 + frac_ns, "ns")


def _make_omm_set(record: Mapping[str, object], where: str) -> ElementSet:
    fields: dict[str, str] = {}
    for key, value in record.items():
        if value is None or isinstance(value, (dict, list)):
            continue
        text = str(value).strip()
        if text:
            fields[str(key).strip().upper()] = text
    missing = [k for k in _OMM_REQUIRED if k not in fields]
    if missing:
        raise ElementSetError(
            f"the OMM record at {where} lacks the required field{'s' if len(missing) > 1 else ''} "
            f"{', '.join(missing)} (it has: {', '.join(fields) or 'no fields'}).\n"
            "fix: export full GP/OMM records (CelesTrak or Space-Track 'gp' class), which carry every mean "
            "element and the TLE parameters BSTAR, MEAN_MOTION_DOT and MEAN_MOTION_DDOT."
        )
    for key, allowed in _OMM_EXPECTED_META.items():
        if key in fields and fields[key].upper() not in allowed:
            raise ElementSetError(
                f"the OMM record at {where} has {key} {fields[key]!r}, but cupola propagates SGP4 mean elements, "
                f"which need {key} {allowed[0]!r}.\n"
                "fix: use a GP/OMM record made for SGP4 (CelesTrak or Space-Track), not another theory or frame."
            )
    for key in _OMM_FLOATS:
        try:
            value = float(fields[key])
        except ValueError:
            value = math.nan
        if not math.isfinite(value):
            raise ElementSetError(
                f"the OMM field {key} of the record at {where} is {fields[key]!r}, which is not a finite number.\n"
                f"fix: write {key} as a decimal number, e.g. '0.0004949' or '3.8757E-4'."
            )
    for key in _OMM_INTS:
        if key in fields and not re.fullmatch(r"[+-]?\d+", fields[key]):
            raise ElementSetError(
                f"the OMM field {key} of the record at {where} is {fields[key]!r}, which is not a whole number.\n"
                f"fix: write {key} as digits only, e.g. '25544'."
            )
    checks = (
        ("ECCENTRICITY", "0 <= e < 1", lambda v: 0.0 <= v < 1.0),
        ("MEAN_MOTION", "above 0 revolutions per day", lambda v: v > 0.0),
        ("INCLINATION", "0-180 degrees", lambda v: 0.0 <= v <= 180.0),
    )
    for key, words, ok in checks:
        if not ok(float(fields[key])):
            raise ElementSetError(
                f"the OMM field {key} of the record at {where} is {fields[key]!r}, outside {words}.\n"
                "fix: check the record; these values cannot describe an orbit SGP4 can propagate."
            )
    satnum = int(fields["NORAD_CAT_ID"])
    if satnum < 0:
        raise ElementSetError(
            f"the OMM field NORAD_CAT_ID of the record at {where} is {fields['NORAD_CAT_ID']!r}, below zero.\n"
            "fix: give the NORAD catalogue number, e.g. '25544' for the ISS."
        )
    epoch = _omm_epoch(fields["EPOCH"], where)
    return ElementSet(
        name=fields.get("OBJECT_NAME"),
        satnum=satnum,
        epoch_utc=epoch,
        line1=None,
        line2=None,
        omm=MappingProxyType(fields),
        source=where,
    )


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _omm_json_records(text: str, src: str) -> list[Mapping[str, object]]:
    try:
        # Keep numbers as their text so nothing is rounded before sgp4 reads it.
        data = json.loads(text, parse_float=str, parse_int=str)
    except json.JSONDecodeError as exc:
        raise ElementSetError(
            f"the OMM JSON in {src} does not parse: {exc.msg} at line {exc.lineno}, column {exc.colno}.\n"
            "fix: check the file is complete JSON: one object or a list of objects with OMM keys."
        ) from None
    records = [data] if isinstance(data, dict) else data
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise ElementSetError(
            f"the OMM JSON in {src} is a {type(data).__name__}, not an object or a list of objects.\n"
            "fix: pass CelesTrak/Space-Track GP JSON: a list of objects such as {\"OBJECT_NAME\": ...}."
        )
    return records


def _omm_xml_records(text: str, src: str) -> list[Mapping[str, object]]:
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        line, col = exc.position
        raise ElementSetError(
            f"the OMM XML in {src} does not parse: {exc.msg if hasattr(exc, 'msg') else exc} "
            f"(line {line}, column {col}).\n"
            "fix: check the file is complete XML in the CCSDS NDM/OMM layout (<ndm><omm>...</omm></ndm>)."
        ) from None
    records = []
    for segment in (el for el in root.iter() if _local(el.tag) == "segment"):
        fields: dict[str, object] = {}
        for block in segment.iter():
            if _local(block.tag) in ("metadata", "meanElements", "tleParameters"):
                for child in block:
                    if len(child) == 0:
                        fields[_local(child.tag)] = child.text
        records.append(fields)
    if not records:
        raise ElementSetError(
            f"the XML in {src} holds no OMM <segment> (root element <{_local(root.tag)}>).\n"
            "fix: pass CCSDS NDM/OMM XML: <ndm><omm><body><segment><metadata>, <data><meanElements>, "
            "<tleParameters> as CelesTrak and Space-Track write it."
        )
    return records


def _omm_csv_records(text: str, src: str) -> list[Mapping[str, object]]:
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    rows = [row for row in reader if any(cell.strip() for cell in row)]
    if not rows:
        return []
    header = [h.strip().strip('"').upper() for h in rows[0]]
    if "EPOCH" not in header:
        raise ElementSetError(
            f"the OMM CSV in {src} has no EPOCH column in its header row {','.join(header)!r}.\n"
            "fix: the first row must name the columns: OBJECT_NAME,OBJECT_ID,EPOCH,MEAN_MOTION,...,"
            "MEAN_MOTION_DDOT, as CelesTrak and Space-Track write them."
        )
    records = []
    for index, row in enumerate(rows[1:], start=1):
        if len(row) != len(header):
            raise ElementSetError(
                f"row {index} of the OMM CSV in {src} has {len(row)} values but the header names {len(header)} "
                "columns.\nfix: check for a missing or extra comma, or an unquoted comma inside a name."
            )
        records.append(dict(zip(header, row)))
    return records


def _detect(text: str) -> str:
    """Return 'json', 'xml', 'csv' or 'tle' from the first meaningful characters of `text`."""
    body = text.lstrip("\ufeff \t\r\n")
    if body[:1] in ("{", "["):
        return "json"
    if body[:1] == "<":
        return "xml"
    for _lineno, line in _content_lines(text):
        upper = line.upper()
        if "," in line and any(h in upper for h in _CSV_HINTS):
            return "csv"
        break
    return "tle"


def parse_omm(text: str, *, source: str | None = None) -> list[ElementSet]:
    """Return the element sets in OMM text: JSON, CCSDS NDM/OMM XML or CSV (detected from the text).

    Accepts CelesTrak and Space-Track GP output: JSON (a list of objects or one object; numbers or strings),
    XML (``<omm>`` elements inside ``<ndm>``; namespaces ignored; fields from ``<metadata>``,
    ``<meanElements>``, ``<tleParameters>``) and CSV (a header row of OMM keywords).

    Args:
        text: the OMM text.
        source: a label for messages and ``ElementSet.source`` (a file name); '<text>' when None.

    Returns:
        list[ElementSet]: in record order; ``source`` reads '<source> record N' (1-based).

    Raises:
        ElementSetError: if the text does not parse, a required field is missing, or a value is unusable.
    """
    src = source or _TEXT_SOURCE
    kind = _detect(text)
    if kind == "json":
        records = _omm_json_records(text, src)
    elif kind == "xml":
        records = _omm_xml_records(text, src)
    elif kind == "csv":
        records = _omm_csv_records(text, src)
    else:
        start = text.lstrip()[:40]
        raise ElementSetError(
            f"the text in {src} is not OMM JSON, XML or CSV (it starts {start!r}).\n"
            "fix: pass OMM as JSON ('[{...}]'), CCSDS XML ('<ndm>...') or CSV with a header row; for TLE text use "
            "parse_tle or parse_element_sets."
        )
    if not records:
        raise ElementSetError(
            f"no OMM records were found in {src}.\n"
            "fix: pass a file holding at least one OMM record."
        )
    return [_make_omm_set(rec, f"{src} record {i}") for i, rec in enumerate(records, start=1)]


def parse_element_sets(text: str, *, source: str | None = None) -> list[ElementSet]:
    """Return the element sets in `text`, detecting TLE or OMM (JSON, XML, CSV) from its first characters.

    Args:
        text: TLE or OMM text.
        source: a label for messages and ``ElementSet.source``; '<text>' when None.

    Returns:
        list[ElementSet]: in the order of the text.

    Raises:
        ElementSetError: as :func:`parse_tle` or :func:`parse_omm`.
    """
    if _detect(text) == "tle":
        return parse_tle(text, source=source)
    return parse_omm(text, source=source)


def load_element_file(path: str | os.PathLike) -> list[ElementSet]:
    """Return the element sets in the TLE or OMM file at `path` (format detected from the content).

    Args:
        path: the file to read (UTF-8; a byte-order mark is ignored).

    Returns:
        list[ElementSet]: with ``source`` naming the file (and the line or record).

    Raises:
        DataMissingError: if the file does not exist.
        ElementSetError: if it holds no valid element sets.
    """
    name = os.fspath(path)
    try:
        raw = open(name, "rb").read()
    except FileNotFoundError:
        raise DataMissingError(
            f"the element file {name!r} does not exist.\n"
            "fix: check the path, or leave the file out to use the ISS history bundled with cupola."
        ) from None
    except IsADirectoryError:
        raise ElementSetError(
            f"the element file {name!r} is a directory.\nfix: pass the path of a TLE or OMM file inside it."
        ) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        # Decode byte for byte so the TLE checks can name the offending character and its column.
        text = raw.decode("latin-1")
    return parse_element_sets(text, source=name)


# --------------------------------------------------------------------------------------------------------------
# Archive


@dataclass(frozen=True)
class ElementArchive:
    """One satellite's element sets, sorted by epoch, able to pick the set nearest each instant.

    Build it with :meth:`from_sets`, which sorts, drops exact duplicate epochs (keeping the first given) and
    checks that all sets are for one satellite.

    Attributes:
        sets: the element sets, sorted by epoch, epochs distinct.
    """

    sets: tuple[ElementSet, ...]
    _epochs_ns: np.ndarray = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        epochs = np.array([s.epoch_utc for s in self.sets], dtype="datetime64[ns]").reshape(len(self.sets))
        if epochs.size > 1 and not np.all(epochs[1:] > epochs[:-1]):
            raise ElementSetError(
                "the element sets given to ElementArchive are not in strictly increasing epoch order.\n"
                "fix: build the archive with ElementArchive.from_sets(sets), which sorts them and drops "
                "duplicate epochs."
            )
        epochs.flags.writeable = False
        object.__setattr__(self, "_epochs_ns", epochs)

    @classmethod
    def from_sets(cls, sets: Iterable[ElementSet]) -> ElementArchive:
        """Return an archive of `sets`, sorted by epoch, exact duplicate epochs removed (the first kept).

        Args:
            sets: element sets of one satellite (any order).

        Raises:
            ElementSetError: if `sets` is empty or holds several satellite numbers.
        """
        sets = list(sets)
        if not sets:
            raise ElementSetError(
                "an element archive needs at least one element set, but none were given.\n"
                "fix: pass the sets from parse_element_sets or load_element_file, or use bundled_archive()."
            )
        numbers = sorted({s.satnum for s in sets})
        if len(numbers) > 1:
            counts = {n: sum(1 for s in sets if s.satnum == n) for n in numbers}
            listed = ", ".join(f"{n} ({counts[n]} set{'s' if counts[n] > 1 else ''})" for n in numbers)
            raise ElementSetError(
                f"the element sets are for {len(numbers)} satellites: {listed}; an archive holds one satellite.\n"
                "fix: pass one satellite's sets only, e.g. [s for s in sets if s.satnum == 25544]."
            )
        # sorted() is stable, so among equal epochs the set given first stays first.
        ordered = sorted(sets, key=lambda s: s.epoch_utc.astype("datetime64[ns]").astype(np.int64))
        kept = [ordered[0]]
        for s in ordered[1:]:
            if s.epoch_utc == kept[-1].epoch_utc:
                logger.info(
                    "dropping the element set from %s: same epoch %s as the set from %s",
                    s.source, s.with_epoch_text(), kept[-1].source,
                )
                continue
            kept.append(s)
        return cls(tuple(kept))

    @property
    def epochs_utc(self) -> np.ndarray:
        """Return the epochs of the sets, ``datetime64[ns]`` UTC, shape (n,), read-only."""
        return self._epochs_ns

    def __len__(self) -> int:
        return len(self.sets)

    def nearest(self, t_utc: np.ndarray) -> np.ndarray:
        """Return the index of the set whose epoch is nearest each instant of `t_utc`.

        Vectorised with ``np.searchsorted``; an instant exactly halfway between two epochs takes the earlier
        set. Instants before the first or after the last epoch take the first or last set. NaT gives -1.

        Args:
            t_utc: instants as numpy datetime64 (any unit, taken as UTC) or anything ``np.asarray`` turns into
                datetime64 (ISO text); scalar or any shape.

        Returns:
            np.ndarray: ``intp`` indices into ``sets``, same shape as `t_utc`.

        Raises:
            TimeInputError: if `t_utc` is not datetime64 (e.g. floats or timezone-aware datetimes).
        """
        arr = np.asarray(t_utc)
        if arr.dtype.kind != "M":
            try:
                if arr.dtype.kind not in "USO":
                    raise TypeError(arr.dtype)  # numbers have no unit or origin: refuse them
                arr = arr.astype("datetime64[ns]")
            except (ValueError, TypeError):
                raise TimeInputError(
                    f"ElementArchive.nearest needs numpy datetime64 times (UTC), not {arr.dtype} "
                    f"(e.g. {arr.ravel()[:1].tolist()}).\n"
                    "fix: convert times first, e.g. np.datetime64('2024-01-20T12:00:00', 'ns')."
                ) from None
        t = arr.astype("datetime64[ns]").astype(np.int64).ravel()
        e = self._epochs_ns.astype(np.int64)
        n = e.size
        j = np.searchsorted(e, t, side="left")  # e[j-1] < t <= e[j]
        lo = np.clip(j - 1, 0, n - 1)
        hi = np.clip(j, 0, n - 1)
        # Where lo < hi, e[lo] < t <= e[hi], so both gaps are non-negative and bounded: no int64 overflow.
        between = lo < hi
        d_lo = np.where(between, t - e[lo], 0)
        d_hi = np.where(between, e[hi] - t, 0)
        idx = np.where(between & (d_hi < d_lo), hi, lo)
        idx = np.where(t == np.iinfo(np.int64).min, -1, idx)  # NaT
        return idx.astype(np.intp).reshape(arr.shape)


@functools.cache
def bundled_archive() -> ElementArchive:
    """Return the ISS (NORAD 25544) element history shipped with cupola (loaded once, then cached).

    The sets cover 2017-01-01..2017-06-28 (one a day), 2021-05-01..02 and 2024-01-18..23; see the comments at
    the top of ``cupola/data/iss_tles.txt`` for their sources.

    Raises:
        DataMissingError: if the bundled file is missing from the installation.
    """
    from importlib.resources import files

    resource = files("cupola").joinpath("data/iss_tles.txt")
    try:
        text = resource.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DataMissingError(
            "the bundled element file cupola/data/iss_tles.txt is missing from the installation.\n"
            "fix: reinstall cupola (pip install --force-reinstall cupola), or pass your own file with --tle FILE."
        ) from None
    return ElementArchive.from_sets(parse_element_sets(text, source="cupola/data/iss_tles.txt"))
