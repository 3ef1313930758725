"""Colour: CIE 1931 colour matching, black bodies, star colours, sRGB and luminance.

* Colour matching functions: the multi-lobe piecewise Gaussian fit of Wyman, Sloan & Shirley
  (2013, JCGT 2(2), "Simple analytic approximations to the CIE XYZ colour matching functions",
  eqs. 2-4); checked against colour-science's tabulated CIE 1931 2-degree observer in the tests.
* sRGB: IEC 61966-2-1:1999, D65 white; its XYZ -> linear RGB matrix and transfer function.
* Luminance of linear sRGB / Rec. 709 primaries: Y = 0.2126 R + 0.7152 G + 0.0722 B (ITU-R BT.709).
* Star colours: B-V -> temperature by Ballesteros (2012, EPL 97, 34008, eq. 14), black body ->
  XYZ -> sRGB, negative channels clipped.
"""

from __future__ import annotations

import functools

import numpy as np

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
    """Return the linear sRGB of a black body at `temperature_k`, negative channels clipped,
    scaled to luminance Y = 1, shape (..., 3)."""
    rgb = np.clip(np.asarray(blackbody_xyz(temperature_k), float) @ XYZ_TO_SRGB.T, 0.0, None)
    return unit_luminance(rgb)


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


__all__ = [
    "LUMA", "XYZ_TO_SRGB", "srgb_encode", "srgb_decode", "luminance", "unit_luminance", "cmf",
    "planck_spd", "blackbody_xyz", "blackbody_rgb_unit", "bv_to_temperature_k", "star_colour_rgb",
]
