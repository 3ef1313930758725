"""Exception hierarchy: one base class, subclasses that also inherit the fitting builtin.

Messages state what was wrong, the offending value and the fix in the terms of the Python API
(``kp=5``, ``Satellite.from_file(path)``). An error about one argument names it in `param`
(the API's parameter name), so that the command line and the web layer can add their own name
for it (``--kp``, ``?kp=``) without the library knowing about either. Where the fix is only a
call of the API (``force=True``), it is kept apart in `fix`: ``str(error)`` reads
"detail; fix", and a front end may print `detail` with its own way instead.
"""

from __future__ import annotations


class CupolaError(Exception):
    """Base class of every error cupola raises on purpose.

    Args:
        message: what was wrong, the value, and (unless `fix` says it) the fix.
        param: the API parameter the message is about ('kp', 'lang', 'sat', ...), or None.
        fix: the fix in API terms when it is only a call ('force=True renders anyway').
    """

    def __init__(self, message: str = "", *, param: str | None = None, fix: str | None = None):
        super().__init__(f"{message}; {fix}" if fix else message)
        self.param = param
        self.detail = message
        self.fix = fix


class ElementSetError(CupolaError, ValueError):
    """An element set (TLE or OMM) is malformed or unusable."""


class TimeInputError(CupolaError, ValueError):
    """A time could not be understood (naive datetime, bad text, out of range)."""


class DataMissingError(CupolaError, FileNotFoundError):
    """A bundled or optional dataset is missing."""

    def __init__(self, message: str = "", *, param: str | None = None, fix: str | None = None):
        # FileNotFoundError's own __init__ would take the message as an errno: keep it the text.
        CupolaError.__init__(self, message, param=param, fix=fix)

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class InputError(CupolaError, ValueError):
    """Any other bad user input (language, coordinates, options)."""


class OutputError(CupolaError, OSError):
    """An output (image, timelapse) could not be written: disk full, file too large, a name the file system
    refuses. Nothing is left half-written: the temporary file is removed and the target left as it was.

    `errno` is that of the OSError that stopped the write (e.g. ``errno.ENOSPC``), None when there was none.
    """

    def __init__(self, message: str = "", *, param: str | None = "output", fix: str | None = None,
                 errno: int | None = None):
        CupolaError.__init__(self, message, param=param, fix=fix)
        self.errno = errno

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""
