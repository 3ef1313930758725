"""Image files and EXIF blocks written byte by byte, for the tests of hostile photographs.

A PNG's IHDR and chunks, a JPEG's SOF and segments, a TIFF's IFDs and an EXIF block (IFD0, the EXIF IFD, the GPS
IFD) are laid out here from the specifications (PNG 1.2, JPEG ITU T.81, TIFF 6.0, EXIF 2.32), so what a file
declares is known independently of Pillow's and exifread's readers. Shared by ``tests/test_web_hostile.py`` (the
web app's uploads) and ``tests/test_exif_fuzz.py`` (property tests of the EXIF reader).
"""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
from PIL import Image


def chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_declaring(w: int, h: int) -> bytes:
    """A PNG whose IHDR says w x h RGB, with 4 kB of zeros as its only pixel data (a decompression bomb)."""
    ihdr = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 4096, 9))
            + chunk(b"IEND", b""))


def jpeg_declaring(w: int, h: int) -> bytes:
    """SOI, a baseline SOF0 of w x h (three components), an SOS and 512 zero bytes: a JPEG header alone."""
    def seg(marker, data):
        return b"\xff" + bytes([marker]) + struct.pack(">H", len(data) + 2) + data

    sof = struct.pack(">BHHB", 8, h, w, 3) + b"\x01\x22\x00\x02\x11\x01\x03\x11\x01"
    return b"\xff\xd8" + seg(0xC0, sof) + seg(0xDA, b"\x03\x01\x00\x02\x11\x03\x11\x00\x3f\x00") + bytes(512)


def ifd(entries, at: int, next_ifd: int = 0) -> bytes:
    """One little-endian TIFF IFD at offset `at`: entries (tag, type, count, value bytes), values that do not
    fit in 4 bytes placed after it."""
    body, extra = struct.pack("<H", len(entries)), b""
    data_at = at + 2 + 12 * len(entries) + 4
    for tag, typ, count, value in sorted(entries):
        if len(value) <= 4:
            body += struct.pack("<HHI", tag, typ, count) + value.ljust(4, b"\0")
        else:
            body += struct.pack("<HHII", tag, typ, count, data_at + len(extra))
            extra += value + b"\0" * (len(value) % 2)
    return body + struct.pack("<I", next_ifd) + extra


def u16(v):
    return struct.pack("<H", v)


def u32(v):
    return struct.pack("<I", v)


def tiff_declaring(w: int, h: int) -> bytes:
    """A grey 8-bit TIFF whose IFD says w x h, with 1 kB of pixel data."""
    entries = [(256, 4, 1, u32(w)), (257, 4, 1, u32(h)), (258, 3, 1, u16(8)), (259, 3, 1, u16(1)),
               (262, 3, 1, u16(1)), (273, 4, 1, u32(8 + 2 + 12 * 9 + 4)), (277, 3, 1, u16(1)),
               (278, 4, 1, u32(h)), (279, 4, 1, u32(min(w * h, 2**32 - 1)))]
    return b"II*\x00" + u32(8) + ifd(entries, 8) + bytes(1024)


def rational(num: int, den: int = 1, signed: bool = False) -> bytes:
    return struct.pack("<ii" if signed else "<II", num, den)


def ascii_tag(tag: int, text: str | bytes):
    """An ASCII entry of `text` (UTF-8 as cameras write it; bytes as given) and its NUL."""
    data = (text if isinstance(text, bytes) else text.encode()) + b"\0"
    return tag, 2, len(data), data


def exif_block(ifd0=(), exif=(), gps=(), loop: bool = False) -> bytes:
    """'Exif\\0\\0' and a TIFF: IFD0 (with pointers to the EXIF and GPS IFDs), the EXIF IFD, the GPS IFD;
    `loop`: IFD0's next-IFD pointer points back at IFD0."""
    pointers = [(0x8769, 4, 1, u32(0)), (0x8825, 4, 1, u32(0))]
    exif_at = 8 + len(ifd(list(ifd0) + pointers, 8))
    exif_ifd = ifd(list(exif), exif_at)
    gps_at = exif_at + len(exif_ifd)
    pointers = [(0x8769, 4, 1, u32(exif_at)), (0x8825, 4, 1, u32(gps_at))]
    tiff = b"II*\x00" + u32(8) + ifd(list(ifd0) + pointers, 8, 8 if loop else 0) + exif_ifd + ifd(list(gps), gps_at)
    return b"Exif\x00\x00" + tiff


def small_image(fmt: str, w: int = 64, h: int = 48, **save) -> bytes:
    rgb = np.random.default_rng(0).integers(0, 255, (h, w, 3), dtype=np.uint8)
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, fmt, **save)
    return buf.getvalue()


def jpeg_with_exif(jpeg: bytes, block: bytes) -> bytes:
    """`jpeg` (a whole JPEG file) with an APP1 segment holding `block` ('Exif\\0\\0' and a TIFF structure, at most
    65,533 bytes) right after its SOI, its other segments kept: no re-encoding, so a test can vary the block cheaply."""
    if len(block) > 0xFFFF - 2:
        raise ValueError(f"an APP1 segment holds at most 65533 bytes, got {len(block)}")
    return jpeg[:2] + b"\xff\xe1" + struct.pack(">H", len(block) + 2) + block + jpeg[2:]
