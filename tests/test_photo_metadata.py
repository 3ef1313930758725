"""Photo metadata (issue 11, item 1): capture time, body, lens, exposure and size from JPEG, TIFF,
PNG and NEF files, checked against the shared real photograph's published EXIF, against exifread and
Pillow read directly, and against files written here with known tags; hostile files refused."""

from __future__ import annotations

import io
import math
import struct
import time
from pathlib import Path

import exifread
import numpy as np
import pytest
from PIL import Image
from PIL.TiffImagePlugin import IFDRational

from cupola.camera import SENSORS, Camera
from cupola.errors import InputError, TimeInputError
from cupola.photo.metadata import (MAX_EXIF_BYTES, camera_for, load_pixels, read_photo, sensor_key)
from cupola.timebase import to_utc64

PHOTO = Path("/work/shared/data/photos/ISS030-E-130515.jpg")
needs_photo = pytest.mark.skipif(not PHOTO.exists(), reason="the shared photo is not on this machine")

# EXIF tag numbers (CIPA DC-008 / EXIF 2.32).
MAKE, MODEL, DATETIME, IFD_EXIF = 0x010F, 0x0110, 0x0132, 0x8769
EXPOSURE, FNUMBER, ISO, ORIGINAL, DIGITIZED = 0x829A, 0x829D, 0x8827, 0x9003, 0x9004
OFFSET_ORIGINAL, FOCAL, SUBSEC, FOCAL35 = 0x9011, 0x920A, 0x9291, 0xA405
ONE_MS = np.timedelta64(1, "ms")


def _exif(ifd0=None, sub=None) -> Image.Exif:
    ex = Image.Exif()
    for k, v in (ifd0 or {}).items():
        ex[k] = v
    s = ex.get_ifd(IFD_EXIF)
    for k, v in (sub or {}).items():
        s[k] = v
    return ex


NIKON = {MAKE: "NIKON CORPORATION", MODEL: "NIKON D3S"}
SHOT = {ORIGINAL: "2024:01:19 16:02:54", SUBSEC: "5", EXPOSURE: IFDRational(2, 1), FNUMBER: IFDRational(14, 10),
        ISO: 6400, FOCAL: IFDRational(24, 1)}


def _value(v):
    """Return (TIFF type, count, bytes) of a tag value: text, whole number or IFDRational."""
    if isinstance(v, str):
        raw = v.encode("ascii") + b"\x00"
        return 2, len(raw), raw
    if isinstance(v, IFDRational):
        return 5, 1, struct.pack(">II", v.numerator, v.denominator)
    return 3, 1, struct.pack(">H", int(v)) + b"\x00\x00"


def _tiff_bytes(rgb: np.ndarray, ifd0: dict, sub: dict) -> bytes:
    """Return a big-endian baseline RGB TIFF with `ifd0` tags and an EXIF IFD of `sub` tags
    (Pillow's TIFF writer drops the EXIF IFD, so the file is laid out here)."""
    h, w, _ = rgb.shape
    pixels = rgb.astype(np.uint8).tobytes()
    image = {256: ("L", w), 257: ("L", h), 258: ("S3", (8, 8, 8)), 259: ("S", 1), 262: ("S", 2), 273: ("L", 0),
             277: ("S", 3), 278: ("L", h), 279: ("L", len(pixels)), 0x8769: ("L", 0)}

    def entries(tags):
        out = []
        for tag, v in sorted(tags.items()):
            if isinstance(v, tuple) and v[0] == "L":
                out.append((tag, 4, 1, struct.pack(">I", v[1])))
            elif isinstance(v, tuple) and v[0] == "S":
                out.append((tag, 3, 1, struct.pack(">H", v[1]) + b"\x00\x00"))
            elif isinstance(v, tuple):
                out.append((tag, 3, 3, struct.pack(">HHH", *v[1])))
            else:
                out.append((tag, *_value(v)))
        return out

    def layout(e0, e1):
        ifd0_at, exif_at = 8, 8 + 2 + 12 * len(e0) + 4
        data_at = exif_at + 2 + 12 * len(e1) + 4
        blobs, cursor = [], data_at
        for group in (e0, e1):
            for i, (tag, kind, count, raw) in enumerate(group):
                if len(raw) > 4:
                    blobs.append(raw + b"\x00" * (len(raw) % 2))
                    group[i] = (tag, kind, count, raw, cursor)
                    cursor += len(blobs[-1])
        return ifd0_at, exif_at, blobs, cursor

    e0, e1 = entries({**image, **ifd0}), entries(sub)
    _, exif_at, blobs, strip_at = layout(e0, e1)
    fix = {273: strip_at, 0x8769: exif_at}
    e0 = [(t, k, c, struct.pack(">I", fix[t]), *rest) if t in fix else (t, k, c, r, *rest) for t, k, c, r, *rest in e0]

    def ifd(group):
        body = struct.pack(">H", len(group))
        for tag, kind, count, raw, *at in group:
            body += struct.pack(">HHI", tag, kind, count) + (struct.pack(">I", at[0]) if at else raw.ljust(4, b"\x00"))
        return body + struct.pack(">I", 0)

    return b"MM\x00*" + struct.pack(">I", 8) + ifd(e0) + ifd(e1) + b"".join(blobs) + pixels


def _write(path, ifd0=NIKON, sub=SHOT, size=(96, 64), fmt=None, mode="RGB") -> Path:
    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 255, (size[1], size[0], 3), dtype=np.uint8)
    path = Path(path)
    if fmt == "TIFF" or path.suffix.lower() in (".tif", ".tiff", ".nef"):
        path.write_bytes(_tiff_bytes(rgb, ifd0, sub))
    else:
        Image.fromarray(rgb).convert(mode).save(path, format=fmt, exif=_exif(ifd0, sub))
    return path


# -- the shared real photograph ----------------------------------------------------------------------
@needs_photo
def test_shared_photo_exif_read_exactly():
    m = read_photo(PHOTO)
    # The published values (data/photos/README.md).
    assert m.camera_model == "NIKON D3S" and m.sensor_key == "D3S" and m.format == "JPEG"
    assert (m.width_px, m.height_px) == (4256, 2832)
    assert m.start_utc == np.datetime64("2012-03-10T14:54:05.000", "ns")  # SubSec 00, no offset: UTC
    assert m.time_utc == np.datetime64("2012-03-10T14:54:05.250", "ns")  # the middle of 1/2 s
    assert m.focal_mm == 24.0 and m.exposure_s == 0.5 and m.f_number == 1.4 and m.iso == 3200
    assert "no OffsetTimeOriginal: assumed UTC (ISS cameras run on GMT)" in m.time_source
    assert "middle" in m.time_source and "start" in m.time_source
    # Nikon's D3S sensor, 36.0 x 23.9 mm over 4256 x 2832: the pitch of the limiting side.
    assert m.sensor_mm == (36.0, 23.9)
    assert m.focal_px == pytest.approx(24.0 / min(36.0 / 4256, 23.9 / 2832), rel=1e-12)
    assert m.notes == ()


@needs_photo
def test_shared_photo_against_exifread_and_pillow():
    m = read_photo(PHOTO)
    with open(PHOTO, "rb") as f:
        tags = exifread.process_file(f, details=False)
    assert str(tags["EXIF DateTimeOriginal"]) == "2012:03:10 14:54:05"
    assert str(tags["EXIF SubSecTimeOriginal"]) == "00" and "EXIF OffsetTimeOriginal" not in tags
    assert float(tags["EXIF ExposureTime"].values[0]) == m.exposure_s
    assert float(tags["EXIF FocalLength"].values[0]) == m.focal_mm
    # Pillow's reader, independent of exifread.
    with Image.open(PHOTO) as im:
        ifd = im.getexif().get_ifd(IFD_EXIF)
        assert im.size == (m.width_px, m.height_px)
        assert im.getexif()[MODEL] == m.camera_model
    assert ifd[ORIGINAL] == "2012:03:10 14:54:05" and ifd[SUBSEC] == "00" and OFFSET_ORIGINAL not in ifd
    assert float(ifd[EXPOSURE]) == m.exposure_s and float(ifd[FNUMBER]) == m.f_number
    assert ifd[ISO] == m.iso and float(ifd[FOCAL]) == m.focal_mm


@needs_photo
def test_shared_photo_pixels_and_camera():
    rgb = load_pixels(PHOTO)
    assert rgb.shape == (2832, 4256, 3) and rgb.dtype == np.uint8
    with Image.open(PHOTO) as im:
        assert np.array_equal(rgb[::97, ::89], np.asarray(im.convert("RGB"))[::97, ::89])
    m = read_photo(PHOTO)
    cam = camera_for(m)
    assert cam.focal_px == pytest.approx(m.focal_px, rel=1e-12) and cam.model == "D3S"
    assert (cam.width_px, cam.height_px) == (4256, 2832) and cam.exposure_s == 0.5 and cam.iso == 3200
    # A 24 mm lens on 36 mm: 2 atan(18/24) = 73.74 deg; the 2832-row crop of 23.9 mm makes it 73.61.
    assert m.fov_deg == pytest.approx(73.61, abs=0.01)


# -- times -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("subsec, offset, want", [
    ("5", None, "2024-01-19T16:02:55.5Z"),  # '5' is .5 s; start + 1 s (half of 2 s)
    ("123", None, "2024-01-19T16:02:55.123Z"),
    ("00", "+02:00", "2024-01-19T14:02:55Z"),  # a camera on UTC+2: two hours earlier in UTC
    ("00", "-05:30", "2024-01-19T21:32:55Z"),
])
def test_capture_time_subsec_offset_and_middle(tmp_path, subsec, offset, want):
    sub = {**SHOT, SUBSEC: subsec}
    if offset:
        sub[OFFSET_ORIGINAL] = offset
    m = read_photo(_write(tmp_path / "a.jpg", sub=sub))
    assert m.time_utc == to_utc64(want)
    assert ("assumed UTC" in m.time_source) == (offset is None)
    assert m.start_utc == m.time_utc - np.timedelta64(1, "s")


def test_clock_offset_and_given_time(tmp_path):
    path = _write(tmp_path / "a.jpg")
    base = read_photo(path)
    fast = read_photo(path, clock_offset_s=-13.0)  # the camera ran 13 s ahead of UTC: -13 corrects it
    assert fast.time_utc == base.time_utc - np.timedelta64(13, "s")
    assert "ran 13.000 s ahead" in fast.time_source and fast.clock_offset_s == -13.0
    given = read_photo(path, time="2024-01-19T16:00:00Z", clock_offset_s=2.0)
    assert given.time_utc == to_utc64("2024-01-19T16:00:03Z")  # start + 2 s (a slow clock) + 1 s (half)
    assert given.time_source.startswith("given")
    with pytest.raises(TimeInputError, match="zone") as err:
        read_photo(path, time="2024-01-19T16:00:00")
    assert err.value.param == "time"
    with pytest.raises(InputError, match="camera-clock offset") as err:
        read_photo(path, clock_offset_s=float("nan"))
    assert err.value.param == "clock_offset_s"


@pytest.mark.parametrize("sub, why", [
    ({k: v for k, v in SHOT.items() if k != ORIGINAL}, "no capture time"),
    ({**SHOT, ORIGINAL: "1970:01:01 00:00:07"}, "before the station existed"),
    ({**SHOT, ORIGINAL: "2099:01:01 00:00:00"}, "in the future"),
    ({**SHOT, ORIGINAL: "    :  :     :  :  "}, "not EXIF's"),
    ({**SHOT, ORIGINAL: "2024:02:30 10:00:00"}, "not a date"),
])
def test_missing_or_absurd_time_is_none_with_a_note(tmp_path, sub, why):
    m = read_photo(_write(tmp_path / "a.jpg", sub=sub))
    assert m.time_utc is None and m.time_source.startswith("unknown")
    note = " ".join(m.notes)
    assert why in note and "time=" in note


def test_digitized_time_is_the_fallback(tmp_path):
    sub = {k: v for k, v in SHOT.items() if k not in (ORIGINAL, SUBSEC)}
    sub[DIGITIZED] = "2024:01:19 16:02:54"
    m = read_photo(_write(tmp_path / "a.jpg", sub=sub))
    assert m.time_utc == to_utc64("2024-01-19T16:02:55Z") and "DateTimeDigitized" in m.time_source


# -- lens, body, exposure ----------------------------------------------------------------------------
def test_focal_zero_and_overrides(tmp_path):
    path = _write(tmp_path / "a.jpg", sub={**SHOT, FOCAL: IFDRational(0, 1)})
    m = read_photo(path)
    assert m.focal_mm is None and m.focal_px is None and "absurd" in " ".join(m.notes)
    with pytest.raises(InputError, match="lens=MM") as err:
        camera_for(m)
    assert err.value.param == "lens"
    given = read_photo(path, lens="50mm")
    assert given.focal_mm == 50.0 and given.focal_px == pytest.approx(50.0 / min(36.0 / 96, 23.9 / 64), rel=1e-12)
    for bad in ("0", "wide", "nan"):
        with pytest.raises(InputError, match="focal length") as err:
            read_photo(path, lens=bad)
        assert err.value.param == "lens"


def test_body_from_table_crop_factor_or_given(tmp_path):
    canon = {MAKE: "Canon", MODEL: "Canon EOS 5D"}
    sub = {**SHOT, FOCAL35: 38}  # 24 mm on a 1.6x crop body: 38 mm equivalent
    m = read_photo(_write(tmp_path / "a.jpg", ifd0=canon, sub=sub, size=(300, 200)))
    assert m.sensor_key is None and m.camera_model == "Canon EOS 5D"
    diag = math.hypot(*m.sensor_mm)
    assert diag == pytest.approx(math.hypot(36, 24) * 24 / 38, rel=1e-5)  # the crop factor's diagonal
    assert m.sensor_mm[0] / m.sensor_mm[1] == pytest.approx(1.5, rel=1e-4)
    assert "35 mm-equivalent" in " ".join(m.notes)
    # Without a crop factor the body is unknown until given.
    m = read_photo(_write(tmp_path / "b.jpg", ifd0=canon, size=(300, 200)))
    assert m.sensor_mm is None and m.focal_px is None and "camera=BODY" in " ".join(m.notes)
    with pytest.raises(InputError, match="camera=BODY") as err:
        camera_for(m)
    assert err.value.param == "camera"
    m = read_photo(tmp_path / "b.jpg", camera="nikon d2xs")
    assert m.sensor_key == "D2XS" and m.sensor_mm == (23.7, 15.7)
    with pytest.raises(InputError, match="unknown camera body 'Hasselblad'") as err:
        read_photo(tmp_path / "b.jpg", camera="Hasselblad")
    assert err.value.param == "camera"


def test_every_iss_body_is_a_camera_model():
    for name in ("NIKON D1", "NIKON D1X", "NIKON D2Xs", "NIKON D3", "NIKON D3S", "NIKON D3X", "NIKON D4",
                 "NIKON D4S", "NIKON D5", "NIKON D6", "NIKON D800E", "NIKON D850", "NIKON Z 9", "DCS760C"):
        key = sensor_key(name)
        assert key in SENSORS, name
        cam = Camera(model=key, focal_mm=24.0)
        assert cam.camera_name == SENSORS[key][2]
    assert sensor_key("NIKON D3S") == "D3S" and sensor_key("Nikon Z 9") == "Z9" and sensor_key("D700") is None
    assert SENSORS["D2XS"][:2] == (23.7, 15.7)  # APS-C, the figure


def test_apex_fallbacks_and_absurd_exposure(tmp_path):
    sub = {k: v for k, v in SHOT.items() if k not in (EXPOSURE, FNUMBER)}
    sub[0x9201] = IFDRational(3, 1)  # ShutterSpeedValue Tv 3: 1/8 s
    sub[0x9202] = IFDRational(2, 1)  # ApertureValue Av 2: f/2
    m = read_photo(_write(tmp_path / "a.jpg", sub=sub))
    assert m.exposure_s == pytest.approx(1 / 8) and m.f_number == pytest.approx(2.0)
    m = read_photo(_write(tmp_path / "b.jpg", sub={**SHOT, EXPOSURE: IFDRational(100000, 1)}))
    assert m.exposure_s is None and m.time_utc == m.start_utc  # no half exposure to add
    assert "absurd" in " ".join(m.notes)


# -- formats -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("ext, fmt", [(".tif", "TIFF"), (".png", "PNG"), (".nef", "NEF")])
def test_tiff_png_nef(tmp_path, ext, fmt):
    path = _write(tmp_path / f"a{ext}", fmt="TIFF" if ext == ".nef" else None)
    m = read_photo(path)
    assert m.format == fmt and m.camera_model == "NIKON D3S" and m.focal_mm == 24.0 and m.iso == 6400
    assert m.time_utc == to_utc64("2024-01-19T16:02:55.5Z")
    if fmt == "NEF":
        with pytest.raises(InputError, match="raw pixels"):
            load_pixels(path)
    else:
        assert load_pixels(path).shape == (64, 96, 3)


def test_cupola_renders_read_back(tmp_path):
    """A frame cupola wrote (PNG and JPEG, EXIF with OffsetTimeOriginal +00:00) reads back."""
    from cupola.camera import Attitude
    from cupola.inputs import parse_look
    from cupola.render import Frame, RenderSettings
    from cupola.render.output import save_frame
    from cupola.scene import compute_scene

    cam = Camera(model="Z9", focal_mm=50.0, width_px=64, height_px=48, look=parse_look("nadir"), exposure_s=4.0,
                 iso=6400.0, f_number=1.2)
    scene = compute_scene("2024-01-19T16:02:54.250Z", camera=cam, parts=("lighting", "places"))
    frame = Frame(scene=scene, camera=cam, attitude=Attitude.from_look(cam.look, scene), settings=RenderSettings(),
                  geometry=None, luminance=None, rgb=np.zeros((48, 64, 3), np.uint8), timings_s={})
    for ext in (".png", ".jpg"):
        m = read_photo(save_frame(frame, tmp_path / f"v{ext}"))
        assert m.sensor_key == "Z9" and m.focal_mm == 50.0 and m.f_number == 1.2 and m.iso == 6400
        assert m.start_utc == to_utc64("2024-01-19T16:02:54.250Z") and "OffsetTimeOriginal +00:00" in m.time_source
        assert m.time_utc == to_utc64("2024-01-19T16:02:56.250Z")


@pytest.mark.parametrize("mode", ["L", "RGBA", "P", "I;16"])
def test_pixel_modes(tmp_path, mode):
    rng = np.random.default_rng(1)
    if mode == "I;16":
        a = rng.integers(0, 65535, (40, 50), dtype=np.uint16)
        Image.fromarray(a).save(tmp_path / "a.tif")
        rgb = load_pixels(tmp_path / "a.tif")
        assert np.array_equal(rgb[..., 0], np.rint(a / 257.0).astype(np.uint8))
    else:
        img = Image.fromarray(rng.integers(0, 255, (40, 50, 3), dtype=np.uint8)).convert(mode)
        img.save(tmp_path / "a.png")
        rgb = load_pixels(tmp_path / "a.png")
        assert np.array_equal(rgb, np.asarray(img.convert("RGB")))
    assert rgb.shape == (40, 50, 3) and rgb.dtype == np.uint8


# -- hostile files -----------------------------------------------------------------------------------
def _png_header(w: int, h: int) -> bytes:
    def chunk(kind, data):
        import zlib
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)) + \
        chunk(b"IDAT", b"\x78\x9c\x03\x00\x00\x00\x00\x01") + chunk(b"IEND", b"")


def _tiff_block(count: int, tag: int = ORIGINAL, kind: int = 2) -> bytes:
    """A big-endian TIFF structure whose one IFD entry claims `count` values far past its end."""
    return b"MM\x00*" + struct.pack(">I", 8) + struct.pack(">H", 1) + struct.pack(">HHII", tag, kind, count, 26) + \
        struct.pack(">I", 0)


def _jpeg_with_app1(payload: bytes) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (16, 16)).save(buf, "JPEG")
    raw = buf.getvalue()
    seg = b"\xff\xe1" + struct.pack(">H", len(payload) + 8) + b"Exif\x00\x00" + payload
    return raw[:2] + seg + raw[2:]


@pytest.mark.parametrize("name, data, match", [
    ("empty.jpg", b"", "empty"),
    ("random.jpg", bytes(np.random.default_rng(3).integers(0, 256, 5000, dtype=np.uint8)), "not a JPEG, TIFF or PNG"),
    ("huge.png", _png_header(20000, 20000), "megapixels|decompression-bomb"),
    ("text.jpg", b"GIF89a not really", "not a JPEG"),
    ("bigtiff.tif", b"II+\x00" + bytes(12), "BigTIFF"),
    ("broken.jpg", b"\xff\xd8\xff\xe0" + bytes(40), "header is broken"),
])
def test_hostile_files_refused(tmp_path, name, data, match):
    path = tmp_path / name
    path.write_bytes(data)
    t0 = time.perf_counter()
    with pytest.raises(InputError, match=match) as err:
        read_photo(path)
    assert err.value.param == "path" and str(path) in str(err.value)
    with pytest.raises(InputError, match=match):
        load_pixels(path)
    assert time.perf_counter() - t0 < 10.0  # a bound, not a performance goal: refused from the header


def test_truncated_jpeg_metadata_but_not_pixels(tmp_path):
    whole = _write(tmp_path / "a.jpg", size=(400, 300)).read_bytes()
    path = tmp_path / "cut.jpg"
    path.write_bytes(whole[: len(whole) // 2])
    assert read_photo(path).iso == 6400  # the header and EXIF are intact
    with pytest.raises(InputError, match="truncated or corrupt") as err:
        load_pixels(path)
    assert err.value.param == "path"


@pytest.mark.parametrize("payload", [
    _tiff_block(0xFFFFFFFF),  # an ASCII tag claiming 4 GB
    _tiff_block(0x7FFFFFFF, tag=0x0111, kind=4),  # StripOffsets: 2^31 LONGs
    b"MM\x00*" + struct.pack(">I", 8) + struct.pack(">H", 0xFFFF) + bytes(60000),  # 65535 entries of zeros
    b"II*\x00" + struct.pack("<I", 8) + bytes(65000),
])
def test_huge_or_hostile_exif_blocks_are_bounded(tmp_path, payload):
    path = tmp_path / "a.jpg"
    path.write_bytes(_jpeg_with_app1(payload))
    t0 = time.perf_counter()
    m = read_photo(path)  # the block is ignored or read in part, never an exception
    assert time.perf_counter() - t0 < 10.0
    assert m.width_px == 16 and m.time_utc is None


def test_hostile_tiff_reads_are_bounded(tmp_path):
    """A TIFF is parsed in place, behind a reader that stops at MAX_EXIF_BYTES."""
    path = _write(tmp_path / "a.tif", size=(600, 600))
    raw = bytearray(path.read_bytes())
    raw += _tiff_block(0x7FFFFFFF, tag=0x8769, kind=4)[8:] + bytes(3 * MAX_EXIF_BYTES)  # padding past the budget
    path.write_bytes(bytes(raw))
    m = read_photo(path)
    assert m.width_px == 600
    # A PNG whose eXIf chunk, after the image data, claims 50 MB.
    data = _png_header(20, 20)
    iend = data.rindex(b"IEND") - 4
    (tmp_path / "c.png").write_bytes(data[:iend] + struct.pack(">I", 50_000_000) + b"eXIf" + bytes(64) + data[iend:])
    m = read_photo(tmp_path / "c.png")
    assert m.width_px == 20 and any("larger than" in n for n in m.notes)


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        read_photo(tmp_path / "nope.jpg")
    with pytest.raises(InputError, match="is a folder"):
        read_photo(tmp_path)
