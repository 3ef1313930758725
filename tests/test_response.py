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
    v = np.linspace(0, 3, 64 * 64 * 3, dtype=np.float32).reshape(64, 64, 3)
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
    bad = np.array([[[np.nan, -1.0, np.inf]]], np.float32)
    np.testing.assert_array_equal(response.to_uint8(bad, dither=False), [[[0, 0, 255]]])


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
    weird = np.array([[[np.nan, -1.0, np.inf]]], np.float32)  # NaN and negatives black, inf white
    for img in (response.develop(weird, cam), response.develop_numpy(weird, cam)):
        assert img[0, 0, 0] == img[0, 0, 1] == 0 and img[0, 0, 2] >= 254  # white, less the dither
