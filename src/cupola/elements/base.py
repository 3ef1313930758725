"""ElementSet: one parsed, validated set of SGP4 mean elements (from a TLE or an OMM record), and the SGP4
error-code table.

An :class:`ElementSet` is the parsed, validated text of one set of mean elements; it builds an
``sgp4.api.Satrec`` on demand (``Satrec.twoline2rv`` for TLE lines, ``sgp4.omm.initialize`` for OMM fields).
The parsers that make element sets live in :mod:`cupola.elements.tle` and :mod:`cupola.elements.omm`.

:data:`SGP4_ERRORS` names the error codes SGP4 sets at initialisation and propagation; it is
``sgp4.api.SGP4_ERRORS`` (the library's own table, from Vallado's C++ SGP4) in readable words, plus 0 = ''.

Sources:
- sgp4 (Brandon Rhodes), ``sgp4.api.SGP4_ERRORS`` and ``sgp4.omm.initialize``; Vallado et al. 2006,
  "Revisiting Spacetrack Report #3", AIAA 2006-6753 (the error codes and the WGS72 constants).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
from sgp4 import omm as _sgp4_omm
from sgp4.api import SGP4_ERRORS as _LIBRARY_SGP4_ERRORS
from sgp4.api import WGS72, Satrec

from ..errors import ElementSetError

_TEXT_SOURCE = "<text>"


def _control_character(text: str) -> tuple[int, str] | None:
    """Return (1-based column, character) of the first control character (tab aside) or lone UTF-16 surrogate in
    `text`, or None. Names and OMM values holding one are refused: they are corrupt, and would reach terminals."""
    for col, ch in enumerate(text, start=1):
        if ch != "\t" and unicodedata.category(ch) in ("Cc", "Cs"):
            return col, ch
    return None


def _character_words(ch: str) -> str:
    """Return e.g. "the control character '\\x1b' (U+001B)" for a character `_control_character` found."""
    kind = "lone surrogate" if unicodedata.category(ch) == "Cs" else "control character"
    return f"the {kind} {ch!r} (U+{ord(ch):04X})"

# The library's wording, made readable: its variable names spelled out (nm: mean motion; mrt: the
# satellite's distance from the Earth's centre, in Earth radii), code 5's note as a sentence.
_READABLE = (
    ("nm is", "mean motion is"),
    ("semilatus", "semi-latus"),
    ("mrt is less than 1.0 which", "orbit radius is less than 1.0 Earth radii, which"),
    ("error 5 no longer", "error 5 is no longer"),
)


def _readable(text: str) -> str:
    text = text.strip().strip("()")
    for old, new in _READABLE:
        text = text.replace(old, new)
    return text


# SGP4 error code -> what it means ('' for 0, no error); from sgp4.api.SGP4_ERRORS.
SGP4_ERRORS = {0: "", **{int(k): _readable(v) for k, v in _LIBRARY_SGP4_ERRORS.items()}}

# Defaults for the fields sgp4.omm.initialize reads but that do not change the orbit.
_OMM_DEFAULTS = {
    "OBJECT_ID": "",
    "CLASSIFICATION_TYPE": "U",
    "EPHEMERIS_TYPE": "0",
    "ELEMENT_SET_NO": "999",
    "REV_AT_EPOCH": "0",
}


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
                f"{self.with_epoch_text()}) with error code {sat.error} ({SGP4_ERRORS.get(sat.error, 'unknown')}); "
                "fix: check the eccentricity and mean motion, or use another set."
            )
        return sat

    def with_epoch_text(self) -> str:
        """Return the epoch as ISO-8601 UTC text with microseconds, e.g. '2017-01-01T02:33:30.000320Z'."""
        return str(np.datetime_as_string(self.epoch_utc, unit="us")) + "Z"

