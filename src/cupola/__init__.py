"""cupola: the view from the International Space Station at any instant."""

__version__ = "0.1.0"
