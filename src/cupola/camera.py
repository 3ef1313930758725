"""Camera model: sensor and lens presets, exposure, pointing modes and the pinhole projection.

All directions are in TEME (the frame of the station's state), km for positions. The camera
frame has rows (right, down, forward): pixel (u, v) grows to the right and downward, as in an
image array, and `forward` is the optical axis. A rectilinear (pinhole) lens is assumed; a
14 mm lens on full frame covers 104 x 81 deg.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from .errors import InputError
from .frames import geodetic_to_itrs, itrs_to_teme, unit
from .constants import R_EARTH_KM
from .view import horizon_dip_deg, local_horizontal_basis

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
        raise InputError(f"cannot read {what} from {text!r}; {LOOK_HELP}") from None
    if len(vals) != n:
        raise InputError(f"{what} needs {n} numbers separated by a comma, got {text!r}; {LOOK_HELP}")
    return vals


def _looks_numeric(text: str) -> bool:
    return all(c in "0123456789+-.,eE " for c in text)


def _fold(text: str) -> str:
    """Return `text` lower-cased without accents, for name matching."""
    import unicodedata

    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c)).lower().strip()


def _place(text: str) -> tuple[float, float, str]:
    """Return (lat, lon, name) of the most populous GeoNames place called `text`."""
    import difflib

    from .geo.geonames import geonames

    g = geonames()
    want = _fold(text)
    folded = np.array([_fold(n) for n in g.name], dtype=object)
    match = np.flatnonzero(folded == want)
    if match.size == 0:
        big = np.argsort(-g.population)[:20_000]
        close = list(dict.fromkeys(difflib.get_close_matches(want, [folded[i] for i in big], n=6, cutoff=0.75)))[:3]
        hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        raise InputError(f"no place called {text!r} in the bundled GeoNames list{hint} "
                         "(or give coordinates: target:LAT,LON)")
    k = match[np.argmax(g.population[match])]
    return float(g.lat_deg[k]), float(g.lon_deg[k]), str(g.name[k])


def _sky_name(text: str) -> Look:
    """Return the sky Look for a named star (IAU name, Hipparcos catalogue) or a body."""
    from .sky.bodies import BODY_KEYS
    from .sky.stars import NAMES, catalog

    want = _fold(text)
    if want in BODY_KEYS:
        return Look("sky", name=want.capitalize(), body=want)
    by_name = {_fold(n): hip for hip, n in NAMES.items()}
    if want not in by_name:
        names = sorted(NAMES.values())
        raise InputError(f"unknown sky object {text!r}; name a body ({', '.join(BODY_KEYS)}), a bright star "
                         f"({', '.join(names[:6])}, ...) or give sky:RA_DEG,DEC_DEG")
    cat = catalog()
    k = int(cat.index_of([by_name[want]])[0])
    return Look("sky", ra_deg=float(cat.ra_deg[k]), dec_deg=float(cat.dec_deg[k]), name=NAMES[by_name[want]])


def parse_look(text: str) -> Look:
    """Return the :class:`Look` for CLI text such as 'nadir', 'horizon:30', 'target:48.8,2.3'."""
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
            lat, lon, name = _place(arg)
            return Look("target", lat_deg=lat, lon_deg=lon, name=name)
        lat, lon = _floats(arg, 2, "the target latitude,longitude")
        if not -90.0 <= lat <= 90.0:
            raise InputError(f"target latitude {lat:g} is outside -90..90; write target:LAT,LON, e.g. target:48.86,2.35")
        if not -180.0 <= lon <= 180.0:
            lon = ((lon + 180.0) % 360.0) - 180.0
        return Look("target", lat_deg=lat, lon_deg=lon)
    if mode == "sky":
        if arg and not _looks_numeric(arg):
            return _sky_name(arg)
        ra, dec = _floats(arg, 2, "the sky RA,Dec")
        if not -90.0 <= dec <= 90.0:
            raise InputError(f"declination {dec:g} is outside -90..90; write sky:RA_DEG,DEC_DEG, e.g. sky:101.29,-16.72")
        return Look("sky", ra_deg=ra % 360.0, dec_deg=dec)
    raise InputError(f"unknown pointing {text!r}; {LOOK_HELP}")


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
            raise InputError(f"unknown camera {self.model!r}; use one of {', '.join(SENSORS)}")
        if not (self.width_px >= 8 and self.height_px >= 8 and self.width_px * self.height_px <= 64_000_000):
            raise InputError(f"image size {self.width_px}x{self.height_px} is out of range; use e.g. --size 1920x1080")
        if self.fov_deg is None and not self.focal_mm > 0:
            raise InputError(f"focal length must be positive, got {self.focal_mm!r} mm")
        if self.fov_deg is not None and not 0.01 < self.fov_deg < 179.0:
            raise InputError(f"field of view {self.fov_deg!r} deg is out of range (0.01..179)")
        if not self.exposure_s > 0:
            raise InputError(f"exposure must be positive, got {self.exposure_s!r} s; e.g. --exposure 10 or 1/320")
        if not self.iso > 0:
            raise InputError(f"ISO must be positive, got {self.iso!r}")

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


def _horizon_forward(look: Look, r_km, v_km_s):
    basis = local_horizontal_basis(r_km)  # rows E, N, U
    east, north, up = basis[0], basis[1], basis[2]
    if isinstance(look.azimuth, str) and look.azimuth in RELATIVE_AZIMUTHS:
        vh = v_km_s - np.dot(v_km_s, up) * up
        az_ahead = np.degrees(np.arctan2(np.dot(vh, east), np.dot(vh, north)))
        az = az_ahead + RELATIVE_AZIMUTHS[look.azimuth]
    elif isinstance(look.azimuth, str):
        az = NAMED_AZIMUTHS[look.azimuth]
    else:
        az = float(look.azimuth)
    alt_km = np.linalg.norm(r_km) - R_EARTH_KM
    el = -float(horizon_dip_deg(alt_km)) + look.pitch_deg
    a, e = np.radians(az), np.radians(el)
    fwd = np.cos(e) * (np.sin(a) * east + np.cos(a) * north) + np.sin(e) * up
    return fwd, up


def pointing_basis(camera: Camera, r_teme_km, v_teme_km_s, inst=None, icrs_to_teme=None,
                   body_dir_teme=None) -> np.ndarray:
    """Return the camera frame rows (right, down, forward) in TEME, shape (3, 3), for one instant.

    Args:
        r_teme_km, v_teme_km_s: the station's state (3,).
        inst: timebase.Instants for that instant (needed for 'target').
        icrs_to_teme: (3, 3) rotation (needed for 'sky').
        body_dir_teme: (3,) direction of the named body (needed for 'sky' toward a body).
    """
    r = np.asarray(r_teme_km, float)
    v = np.asarray(v_teme_km_s, float)
    up_local = unit(r)
    look = camera.look
    if look.mode == "nadir":
        fwd = -up_local
        hint = unit(v - np.dot(v, up_local) * up_local)  # image top toward the way ahead
    elif look.mode == "horizon":
        fwd, hint = _horizon_forward(look, r, v)
    elif look.mode == "target":
        if inst is None:
            raise InputError("pointing at a target needs the instant")
        tgt = itrs_to_teme(geodetic_to_itrs(look.lat_deg, look.lon_deg, 0.0), inst)
        fwd = unit(tgt - r)
        hint = up_local
    elif look.mode == "sky" and look.body:
        if body_dir_teme is None:
            raise InputError(f"pointing at {look.name} needs its direction from the scene")
        fwd = unit(np.asarray(body_dir_teme, float))
        hint = up_local
    elif look.mode == "sky":
        if icrs_to_teme is None:
            raise InputError("pointing at the sky needs the ICRS->TEME rotation")
        ra, dec = np.radians(look.ra_deg), np.radians(look.dec_deg)
        d_icrs = np.array([np.cos(dec) * np.cos(ra), np.cos(dec) * np.sin(ra), np.sin(dec)])
        fwd = unit(icrs_to_teme @ d_icrs)
        hint = up_local
    else:  # pragma: no cover - Look is validated by parse_look
        raise InputError(f"unknown pointing mode {look.mode!r}")
    if abs(np.dot(fwd, unit(hint))) > 0.999:  # looking straight along the hint: pick another
        hint = np.array([0.0, 0.0, 1.0]) if abs(fwd[2]) < 0.9 else np.array([1.0, 0.0, 0.0])
    # right = forward x hint, down = forward x right = -hint (for a hint normal to forward):
    # the hint points to the top of the image.
    right = unit(np.cross(fwd, hint))
    down = np.cross(fwd, right)
    if camera.roll_deg:
        c, s = np.cos(np.radians(camera.roll_deg)), np.sin(np.radians(camera.roll_deg))
        right, down = c * right + s * down, -s * right + c * down
    return np.stack([right, down, fwd])


def project(camera: Camera, basis: np.ndarray, dirs) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return pixel (x, y) and an in-front mask for unit directions (..., 3) in the basis' frame.

    `basis` is (3, 3), or a stack (..., 3, 3) of camera attitudes that broadcasts against `dirs`
    (e.g. bases (T, 3, 3) with dirs (1, N, 3) for N sources at T instants of an exposure).
    """
    d = np.asarray(dirs, float)
    c = np.matmul(d, np.swapaxes(np.asarray(basis, float), -1, -2))  # (..., 3) camera coordinates
    f = camera.focal_px
    cx, cy = camera.principal_point
    z = c[..., 2]
    with np.errstate(divide="ignore", invalid="ignore"):
        x = cx + f * c[..., 0] / z
        y = cy + f * c[..., 1] / z
    return x, y, z > 0


def pixel_rays(camera: Camera, basis: np.ndarray) -> np.ndarray:
    """Return unit ray directions (H, W, 3) in the basis' frame through every pixel centre."""
    f = camera.focal_px
    cx, cy = camera.principal_point
    xs = (np.arange(camera.width_px) - cx) / f
    ys = (np.arange(camera.height_px) - cy) / f
    d = (xs[None, :, None] * basis[0] + ys[:, None, None] * basis[1] + basis[2])
    return d / np.linalg.norm(d, axis=-1, keepdims=True)
