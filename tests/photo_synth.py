"""Synthetic photographs from the ISS with a known pointing, for the photo tests (issue 11).

:func:`synth_photo` renders a frame with cupola's own renderer at a KNOWN attitude
(``cupola.render.render(scene, camera, attitude=...)``: its stars are Hipparcos, independent of
tetra3rs's Gaia catalogue), then makes it look like a camera file:

- where the Earth is in the frame (the renderer's own per-pixel geometry: rays that hit the
  WGS84 ellipsoid), a moonlit Earth with cloud-like texture and a bright green limb band at
  tangent heights of ~90-110 km (the real night photographs' aurora/airglow limb), added as
  luminance and developed by the renderer's camera response, so the limb lies exactly where the
  model puts it;
- optionally station structure across the top and an orange solar array at the right (bright,
  extended, textured: what :func:`cupola.photo.stars.sky_mask` must remove);
- a sky background level, Gaussian sensor noise (code values), hot pixels;
- JPEG compression (Pillow, 4:2:0) and EXIF written by Pillow: Make/Model, DateTimeOriginal and
  SubSecTimeOriginal (the exposure's START, as Nikon bodies write it, plus any `clock_offset_s`
  of a drifting camera clock; no OffsetTimeOriginal, as on the ISS cameras), ExposureTime,
  FNumber, ISOSpeedRatings, FocalLength.

The truth returned (:class:`SynthPhoto`): the camera axes (right, down, forward) in TEME and in
ICRS (geometric: the renderer draws apparent directions, aberrated by the station's barycentric
velocity, ~20-25"), the RA/Dec of the optical axis and the roll (position angle of the image's
up, north through east), the camera, the mid-exposure instant, the state and the Earth mask.

Element sets are bundled for 2024-01-18..24 and 2021-05-01..02: :data:`SEED1_TIME` (night,
2024-01-19T16:02:54Z) is the default instant.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image
from PIL.TiffImagePlugin import IFDRational

from cupola.camera import Attitude, Camera, parse_look
from cupola.render import DEFAULT_SETTINGS, render
from cupola.render.response import develop, exposure_scale
from cupola.scene import compute_scene
from cupola.timebase import to_utc64

SEED1_TIME = "2024-01-19T16:02:54Z"
# A daylit instant of the same element sets (the station and the ground below in sunlight).
DAY_TIME = "2024-01-19T16:45:00Z"
# Stars 0.8 px wide, no bloom, no vignetting: what the photo pipeline's detection and plate solve were tuned
# on. The renderer's lens (render.optics) draws them as physically sharper ~0.35 px cores at these sizes, which
# the detector takes for hot pixels: a limit of the photo pipeline, not of these fixtures' truth.
PHOTO_SETTINGS = DEFAULT_SETTINGS.replace(psf_sigma_px=0.8, bloom=False, vignetting=False)
STAR_LAYERS = ("stars",)
# Scene parts the star layer reads (planets come with the stars).
_STAR_PARTS = ("stars", "bodies", "lighting")
# EXIF tags (CIPA DC-008, EXIF 2.32).
_IFD_EXIF = 0x8769
_TAGS = {"make": 0x010F, "model": 0x0110, "datetime": 0x0132, "exposure": 0x829A, "fnumber": 0x829D,
         "iso": 0x8827, "original": 0x9003, "subsec": 0x9291, "focal": 0x920A}
# Moonlit Earth and limb band: sensor values v (0.18 = mid grey) they develop to.
EARTH_V = 0.9
LIMB_V = 2.5
LIMB_KM = (100.0, 12.0)  # centre and Gaussian sigma of the bright limb band (tangent height)


@dataclass(frozen=True, eq=False)
class SynthPhoto:
    """A synthetic photograph and its truth."""

    path: Path
    rgb: np.ndarray  # the JPEG as decoded by Pillow (H, W, 3) uint8
    camera: Camera
    time_utc: np.datetime64  # the exposure's middle (true time: the EXIF clock may be offset)
    exif_time_utc: np.datetime64  # what DateTimeOriginal + SubSecTimeOriginal say (the start, + offset)
    rows_teme: np.ndarray  # (3, 3) camera axes right, down, forward in TEME
    rows_icrs: np.ndarray  # (3, 3) the same axes in ICRS (geometric)
    ra_deg: float  # optical axis
    dec_deg: float
    roll_deg: float  # position angle of the image's up (-down), north through east, [0, 360)
    earth: np.ndarray  # bool (H, W): the pixel's ray meets the Earth (the model's mask)
    structure: np.ndarray  # bool (H, W): painted station structure / solar array
    scene: object
    state: object

    @property
    def focal_px(self) -> float:
        return float(self.camera.focal_px)


@functools.lru_cache(maxsize=8)
def scene_at(time: str, full: bool = False):
    """Return the Scene at `time` (ISO text), cached: the star layer's parts, or every part."""
    return compute_scene(time, parts=None if full else _STAR_PARTS)


def radec_roll(rows_icrs) -> tuple[float, float, float]:
    """Return (RA, Dec, roll) in degrees of camera rows (right, down, forward) in ICRS: the
    optical axis' direction and the position angle of the image's up (-down) from celestial
    north through east, in [0, 360)."""
    rows = np.asarray(rows_icrs, float)
    f = rows[2]
    ra = np.arctan2(f[1], f[0])
    dec = np.arcsin(np.clip(f[2], -1.0, 1.0))
    north = np.array([-np.sin(dec) * np.cos(ra), -np.sin(dec) * np.sin(ra), np.cos(dec)])
    east = np.array([-np.sin(ra), np.cos(ra), 0.0])
    up = -rows[1]
    roll = np.degrees(np.arctan2(up @ east, up @ north)) % 360.0
    return float(np.degrees(ra) % 360.0), float(np.degrees(dec)), float(roll)


def rows_from_radec(ra_deg: float, dec_deg: float, roll_deg: float) -> np.ndarray:
    """Return camera rows (right, down, forward) in ICRS pointing at (RA, Dec) with the image's
    up at position angle `roll_deg` (north through east): the inverse of :func:`radec_roll`."""
    ra, dec, pa = np.radians([ra_deg, dec_deg, roll_deg])
    f = np.array([np.cos(dec) * np.cos(ra), np.cos(dec) * np.sin(ra), np.sin(dec)])
    north = np.array([-np.sin(dec) * np.cos(ra), -np.sin(dec) * np.sin(ra), np.cos(dec)])
    east = np.array([-np.sin(ra), np.cos(ra), 0.0])
    up = np.cos(pa) * north + np.sin(pa) * east
    down = -up
    right = np.cross(down, f)  # (right, down, forward) is right-handed: right = down x forward
    return np.stack([right, down, f])


def _smooth_noise(rng, shape, scale_px: float) -> np.ndarray:
    """Return smooth noise in [0, 1] (H, W): coarse random grid, bilinearly upsampled."""
    h, w = shape
    gh, gw = int(np.ceil(h / scale_px)) + 2, int(np.ceil(w / scale_px)) + 2
    g = rng.random((gh, gw))
    y = np.arange(h) / scale_px
    x = np.arange(w) / scale_px
    y0, x0 = np.floor(y).astype(int), np.floor(x).astype(int)
    fy, fx = (y - y0)[:, None], (x - x0)[None, :]
    a = g[y0][:, x0]
    b = g[y0][:, x0 + 1]
    c = g[y0 + 1][:, x0]
    d = g[y0 + 1][:, x0 + 1]
    return (a * (1 - fx) * (1 - fy) + b * fx * (1 - fy) + c * (1 - fx) * fy + d * fx * fy).astype(np.float32)


def _earth_and_limb(frame, rng) -> np.ndarray:
    """Return luminance (H, W, 3) cd/m^2 of a moonlit, cloudy Earth and a green limb band."""
    geom, cam = frame.geometry, frame.camera
    per_v = 1.0 / exposure_scale(cam)  # cd/m^2 that develop to v = 1
    h, w = geom.hit.shape
    clouds = 0.35 + 0.65 * (0.6 * _smooth_noise(rng, (h, w), 60.0) + 0.4 * _smooth_noise(rng, (h, w), 12.0))
    out = np.zeros((h, w, 3), np.float32)
    earth = geom.hit
    out[earth] = (EARTH_V * per_v * clouds[earth])[:, None] * np.array([0.75, 0.85, 0.9], np.float32)
    tan_km = np.where(earth, np.nan, geom.tangent_km)
    with np.errstate(invalid="ignore"):
        band = np.exp(-0.5 * ((tan_km - LIMB_KM[0]) / LIMB_KM[1]) ** 2)
    band = np.nan_to_num(band, nan=0.0).astype(np.float32)
    out += (LIMB_V * per_v * band)[..., None] * np.array([0.25, 1.0, 0.35], np.float32)
    return out


def _structure(rng, shape) -> tuple[np.ndarray, np.ndarray]:
    """Return (mask (H, W), colour (H, W, 3) uint8) of station modules across the top (an
    irregular lower edge) and an orange solar array (a slanted band) at the right."""
    h, w = shape
    yy, xx = np.mgrid[0:h, 0:w]
    edge = 0.10 * h + 0.04 * h * np.sin(xx / w * 9.0) + 0.03 * h * (xx > 0.45 * w)
    modules = yy < edge
    # The array: a band from the right edge, slanting down to the left.
    u = (xx - 0.72 * w) * 0.6 + (yy - 0.30 * h)
    array = (xx > 0.72 * w) & (np.abs(u) < 0.08 * h)
    mask = modules | array
    tex = _smooth_noise(rng, shape, 20.0)
    col = np.zeros(shape + (3,), np.float32)
    col[modules] = (150 + 90 * tex[modules])[:, None] * np.array([1.0, 1.0, 1.0])
    stripes = 0.7 + 0.3 * (np.sin(xx / 6.0) > 0)
    col[array] = ((120 + 100 * tex[array]) * stripes[array])[:, None] * np.array([1.0, 0.55, 0.2])
    return mask, np.clip(col, 0, 255).astype(np.uint8)


def write_jpeg(path, rgb, camera: Camera, start_utc, quality: int = 75, exif: bool = True) -> None:
    """Write `rgb` as a JPEG with the EXIF a Nikon body writes (Pillow's EXIF writer);
    DateTimeOriginal + SubSecTimeOriginal = `start_utc` (the exposure's start), no offset tag."""
    im = Image.fromarray(rgb)
    if not exif:
        im.save(path, "JPEG", quality=quality)
        return
    t = np.datetime64(start_utc, "ms")
    text = str(t)  # 'YYYY-MM-DDTHH:MM:SS.mmm'
    stamp = text[:19].replace("-", ":").replace("T", " ")
    ex = Image.Exif()
    ex[_TAGS["make"]] = "NIKON CORPORATION"
    ex[_TAGS["model"]] = camera.camera_name
    ex[_TAGS["datetime"]] = stamp
    sub = ex.get_ifd(_IFD_EXIF)
    sub[_TAGS["original"]] = stamp
    sub[_TAGS["subsec"]] = text[20:23]
    e = float(camera.exposure_s)
    num, den = (1, int(round(1.0 / e))) if e < 1.0 and abs(1.0 / e - round(1.0 / e)) < 1e-6 else (int(round(e * 10)), 10)
    sub[_TAGS["exposure"]] = IFDRational(num, den)
    sub[_TAGS["fnumber"]] = IFDRational(int(round(camera.f_number * 10)), 10)
    sub[_TAGS["iso"]] = int(round(camera.iso))
    sub[_TAGS["focal"]] = IFDRational(int(round(camera.effective_focal_mm * 100)), 100)
    im.save(path, "JPEG", quality=quality, exif=ex.tobytes())


def synth_photo(path, *, time: str = SEED1_TIME, focal_mm: float = 24.0, width_px: int = 1536,
                height_px: int = 1024, look: str = "horizon:ahead,25", rows_icrs=None, roll_deg: float = 0.0,
                exposure_s: float = 0.5, tracked: bool = True, iso: float = 3200.0, f_number: float = 1.4,
                model: str = "D5", earth: bool = True, structure: bool = False, sky_dn: float = 6.0,
                noise_dn: float = 2.0, hot_pixels: int = 40, jpeg_quality: int = 75, clock_offset_s: float = 0.0,
                layers=STAR_LAYERS, exif: bool = True, seed: int = 1, settings=None) -> SynthPhoto:
    """Render a synthetic photograph at a known attitude, write it as a JPEG at `path` and return it
    with its truth.

    Args:
        path: the JPEG to write.
        time: the exposure's middle (ISO text); the Scene is computed there.
        focal_mm, width_px, height_px, model: the lens and sensor (cupola.camera.SENSORS key).
        look: the pointing (cupola.camera.parse_look text), resolved at `time`; or `rows_icrs`
            (3, 3) camera axes right, down, forward in ICRS, which wins when given.
        roll_deg: roll about the optical axis applied to the look (cupola's Camera convention).
        exposure_s, tracked: the exposure, and whether a sidereal drive kept the stars round (else
            they trail with the station's LVLH rotation, as the renderer draws them).
        earth: add a moonlit Earth and a bright limb where the Earth is in the frame.
        structure: paint station modules across the top and a solar array at the right.
        sky_dn, noise_dn, hot_pixels: sky level and Gaussian noise (code values), hot pixels.
        jpeg_quality: JPEG quality (Pillow).
        clock_offset_s: the camera clock's error: EXIF says start + offset.
        layers: render layers (default the stars only; add 'earth' etc. for a full render).
        exif: write the EXIF block.
        seed: the noise's random seed.
    """
    rng = np.random.default_rng(seed)
    full = any(name != "stars" for name in layers)
    scene = scene_at(str(time), full)
    cam = Camera(model=model, focal_mm=float(focal_mm), width_px=int(width_px), height_px=int(height_px),
                 look=parse_look(look), roll_deg=float(roll_deg), exposure_s=float(exposure_s), iso=float(iso),
                 f_number=float(f_number), tracked=bool(tracked))
    icrs_to_teme = np.asarray(scene.icrs_to_teme, float)
    if rows_icrs is not None:
        att = Attitude(np.asarray(rows_icrs, float) @ icrs_to_teme.T)
    else:
        att = Attitude.from_look(cam.look, scene, cam.roll_deg)
    frame = render(scene, cam, attitude=att, layers=tuple(layers), force=True,
                   settings=PHOTO_SETTINGS if settings is None else settings)
    lum = frame.luminance.copy()
    if earth and frame.geometry.hit.any():
        lum += _earth_and_limb(frame, rng)
    rgb = develop(lum, cam).astype(np.float32)
    rgb += sky_dn * np.array([1.0, 0.8, 0.9], np.float32)
    rgb += rng.normal(0.0, noise_dn, rgb.shape).astype(np.float32)
    hot = (rng.integers(0, cam.height_px, hot_pixels), rng.integers(0, cam.width_px, hot_pixels))
    rgb[hot[0], hot[1], rng.integers(0, 3, hot_pixels)] = rng.uniform(120, 255, hot_pixels)
    struct_mask = np.zeros((cam.height_px, cam.width_px), bool)
    if structure:
        struct_mask, colour = _structure(rng, struct_mask.shape)
        rgb[struct_mask] = colour[struct_mask] + rng.normal(0.0, noise_dn, (int(struct_mask.sum()), 3))
    rgb8 = np.clip(np.rint(rgb), 0, 255).astype(np.uint8)
    t_mid = to_utc64(time)
    start = t_mid - np.timedelta64(int(round(0.5 * cam.exposure_s * 1e9)), "ns")
    exif_t = start + np.timedelta64(int(round(clock_offset_s * 1e9)), "ns")
    path = Path(path)
    write_jpeg(path, rgb8, cam, exif_t, quality=jpeg_quality, exif=exif)
    with Image.open(path) as im:
        decoded = np.asarray(im.convert("RGB"))
    rows_teme = np.asarray(att.matrix, float)
    rows_i = rows_teme @ icrs_to_teme
    ra, dec, roll = radec_roll(rows_i)
    return SynthPhoto(path=path, rgb=decoded, camera=cam, time_utc=t_mid, exif_time_utc=exif_t,
                      rows_teme=rows_teme, rows_icrs=rows_i, ra_deg=ra, dec_deg=dec, roll_deg=roll,
                      earth=np.array(frame.geometry.hit), structure=struct_mask, scene=scene, state=scene.state)


__all__ = ["SEED1_TIME", "DAY_TIME", "SynthPhoto", "synth_photo", "scene_at", "radec_roll", "rows_from_radec",
           "write_jpeg"]
