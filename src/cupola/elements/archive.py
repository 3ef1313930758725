"""ElementArchive: one satellite's element sets sorted by epoch, picking the set nearest each instant
(vectorised); the file-level readers that detect TLE or OMM; and the ISS history bundled with cupola.

:func:`parse_element_sets` and :func:`load_element_file` detect the format from the text and hand it to
:func:`~cupola.elements.tle.parse_tle` or :func:`~cupola.elements.omm.parse_omm`. :func:`bundled_archive`
returns the ISS (NORAD 25544) history in ``cupola/data/iss_tles.txt``; the comments at the top of that file
give the sources of its sets.
"""

from __future__ import annotations

import codecs
import functools
import logging
import os
import stat
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from ..errors import DataMissingError, ElementSetError, TimeInputError
from ..timebase import escaped, shown
from .base import ElementSet
from .omm import _detect, parse_omm
from .tle import parse_tle

logger = logging.getLogger(__name__)


def parse_element_sets(text: str, *, source: str | None = None) -> list[ElementSet]:
    """Return the element sets in `text`, detecting TLE or OMM (JSON, XML, CSV) from its first characters.

    Args:
        text: TLE or OMM text.
        source: a label for messages and ``ElementSet.source``; '<text>' when None.

    Returns:
        list[ElementSet]: in the order of the text.

    Raises:
        ElementSetError: as :func:`parse_tle` or :func:`parse_omm`.
    """
    if _detect(text) == "tle":
        return parse_tle(text, source=source)
    return parse_omm(text, source=source)


# The most an element file or standard input may hold. CelesTrak's largest group files are a few MB as TLE and
# some tens of MB as OMM JSON; a file past this is refused unread rather than loaded into memory.
MAX_ELEMENT_FILE_BYTES = 64 * 1024 * 1024
# The path that means "read standard input".
STDIN_PATH = "-"
# How much of a file is looked at before the rest is read, to refuse binary data from its first bytes.
_SNIFF_BYTES = 64 * 1024
# Bytes that text never holds (controls other than tab, newlines, vertical tab, form feed, and ESC for colours).
_CONTROL_BYTES = bytes([*range(0, 9), *range(14, 27), *range(28, 32), 127])
# Share of such bytes (and of bytes that are not UTF-8) above which the first bytes are taken for binary data.
_BINARY_SHARE = 0.10
_MAGIC = (
    (b"\x1f\x8b", "gzip-compressed data"),
    (b"PK\x03\x04", "a ZIP archive"),
    (b"\xfd7zXZ\x00", "xz-compressed data"),
    (b"BZh91AY&SY", "bzip2-compressed data"),
)
_FILE_FIX = "fix: pass a TLE or OMM text file, e.g. Satellite.from_file('stations.txt'), or '-' for standard input."
_KINDS = (
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def _file_error(what: str, text: str, fix: str = _FILE_FIX) -> ElementSetError:
    return ElementSetError(f"{what} {text}.\n{fix}", param="sat")


def _sniff(head: bytes, what: str) -> None:
    """Refuse `head`, the first bytes of an element file, when they are compressed or binary data."""
    for magic, kind in _MAGIC:
        if head.startswith(magic):
            raise _file_error(what, f"is not a TLE or OMM file: it starts like {kind}",
                              "fix: decompress or unpack it first and pass the text file inside, e.g. "
                              "Satellite.from_file('stations.txt').")
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return  # UTF-16 text with its byte-order mark: NUL bytes are expected
    nul = head.find(b"\x00")
    if nul >= 0:
        raise _file_error(what, f"is not a TLE or OMM file: byte {nul} of it is NUL, which text never holds, so it "
                          "looks like binary data (an image, archive or program?)")
    odd = len(head) - len(head.translate(None, _CONTROL_BYTES))
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        odd += sum(1 for byte in head if byte >= 0x80)
    if head and odd > _BINARY_SHARE * len(head):
        raise _file_error(what, f"is not a TLE or OMM file: {100 * odd / len(head):.0f}% of its first {len(head)} "
                          "bytes are control characters or bytes that are not text, so it looks like binary data")


def _too_large(what: str, size: int | None) -> ElementSetError:
    limit = MAX_ELEMENT_FILE_BYTES
    held = f"{size} bytes, more" if size is not None else "more"
    return _file_error(what, f"holds {held} than the limit of {limit} bytes ({limit / 2**20:g} MiB) that cupola "
                       "reads from one element file",
                       "fix: pass a smaller file, e.g. only the group or satellites needed (CelesTrak serves groups "
                       "such as stations.txt).")


def _bounded_read(read, what: str, size: int | None = None) -> bytes:
    """Return what `read(n)` yields, sniffed from its first bytes, refused beyond ``MAX_ELEMENT_FILE_BYTES``."""
    limit = MAX_ELEMENT_FILE_BYTES
    head = read(_SNIFF_BYTES)
    _sniff(head, what)
    if size is not None and size > limit:
        raise _too_large(what, size)
    chunks, total = [head], len(head)
    while total <= limit:  # a pipe may return less than asked before its end: read on until b''
        chunk = read(min(_SNIFF_BYTES * 64, limit + 1 - total))
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
    if total > limit:
        raise _too_large(what, None)
    return b"".join(chunks)


def _read_path(name: str, what: str) -> bytes:
    """Return the bytes of the regular file `name`: never blocking on a pipe, never reading a device."""
    try:
        # O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer (it is refused below).
        fd = os.open(name, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise DataMissingError(
            f"the element file {shown(name, 200)} does not exist.\n"
            "fix: check the path, or leave the file out to use the ISS history bundled with cupola.",
            param="sat",
        ) from None
    except IsADirectoryError:
        fd = None
    except PermissionError:
        raise _file_error(what, "cannot be read: permission denied",
                          "fix: make the file readable by this user (its permissions or owner), or copy it somewhere "
                          "readable.") from None
    except OSError as exc:
        raise _file_error(what, f"cannot be opened: {exc.strerror or exc}") from None
    try:
        st = os.fstat(fd) if fd is not None else None
        if st is None or stat.S_ISDIR(st.st_mode):
            raise _file_error(what, "is a directory", "fix: pass the path of a TLE or OMM file inside it.")
        if not stat.S_ISREG(st.st_mode):
            kind = next((k for test, k in _KINDS if test(st.st_mode)), "not a regular file")
            raise _file_error(what, f"is {kind}, not a regular file; cupola reads element sets from files, or from "
                              "standard input when the path is '-'",
                              "fix: save the element sets to a file and pass its path, or pass '-' and send them "
                              "on standard input.")
        with os.fdopen(fd, "rb") as f:
            fd = None  # the file object closes it now
            return _bounded_read(f.read, what, st.st_size)
    except OSError as exc:
        raise _file_error(what, f"cannot be read: {exc.strerror or exc}") from None
    finally:
        if fd is not None:
            os.close(fd)


def _read_stdin(what: str) -> bytes:
    """Return the bytes on standard input (bounded as files are)."""
    stream = sys.stdin
    if stream is None:
        raise _file_error(what, "is not there (this process has no standard input)",
                          "fix: pass the path of a TLE or OMM file instead of '-'.")
    buffer = getattr(stream, "buffer", None)
    if buffer is not None:
        read = buffer.read
    else:  # a text stream (e.g. io.StringIO): read characters, encode them back
        def read(n: int) -> bytes:
            return stream.read(n).encode("utf-8", "surrogateescape")
    try:
        return _bounded_read(read, what)
    except OSError as exc:
        raise _file_error(what, f"cannot be read: {exc.strerror or exc}",
                          "fix: send the element sets on standard input, or pass the path of a file.") from None


def _decode(raw: bytes) -> str:
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return raw.decode("utf-16")
        except UnicodeDecodeError:
            pass
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        # Decode byte for byte so the TLE checks can name the offending character and its column.
        return raw.decode("latin-1")


def _what(name: str) -> str:
    """Return how messages name the element file `name` ('-': standard input)."""
    return "standard input (path '-')" if name == STDIN_PATH else f"the element file {shown(name, 200)}"


def load_element_file(path: str | os.PathLike) -> list[ElementSet]:
    """Return the element sets in the TLE or OMM file at `path` (format detected from the content).

    The file may hold several satellites (a CelesTrak group file such as stations.txt); :func:`satellites_in`
    lists them and :func:`select_sets` picks one.

    Args:
        path: the file to read (UTF-8; a byte-order mark is ignored; UTF-16 with a byte-order mark is read too),
            or '-' (:data:`STDIN_PATH`) to read standard input.

    Returns:
        list[ElementSet]: with ``source`` naming the file ('<stdin>' for standard input) and the line or record.

    Raises:
        DataMissingError: if the file does not exist.
        ElementSetError: (param 'sat') if it cannot be read, is a directory, a pipe or a device, holds more than
            :data:`MAX_ELEMENT_FILE_BYTES`, is binary or compressed (seen from its first 64 kB, before the rest
            is read), is empty, or holds no valid element sets.
    """
    name = os.fsdecode(os.fspath(path))
    what = _what(name)
    if name == STDIN_PATH:
        source = "<stdin>"
        raw = _read_stdin(what)
    else:
        source = escaped(name)
        raw = _read_path(name, what)
    text = _decode(raw)
    if not text.strip("\ufeff \t\r\n\x0b\x0c"):
        raise _file_error(what, f"is empty ({len(raw)} bytes{', all blank' if raw else ''})",
                          "fix: pass a file holding TLE or OMM element sets, e.g. CelesTrak's stations.txt.")
    try:
        return parse_element_sets(text, source=source)
    except ElementSetError as exc:
        exc.param = exc.param or "sat"
        raise


@dataclass(frozen=True)
class ElementArchive:
    """One satellite's element sets, sorted by epoch, able to pick the set nearest each instant.

    Build it with :meth:`from_sets`, which sorts, drops exact duplicate epochs (keeping the first given) and
    checks that all sets are for one satellite.

    Attributes:
        sets: the element sets, sorted by epoch, epochs distinct.
    """

    sets: tuple[ElementSet, ...]
    _epochs_ns: np.ndarray = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        epochs = np.array([s.epoch_utc for s in self.sets], dtype="datetime64[ns]").reshape(len(self.sets))
        if epochs.size > 1 and not np.all(epochs[1:] > epochs[:-1]):
            raise ElementSetError(
                "the element sets given to ElementArchive are not in strictly increasing epoch order.\n"
                "fix: build the archive with ElementArchive.from_sets(sets), which sorts them and drops "
                "duplicate epochs."
            )
        epochs.flags.writeable = False
        object.__setattr__(self, "_epochs_ns", epochs)

    @classmethod
    def from_sets(cls, sets: Iterable[ElementSet]) -> ElementArchive:
        """Return an archive of `sets`, sorted by epoch, exact duplicate epochs removed (the first kept).

        Args:
            sets: element sets of one satellite (any order).

        Raises:
            ElementSetError: if `sets` is empty or holds several satellite numbers.
        """
        sets = list(sets)
        if not sets:
            raise ElementSetError(
                "an element archive needs at least one element set, but none were given.\n"
                "fix: pass the sets from parse_element_sets or load_element_file, or use bundled_archive()."
            )
        numbers = sorted({s.satnum for s in sets})
        if len(numbers) > 1:
            counts = {n: sum(1 for s in sets if s.satnum == n) for n in numbers}
            listed = ", ".join(f"{n} ({counts[n]} set{'s' if counts[n] > 1 else ''})" for n in numbers)
            raise ElementSetError(
                f"the element sets are for {len(numbers)} satellites: {listed}; an archive holds one satellite.\n"
                "fix: pass one satellite's sets only, e.g. [s for s in sets if s.satnum == 25544]."
            )
        # sorted() is stable, so among equal epochs the set given first stays first.
        ordered = sorted(sets, key=lambda s: s.epoch_utc.astype("datetime64[ns]").astype(np.int64))
        kept = [ordered[0]]
        for s in ordered[1:]:
            if s.epoch_utc == kept[-1].epoch_utc:
                logger.info(
                    "dropping the element set from %s: same epoch %s as the set from %s",
                    s.source, s.with_epoch_text(), kept[-1].source,
                )
                continue
            kept.append(s)
        return cls(tuple(kept))

    @property
    def epochs_utc(self) -> np.ndarray:
        """Return the epochs of the sets, ``datetime64[ns]`` UTC, shape (n,), read-only."""
        return self._epochs_ns

    def __len__(self) -> int:
        return len(self.sets)

    def nearest(self, t_utc: np.ndarray) -> np.ndarray:
        """Return the index of the set whose epoch is nearest each instant of `t_utc`.

        Vectorised with ``np.searchsorted``; an instant exactly halfway between two epochs takes the earlier
        set. Instants before the first or after the last epoch take the first or last set. NaT gives -1.

        Args:
            t_utc: instants as numpy datetime64 (any unit, taken as UTC) or anything ``np.asarray`` turns into
                datetime64 (ISO text); scalar or any shape.

        Returns:
            np.ndarray: ``intp`` indices into ``sets``, same shape as `t_utc`.

        Raises:
            TimeInputError: if `t_utc` is not datetime64 (e.g. floats or timezone-aware datetimes).
        """
        arr = np.asarray(t_utc)
        if arr.dtype.kind != "M":
            try:
                if arr.dtype.kind not in "USO":
                    raise TypeError(arr.dtype)  # numbers have no unit or origin: refuse them
                arr = arr.astype("datetime64[ns]")
            except (ValueError, TypeError):
                raise TimeInputError(
                    f"ElementArchive.nearest needs numpy datetime64 times (UTC), not {arr.dtype} "
                    f"(e.g. {arr.ravel()[:1].tolist()}).\n"
                    "fix: convert times first, e.g. np.datetime64('2024-01-20T12:00:00', 'ns')."
                ) from None
        t = arr.astype("datetime64[ns]").astype(np.int64).ravel()
        e = self._epochs_ns.astype(np.int64)
        n = e.size
        j = np.searchsorted(e, t, side="left")  # e[j-1] < t <= e[j]
        lo = np.clip(j - 1, 0, n - 1)
        hi = np.clip(j, 0, n - 1)
        # Where lo < hi, e[lo] < t <= e[hi], so both gaps are non-negative and bounded: no int64 overflow.
        between = lo < hi
        d_lo = np.where(between, t - e[lo], 0)
        d_hi = np.where(between, e[hi] - t, 0)
        idx = np.where(between & (d_hi < d_lo), hi, lo)
        idx = np.where(t == np.iinfo(np.int64).min, -1, idx)  # NaT
        return idx.astype(np.intp).reshape(arr.shape)


@functools.cache
def bundled_archive() -> ElementArchive:
    """Return the ISS (NORAD 25544) element history shipped with cupola (loaded once, then cached).

    The sets cover 2017-01-01..2017-06-28 (one a day), 2021-05-01..02 and 2024-01-18..23; see the comments at
    the top of ``cupola/data/iss_tles.txt`` for their sources.

    Raises:
        DataMissingError: if the bundled file is missing from the installation.
    """
    from importlib.resources import files

    resource = files("cupola").joinpath("data/iss_tles.txt")
    try:
        text = resource.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DataMissingError(
            "the bundled element file cupola/data/iss_tles.txt is missing from the installation.\n"
            "fix: reinstall cupola (pip install --force-reinstall cupola), or load your own element sets "
            "(Satellite.from_file(path))", param="sat"
        ) from None
    return ElementArchive.from_sets(parse_element_sets(text, source="cupola/data/iss_tles.txt"))
