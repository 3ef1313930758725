"""Exception hierarchy: one base class, subclasses that also inherit the fitting builtin.

Messages state what was wrong, the offending value and the fix in the terms of the Python API
(``kp=5``, ``Satellite.from_file(path)``). An error about one argument names it in `param`
(the API's parameter name), so that the command line and the web layer can add their own name
for it (``--kp``, ``?kp=``) without the library knowing about either.
"""

from __future__ import annotations


class CupolaError(Exception):
    """Base class of every error cupola raises on purpose.

    Args:
        message: what was wrong, the value, and the fix.
        param: the API parameter the message is about ('kp', 'lang', 'sat', ...), or None.
    """

    def __init__(self, message: str = "", *, param: str | None = None):
        super().__init__(message)
        self.param = param


class ElementSetError(CupolaError, ValueError):
    """An element set (TLE or OMM) is malformed or unusable."""


class TimeInputError(CupolaError, ValueError):
    """A time could not be understood (naive datetime, bad text, out of range)."""


class DataMissingError(CupolaError, FileNotFoundError):
    """A bundled or optional dataset is missing."""

    def __init__(self, message: str = "", *, param: str | None = None):
        # FileNotFoundError's own __init__ would take the message as an errno: keep it the text.
        CupolaError.__init__(self, message, param=param)

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class InputError(CupolaError, ValueError):
    """Any other bad user input (language, coordinates, options)."""
