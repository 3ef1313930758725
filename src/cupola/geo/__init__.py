"""Offline place names and NASA-style captions (English and French)."""

from .caption import PHASES, caption, describe_place, near_city, near_water, place_phrase
from .places import COMPASS, QUALIFIERS, Places, locate, tables

__all__ = ["COMPASS", "PHASES", "QUALIFIERS", "Places", "caption", "describe_place", "locate", "near_city",
           "near_water", "place_phrase", "tables"]
