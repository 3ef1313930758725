"""What `cupola annotate` writes: the plate solution as a FITS WCS header, per-pixel latitude and
longitude, the annotated overlay and the photo beside cupola's render.

- **WCS** (:func:`wcs_header`): the solution as astrometry.net writes its ``.wcs`` file, a FITS
  primary header with no data (NAXIS = 0) in 2,880-byte blocks: CTYPE 'RA---TAN' / 'DEC--TAN'
  (gnomonic, FITS WCS Paper II, Calabretta & Greisen 2002), CRPIX the principal point in FITS's
  1-based pixels ((W + 1) / 2, (H + 1) / 2: cupola's pixel centres are at integers from 0),
  CRVAL its RA/Dec, the CD matrix in degrees per pixel, LONPOLE 180, LATPOLE 0, IMAGEW/IMAGEH,
  EQUINOX 2000 and RADESYS 'ICRS'. For a pinhole the CD matrix is exact: a pixel offset (dx, dy)
  from the principal point is the direction forward + (dx right + dy down) / f, whose gnomonic
  coordinates toward east and north are ((right.e) dx + (down.e) dy) / f and the same with n.
  A solution with a radial term k1 becomes 'RA---TAN-SIP' (Shupe et al. 2005): AP/BP
  (undistorted -> distorted pixels) are exact at order 3 (x_d = x_u (1 + k1 r_u^2)); A/B (the
  inverse) are fitted by least squares at order 5 on a grid over the frame.
- **Latitude/longitude** (:func:`write_latlon`): ``.npz`` with float32 arrays ``lat_deg`` and
  ``lon_deg`` shaped like the image (NaN off the Earth), or a ``.tif`` of two float32 bands
  (tifffile, zlib, tiled): band 1 latitude, band 2 longitude, with a JSON ImageDescription and GDAL's
  band descriptions and NaN no-data tags. It is a geolocation array, not a georeferenced map: an
  oblique photograph has no affine pixel-to-map transform, so no GeoTIFF tie points are written.
- **Overlay** (:func:`overlay`): drawn with Pillow on the photo, scaled to at most
  :data:`OVERLAY_MAX_PX` on its long side: the lat/lon graticule (crossings of every 1, 2, 5 or
  10 degrees, by the field), coastlines (the bundled 5 km coast samples), the names of the seas
  and countries in the frame and of the Scene's lit cities, the predicted limb and the
  :data:`AIRGLOW_KM` and :data:`AURORA_KM` heights, the matched stars circled (with IAU names
  for the bright ones), and a legend.
- **Side by side** (:func:`side_by_side`): the photo and cupola's render at the solved pointing,
  at the same size.

Every file goes through a temporary name in its folder renamed at the end (:func:`write_atomic`),
so none is ever half-written; :func:`check_outputs` refuses bad paths before any work.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import tempfile
from pathlib import Path

import numpy as np

from .. import __version__
from ..errors import InputError

OVERLAY_MAX_PX = 2048  # long side of the overlay (a 24 MP photo is drawn at ~1/3)
SIDE_MAX_PX = 1280  # long side of each panel of the side-by-side
# Heights of the overlay's shells (issue 11): the airglow's bright OI green layer peaks near
# 97 km (design note, section 8), and auroral maps project onto 110 km (auromat's convention).
AIRGLOW_KM = 100.0
AURORA_KM = 110.0
WCS_EXTENSIONS = (".wcs", ".fits", ".fit", ".fts")
LATLON_EXTENSIONS = (".npz", ".tif", ".tiff")
FITS_BLOCK = 2880
SIP_ORDER = 5
SIP_GRID = 41  # samples per side of the frame for the SIP fit
TIFF_TILE_PX = 256  # the lat/lon TIFF's tiles (256 kB of float32 each)

# Colours of the overlay (RGBA).
COLOURS = {
    "graticule": (255, 255, 255, 150),
    "coast": (255, 210, 90, 230),
    "limb": (80, 200, 255, 255),
    "airglow": (190, 255, 80, 255),
    "aurora": (255, 90, 200, 255),
    "star": (255, 255, 0, 255),
    "city": (255, 150, 40, 255),
    "place": (235, 235, 235, 255),
    "text": (240, 240, 240, 255),
}
# Outputs by API parameter: what each must end in, in words.
OUTPUTS = {"overlay": "a .png or .jpg", "side_by_side": "a .png or .jpg", "wcs": "a .wcs or .fits",
           "lonlat": "a .npz or .tif"}


# -- paths and writing --------------------------------------------------------------------------------
def check_outputs(photo=None, **paths) -> dict[str, Path]:
    """Return {parameter: Path} of the outputs that are set, after checking each one BEFORE any work.

    Args:
        photo: the input photograph, which no output may overwrite.
        paths: ``overlay``, ``side_by_side`` (images), ``wcs`` and ``lonlat`` (files); None for none.

    Raises:
        InputError: (param: the output's name) a bad extension, a missing or read-only folder, a
            folder given as a file, two outputs with one path, or the photo itself.
    """
    from ..render.output import check_output_folder, check_output_path

    out: dict[str, Path] = {}
    for name, value in paths.items():
        if value is None:
            continue
        if name not in OUTPUTS:
            raise InputError(f"unknown output {name!r}; use {', '.join(OUTPUTS)}", param=name)
        p = Path(value)
        try:
            if name in ("overlay", "side_by_side"):
                p = check_output_path(p)
            else:
                allowed = WCS_EXTENSIONS if name == "wcs" else LATLON_EXTENSIONS
                if p.is_dir():
                    raise InputError(f"the output {str(p)!r} is a folder; pass a file name inside it", param=name)
                if p.suffix.lower() not in allowed:
                    shown = f"ends in {p.suffix!r}" if p.suffix else "has no extension"
                    raise InputError(f"cannot write {str(p)!r}: the file name {shown}; use {OUTPUTS[name]} file name",
                                     param=name)
                check_output_folder(p.parent, p)
                if p.exists() and not os.access(p, os.W_OK):
                    raise InputError(f"the file {str(p)!r} exists and is read-only; pass another file name",
                                     param=name)
        except InputError as exc:
            raise InputError(exc.detail, param=name, fix=exc.fix) from None
        out[name] = p
    seen: dict[Path, str] = {}
    if photo is not None:
        seen[Path(photo).resolve()] = "the photograph"
    for name, p in out.items():
        key = p.resolve()
        if key in seen:
            raise InputError(f"the output {str(p)!r} ({name}) is also {seen[key]}; give each output its own file",
                             param=name)
        seen[key] = f"the {name} output"
    return out


def _umask_mode(mode: int) -> int:
    umask = os.umask(0)
    os.umask(umask)
    return mode & ~umask


def write_atomic(path, write) -> Path:
    """Call ``write(tmp_path)`` on a temporary file in `path`'s folder, then rename it to `path`.

    The temporary (``.cupola-*``) is removed on any exception, so `path` is either the whole new
    file or untouched; the file gets the usual permissions (0666 less the umask)."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=".cupola-", suffix=path.suffix, dir=path.parent)
    os.close(fd)
    try:
        write(tmp)
        os.chmod(tmp, _umask_mode(0o666))
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    return path


def write_image(path, rgb: np.ndarray) -> Path:
    """Write an (H, W, 3) uint8 image as PNG (zlib level of every cupola PNG) or JPEG (quality 92)."""
    from PIL import Image

    from ..render.output import FORMATS, PNG_COMPRESS_LEVEL, check_output_path

    path = check_output_path(path)
    fmt = FORMATS[path.suffix.lower()]
    kw = {"compress_level": PNG_COMPRESS_LEVEL} if fmt == "PNG" else {"quality": 92}
    img = Image.fromarray(np.ascontiguousarray(rgb, dtype=np.uint8))
    return write_atomic(path, lambda tmp: img.save(tmp, format=fmt, **kw))


# -- WCS ----------------------------------------------------------------------------------------------
def _card(key: str, value, comment: str = "") -> str:
    """Return one 80-character FITS header card (fixed format: values end in column 30)."""
    if isinstance(value, bool):
        v = f"{'T' if value else 'F':>20}"
    elif isinstance(value, (int, np.integer)):
        v = f"{int(value):>20d}"
    elif isinstance(value, float):
        text = f"{value:.14G}"
        if "." not in text and "E" not in text:
            text += ".0"
        v = f"{text:>20}"
    else:
        s = str(value).replace("'", "''")
        v = f"'{s:<8}'".ljust(20)
    card = f"{key:<8}= {v}"
    if comment:
        card += f" / {comment}"
    return card[:80].ljust(80)


def _comment(text: str) -> str:
    return f"COMMENT {text}"[:80].ljust(80)


def _east_north(ra_deg: float, dec_deg: float) -> tuple[np.ndarray, np.ndarray]:
    ra, dec = math.radians(ra_deg), math.radians(dec_deg)
    east = np.array([-math.sin(ra), math.cos(ra), 0.0])
    north = np.array([-math.sin(dec) * math.cos(ra), -math.sin(dec) * math.sin(ra), math.cos(dec)])
    return east, north


def _sip_terms(u, v, order: int, odd_radial: bool = False):
    """Return the SIP monomials u^p v^q with 2 <= p + q <= order, as (names (p, q), matrix)."""
    pq = [(p, s - p) for s in range(2, order + 1) for p in range(s, -1, -1)]
    if odd_radial:  # a radial term only has odd total degree in each coordinate's correction
        pq = [(p, q) for p, q in pq if (p + q) % 2 == 1]
    return pq, np.stack([u ** p * v ** q for p, q in pq], axis=-1)


def _sip_cards(focal_px: float, k1: float, width_px: int, height_px: int) -> list[str]:
    """Return the SIP cards of the radial term k1 about the principal point (A/B fitted, AP/BP exact)."""
    from .geolocate import undistort

    f = float(focal_px)
    cx, cy = (width_px - 1) / 2.0, (height_px - 1) / 2.0
    x = np.linspace(-0.5, width_px - 0.5, SIP_GRID)
    y = np.linspace(-0.5, height_px - 0.5, SIP_GRID)
    xx, yy = np.meshgrid(x, y)
    ud, vd = (xx - cx).ravel(), (yy - cy).ravel()  # distorted pixel offsets (the photo's)
    xu, yu = undistort(ud / f, vd / f, k1)
    ok = np.isfinite(xu) & np.isfinite(yu)
    pq, m = _sip_terms(ud[ok], vd[ok], SIP_ORDER, odd_radial=True)
    a, *_ = np.linalg.lstsq(m, xu[ok] * f - ud[ok], rcond=None)
    b, *_ = np.linalg.lstsq(m, yu[ok] * f - vd[ok], rcond=None)
    cards = [_card("A_ORDER", SIP_ORDER, "Polynomial order, axis 1")]
    cards += [_card(f"A_{p}_{q}", float(c)) for (p, q), c in zip(pq, a)]
    cards += [_card("B_ORDER", SIP_ORDER, "Polynomial order, axis 2")]
    cards += [_card(f"B_{p}_{q}", float(c)) for (p, q), c in zip(pq, b)]
    # Undistorted -> distorted: u_d = u_u (1 + k1 (u_u^2 + v_u^2) / f^2), exactly.
    c = k1 / (f * f)
    cards += [_card("AP_ORDER", 3, "Inv polynomial order, axis 1"), _card("AP_3_0", c), _card("AP_1_2", c),
              _card("BP_ORDER", 3, "Inv polynomial order, axis 2"), _card("BP_2_1", c), _card("BP_0_3", c)]
    return cards


def wcs_header(solution, width_px: int, height_px: int, *, time_utc=None) -> str:
    """Return the FITS WCS header (TAN, or TAN-SIP with a radial term) of a solved plate, as
    astrometry.net writes it: 36 cards of 80 characters per 2,880-byte block, ending in END.

    Args:
        solution: a solved :class:`cupola.photo.solve.Solution` (``rows_icrs``, ``focal_px``,
            ``k1``, ``matched_stars``, ``rms_arcsec``).
        width_px, height_px: the image's size (IMAGEW, IMAGEH).
        time_utc: the exposure's middle, written as DATE-OBS (omitted when None).

    Raises:
        InputError: (param 'wcs') the solution is not solved.
    """
    from ..timebase import iso_utc

    if not getattr(solution, "solved", False) or solution.rows_icrs is None:
        why = getattr(solution, "reason", "") or "no solution"
        raise InputError(f"no WCS can be written: the stars were not solved ({why})", param="wcs")
    rows = np.asarray(solution.rows_icrs, float)
    right, down, fwd = rows
    ra = math.degrees(math.atan2(fwd[1], fwd[0])) % 360.0
    dec = math.degrees(math.asin(max(-1.0, min(1.0, float(fwd[2])))))
    east, north = _east_north(ra, dec)
    f = float(solution.focal_px)
    k1 = float(getattr(solution, "k1", 0.0) or 0.0)
    scale = math.degrees(1.0) / f
    cd = scale * np.array([[right @ east, down @ east], [right @ north, down @ north]])
    sip = k1 != 0.0
    proj = "TAN-SIP" if sip else "TAN"
    cards = [
        _card("SIMPLE", True, "Standard FITS file"),
        _card("BITPIX", 8, "ASCII or bytes array"),
        _card("NAXIS", 0, "Minimal header"),
        _card("EXTEND", True, "There may be FITS ext"),
        _card("WCSAXES", 2),
        _card("CTYPE1", f"RA---{proj}", "TAN (gnomic) projection" + (" + SIP distortions" if sip else "")),
        _card("CTYPE2", f"DEC--{proj}", "TAN (gnomic) projection" + (" + SIP distortions" if sip else "")),
        _card("EQUINOX", 2000.0, "Equatorial coordinates definition (yr)"),
        _card("RADESYS", "ICRS", "Reference frame of the celestial coordinates"),
        _card("LONPOLE", 180.0),
        _card("LATPOLE", 0.0),
        _card("CRVAL1", ra, "RA  of reference point"),
        _card("CRVAL2", dec, "DEC of reference point"),
        _card("CRPIX1", (width_px + 1) / 2.0, "X reference pixel"),
        _card("CRPIX2", (height_px + 1) / 2.0, "Y reference pixel"),
        _card("CUNIT1", "deg", "X pixel scale units"),
        _card("CUNIT2", "deg", "Y pixel scale units"),
        _card("CD1_1", float(cd[0, 0]), "Transformation matrix"),
        _card("CD1_2", float(cd[0, 1]), "no comment"),
        _card("CD2_1", float(cd[1, 0]), "no comment"),
        _card("CD2_2", float(cd[1, 1]), "no comment"),
        _card("IMAGEW", int(width_px), "Image width,  in pixels."),
        _card("IMAGEH", int(height_px), "Image height, in pixels."),
    ]
    if sip:
        cards += _sip_cards(f, k1, width_px, height_px)
    if time_utc is not None:
        cards.append(_card("DATE-OBS", iso_utc(time_utc, 3)[:-1], "mid-exposure, UTC"))
    cards += [
        _comment(f"Written by cupola {__version__} (cupola annotate): plate solve of"),
        _comment(f"{int(solution.matched_stars)} matched stars, rms {float(solution.rms_arcsec):.1f} arcsec;"),
        _comment(f"focal length {f:.2f} px, radial k1 {k1:.6g}, principal point at the"),
        _comment("image centre. Pixel (1, 1) is the centre of the first pixel."),
        "END".ljust(80),
    ]
    text = "".join(cards)
    return text + " " * (-len(text) % FITS_BLOCK)


def write_wcs(path, solution, width_px: int, height_px: int, *, time_utc=None) -> Path:
    """Write :func:`wcs_header` to `path` (.wcs or .fits) atomically; return the path."""
    path = check_outputs(wcs=path)["wcs"]
    data = wcs_header(solution, width_px, height_px, time_utc=time_utc).encode("ascii")

    def write(tmp):
        with open(tmp, "wb") as f:
            f.write(data)

    return write_atomic(path, write)


# -- latitude / longitude ---------------------------------------------------------------------------
def _latlon_description(height_km: float, extra: dict | None) -> dict:
    return {"cupola": __version__, "bands": ["lat_deg", "lon_deg"],
            "what": "geodetic WGS84 latitude and longitude where each pixel's ray meets the ellipsoid "
                    f"grown by {height_km:g} km; NaN off the Earth; pixel (0, 0) is the first pixel's centre",
            "height_km": height_km, **(extra or {})}


def write_latlon(path, lat_deg: np.ndarray, lon_deg: np.ndarray, *, height_km: float = 0.0,
                 description: dict | None = None) -> Path:
    """Write per-pixel latitude and longitude (H, W) to `path` atomically; return the path.

    ``.npz``: float32 arrays ``lat_deg`` and ``lon_deg`` (compressed). ``.tif``/``.tiff``: two
    float32 bands (latitude, then longitude), zlib-compressed 256 x 256 tiles, a JSON ImageDescription,
    GDAL band descriptions (tag 42112) and NaN as no-data (tag 42113).

    Raises:
        InputError: (param 'lonlat') a bad path, or arrays of different shapes.
    """
    path = check_outputs(lonlat=path)["lonlat"]
    lat = np.asarray(lat_deg)
    lon = np.asarray(lon_deg)
    if lat.shape != lon.shape or lat.ndim != 2:
        raise InputError(f"lat/lon arrays must be two (H, W) arrays of one shape, got {lat.shape} and {lon.shape}",
                         param="lonlat")
    meta = _latlon_description(height_km, description)
    if path.suffix.lower() == ".npz":
        def write(tmp):
            with open(tmp, "wb") as f:  # a file object: numpy would add '.npz' to a name
                np.savez_compressed(f, lat_deg=lat.astype(np.float32, copy=False),
                                    lon_deg=lon.astype(np.float32, copy=False),
                                    description=np.array(json.dumps(meta)))
        return write_atomic(path, write)
    import tifffile

    h, w = lat.shape
    t = TIFF_TILE_PX

    def tiles():  # band by band, row-major, NaN-padded: no copy of the whole arrays
        for band in (lat, lon):
            for r0 in range(0, h, t):
                for c0 in range(0, w, t):
                    tile = np.full((t, t), np.nan, np.float32)
                    part = band[r0:r0 + t, c0:c0 + t]
                    tile[:part.shape[0], :part.shape[1]] = part
                    yield tile

    gdal = ("<GDALMetadata>" + "".join(
        f'<Item name="DESCRIPTION" sample="{i}" role="description">{name}</Item>'
        for i, name in enumerate(meta["bands"])) + "</GDALMetadata>")

    def write(tmp):
        tifffile.imwrite(tmp, tiles(), shape=(2, h, w), dtype=np.float32, photometric="minisblack",
                         planarconfig="separate", tile=(t, t), compression="zlib",
                         description=json.dumps(meta), metadata=None,
                         extratags=[(42112, "s", 0, gdal, True), (42113, "s", 0, "nan", True)])

    return write_atomic(path, write)


# -- drawing ------------------------------------------------------------------------------------------
def _font(size: int):
    from ..render.output import _font as bundled_font  # DejaVu Sans, loaded once per size

    return bundled_font(int(size))


def preview(rgb: np.ndarray, max_px: int) -> tuple[np.ndarray, float]:
    """Return (the image scaled so its long side is at most `max_px`, the scale factor)."""
    from PIL import Image

    h, w = rgb.shape[:2]
    s = min(1.0, float(max_px) / max(h, w))
    if s >= 1.0:
        return np.ascontiguousarray(rgb), 1.0
    size = (max(1, round(w * s)), max(1, round(h * s)))
    small = Image.fromarray(rgb).resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)
    return np.asarray(small), size[0] / w


def _to_preview(x, y, s: float):
    """Map full-size pixel coordinates (centres at integers) to the scaled image's."""
    return (np.asarray(x, float) + 0.5) * s - 0.5, (np.asarray(y, float) + 0.5) * s - 0.5


def crossings(values: np.ndarray, interval: float, wrap: bool = False):
    """Return (x, y, level) where the gridded field `values` (rows, cols) crosses multiples of
    `interval`, interpolated along each pair of neighbouring samples (in sample units).

    `wrap` treats values as longitudes (a step across +-180 deg is the short way round). Pairs
    with a NaN, or that cross more than one level, are skipped."""
    xs, ys, levels = [], [], []
    for axis in (0, 1):
        v0 = values[:-1, :] if axis == 0 else values[:, :-1]
        v1 = values[1:, :] if axis == 0 else values[:, 1:]
        v0 = v0.astype(np.float64)
        d = v1.astype(np.float64) - v0
        if wrap:
            d = (d + 180.0) % 360.0 - 180.0
        with np.errstate(invalid="ignore"):
            k0 = np.floor(v0 / interval)
            k1 = np.floor((v0 + d) / interval)
            ok = np.isfinite(d) & (np.abs(k1 - k0) == 1)
        i, j = np.nonzero(ok)
        level = np.maximum(k0, k1)[ok] * interval
        t = (level - v0[ok]) / d[ok]
        if axis == 0:
            xs.append(j.astype(float))
            ys.append(i + t)
        else:
            xs.append(j + t)
            ys.append(i.astype(float))
        if wrap:
            level = (level + 180.0) % 360.0 - 180.0
        levels.append(level)
    return np.concatenate(xs), np.concatenate(ys), np.concatenate(levels)


def graticule_interval(lat: np.ndarray) -> float:
    """Return the graticule spacing (deg) for the latitudes in view: 10 over a wide view, down to 1."""
    finite = lat[np.isfinite(lat)]
    if finite.size == 0:
        return 10.0
    span = float(np.ptp(finite))
    return 10.0 if span > 30 else 5.0 if span > 12 else 2.0 if span > 5 else 1.0


def _deg_label(value: float, pos: str, neg: str) -> str:
    v = round(float(value), 1)
    if v == 0:
        return "0°"
    return f"{abs(v):g}°{pos if v > 0 else neg}"


class _Canvas:
    """A Pillow drawing on the preview with the full-size pixel mapping and label collision."""

    def __init__(self, rgb: np.ndarray, scale: float):
        from PIL import Image, ImageDraw

        self.img = Image.fromarray(rgb).convert("RGBA")
        self.layer = Image.new("RGBA", self.img.size, (0, 0, 0, 0))
        self.draw = ImageDraw.Draw(self.layer)
        self.s = scale
        self.w, self.h = self.img.size
        self.size = max(11, int(round(min(self.w, self.h) / 55)))
        self.font = _font(self.size)
        self.small = _font(max(9, int(self.size * 0.8)))
        self._boxes: list[tuple[float, float, float, float]] = []

    def px(self, x, y):
        return _to_preview(x, y, self.s)

    def dots(self, x, y, colour, r: float = 1.0):
        x, y = self.px(x, y)
        keep = np.isfinite(x) & np.isfinite(y) & (x >= 0) & (y >= 0) & (x < self.w) & (y < self.h)
        pts = list(zip(x[keep].tolist(), y[keep].tolist()))
        if r <= 1.0:
            self.draw.point(pts, fill=colour)
            for dx, dy in ((1, 0), (0, 1), (1, 1)):
                self.draw.point([(a + dx, b + dy) for a, b in pts], fill=colour)
        else:
            for a, b in pts:
                self.draw.ellipse([a - r, b - r, a + r, b + r], fill=colour)
        return int(keep.sum())

    def polyline(self, x, y, colour, width: int = 2, dash: bool = False):
        x, y = self.px(x, y)
        finite = np.isfinite(x) & np.isfinite(y)
        for run in np.split(np.arange(x.size), np.flatnonzero(~finite)):
            run = run[finite[run]]
            if run.size < 2:
                continue
            pts = list(zip(x[run].tolist(), y[run].tolist()))
            if dash:
                for k in range(0, len(pts) - 1, 2 * max(1, len(pts) // 200 or 1)):
                    self.draw.line(pts[k:k + max(2, len(pts) // 200 or 2)], fill=colour, width=width)
            else:
                self.draw.line(pts, fill=colour, width=width)

    def label(self, x, y, text: str, colour, *, full: bool = True, small: bool = False, anchor: str = "la") -> bool:
        """Write `text` at (x, y) unless it would overlap an earlier label; return whether it was."""
        if full:
            x, y = self.px(x, y)
            x, y = float(x), float(y)
        font = self.small if small else self.font
        box = self.draw.textbbox((x, y), text, font=font, anchor=anchor, stroke_width=2)
        if box[0] < 0 or box[1] < 0 or box[2] > self.w or box[3] > self.h:
            return False
        for b in self._boxes:
            if not (box[2] < b[0] or box[0] > b[2] or box[3] < b[1] or box[1] > b[3]):
                return False
        self._boxes.append(box)
        self.draw.text((x, y), text, font=font, fill=colour, anchor=anchor, stroke_width=2,
                       stroke_fill=(0, 0, 0, 200))
        return True

    def reserve(self, box):
        self._boxes.append(tuple(box))

    def result(self) -> np.ndarray:
        from PIL import Image

        return np.asarray(Image.alpha_composite(self.img, self.layer).convert("RGB"))


def _ground_points_px(camera, attitude, state, lat_deg, lon_deg, k1: float):
    """Return pixel (x, y) of ground points seen from the station (NaN where hidden or behind)."""
    from ..frames import geodetic_to_itrs, itrs_to_teme
    from .geolocate import project_px

    from ..constants import WGS84_E2

    p = np.asarray(itrs_to_teme(geodetic_to_itrs(lat_deg, lon_deg, 0.0), state.instants), float)
    r = np.asarray(state.r_teme_km, float).reshape(3)
    up = p * np.array([1.0, 1.0, 1.0 / (1.0 - WGS84_E2)])  # the ellipsoid's normal direction
    seen = np.einsum("...i,...i->...", r - p, up) > 0.0  # the station above the point's horizon
    d = r - p
    d = -d / np.linalg.norm(d, axis=-1, keepdims=True)
    x, y, front = project_px(camera, np.asarray(attitude.matrix, float), d, k1)
    ok = seen & front
    return np.where(ok, x, np.nan), np.where(ok, y, np.nan)


def _earth_layers(cv: _Canvas, camera, attitude, state, k1: float, cities, lang: str) -> dict:
    """Draw the graticule, coasts, place names, cities and limb shells; return what was drawn."""
    from ..geo.places import _tables, locate
    from .geolocate import pixel_latlon, predicted_limb

    drawn: dict = {}
    step = max(1, int(round(2.0 / cv.s)))
    lat, lon = pixel_latlon(state, camera, attitude, step=step, k1=k1)
    if np.isfinite(lat).any():
        interval = graticule_interval(lat)
        drawn["graticule_deg"] = interval
        for field, wrap, pos, neg in ((lat, False, "N", "S"), (lon, True, "E", "W")):
            gx, gy, lev = crossings(field, interval, wrap)
            cv.dots(gx * step, gy * step, COLOURS["graticule"])
            for level in np.unique(lev):  # one label per line, as far left (lat) / low (lon) as it fits
                k = np.flatnonzero(lev == level)
                k = k[np.argsort(gx[k] if not wrap else -gy[k])]
                for i in k[:: max(1, k.size // 40)]:
                    if cv.label(gx[i] * step, gy[i] * step, _deg_label(level, pos, neg), COLOURS["graticule"],
                                small=True, anchor="lm" if not wrap else "mb"):
                        break
        # Coastlines from the bundled coast samples (every ~5 km), near the station only.
        tab = _tables()
        sub_lat, sub_lon = float(np.asarray(state.lat_deg)), float(np.asarray(state.lon_deg))
        coast_lat, coast_lon = tab.coast()[:2]
        near = _angle_deg(coast_lat, coast_lon, sub_lat, sub_lon) < 30.0
        cx, cy = _ground_points_px(camera, attitude, state, coast_lat[near], coast_lon[near], k1)
        drawn["coast_points"] = cv.dots(cx, cy, COLOURS["coast"])
        # Seas and countries in view, named at the middle of their share of a coarse grid.
        gs = max(1, lat.shape[1] // 48)
        glat, glon = lat[::gs, ::gs], lon[::gs, ::gs]
        ok = np.isfinite(glat)
        if ok.any():
            places = locate(glat[ok].astype(float), glon[ok].astype(float))
            iy, ix = np.nonzero(ok)
            names = _place_names(places, tab, lang)
            shown = []
            for name in dict.fromkeys(names.tolist()):
                k = np.flatnonzero(names == name)
                if not name or k.size < max(3, 0.02 * ok.sum()):
                    continue
                mx, my = np.median(ix[k] * gs * step), np.median(iy[k] * gs * step)
                if cv.label(mx, my, str(name), COLOURS["place"], anchor="mm"):
                    shown.append(str(name))
            drawn["places"] = shown
    # Cities: the Scene's lit cities in view.
    named = []
    if cities:
        c_lat = np.array([c[1] for c in cities], float)
        c_lon = np.array([c[2] for c in cities], float)
        x, y = _ground_points_px(camera, attitude, state, c_lat, c_lon, k1)
        for (name, _la, _lo), xi, yi in zip(cities, x, y):
            if np.isfinite(xi) and -0.5 <= xi <= camera.width_px - 0.5 and -0.5 <= yi <= camera.height_px - 0.5:
                cv.dots(np.array([xi]), np.array([yi]), COLOURS["city"], r=3.0)
                px, py = cv.px(xi, yi)
                if cv.label(float(px) + 5, float(py), name, COLOURS["city"], full=False, small=True, anchor="lm"):
                    named.append(name)
    drawn["cities"] = named
    # The limb and the shells above it.
    limbs = {}
    for key, h in (("limb", 0.0), ("airglow", AIRGLOW_KM), ("aurora", AURORA_KM)):
        lx, ly = predicted_limb(state, camera, attitude, height_km=h, k1=k1)
        if lx.size:
            cv.polyline(lx, ly, COLOURS[key], width=2, dash=key != "limb")
        limbs[key] = int(np.isfinite(lx).sum())
    drawn["limb_points"] = limbs
    return drawn


def _place_names(places, tab, lang: str) -> np.ndarray:
    """Return the country (on land) or sea name of each located point, in `lang`, as a label
    (French without the article the caption puts before it: 'Océan Pacifique')."""
    if lang != "fr":
        return np.where(places.over_land, places.country, places.sea)
    from ..geo.caption import sea_fr

    def bare(name: str) -> str:
        for article in ("l'", "le ", "la ", "les "):
            if name.startswith(article):
                name = name[len(article):]
                break
        return name[:1].upper() + name[1:]

    seas = {n: bare(sea_fr(n)) for n in set(places.sea.tolist()) if n}
    return np.array([tab.country_fr[c] if land else seas.get(sea, sea)
                     for land, c, sea in zip(places.over_land.tolist(), places.country_id.tolist(),
                                             places.sea.tolist())], dtype=object)


def _angle_deg(lat1, lon1, lat2, lon2):
    a1, o1, a2, o2 = (np.radians(np.asarray(v, float)) for v in (lat1, lon1, lat2, lon2))
    c = np.sin(a1) * np.sin(a2) + np.cos(a1) * np.cos(a2) * np.cos(o1 - o2)
    return np.degrees(np.arccos(np.clip(c, -1.0, 1.0)))


def star_names(ra_deg, dec_deg, max_sep_deg: float = 0.3) -> list[str]:
    """Return the IAU name (:data:`cupola.sky.stars.NAMES`) of each direction's nearest named
    star within `max_sep_deg`, '' where none."""
    from ..sky.stars import NAMES, catalog

    ra = np.asarray(ra_deg, float).reshape(-1)
    dec = np.asarray(dec_deg, float).reshape(-1)
    if ra.size == 0:
        return []
    cat = catalog()
    hips = np.array(list(NAMES), dtype=np.int64)
    idx = cat.index_of(hips)
    keep = idx >= 0
    hips, idx = hips[keep], idx[keep]
    sep = _angle_deg(dec[:, None], ra[:, None], cat.dec_deg[idx][None, :], cat.ra_deg[idx][None, :])
    best = np.argmin(sep, axis=1)
    return [NAMES[int(hips[b])] if sep[i, b] <= max_sep_deg else "" for i, b in enumerate(best)]


def overlay(rgb: np.ndarray, *, solution=None, camera=None, attitude=None, state=None, k1: float = 0.0,
            cities=(), legend=(), lang: str = "en", max_px: int = OVERLAY_MAX_PX) -> tuple[np.ndarray, dict]:
    """Return (the annotated overlay (h, w, 3) uint8, what was drawn) of the photo `rgb`.

    Args:
        rgb: the photo (H, W, 3) uint8.
        solution: the plate solution: its matched stars are circled, bright ones named.
        camera, attitude, state: the camera (the photo's size), its TEME attitude and the
            station's single-instant state: with all three the graticule, coasts, place names,
            cities, limb and shells are drawn; without them only the stars and the legend.
        k1: the lens' radial term.
        cities: (name, lat_deg, lon_deg) of the cities to mark (the Scene's lit cities).
        legend: lines of text for the legend band (time, caption, pointing).
        max_px: the overlay's long side at most.
    """
    small, s = preview(np.asarray(rgb, np.uint8), max_px)
    cv = _Canvas(small, s)
    legend = [str(t) for t in legend]
    band = (len(legend) + 2) * int(cv.size * 1.35) + cv.size
    cv.reserve((0, cv.h - band, cv.w, cv.h))
    drawn: dict = {}
    if camera is not None and attitude is not None and state is not None:
        drawn.update(_earth_layers(cv, camera, attitude, state, k1, cities, lang))
    matched = getattr(solution, "matches", None) if solution is not None and solution.solved else None
    named = []
    if matched is not None and len(matched["x_px"]):
        mx, my = cv.px(matched["x_px"], matched["y_px"])
        r = max(5.0, cv.size * 0.6)
        for a, b in zip(mx.tolist(), my.tolist()):
            cv.draw.ellipse([a - r, b - r, a + r, b + r], outline=COLOURS["star"], width=2)
        names = star_names(matched["ra_deg"], matched["dec_deg"])
        mag = np.asarray(matched.get("mag", np.zeros(len(names))), float)
        for k in np.argsort(mag):
            if names[k] and cv.label(mx[k] + r + 2, my[k], names[k], COLOURS["star"], full=False, small=True,
                                     anchor="lm"):
                named.append(names[k])
    drawn["stars_circled"] = 0 if matched is None else int(len(matched["x_px"]))
    drawn["stars_named"] = named
    _legend(cv, legend, drawn, lang)
    return cv.result(), drawn


LEGEND_WORDS = {
    "en": {"graticule": "latitude/longitude every {d}°", "coast": "coastlines", "limb": "predicted limb",
           "airglow": "{h} km (airglow)", "aurora": "{h} km (aurora)", "star": "matched stars ({n})",
           "city": "lit cities"},
    "fr": {"graticule": "latitude/longitude tous les {d}°", "coast": "côtes", "limb": "limbe prévu",
           "airglow": "{h} km (luminescence)", "aurora": "{h} km (aurore)", "star": "étoiles appariées ({n})",
           "city": "villes éclairées"},
}


def _legend(cv: _Canvas, lines: list[str], drawn: dict, lang: str) -> None:
    words = LEGEND_WORDS.get(lang, LEGEND_WORDS["en"])
    line_h = int(cv.size * 1.35)
    keys = []
    if "graticule_deg" in drawn:
        keys.append(("graticule", words["graticule"].format(d=f"{drawn['graticule_deg']:g}")))
    if drawn.get("coast_points"):
        keys.append(("coast", words["coast"]))
    limbs = drawn.get("limb_points", {})
    for key, h in (("limb", 0), ("airglow", AIRGLOW_KM), ("aurora", AURORA_KM)):
        if limbs.get(key):
            keys.append((key, words[key].format(h=f"{h:g}")))
    if drawn.get("cities"):
        keys.append(("city", words["city"]))
    if drawn.get("stars_circled"):
        keys.append(("star", words["star"].format(n=drawn["stars_circled"])))
    n_lines = len(lines) + (1 if keys else 0)
    band = n_lines * line_h + cv.size
    cv.draw.rectangle([0, cv.h - band, cv.w, cv.h], fill=(0, 0, 0, 160))
    y = cv.h - band + cv.size // 2
    for text in lines:
        cv.draw.text((cv.size, y), text, font=cv.font, fill=COLOURS["text"])
        y += line_h
    x = cv.size
    for key, text in keys:
        cv.draw.line([(x, y + cv.size * 0.55), (x + cv.size * 1.6, y + cv.size * 0.55)], fill=COLOURS[key], width=3)
        x += int(cv.size * 2.0)
        cv.draw.text((x, y), text, font=cv.small, fill=COLOURS[key])
        x += int(cv.draw.textlength(text, font=cv.small)) + cv.size * 2


def side_by_side(photo_rgb: np.ndarray, render_rgb: np.ndarray, labels=("photo", "cupola"),
                 max_px: int = SIDE_MAX_PX) -> np.ndarray:
    """Return the photo and cupola's render side by side at the same size (each at most
    `max_px` on its long side), labelled at their top left, with an 8 px gap."""
    from PIL import Image

    a, s = preview(np.asarray(photo_rgb, np.uint8), max_px)
    h, w = a.shape[:2]
    b = np.asarray(render_rgb, np.uint8)
    if b.shape[:2] != (h, w):
        b = np.asarray(Image.fromarray(b).resize((w, h), Image.Resampling.LANCZOS))
    gap = 8
    out = np.zeros((h, 2 * w + gap, 3), np.uint8)
    out[:, :w] = a
    out[:, w + gap:] = b
    cv = _Canvas(out, 1.0)
    for x0, text in ((0, labels[0]), (w + gap, labels[1])):
        cv.label(x0 + cv.size * 0.6, cv.size * 0.5, str(text), COLOURS["text"], full=False)
    return cv.result()


__all__ = ["wcs_header", "write_wcs", "write_latlon", "write_image", "write_atomic", "check_outputs", "overlay",
           "side_by_side", "preview", "crossings", "graticule_interval", "star_names", "AIRGLOW_KM", "AURORA_KM",
           "OVERLAY_MAX_PX", "SIDE_MAX_PX"]
