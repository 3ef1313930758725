"""The camera's response: scene luminance (cd/m^2) -> exposure -> filmic tone curve -> 8-bit sRGB.

1. :func:`expose`: v = 0.18 L t S / (K N^2), K = 12.5 cd s/m^2 (the reflected-light meter
   calibration constant of ISO 2720:1974; Canon, Nikon and Sekonic use 12.5). A meter sets
   N^2 / t = L S / K for a uniform scene of luminance L and the result is rendered as 18 % grey,
   so v = 0.18 exactly when the scene luminance equals what the meter would expose for.
2. :func:`tone_map`: the ACES filmic curve as fitted by K. Narkowicz (2015, "ACES Filmic Tone
   Mapping Curve", https://knarkowicz.wordpress.com/2016/01/06/aces-filmic-tone-mapping-curve/),
   f(x) = x (2.51 x + 0.03) / (x (2.43 x + 0.59) + 0.14), clipped to [0, 1]: a toe that keeps
   shadows, a shoulder that rolls highlights off (v = 1 -> 0.80, v = 4 -> 0.98), applied per
   channel (bright colours desaturate toward white as film does). f(0.18) = 0.27.
3. :func:`cupola.colour.srgb_encode`: the sRGB transfer function (IEC 61966-2-1:1999), then 8-bit quantisation
   with a deterministic +/- 0.5 LSB dither (interleaved gradient noise, Jimenez 2014, "Next
   Generation Post Processing in Call of Duty: Advanced Warfare") against banding in the dark
   gradients of the night sky; the same frame always gives the same bytes.

:func:`develop` fuses the three steps in one numba pass (`benchmarks/bench_render_earth.py`).
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

from ..colour import srgb_encode
from ..jit import inline, kernel, use_twins

K_METER = 12.5  # cd s / m^2, ISO 2720 reflected-light meter constant
MID_GREY = 0.18

# Narkowicz (2015) ACES fit.
_A, _B, _C, _D, _E = 2.51, 0.03, 2.43, 0.59, 0.14


def exposure_scale(camera) -> float:
    """Return v / L, the sensor value per cd/m^2 for `camera` (exposure_s, iso, f_number)."""
    return MID_GREY * float(camera.exposure_s) * float(camera.iso) / (K_METER * float(camera.f_number) ** 2)


def expose(luminance_rgb, camera) -> np.ndarray:
    """Return the linear sensor values v = 0.18 L t S / (K N^2) (same shape as the input, float32)."""
    return (np.asarray(luminance_rgb, np.float32) * np.float32(exposure_scale(camera))).astype(np.float32)


def tone_map(v) -> np.ndarray:
    """Return display-referred linear values in [0, 1] for sensor values `v` (Narkowicz ACES fit)."""
    x = np.clip(np.asarray(v, np.float64), 0.0, 1e6)  # the curve is 1 (clipped) long before 1e6
    y = x * (_A * x + _B) / (x * (_C * x + _D) + _E)
    return np.clip(y, 0.0, 1.0)


# The whole curve, 255 * OETF(tone_map(v)), tabulated against u = v / (1 + v) (which maps [0, inf)
# onto [0, 1)) on 8193 points and interpolated linearly in the kernel: error < 0.02 of a code
# value, and one division per channel instead of the rational curve and a pow.
CURVE_N = 8192


def _curve_table() -> np.ndarray:
    u = np.linspace(0.0, 1.0, CURVE_N + 1)
    with np.errstate(divide="ignore"):
        v = np.where(u < 1.0, u / np.maximum(1.0 - u, 1e-300), 1e300)
    return 255.0 * srgb_encode(tone_map(v))


_CURVE_LUT = _curve_table()


@inline
def _ign(j, i):  # pragma: no cover - jit
    """Interleaved gradient noise in [0, 1) at pixel (column j, row i)."""
    f = 0.06711056 * j + 0.00583715 * i
    f = 52.9829189 * (f - math.floor(f))
    return f - math.floor(f)


# No 'nnan'/'ninf' fast-math flags: NaN and inf inputs must be caught below.
@kernel(parallel=True)
def _develop_kernel(lum, scale, dither, lut, out):  # pragma: no cover - jit
    h, w = lum.shape[0], lum.shape[1]
    for i in nb.prange(h):
        for j in range(w):
            d = _ign(j, i) - 0.5 if dither else 0.0
            for k in range(3):
                x = lum[i, j, k] * scale
                if not x > 0.0:  # negatives and NaN -> black
                    x = 0.0
                if x > 1e30:  # inf
                    x = 1e30
                u = x / (1.0 + x) * CURVE_N  # [0, inf) -> [0, 1) of the table
                n = min(int(u), CURVE_N - 1)
                e = lut[n] + (u - n) * (lut[n + 1] - lut[n])
                q = math.floor(e + 0.5 + d)
                out[i, j, k] = 0 if q < 0.0 else (255 if q > 255.0 else int(q))


def to_uint8(v, dither: bool = True) -> np.ndarray:
    """Return 8-bit sRGB pixels (H, W, 3) for linear sensor values `v` (tone curve, OETF, dither)."""
    v = np.ascontiguousarray(v, np.float32)
    out = np.empty(v.shape, np.uint8)
    _develop_kernel(v, 1.0, bool(dither), _CURVE_LUT, out)
    return out


def develop(luminance_rgb, camera, dither: bool = True) -> np.ndarray:
    """Return 8-bit sRGB pixels (H, W, 3) for a luminance image (cd/m^2) seen by `camera`.

    Equivalent to ``to_uint8(expose(luminance_rgb, camera))`` in one pass.
    """
    lum = np.ascontiguousarray(luminance_rgb, np.float32)
    if use_twins():
        return develop_numpy(lum, camera, dither)
    out = np.empty(lum.shape, np.uint8)
    _develop_kernel(lum, exposure_scale(camera), bool(dither), _CURVE_LUT, out)
    return out


def develop_numpy(luminance_rgb, camera, dither: bool = True) -> np.ndarray:
    """Return the same as :func:`develop` with numpy only: the exact curve (tone map, OETF)
    instead of the table, the same dither and rounding (within one code value of the kernel)."""
    x = np.asarray(luminance_rgb, np.float64) * exposure_scale(camera)
    x = np.where(x > 0.0, np.minimum(x, 1e30), 0.0)  # negatives and NaN -> black, inf clipped
    e = 255.0 * srgb_encode(tone_map(x))
    if dither:
        i, j = np.indices(x.shape[:2])
        f = 0.06711056 * j + 0.00583715 * i
        f = 52.9829189 * (f - np.floor(f))
        e = e + (f - np.floor(f) - 0.5)[..., None]
    return np.clip(np.floor(e + 0.5), 0, 255).astype(np.uint8)
