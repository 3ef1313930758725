"""Offline place names and NASA-style captions (English and French)."""

from .caption import PHASES, caption, place_phrase
from .places import COMPASS, Places, locate

__all__ = ["COMPASS", "PHASES", "Places", "caption", "locate", "place_phrase"]
