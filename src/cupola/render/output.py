"""Write frames as PNG or JPEG with the metadata a camera would write, and an optional caption.

EXIF: Make/Model, DateTimeOriginal with SubSecTimeOriginal and OffsetTimeOriginal '+00:00'
(the capture time in UTC, stated as such), ExposureTime, FNumber, ISO, FocalLength, the caption
as ImageDescription, and cupola's own parameters as JSON in UserComment so that the file can be
fed back to cupola like a real photograph. Files are written to a temporary name and renamed,
so a failed write never leaves a half-written image.
"""

from __future__ import annotations

import json
import os
import tempfile
from fractions import Fraction
from pathlib import Path

import numpy as np

from .. import __version__
from ..errors import InputError
from ..timebase import iso_utc

FORMATS = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG"}
MAKES = {"NIKON D4": "NIKON CORPORATION", "NIKON D5": "NIKON CORPORATION", "NIKON Z 9": "NIKON CORPORATION"}

# EXIF tag numbers (CIPA DC-008 / EXIF 2.32).
TAG_IMAGE_DESCRIPTION = 0x010E
TAG_MAKE = 0x010F
TAG_MODEL = 0x0110
TAG_SOFTWARE = 0x0131
TAG_DATETIME = 0x0132
IFD_EXIF = 0x8769
TAG_EXPOSURE_TIME = 0x829A
TAG_FNUMBER = 0x829D
TAG_ISO = 0x8827
TAG_DATETIME_ORIGINAL = 0x9003
TAG_OFFSET_TIME = 0x9010
TAG_OFFSET_TIME_ORIGINAL = 0x9011
TAG_FOCAL_LENGTH = 0x920A
TAG_USER_COMMENT = 0x9286
TAG_SUBSEC_ORIGINAL = 0x9291


def _rational(x: float, max_den: int = 1_000_000):
    from PIL.TiffImagePlugin import IFDRational

    f = Fraction(float(x)).limit_denominator(max_den)
    return IFDRational(f.numerator, f.denominator)


def caption_lines(frame, lang: str = "en") -> list[str]:
    """Return the overlay lines: time, NASA-style caption, camera settings, element-set epoch."""
    sc, cam = frame.scene, frame.camera
    exp = cam.exposure_s
    exp_text = f"1/{round(1 / exp)} s" if exp < 0.5 else f"{exp:g} s"
    track = ("tracked" if cam.tracked else "untracked") if lang == "en" else ("suivi" if cam.tracked else "sans suivi")
    epoch = iso_utc(sc.state.tle_epoch_utc)
    label = "elements epoch" if lang == "en" else "époque des éléments"
    return [
        f"{iso_utc(sc.t_utc)}  {sc.satellite}",
        sc.caption(lang),
        f"{cam.camera_name} {cam.focal_mm:g} mm f/{cam.f_number:g} {exp_text} ISO {cam.iso:g}, "
        f"{cam.look.text}, roll {cam.roll_deg:g}°, {track}{' ;' if lang == 'fr' else ';'} {label} {epoch}",
    ]


def _font(size: int):
    """Return DejaVu Sans (bundled: Latin, accents, degree sign) at `size` px."""
    from importlib.resources import files

    from PIL import ImageFont

    path = files("cupola") / "data" / "fonts" / "DejaVuSans.ttf"
    with path.open("rb") as f:
        return ImageFont.truetype(f, size)


def draw_caption(rgb: np.ndarray, lines: list[str]) -> np.ndarray:
    """Return a copy of `rgb` with `lines` written on a dark band at the bottom."""
    from PIL import Image, ImageDraw

    h, w = rgb.shape[:2]
    size = max(10, int(round(h / 45)))
    font = _font(size)
    img = Image.fromarray(rgb)
    draw = ImageDraw.Draw(img, "RGBA")
    line_h = int(size * 1.35)
    band = line_h * len(lines) + size
    draw.rectangle([0, h - band, w, h], fill=(0, 0, 0, 150))
    y = h - band + size // 2
    for text in lines:
        draw.text((size, y), text, font=font, fill=(235, 235, 235, 255))
        y += line_h
    return np.asarray(img)


def exif_for(frame, description: str = ""):
    """Return a Pillow Exif object describing the frame like a camera would."""
    from PIL import Image

    cam, sc = frame.camera, frame.scene
    t = np.datetime64(sc.t_utc, "us").item()
    stamp = t.strftime("%Y:%m:%d %H:%M:%S")
    exif = Image.Exif()
    exif[TAG_MAKE] = MAKES.get(cam.camera_name, "cupola")
    exif[TAG_MODEL] = cam.camera_name
    exif[TAG_SOFTWARE] = f"cupola {__version__}"
    exif[TAG_DATETIME] = stamp
    if description:
        exif[TAG_IMAGE_DESCRIPTION] = description
    ifd = exif.get_ifd(IFD_EXIF)
    ifd[TAG_DATETIME_ORIGINAL] = stamp
    ifd[TAG_SUBSEC_ORIGINAL] = f"{t.microsecond // 1000:03d}"
    ifd[TAG_OFFSET_TIME_ORIGINAL] = "+00:00"
    ifd[TAG_OFFSET_TIME] = "+00:00"
    ifd[TAG_EXPOSURE_TIME] = _rational(cam.exposure_s)
    ifd[TAG_FNUMBER] = _rational(cam.f_number, 100)
    ifd[TAG_ISO] = int(round(cam.iso))
    ifd[TAG_FOCAL_LENGTH] = _rational(cam.focal_mm, 100)
    params = {
        "cupola": __version__,
        "time_utc": iso_utc(sc.t_utc, 3),
        "satellite": sc.satellite,
        "tle_epoch_utc": iso_utc(sc.state.tle_epoch_utc, 3),
        "camera": cam.model,
        "focal_mm": cam.focal_mm,
        "fov_deg": cam.fov_deg,
        "size": [cam.width_px, cam.height_px],
        "look": cam.look.text,
        "roll_deg": cam.roll_deg,
        "exposure_s": cam.exposure_s,
        "iso": cam.iso,
        "f_number": cam.f_number,
        "tracked": cam.tracked,
    }
    ifd[TAG_USER_COMMENT] = b"ASCII\x00\x00\x00" + json.dumps(params).encode("ascii")
    return exif


def save_frame(frame, path: str | os.PathLike, caption: bool = False, lang: str = "en") -> Path:
    """Write `frame` to `path` (.png, .jpg or .jpeg) with EXIF; return the path.

    Raises:
        InputError: unsupported extension or unwritable folder (nothing is written then).
    """
    from PIL import Image

    path = Path(path)
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise InputError(f"cannot write {str(path)!r}: use a .png or .jpg file name, e.g. -o view.png")
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise InputError(f"the folder {str(folder)!r} does not exist; create it or choose another -o path")
    lines = caption_lines(frame, lang)
    rgb = draw_caption(frame.rgb, lines) if caption else frame.rgb
    img = Image.fromarray(rgb)
    exif = exif_for(frame, lines[1])
    fd, tmp = tempfile.mkstemp(prefix=".cupola-", suffix=path.suffix, dir=folder)
    os.close(fd)
    try:
        kw = {"quality": 92} if fmt == "JPEG" else {}
        img.save(tmp, format=fmt, exif=exif, **kw)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; give the file the usual permissions
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def read_metadata(path: str | os.PathLike) -> dict:
    """Return the EXIF fields cupola writes (and reads back from photographs) as plain values."""
    from PIL import Image

    with Image.open(path) as img:
        exif = img.getexif()
        ifd = exif.get_ifd(IFD_EXIF)
        comment = ifd.get(TAG_USER_COMMENT, b"")
        if isinstance(comment, bytes) and comment.startswith(b"ASCII\x00\x00\x00"):
            comment = comment[8:].decode("ascii", "replace")
        out = {
            "make": exif.get(TAG_MAKE),
            "model": exif.get(TAG_MODEL),
            "description": exif.get(TAG_IMAGE_DESCRIPTION),
            "datetime_original": ifd.get(TAG_DATETIME_ORIGINAL),
            "subsec_original": ifd.get(TAG_SUBSEC_ORIGINAL),
            "offset_time_original": ifd.get(TAG_OFFSET_TIME_ORIGINAL),
            "exposure_s": float(ifd[TAG_EXPOSURE_TIME]) if TAG_EXPOSURE_TIME in ifd else None,
            "f_number": float(ifd[TAG_FNUMBER]) if TAG_FNUMBER in ifd else None,
            "iso": ifd.get(TAG_ISO),
            "focal_mm": float(ifd[TAG_FOCAL_LENGTH]) if TAG_FOCAL_LENGTH in ifd else None,
            "size": img.size,
        }
        try:
            out["cupola"] = json.loads(comment) if isinstance(comment, str) and comment else None
        except json.JSONDecodeError:
            out["cupola"] = None
    return out
