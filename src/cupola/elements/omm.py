"""OMM parsing: CCSDS Orbit Mean-elements Messages as JSON, XML (NDM/OMM) or CSV.

:func:`parse_omm` detects the encoding from the text (:func:`_detect`, which also tells TLE text apart),
reads the records, checks the required fields, metadata and values, and returns
:class:`~cupola.elements.base.ElementSet` holding the OMM fields as text. Every problem raises
:class:`~cupola.errors.ElementSetError` before anything is propagated.

Sources for the format:
- OMM: CCSDS 502.0-B-3 "Orbit Data Messages" (OMM keywords, NDM/XML layout) and CelesTrak's
  "A New Way to Obtain GP Data" (JSON/CSV/XML field names).
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
import sys
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from types import MappingProxyType

import numpy as np

from ..errors import ElementSetError
from ..timebase import EARLIEST_UTC, LATEST_UTC, SUPPORTED_RANGE, shown
from .base import _TEXT_SOURCE, ElementSet, _character_words, _control_character
from .tle import _content_lines

# The six mean elements and the TLE parameters B*, mean-motion dot and ddot: numbers, all required (as are
# EPOCH and NORAD_CAT_ID).
_OMM_MEAN_ELEMENTS = (
    "MEAN_MOTION",
    "ECCENTRICITY",
    "INCLINATION",
    "RA_OF_ASC_NODE",
    "ARG_OF_PERICENTER",
    "MEAN_ANOMALY",
)
_OMM_TLE_TERMS = ("BSTAR", "MEAN_MOTION_DOT", "MEAN_MOTION_DDOT")
_OMM_REQUIRED = ("EPOCH", *_OMM_MEAN_ELEMENTS, "NORAD_CAT_ID", *_OMM_TLE_TERMS)
_OMM_FLOATS = _OMM_MEAN_ELEMENTS + _OMM_TLE_TERMS
# The whole-number fields: the values they may take, what the limit is, an example. NORAD_CAT_ID: sgp4 refuses
# numbers above 339999, the largest the TLE's five columns hold; the others are counters SGP4 keeps, bounded so
# that they fit its C integers.
_OMM_INTS = {
    "NORAD_CAT_ID": (0, 339_999, "the catalogue numbers SGP4 accepts (Alpha-5 'Z9999' is the largest)", "25544"),
    "EPHEMERIS_TYPE": (0, 9, "one digit, as in a TLE", "0"),
    "ELEMENT_SET_NO": (0, 999_999_999, "at most nine digits", "999"),
    "REV_AT_EPOCH": (0, 999_999_999, "at most nine digits", "43873"),
}
# Metadata values that must hold for SGP4 mean elements (CCSDS 502.0-B-3 section 4.2), when present.
_OMM_EXPECTED_META = {
    "TIME_SYSTEM": ("UTC",),
    "MEAN_ELEMENT_THEORY": ("SGP4", "SGP/SGP4"),
    "REF_FRAME": ("TEME",),
    "CENTER_NAME": ("EARTH",),
}
_OMM_EPOCH_RE = re.compile(
    r"(?P<date>\d{4}-\d{2}-\d{2}|\d{4}-\d{3})T(?P<h>\d{2}):(?P<m>\d{2}):(?P<s>\d{2})(?:\.(?P<f>\d+))?Z?",
    re.ASCII,
)
_CSV_HINTS = ("NORAD_CAT_ID", "MEAN_MOTION", "EPOCH")
# The first and last years of cupola's supported times (an epoch year outside them would wrap around in ns).
_EPOCH_YEARS = tuple(int(np.datetime_as_string(t, unit="Y")) for t in (EARLIEST_UTC, LATEST_UTC))


def _epoch_out_of_range(text: str, where: str) -> ElementSetError:
    return ElementSetError(
        f"the OMM field EPOCH of the record at {where} is {shown(text)}, outside the times cupola supports, "
        f"{SUPPORTED_RANGE}.\n"
        "fix: check the record's EPOCH; element sets are fitted to observations, so their epochs lie in the "
        "space age."
    )


def _omm_epoch(text: str, where: str) -> np.datetime64:
    m = _OMM_EPOCH_RE.fullmatch(text.strip())
    if not m:
        raise ElementSetError(
            f"the OMM field EPOCH of the record at {where} is {shown(text)}, which is not an ISO-8601 UTC time.\n"
            "fix: write it as YYYY-MM-DDThh:mm:ss.ffffff (or YYYY-DDDThh:mm:ss.ffffff), e.g. "
            "'2024-01-18T10:29:15.092064'."
        )
    date = m["date"]
    if not _EPOCH_YEARS[0] <= int(date[:4]) <= _EPOCH_YEARS[1]:
        raise _epoch_out_of_range(text, where)
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
            f"the OMM field EPOCH of the record at {where} is {shown(text)}, which names no real date and time.\n"
            "fix: check the date (month 1-12, day within the month) and the time (hours 0-23)."
        ) from None
    # Round to whole nanoseconds, exactly, in integers: the tenth decimal decides, later ones cannot.
    frac = (m["f"] or "0")[:10]
    frac_ns = (int(frac) * 10**9 * 2 // 10 ** len(frac) + 1) // 2
    epoch = base + np.timedelta64((h * 3600 + mi * 60 + s) * 10**9 + frac_ns, "ns")
    if epoch > LATEST_UTC:  # 2261-12-31T23:59:60: inside the year, past the range
        raise _epoch_out_of_range(text, where)
    return epoch


def _key_list(keys, most: int = 20) -> str:
    """Return up to `most` field names for a message, 'A, B, ... and N more'; odd names quoted and cut short."""
    keys = list(keys)
    names = [k if k.isprintable() and len(k) <= 40 else shown(k, 40) for k in keys[:most]]
    return ", ".join(names) + (f" and {len(keys) - most} more" if len(keys) > most else "")


def _omm_int(key: str, text: str, where: str) -> int:
    """Return whole-number field `key` of a record, checked against its limits in ``_OMM_INTS``."""
    lo, hi, limit, example = _OMM_INTS[key]
    if not re.fullmatch(r"[+-]?[0-9]+", text):
        raise ElementSetError(
            f"the OMM field {key} of the record at {where} is {shown(text)}, which is not a whole number.\n"
            f"fix: write {key} as digits only, e.g. '{example}'."
        )
    # Counted before int() sees it: int() refuses strings of over 4300 digits, and C integers hold 19.
    digits = text.lstrip("+-").lstrip("0") or "0"
    value = int(digits) * (-1 if text[0] == "-" else 1) if len(digits) <= len(str(hi)) else None
    if value is None or not lo <= value <= hi:
        raise ElementSetError(
            f"the OMM field {key} of the record at {where} is {shown(text)}, outside {lo}-{hi}, {limit}.\n"
            f"fix: check the record's {key}, e.g. '{example}'."
        )
    return value


def _make_omm_set(record: Mapping[str, object], where: str) -> ElementSet:
    fields: dict[str, str] = {}
    for key, value in record.items():
        if value is None or isinstance(value, (dict, list)):
            continue
        text = str(value).strip()
        if text:
            fields[str(key).strip().upper()] = text
    for key, text in fields.items():
        bad = _control_character(text)
        if bad is not None:
            raise ElementSetError(
                f"the OMM field {_key_list([key])} of the record at {where} is {shown(text)}, which contains "
                f"{_character_words(bad[1])}.\n"
                "fix: check the record; OMM values are plain text (names, numbers, dates)."
            )
    if not re.fullmatch(r"[A-Za-z]?", fields.get("CLASSIFICATION_TYPE", "")):
        raise ElementSetError(
            f"the OMM field CLASSIFICATION_TYPE of the record at {where} is {shown(fields['CLASSIFICATION_TYPE'])}, "
            "not one letter.\nfix: write the classification as one letter, e.g. 'U' (unclassified)."
        )
    missing = [k for k in _OMM_REQUIRED if k not in fields]
    if missing:
        raise ElementSetError(
            f"the OMM record at {where} lacks the required field{'s' if len(missing) > 1 else ''} "
            f"{', '.join(missing)} (it has: {_key_list(fields) or 'no fields'}).\n"
            "fix: export full GP/OMM records (CelesTrak or Space-Track 'gp' class), which carry every mean "
            "element and the TLE parameters BSTAR, MEAN_MOTION_DOT and MEAN_MOTION_DDOT."
        )
    for key, allowed in _OMM_EXPECTED_META.items():
        if key in fields and fields[key].upper() not in allowed:
            raise ElementSetError(
                f"the OMM record at {where} has {key} {shown(fields[key])}, but cupola propagates SGP4 mean elements, "
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
                f"the OMM field {key} of the record at {where} is {shown(fields[key])}, which is not a finite "
                "number.\n"
                f"fix: write {key} as a decimal number, e.g. '0.0004949' or '3.8757E-4'."
            )
    ints = {key: _omm_int(key, fields[key], where) for key in _OMM_INTS if key in fields}
    checks = (
        ("ECCENTRICITY", "0 <= e < 1", lambda v: 0.0 <= v < 1.0),
        ("MEAN_MOTION", "above 0 revolutions per day", lambda v: v > 0.0),
        ("INCLINATION", "0-180 degrees", lambda v: 0.0 <= v <= 180.0),
    )
    for key, words, ok in checks:
        if not ok(float(fields[key])):
            raise ElementSetError(
                f"the OMM field {key} of the record at {where} is {shown(fields[key])}, outside {words}.\n"
                "fix: check the record; these values cannot describe an orbit SGP4 can propagate."
            )
    epoch = _omm_epoch(fields["EPOCH"], where)
    return ElementSet(
        name=fields.get("OBJECT_NAME"),
        satnum=ints["NORAD_CAT_ID"],
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
    except RecursionError:
        raise ElementSetError(
            f"the OMM JSON in {src} nests arrays or objects more deeply than the JSON reader can follow (Python's "
            f"recursion limit, {sys.getrecursionlimit()} levels); OMM JSON is a list of flat objects, 2 levels.\n"
            "fix: pass CelesTrak/Space-Track GP JSON: a list of objects such as {\"OBJECT_NAME\": ...}."
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
    except UnicodeEncodeError as exc:  # the XML reader encodes the text as UTF-8, which a lone surrogate is not
        raise ElementSetError(
            f"the OMM XML in {src} holds {_character_words(text[exc.start])} at character {exc.start + 1}, which "
            "is not text.\nfix: pass the XML as it was read from its file (text decoded from UTF-8)."
        ) from None
    records = []
    for segment in (el for el in root.iter() if _local(el.tag) == "segment"):
        fields: dict[str, object] = {}
        # The blocks sit one or two levels down (<metadata>; <data><meanElements>): looking no deeper keeps the
        # work linear, where searching each segment's whole subtree made nested segments quadratic.
        for block in (b for child in segment for b in (child, *child)):
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
    try:
        rows = [row for row in reader if any(cell.strip() for cell in row)]
    except csv.Error as exc:
        limit = csv.field_size_limit()
        what = (f"has a field longer than the CSV reader's limit of {limit} characters" if "field limit" in str(exc)
                else f"cannot be read ({exc})")
        raise ElementSetError(
            f"line {reader.line_num} of the OMM CSV in {src} {what}.\n"
            "fix: check that the file is OMM CSV as CelesTrak and Space-Track write it: a header row, then one "
            "record a line, each field short."
        ) from None
    if not rows:
        return []
    header = [h.strip().strip('"').upper() for h in rows[0]]
    if "EPOCH" not in header:
        raise ElementSetError(
            f"the OMM CSV in {src} has no EPOCH column in its header row {shown(','.join(header))}.\n"
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
