"""Offline place names and NASA-style captions (English and French)."""

from .caption import PHASES, caption, describe_place, place_json, place_phrase
from .places import COMPASS, QUALIFIERS, Places, locate, tables

__all__ = ["COMPASS", "PHASES", "QUALIFIERS", "Places", "caption", "describe_place", "locate", "place_json",
           "place_phrase", "tables"]
