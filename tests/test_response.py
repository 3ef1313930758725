"""Tests for the camera response: exposure, tone curve, sRGB encoding, 8-bit output."""

from __future__ import annotations

import math

import numpy as np
import pytest

from cupola import colour
from cupola.camera import Camera
from cupola.inputs import parse_look
from cupola.render import response

# Kernels with a numpy twin: CI reruns this module with CUPOLA_NO_JIT=1 (cupola.jit).
pytestmark = pytest.mark.numpy_twin

K = 12.5  # ISO 2720 meter constant, cd s / m^2


def test_exposure_closed_form():
    cam = Camera(exposure_s=1 / 125, iso=100, f_number=8.0)
    # The meter's "correct" luminance for this setting: L = K N^2 / (t S) -> v = 0.18.
    l_meter = K * 8.0**2 / ((1 / 125) * 100)
    np.testing.assert_allclose(response.expose(np.full((2, 2, 3), l_meter), cam), 0.18, rtol=1e-6)
    cam2 = Camera(exposure_s=10.0, iso=6400, f_number=1.4)
    np.testing.assert_allclose(response.exposure_scale(cam2), 0.18 * 10 * 6400 / (K * 1.96), rtol=1e-12)
    assert response.expose(np.zeros((3, 4, 3)), cam).shape == (3, 4, 3)


def test_tone_curve_monotonic_and_bounded():
    v = np.concatenate([[0.0], np.logspace(-6, 4, 2000)])
    y = response.tone_map(v)
    assert y[0] == 0.0 and np.all(np.diff(y) >= 0) and y.max() <= 1.0
    assert np.all(np.diff(y[v < 5]) > 0)  # strictly increasing below the shoulder's end
    assert 0.2 < response.tone_map(0.18) < 0.35  # mid grey stays mid
    assert response.tone_map(16.0) > 0.99  # highlights roll off to white


def test_srgb_oetf_reference_values():
    x = np.array([0.0, 0.0031308, 0.18, 1.0])
    np.testing.assert_allclose(colour.srgb_encode(x), [0.0, 0.040450, 0.461356, 1.0], atol=2e-6)


def test_to_uint8_matches_curve_within_dither():
    # Grey pixels: the curve applied to the largest channel is the curve itself.
    v = np.repeat(np.linspace(0, 3, 64 * 64, dtype=np.float32).reshape(64, 64, 1), 3, axis=2)
    exact = 255.0 * colour.srgb_encode(response.tone_map(v))
    got = response.to_uint8(v).astype(float)
    assert np.all(np.abs(got - exact) <= 1.0)
    plain = response.to_uint8(v, dither=False).astype(float)
    # Without dither: rounding of the exact curve (the kernel's tabulated OETF may land one code off
    # exactly at a rounding edge).
    assert np.all(np.abs(plain - np.floor(exact + 0.5)) <= 1) and np.mean(plain == np.floor(exact + 0.5)) > 0.99
    # Dither is deterministic and unbiased on average.
    np.testing.assert_array_equal(response.to_uint8(v), response.to_uint8(v))
    assert abs((got - exact).mean()) < 0.05
    bad = np.array([[[np.nan, -1.0, np.inf]], [[np.nan, -1.0, 0.0]]], np.float32)
    # inf saturates the pixel to white; NaN and negatives are black.
    np.testing.assert_array_equal(response.to_uint8(bad, dither=False), [[[255, 255, 255]], [[0, 0, 0]]])


def test_develop_is_expose_then_to_uint8():
    cam = Camera(exposure_s=1 / 1000, iso=100, f_number=8.0)
    lum = np.random.default_rng(1).uniform(0, 5000, (32, 48, 3)).astype(np.float32)
    np.testing.assert_array_equal(response.develop(lum, cam), response.to_uint8(response.expose(lum, cam)))


def _airglow_limb_cd_m2(rayleigh: float, wavelength_nm: float = 557.7, v_lambda: float = 0.9953) -> float:
    """Return the luminance of a line of `rayleigh` R: 1 R = 1e10 / (4 pi) photons s^-1 m^-2 sr^-1."""
    photons = rayleigh * 1e10 / (4 * math.pi)
    watts = photons * 6.62607015e-34 * 2.99792458e8 / (wavelength_nm * 1e-9)
    return 683.0 * v_lambda * watts


def test_night_limb_example_is_mid_tone():
    # Green airglow at the limb: ~150 R at zenith, limb-brightened ~30x (design note 8) -> ~4,500 R.
    lum = _airglow_limb_cd_m2(4500.0)
    assert 5e-4 < lum < 2e-3
    cam = Camera(model="Z9", focal_mm=50.0, exposure_s=10.0, iso=6400, f_number=1.4)
    img = response.develop(np.full((16, 16, 3), lum, np.float32), cam)
    assert 60 <= img.mean() <= 200


@pytest.fixture(scope="module")
def day_frame():
    from cupola.render.earth import earth_layer
    from cupola.render import frame_geometry as ray_geometry
    from cupola.scene import compute_scene

    cam = Camera(model="Z9", focal_mm=24.0, width_px=192, height_px=108, look=parse_look("horizon:ahead,6"))
    scene = compute_scene("2021-05-02T06:10:00Z", camera=cam)
    g = ray_geometry(scene)
    return earth_layer(scene, g), g


def test_day_earth_example_is_mid_tone(day_frame):
    lum, g = day_frame
    # A daylight setting astronauts use: 1/1000 s, ISO 100, f/8.
    img = response.develop(lum, Camera(exposure_s=1 / 1000, iso=100, f_number=8.0))
    assert 60 <= img[g.hit].mean() <= 200
    # 1/320 s ISO 6400 f/2 (a night city setting) over-exposes the sunlit Earth by ~11 stops.
    over = response.develop(lum, Camera(exposure_s=1 / 320, iso=6400, f_number=2.0))
    assert over[g.hit].mean() > 240


def test_develop_kernel_matches_its_numpy_twin(day_frame):
    lum, _ = day_frame
    cam = Camera(exposure_s=1 / 1000, iso=100, f_number=8.0)
    a = response.develop(lum, cam).astype(int)
    b = response.develop_numpy(lum, cam).astype(int)
    # The kernel reads the curve from a table (< 0.02 of a code value), the twin computes it.
    assert np.abs(a - b).max() <= 1 and (a != b).mean() < 0.01
    weird = np.array([[[np.nan, -1.0, np.inf]], [[np.nan, -1.0, 0.0]]], np.float32)  # inf white, NaN/negatives black
    for img in (response.develop(weird, cam), response.develop_numpy(weird, cam)):
        assert img[0, 0].min() >= 254 and img[1, 0].max() <= 1  # less the dither


# -- the hue-keeping curve, the sensor, the white balance ----------------------------------------
def _hue(rgb_lin):
    import colorsys

    rgb = np.asarray(rgb_lin, float)
    return 360.0 * colorsys.rgb_to_hsv(*(rgb / rgb.max()))[0]


def test_tone_curve_keeps_hue_and_whitens_only_overexposure():
    orange = np.array([1.0, 0.35, 0.05])
    levels = np.logspace(-2, 2, 60)  # largest channel from 0.01 to 100
    v = (levels[:, None] * orange).reshape(1, -1, 3).astype(np.float32)
    out = response.to_uint8(v, dither=False)[0].astype(float)
    lin = colour.srgb_decode(out / 255.0)
    below = levels < response.WHITE_KNEE
    lit = below & (out.max(axis=1) > 40)  # enough code values for the hue to be measured
    assert np.all(np.abs(np.array([_hue(c) for c in lin[lit]]) - _hue(orange)) < 3.0)
    # A per-channel curve turns the same bright orange toward yellow (its hue moves > 10 deg before
    # the knee); this one keeps it, and never gives R = G = 255 with a low blue:
    per_channel = response.tone_map(v[0])
    assert max(_hue(c) for c in per_channel[below & (per_channel.max(axis=1) > 0.05)]) - _hue(orange) > 10.0
    assert not np.any((out[:, 0] >= 250) & (out[:, 1] >= 250) & (out[:, 2] < 150))
    # Far past the knee the pixel is white.
    assert np.all(out[levels >= response.WHITE_FULL] >= 250)


@pytest.fixture(scope="module")
def night_cam():
    return Camera(model="Z9", focal_mm=24.0, exposure_s=10.0, iso=6400, f_number=1.4, width_px=256, height_px=256)


def _sensor(cam, seed=7, **kw):
    from cupola.render import DEFAULT_SETTINGS

    return response.sensor_for(cam, DEFAULT_SETTINGS.replace(**kw) if kw else DEFAULT_SETTINGS, seed)


@pytest.mark.parametrize("v", [0.0, 0.002, 0.05, 0.5])
@pytest.mark.parametrize("iso", [800, 6400])
def test_noise_matches_shot_and_read_noise(v, iso):
    cam = Camera(exposure_s=10.0, iso=iso, f_number=1.4, width_px=256, height_px=256)
    sensor = _sensor(cam, hot_pixel_fraction=0.0)
    lum = np.full((256, 256, 3), v / response.exposure_scale(cam), np.float32)
    x = response.sensor_values_numpy(lum, cam, sensor)
    sigma = float(response.noise_sigma_v(v, sensor))
    # Electrons: full well x 100 / ISO at 3.5 stops above mid grey; sigma = sqrt(e + r^2) / E.
    e_per_v = 60_000.0 * 100.0 / iso / (0.18 * 2 ** 3.5)
    assert sigma == pytest.approx(math.sqrt(v * e_per_v + 9.0) / e_per_v, rel=1e-12)
    if v > 5 * sigma:  # away from the clip at zero the deviates are unbiased with that spread
        assert float(x.mean()) == pytest.approx(v, abs=3 * sigma / 256)
        assert float(x.std()) == pytest.approx(sigma, rel=0.03)
    else:
        assert float(x.max()) > 0.0 and float(x.std()) > 0.3 * sigma


def test_noise_is_seeded_and_the_kernel_draws_the_twin_s_numbers(night_cam):
    lum = np.full((256, 256, 3), 0.02 / response.exposure_scale(night_cam), np.float32)
    a = response.develop(lum, night_cam, sensor=_sensor(night_cam, 7))
    b = response.develop(lum, night_cam, sensor=_sensor(night_cam, 7))
    c = response.develop(lum, night_cam, sensor=_sensor(night_cam, 8))
    np.testing.assert_array_equal(a, b)
    assert (a != c).mean() > 0.3
    twin = response.develop_numpy(lum, night_cam, sensor=_sensor(night_cam, 7))
    assert np.abs(a.astype(int) - twin).max() <= 1 and (a != twin).mean() < 0.02
    assert a.std() > 1.0  # visible grain on a flat dark field


def test_hot_pixels_fixed_pattern_growing_with_exposure():
    h, w = 400, 500
    long = Camera(exposure_s=30.0, iso=3200, f_number=2.0, width_px=w, height_px=h)
    short = Camera(exposure_s=3.0, iso=3200, f_number=2.0, width_px=w, height_px=h)
    hot_long = response.hot_pixels((h, w), _sensor(long, 1))
    hot_other_frame = response.hot_pixels((h, w), _sensor(long, 2))
    np.testing.assert_array_equal(hot_long, hot_other_frame)  # the sensor's pattern, not the frame's
    n = int((hot_long > 0).sum())
    assert n == pytest.approx(2e-5 * h * w, rel=0.5) and n == int((hot_long > 0).any(axis=2).sum())  # one channel each
    np.testing.assert_allclose(response.hot_pixels((h, w), _sensor(short, 1)) * 10.0, hot_long, rtol=1e-6)
    # Mean strength: 200 e-/s x 30 s over the electrons per unit of sensor value.
    e_per_v = 60_000.0 * 100.0 / 3200 / (0.18 * 2 ** 3.5)
    big = response.hot_pixels((2000, 2000), _sensor(long, 1))
    assert float(big[big > 0].mean()) == pytest.approx(200 * 30 / e_per_v, rel=0.15)


def test_white_balance_neutralises_its_black_body():
    cam = Camera(exposure_s=1.0, iso=100, f_number=4.0, width_px=8, height_px=8)
    lum = np.broadcast_to(colour.blackbody_rgb_unit(4000.0) * 0.5 / response.exposure_scale(cam), (8, 8, 3))
    warm = response.develop(lum, cam, dither=False).astype(int)[0, 0]
    fixed = response.develop(lum, cam, dither=False, white_balance=colour.white_balance_matrix(4000.0)).astype(int)[0, 0]
    assert warm[0] - warm[2] > 30
    assert fixed.max() - fixed.min() <= 3
