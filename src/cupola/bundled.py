"""The data files shipped in ``cupola/data``: read them, and say so plainly when one is missing or damaged.

Every loader of a bundled table reads it through :func:`read_bytes` (a missing file) and parses it inside
:func:`parsing` (a truncated or overwritten one: a bad ZIP member, JSON cut short, an image that does not
decode), so that the user gets one :class:`~cupola.errors.DataMissingError` naming the file and the fix
(reinstall; in a checkout, the ``tools/`` script that rebuilds it) rather than a traceback from numpy, zipfile,
json or Pillow.
"""

from __future__ import annotations

import contextlib
import importlib.resources
import json
import logging
import struct
import zipfile
import zlib

from .errors import CupolaError, DataMissingError

log = logging.getLogger(__name__)

REINSTALL = "reinstall cupola (pip install --force-reinstall cupola)"
# What a damaged file raises while it is parsed: numpy's npz (zipfile, zlib, ValueError, EOFError), json,
# gzip (OSError, EOFError), Pillow (OSError, SyntaxError for a bad header) and the lookups that follow.
_DAMAGE = (OSError, ValueError, EOFError, KeyError, IndexError, TypeError, SyntaxError, zipfile.BadZipFile,
           zlib.error, struct.error, json.JSONDecodeError, UnicodeDecodeError)


def data_file(name: str):
    """Return the Traversable of ``cupola/data/<name>`` (``name`` may hold '/', e.g. 'fonts/DejaVuSans.ttf')."""
    return importlib.resources.files("cupola").joinpath("data", *name.split("/"))


def _fix(rebuild: str | None) -> str:
    return REINSTALL + (f"; in a source checkout, rebuild it with `{rebuild}`" if rebuild else "")


def missing(name: str, what: str, rebuild: str | None = None) -> DataMissingError:
    """Return the error for the bundled file `name` (`what` it holds) missing from the installation."""
    return DataMissingError(f"the bundled {what} cupola/data/{name} is missing from the installation; {_fix(rebuild)}")


def read_bytes(name: str, what: str, rebuild: str | None = None) -> bytes:
    """Return the bytes of ``cupola/data/<name>``.

    Raises:
        DataMissingError: the file is missing (or is not a readable file), naming it and the fix.
    """
    try:
        return data_file(name).read_bytes()
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError, PermissionError):
        raise missing(name, what, rebuild) from None


def damaged(name: str, what: str, exc: BaseException, rebuild: str | None = None) -> DataMissingError:
    """Return the error for the bundled file `name` being damaged: `exc` is what reading it raised.

    The message names only the kind of failure: the reader's own words can mislead (numpy's advice to
    allow pickles for a file overwritten with text); they go to the debug log.
    """
    log.debug("reading cupola/data/%s failed: %r", name, exc)
    return DataMissingError(f"the bundled {what} cupola/data/{name} is damaged (reading it failed with "
                            f"{type(exc).__name__}); {_fix(rebuild)}")


@contextlib.contextmanager
def parsing(name: str, what: str, rebuild: str | None = None):
    """Within, turn what a damaged bundled file raises (see the module docstring) into a DataMissingError."""
    try:
        yield
    except CupolaError:
        raise
    except _DAMAGE as exc:
        raise damaged(name, what, exc, rebuild) from None


def load(name: str, what: str, parse, rebuild: str | None = None):
    """Return ``parse(bytes)`` of ``cupola/data/<name>``, a missing or damaged file refused as DataMissingError."""
    raw = read_bytes(name, what, rebuild)
    with parsing(name, what, rebuild):
        return parse(raw)


__all__ = ["REINSTALL", "data_file", "missing", "damaged", "read_bytes", "parsing", "load"]
