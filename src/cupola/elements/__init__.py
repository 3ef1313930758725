"""Element sets: parse TLEs (3-line, 2-line, legacy '+' variant) and OMM (JSON, XML, CSV); hold an archive.

An :class:`ElementSet` is the parsed, validated text of one set of mean elements; it builds an
``sgp4.api.Satrec`` on demand. A file may hold many satellites (a CelesTrak group file); an
:class:`ElementArchive` holds one satellite's sets sorted by epoch and picks
the set nearest each instant (vectorised). :func:`bundled_archive` returns the ISS history shipped with cupola.

Every problem found in the text raises :class:`~cupola.errors.ElementSetError` before anything is propagated.

The package:
- ``base.py``: :class:`ElementSet` and ``SGP4_ERRORS`` (the sgp4 library's error codes in words).
- ``tle.py``: :func:`parse_tle` (column template, field table, checksum, legacy '+' variant).
- ``omm.py``: :func:`parse_omm` (JSON, XML, CSV) and the TLE/OMM detection.
- ``archive.py``: :class:`ElementArchive`, :func:`bundled_archive`, :func:`parse_element_sets`,
  :func:`load_element_file` (a path, or '-' for standard input; bounded, binary refused from its first bytes),
  and for files of several satellites :func:`satellites_in` and :func:`select_sets`.

Sources for the formats:
- TLE columns and checksum: CelesTrak "FAQs: Two-Line Element Set Format" (T.S. Kelso) and Vallado et al. 2006,
  "Revisiting Spacetrack Report #3", AIAA 2006-6753, appendix (the layout sgp4's ``twoline2rv`` reads).
- OMM: CCSDS 502.0-B-3 "Orbit Data Messages" (OMM keywords, NDM/XML layout) and CelesTrak's
  "A New Way to Obtain GP Data" (JSON/CSV/XML field names).
"""

from .archive import (
    MAX_ELEMENT_FILE_BYTES,
    STDIN_PATH,
    ElementArchive,
    SatelliteSummary,
    bundled_archive,
    load_element_file,
    parse_element_sets,
    satellites_in,
    select_sets,
)
from .base import ElementSet
from .omm import parse_omm
from .tle import parse_tle

__all__ = [
    "ElementSet",
    "ElementArchive",
    "parse_tle",
    "parse_omm",
    "parse_element_sets",
    "load_element_file",
    "bundled_archive",
    "satellites_in",
    "select_sets",
    "SatelliteSummary",
    "MAX_ELEMENT_FILE_BYTES",
    "STDIN_PATH",
]
