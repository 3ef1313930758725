"""Extinction along limb lines of sight, and the dark gap it opens under the airglow line."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.integrate import quad

from cupola.camera import Camera, Look
from cupola.constants import R_EARTH_KM
from cupola.phenomena import airglow as ag
from cupola.phenomena import extinction as ex
from cupola.render import frame_geometry, glow
from cupola.scene import compute_scene

# Kernels with a numpy twin: CI reruns this module with CUPOLA_NO_JIT=1 (cupola.jit).
pytestmark = pytest.mark.numpy_twin

NIGHT = "2024-01-19T16:02:54Z"


def test_rayleigh_depth_matches_hansen_travis():
    # An independent published fit: Hansen & Travis (1974, Space Sci. Rev. 16, 527), eq. 2.29,
    # for a 1013.25 hPa atmosphere: tau = 0.008569 lam^-4 (1 + 0.0113 lam^-2 + 0.00013 lam^-4).
    lam = np.linspace(500.0, 800.0, 31)
    um = lam / 1000.0
    ht = 0.008569 * um**-4 * (1 + 0.0113 * um**-2 + 0.00013 * um**-4)
    np.testing.assert_allclose(ex.rayleigh_vertical_tau(lam), ht, rtol=0.015)
    assert float(ex.rayleigh_vertical_tau(550.0)) == pytest.approx(0.0973, abs=0.001)  # the textbook value
    with pytest.raises(ValueError, match="500 nm"):
        ex.rayleigh_vertical_tau(400.0)


@pytest.mark.parametrize("h_t", [0.0, 5.0, 12.0, 25.0, 50.0])
@pytest.mark.parametrize("scale", [1.5, 8.0])
def test_grazing_factor_matches_the_line_integral(h_t, scale):
    # Column of exp(-h/H) along the whole straight line tangent at h_t over a sphere, per unit
    # vertical column (H): numerically, s from -inf to inf with h(s) = sqrt((R + h_t)^2 + s^2) - R.
    r = R_EARTH_KM + h_t

    def density(s):
        return math.exp(-(math.sqrt(r * r + s * s) - R_EARTH_KM) / scale)

    line = 2.0 * quad(density, 0.0, 3000.0, limit=200)[0]
    assert float(ex.grazing_factor(h_t, scale)) == pytest.approx(line / scale, rel=0.01)


def test_transmission_rises_from_opaque_to_clear():
    h = np.array([0.0, 10.0, 20.0, 40.0, 80.0])
    t = ex.limb_transmission(h, [557.7])
    assert t[0] < 1e-6 and 0.05 < t[1] < 0.3 and 0.5 < t[2] < 0.7 and t[3] > 0.95 and t[4] > 0.999
    assert np.all(np.diff(t) > 0)
    # Redder light gets through better (Rayleigh ~ lambda^-4).
    assert float(ex.limb_transmission(15.0, [772.0])) > float(ex.limb_transmission(15.0, [557.7]))


@pytest.mark.parametrize("name", ["oh", "na", "oi_green"])  # shells wholly below the station
@pytest.mark.parametrize("h_t", [2.0, 10.0, 20.0, 35.0])
def test_far_side_weighting_is_half_plus_half_transmission(name, h_t):
    # A ray from the station tangent well below a shell crosses it twice, symmetrically: near and
    # far branches carry the same column, so with extinction the total is (1 + T) / 2 of the
    # transparent total, T the limb transmission of the layer's lines at the tangent height.
    lay = ag.get_layer(name)
    r_o = R_EARTH_KM + 420.0
    p = R_EARTH_KM + h_t
    s = p / r_o
    o, d = np.array([r_o, 0.0, 0.0]), np.array([-math.sqrt(1 - s * s), s, 0.0])
    clear = ag.layer_emission_along_rays(o, d, lay)
    t = float(ex.limb_transmission(h_t, lay.lines_nm, lay.lines_rayleigh))
    for fn in (ag.layer_emission_along_rays, ag.layer_emission_along_rays_numpy):
        assert float(fn(o, d, lay, far_side_extinction=True)) == pytest.approx(clear * (1 + t) / 2, rel=1e-6)
    # A ray that starts outward (looking up) has no tangent point ahead: nothing changes.
    up = np.array([1.0, 0.2, 0.0]) / math.hypot(1.0, 0.2)
    assert float(ag.layer_emission_along_rays(o, up, lay, far_side_extinction=True)) == \
        pytest.approx(float(ag.layer_emission_along_rays(o, up, lay)), rel=1e-12)


def test_dark_gap_under_the_airglow_line():
    # A 50 mm frame on the horizon at seed 1: down one column, the OH column brightness just above
    # the hard limb continues the near-side veil of the disc below it (the far side is extinguished)
    # instead of doubling there, and the band between the limb and the line stays far below its peak.
    cam = Camera(focal_mm=50.0, look=Look("horizon"))
    sc = compute_scene(NIGHT, camera=cam)
    geom = frame_geometry(sc)
    col = cam.width_px // 2
    limb = int(np.argmax(geom.hit[:, col]))  # first row whose ray meets the Earth
    oh = glow.airglow_column_rayleigh(sc, geom, "oh")[:, col]
    above, below = oh[limb - 2], oh[limb + 1]
    assert above / below == pytest.approx(1.0, abs=0.2)
    # The transparent atmosphere doubled it at the limb (both crossings of the shell).
    k = np.array([1.0, 1.0, glow.SCALE_Z])
    d = geom.dirs_teme[limb - 2, col].astype(float) * k
    o = np.asarray(geom.origin_teme_km) * k
    clear = ag.layer_emission_along_rays(o, d / np.linalg.norm(d), "oh", r_earth_km=glow.WGS84_A_KM) / np.linalg.norm(d)
    assert clear / below == pytest.approx(2.0, rel=0.1)
    peak = int(np.argmax(oh[:limb]))
    gap = oh[peak + 1:limb].min() if peak + 1 < limb else oh[limb - 1]
    assert gap < 0.6 * oh[peak]  # the dark gap: at least 40 % below the peak
    assert oh[limb - 2] < 0.15 * oh[peak]
