"""Camera attitude (matrix, quaternion, a Look resolved against a Scene, its turn during an
exposure), per-pixel ray geometry and frame pools, against closed forms and independent sums."""

from __future__ import annotations

import numpy as np
import pytest

import cupola.camera
import cupola.inputs
from cupola.camera import Attitude, Camera, FramePool, Look, pointing_basis
from cupola.camera.attitude import orbit_rate
from cupola.camera.geometry import ray_geometry
from cupola.constants import WGS84_A_KM, WGS84_B_KM
from cupola.errors import InputError
from cupola.render import render
from cupola.render.settings import RenderSettings
from cupola.scene import compute_scene

MATRIX_TOL = 1e-12  # rotation-matrix entries (dimensionless)
# Pixel lat/lon are float32: 2**-24 of 180 deg is 1.1e-5 deg (~1 m on the ground).
FLOAT32_DEG = 2e-5
FAST_ATAN_DEG = 1e-3  # the polynomial atan2 that indexes textures (~6e-4 deg)
T_NIGHT = "2021-05-02T06:56:00Z"  # over New England, before sunrise, the Moon up


@pytest.fixture(scope="module")
def scene():
    return compute_scene(T_NIGHT)


# -- quaternions and matrices ----------------------------------------------------------------------
def _hamilton(p, q):
    w1, x1, y1, z1 = p
    w2, x2, y2, z2 = q
    return np.array([w1 * w2 - x1 * x2 - y1 * y2 - z1 * z2, w1 * x2 + x1 * w2 + y1 * z2 - z1 * y2,
                     w1 * y2 - x1 * z2 + y1 * w2 + z1 * x2, w1 * z2 + x1 * y2 - y1 * x2 + z1 * w2])


def _rotate_by_quaternion(q, v):
    """v' = q v q* (Hamilton product): the independent truth of R(q) v."""
    qc = q * np.array([1.0, -1.0, -1.0, -1.0])
    return _hamilton(_hamilton(q, np.concatenate([[0.0], v])), qc)[1:]


def _same_up_to_sign(a, b, tol):
    return np.allclose(a, b, atol=tol) or np.allclose(a, -b, atol=tol)


def test_quaternion_round_trips_and_rotates_vectors_like_the_hamilton_product():
    rng = np.random.default_rng(5)
    qs = rng.normal(size=(200, 4))
    qs /= np.linalg.norm(qs, axis=1, keepdims=True)
    # Half-turns about the axes and about a diagonal: trace -1, Shepperd's other branches.
    s = np.sqrt(0.5)
    qs = np.vstack([qs, [[0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1], [0, s, s, 0], [1, 0, 0, 0]]])
    for q in qs:
        att = Attitude.from_quaternion(q)
        back = att.quaternion
        assert back[0] >= 0.0 and abs(np.linalg.norm(back) - 1.0) < 1e-12
        assert _same_up_to_sign(back, q, 1e-12), (q, back)
        # v_teme = R(q) v_camera, and the matrix rows are the camera axes in TEME (matrix = R^T).
        v = rng.normal(size=3)
        np.testing.assert_allclose(att.matrix.T @ v, _rotate_by_quaternion(q, v), atol=1e-12)


def test_a_quarter_turn_about_z_gives_the_closed_form_matrix():
    q = np.array([np.cos(np.pi / 4), 0.0, 0.0, np.sin(np.pi / 4)])
    att = Attitude.from_quaternion(q)
    # R_z(90) = [[0, -1, 0], [1, 0, 0], [0, 0, 1]] takes camera to TEME; its columns are the axes.
    r = np.array([[0.0, -1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    np.testing.assert_allclose(att.matrix, r.T, atol=MATRIX_TOL)
    np.testing.assert_allclose(att.right, [0.0, 1.0, 0.0], atol=MATRIX_TOL)
    np.testing.assert_allclose(att.down, [-1.0, 0.0, 0.0], atol=MATRIX_TOL)
    np.testing.assert_allclose(att.forward, [0.0, 0.0, 1.0], atol=MATRIX_TOL)
    np.testing.assert_allclose(Attitude.from_matrix(r.T).quaternion, q, atol=MATRIX_TOL)
    # A quaternion need not be normalised: the direction is what counts.
    np.testing.assert_allclose(Attitude.from_quaternion(3.0 * q).matrix, r.T, atol=MATRIX_TOL)


def test_from_matrix_refuses_what_is_not_a_rotation():
    with pytest.raises(InputError, match="not a rotation"):
        Attitude.from_matrix(np.diag([1.0, 1.0, 1.01]))  # not orthonormal
    shear = np.eye(3)
    shear[0, 1] = 0.01
    with pytest.raises(InputError, match="not a rotation"):
        Attitude.from_matrix(shear)
    with pytest.raises(InputError, match="not a rotation"):
        Attitude.from_matrix(np.diag([1.0, 1.0, -1.0]))  # orthonormal but a reflection (det -1)
    with pytest.raises(InputError, match="3x3"):
        Attitude.from_matrix(np.eye(4))
    with pytest.raises(InputError, match="quaternion"):
        Attitude.from_quaternion([0.0, 0.0, 0.0, 0.0])
    m = Attitude.from_matrix(np.eye(3)).matrix
    assert not m.flags.writeable  # frozen: a shared attitude cannot be changed under a renderer


# -- a Look resolved against a Scene ---------------------------------------------------------------------
LOOKS = [
    (Look("nadir"), 0.0),
    (Look("nadir"), 30.0),
    (Look("horizon", "north", 0.0), 0.0),
    (Look("horizon", "ahead", 10.0), -15.0),
    (Look("horizon", 123.0, 0.0), 0.0),
    (Look("target", lat_deg=40.7, lon_deg=-74.0), 0.0),
    (Look("target", lat_deg=45.5, lon_deg=-73.6), 45.0),
    (Look("sky", ra_deg=101.2872, dec_deg=-16.7161), 0.0),
    (Look("sky", name="Moon", body="moon"), 10.0),
]


@pytest.mark.parametrize("look,roll", LOOKS, ids=[f"{lk.text}-roll{r:g}" for lk, r in LOOKS])
def test_from_look_equals_pointing_basis(scene, look, roll):
    st = scene.state
    cam = Camera(look=look, roll_deg=roll)
    att = Attitude.from_look(look, scene, roll)
    want = pointing_basis(cam, st.r_teme_km, st.v_teme_km_s, st.instants, scene.icrs_to_teme,
                          scene.body("moon").dir_teme if look.body else None)
    np.testing.assert_allclose(att.matrix, want, atol=MATRIX_TOL)
    np.testing.assert_allclose(att.matrix @ att.matrix.T, np.eye(3), atol=MATRIX_TOL)
    assert np.linalg.det(att.matrix) == pytest.approx(1.0, abs=MATRIX_TOL)


def test_from_look_points_where_the_look_says(scene):
    st = scene.state
    r = np.asarray(st.r_teme_km, float)
    # Nadir: straight down the radius vector.
    np.testing.assert_allclose(Attitude.from_look(Look("nadir"), scene).forward, -r / np.linalg.norm(r), atol=1e-12)
    # The Moon: along the Scene's own Moon direction.
    moon = Attitude.from_look(Look("sky", name="Moon", body="moon"), scene)
    np.testing.assert_allclose(moon.forward, scene.body("moon").dir_teme, atol=1e-12)
    # A sky position: the ICRS unit vector turned into TEME by the Scene's rotation.
    ra, dec = np.radians(101.2872), np.radians(-16.7161)
    d = scene.icrs_to_teme @ np.array([np.cos(dec) * np.cos(ra), np.cos(dec) * np.sin(ra), np.sin(dec)])
    np.testing.assert_allclose(Attitude.from_look(Look("sky", ra_deg=101.2872, dec_deg=-16.7161), scene).forward,
                               d, atol=1e-12)
    # Roll keeps the axis and turns right toward down.
    a0, a30 = Attitude.from_look(Look("nadir"), scene), Attitude.from_look(Look("nadir"), scene, 30.0)
    c, s = np.cos(np.radians(30.0)), np.sin(np.radians(30.0))
    np.testing.assert_allclose(a30.forward, a0.forward, atol=1e-15)
    np.testing.assert_allclose(a30.right, c * a0.right + s * a0.down, atol=1e-12)
    np.testing.assert_allclose(a0.rolled(30.0).matrix, a30.matrix, atol=1e-12)


# -- the attitude during an exposure -----------------------------------------------------------------
def _rodrigues(k, angle, v):
    return v * np.cos(angle) + np.cross(k, v) * np.sin(angle) + k * np.dot(k, v) * (1.0 - np.cos(angle))


def test_untracked_attitude_turns_with_the_orbit_and_tracked_stays(scene):
    st = scene.state
    r, v = np.asarray(st.r_teme_km, float), np.asarray(st.v_teme_km_s, float)
    h = np.cross(r, v)
    k = h / np.linalg.norm(h)
    omega = np.linalg.norm(h) / np.dot(r, r)  # the LVLH frame's rate, |r x v| / |r|^2
    axis, rate = orbit_rate(st)
    np.testing.assert_allclose(axis, k, atol=1e-15)
    assert rate == pytest.approx(omega, rel=1e-15)
    assert np.degrees(omega) * 60.0 == pytest.approx(3.9, abs=0.1)  # ~3.9 deg per minute for the ISS

    times = np.array([-30.0, 0.0, 0.5, 10.0, 60.0])
    for look in (Look("nadir"), Look("horizon", "north", 0.0), Look("sky", ra_deg=10.0, dec_deg=50.0)):
        att = Attitude.from_look(look, scene)
        mats = att.during(st, times, tracked=False)
        assert mats.shape == (times.size, 3, 3)
        for m, t in zip(mats, times):
            for row in range(3):
                np.testing.assert_allclose(m[row], _rodrigues(k, omega * t, att.matrix[row]), atol=1e-12)
            np.testing.assert_allclose(m @ m.T, np.eye(3), atol=1e-12)
        fixed = att.during(st, times, tracked=True)
        assert fixed.shape == (times.size, 3, 3)
        np.testing.assert_array_equal(fixed, np.broadcast_to(att.matrix, fixed.shape))

    # Nadir, a minute later, still looks (almost) straight down: the station's own motion.
    nadir = Attitude.from_look(Look("nadir"), scene)
    later = scene.motion([60.0]).r_teme_km[0]
    f60 = nadir.during(st, [60.0], tracked=False)[0, 2]
    angle = np.degrees(np.arccos(np.clip(np.dot(f60, -later / np.linalg.norm(later)), -1.0, 1.0)))
    assert angle < 0.01  # eccentricity 0.0003 and J2 make omega vary by < 0.1 %
    # The angle turned is omega t exactly, about the orbit normal.
    f0 = nadir.forward
    assert np.arccos(np.clip(np.dot(f0, f60), -1.0, 1.0)) == pytest.approx(omega * 60.0, abs=1e-9)


# -- per-pixel ray geometry ----------------------------------------------------------------------
def _geodetic_deg(p_itrs):
    """Exact geodetic latitude of a point on the WGS84 ellipsoid: the normal's elevation."""
    x, y, z = p_itrs
    return np.degrees(np.arctan2(z / WGS84_B_KM**2, np.hypot(x, y) / WGS84_A_KM**2)), np.degrees(np.arctan2(y, x))


def test_centre_pixel_of_a_nadir_camera_is_the_sub_station_point(scene):
    st = scene.state
    cam = Camera(width_px=161, height_px=91, fov_deg=30.0)  # odd sizes: a pixel on the axis
    cx, cy = cam.principal_point
    i, j = int(cy), int(cx)
    assert (i, j) == (cy, cx)
    nadir = Attitude.from_look(Look("nadir"), scene)
    g = ray_geometry(st, cam, nadir, exact_latlon=True)
    assert g.hit[i, j]
    # Independent: intersect -r with the ellipsoid in closed form and take the normal's elevation.
    r = np.asarray(st.r_teme_km, float)
    d = -r / np.linalg.norm(r)
    s = np.array([1.0, 1.0, WGS84_A_KM / WGS84_B_KM])
    o_s, d_s = r * s, d * s
    a2, b2, c2 = np.dot(d_s, d_s), 2 * np.dot(o_s, d_s), np.dot(o_s, o_s) - WGS84_A_KM**2
    t_hit = (-b2 - np.sqrt(b2 * b2 - 4 * a2 * c2)) / (2 * a2)
    theta = scene.earth_angle_rad
    c, sn = np.cos(theta), np.sin(theta)
    p = r + t_hit * d
    p_itrs = np.array([c * p[0] + sn * p[1], -sn * p[0] + c * p[1], p[2]])
    lat_hit, lon_hit = _geodetic_deg(p_itrs)
    assert g.lat_deg[i, j] == pytest.approx(lat_hit, abs=FLOAT32_DEG)
    assert g.lon_deg[i, j] == pytest.approx(lon_hit, abs=FLOAT32_DEG)
    assert g.hit_km[i, j] == pytest.approx(t_hit, abs=1e-3)
    # The geocentric nadir meets the ground beside the geodetic sub-point (the foot of the
    # ellipsoid normal through the station): by at most alt x the angle between the two verticals.
    lat = np.radians(float(st.lat_deg))
    vertical_deg = np.degrees(np.arctan(WGS84_A_KM**2 / WGS84_B_KM**2 * np.tan(lat))) - float(st.lat_deg)
    gap_deg = np.degrees(float(st.alt_km) * np.radians(abs(vertical_deg)) / 6371.0) + FLOAT32_DEG
    assert gap_deg < 0.02
    assert g.lat_deg[i, j] == pytest.approx(float(st.lat_deg), abs=gap_deg)
    assert g.lon_deg[i, j] == pytest.approx(float(st.lon_deg), abs=gap_deg)
    # Pointed down the ellipsoid normal instead, the centre pixel IS the geodetic sub-point.
    from cupola.frames import geodetic_to_itrs, itrs_to_teme

    foot = itrs_to_teme(geodetic_to_itrs(float(st.lat_deg), float(st.lon_deg), 0.0), st.instants).reshape(3)
    fwd = (foot - r) / np.linalg.norm(foot - r)
    right = np.cross(fwd, [0.0, 0.0, 1.0])
    right /= np.linalg.norm(right)
    down_normal = Attitude.from_matrix(np.stack([right, np.cross(fwd, right), fwd]))
    g2 = ray_geometry(st, cam, down_normal, exact_latlon=True)
    assert g2.lat_deg[i, j] == pytest.approx(float(st.lat_deg), abs=FLOAT32_DEG)
    assert g2.lon_deg[i, j] == pytest.approx(float(st.lon_deg), abs=FLOAT32_DEG)
    assert g2.hit_km[i, j] == pytest.approx(float(st.alt_km), abs=1e-3)


def test_exact_and_fast_latlon_agree_to_a_thousandth_of_a_degree(scene):
    cam = Camera(width_px=160, height_px=90, focal_mm=14.0, look=Look("horizon", "north", -5.0))
    att = Attitude.from_look(cam.look, scene)
    fast = ray_geometry(scene.state, cam, att)
    exact = ray_geometry(scene.state, cam, att, exact_latlon=True)
    np.testing.assert_array_equal(fast.hit, exact.hit)
    hit = exact.hit
    assert hit.sum() > 1000
    dlat = np.abs(fast.lat_deg[hit] - exact.lat_deg[hit])
    dlon = np.abs((fast.lon_deg[hit] - exact.lon_deg[hit] + 180.0) % 360.0 - 180.0)
    assert dlat.max() < FAST_ATAN_DEG and dlon.max() < FAST_ATAN_DEG
    assert np.isnan(fast.lat_deg[~hit]).all() and np.isnan(exact.lon_deg[~hit]).all()


# -- frame pools ------------------------------------------------------------------------------------
def test_a_pool_hands_back_the_same_buffer():
    pool = FramePool()
    a = pool.get("x", (4, 5), np.float32)
    assert pool.get("x", (4, 5), np.float32) is a
    assert pool.get("x", (5, 4), np.float32) is not a
    assert pool.get("y", (4, 5), np.float32) is not a
    assert pool.get("x", (4, 5), np.float64) is not a


def test_renders_into_one_pool_share_the_luminance_buffer(scene):
    cam = Camera(width_px=96, height_px=54, focal_mm=24.0, look=Look("horizon", "north", 0.0))
    settings = RenderSettings(layers=("earth", "stars"))
    pool = FramePool()
    f1 = render(scene, cam, settings, pool=pool)
    first = f1.luminance.copy()
    f2 = render(scene, cam, settings, pool=pool)
    assert np.shares_memory(f1.luminance, f2.luminance)
    assert np.shares_memory(f1.geometry.dirs_teme, f2.geometry.dirs_teme)
    np.testing.assert_array_equal(f2.luminance, first)  # the buffer is zeroed before each frame
    g1 = render(scene, cam, settings)
    g2 = render(scene, cam, settings)
    assert not np.shares_memory(g1.luminance, g2.luminance)
    assert not np.shares_memory(g1.luminance, f2.luminance)
    np.testing.assert_array_equal(g1.luminance, first)


# -- names are resolved by cupola.inputs, not by the camera -------------------------------------------
def test_place_names_are_resolved_by_inputs_only():
    paris = cupola.inputs.parse_look("target:Paris")
    assert paris.mode == "target" and paris.name == "Paris"
    # Paris (Notre-Dame) lies at 48.853 N, 2.349 E.
    assert paris.lat_deg == pytest.approx(48.853, abs=0.05) and paris.lon_deg == pytest.approx(2.349, abs=0.05)
    with pytest.raises(InputError, match="cupola.inputs") as exc:
        cupola.camera.parse_look("target:Paris")
    assert exc.value.param == "look"
    with pytest.raises(InputError, match="cupola.inputs") as exc:
        cupola.camera.parse_look("sky:Sirius")
    assert exc.value.param == "look"
    for bad in ("target:Nowhereville", "sky:Zeus", "target:95,0", "sideways"):
        with pytest.raises(InputError) as exc:
            cupola.inputs.parse_look(bad)
        assert exc.value.param == "look", bad
