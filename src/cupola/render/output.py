"""Write frames as PNG or JPEG with the metadata a camera would write, and an optional caption.

EXIF (byte order big-endian, "MM", stated in the EXIF header): Make/Model, DateTimeOriginal with
SubSecTimeOriginal and OffsetTimeOriginal '+00:00' (the capture time in UTC, stated as such),
ExposureTime (an exact rational: 1/320, 2/5, 5/2), FNumber, ISO (a whole number; above 65535 the
EXIF 2.3 way: 65535 in PhotographicSensitivity and the value in ISOSpeed), FocalLength (the focal
length that gives the camera's field on its sensor, :attr:`Camera.effective_focal_mm`).

The caption, three times:

- ImageDescription: ASCII as the EXIF specification requires, transliterated (accents dropped,
  typographic quotes and dashes made plain, anything else '?');
- UserComment: the exact Unicode text, with the EXIF character-code prefix ``UNICODE\0`` and
  UTF-16 in the byte order of the EXIF header (no byte-order mark);
- XMP (``dc:description``, an ``x-default`` language alternative plus one for the caption's
  language), embedded as a JPEG APP1 segment or a PNG ``iTXt`` chunk 'XML:com.adobe.xmp'.

cupola's own parameters (time, element-set epoch, camera, pointing, exposure) are JSON text in the
XMP property ``cupola:parameters`` (namespace :data:`XMP_NS_CUPOLA`), so that the file can be fed
back to cupola like a real photograph; :func:`read_metadata` also reads the ASCII JSON
UserComment of files written before that. Files are written to a temporary name and renamed, so
a failed write never leaves a half-written image; :func:`check_output_path` refuses a bad output
name before anything is rendered.
"""

from __future__ import annotations

import errno
import functools
import io
import json
import math
import os
import re
import tempfile
import unicodedata
from fractions import Fraction
from pathlib import Path
from xml.sax.saxutils import escape

import numpy as np

from .. import __version__
from ..errors import InputError, OutputError
from ..timebase import iso_utc, shown

FORMATS = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG"}
# zlib level of every PNG cupola writes (frames, timelapse sequences). Pillow's default (6) took
# 0.21-0.23 s for a 1920x1080 frame on the 2-core machine, level 1 0.07 s for files 34-47 % larger
# (benchmarks/bench_timelapse.py measures both).
PNG_COMPRESS_LEVEL = 1
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
TAG_ISO = 0x8827  # ISOSpeedRatings, called PhotographicSensitivity since EXIF 2.3 (SHORT)
TAG_SENSITIVITY_TYPE = 0x8830
TAG_ISO_SPEED = 0x8833  # LONG, for ISO of 65535 and above
TAG_DATETIME_ORIGINAL = 0x9003
TAG_OFFSET_TIME = 0x9010
TAG_OFFSET_TIME_ORIGINAL = 0x9011
TAG_FOCAL_LENGTH = 0x920A
TAG_USER_COMMENT = 0x9286
TAG_SUBSEC_ORIGINAL = 0x9291

# UserComment character codes (EXIF 2.32 table 9): 8 bytes before the text.
CODE_ASCII = b"ASCII\x00\x00\x00"
CODE_UNICODE = b"UNICODE\x00"
EXIF_BYTE_ORDER = ">"  # Pillow's default ("MM"); stated explicitly so that UserComment matches it

# XMP namespaces.
XMP_NS_X = "adobe:ns:meta/"
XMP_NS_RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
XMP_NS_DC = "http://purl.org/dc/elements/1.1/"
XMP_NS_XML = "http://www.w3.org/XML/1998/namespace"
XMP_NS_CUPOLA = "urn:cupola:xmp:1.0/"  # cupola's own properties: cupola:parameters (JSON text)
XMP_JPEG_ID = b"http://ns.adobe.com/xap/1.0/\x00"
XMP_PNG_KEY = "XML:com.adobe.xmp"

# Characters NFKD does not take apart, written the nearest plain-ASCII way in ImageDescription.
_ASCII_FOR = {
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'", "\u02bc": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u2033": '"', "\u00ab": '"', "\u00bb": '"',
    "\u2039": "'", "\u203a": "'", "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-",
    "\u2015": "-", "\u2212": "-", "\u2026": "...", "\u00a0": " ", "\u202f": " ", "\u2009": " ", "\u00b0": " deg",
    "\u00d7": "x", "\u00df": "ss", "\u00e6": "ae", "\u00c6": "AE", "\u0153": "oe", "\u0152": "OE", "\u00f8": "o",
    "\u00d8": "O", "\u0142": "l", "\u0141": "L", "\u0111": "d", "\u0110": "D", "\u00f0": "d", "\u00d0": "D",
    "\u00fe": "th", "\u00de": "Th", "\u0131": "i",
}


def ascii_text(text: str) -> str:
    """Return `text` in printable ASCII: accents dropped (NFKD), typographic quotes, dashes and
    spaces made plain, anything else '?' (for EXIF ASCII fields such as ImageDescription)."""
    out = []
    for ch in unicodedata.normalize("NFKD", str(text)):
        if unicodedata.combining(ch):
            continue
        if " " <= ch <= "~":
            out.append(ch)
        else:
            out.append(_ASCII_FOR.get(ch, "?"))
    return "".join(out)


def _rational(x: float, max_den: int = 1_000_000):
    from PIL.TiffImagePlugin import IFDRational

    f = x if isinstance(x, Fraction) else Fraction(float(x)).limit_denominator(max_den)
    return IFDRational(f.numerator, f.denominator)


_UINT32 = 0xFFFF_FFFF


def _exposure(seconds: float) -> tuple[str, Fraction]:
    """Return the label (see :func:`exposure_label`) and the EXIF rational of an exposure time:
    1/N, else the simplest fraction within 1e-9 relative (2/5, 5/2, 2/3), else the label's decimal."""
    s = float(seconds)
    if s < 1.0:
        n = round(1.0 / s)
        if n >= 2 and abs(s * n - 1.0) <= 1e-9:
            return f"1/{n} s", Fraction(1, n)
    for digits in range(1, 18):  # the fewest significant digits that keep the value to 1e-9
        text = np.format_float_positional(s, precision=digits, unique=False, fractional=False, trim="-")
        if abs(float(text) - s) <= 1e-9 * s:
            break
    f = Fraction(s).limit_denominator(1_000_000)  # the simplest fraction (2/5, 5/2, 2/3) if one is that close
    if abs(f - Fraction(s)) > Fraction(1, 10**9) * Fraction(s):
        f = Fraction(text)
    if f.denominator > _UINT32 or f.numerator > _UINT32:  # EXIF RATIONAL: two unsigned 32-bit integers
        f = Fraction(s).limit_denominator(max(1, min(_UINT32, int(_UINT32 / max(s, 1.0)))))
    return f"{text} s", f


def exposure_label(seconds: float) -> str:
    """Return an exact exposure label: '1/320 s' when the time is 1/N (to 1e-9 relative) for a
    whole N >= 2, otherwise decimal seconds with the digits it needs ('0.4 s', '2.5 s', '10 s')."""
    return _exposure(seconds)[0]


def iso_integer(iso: float) -> int:
    """Return the ISO as the whole number EXIF records (rounded half up).

    Raises:
        InputError: (param 'iso') when it rounds to less than 1, or is not a finite number EXIF can
            hold (at most 4294967295).
    """
    value = float(iso)
    if not (math.isfinite(value) and value < _UINT32):
        raise InputError(f"ISO {iso!r} cannot be recorded in EXIF; give Camera(iso=...) a finite value, "
                         "e.g. 1600", param="iso")
    n = math.floor(value + 0.5)
    if n < 1:
        raise InputError(f"ISO {iso!r} rounds to {n}, and a photograph records a whole ISO of at least 1; "
                         "give Camera(iso=...) a value of 1 or more, e.g. 1600", param="iso")
    return int(n)


def _focal_text(mm: float) -> str:
    return f"{round(mm, 1):g}"


def caption_lines(frame, lang: str = "en") -> list[str]:
    """Return the overlay lines: time, NASA-style caption, camera settings, element-set epoch."""
    sc, cam = frame.scene, frame.camera
    track = ("tracked" if cam.tracked else "untracked") if lang == "en" else ("suivi" if cam.tracked else "sans suivi")
    epoch = iso_utc(sc.state.tle_epoch_utc)
    label = "elements epoch" if lang == "en" else "époque des éléments"
    return [
        f"{iso_utc(sc.t_utc)}  {sc.satellite}",
        sc.caption(lang),
        f"{cam.camera_name} {_focal_text(cam.effective_focal_mm)} mm f/{cam.f_number:g} "
        f"{exposure_label(cam.exposure_s)} ISO {iso_integer(cam.iso)}, "
        f"{cam.look.text}, roll {cam.roll_deg:g}°, {track}{' ;' if lang == 'fr' else ';'} {label} {epoch}",
    ]


@functools.lru_cache(maxsize=8)
def _font(size: int):
    """Return DejaVu Sans (bundled: Latin, accents, degree sign) at `size` px (loaded once per
    size: a timelapse captions every frame)."""
    from PIL import ImageFont

    from ..bundled import load

    return load("fonts/DejaVuSans.ttf", "caption font", lambda raw: ImageFont.truetype(io.BytesIO(raw), size))


def draw_caption(rgb: np.ndarray, lines: list[str]) -> np.ndarray:
    """Return a copy of `rgb` with `lines` written on a dark band at the bottom (the caption of
    a saved frame and the caption strip of every frame of a timelapse)."""
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


def _parameters(frame) -> dict:
    """Return cupola's own parameters of the frame (written as JSON in XMP cupola:parameters)."""
    cam, sc = frame.camera, frame.scene
    return {
        "cupola": __version__,
        "time_utc": iso_utc(sc.t_utc, 3),
        "satellite": sc.satellite,
        "tle_epoch_utc": iso_utc(sc.state.tle_epoch_utc, 3),
        "camera": cam.model,
        "focal_mm": cam.effective_focal_mm,
        "fov_deg": cam.fov_deg,
        "size": [cam.width_px, cam.height_px],
        "look": cam.look.text,
        "roll_deg": cam.roll_deg,
        "exposure_s": cam.exposure_s,
        "iso": cam.iso,
        "f_number": cam.f_number,
        "tracked": cam.tracked,
    }


def exif_for(frame, description: str = ""):
    """Return a Pillow Exif object describing the frame like a camera would.

    `description` (the caption, any Unicode) goes to ImageDescription as ASCII and, exactly, to
    UserComment as UTF-16 in the EXIF header's byte order.

    Raises:
        InputError: (param 'iso') an ISO that rounds to less than 1.
    """
    from PIL import Image

    cam, sc = frame.camera, frame.scene
    t = np.datetime64(sc.t_utc, "us").item()
    stamp = t.strftime("%Y:%m:%d %H:%M:%S")
    exif = Image.Exif()
    exif.endian = EXIF_BYTE_ORDER
    exif[TAG_MAKE] = MAKES.get(cam.camera_name, "cupola")
    exif[TAG_MODEL] = cam.camera_name
    exif[TAG_SOFTWARE] = f"cupola {__version__}"
    exif[TAG_DATETIME] = stamp
    if description:
        exif[TAG_IMAGE_DESCRIPTION] = ascii_text(description)
    ifd = exif.get_ifd(IFD_EXIF)
    ifd[TAG_DATETIME_ORIGINAL] = stamp
    ifd[TAG_SUBSEC_ORIGINAL] = f"{t.microsecond // 1000:03d}"
    ifd[TAG_OFFSET_TIME_ORIGINAL] = "+00:00"
    ifd[TAG_OFFSET_TIME] = "+00:00"
    ifd[TAG_EXPOSURE_TIME] = _rational(_exposure(cam.exposure_s)[1])
    ifd[TAG_FNUMBER] = _rational(cam.f_number, 100)
    iso = iso_integer(cam.iso)
    ifd[TAG_ISO] = min(iso, 65535)
    if iso >= 65535:  # EXIF 2.3: the SHORT tag saturates, the value goes to ISOSpeed
        ifd[TAG_SENSITIVITY_TYPE] = 3  # ISO speed
        ifd[TAG_ISO_SPEED] = iso
    ifd[TAG_FOCAL_LENGTH] = _rational(cam.effective_focal_mm, 100)
    if description:
        ifd[TAG_USER_COMMENT] = CODE_UNICODE + description.encode(_utf16(EXIF_BYTE_ORDER))
    return exif


def _utf16(byte_order: str | None) -> str:
    return "utf-16-le" if byte_order == "<" else "utf-16-be"


_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")  # characters XML 1.0 cannot carry


def xmp_packet(description: str = "", lang: str = "", parameters: dict | None = None) -> bytes:
    """Return an XMP packet (UTF-8) with `description` as dc:description (x-default, and `lang`
    when given) and `parameters` as JSON text in cupola:parameters."""
    description = _NOT_XML.sub("", description)
    props = []
    if description:
        items = [f'<rdf:li xml:lang="x-default">{escape(description)}</rdf:li>']
        if lang:
            items.append(f'<rdf:li xml:lang="{escape(lang)}">{escape(description)}</rdf:li>')
        props.append(f"<dc:description><rdf:Alt>{''.join(items)}</rdf:Alt></dc:description>")
    if parameters is not None:
        props.append(f"<cupola:parameters>{escape(json.dumps(parameters, ensure_ascii=False))}</cupola:parameters>")
    return (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n'
        f'<x:xmpmeta xmlns:x="{XMP_NS_X}" x:xmptk="cupola {__version__}">'
        f'<rdf:RDF xmlns:rdf="{XMP_NS_RDF}">'
        f'<rdf:Description rdf:about="" xmlns:dc="{XMP_NS_DC}" xmlns:cupola="{XMP_NS_CUPOLA}">'
        f'{"".join(props)}</rdf:Description></rdf:RDF></x:xmpmeta>\n'
        '<?xpacket end="w"?>'
    ).encode("utf-8")


def _xmp_fields(raw) -> tuple[str | None, dict | None]:
    """Return (dc:description x-default, cupola:parameters) from an XMP packet (None if absent)."""
    import xml.etree.ElementTree as ET

    if isinstance(raw, str):
        raw = raw.encode("utf-8")
    if not raw or b"<!DOCTYPE" in raw or b"<!ENTITY" in raw:  # no entity expansion from files
        return None, None
    try:
        root = ET.fromstring(raw.rstrip(b"\x00 \t\r\n"))
    except ET.ParseError:
        return None, None
    description = None
    for desc in root.iter(f"{{{XMP_NS_DC}}}description"):
        items = list(desc.iter(f"{{{XMP_NS_RDF}}}li"))
        by_lang = {li.get(f"{{{XMP_NS_XML}}}lang"): li.text or "" for li in items}
        if items:
            description = by_lang.get("x-default", items[0].text or "")
            break
    params = None
    for node in root.iter(f"{{{XMP_NS_CUPOLA}}}parameters"):
        try:
            params = json.loads(node.text or "")
        except json.JSONDecodeError:
            params = None
        break
    return description, params


def _user_comment(value, byte_order: str | None) -> str | None:
    """Return the text of an EXIF UserComment (ASCII or UNICODE character code), else None."""
    if isinstance(value, str):
        return value
    if not isinstance(value, bytes) or len(value) < 8:
        return None
    code, body = value[:8], value[8:]
    if code == CODE_ASCII:
        return body.decode("ascii", "replace").rstrip("\x00 ")
    if code == CODE_UNICODE:
        if body[:2] in (b"\xff\xfe", b"\xfe\xff"):
            return body.decode("utf-16").rstrip("\x00 ")
        return body.decode(_utf16(byte_order), "replace").rstrip("\x00 ")
    return None


# errno values that mean the disk (or the process's file-size limit) has no room for the output.
_NO_ROOM = {errno.ENOSPC, errno.EFBIG, getattr(errno, "EDQUOT", errno.ENOSPC)}


def write_failed(path, exc: BaseException) -> OutputError:
    """Return the OutputError (param 'output') for `exc`, an OSError (or ValueError) that stopped writing `path`.

    Call it once the temporary file is removed: the message says nothing was written.
    """
    code = getattr(exc, "errno", None)
    reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    if code in _NO_ROOM:
        fix = "free some disk space, or write a smaller output (a smaller size, fewer frames) or to another disk"
    else:
        fix = "pass a path in a folder you can write to, on a disk with room"
    return OutputError(f"cannot write {shown(os.fsdecode(os.fspath(path)), 200)}: {reason}; nothing was written "
                       f"there (the partial file was removed); {fix}", errno=code)


def check_output_name(text: str) -> None:
    """Raise InputError (param 'output') if `text` cannot name a file at all: blank, a NUL character, or a name
    the file system refuses (too long, a loop of links)."""
    why = "it is blank" if not text.strip() else "it holds a NUL character" if "\x00" in text else None
    if why is None:
        try:
            os.lstat(text)
        except (FileNotFoundError, NotADirectoryError):
            pass  # a new file (its folder is checked next)
        except OSError as exc:
            why = f"the file system refuses it: {exc.strerror or exc}"
    if why:
        raise InputError(f"the output name {shown(text, 200)} cannot name a file ({why}); pass a file name such "
                         "as 'view.png' in an existing folder", param="output")


def check_output_folder(folder: Path, path: Path) -> None:
    """Raise InputError (param 'output') unless `folder`, where `path` goes, exists, is a folder
    and is writable."""
    if not folder.exists():
        raise InputError(f"the folder {str(folder)!r} of the output {str(path)!r} does not exist; create it "
                         "first or pass a path in an existing folder", param="output")
    if not folder.is_dir():
        raise InputError(f"the folder {str(folder)!r} of the output {str(path)!r} is a file, not a folder; "
                         "pass a path in an existing folder", param="output")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise InputError(f"the folder {str(folder)!r} is not writable, so {str(path)!r} cannot be written; "
                         "pass a path in a folder you can write to", param="output")


def check_output_path(path: str | os.PathLike) -> Path:
    """Return `path` as a Path if an image can be written there, before anything is rendered.

    The name must end in .png, .jpg or .jpeg (any case), its folder must exist and be writable,
    and the path must not be a folder or a read-only file.

    Raises:
        InputError: (param 'output') saying what is wrong and what to pass instead.
    """
    check_output_name(os.fsdecode(os.fspath(path)))
    path = Path(path)
    if path.is_dir():
        raise InputError(f"the output {str(path)!r} is a folder; pass a file name inside it, "
                         f"e.g. {str(path / 'view.png')!r}", param="output")
    if path.suffix.lower() not in FORMATS:
        shown = f"ends in {path.suffix!r}" if path.suffix else "has no extension"
        raise InputError(f"cannot write {str(path)!r}: the file name {shown}; use a .png or .jpg (or .jpeg) "
                         "file name, e.g. 'view.png'", param="output")
    check_output_folder(path.parent, path)
    if path.exists() and not os.access(path, os.W_OK):
        raise InputError(f"the file {str(path)!r} exists and is read-only; pass another file name or make "
                         "it writable first", param="output")
    return path


def _pillow_major() -> int:
    import PIL

    return int(PIL.__version__.split(".")[0])


def _encoded(frame, fmt: str, caption: bool, lang: str):
    """Return (the Pillow image, its save options with EXIF and XMP) of `frame` as `fmt` ('PNG' or 'JPEG')."""
    from PIL import Image, PngImagePlugin

    lines = caption_lines(frame, lang)
    rgb = draw_caption(frame.rgb, lines) if caption else frame.rgb
    img = Image.fromarray(rgb)
    xmp = xmp_packet(lines[1], lang, _parameters(frame))
    if fmt == "JPEG":
        kw = {"quality": 92}
        if _pillow_major() >= 11:
            kw["xmp"] = xmp
        else:  # Pillow 10 has no xmp=: the same APP1 segment through the encoder's extra markers
            kw["extra"] = b"\xff\xe1" + (2 + len(XMP_JPEG_ID) + len(xmp)).to_bytes(2, "big") + XMP_JPEG_ID + xmp
    else:
        info = PngImagePlugin.PngInfo()
        info.add_itxt(XMP_PNG_KEY, xmp.decode("utf-8"))
        kw = {"pnginfo": info, "compress_level": PNG_COMPRESS_LEVEL}
    kw["exif"] = exif_for(frame, lines[1])
    return img, kw


def frame_bytes(frame, fmt: str = "png", caption: bool = False, lang: str = "en") -> bytes:
    """Return `frame` encoded as `fmt` ('png' or 'jpeg'), with the EXIF and XMP :func:`save_frame` writes."""
    kind = FORMATS.get("." + str(fmt).lower().lstrip("."))
    if kind is None:
        raise InputError(f"cannot encode a frame as {fmt!r}; use png or jpeg", param="format")
    img, kw = _encoded(frame, kind, caption, lang)
    buf = io.BytesIO()
    img.save(buf, format=kind, **kw)
    return buf.getvalue()


def save_frame(frame, path: str | os.PathLike, caption: bool = False, lang: str = "en") -> Path:
    """Write `frame` to `path` (.png, .jpg or .jpeg) with EXIF and XMP; return the path.

    Raises:
        InputError: a bad output path (see :func:`check_output_path`) or an ISO that rounds to
            less than 1; nothing is written then.
        OutputError: the write failed (a full disk, a file-size limit, a name the file system refuses);
            the temporary file is removed and `path` left as it was.
    """
    path = check_output_path(path)
    folder = path.parent
    # Encoded in memory, then written by Python: Pillow's JPEG encoder writes to a file descriptor
    # itself and drops write errors, so a full disk left a truncated JPEG behind a success.
    data = frame_bytes(frame, path.suffix, caption, lang)
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=".cupola-", suffix=path.suffix, dir=folder)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; give the file the usual permissions
        os.replace(tmp, path)
    except BaseException as exc:
        if tmp is not None and os.path.exists(tmp):
            os.unlink(tmp)
        if isinstance(exc, OSError):  # a full disk, a file-size limit, a name the file system refuses
            raise write_failed(path, exc) from exc
        raise
    return path


def read_metadata(path: str | os.PathLike) -> dict:
    """Return the metadata cupola writes (and reads back from photographs) as plain values.

    Keys: make, model; description (the caption in Unicode: XMP dc:description, else the
    UserComment text, else ImageDescription); image_description (the EXIF ASCII field as
    stored); datetime_original, subsec_original, offset_time_original; exposure_s, f_number,
    iso (int), focal_mm; size (width, height); cupola (cupola's parameters as a dict, from XMP
    cupola:parameters or the ASCII JSON UserComment of older files; None for other files).
    """
    from PIL import Image

    with Image.open(path) as img:
        exif = img.getexif()
        ifd = exif.get_ifd(IFD_EXIF)
        xmp_description, params = _xmp_fields(img.info.get("xmp") or img.info.get(XMP_PNG_KEY))
        comment = _user_comment(ifd.get(TAG_USER_COMMENT), exif.endian)
        if params is None and comment and comment.lstrip().startswith("{"):
            try:  # files written by cupola before the parameters moved to XMP
                params = json.loads(comment)
            except json.JSONDecodeError:
                params = None
            else:
                comment = None
        image_description = exif.get(TAG_IMAGE_DESCRIPTION)
        iso = ifd.get(TAG_ISO_SPEED) or ifd.get(TAG_ISO)
        if isinstance(iso, tuple):
            iso = iso[0] if iso else None
        return {
            "make": exif.get(TAG_MAKE),
            "model": exif.get(TAG_MODEL),
            "description": xmp_description if xmp_description is not None else (comment or image_description),
            "image_description": image_description,
            "datetime_original": ifd.get(TAG_DATETIME_ORIGINAL),
            "subsec_original": ifd.get(TAG_SUBSEC_ORIGINAL),
            "offset_time_original": ifd.get(TAG_OFFSET_TIME_ORIGINAL),
            "exposure_s": float(ifd[TAG_EXPOSURE_TIME]) if TAG_EXPOSURE_TIME in ifd else None,
            "f_number": float(ifd[TAG_FNUMBER]) if TAG_FNUMBER in ifd else None,
            "iso": int(iso) if iso is not None else None,
            "focal_mm": float(ifd[TAG_FOCAL_LENGTH]) if TAG_FOCAL_LENGTH in ifd else None,
            "size": img.size,
            "cupola": params if isinstance(params, dict) else None,
        }
