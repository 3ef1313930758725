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
from dataclasses import dataclass

import numpy as np

from ..errors import InputError

# Sensor sizes (mm) and the model names a camera writes in EXIF.
SENSORS = {
    "D4": (36.0, 23.9, "NIKON D4"),
    "D5": (35.9, 23.9, "NIKON D5"),
    "Z9": (35.9, 23.9, "NIKON Z 9"),
    "FF": (36.0, 24.0, "full frame"),
}
LENSES_MM = (14.0, 24.0, 28.0, 50.0, 200.0, 400.0)
NAMED_AZIMUTHS = {"north": 0.0, "northeast": 45.0, "east": 90.0, "southeast": 135.0, "south": 180.0,
                  "southwest": 225.0, "west": 270.0, "northwest": 315.0}
# Relative to the station's velocity (azimuth of the ground track ahead).
RELATIVE_AZIMUTHS = {"ahead": 0.0, "starboard": 90.0, "behind": 180.0, "port": 270.0}
LOOK_HELP = ("use nadir, horizon:AZ_DEG or horizon:north|ahead|behind|port|starboard (optionally "
             "horizon:AZ,PITCH_DEG), target:LAT,LON or target:PLACE, or sky:RA_DEG,DEC_DEG or "
             "sky:STAR|moon|sun|venus|mars|jupiter|saturn|mercury")


@dataclass(frozen=True)
class Look:
    """Where the camera points: mode is 'nadir', 'horizon', 'target' or 'sky'."""

    mode: str = "horizon"
    azimuth: float | str = "ahead"  # degrees from north, or a named direction (horizon mode)
    pitch_deg: float = 0.0  # above the hard limb (horizon mode)
    lat_deg: float = 0.0  # target mode
    lon_deg: float = 0.0
    ra_deg: float = 0.0  # sky mode (ICRS)
    dec_deg: float = 0.0
    name: str = ""  # the place, star or body the user named ('' for numbers)
    body: str = ""  # sky mode toward a solar-system body: its direction comes from the scene

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
        raise InputError(f"cannot read {what} from {text!r}; {LOOK_HELP}", param="look") from None
    if len(vals) != n:
        raise InputError(f"{what} needs {n} numbers separated by a comma, got {text!r}; {LOOK_HELP}", param="look")
    return vals


def _looks_numeric(text: str) -> bool:
    return all(c in "0123456789+-.,eE " for c in text)


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
    if mode == "target":
        if arg and not _looks_numeric(arg):
            raise InputError(f"{text!r} names a place; names are resolved by cupola.inputs.parse_look "
                             "(or give coordinates: target:LAT,LON)", param="look")
        lat, lon = _floats(arg, 2, "the target latitude,longitude")
        if not -90.0 <= lat <= 90.0:
            raise InputError(f"target latitude {lat:g} is outside -90..90; write target:LAT,LON, e.g. target:48.86,2.35", param="look")
        if not -180.0 <= lon <= 180.0:
            lon = ((lon + 180.0) % 360.0) - 180.0
        return Look("target", lat_deg=lat, lon_deg=lon)
    if mode == "sky":
        if arg and not _looks_numeric(arg):
            raise InputError(f"{text!r} names a star or body; names are resolved by cupola.inputs.parse_look "
                             "(or give sky:RA_DEG,DEC_DEG)", param="look")
        ra, dec = _floats(arg, 2, "the sky RA,Dec")
        if not -90.0 <= dec <= 90.0:
            raise InputError(f"declination {dec:g} is outside -90..90; write sky:RA_DEG,DEC_DEG, e.g. sky:101.29,-16.72", param="look")
        return Look("sky", ra_deg=ra % 360.0, dec_deg=dec)
    raise InputError(f"unknown pointing {text!r}; {LOOK_HELP}", param="look")


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
            raise InputError(f"unknown camera {self.model!r}; use one of {', '.join(SENSORS)}", param="model")
        if not (self.width_px >= 8 and self.height_px >= 8 and self.width_px * self.height_px <= 64_000_000):
            raise InputError(f"image size {self.width_px}x{self.height_px} is out of range (8x8 to 64 megapixels); "
                             "use e.g. 1920x1080", param="size")
        if self.fov_deg is None and not self.focal_mm > 0:
            raise InputError(f"focal length must be positive, got {self.focal_mm!r} mm", param="focal_mm")
        if self.fov_deg is not None and not 0.01 < self.fov_deg < 179.0:
            raise InputError(f"field of view {self.fov_deg!r} deg is out of range (0.01..179)", param="fov_deg")
        if not self.exposure_s > 0:
            raise InputError(f"exposure must be positive, got {self.exposure_s!r} s; e.g. 10 or 1/320", param="exposure")
        if not self.iso > 0:
            raise InputError(f"ISO must be positive, got {self.iso!r}", param="iso")

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
