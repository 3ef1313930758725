"""Camera model: sensor and lens presets, exposure and the requested pointing (a :class:`Look`).

All directions are in TEME (the frame of the station's state), km for positions. The camera
frame has rows (right, down, forward): pixel (u, v) grows to the right and downward, as in an
image array, and `forward` is the optical axis. A rectilinear (pinhole) lens is assumed; a
14 mm lens on full frame covers 104 x 81 deg.

- :mod:`cupola.camera.attitude`: the camera-to-TEME rotation (:class:`Attitude`) from a look, a
  matrix or a quaternion, and how it turns during an exposure.
- :mod:`cupola.camera.geometry`: the pinhole projection, per-pixel rays and where they meet the
  Earth (lat/lon of every pixel), shared by the renderer and photo annotation.
"""

from __future__ import annotations

import dataclasses
import math
import re
from dataclasses import dataclass

import numpy as np

from ..errors import InputError
from ..timebase import shown

# Sensor sizes (mm) and the model names a camera writes in EXIF: the bodies flown on the ISS
# (crew Earth-observation photography since 2000). Sizes from the makers' specifications
# (Nikon's "effective area"; Kodak DCS 760: 27.6 x 18.4 mm, 3032 x 2008 pixels, a 1.3x crop).
SENSORS = {
    "DCS760": (27.6, 18.4, "Kodak DCS 760"),
    "D1": (23.7, 15.6, "NIKON D1"),
    "D1X": (23.7, 15.6, "NIKON D1X"),
    "D2XS": (23.7, 15.7, "NIKON D2Xs"),
    "D3": (36.0, 23.9, "NIKON D3"),
    "D3S": (36.0, 23.9, "NIKON D3S"),
    "D3X": (35.9, 24.0, "NIKON D3X"),
    "D4": (36.0, 23.9, "NIKON D4"),
    "D4S": (36.0, 23.9, "NIKON D4S"),
    "D5": (35.9, 23.9, "NIKON D5"),
    "D6": (35.9, 23.9, "NIKON D6"),
    "D800E": (35.9, 24.0, "NIKON D800E"),
    "D850": (35.9, 23.9, "NIKON D850"),
    "Z9": (35.9, 23.9, "NIKON Z 9"),
    "FF": (36.0, 24.0, "full frame"),
}
LENSES_MM = (14.0, 24.0, 28.0, 50.0, 200.0, 400.0)
MAX_PIXELS = 64_000_000  # a frame's arrays take ~100 bytes a pixel: 6.4 GB at this size
NAMED_AZIMUTHS = {"north": 0.0, "northeast": 45.0, "east": 90.0, "southeast": 135.0, "south": 180.0,
                  "southwest": 225.0, "west": 270.0, "northwest": 315.0}
# Relative to the station's velocity (azimuth of the ground track ahead).
RELATIVE_AZIMUTHS = {"ahead": 0.0, "starboard": 90.0, "behind": 180.0, "port": 270.0}
LOOK_HELP = ("use nadir, horizon:AZ_DEG or horizon:north|ahead|behind|port|starboard (optionally "
             "horizon:AZ,PITCH_DEG), target:LAT,LON or target:PLACE, or sky:RA_DEG,DEC_DEG or "
             "sky:STAR|moon|sun|venus|mars|jupiter|saturn|mercury")


LOOK_MODES = ("nadir", "horizon", "target", "sky")

# What each camera setting may be: (lowest, highest, unit, example). Beyond these no camera works
# (a 1 mm or 10 m focal length, an f/0.3 lens, ISO 0.5) or the frame would be meaningless.
RANGES = {
    "focal_mm": (1.0, 10_000.0, "mm", "24"),
    "fov_deg": (0.01, 179.0, "deg", "73.7"),
    "exposure_s": (1e-6, 3600.0, "s", "10 or 1/320"),
    "iso": (1.0, 10_000_000.0, "", "1600"),
    "f_number": (0.5, 128.0, "", "1.4"),
    "pitch_deg": (-90.0, 90.0, "deg", "6"),
}
PARAM_OF = {"exposure_s": "exposure", "pitch_deg": "look"}


def check_range(name: str, value, what: str):
    """Return `value` as a float if it is a finite number within ``RANGES[name]``, else raise an
    InputError naming it, the range and an example."""
    lo, hi, unit, example = RANGES[name]
    try:
        v = float(value)
    except (TypeError, ValueError):
        v = math.nan
    if not (math.isfinite(v) and lo <= v <= hi):
        u = f" {unit}" if unit else ""
        raise InputError(f"{what} must be a number from {lo:g} to {hi:,.15g}{u}, got {value!r}; e.g. {example}",
                         param=PARAM_OF.get(name, name))
    return v


def _finite(value, what: str, param: str) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        v = math.nan
    if not math.isfinite(v):
        raise InputError(f"{what} must be a finite number, got {value!r}", param=param)
    return v


@dataclass(frozen=True)
class Look:
    """Where the camera points: mode is 'nadir', 'horizon', 'target' or 'sky' (checked: finite
    angles, latitudes and declinations within -90..90, pitch within -90..90)."""

    mode: str = "horizon"
    azimuth: float | str = "ahead"  # degrees from north, or a named direction (horizon mode)
    pitch_deg: float = 0.0  # above the hard limb (horizon mode)
    lat_deg: float = 0.0  # target mode
    lon_deg: float = 0.0
    ra_deg: float = 0.0  # sky mode (ICRS)
    dec_deg: float = 0.0
    name: str = ""  # the place, star or body the user named ('' for numbers)
    body: str = ""  # sky mode toward a solar-system body: its direction comes from the scene

    def __post_init__(self):
        if self.mode not in LOOK_MODES:
            raise InputError(f"unknown pointing mode {shown(self.mode)}; {LOOK_HELP}", param="look")
        if isinstance(self.azimuth, str):
            if self.azimuth not in NAMED_AZIMUTHS and self.azimuth not in RELATIVE_AZIMUTHS:
                raise InputError(f"unknown direction {self.azimuth!r}; {LOOK_HELP}", param="look")
        else:
            _finite(self.azimuth, "the azimuth", "look")
        check_range("pitch_deg", self.pitch_deg, "the pitch above the hard limb")
        for name, limit in (("lat_deg", 90.0), ("lon_deg", None), ("ra_deg", None), ("dec_deg", 90.0)):
            v = _finite(getattr(self, name), f"the look's {name[:-4]}", "look")
            if limit is not None and abs(v) > limit:
                raise InputError(f"the look's {name[:-4]} {v:g} is outside -90..90; {LOOK_HELP}", param="look")

    @property
    def text(self) -> str:
        if self.mode == "nadir":
            return "nadir"
        if self.mode == "horizon":
            p = f",{self.pitch_deg:g}" if self.pitch_deg else ""
            az = self.azimuth if isinstance(self.azimuth, str) else f"{self.azimuth:g}"
            return f"horizon:{az}{p}"
        if self.name:
            return f"{self.mode}:{self.name}"
        if self.mode == "target":
            return f"target:{self.lat_deg:g},{self.lon_deg:g}"
        return f"sky:{self.ra_deg:g},{self.dec_deg:g}"


def _floats(text: str, n: int, what: str) -> list[float]:
    parts = [p.strip() for p in text.split(",")]
    try:
        vals = [float(p) for p in parts]
    except ValueError:
        raise InputError(f"cannot read {what} from {shown(text)}; {LOOK_HELP}", param="look") from None
    if len(vals) != n:
        raise InputError(f"{what} needs {n} numbers separated by a comma, got {shown(text)}; {LOOK_HELP}", param="look")
    if not all(math.isfinite(v) for v in vals):
        kind = "a finite number" if n == 1 else "finite numbers"
        raise InputError(f"{what} must be {kind}, got {shown(text)}; {LOOK_HELP}", param="look")
    return vals


def looks_numeric(text: str) -> bool:
    """Return True when `text` is made of numbers (including nan and inf, refused later as such)
    rather than a name."""
    rest = re.sub(r"(?i)infinity|inf|nan", "0", text)
    return all(c in "0123456789+-.,eE " for c in rest)


def parse_look(text: str) -> Look:
    """Return the :class:`Look` for text such as 'nadir', 'horizon:30', 'target:48.8,2.3' or
    'sky:101.3,-16.7' (numbers only; :func:`cupola.inputs.parse_look` also reads names)."""
    mode, _, arg = str(text).strip().partition(":")
    mode = mode.lower()
    if mode == "nadir" and not arg:
        return Look("nadir")
    if mode == "horizon":
        az_text, _, pitch_text = (arg or "ahead").partition(",")
        az_text = az_text.strip().lower()
        pitch = _floats(pitch_text, 1, "the pitch")[0] if pitch_text else 0.0
        if az_text in NAMED_AZIMUTHS or az_text in RELATIVE_AZIMUTHS:
            return Look("horizon", az_text, pitch)
        return Look("horizon", _floats(az_text, 1, "the azimuth")[0] % 360.0, pitch)
    # target:LAT,LON and sky:RA,DEC: two numbers, the second (first for target) within -90..90.
    forms = {"target": ("a place", "target:LAT,LON", "the target latitude,longitude", "target latitude",
                        "target:48.86,2.35"),
             "sky": ("a star or body", "sky:RA_DEG,DEC_DEG", "the sky RA,Dec", "declination", "sky:101.29,-16.72")}
    if mode in forms:
        named, syntax, what, bounded, example = forms[mode]
        if arg and not looks_numeric(arg):
            raise InputError(f"{shown(text)} names {named}; names are resolved by cupola.inputs.parse_look "
                             f"(or give {syntax})", param="look")
        a, b = _floats(arg, 2, what)
        lat_like = a if mode == "target" else b
        if not -90.0 <= lat_like <= 90.0:
            raise InputError(f"{bounded} {lat_like:g} is outside -90..90; write {syntax}, e.g. {example}", param="look")
        if mode == "target":
            return Look("target", lat_deg=a, lon_deg=((b + 180.0) % 360.0) - 180.0 if not -180.0 <= b <= 180.0 else b)
        return Look("sky", ra_deg=a % 360.0, dec_deg=b)
    raise InputError(f"unknown pointing {shown(text)}; {LOOK_HELP}", param="look")


@dataclass(frozen=True)
class Camera:
    """A camera: sensor, lens, image size, pointing and exposure.

    Args:
        model: a key of SENSORS ('D4', 'D5', 'Z9', 'FF').
        focal_mm: lens focal length; ignored when `fov_deg` (horizontal) is given.
        width_px, height_px: image size; pixels are square, the sensor is cropped to the aspect.
        look: pointing; roll_deg: rotation of the camera about its optical axis (positive:
            clockwise as seen from behind the camera, so the scene turns counter-clockwise).
        exposure_s, iso, f_number: exposure; tracked: a sidereal drive cancels star motion.
    """

    model: str = "D5"
    focal_mm: float = 24.0
    width_px: int = 1920
    height_px: int = 1080
    look: Look = Look()
    roll_deg: float = 0.0
    exposure_s: float = 1.0 / 60.0
    iso: float = 1600.0
    f_number: float = 1.4
    tracked: bool = False
    fov_deg: float | None = None

    def __post_init__(self):
        if self.model not in SENSORS:
            raise InputError(f"unknown camera {shown(self.model)}; use one of {', '.join(SENSORS)}", param="model")
        ok_ints = all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in (self.width_px, self.height_px))
        if not (ok_ints and self.width_px >= 8 and self.height_px >= 8 and self.width_px * self.height_px <= MAX_PIXELS):
            raise InputError(f"image size {self.width_px!r}x{self.height_px!r} is out of range (whole numbers, 8x8 to "
                             f"{MAX_PIXELS // 1_000_000} megapixels); use e.g. 1920x1080", param="size")
        if self.fov_deg is None:
            check_range("focal_mm", self.focal_mm, "the focal length")
        else:
            check_range("fov_deg", self.fov_deg, "the field of view")
        check_range("exposure_s", self.exposure_s, "the exposure")
        check_range("iso", self.iso, "the ISO sensitivity")
        check_range("f_number", self.f_number, "the f-number")
        _finite(self.roll_deg, "the roll", "roll_deg")
        if not isinstance(self.look, Look):
            raise InputError(f"look must be a Look, got {type(self.look).__name__}; e.g. cupola.inputs.parse_look('nadir')",
                             param="look")

    def replace(self, **kw) -> "Camera":
        return dataclasses.replace(self, **kw)

    @property
    def camera_name(self) -> str:
        return SENSORS[self.model][2]

    @property
    def focal_px(self) -> float:
        """Return the focal length in pixels (horizontal field spans the image width)."""
        if self.fov_deg is not None:
            return 0.5 * self.width_px / np.tan(np.radians(self.fov_deg) / 2.0)
        sw, sh, _ = SENSORS[self.model]
        # The sensor is cropped to the image aspect: whichever dimension limits it.
        px_mm = min(sw / self.width_px, sh / self.height_px)
        return self.focal_mm / px_mm

    @property
    def fov_h_deg(self) -> float:
        return float(np.degrees(2.0 * np.arctan(0.5 * self.width_px / self.focal_px)))

    @property
    def fov_v_deg(self) -> float:
        return float(np.degrees(2.0 * np.arctan(0.5 * self.height_px / self.focal_px)))

    @property
    def principal_point(self) -> tuple[float, float]:
        """Return (cx, cy) in pixel coordinates (pixel centres at integers)."""
        return (self.width_px - 1) / 2.0, (self.height_px - 1) / 2.0

    @property
    def effective_focal_mm(self) -> float:
        """Return the focal length (mm) that gives this field of view on this sensor.

        `focal_mm` itself when no `fov_deg` is given; otherwise `focal_px` times the pixel pitch
        of the sensor cropped to the image aspect (what a camera would record in EXIF).
        """
        if self.fov_deg is None:
            return float(self.focal_mm)
        sw, sh, _ = SENSORS[self.model]
        return float(self.focal_px * min(sw / self.width_px, sh / self.height_px))




from .attitude import Attitude, pointing_basis  # noqa: E402  (the submodules use Camera and Look)
from .geometry import FramePool, RayGeometry, pixel_rays, project, ray_geometry  # noqa: E402

__all__ = ["Camera", "Look", "SENSORS", "LENSES_MM", "LOOK_HELP", "NAMED_AZIMUTHS", "RELATIVE_AZIMUTHS",
           "parse_look", "Attitude", "pointing_basis", "FramePool", "RayGeometry", "pixel_rays", "project",
           "ray_geometry"]
