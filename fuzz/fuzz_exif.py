"""Coverage-guided fuzz target (atheris, libFuzzer) for the photograph reader: EXIF, header and pixels.

Each input is the bytes of a photograph file, written to a temporary folder of its own (in ``/dev/shm`` where
there is one, so that the writes cost no disk; removed once the input is read) and read there by :func:`cupola.photo.metadata.read_photo`, then,
when it returned and the image is at most :data:`MAX_DECODE_PIXELS`, by :func:`cupola.photo.metadata.load_pixels`
(larger images are within cupola's limits but cost seconds to decode, not new code). The file's name follows its
first bytes, as a camera's would: ``x.png`` for the PNG signature, ``x.tif`` for a TIFF's, ``x.jpg`` otherwise
(the reader goes by the bytes, not the name); a TIFF is read a second time as ``x.nef``, the one name that changes
what the reader does (metadata read, pixels refused). An input that starts with ``Exif\\0\\0`` is an EXIF block
instead: it goes into the APP1 segment of a valid 16 x 16 JPEG, so that libFuzzer's mutations reach exifread's
tag parsing and metadata.py's reading of the tags (``_time_of``, ``_exposure_of``, ``_focal_of``, ``_sensor_of``)
rather than breaking the file around them.

The contract checked: read_photo returns a PhotoMeta whose values are None or finite and within
:data:`cupola.camera.RANGES`, whose time is None or a plausible capture time, and whose notes are short clean text,
or it raises a :class:`cupola.errors.CupolaError` whose message starts lower-case, is short and holds no raw
control character, bidirectional control or lone surrogate; load_pixels returns the header's (H, W, 3) uint8
array or raises the same way. Anything else (another exception, a bad message or value) is a crash, which
libFuzzer saves as ``crash-<sha1>`` under ``-artifact_prefix``.

Run (seeds from the committed corpus, copied so that libFuzzer's new inputs do not land in the repository):

    cp -r tests/fuzz_corpus_exif /tmp/corpus_exif
    python fuzz/fuzz_exif.py /tmp/corpus_exif -atheris_runs=10000 -max_total_time=120 -artifact_prefix=/tmp/

``tests/test_fuzz_atheris.py`` runs it so in the suite (bounded in runs and time). The last line it prints is
``fuzz_exif: N inputs, M photos read, K refused``: M answers of read_photo, K refusals by read_photo or
load_pixels (a TIFF input is read twice, a photo read has its pixels loaded too). A run ended by
``-max_total_time`` rather than ``-atheris_runs`` exits inside libFuzzer, past Python's atexit, and prints no such
line: ``-print_final_stats=1`` gives its count (``stat::number_of_executed_units``). exifread's warnings (one for
every corrupt field) are silenced below ERROR, as the command line does.
"""

from __future__ import annotations

import atexit
import datetime as dt
import io
import logging
import math
import os
import struct
import sys
import tempfile

import atheris

# exifread is instrumented too (coverage of its tag parsing guides the mutations), and imported here for that:
# cupola.photo.metadata imports it (and cupola.answers.text) only when a photograph is read.
with atheris.instrument_imports(include=["cupola", "exifread"]):
    import exifread  # noqa: F401
    import numpy as np
    from PIL import Image

    import cupola.answers.text  # noqa: F401
    from cupola.camera import MAX_PIXELS, RANGES
    from cupola.errors import CupolaError
    from cupola.photo.metadata import EARLIEST_CAPTURE_UTC, FUTURE_SLACK_DAYS, PhotoMeta, load_pixels, read_photo

# Bytes past this are cut: libFuzzer's -max_len bounds inputs too, this keeps one slow input from stalling a run.
MAX_INPUT_BYTES = 64 * 1024
# An EXIF block is at most what a JPEG's APP1 segment holds (its length field is 16 bits and counts itself).
MAX_BLOCK_BYTES = 0xFFFF - 2
# Images up to this many pixels also have their pixels decoded (a 64 MP header would cost seconds each time).
MAX_DECODE_PIXELS = 512 * 512
# The longest error message and note: the message names the file (a short temporary path here) and the problem.
MAX_MESSAGE = 600
MAX_NOTE = 600
# The latest plausible exposure middle: the capture-time check's slack, plus half the longest exposure.
LATEST_SLACK = np.timedelta64(FUTURE_SLACK_DAYS, "D") + np.timedelta64(int(RANGES["exposure_s"][1] * 1e9 / 2), "ns")
EXIF_PREFIX = b"Exif\x00\x00"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
TIFF_MAGICS = (b"II*\x00", b"MM\x00*")
# Characters a message or note must not hold raw: C0 controls but newline, DEL, C1 controls, bidi controls.
_UNSAFE = {chr(c) for c in [*range(32), *range(0x7F, 0xA0), 0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F),
                            *range(0x2066, 0x206A)]} - {"\n"}
_COUNTS = {"inputs": 0, "read": 0, "refused": 0}


def _base_jpeg() -> bytes:
    """A valid 16 x 16 RGB JPEG without EXIF, the carrier of the EXIF-block inputs."""
    buf = io.BytesIO()
    grid = np.indices((16, 16)).sum(axis=0).astype(np.uint8) * 8
    Image.fromarray(np.stack([grid, grid[::-1], 255 - grid], axis=-1)).save(buf, "JPEG", quality=90)
    return buf.getvalue()


BASE_JPEG = _base_jpeg()
TMP_ROOT = "/dev/shm" if os.path.isdir("/dev/shm") else None


def _clean(text, what: str, most: int, head: bytes) -> None:
    bad = [c for c in text if c in _UNSAFE or "\ud800" <= c <= "\udfff"] if isinstance(text, str) else ["not text"]
    if bad or len(text) > most:
        raise AssertionError(f"bad {what} for input {head!r}: {str(text)[:400]!r} (raw {bad[:5]!r}, {len(text)} chars)")


def _check_refusal(exc: CupolaError, head: bytes) -> None:
    message = str(exc)
    if not message[:1].islower():
        raise AssertionError(f"message not lower-case for input {head!r}: {message[:400]!r}")
    _clean(message, "message", MAX_MESSAGE, head)
    _COUNTS["refused"] += 1


def _in(name: str, value) -> bool:
    lo, hi = RANGES[name][:2]
    return value is None or (isinstance(value, float) and math.isfinite(value) and lo <= value <= hi)


def _check_meta(m: PhotoMeta, head: bytes) -> None:
    if not isinstance(m, PhotoMeta):
        raise AssertionError(f"read_photo returned {type(m).__name__} for input {head!r}")
    size_ok = isinstance(m.width_px, int) and isinstance(m.height_px, int) and m.width_px >= 8 and m.height_px >= 8
    if not (size_ok and m.width_px * m.height_px <= MAX_PIXELS):
        raise AssertionError(f"size {m.width_px!r} x {m.height_px!r} let through for input {head!r}")
    for name, value in (("focal_mm", m.focal_mm), ("exposure_s", m.exposure_s), ("iso", m.iso),
                        ("f_number", m.f_number)):
        if not _in(name, value):
            raise AssertionError(f"{name} {value!r} let through for input {head!r}")
    # The field of view is derived (a sliver of an image may see less than RANGES' 0.01 deg across): a real angle.
    if m.focal_px is not None and not (math.isfinite(m.focal_px) and m.focal_px > 0 and 0 < m.fov_deg < 180):
        raise AssertionError(f"focal_px {m.focal_px!r} (field of view {m.fov_deg!r} deg) let through for input "
                             f"{head!r}")
    if m.sensor_mm is not None and not all(math.isfinite(s) and 0 < s < 1000 for s in m.sensor_mm):
        raise AssertionError(f"sensor {m.sensor_mm!r} let through for input {head!r}")
    now = np.datetime64(dt.datetime.now(dt.timezone.utc).replace(tzinfo=None), "ns")
    for t in (m.start_utc, m.time_utc):
        if t is not None and not (t.dtype == np.dtype("datetime64[ns]") and EARLIEST_CAPTURE_UTC <= t
                                  <= now + LATEST_SLACK):
            raise AssertionError(f"capture time {t!r} let through for input {head!r}")
    if not isinstance(m.notes, tuple):
        raise AssertionError(f"notes {m.notes!r} for input {head!r}")
    for note in m.notes:
        _clean(note, "note", MAX_NOTE, head)
    _clean(m.time_source, "time source", MAX_NOTE, head)
    _COUNTS["read"] += 1


def _check_pixels(path: str, m: PhotoMeta, head: bytes) -> None:
    try:
        rgb = load_pixels(path)
    except CupolaError as exc:
        _check_refusal(exc, head)
        return
    if not (isinstance(rgb, np.ndarray) and rgb.dtype == np.uint8 and rgb.shape == (m.height_px, m.width_px, 3)):
        raise AssertionError(f"load_pixels gave {getattr(rgb, 'dtype', rgb)!r} "
                             f"{getattr(rgb, 'shape', '')} for a {m.width_px}x{m.height_px} header, input {head!r}")


def _read(path: str, data: bytes, head: bytes) -> None:
    with open(path, "wb") as f:
        f.write(data)
    try:
        m = read_photo(path)
    except CupolaError as exc:
        _check_refusal(exc, head)
        return
    _check_meta(m, head)
    if m.width_px * m.height_px <= MAX_DECODE_PIXELS:
        _check_pixels(path, m, head)


def test_one_input(data: bytes) -> None:
    raw = data[:MAX_INPUT_BYTES]
    head = raw[:64]
    _COUNTS["inputs"] += 1
    with tempfile.TemporaryDirectory(prefix="fuzz-exif-", dir=TMP_ROOT) as work:
        if raw.startswith(EXIF_PREFIX):
            block = raw[:MAX_BLOCK_BYTES]
            jpeg = BASE_JPEG[:2] + b"\xff\xe1" + struct.pack(">H", len(block) + 2) + block + BASE_JPEG[2:]
            _read(os.path.join(work, "x.jpg"), jpeg, head)
        elif raw.startswith(TIFF_MAGICS):
            _read(os.path.join(work, "x.tif"), raw, head)
            _read(os.path.join(work, "x.nef"), raw, head)  # its pixels are refused: checked too
        else:
            _read(os.path.join(work, "x.png" if raw.startswith(PNG_SIGNATURE) else "x.jpg"), raw, head)


def _report() -> None:
    sys.stderr.write(f"fuzz_exif: {_COUNTS['inputs']} inputs, {_COUNTS['read']} photos read, "
                     f"{_COUNTS['refused']} refused\n")
    sys.stderr.flush()


def main(argv: list[str]) -> None:
    # exifread warns of every corrupt field; the command line logs at ERROR (cupola.cli), and so does this.
    logging.getLogger("exifread").setLevel(logging.ERROR)
    atexit.register(_report)
    atheris.Setup(argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main(sys.argv)
