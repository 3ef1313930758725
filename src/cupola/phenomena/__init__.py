"""Phenomena seen from the station: airglow, aurora and city lights."""
