"""Coverage-guided fuzz target (atheris, libFuzzer) for the photograph reader: EXIF, header and pixels.

Each input is the bytes of a photograph file, written to a temporary folder of its own (in ``/dev/shm`` where
there is one, so that the writes cost no disk; removed once the input is read) and read there by :func:`cupola.photo.metadata.read_photo`, then,
when it returned and the image is at most ``photo_contract.MAX_DECODE_PIXELS``, by :func:`cupola.photo.metadata.load_pixels`
(larger images are within cupola's limits but cost seconds to decode, not new code). The file's name follows its
first bytes, as a camera's would: ``x.png`` for the PNG signature, ``x.tif`` for a TIFF's, ``x.jpg`` otherwise
(the reader goes by the bytes, not the name); a TIFF is read a second time as ``x.nef``, the one name that changes
what the reader does (metadata read, pixels refused). An input that starts with ``Exif\\0\\0`` is an EXIF block
instead: it goes into the APP1 segment of a valid 16 x 16 JPEG, so that libFuzzer's mutations reach exifread's
tag parsing and metadata.py's reading of the tags (``_time_of``, ``_exposure_of``, ``_focal_of``, ``_sensor_of``)
rather than breaking the file around them.

The contract checked (``fuzz/photo_contract.py``): read_photo returns a PhotoMeta whose values are None or finite and within
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
import io
import logging
import os
import struct
import sys
import tempfile

import atheris

# exifread is instrumented too (coverage of its tag parsing guides the mutations), and imported here for that:
# cupola.photo.metadata imports it (and cupola.answers.text) only when a photograph is read. The contract itself
# (photo_contract, beside this file) is shared with tests/test_exif_fuzz.py.
with atheris.instrument_imports(include=["cupola", "exifread"]):
    import exifread  # noqa: F401
    import numpy as np
    from PIL import Image

    import cupola.answers.text  # noqa: F401
    from photo_contract import read_checked

# Bytes past this are cut: libFuzzer's -max_len bounds inputs too, this keeps one slow input from stalling a run.
MAX_INPUT_BYTES = 64 * 1024
# An EXIF block is at most what a JPEG's APP1 segment holds (its length field is 16 bits and counts itself).
MAX_BLOCK_BYTES = 0xFFFF - 2
EXIF_PREFIX = b"Exif\x00\x00"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
TIFF_MAGICS = (b"II*\x00", b"MM\x00*")
_COUNTS = {"inputs": 0, "read": 0, "refused": 0}


def _base_jpeg() -> bytes:
    """A valid 16 x 16 RGB JPEG without EXIF, the carrier of the EXIF-block inputs."""
    buf = io.BytesIO()
    grid = np.indices((16, 16)).sum(axis=0).astype(np.uint8) * 8
    Image.fromarray(np.stack([grid, grid[::-1], 255 - grid], axis=-1)).save(buf, "JPEG", quality=90)
    return buf.getvalue()


BASE_JPEG = _base_jpeg()
TMP_ROOT = "/dev/shm" if os.path.isdir("/dev/shm") else None


def _read(path: str, data: bytes, head: bytes) -> None:
    with open(path, "wb") as f:
        f.write(data)
    try:
        m, refused = read_checked(path)
    except AssertionError as exc:
        raise AssertionError(f"{exc}, for input {head!r}") from None
    _COUNTS["read"] += m is not None
    _COUNTS["refused"] += refused


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
