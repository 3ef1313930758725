"""View geometry against closed forms (design note section 8 and plain trigonometry)."""

from __future__ import annotations

import numpy as np
import pytest

from cupola.view import (
    R_EARTH_KM,
    azel_deg,
    earth_blocks,
    footprint_radius_km,
    horizon_arc_deg,
    horizon_dip_deg,
    limb_height_above_hard_limb_deg,
    lvlh_basis,
    ray_ellipsoid,
    ray_sphere,
    shell_visible_arc_deg,
    to_frame,
)

HUNDREDTH_DEG = 0.01


def test_hard_limb_and_horizon_from_420_km():
    assert float(horizon_dip_deg(420.0)) == pytest.approx(20.26, abs=0.02)
    assert float(horizon_arc_deg(420.0)) == pytest.approx(20.3, abs=0.05)
    assert float(footprint_radius_km(420.0)) == pytest.approx(2252.0, abs=6.0)


@pytest.mark.parametrize("shell_km, want_deg", [(87.0, 2.24), (92.0, 2.38), (97.0, 2.51), (250.0, 7.41)])
def test_airglow_shell_limbs_stand_above_the_hard_limb(shell_km, want_deg):
    assert float(limb_height_above_hard_limb_deg(420.0, shell_km)) == pytest.approx(want_deg, abs=HUNDREDTH_DEG)


def test_aurora_shell_visible_arc():
    arc = float(shell_visible_arc_deg(420.0, 110.0))
    assert arc == pytest.approx(30.8, abs=0.05)
    assert np.radians(arc) * R_EARTH_KM == pytest.approx(3430.0, abs=15.0)
    assert np.radians(float(shell_visible_arc_deg(420.0, 250.0))) * R_EARTH_KM == pytest.approx(4000.0, abs=60.0)


def test_shell_above_the_station_has_no_limb():
    assert np.isnan(horizon_dip_deg(420.0, 500.0))
    assert horizon_dip_deg(np.array([420.0, 300.0]), 87.0).shape == (2,)


def test_ray_sphere_and_ellipsoid_closed_form():
    o = np.array([7000.0, 0.0, 0.0])
    near, far = ray_sphere(o, np.array([-1.0, 0.0, 0.0]), 6371.0)
    assert (near, far) == pytest.approx((629.0, 13371.0))
    # A ray grazing at distance 6000 from the centre: chord half-length sqrt(6371^2 - 6000^2).
    o2 = np.array([-10000.0, 6000.0, 0.0])
    near, far = ray_sphere(o2, np.array([1.0, 0.0, 0.0]), 6371.0)
    half = np.sqrt(6371.0**2 - 6000.0**2)
    assert (near, far) == pytest.approx((10000.0 - half, 10000.0 + half))
    miss = ray_sphere(o, np.array([0.0, 1.0, 0.0]), 6371.0)
    assert np.isnan(miss[0]) and np.isnan(miss[1])
    # Down from above the pole the ellipsoid is met at the polar radius b = 6356.752 km.
    near, _ = ray_ellipsoid(np.array([0.0, 0.0, 7000.0]), np.array([0.0, 0.0, -1.0]))
    assert near == pytest.approx(7000.0 - 6356.7523142, abs=1e-6)
    near, _ = ray_ellipsoid(np.array([0.0, 0.0, 7000.0]), np.array([0.0, 0.0, -1.0]), shell_km=100.0)
    assert near == pytest.approx(7000.0 - 6456.7523142, abs=1e-6)
    near, _ = ray_ellipsoid(o, np.array([-1.0, 0.0, 0.0]))
    assert near == pytest.approx(7000.0 - 6378.137, abs=1e-6)


def test_earth_blocks_only_in_front():
    o = np.array([6800.0, 0.0, 0.0])
    dirs = np.array([[-1.0, 0.0, 0.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    assert list(earth_blocks(o, dirs)) == [True, False, False]
    # Just inside / outside the limb angle asin(a / r) in the equatorial plane.
    limb = np.arcsin(6378.137 / 6800.0)
    for delta, hidden in ((-1e-4, True), (1e-4, False)):
        a = limb + delta
        d = np.array([-np.cos(a), np.sin(a), 0.0])
        assert bool(earth_blocks(o, d)) is hidden


def test_azimuth_elevation_in_the_local_horizontal_frame():
    r = np.array([6800.0, 0.0, 0.0])  # above (0 N, 0 E)
    dirs = np.array([[0, 0, 1.0], [0, 1.0, 0], [1.0, 0, 0], [-1.0, 0, 0], [0, -1.0, -1.0]])
    az, el = azel_deg(r, dirs)
    assert az[0] == pytest.approx(0.0) and el[0] == pytest.approx(0.0)  # north, on the horizon
    assert az[1] == pytest.approx(90.0) and el[1] == pytest.approx(0.0)  # east
    assert el[2] == pytest.approx(90.0) and el[3] == pytest.approx(-90.0)  # zenith, nadir
    assert az[4] == pytest.approx(180.0 + 45.0) and el[4] == pytest.approx(0.0)  # south-west


def test_lvlh_basis_for_a_circular_orbit():
    r = np.array([7000.0, 0.0, 0.0])
    v = np.array([0.0, 7.5, 0.0])
    b = lvlh_basis(r, v)
    assert np.allclose(b[0], [0, 1, 0])  # +X along the velocity
    assert np.allclose(b[2], [-1, 0, 0])  # +Z to nadir
    assert np.allclose(b[1], [0, 0, -1])  # +Y opposite the orbit normal
    assert np.allclose(to_frame(b, v), [7.5, 0, 0])
    many = lvlh_basis(np.tile(r, (4, 2, 1)), np.tile(v, (4, 2, 1)))
    assert many.shape == (4, 2, 3, 3)
