"""Read a photograph's capture metadata: time, camera body, lens, exposure and image size.

The model (EXIF 2.32, CIPA DC-008-2019):

- **Time.** DateTimeOriginal (0x9003, ``YYYY:MM:DD HH:MM:SS``) plus SubSecTimeOriginal (0x9291,
  the digits of a decimal fraction: '00' is .00 s, '5' is .5 s) is when the exposure STARTED
  (Nikon bodies stamp the shutter's opening); OffsetTimeOriginal (0x9011, EXIF 2.31, '+HH:MM')
  is the clock's zone. Without it the time is taken as UTC, and said so: ISS cameras run on GMT,
  the station's time. A camera clock that drifted is corrected by `clock_offset_s`, ADDED to the
  recorded time (a clock 13 s fast takes -13: the sign of the limb fit's
  :attr:`cupola.photo.clock.ClockFit.offset_s`), and the instant cupola computes at is the exposure's MIDDLE:
  start + ExposureTime / 2 (a 30 s exposure moves the station 115 km). DateTimeDigitized is the
  fallback when the original is absent; the file's DateTime (0x0132) is not used (editors rewrite
  it: the shared photo says 2014, the year GIMP saved it).
- **Sensor and focal length in pixels.** The body's sensor comes from
  :data:`cupola.camera.SENSORS` (the bodies flown on the ISS, matched on the EXIF Model), else
  from the crop factor FocalLengthIn35mmFilm / FocalLength (against the 43.27 mm diagonal of a
  36 x 24 mm frame; those tags are whole millimetres, so a few per cent), else from
  FocalPlaneX/YResolution. The pixel pitch is that of the sensor cropped to the image's aspect
  (as :attr:`cupola.camera.Camera.focal_px`), so a downsized copy keeps its field of view.
- **Reading.** exifread (maintained, offline) parses the EXIF block, without maker notes and
  thumbnails; it is handed only that block (a JPEG's APP1 'Exif' segment, at most 64 kB; a PNG's
  eXIf chunk) or, for TIFF and NEF (TIFF-based raw), the file, behind a reader that stops after
  :data:`MAX_EXIF_BYTES` read (the same bytes read again count again: entries may share their
  values), so a hostile file costs bounded time and memory. The image size comes
  from Pillow's header, read before any pixel, with its decompression-bomb limit kept on and the
  camera model's own pixel limit (:data:`cupola.camera.MAX_PIXELS`) below it.

What it leaves out: lens distortion (the plate solve fits it), the Orientation tag (pixels are
taken as stored, the sensor's own frame), maker notes, GPS tags (ISS photographs carry none),
and the raw pixels of NEF files (their metadata is read; export a TIFF or JPEG for the pixels).
Missing or absurd values (no time, a year before the station existed, a focal length of 0)
become None with a note that names the parameter to supply (`time`, `lens`, `camera`).
"""

from __future__ import annotations

import datetime as _dt
import io
import logging
import math
import re
import warnings
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..camera import MAX_PIXELS, RANGES, SENSORS, Camera, Look
from ..elements.validity import KNOWN_LAUNCH_UTC
from ..constants import ISS_NORAD_ID
from ..errors import CupolaError, InputError, TimeInputError
from ..timebase import add_seconds, iso_utc, shown, to_utc64

log = logging.getLogger(__name__)

# Bounds of what is read before refusing: no photograph cupola can use is larger (a 64 MP 16-bit
# RGB TIFF is 384 MB), and no EXIF block needs more (a JPEG's is at most 64 kB).
MAX_FILE_BYTES = 600_000_000
MAX_EXIF_BYTES = 1 << 20
# Reads of the EXIF block that come back short: an IFD entry or a value past the end of the block (or
# file). A sound block has none; exifread walks every entry an IFD declares (up to 65,535), and one
# past the end costs as much as one inside, so a 400-byte block declaring that many took 0.2 s.
MAX_SHORT_READS = 1_000
MAX_JPEG_SEGMENTS = 1024
MAX_PNG_CHUNKS = 100_000
# The diagonal of a 36 x 24 mm frame, what FocalLengthIn35mmFilm refers to (CIPA DC-008 4.6.5).
FULL_FRAME_DIAGONAL_MM = math.hypot(36.0, 24.0)
# No photograph from the station is older than its first module; a camera clock reset to 1970
# (or never set) lands before it.
EARLIEST_CAPTURE_UTC = KNOWN_LAUNCH_UTC[ISS_NORAD_ID]
# A clock this far in the future is wrong, not fast.
FUTURE_SLACK_DAYS = 2
# Unit of FocalPlaneResolutionUnit (EXIF 2.32 table: 2 inch, 3 cm; 4 mm and 5 um are TIFF/EP).
_FOCAL_PLANE_UNIT_MM = {2: 25.4, 3: 10.0, 4: 1.0, 5: 0.001}
# EXIF Model text that names a SENSORS body differently from its key.
_MODEL_ALIASES = {"DCS760C": "DCS760", "DCS760M": "DCS760", "KODAKDCS760": "DCS760", "Z9": "Z9"}
FORMATS = {"JPEG": "JPEG", "TIFF": "TIFF", "PNG": "PNG", "NEF": "NEF"}

# datetime64[ns] holds the years 1678 to 2262 and wraps silently past them (9999 became 1816, and 2600
# became 2015, a plausible time): a capture time outside these (a day's margin kept for the zone) is
# judged on the datetime, before it is converted.
_NS_FIRST, _NS_LAST = _dt.datetime(1678, 1, 2), _dt.datetime(2261, 12, 30)
# SubSecTimeOriginal's digits read: past nanoseconds they change nothing (int() refuses 4,300 of them).
_SUBSEC_DIGITS = 12
_DATETIME = re.compile(r"^\s*(\d{4})[:\-](\d{2})[:\-](\d{2})[ T](\d{2}):(\d{2}):(\d{2})\s*$")
_OFFSET = re.compile(r"^\s*(?:([+-])(\d{2}):?(\d{2})|Z)\s*$")


@dataclass(frozen=True)
class PhotoMeta:
    """What a photograph's file says about its capture (None: unknown or absurd; see `notes`).

    Attributes:
        path: the file.
        width_px, height_px: the image as stored (Pillow's header).
        time_utc: datetime64[ns] of the exposure's MIDDLE, after the clock offset; None if unknown.
        time_source: where the time came from and how it was read, in words.
        camera_model: EXIF Make and Model ('NIKON CORPORATION NIKON D3S'), '' without them.
        sensor_key: the :data:`cupola.camera.SENSORS` key of the body, None when not in the table.
        sensor_mm: (width, height) of the sensor, mm, or None.
        focal_mm: the lens' focal length, mm; focal_px: in pixels of this image.
        exposure_s, iso, f_number: the exposure.
        notes: what was assumed, corrected or missing, and how to supply it.
        format: 'JPEG', 'TIFF', 'PNG' or 'NEF'.
        start_utc: the exposure's start (EXIF time, zone and clock offset applied), or None.
        clock_offset_s: the correction added to the recorded time (s; a clock 13 s fast: -13).
        time_parts: `time_source` as (code, value) pairs, for the words in other languages
            (:func:`cupola.answers.text.time_source_text`).
    """

    path: str
    width_px: int
    height_px: int
    time_utc: np.datetime64 | None
    time_source: str
    camera_model: str
    sensor_key: str | None
    sensor_mm: tuple[float, float] | None
    focal_mm: float | None
    focal_px: float | None
    exposure_s: float | None
    iso: float | None
    f_number: float | None
    notes: tuple[str, ...]
    format: str = "JPEG"
    start_utc: np.datetime64 | None = None
    clock_offset_s: float = 0.0
    time_parts: tuple = ()

    @property
    def fov_deg(self) -> float | None:
        """Return the horizontal field of view of the recorded lens, degrees (None if unknown)."""
        if self.focal_px is None:
            return None
        return float(np.degrees(2.0 * np.arctan(0.5 * self.width_px / self.focal_px)))


# -- the file ---------------------------------------------------------------------------------------
def _refuse(path, what: str) -> InputError:
    return InputError(f"cannot read the photograph {str(path)!r}: {what}", param="path")


def _sniff(head: bytes, path: Path) -> str:
    """Return the format of a file from its first bytes (and NEF from its name)."""
    if head[:3] == b"\xff\xd8\xff":
        return "JPEG"
    if head[:8] == b"\x89PNG\r\n\x1a\n":
        return "PNG"
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return "NEF" if path.suffix.lower() == ".nef" else "TIFF"
    if head[:4] in (b"II+\x00", b"MM\x00+"):
        raise _refuse(path, "it is a BigTIFF, which cupola does not read; save it as a TIFF or JPEG")
    shown = head[:8].hex(" ") if head else "nothing"
    raise _refuse(path, f"it is not a JPEG, TIFF or PNG image (it starts with bytes {shown}); pass the "
                        "camera's JPEG or TIFF")


def check_file(path) -> tuple[Path, str]:
    """Return (path, format) of a photograph file cupola can read, refusing anything else first.

    Raises:
        InputError: (param 'path') no such file, a folder, unreadable, empty, larger than
            :data:`MAX_FILE_BYTES`, or not a JPEG, TIFF (NEF) or PNG by its first bytes.
    """
    p = Path(path)
    if not p.exists():
        raise _refuse(p, "no such file; check the name")
    if p.is_dir():
        raise _refuse(p, "it is a folder; pass an image file inside it")
    try:
        size = p.stat().st_size
        with open(p, "rb") as f:
            head = f.read(16)
    except OSError as exc:
        raise _refuse(p, f"{exc.strerror or exc}; check its permissions") from None
    if size == 0:
        raise _refuse(p, "the file is empty")
    if size > MAX_FILE_BYTES:
        raise _refuse(p, f"the file holds {size / 1e6:,.0f} MB, more than any photograph cupola reads "
                         f"({MAX_FILE_BYTES / 1e6:,.0f} MB); pass a JPEG or a smaller TIFF")
    return p, _sniff(head, p)


class _ReadBudgetExceeded(Exception):
    """More bytes were asked of an EXIF block than :data:`MAX_EXIF_BYTES`, or more reads came back short
    than :data:`MAX_SHORT_READS`; the argument is the note that says so."""


def _too_large() -> _ReadBudgetExceeded:
    return _ReadBudgetExceeded(f"the EXIF block is larger than {MAX_EXIF_BYTES // 1024} kB, or its entries read "
                               "more than that: ignored")


class _BoundedReader:
    """A read-only binary file that raises once more than `budget` bytes were read, or more than
    :data:`MAX_SHORT_READS` reads came back short (past the end); seeks are free."""

    def __init__(self, f, budget: int):
        self._f = f
        self._left = int(budget)
        self._short = 0

    def read(self, n: int = -1) -> bytes:
        if n is None or n < 0 or n > self._left:
            n = self._left + 1
        data = self._f.read(n)
        self._left -= len(data)
        if self._left < 0:
            raise _too_large()
        if len(data) < n:
            self._short += 1
            if self._short > MAX_SHORT_READS:
                raise _ReadBudgetExceeded(f"the EXIF block points past its end more than {MAX_SHORT_READS:,} "
                                          "times (it is corrupt): ignored")
        return data

    def seek(self, offset: int, whence: int = 0) -> int:
        return self._f.seek(offset, whence)

    def tell(self) -> int:
        return self._f.tell()


def _jpeg_exif_block(f) -> bytes | None:
    """Return the TIFF structure of a JPEG's APP1 'Exif' segment (None when it has none).

    Walks the markers from SOI to the first SOS (where the image data starts), seeking over
    every other segment."""
    f.seek(2)
    for _ in range(MAX_JPEG_SEGMENTS):
        b = f.read(2)
        if len(b) < 2 or b[0] != 0xFF:
            return None
        marker = b[1]
        while marker == 0xFF:  # fill bytes before a marker
            nxt = f.read(1)
            if not nxt:
                return None
            marker = nxt[0]
        if marker in (0xD9, 0xDA):  # EOI, SOS: no EXIF before the image data
            return None
        if 0xD0 <= marker <= 0xD7 or marker in (0x01, 0xD8):  # no length field
            continue
        raw = f.read(2)
        if len(raw) < 2:
            return None
        n = int.from_bytes(raw, "big")
        if n < 2:
            return None
        if marker == 0xE1 and n >= 8:
            if f.read(6) == b"Exif\x00\x00":
                return f.read(n - 8)
            f.seek(n - 8, 1)
        else:
            f.seek(n - 2, 1)
    return None


def _png_exif_block(f) -> bytes | None:
    """Return the TIFF structure of a PNG's eXIf chunk (None when it has none)."""
    f.seek(8)
    for _ in range(MAX_PNG_CHUNKS):
        head = f.read(8)
        if len(head) < 8:
            return None
        n, kind = int.from_bytes(head[:4], "big"), head[4:8]
        if kind == b"IEND":
            return None
        if kind == b"eXIf":
            if n > MAX_EXIF_BYTES:
                raise _too_large()
            data = f.read(n)
            return data[6:] if data.startswith(b"Exif\x00\x00") else data
        f.seek(n + 4, 1)
    return None


def read_exif(path, fmt: str) -> tuple[dict, list[str]]:
    """Return (exifread's tags, notes) of the photograph's EXIF block, bounded in size.

    An unreadable or oversized block gives no tags and a note, never an exception: the photo
    may still be annotated with the values the user supplies."""
    import exifread

    notes: list[str] = []
    try:
        with open(path, "rb") as f:
            if fmt in ("JPEG", "PNG"):
                block = _jpeg_exif_block(f) if fmt == "JPEG" else _png_exif_block(f)
                # The block is in memory, but its IFD entries may all point at the same values: the reads
                # are counted as a TIFF's are (a 64 kB block of entries each of 999 rationals took 13-15 s).
                source = _BoundedReader(io.BytesIO(block), MAX_EXIF_BYTES) if block else None
            else:
                source = _BoundedReader(f, MAX_EXIF_BYTES)
            if source is None:
                return {}, ["the file carries no EXIF block"]
            tags = exifread.process_file(source, details=False, extract_thumbnail=False, strict=False)
    except _ReadBudgetExceeded as exc:
        return {}, [str(exc)]
    except Exception as exc:  # a hostile block may break the parser in any way; it is then ignored
        log.debug("exifread failed on %s: %r", path, exc)
        return {}, [f"the EXIF block could not be read ({type(exc).__name__}): ignored"]
    if not tags:
        notes.append("the EXIF block holds no tags cupola reads")
    return dict(tags), notes


# -- tag values -------------------------------------------------------------------------------------
def _text(tags: dict, key: str) -> str | None:
    tag = tags.get(key)
    if tag is None:
        return None
    value = getattr(tag, "values", tag)
    if isinstance(value, bytes):
        value = value.decode("ascii", "replace")
    if isinstance(value, (list, tuple)):
        value = "".join(str(v) for v in value)
    text = str(value).replace("\x00", "").strip()
    return text or None


def _number(tags: dict, key: str) -> float | None:
    tag = tags.get(key)
    values = getattr(tag, "values", None)
    if not values or isinstance(values, (str, bytes)):
        return None
    try:
        v = values[0]
        x = float(v.num) / float(v.den) if hasattr(v, "den") else float(v)
    except (TypeError, ValueError, ZeroDivisionError, OverflowError, IndexError):
        return None
    return x if math.isfinite(x) else None


def _in_range(name: str, value: float | None) -> bool:
    lo, hi = RANGES[name][:2]
    return value is not None and lo <= value <= hi


def _parse_exif_time(stamp: str, subsec: str | None, offset: str | None, notes: list[str], what: str):
    """Return (UTC datetime64[ns] of the camera's reading, time parts (code, value)), or (None, (code, why)):
    code 'unreadable' for a stamp that is no date, 'absurd' for one no datetime64[ns] holds."""
    m = _DATETIME.match(stamp)
    if not m:
        return None, ("unreadable", f"its capture time {shown(stamp)} is not EXIF's 'YYYY:MM:DD HH:MM:SS'")
    try:
        t = _dt.datetime(*(int(g) for g in m.groups()))
    except ValueError:
        return None, ("unreadable", f"its capture time {shown(stamp)} is not a date")
    if not _NS_FIRST <= t <= _NS_LAST:
        shown_time = f"{what} {t.isoformat()} (camera time)"
        return None, ("absurd", _too_early(shown_time) if t < _NS_FIRST else _too_late(shown_time))
    t64 = np.datetime64(t, "ns")
    words = []
    if subsec:
        digits = subsec.strip()
        if digits.isascii() and digits.isdigit():  # str.isdigit() alone takes '²', which int() refuses
            digits = digits[:_SUBSEC_DIGITS]
            t64 = t64 + np.timedelta64(int(round(int(digits) / 10 ** len(digits) * 1e9)), "ns")
        else:
            notes.append(f"the sub-second tag {shown(subsec)} is not digits: ignored")
    if offset:
        mo = _OFFSET.match(offset)
        if mo and mo.group(1) and (int(mo.group(2)) > 23 or int(mo.group(3)) > 59):
            notes.append(f"the zone tag {shown(offset)} is not a zone (hours to 23, minutes to 59): assumed UTC")
            words.append(("offset_bad", None))
        elif mo and mo.group(1):
            minutes = (int(mo.group(2)) * 60 + int(mo.group(3))) * (1 if mo.group(1) == "+" else -1)
            t64 = t64 - np.timedelta64(minutes, "m")
            words.append(("offset", offset.strip()))
        elif mo:
            words.append(("offset", "Z"))
        else:
            notes.append(f"the zone tag {shown(offset)} is not '+HH:MM': assumed UTC")
            words.append(("offset_bad", None))
    else:
        words.append(("no_offset", None))
    return t64, words


def _too_early(shown_time: str) -> str:
    return (f"{shown_time} is before the station existed (its first module was launched "
            f"{iso_utc(EARLIEST_CAPTURE_UTC)[:10]}): the camera clock was not set")


def _too_late(shown_time: str) -> str:
    return f"{shown_time} is in the future: the camera clock was wrong"


def _plausible(t64, what: str) -> str | None:
    """Return why `t64` cannot be a photograph from the station (None when it can be)."""
    if t64 < EARLIEST_CAPTURE_UTC:
        return _too_early(f"{what} {iso_utc(t64)}")
    now = np.datetime64(_dt.datetime.now(_dt.timezone.utc).replace(tzinfo=None), "ns")
    if t64 > now + np.timedelta64(FUTURE_SLACK_DAYS, "D"):
        return _too_late(f"{what} {iso_utc(t64)}")
    return None


def _time_of(tags: dict, time, clock_offset_s: float, exposure_s: float | None, notes: list[str]):
    """Return (start, middle, time parts) of the exposure (None, None, why when unknown); the parts
    are (code, value) pairs that :func:`cupola.answers.text.time_source_text` words."""
    if time is not None:
        try:
            start = to_utc64(time)
        except TimeInputError as exc:
            raise TimeInputError(exc.detail, param="time", fix=exc.fix) from None
        if start.ndim != 0:
            raise InputError(f"a photograph has one capture time, got {start.size}", param="time")
        words = [("given", None)]
    else:
        start = None
        for kind in ("Original", "Digitized"):
            stamp = _text(tags, f"EXIF DateTime{kind}")
            if not stamp:
                continue
            t64, parsed = _parse_exif_time(stamp, _text(tags, f"EXIF SubSecTime{kind}"),
                                           _text(tags, f"EXIF OffsetTime{kind}"), notes, f"its EXIF DateTime{kind}")
            if t64 is None:
                code, why = parsed
                notes.append(f"{why}; give the capture time (time=ISO-8601 with a zone)")
                return None, None, (("unknown", code),)
            why = _plausible(t64, f"its EXIF DateTime{kind}")
            if why:
                notes.append(f"{why}; give the capture time (time=ISO-8601 with a zone)")
                return None, None, (("unknown", "absurd"),)
            sub = f"+SubSecTime{kind}" if _text(tags, f"EXIF SubSecTime{kind}") else ""
            words = [("exif", f"DateTime{kind}{sub}")] + parsed
            if kind == "Digitized":
                notes.append("no DateTimeOriginal: the time is DateTimeDigitized")
            start = t64
            break
        if start is None:
            notes.append("the photograph records no capture time (no EXIF DateTimeOriginal); give it "
                         "(time=ISO-8601 with a zone) for the station's position and the view")
            return None, None, (("unknown", "none"),)
    start = np.datetime64(start, "ns")
    if clock_offset_s:
        start = add_seconds(start, float(clock_offset_s))
        words.append(("clock", float(clock_offset_s)))
    if exposure_s is not None:
        mid = add_seconds(start, 0.5 * exposure_s)
        words.append(("mid", 0.5 * exposure_s))
    else:
        mid = start
        words.append(("no_exposure", None))
    return start, np.datetime64(mid, "ns"), tuple(words)


def _norm_model(text: str) -> str:
    t = re.sub(r"[^A-Z0-9]", "", text.upper())
    for word in ("NIKONCORPORATION", "EASTMANKODAKCOMPANY", "DIGITALCAMERA", "NIKON", "KODAK"):
        t = t.replace(word, "")
    return t


def sensor_key(text: str) -> str | None:
    """Return the :data:`cupola.camera.SENSORS` key a body's name means ('NIKON D3S', 'd3s',
    'Nikon Z 9' -> 'D3S', 'Z9'), or None."""
    t = _norm_model(str(text))
    if t in SENSORS:
        return t
    if t in _MODEL_ALIASES:
        return _MODEL_ALIASES[t]
    by_name = {_norm_model(v[2]): k for k, v in SENSORS.items()}
    return by_name.get(t)


def given_camera(camera) -> str:
    """Return the :data:`cupola.camera.SENSORS` key of a body the user named (`camera=`), or raise InputError
    naming the bodies cupola knows."""
    key = sensor_key(camera)
    if key is None:
        raise InputError(f"unknown camera body {shown(camera)}; use one of {', '.join(SENSORS)}", param="camera")
    return key


def _sensor_of(tags: dict, camera, model_text: str, width: int, height: int, focal_mm, notes: list[str]):
    """Return (sensor key or None, (w, h) mm or None, words)."""
    if camera is not None:
        key = given_camera(camera)
        sw, sh, _ = SENSORS[key]
        return key, (sw, sh), "given"
    model = _text(tags, "Image Model") or ""
    key = sensor_key(model) if model else None
    if key is not None:
        sw, sh, _ = SENSORS[key]
        return key, (sw, sh), f"{SENSORS[key][2]} (cupola.camera.SENSORS)"
    f35 = _number(tags, "EXIF FocalLengthIn35mmFilm")
    if f35 and focal_mm and f35 >= focal_mm * 0.9:
        diag = FULL_FRAME_DIAGONAL_MM * focal_mm / f35
        k = diag / math.hypot(width, height)
        notes.append(f"camera body {shown(model_text or 'unknown')} is not in cupola's table: its sensor "
                     f"({width * k:.1f} x {height * k:.1f} mm) comes from the 35 mm-equivalent focal length "
                     f"{f35:g} mm (whole millimetres: a few per cent); give camera=BODY for the exact size")
        return None, (width * k, height * k), "from the crop factor"
    xres, yres = _number(tags, "EXIF FocalPlaneXResolution"), _number(tags, "EXIF FocalPlaneYResolution")
    unit = _number(tags, "EXIF FocalPlaneResolutionUnit")
    unit_mm = _FOCAL_PLANE_UNIT_MM.get(int(unit) if unit else 2)
    wide = _number(tags, "EXIF ExifImageWidth") or width
    tall = _number(tags, "EXIF ExifImageLength") or height
    if xres and yres and xres > 0 and yres > 0 and unit_mm:
        sw, sh = wide / xres * unit_mm, tall / yres * unit_mm
        if 1.0 < sw < 100.0 and 1.0 < sh < 100.0:
            notes.append(f"camera body {shown(model_text or 'unknown')} is not in cupola's table: its sensor "
                         f"({sw:.1f} x {sh:.1f} mm) comes from FocalPlaneX/YResolution")
            return None, (sw, sh), "from the focal-plane resolution"
    notes.append(f"the sensor of camera body {shown(model_text or 'unknown')} is not known; give camera=BODY "
                 f"(one of {', '.join(SENSORS)})")
    return None, None, "unknown"


def _focal_of(tags: dict, lens, notes: list[str]) -> float | None:
    if lens is not None:
        text = str(lens).strip().lower().removesuffix("mm").strip()
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        lo, hi, _unit, _ex = RANGES["focal_mm"]
        if not (math.isfinite(value) and lo <= value <= hi):
            raise InputError(f"the focal length must be a number of mm from {lo:g} to {hi:,.0f}, got {lens!r}; "
                             "e.g. 24", param="lens")
        return value
    f = _number(tags, "EXIF FocalLength")
    if _in_range("focal_mm", f):
        return f
    if f is None:
        notes.append("the photograph records no focal length; give the lens (lens=MM)")
    else:
        notes.append(f"its recorded focal length {f:g} mm is absurd; give the lens (lens=MM)")
    return None


def _exposure_of(tags: dict, notes: list[str]) -> tuple[float | None, float | None, float | None]:
    """Return (exposure_s, iso, f_number) from the EXIF, each None when missing or absurd."""
    exposure = _number(tags, "EXIF ExposureTime")
    if exposure is None:
        tv = _number(tags, "EXIF ShutterSpeedValue")  # APEX: t = 2^-Tv
        if tv is not None and abs(tv) < 40:
            exposure = 2.0 ** -tv
            notes.append(f"no ExposureTime: {exposure:.4g} s from the APEX ShutterSpeedValue")
    if exposure is not None and not _in_range("exposure_s", exposure):
        notes.append(f"its recorded exposure {exposure:g} s is absurd: ignored")
        exposure = None
    if exposure is None:
        notes.append("no exposure time: the trail lengths cannot be predicted")
    iso = _number(tags, "EXIF ISOSpeedRatings")
    if iso is not None and iso >= 65535:  # EXIF 2.3: the SHORT saturates, the value is in ISOSpeed
        iso = _number(tags, "EXIF ISOSpeed") or _number(tags, "EXIF RecommendedExposureIndex") or iso
    if iso is not None and not _in_range("iso", iso):
        iso = None
    f_number = _number(tags, "EXIF FNumber")
    if f_number is None:
        av = _number(tags, "EXIF ApertureValue")  # APEX: N = 2^(Av/2)
        f_number = 2.0 ** (av / 2.0) if av is not None and abs(av) < 40 else None
    if f_number is not None and not _in_range("f_number", f_number):
        f_number = None
    return exposure, iso, f_number


@contextmanager
def _pillow_quiet():
    """Silence Pillow's UserWarnings ('Corrupt EXIF data', 'Truncated File Read') while it opens a
    file: the EXIF block is read by exifread with its own notes, and a warning on stderr would
    break the command line's one-line answer. Its decompression-bomb checks are errors or
    RuntimeWarnings and are kept."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=UserWarning, module=r"PIL\.")
        yield


def image_header(path, fmt: str) -> tuple[int, int, str]:
    """Return (width, height, Pillow mode) from the image's header, without decoding a pixel.

    Raises:
        InputError: (param 'path') Pillow cannot identify the file, its header is broken, or it
            holds more than :data:`cupola.camera.MAX_PIXELS` pixels (Pillow's decompression-bomb
            limit stays on, and is never reached below that).
    """
    from PIL import Image, UnidentifiedImageError

    try:
        # Pillow warns past Image.MAX_IMAGE_PIXELS and raises past twice that, once it has read the
        # header; cupola's own limit (far below the warning) refuses such images just after, by size.
        with _pillow_quiet(), warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as im:
                w, h = im.size
                mode = im.mode
    except Image.DecompressionBombError as exc:
        declared = re.search(r"\((\d+) pixels\)", str(exc))
        count = f"{int(declared.group(1)):,} pixels" if declared else "more pixels than Pillow's limit"
        raise _refuse(path, f"its header declares {count}, past Pillow's decompression-bomb limit of "
                            f"{2 * Image.MAX_IMAGE_PIXELS:,}; cupola handles at most "
                            f"{MAX_PIXELS // 1_000_000} megapixels, pass a smaller copy") from None
    except UnidentifiedImageError:
        raise _refuse(path, f"its {fmt} header is broken (Pillow cannot identify it)") from None
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise _refuse(path, f"its {fmt} header is broken ({exc})") from None
    if w < 8 or h < 8:
        raise _refuse(path, f"the image is {w}x{h} pixels; a photograph to annotate has at least 8x8")
    if w * h > MAX_PIXELS:
        raise _refuse(path, f"the image is {w}x{h} pixels ({w * h / 1e6:,.0f} megapixels), more than cupola "
                            f"handles ({MAX_PIXELS // 1_000_000} megapixels); pass a smaller copy")
    return int(w), int(h), mode


def read_photo(path, *, time=None, lens=None, camera=None, clock_offset_s: float = 0.0) -> PhotoMeta:
    """Return the :class:`PhotoMeta` of the photograph at `path` (JPEG, TIFF, NEF metadata, PNG).

    Args:
        path: the file.
        time: the exposure's start (ISO-8601 with a zone, aware datetime, datetime64 UTC), replacing
            the EXIF time; the clock offset and the half exposure are still applied.
        lens: the focal length in mm (number or '24mm'), replacing the EXIF FocalLength.
        camera: the body, a :data:`cupola.camera.SENSORS` key or its EXIF name ('D3S', 'NIKON D3S').
        clock_offset_s: seconds ADDED to the recorded time to correct the camera clock (a clock
            13 s fast: -13; what :func:`cupola.photo.clock.fit_clock_offset` measures).

    Raises:
        InputError: a file that is missing, empty, not an image, broken or too large (param
            'path'); a bad `lens` ('lens'), `camera` ('camera') or `clock_offset_s`
            ('clock_offset_s').
        TimeInputError: (param 'time') a `time` that is not a time with a zone.
    """
    p, fmt = check_file(path)
    try:
        offset = float(clock_offset_s)
    except (TypeError, ValueError):
        offset = math.nan
    if not (math.isfinite(offset) and abs(offset) <= 86_400.0):
        raise InputError(f"the camera-clock offset must be a number of seconds within a day, got {clock_offset_s!r}; "
                         "e.g. -13 (for a camera clock 13 s fast)", param="clock_offset_s")
    width, height, _mode = image_header(p, fmt)
    tags, notes = read_exif(p, fmt)
    make = _text(tags, "Image Make") or ""
    model = _text(tags, "Image Model") or ""
    # 'NIKON D3S' already names its maker; 'DCS760C' needs 'EASTMAN KODAK COMPANY' before it.
    named = bool(make) and make.split(" ")[0].upper() in model.upper()
    camera_model = model if named or not make else f"{make} {model}".strip()
    exposure, iso, f_number = _exposure_of(tags, notes)
    focal_mm = _focal_of(tags, lens, notes)
    key, sensor, _how = _sensor_of(tags, camera, camera_model, width, height, focal_mm, notes)
    focal_px = None
    if focal_mm is not None and sensor is not None:
        pitch_mm = min(sensor[0] / width, sensor[1] / height)
        focal_px = focal_mm / pitch_mm
    start, mid, parts = _time_of(tags, time, offset, exposure, notes)
    from ..answers.text import time_source_text

    source = time_source_text(parts, "en")
    if fmt == "NEF":
        notes.append("a NEF raw file: its metadata is read, but not its raw pixels (export a TIFF or JPEG)")
    return PhotoMeta(path=str(p), width_px=width, height_px=height, time_utc=mid, time_source=source,
                     camera_model=camera_model, sensor_key=key, sensor_mm=None if sensor is None else
                     (round(float(sensor[0]), 4), round(float(sensor[1]), 4)), focal_mm=focal_mm,
                     focal_px=None if focal_px is None else float(focal_px), exposure_s=exposure, iso=iso,
                     f_number=f_number, notes=tuple(notes), format=fmt, start_utc=start, clock_offset_s=offset,
                     time_parts=tuple(parts))


# -- pixels -----------------------------------------------------------------------------------------
def load_pixels(path) -> np.ndarray:
    """Return the photograph's pixels as (H, W, 3) uint8 sRGB, as stored (no Orientation applied).

    The header is checked first (:func:`image_header`: size within
    :data:`cupola.camera.MAX_PIXELS`, Pillow's decompression-bomb limit on); grey images are
    repeated into three channels, alpha is dropped, 16-bit images keep their high byte.

    Raises:
        InputError: (param 'path') a refused file (see :func:`check_file`), a NEF (raw pixels),
            or pixel data that is truncated or corrupt.
    """
    from PIL import Image

    p, fmt = check_file(path)
    if fmt == "NEF":
        raise _refuse(p, "cupola reads a NEF's metadata but not its raw pixels; export a full-size TIFF or "
                         "JPEG (keeping its EXIF) and annotate that")
    image_header(p, fmt)
    try:
        with _pillow_quiet(), Image.open(p) as im:
            im.load()
            if im.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
                a = np.asarray(im, dtype=np.float64)
                top = 65535.0 if im.mode.startswith("I;16") or a.max() > 255.0 else 255.0
                grey = np.clip(np.rint(a * (255.0 / top)), 0, 255).astype(np.uint8)
                return np.repeat(grey[..., None], 3, axis=2)
            if im.mode != "RGB":
                im = im.convert("RGB")
            return np.array(im, dtype=np.uint8)
    except CupolaError:
        raise
    except Image.DecompressionBombError as exc:
        raise _refuse(p, f"its pixels exceed Pillow's decompression-bomb limit ({exc})") from None
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise _refuse(p, f"its pixel data is truncated or corrupt ({exc})") from None


def camera_for(meta: PhotoMeta, look: Look | None = None, *, focal_px: float | None = None,
               tracked: bool = False) -> Camera:
    """Return the :class:`cupola.camera.Camera` of the photograph: its body (or 'FF' when not in
    the table), its field of view from `focal_px` (default the metadata's), its size and exposure.

    The field of view is given as ``fov_deg`` so that ``camera.focal_px`` equals the focal length
    in pixels exactly, whatever the sensor table says. Missing exposure values take Camera's
    defaults (they only scale a rendering's brightness).

    Raises:
        InputError: (param 'lens') no focal length known: give lens=MM (and camera=BODY).
    """
    f = meta.focal_px if focal_px is None else float(focal_px)
    if f is None or not (math.isfinite(f) and f > 0):
        need = "the lens (lens=MM)" if meta.focal_mm is None else "the camera body (camera=BODY)"
        raise InputError(f"the focal length of {Path(meta.path).name!r} in pixels is not known; give {need}",
                         param="lens" if meta.focal_mm is None else "camera")
    fov = float(np.degrees(2.0 * np.arctan(0.5 * meta.width_px / f)))
    base = Camera()
    return Camera(model=meta.sensor_key or "FF", fov_deg=fov, width_px=meta.width_px, height_px=meta.height_px,
                  look=look or base.look, exposure_s=meta.exposure_s or base.exposure_s, iso=meta.iso or base.iso,
                  f_number=meta.f_number or base.f_number, tracked=bool(tracked),
                  focal_mm=meta.focal_mm or base.focal_mm)


__all__ = ["PhotoMeta", "read_photo", "load_pixels", "camera_for", "check_file", "image_header", "read_exif",
           "sensor_key", "given_camera", "MAX_FILE_BYTES", "MAX_EXIF_BYTES", "EARLIEST_CAPTURE_UTC"]
