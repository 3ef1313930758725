"""Exception hierarchy: one base class, subclasses that also inherit the fitting builtin."""

from __future__ import annotations


class CupolaError(Exception):
    """Base class of every error cupola raises on purpose."""


class ElementSetError(CupolaError, ValueError):
    """An element set (TLE or OMM) is malformed or unusable."""


class TimeInputError(CupolaError, ValueError):
    """A time could not be understood (naive datetime, bad text, out of range)."""


class DataMissingError(CupolaError, FileNotFoundError):
    """A bundled or optional dataset is missing."""


class InputError(CupolaError, ValueError):
    """Any other bad user input (language, coordinates, options)."""
