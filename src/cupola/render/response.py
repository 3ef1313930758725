"""The camera's response: scene luminance (cd/m^2) -> exposure -> filmic tone curve -> 8-bit sRGB.

1. :func:`expose`: v = 0.18 L t S / (K N^2), K = 12.5 cd s/m^2 (the reflected-light meter
   calibration constant of ISO 2720:1974; Canon, Nikon and Sekonic use 12.5). A meter sets
   N^2 / t = L S / K for a uniform scene of luminance L and the result is rendered as 18 % grey,
   so v = 0.18 exactly when the scene luminance equals what the meter would expose for.
2. The sensor (:class:`Sensor`, when ``RenderSettings.noise``): sensor values become electrons,
   e = v E, E = full well x (100 / ISO) / V_SAT (the full well at base ISO 100 reached at the raw
   clipping value V_SAT = 0.18 x 2^3.5, ~3.5 stops above mid-grey as ISO 12232's saturation-based
   speed has it); photon shot noise sqrt(e) and read noise r (electrons) are added as one Gaussian
   of sigma sqrt(e + r^2) per pixel and channel; hot pixels (a fixed, seeded fraction of the
   sensor's pixels, each in one colour channel as a Bayer pixel, with dark-current rates drawn
   from an exponential distribution) add rate x exposure electrons. Defaults describe a
   full-frame Nikon of the crews' (D3S-D5, Z 9): ~60,000 e- full well, ~3 e- read noise at high
   ISO (photonstophotos.net measurements of those bodies). The random numbers are counter-based
   (one splitmix64 hash of seed and pixel gives six 10-bit uniforms, summed in pairs: three
   unit-variance triangular deviates, as grain indistinguishable from Gaussian), so a frame is the
   same bytes for the same instant and seed, and its numpy twin draws the very same numbers.
3. :func:`tone_map`: the ACES filmic curve as fitted by K. Narkowicz (2015, "ACES Filmic Tone
   Mapping Curve", https://knarkowicz.wordpress.com/2016/01/06/aces-filmic-tone-mapping-curve/),
   f(x) = x (2.51 x + 0.03) / (x (2.43 x + 0.59) + 0.14), clipped to [0, 1]: a toe that keeps
   shadows, a shoulder that rolls highlights off (v = 1 -> 0.80, v = 4 -> 0.98). It is applied
   to the largest channel and the pixel scaled by f(max)/max, which keeps its hue (a curve per
   channel clips a bright orange to pure yellow); above :data:`WHITE_KNEE` the pixel then turns
   toward white, reaching it at :data:`WHITE_FULL` (an overexposed light's core is white, as in
   photographs). f(0.18) = 0.27.
4. :func:`cupola.colour.srgb_encode`: the sRGB transfer function (IEC 61966-2-1:1999), then 8-bit quantisation
   with a deterministic +/- 0.5 LSB dither (interleaved gradient noise, Jimenez 2014, "Next
   Generation Post Processing in Call of Duty: Advanced Warfare") against banding in the dark
   gradients of the night sky; the same frame always gives the same bytes.

:func:`develop` fuses the steps in one numba pass (`benchmarks/bench_render_earth.py`), after the
white balance (:func:`cupola.colour.white_balance_matrix`) as a 3x3 matrix on the linear image.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

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


WHITE_KNEE = 1.0  # sensor value of the largest channel where highlights start turning white ...
WHITE_FULL = 16.0  # ... and where they are white
V_SAT = MID_GREY * 2.0 ** 3.5  # raw clipping: 3.5 stops above mid-grey (module docstring)


@dataclass(frozen=True)
class Sensor:
    """The sensor's noise (module docstring): electrons per sensor value at `iso`, read noise,
    hot pixels; `seed` makes the frame's noise, `pattern_seed` the sensor's hot pixels."""

    e_per_v: float
    read_noise_e: float
    hot_fraction: float
    hot_e: float  # mean hot-pixel electrons over the exposure (rate x exposure time)
    seed: int
    pattern_seed: int


def sensor_for(camera, settings, seed: int) -> Sensor | None:
    """Return the :class:`Sensor` of `camera` under `settings` (None when noise is off)."""
    if not settings.noise:
        return None
    e_per_v = float(settings.full_well_e) * 100.0 / float(camera.iso) / V_SAT
    return Sensor(e_per_v, float(settings.read_noise_e), float(settings.hot_pixel_fraction),
                  float(settings.hot_pixel_e_per_s) * float(camera.exposure_s), int(seed) & 0x7FFFFFFFFFFFFFFF,
                  int(settings.sensor_seed) & 0x7FFFFFFFFFFFFFFF)


def noise_sigma_v(v, sensor: Sensor) -> np.ndarray:
    """Return the noise (sigma, in sensor values) at sensor values `v`: sqrt(v E + r^2) / E."""
    v = np.maximum(np.asarray(v, float), 0.0)
    return np.sqrt(v * sensor.e_per_v + sensor.read_noise_e ** 2) / sensor.e_per_v


# Tables in the kernel: the tone curve against u = v / (1 + v) (which maps [0, inf) onto [0, 1)),
# 8193 points interpolated (error < 0.02 of a code value); 255 * OETF on [0, 1] at 65537 points
# read at the nearest (the sRGB curve's steepest slope, 3,294 codes per unit at 0, gives < 0.03 of
# a code value, well under the dither's +-0.5; three interpolations per pixel cost ~15 ms a frame).
CURVE_N = 8192
OETF_N = 65536


def _tone_table() -> np.ndarray:
    u = np.linspace(0.0, 1.0, CURVE_N + 1)
    with np.errstate(divide="ignore"):
        v = np.where(u < 1.0, u / np.maximum(1.0 - u, 1e-300), 1e300)
    return tone_map(v)


_TONE_LUT = _tone_table()
_OETF_LUT = (255.0 * srgb_encode(np.linspace(0.0, 1.0, OETF_N + 1))).astype(np.float32)

_M1, _M2, _GOLD = 0xBF58476D1CE4E5B9, 0x94D049BB133111EB, 0x9E3779B97F4A7C15
SQRT6 = math.sqrt(6.0)


@inline
def _ign(j, i):  # pragma: no cover - jit
    """Interleaved gradient noise in [0, 1) at pixel (column j, row i)."""
    f = 0.06711056 * j + 0.00583715 * i
    f = 52.9829189 * (f - math.floor(f))
    return f - math.floor(f)


@inline
def _mix64(x):  # pragma: no cover - jit
    """splitmix64's finaliser on a uint64."""
    x = (x ^ (x >> np.uint64(30))) * np.uint64(_M1)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(_M2)
    return x ^ (x >> np.uint64(31))


@inline
def _normal3(seed, n):  # pragma: no cover - jit
    """Three unit-variance deviates for pixel counter `n` under `seed` from one hash: six 10-bit
    uniforms, summed in pairs (a triangular distribution, scaled by sqrt(6): unit variance, tails
    cut at 2.45 sigma, indistinguishable from a Gaussian as sensor grain)."""
    h = _mix64(np.uint64(seed) + np.uint64(n) * np.uint64(_GOLD))
    m = np.uint64(0x3FF)
    # u_a + u_b - 1 with u = (k + 0.5) / 1024 is (k_a + k_b - 1023) / 1024: one conversion per deviate.
    k = np.int64(h & m) + np.int64((h >> np.uint64(10)) & m) - 1023
    q = np.int64((h >> np.uint64(20)) & m) + np.int64((h >> np.uint64(30)) & m) - 1023
    r = np.int64((h >> np.uint64(40)) & m) + np.int64((h >> np.uint64(50)) & m) - 1023
    return float(k) * (SQRT6 / 1024.0), float(q) * (SQRT6 / 1024.0), float(r) * (SQRT6 / 1024.0)


@inline
def _lut_at(u, lut):  # pragma: no cover - jit
    """Linear interpolation of a CURVE_N + 1 node table at position `u` in [0, CURVE_N]."""
    n = min(int(u), CURVE_N - 1)
    return lut[n] + (u - n) * (lut[n + 1] - lut[n])


@inline
def _tone_lut(x, lut):  # pragma: no cover - jit
    return _lut_at(x / (1.0 + x) * CURVE_N, lut)


@inline
def _code(y, d, lut):  # pragma: no cover - jit
    """255 * OETF(y) for y in [0, 1] (the nearest of the OETF_N + 1 table nodes), dithered by d
    and rounded to 0..255."""
    y = 0.0 if y < 0.0 else (1.0 if y > 1.0 else y)  # NaN stays NaN: min/max would let it through
    if not y >= 0.0:
        return 0
    q = int(lut[int(y * OETF_N + 0.5)] + 0.5 + d)  # truncation = floor: the argument is > -0.5
    return 0 if q < 0 else (255 if q > 255 else q)


@inline
def _finite(v):  # pragma: no cover - jit
    if not v > -1e30:  # NaN -> black
        return 0.0
    return 1e30 if v > 1e30 else v  # inf


# No 'nnan'/'ninf' fast-math flags: NaN and inf inputs must be caught below.
@kernel(parallel=True)
def _develop_kernel(lum, scale, wb, dither, noise, e_per_v, read_e, seed, hot_start, hot_col, hot_ch, hot_amount,
                    hot_v, tone_lut, oetf_lut, out):  # pragma: no cover - jit
    h, w = lum.shape[0], lum.shape[1]
    span = WHITE_FULL - WHITE_KNEE
    r2 = read_e * read_e
    inv_e = 1.0 / e_per_v if noise else 0.0
    for i in nb.prange(h):
        # Three passes per row: the sensor values (a loop without branches on the pixel, which
        # the compiler vectorises), the row's few hot pixels, then the tone curve and the OETF.
        xs = np.empty((3, w))
        for j in range(w):
            r0, g0, b0 = _finite(lum[i, j, 0]), _finite(lum[i, j, 1]), _finite(lum[i, j, 2])
            xr = _finite((wb[0, 0] * r0 + wb[0, 1] * g0 + wb[0, 2] * b0) * scale)
            xg = _finite((wb[1, 0] * r0 + wb[1, 1] * g0 + wb[1, 2] * b0) * scale)
            xb = _finite((wb[2, 0] * r0 + wb[2, 1] * g0 + wb[2, 2] * b0) * scale)
            if noise:
                zr, zg, zb = _normal3(seed, i * w + j)
                xr += math.sqrt(max(xr, 0.0) * e_per_v + r2) * (zr * inv_e)
                xg += math.sqrt(max(xg, 0.0) * e_per_v + r2) * (zg * inv_e)
                xb += math.sqrt(max(xb, 0.0) * e_per_v + r2) * (zb * inv_e)
            xs[0, j] = max(xr, 0.0)
            xs[1, j] = max(xg, 0.0)
            xs[2, j] = max(xb, 0.0)
        if noise:
            for q in range(hot_start[i], hot_start[i + 1]):
                xs[hot_ch[q], hot_col[q]] += hot_amount[q] * hot_v
        for j in range(w):
            d = _ign(j, i) - 0.5 if dither else 0.0
            xr, xg, xb = xs[0, j], xs[1, j], xs[2, j]
            m = max(xr, max(xg, xb))
            y = _tone_lut(m, tone_lut)  # 0 at m = 0: a black pixel codes as _code(0, d)
            t = (m - WHITE_KNEE) / span
            wgt = 0.0 if t <= 0.0 else (1.0 if t >= 1.0 else t * t * (3.0 - 2.0 * t))
            f = (y / m) * (1.0 - wgt) if m > 0.0 else 0.0
            base = y * wgt
            out[i, j, 0] = _code(xr * f + base, d, oetf_lut)
            out[i, j, 1] = _code(xg * f + base, d, oetf_lut)
            out[i, j, 2] = _code(xb * f + base, d, oetf_lut)


def to_uint8(v, dither: bool = True) -> np.ndarray:
    """Return 8-bit sRGB pixels (H, W, 3) for linear sensor values `v` (tone curve, OETF, dither;
    no noise)."""
    v = np.ascontiguousarray(v, np.float32)
    if use_twins():
        return encode_numpy(np.maximum(_finite_np(v), 0.0), dither)
    out = np.empty(v.shape, np.uint8)
    _develop_kernel(v, 1.0, np.eye(3), bool(dither), *_noise_args(None, v.shape), _TONE_LUT, _OETF_LUT, out)
    return out


@functools.lru_cache(maxsize=8)
def _hot_list(h: int, w: int, pattern_seed: int, fraction: float):
    """The sensor's hot pixels, a fixed pattern (`pattern_seed`): per row the start of its entries
    (H + 1,), then per hot pixel its column, Bayer channel and strength (an exponential spread,
    mean 1), in row order."""
    pix = np.arange(h * w, dtype=np.int64)
    sel = pix[_uniform_numpy(pattern_seed, pix) < fraction]
    ch = np.minimum((_uniform_numpy(pattern_seed + 1, sel) * 3.0).astype(np.int64), 2)
    amount = -np.log(1.0 - _uniform_numpy(pattern_seed + 2, sel))
    rows, cols = np.divmod(sel, w)
    start = np.searchsorted(rows, np.arange(h + 1)).astype(np.int64)
    for a in (start, cols, ch, amount):
        a.setflags(write=False)
    return start, cols, ch, amount


def hot_pixels(shape, sensor: Sensor) -> np.ndarray:
    """Return the hot pixels' sensor values (H, W, 3) of `sensor` over its exposure (0 elsewhere)."""
    h, w = int(shape[0]), int(shape[1])
    start, cols, ch, amount = _hot_list(h, w, sensor.pattern_seed, sensor.hot_fraction)
    out = np.zeros((h, w, 3))
    rows = np.repeat(np.arange(h), np.diff(start))
    out[rows, cols, ch] = amount * sensor.hot_e / sensor.e_per_v
    return out


_NO_HOT = (np.zeros(2, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0))


def _noise_args(sensor: Sensor | None, shape):
    if sensor is None:
        return (False, 1.0, 0.0, 0) + _NO_HOT + (0.0,)
    hot = _hot_list(int(shape[0]), int(shape[1]), sensor.pattern_seed, sensor.hot_fraction)
    return (True, sensor.e_per_v, sensor.read_noise_e, sensor.seed) + hot + (sensor.hot_e / sensor.e_per_v,)


def develop(luminance_rgb, camera, dither: bool = True, *, sensor: Sensor | None = None,
            white_balance=None) -> np.ndarray:
    """Return 8-bit sRGB pixels (H, W, 3) for a luminance image (cd/m^2) seen by `camera`: white
    balance (3x3 on linear RGB, identity for daylight), exposure, the `sensor`'s noise and hot
    pixels (None: a noiseless sensor), the hue-keeping tone curve, sRGB, dither."""
    lum = np.ascontiguousarray(luminance_rgb, np.float32)
    wb = np.eye(3) if white_balance is None else np.ascontiguousarray(white_balance, float)
    if use_twins():
        return develop_numpy(lum, camera, dither, sensor=sensor, white_balance=wb)
    out = np.empty(lum.shape, np.uint8)
    _develop_kernel(lum, exposure_scale(camera), wb, bool(dither), *_noise_args(sensor, lum.shape), _TONE_LUT,
                    _OETF_LUT, out)
    return out


def _hash_numpy(seed, n):
    with np.errstate(over="ignore"):
        # The kernel's own finaliser: its expression works on uint64 arrays as it is.
        return _mix64.py_func(np.uint64(seed) + n.astype(np.uint64) * np.uint64(_GOLD))


def _normal3_numpy(seed, n):
    h = _hash_numpy(seed, n)
    m = np.uint64(0x3FF)
    k = [((h >> np.uint64(10 * b)) & m).astype(np.int64) for b in range(6)]  # the kernel's integer sums
    return np.stack([(k[2 * c] + k[2 * c + 1] - 1023).astype(float) * (SQRT6 / 1024.0) for c in range(3)], axis=-1)


def _uniform_numpy(seed, n):
    return (_hash_numpy(seed, n) >> np.uint64(11)).astype(float) / 9007199254740992.0


def _finite_np(v) -> np.ndarray:
    """numpy twin of :func:`_finite`: NaN -> 0, inf -> 1e30 (float64)."""
    v = np.asarray(v, np.float64)
    return np.where(v > -1e30, np.minimum(v, 1e30), 0.0)


def sensor_values_numpy(luminance_rgb, camera, sensor: Sensor | None = None, white_balance=None) -> np.ndarray:
    """Return the linear sensor values (H, W, 3) after white balance, exposure, noise and hot
    pixels (clipped at 0), as :func:`develop` computes them before the tone curve."""
    lum = _finite_np(luminance_rgb)
    wb = np.eye(3) if white_balance is None else np.asarray(white_balance, float)
    with np.errstate(over="ignore", invalid="ignore"):
        v = (lum @ wb.T) * exposure_scale(camera)
    v = _finite_np(v)
    if sensor is not None:
        h, w = v.shape[:2]
        pix = np.arange(h * w, dtype=np.int64).reshape(h, w)
        e = np.maximum(v, 0.0) * sensor.e_per_v
        v = v + np.sqrt(e + sensor.read_noise_e ** 2) * _normal3_numpy(sensor.seed, pix) / sensor.e_per_v
        v = np.maximum(v, 0.0) + hot_pixels((h, w), sensor)
    return np.maximum(v, 0.0)


def develop_numpy(luminance_rgb, camera, dither: bool = True, *, sensor: Sensor | None = None,
                  white_balance=None) -> np.ndarray:
    """Return the same as :func:`develop` with numpy only: the exact curves (tone map, OETF)
    instead of the tables, the same random numbers, dither and rounding (within one code value)."""
    return encode_numpy(sensor_values_numpy(luminance_rgb, camera, sensor, white_balance), dither)


def encode_numpy(x, dither: bool = True) -> np.ndarray:
    """Return 8-bit sRGB pixels for linear sensor values `x` (>= 0): the hue-keeping tone curve,
    the OETF and the dither, with the exact curves (the kernel's numpy twin)."""
    m = x.max(axis=-1, keepdims=True)
    y = tone_map(m)
    t = np.clip((m - WHITE_KNEE) / (WHITE_FULL - WHITE_KNEE), 0.0, 1.0)
    wgt = t * t * (3.0 - 2.0 * t)
    with np.errstate(invalid="ignore", divide="ignore"):
        lin = np.where(m > 0.0, x * (y / m) * (1.0 - wgt) + y * wgt, 0.0)
    e = 255.0 * srgb_encode(np.clip(lin, 0.0, 1.0))
    if dither:
        i, j = np.indices(x.shape[:2])
        f = 0.06711056 * j + 0.00583715 * i
        f = 52.9829189 * (f - np.floor(f))
        e = e + (f - np.floor(f) - 0.5)[..., None]
    return np.clip(np.floor(e + 0.5), 0, 255).astype(np.uint8)
