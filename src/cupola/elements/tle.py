"""TLE parsing: two-line and three-line element sets, and the legacy variant with '+' signs and zero padding.

:func:`parse_tle` checks each set's lines for non-ASCII characters, length (69), line numbers, field formats
(the column template and field table below), checksum, matching satellite numbers and angle ranges, and
raises :class:`~cupola.errors.ElementSetError` for the first problem found, before anything is propagated.
The sets it returns are :class:`~cupola.elements.base.ElementSet` with normalised lines.

Sources for the format:
- TLE columns and checksum: CelesTrak "FAQs: Two-Line Element Set Format" (T.S. Kelso) and Vallado et al. 2006,
  "Revisiting Spacetrack Report #3", AIAA 2006-6753, appendix (the layout sgp4's ``twoline2rv`` reads).
- Alpha-5 satellite numbers: Space-Track.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import numpy as np

from ..errors import ElementSetError
from ..timebase import shown
from .base import _TEXT_SOURCE, ElementSet, _character_words, _control_character

_NS_PER_DAY = 86_400 * 10**9

# Column templates shown above a malformed line (N digit, C classification, A designator piece, +/- signs).
_TEMPLATE = {
    1: "1 NNNNNC NNNNNAAA NNNNN.NNNNNNNN +.NNNNNNNN +NNNNN-N +NNNNN-N N NNNNN",
    2: "2 NNNNN NNN.NNNN NNN.NNNN NNNNNNN NNN.NNNN NNN.NNNN NN.NNNNNNNNNNNNNN",
}
_TLE_LENGTH = 69
# How much of an over-long line the 'got:' row shows.
_SHOWN_COLUMNS = 80

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
    """Return the 'expected/got' block shown under a line-level error, with an optional ^^^ marker.

    The line is shown column for column, each character outside printable ASCII as '?', cut after
    ``_SHOWN_COLUMNS`` columns (the marker is left out when it would fall beyond them).
    """
    got = "".join(c if " " <= c <= "~" else "?" for c in line[:_SHOWN_COLUMNS])
    if len(line) > _SHOWN_COLUMNS:
        got += f"... ({len(line)} characters)"
        if first is not None and max(first, last or first) > _SHOWN_COLUMNS:
            first = None
    block = f"\n    expected: {_TEMPLATE[number]}\n    got:      {got}"
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
                + _template_block(number, line, col)
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
                after = "the end of the text" if nxt is None else f"{shown(nxt[1])} ({src}:{nxt[0]})"
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
                + (f" (the line before it is {shown(lines[i - 1][1])})" if i > 0 else "")
                + "."
                + _template_block(2, line, 1)
                + "\nfix: put line 1 (starting '1 ') directly above line 2; if the lines are swapped, swap "
                "them back."
            )
        # A name line: must be followed by line 1, unless it is a mis-numbered line 1 itself.
        if name is not None:
            raise ElementSetError(
                f"the line {shown(name_line)} at {src}:{name_at} is followed by another non-TLE line {shown(line)} "
                f"at {src}:{lineno}; only one name line may precede a set."
                + "\nfix: remove stray text, or prefix it with '#' to make it a comment."
            )
        if nxt is not None and _looks_like(nxt[1], 2) and len(line) >= 60:
            _check_characters(1, line, f"{src}:{lineno}")
            _check_line_number(1, line, f"{src}:{lineno}")
        if nxt is None:
            raise ElementSetError(
                f"the last line {shown(line)} at {src}:{lineno} is neither a TLE line nor followed by one."
                + "\nfix: complete the set with its line 1 and line 2, or prefix the line with '#' to make it "
                "a comment."
            )
        bad = _control_character(line)
        if bad is not None:
            raise ElementSetError(
                f"the name line {shown(line)} at {src}:{lineno} contains {_character_words(bad[1])} at column "
                f"{bad[0]}.\nfix: remove it, or retype the name (a name line holds the satellite's name as plain "
                "text)."
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
