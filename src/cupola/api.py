"""The curated public names of cupola: ``from cupola.api import Satellite``."""

from .elements import ElementArchive, ElementSet, bundled_archive, load_element_file, parse_element_sets, parse_omm, parse_tle
from .errors import CupolaError, DataMissingError, ElementSetError, InputError, TimeInputError
from .geo.caption import caption
from .geo.places import Places, locate
from .lighting import (
    PHASES,
    next_sun_events,
    orbital_sun_events,
    phases,
    shadow_status,
    sun_elevation_deg,
    sun_fraction,
    sun_teme_km,
)
from .orbit import SGP4_ERRORS, Satellite, State
from .search import Edges, Predicate, find_edges, windows
from .timebase import Instants, instants, iso_utc, to_utc64
from .where import Where, where

__all__ = [
    "CupolaError", "DataMissingError", "ElementSetError", "InputError", "TimeInputError",
    "ElementArchive", "ElementSet", "bundled_archive", "load_element_file", "parse_element_sets",
    "parse_omm", "parse_tle",
    "Satellite", "State", "SGP4_ERRORS",
    "Instants", "instants", "iso_utc", "to_utc64",
    "PHASES", "next_sun_events", "orbital_sun_events", "phases", "shadow_status",
    "sun_elevation_deg", "sun_fraction", "sun_teme_km",
    "Edges", "Predicate", "find_edges", "windows",
    "Places", "locate", "caption",
    "Where", "where",
]
