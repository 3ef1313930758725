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
import re
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
_HIGH_BYTES = bytes(range(128, 256))
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
        odd += len(head) - len(head.translate(None, _HIGH_BYTES))
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
        flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
        fd = os.open(name, flags)
    except FileNotFoundError:
        raise DataMissingError(
            f"the element file {shown(name, 200)} does not exist.\n"
            "fix: check the path, or leave the file out to use the ISS history bundled with cupola.",
            param="sat",
        ) from None
    except IsADirectoryError:
        fd = None
    except ValueError:  # a NUL character, which no path holds
        raise _file_error(what, "cannot be opened: a path never holds a NUL character",
                          "fix: check the path (a NUL often comes from a script's unterminated string).") from None
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
class SatelliteSummary:
    """One satellite among element sets: what :func:`satellites_in` lists and ``select=`` chooses from.

    Attributes:
        satnum: NORAD catalogue number.
        name: the first name its sets give (None when none has a name).
        names: every distinct name its sets give, in order of appearance.
        count: how many element sets it has.
    """

    satnum: int
    name: str | None
    names: tuple[str, ...]
    count: int

    def describe(self) -> str:
        """Return one line for a listing: NORAD id, quoted name, number of sets."""
        name = shown(self.name, 40) if self.name else "(no name)"
        return f"{self.satnum:>6}  {name}  ({self.count} set{'s' if self.count != 1 else ''})"


# How many satellites a message lists before 'and N more'.
_LISTED = 10
_SELECT_FIX = "fix: choose one with select=NAME or select=NORAD_ID, e.g. {example}."


def satellites_in(sets: Iterable[ElementSet]) -> list[SatelliteSummary]:
    """Return the satellites that `sets` are for, in order of first appearance, each with its names and count.

    For a CelesTrak group file (stations.txt, an OMM array of several NORAD ids) this is the menu that ``select=``
    of :func:`select_sets` and ``Satellite.from_file(path, select=...)`` chooses from.
    """
    names: dict[int, list[str]] = {}
    counts: dict[int, int] = {}
    for s in sets:
        seen = names.setdefault(s.satnum, [])
        if s.name and s.name not in seen:
            seen.append(s.name)
        counts[s.satnum] = counts.get(s.satnum, 0) + 1
    return [SatelliteSummary(n, (names[n] or [None])[0], tuple(names[n]), counts[n]) for n in names]


def _listing(found: list[SatelliteSummary]) -> str:
    rows = [f"    {s.describe()}" for s in found[:_LISTED]]
    if len(found) > _LISTED:
        rows.append(f"    and {len(found) - _LISTED} more")
    return "\n".join(rows)


def _example(found: list[SatelliteSummary]) -> str:
    s = found[0]
    return f"select={s.satnum}" + (f" or select={s.name!r}" if s.name and s.name.isprintable() else "")


def _fold(text: str) -> str:
    return " ".join(text.split()).casefold()


def _matching(found: list[SatelliteSummary], select: int | str, where: str) -> list[SatelliteSummary]:
    """Return the satellites `select` names: by NORAD id, else by name (exact, then prefix, then substring)."""
    if isinstance(select, (int, np.integer)) and not isinstance(select, (bool, np.bool_)):
        return [s for s in found if s.satnum == int(select)]
    if not isinstance(select, str):
        raise ElementSetError(
            f"select={shown(select)} (type {type(select).__name__}) names no satellite; select takes a NORAD id "
            f"(an int or digits) or a name.\n" + _SELECT_FIX.format(example=_example(found)),
            param="sat",
        )
    key = _fold(select)
    if not key:
        raise ElementSetError(
            f"select={shown(select)} is blank; name a satellite in {where}:\n{_listing(found)}\n"
            + _SELECT_FIX.format(example=_example(found)),
            param="sat",
        )
    if re.fullmatch(r"[0-9]{1,9}", key):
        by_number = [s for s in found if s.satnum == int(key)]
        if by_number:
            return by_number
    for rule in (str.__eq__, str.startswith, str.__contains__):
        by_name = [s for s in found if any(rule(_fold(n), key) for n in s.names)]
        if by_name:
            return by_name
    return []


def select_sets(sets: Iterable[ElementSet], select: int | str | None = None, *,
                where: str = "the element sets", fix: str | None = None) -> list[ElementSet]:
    """Return the sets of one satellite among `sets`: the only one there, or the one `select` names.

    Args:
        sets: element sets, perhaps of several satellites (e.g. from :func:`load_element_file`).
        select: None (the sets must then be for one satellite), a NORAD id (int, or a string of digits), or a name,
            matched case-insensitively and with runs of spaces as one: an exact name first, else a unique
            prefix, else a unique substring ('zarya' finds 'ISS (ZARYA)').
        where: what the sets are, for messages ('the element file ...').
        fix: the fix line of the message when `select` matches nothing (default: how to choose with select=).

    Returns:
        list[ElementSet]: the chosen satellite's sets, in their order in `sets`.

    Raises:
        ElementSetError: (param 'sat') if `sets` is empty, holds several satellites and `select` is None, or
            `select` matches none or several; the message lists them (at most 10, then 'and N more').
    """
    sets = list(sets)
    found = satellites_in(sets)
    if not found:
        raise ElementSetError(
            f"there are no element sets in {where}.\n"
            "fix: pass the sets from parse_element_sets or load_element_file, or use Satellite.from_archive().",
            param="sat",
        )
    if select is None:
        if len(found) == 1:
            return sets
        raise ElementSetError(
            f"{len(found)} satellites are in {where}, and a Satellite is one of them:\n{_listing(found)}\n"
            + _SELECT_FIX.format(example=_example(found)),
            param="sat",
        )
    chosen = _matching(found, select, where)
    if not chosen:
        raise ElementSetError(
            f"no satellite in {where} matches select={shown(select)}; "
            f"{'the satellites there are' if len(found) > 1 else 'the only one there is'}:\n{_listing(found)}\n"
            + (fix or _SELECT_FIX.format(example=_example(found))),
            param="sat",
        )
    if len(chosen) > 1:
        raise ElementSetError(
            f"select={shown(select)} matches {len(chosen)} satellites in {where}:\n{_listing(chosen)}\n"
            f"fix: choose one by its NORAD id or its full name, e.g. {_example(chosen)}.",
            param="sat",
        )
    return [s for s in sets if s.satnum == chosen[0].satnum]


def select_from_file(path: str | os.PathLike, select: int | str | None = None) -> list[ElementSet]:
    """Return one satellite's sets from the element file at `path` ('-': standard input).

    :func:`load_element_file` then :func:`select_sets` (`select` as there), with messages that name the file.
    """
    return select_sets(load_element_file(path), select, where=_what(os.fsdecode(os.fspath(path))))


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
    from ..bundled import damaged, parsing, read_bytes

    name, what = "iss_tles.txt", "ISS element history"
    raw = read_bytes(name, what)
    with parsing(name, what):
        try:
            return ElementArchive.from_sets(parse_element_sets(raw.decode("utf-8"), source="cupola/data/iss_tles.txt"))
        except ElementSetError as exc:  # a line cut short or overwritten: the file, not the user, is wrong
            raise damaged(name, what, exc) from None
