"""ElementArchive: one satellite's element sets sorted by epoch, picking the set nearest each instant
(vectorised); the file-level readers that detect TLE or OMM; and the ISS history bundled with cupola.

:func:`parse_element_sets` and :func:`load_element_file` detect the format from the text and hand it to
:func:`~cupola.elements.tle.parse_tle` or :func:`~cupola.elements.omm.parse_omm`. :func:`bundled_archive`
returns the ISS (NORAD 25544) history in ``cupola/data/iss_tles.txt``; the comments at the top of that file
give the sources of its sets.
"""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from ..errors import DataMissingError, ElementSetError, TimeInputError
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


def load_element_file(path: str | os.PathLike) -> list[ElementSet]:
    """Return the element sets in the TLE or OMM file at `path` (format detected from the content).

    Args:
        path: the file to read (UTF-8; a byte-order mark is ignored).

    Returns:
        list[ElementSet]: with ``source`` naming the file (and the line or record).

    Raises:
        DataMissingError: if the file does not exist.
        ElementSetError: if it holds no valid element sets.
    """
    name = os.fspath(path)
    try:
        raw = open(name, "rb").read()
    except FileNotFoundError:
        raise DataMissingError(
            f"the element file {name!r} does not exist.\n"
            "fix: check the path, or leave the file out to use the ISS history bundled with cupola."
        ) from None
    except IsADirectoryError:
        raise ElementSetError(
            f"the element file {name!r} is a directory.\nfix: pass the path of a TLE or OMM file inside it."
        ) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        # Decode byte for byte so the TLE checks can name the offending character and its column.
        text = raw.decode("latin-1")
    return parse_element_sets(text, source=name)


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
