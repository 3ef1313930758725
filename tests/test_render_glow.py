"""Airglow and aurora layers: band position against the closed form, darkness, photometry, colours."""

from __future__ import annotations

import dataclasses

import math

import numpy as np
import pytest

from cupola import colour, photometry
from cupola.camera import Camera, Look
from cupola.constants import WGS84_A_KM
from cupola.phenomena import airglow as ag
from cupola.phenomena import emission
from cupola.render import glow
from cupola.render import frame_geometry as ray_geometry
from cupola.scene import compute_scene
from cupola.view import limb_height_above_hard_limb_deg

NIGHT = "2024-01-19T16:02:54Z"
DAY = "2021-05-02T12:00:00Z"  # station sunlit, Sun 63 deg up below it
AURORA_T = "2021-05-02T06:56:00Z"  # Kp 3, the northern oval above the horizon
one_px = 1.0


@pytest.fixture(scope="module")
def night50():
    cam = Camera(focal_mm=50.0, look=Look("horizon"))
    sc = compute_scene(NIGHT, camera=cam)
    return sc, ray_geometry(sc)


def _limb_row(geom, col):
    """First row (from the top) whose ray meets the Earth, minus half a pixel: the hard limb."""
    return float(np.argmax(geom.hit[:, col])) - 0.5


def test_green_band_peak_row_matches_closed_form(night50):
    sc, geom = night50
    cam = geom.camera
    col = cam.width_px // 2
    limb = _limb_row(geom, col)
    # Closed form: the brightest line of sight is tangent 0.765 sigma below the layer's peak; it
    # stands limb_height_above_hard_limb_deg above the hard limb (sphere geometry).
    lay = ag.get_layer("oi_green")
    h_peak = ag.limb_peak_height_km(lay.height_km, lay.fwhm_km)
    delta = math.radians(float(limb_height_above_hard_limb_deg(float(sc.state.alt_km), h_peak)))
    # Pinhole: a ray at angle a above the limb ray lands f (tan(a0) - tan(a0 - delta)) px above it,
    # with a0 the limb ray's angle below the optical axis (vertical plane through the centre column).
    f = cam.focal_px
    a0 = math.atan((limb - cam.principal_point[1]) / f)
    predicted = cam.principal_point[1] + f * math.tan(a0 - delta)
    col_r = glow.airglow_column_rayleigh(sc, geom, "oi_green")[:, col]
    above = col_r[: int(limb)]
    peak = int(np.argmax(above))
    # Sub-pixel peak by a parabola through the three brightest rows.
    y0, y1, y2 = above[peak - 1], above[peak], above[peak + 1]
    peak_f = peak + 0.5 * (y0 - y2) / (y0 - 2 * y1 + y2)
    assert abs(peak_f - predicted) < 2 * one_px
    # The rendered layer's green channel peaks there as well (Na adds a little below).
    img = glow.airglow_layer(sc, geom)
    assert abs(int(np.argmax(img[: int(limb), col, 1])) - predicted) < 3 * one_px
    # And the limb brightness of the green layer is the closed form's (limb_brightening).
    assert y1 == pytest.approx(lay.zenith_rayleigh * ag.limb_brightening(lay.height_km, lay.fwhm_km), rel=0.03)


def test_tables_match_numpy_integration(night50):
    sc, geom = night50
    rng = np.random.default_rng(1)
    i = rng.integers(0, geom.camera.height_px, 300)
    j = rng.integers(0, geom.camera.width_px, 300)
    k = np.array([1.0, 1.0, glow.SCALE_Z])
    d = geom.dirs_teme[i, j].astype(float) * k
    sn = np.linalg.norm(d, axis=-1)
    o = np.asarray(geom.origin_teme_km) * k
    for name in ("oh", "oi_green", "oi_red"):
        ref = ag.layer_emission_along_rays_numpy(o, d / sn[:, None], name, r_earth_km=WGS84_A_KM,
                                                 far_side_extinction=True) / sn
        got = glow.airglow_column_rayleigh(sc, geom, name)[i, j]
        # Linear interpolation on the 0.25 km grid of closest approach: ~1e-3 typically, a few
        # per cent within a grid step of a thin layer's peak or of the ground's edge.
        close = np.isclose(got, ref, rtol=0.01, atol=0.5)
        assert close.mean() > 0.98
        assert np.allclose(got, ref, rtol=0.05, atol=0.5)


def test_airglow_absent_in_daylight():
    cam = Camera(focal_mm=24.0, look=Look("horizon"))
    sc = compute_scene(DAY, camera=cam)
    img = glow.airglow_layer(sc, ray_geometry(sc))
    assert img.shape == (cam.height_px, cam.width_px, 3) and img.dtype == np.float32
    assert float(img.max()) == 0.0


def test_airglow_luminance_scale(night50):
    sc, geom = night50
    y = glow.airglow_layer(sc, geom) @ colour.LUMA
    # Limb glow of a few kR at ~2e-7 cd/m^2 per R: 1e-4 .. 1e-2 cd/m^2.
    assert 1e-4 < float(y.max()) < 1e-2


def test_rayleigh_to_luminance_closed_form():
    # 1 R = 1e10/(4 pi) photons s^-1 m^-2 sr^-1; at 557.7 nm one photon is h c / lambda.
    photon_j = 6.62607015e-34 * 299792458.0 / 557.7e-9
    v = 0.995 + (1.0 - 0.995) * (560.0 - 557.7) / 5.0  # V(555) = 1, V(560) = 0.995
    assert photometry.rayleigh_to_cd_m2(557.7) == pytest.approx(1e10 / (4 * math.pi) * photon_j * 683.0 * v, rel=1e-6)
    assert photometry.rayleigh_to_cd_m2(557.7) == pytest.approx(1.93e-7, rel=0.01)


def test_v_lambda_table_against_colour_science(colour_science):
    sd = colour_science.colorimetry.SDS_LEFS_PHOTOPIC["CIE 1924 Photopic Standard Observer"]
    lam = np.arange(380.0, 781.0, 5.0)
    assert np.allclose(photometry.luminous_efficiency(lam), sd[lam], atol=2e-5)


def test_n2p_colour_against_colour_science(colour_science):
    cmfs = colour_science.MSDS_CMFS["CIE 1931 2 Degree Standard Observer"]
    xyz = np.array([np.interp(427.8, cmfs.wavelengths, cmfs.values[:, i]) for i in range(3)])
    rgb = colour_science.XYZ_to_RGB(xyz, colour_science.RGB_COLOURSPACES["sRGB"], apply_cctf_encoding=False)
    rgb = rgb - min(rgb.min(), 0.0)
    rgb = rgb / rgb.max()
    assert np.allclose(emission.N2P_427_RGB_LINEAR, rgb, atol=0.01)


def test_aurora_in_view_is_drawn_green_above_the_limb():
    cam = Camera(focal_mm=14.0, look=Look("horizon", "north"))
    sc = compute_scene(AURORA_T, camera=cam)
    assert sc.aurora.visible
    geom = ray_geometry(sc)
    img = glow.aurora_layer(sc, geom)
    y = img @ colour.LUMA
    assert float(y.max()) > 1e-3
    i, j = np.unravel_index(np.argmax(y), y.shape)
    assert img[i, j, 1] > img[i, j, 0] and img[i, j, 1] > img[i, j, 2]  # green dominates
    # Nothing at all when the oval is out of view or the activity calibration gives it no light.
    grid = sc.aurora_emission.grid
    assert 0.0 < float(grid.max()) <= 1.0
    dark = dataclasses.replace(sc, _cache={"aurora_emission": dataclasses.replace(sc.aurora_emission,
                                                                                  grid=np.zeros_like(grid))})
    assert float(glow.aurora_layer(dark, geom).max()) == 0.0


def test_aurora_absent_when_not_in_view(night50):
    sc, geom = night50
    assert not sc.aurora.visible
    assert float(glow.aurora_layer(sc, geom).max()) == 0.0


def test_aurora_brightness_follows_activity():
    assert glow.aurora_green_kilorayleigh(18.0) == pytest.approx(0.6)
    assert glow.aurora_green_kilorayleigh(172.0) == pytest.approx(5.73, rel=0.01)
    assert glow.aurora_green_kilorayleigh(1e5) == 50.0


# -- gravity-wave modulation of the shells ----------------------------------------------------------
def test_airglow_wave_field_statistics():
    k, ph = emission.airglow_waves()
    u = np.random.default_rng(5).normal(size=(200_000, 3))
    u /= np.linalg.norm(u, axis=1, keepdims=True)
    m = emission.airglow_wave_factor(u, k, ph)
    assert float(m.mean()) == pytest.approx(1.0, abs=0.01)
    assert float(m.std()) == pytest.approx(emission.AIRGLOW_WAVE_RMS, rel=0.15)
    assert float(m.min()) >= 1.0 - emission.AIRGLOW_WAVE_RMS * math.sqrt(2 * len(ph)) - 1e-12
    # Horizontal wavelengths as documented: |k| = 2 pi R / lambda.
    lam = 2 * math.pi * emission.R_EARTH_KM / np.linalg.norm(k, axis=1)
    assert np.all((lam >= emission.AIRGLOW_WAVE_KM[0]) & (lam <= emission.AIRGLOW_WAVE_KM[1]))


def test_rendered_airglow_carries_the_wave_field(night50, monkeypatch):
    import cupola.scene as scene_mod

    sc, geom = night50
    waved = glow.airglow_layer(sc, geom).astype(float)
    smooth_em = dataclasses.replace(emission.airglow_emission(), wave_rms=0.0)
    monkeypatch.setattr(scene_mod, "airglow_emission", lambda: smooth_em)
    smooth = glow.airglow_layer(sc, geom).astype(float)
    # The modulation is sampled every glow.WAVE_GRID_STEP_PX pixels and interpolated between: at
    # those nodes it is the field evaluated in numpy where each ray meets the 90 km level (scaled
    # sphere), in ITRS.
    step = glow.WAVE_GRID_STEP_PX
    node = np.zeros(smooth.shape[:2], bool)
    node[::step, ::step] = True
    lit = node & (smooth[..., 0] > 1e-3 * smooth[..., 0].max())
    ratio = waved[..., 0][lit] / smooth[..., 0][lit]
    em = emission.airglow_emission()
    kz = glow.SCALE_Z
    d = geom.dirs_teme[lit].astype(float)
    o = np.asarray(geom.origin_teme_km, float)
    ds = d * np.array([1.0, 1.0, kz])
    sn = np.linalg.norm(ds, axis=1)
    os_ = o * np.array([1.0, 1.0, kz])
    tc = -(ds / sn[:, None]) @ os_
    p = np.sqrt(np.maximum(os_ @ os_ - tc * tc, 0.0))
    rw = WGS84_A_KM + em.wave_height_km
    t = np.where(tc > 0, np.where(p < rw, tc - np.sqrt(np.maximum(rw * rw - p * p, 0.0)), tc), 0.0)
    pts = o + (t / sn)[:, None] * d
    th = float(geom.theta_gmst)
    rot = np.array([[math.cos(th), math.sin(th), 0.0], [-math.sin(th), math.cos(th), 0.0], [0.0, 0.0, 1.0]])
    u = pts @ rot.T
    u /= np.linalg.norm(u, axis=1, keepdims=True)
    expected = emission.airglow_wave_factor(u, em.wave_k, em.wave_phase, em.wave_rms)
    np.testing.assert_allclose(ratio, expected, rtol=1e-5)
    assert float(np.std(ratio)) > 0.01  # the frame does show structure
    # Between the nodes, bilinear: never outside the range of the four nodes around a pixel.
    full = np.where(smooth[..., 0] > 0, waved[..., 0] / np.where(smooth[..., 0] > 0, smooth[..., 0], 1), np.nan)
    assert np.nanmin(full) >= 1 - emission.AIRGLOW_WAVE_RMS * math.sqrt(2 * len(em.wave_phase)) - 1e-6
