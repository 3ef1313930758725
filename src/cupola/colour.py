"""Colour: CIE 1931 colour matching, black bodies, star colours, sRGB and luminance.

* Colour matching functions: the multi-lobe piecewise Gaussian fit of Wyman, Sloan & Shirley
  (2013, JCGT 2(2), "Simple analytic approximations to the CIE XYZ colour matching functions",
  eqs. 2-4); checked against colour-science's tabulated CIE 1931 2-degree observer in the tests.
* sRGB: IEC 61966-2-1:1999, D65 white; its XYZ -> linear RGB matrix and transfer function.
* Luminance of linear sRGB / Rec. 709 primaries: Y = 0.2126 R + 0.7152 G + 0.0722 B (ITU-R BT.709).
* Star colours: B-V -> temperature by Ballesteros (2012, EPL 97, 34008, eq. 14), black body ->
  XYZ -> sRGB, negative channels clipped.

The camera model
----------------
What the renderer accumulates is not what the eye sees but what a camera records. A DSLR's three
channels have their own spectral sensitivities; its processing white-balances them and maps them
to sRGB with a 3x3 colour-correction matrix fitted on ordinary (broad-band) colours. On those it
agrees with the eye within a few delta E; on emission lines it does not: the OI 557.7 nm line,
chartreuse to the eye (CIE: x-bar/y-bar = 0.56 there), falls on the camera's green channel alone
(red 4 %, blue 5 % of green; the matrix then subtracts them) and is recorded green.

* :func:`camera_model`: the baked table ``data/camera_response.json``
  (``tools/build_camera_response.py``, from colour-science): Nikon D5100 sensitivities measured by
  the NPL (Darrodi et al. 2015, JOSA A 32, 381), the white-balance illuminant (``daylight`` = CIE
  D55, close to Nikon's "Direct sunlight" 5,200 K preset and to sunlight above the atmosphere) and
  the colour-correction matrix fitted on the ColorChecker (rows summing to 1: white stays white).
* :func:`camera_rgb`: the linear RGB a camera renders for a spectrum (sRGB primaries, D65 white,
  white-balanced for daylight), scaled so that daylight of luminance L cd/m^2 gives (L, L, L).
  Channels may be negative (outside the sRGB gamut); sums of sources stay exact because every step
  is linear; :mod:`cupola.render.response` clips them as a camera does, after noise.
* :func:`line_rgb_per_cd_m2`: the same for emission lines, per cd/m^2 of the lines' luminance.
  The result's luminance (BT.709 weights) is the camera's sensitivity to that light relative to the
  eye's: 1.0 for daylight, ~2.2 for the 630 nm red line (the camera's red channel reaches further
  into the red than V(lambda)). :func:`blackbody_rgb_unit` is the black body's, per cd/m^2.
* White balance other than daylight is a 3x3 matrix on that same linear RGB
  (:func:`white_balance_matrix`): the render stays linear, so one table serves every setting.

Crew cameras: the shared ISS photograph ISS030-E-130515 (Nikon D3S) records ``WhiteBalance: Auto``
in its EXIF; cupola defaults to daylight, which is reproducible from frame to frame and what
night-sky photographers usually set.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass

import numpy as np

from .errors import InputError

LUMA = np.array([0.2126, 0.7152, 0.0722])  # ITU-R BT.709 luminance weights of linear RGB

# IEC 61966-2-1 (sRGB) XYZ -> linear RGB, D65.
XYZ_TO_SRGB = np.array([
    [3.2406, -1.5372, -0.4986],
    [-0.9689, 1.8758, 0.0415],
    [0.0557, -0.2040, 1.0570],
])

# Planck's law up to constants: lambda^-5 / (exp(hc / (lambda k T)) - 1), with hc/k in nm K.
HC_OVER_K_NM_K = 1.4388e7


def srgb_encode(linear) -> np.ndarray:
    """Return the gamma-encoded sRGB value of linear `linear` (clipped to [0, 1]; IEC 61966-2-1)."""
    x = np.clip(np.asarray(linear, np.float64), 0.0, 1.0)
    return np.where(x <= 0.0031308, 12.92 * x, 1.055 * np.power(x, 1.0 / 2.4) - 0.055)


def srgb_decode(encoded) -> np.ndarray:
    """Return linear values from gamma-encoded sRGB `encoded` (IEC 61966-2-1)."""
    v = np.asarray(encoded, float)
    return np.where(v <= 0.04045, v / 12.92, ((v + 0.055) / 1.055) ** 2.4)


def luminance(rgb_linear) -> np.ndarray:
    """Return the luminance Y of linear sRGB values (..., 3)."""
    return np.asarray(rgb_linear, float) @ LUMA


def unit_luminance(rgb_linear) -> np.ndarray:
    """Return linear `rgb_linear` (..., 3) scaled to luminance Y = 1."""
    c = np.asarray(rgb_linear, float)
    return c / (c @ LUMA)[..., None]


def cmf(lam_nm) -> np.ndarray:
    """Return the CIE 1931 2-degree colour matching functions (x, y, z) at `lam_nm`, shape (..., 3)
    (Wyman et al. 2013 analytic fit)."""

    def g(x, mu, s1, s2):
        s = np.where(x < mu, s1, s2)
        return np.exp(-0.5 * ((x - mu) / s) ** 2)

    x = 1.056 * g(lam_nm, 599.8, 37.9, 31.0) + 0.362 * g(lam_nm, 442.0, 16.0, 26.7) - 0.065 * g(lam_nm, 501.1, 20.4, 26.2)
    y = 0.821 * g(lam_nm, 568.8, 46.9, 40.5) + 0.286 * g(lam_nm, 530.9, 16.3, 31.1)
    z = 1.217 * g(lam_nm, 437.0, 11.8, 36.0) + 0.681 * g(lam_nm, 459.0, 26.0, 13.8)
    return np.stack([x, y, z], axis=-1)


def planck_spd(lam_nm, temperature_k) -> np.ndarray:
    """Return a black body's spectral radiance at `lam_nm` up to a constant factor (broadcasting)."""
    lam = np.asarray(lam_nm, float)
    return lam**-5.0 / np.expm1(HC_OVER_K_NM_K / (lam * np.asarray(temperature_k, float)))


def blackbody_xyz(temperature_k) -> np.ndarray:
    """Return CIE XYZ (normalised to Y = 1) of a black body at `temperature_k`, shape (..., 3)."""
    lam = np.arange(380.0, 781.0, 5.0)
    spd = planck_spd(lam, np.asarray(temperature_k, float)[..., None])
    xyz = spd @ cmf(lam)
    return xyz / xyz[..., 1:2]


def blackbody_rgb_unit(temperature_k) -> np.ndarray:
    """Return the linear RGB the camera renders for a black body at `temperature_k` per cd/m^2
    of its luminance (what a layer adds into the accumulator), shape (..., 3).

    Through the camera model (module docstring): its luminance is the camera's sensitivity to
    that light relative to the eye's (1.00 at 5,500 K, ~1.1 at 3,000 K). The eye's colour is
    ``unit_luminance(blackbody_xyz(T) @ XYZ_TO_SRGB.T)``."""
    return _blackbody_camera_rgb(temperature_k)


def bv_to_temperature_k(bv) -> np.ndarray:
    """Return the black-body temperature (K) for B-V (Ballesteros 2012, EPL 97, 34008, eq. 14)."""
    bv = np.asarray(bv, float)
    return 4600.0 * (1.0 / (0.92 * bv + 1.7) + 1.0 / (0.92 * bv + 0.62))


@functools.cache
def _star_colour_table():
    bv = np.arange(-0.5, 2.5001, 0.01)
    rgb = np.clip(blackbody_xyz(bv_to_temperature_k(bv)) @ XYZ_TO_SRGB.T, 0.0, None)
    rgb /= rgb.max(axis=-1, keepdims=True)
    return bv, srgb_encode(rgb)


def star_colour_rgb(bv) -> np.ndarray:
    """Return the sRGB colour (gamma-encoded, 0..1, brightest channel 1) of stars with B-V `bv`.

    B-V -> temperature by Ballesteros (2012); black body -> CIE XYZ with the Wyman et al. (2013)
    analytic colour-matching functions; XYZ -> sRGB (IEC 61966-2-1, D65 white, so a 6,500 K
    black body is near white); negative channels clipped. Evaluated on a 0.01-mag table over
    -0.5 < B-V < 2.5 (held at the ends). Shape bv.shape + (3,).
    """
    grid, table = _star_colour_table()
    bv = np.clip(np.asarray(bv, float), grid[0], grid[-1])
    return np.stack([np.interp(bv, grid, table[:, i]) for i in range(3)], axis=-1)


# -- the camera model ---------------------------------------------------------------------------
WHITE_BALANCE_NAMES = ("daylight",)
WHITE_BALANCE_K_RANGE = (2000.0, 15000.0)


@dataclass(frozen=True, eq=False)
class CameraModel:
    """The camera's spectral table (see the module docstring): sensitivities (N, 3) on
    `wavelength_nm`, the daylight white-balance gains, the colour-correction matrix and the scale
    that maps daylight of 1 cd/m^2 to RGB (1, 1, 1)."""

    wavelength_nm: np.ndarray  # (N,)
    sensitivity: np.ndarray  # (N, 3) camera R, G, B (green peak 1)
    daylight_spd: np.ndarray  # (N,) the white-balance illuminant (CIE D55)
    wb_gains: np.ndarray  # (3,) daylight: raw * gains makes the illuminant neutral
    ccm: np.ndarray  # (3, 3) white-balanced raw -> linear sRGB, rows sum to 1
    scale: float  # camera_rgb of daylight with luminance 1 cd/m^2 is (1, 1, 1)
    name: str

    def raw(self, lam_nm, power) -> np.ndarray:
        """Return the raw channel responses (..., 3) of spectral powers `power` (..., N') at
        wavelengths `lam_nm` (N'), each channel linear in the table's wavelengths."""
        lam = np.asarray(lam_nm, float)
        s = np.stack([np.interp(lam, self.wavelength_nm, self.sensitivity[:, c], left=0.0, right=0.0)
                      for c in range(3)], axis=-1)
        return np.asarray(power, float) @ s

    @property
    def raw_to_rgb(self) -> np.ndarray:
        """Return the (3, 3) matrix from raw channel responses to rendered linear RGB."""
        return self.scale * self.ccm * self.wb_gains[None, :]


def _luminous_power(lam_nm, power) -> np.ndarray:
    from .photometry import KM_PER_LM_W, luminous_efficiency

    return KM_PER_LM_W * (np.asarray(power, float) @ luminous_efficiency(np.asarray(lam_nm, float)))


@functools.cache
def camera_model() -> CameraModel:
    """Return the bundled :class:`CameraModel` (``data/camera_response.json``), loaded once."""
    from .bundled import load

    def parse(raw: bytes):
        table = json.loads(raw.decode("utf-8"))
        g = table["wavelength_nm"]
        lam = np.arange(g["start"], g["stop"] + 0.5 * g["step"], g["step"])
        sens = np.asarray(table["sensitivity_rgb"], float).reshape(lam.size, 3)
        spd = np.asarray(table["white_balance_spd"], float).reshape(lam.size)
        return table, lam, sens, spd, np.asarray(table["ccm_wb_raw_to_linear_srgb"], float).reshape(3, 3)

    table, lam, sens, spd, ccm = load("camera_response.json", "camera spectral table", parse,
                                      "pip install -e '.[tools]' && python tools/build_camera_response.py")
    white = spd @ sens
    gains = white[1] / white
    partial = CameraModel(lam, sens, spd, gains, ccm, 1.0, table["camera"])
    # Daylight of unit luminance: raw (white * k) -> gains -> (white_g * k) in every channel.
    scale = float(_luminous_power(lam, spd) / white[1])
    for a in (lam, sens, spd, gains, ccm):
        a.setflags(write=False)
    return CameraModel(lam, sens, spd, gains, ccm, scale, partial.name)


def camera_rgb(lam_nm, power) -> np.ndarray:
    """Return the linear RGB (..., 3) the camera renders for spectral powers `power` (..., N) at
    `lam_nm` (N), white-balanced for daylight, scaled so daylight of L cd/m^2 gives (L, L, L)
    when `power` is in W sr^-1 m^-2 per sample (see the module docstring; may be negative)."""
    cam = camera_model()
    return cam.raw(lam_nm, power) @ cam.raw_to_rgb.T


def line_rgb_per_cd_m2(lines_nm, lines_rayleigh=None) -> np.ndarray:
    """Return the camera's linear RGB (3,) per cd/m^2 of an emission made of lines `lines_nm`
    with photon shares `lines_rayleigh` (default equal): power per line is proportional to
    rayleigh / wavelength. Its BT.709 luminance is the camera's response relative to the eye's."""
    lam = np.atleast_1d(np.asarray(lines_nm, float))
    r = np.ones_like(lam) if lines_rayleigh is None else np.atleast_1d(np.asarray(lines_rayleigh, float))
    power = r / lam
    return camera_rgb(lam, power) / _luminous_power(lam, power)


def white_balance_matrix(white_balance="daylight") -> np.ndarray:
    """Return the (3, 3) matrix that turns the camera's daylight-balanced linear RGB into the
    RGB it renders with `white_balance`: 'daylight' (identity) or a colour temperature in K
    (a black body of that temperature renders neutral)."""
    if isinstance(white_balance, str):
        if white_balance.lower() not in WHITE_BALANCE_NAMES:
            raise InputError(f"unknown white balance {white_balance!r}; use 'daylight' or a colour temperature "
                             f"in kelvin ({WHITE_BALANCE_K_RANGE[0]:,.0f}-{WHITE_BALANCE_K_RANGE[1]:,.0f}), e.g. 4000",
                             param="white_balance")
        return np.eye(3)
    try:
        k = float(white_balance)
    except (TypeError, ValueError):
        k = float("nan")
    lo, hi = WHITE_BALANCE_K_RANGE
    if not lo <= k <= hi:
        raise InputError(f"the white balance must be 'daylight' or {lo:,.0f}-{hi:,.0f} K, got {white_balance!r}; "
                         "e.g. 4000", param="white_balance")
    cam = camera_model()
    white = cam.raw(cam.wavelength_nm, planck_spd(cam.wavelength_nm, k))
    gains = white[1] / white  # the new gains; the daylight ones are cam.wb_gains
    ratio = np.diag(gains / cam.wb_gains)
    return cam.ccm @ ratio @ np.linalg.inv(cam.ccm)


def _blackbody_camera_rgb(temperature_k) -> np.ndarray:
    lam = camera_model().wavelength_nm
    spd = planck_spd(lam, np.asarray(temperature_k, float)[..., None])
    return camera_rgb(lam, spd) / _luminous_power(lam, spd)[..., None]


def camera_star_rgb(bv) -> np.ndarray:
    """Return the camera's linear RGB per unit luminance (lux or cd/m^2) of stars with B-V `bv`
    (black bodies at the Ballesteros temperature), on the same 0.01-mag table as
    :func:`star_colour_rgb`; shape bv.shape + (3,)."""
    grid, table = _camera_star_table()
    bv = np.clip(np.asarray(bv, float), grid[0], grid[-1])
    return np.stack([np.interp(bv, grid, table[:, i]) for i in range(3)], axis=-1)


@functools.cache
def _camera_star_table():
    bv = np.arange(-0.5, 2.5001, 0.01)
    return bv, _blackbody_camera_rgb(bv_to_temperature_k(bv))


SUN_TEMPERATURE_K = 5778.0  # the Sun's effective temperature: its spectrum above the atmosphere


def sunlight_ratio_rgb(lam_nm, ratio, temperature_k: float = SUN_TEMPERATURE_K) -> np.ndarray:
    """Return the camera's linear RGB (..., 3) of sunlight (a black body at `temperature_k`) times a
    spectral factor `ratio` (..., N) given at `lam_nm` (N, linear between them, held at the ends),
    per channel relative to the unaltered sunlight: 1 in every channel where `ratio` is 1 (the
    renderer takes sunlight as white; this keeps that and adds what the atmosphere does to it)."""
    cam = camera_model()
    lc = cam.wavelength_nm
    lam = np.asarray(lam_nm, float)
    # Linear interpolation as a matrix (N, Nc), so that any leading shape of `ratio` maps at once.
    eye = np.eye(lam.size)
    interp = np.stack([np.interp(lc, lam, eye[i]) for i in range(lam.size)])
    sun = planck_spd(lc, temperature_k)
    white = camera_rgb(lc, sun)
    return camera_rgb(lc, (np.asarray(ratio, float) @ interp) * sun) / white


__all__ = [
    "CameraModel", "camera_model", "camera_rgb", "line_rgb_per_cd_m2", "white_balance_matrix", "camera_star_rgb",
    "WHITE_BALANCE_NAMES", "LUMA", "XYZ_TO_SRGB", "srgb_encode", "srgb_decode", "luminance", "unit_luminance", "cmf",
    "planck_spd", "blackbody_xyz", "sunlight_ratio_rgb", "SUN_TEMPERATURE_K", "blackbody_rgb_unit", "bv_to_temperature_k", "star_colour_rgb",
]
