"""Per-pixel latitude/longitude, the attitude from a plate solve's ICRS axes and the predicted limb
(cupola.photo.geolocate), against closed forms, skyfield, erfa and the renderer's own geometry."""

from __future__ import annotations

import datetime as dt
import math
from types import SimpleNamespace

import erfa
import numpy as np
import pytest
from scipy.optimize import brentq
from skyfield.api import wgs84
from skyfield.framelib import itrs
from skyfield.sgp4lib import TEME
from skyfield.toposlib import ITRSPosition
from skyfield.units import Distance

from cupola.camera import Attitude, Camera, Look
from cupola.camera.geometry import ray_geometry
from cupola.constants import WGS84_A_KM
from cupola.errors import InputError
from cupola.frames import gmst82
from cupola.orbit import Satellite
from cupola.photo import geolocate
from cupola.photo.geolocate import (attitude_from_icrs, distort, pixel_latlon, predicted_limb, undistort)
from cupola.scene import compute_scene
from cupola.view import limb_height_above_hard_limb_deg
from cupola.timebase import instants, timescale, to_utc64

# Kernels with a numpy twin: CI reruns this module with CUPOLA_NO_JIT=1 (cupola.jit).
pytestmark = pytest.mark.numpy_twin

ONE_METER_KM = 1e-3
ONE_MM_KM = 1e-6
FLOAT32_DEG = 2e-5  # 2**-24 of 180 deg (~1 m on the ground)
KM_PER_DEG = math.pi / 180.0 * WGS84_A_KM
TIMES = ("2024-01-19T16:02:54Z", "2024-01-22T01:00:00Z", "2021-05-02T06:56:00Z")
NIGHT = TIMES[0]
ARCSEC_RAD = math.pi / (180.0 * 3600.0)


@pytest.fixture(scope="module")
def sat():
    return Satellite.from_archive()


@pytest.fixture(scope="module")
def scene(sat):
    return compute_scene(NIGHT, sat=sat, parts=())


def _rows(forward, hint):
    """Camera rows (right, down, forward) with the image's top toward `hint`."""
    f = forward / np.linalg.norm(forward)
    right = np.cross(f, hint)
    right /= np.linalg.norm(right)
    return np.stack([right, np.cross(f, right), f])


def _ground_km(lat1, lon1, lat2, lon2):
    """Great-circle distance on a sphere of radius a (km, haversine: exact for tiny distances)."""
    p1, p2, dl = np.radians(lat1), np.radians(lat2), np.radians(np.asarray(lon2) - np.asarray(lon1))
    h = np.sin(0.5 * (p2 - p1)) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(0.5 * dl) ** 2
    return 2.0 * WGS84_A_KM * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))


def _teme_to_itrs_skyfield(t_utc):
    """The TEME -> ITRS rotation at `t_utc` composed from skyfield's own frames, and skyfield's time."""
    us = str(np.datetime64(to_utc64(t_utc), "us"))
    t = timescale().from_datetime(dt.datetime.fromisoformat(us).replace(tzinfo=dt.timezone.utc))
    return itrs.rotation_at(t) @ TEME.rotation_at(t).T, t


def _pixel_dirs_teme(camera, attitude, x, y):
    """Unit TEME rays through pixel centres (x, y): written out here, not the kernel's."""
    cx, cy = camera.principal_point
    v = np.stack([(np.asarray(x, float) - cx) / camera.focal_px, (np.asarray(y, float) - cy) / camera.focal_px,
                  np.ones(np.shape(x))], axis=-1)
    d = v @ attitude.matrix  # rows are the camera axes in TEME: d = sum_i v_i row_i
    return d / np.linalg.norm(d, axis=-1, keepdims=True)


# -- closed forms --------------------------------------------------------------------------------------
@pytest.mark.parametrize("t", TIMES)
def test_optical_axis_along_the_ellipsoid_normal_meets_the_sub_satellite_point(sat, t):
    st = sat.at(t)
    # The geodetic nadir: minus the ellipsoid's normal at the State's own geodetic lat/lon.
    lat, lon = np.radians(float(st.lat_deg)), np.radians(float(st.lon_deg))
    up_itrs = np.array([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)])
    theta = float(gmst82(st.instants)[0])
    c, s = np.cos(theta), np.sin(theta)
    up_teme = np.array([c * up_itrs[0] - s * up_itrs[1], s * up_itrs[0] + c * up_itrs[1], up_itrs[2]])
    att = Attitude(_rows(-up_teme, np.asarray(st.v_teme_km_s, float)))
    cam = Camera(width_px=101, height_px=81, focal_mm=50.0)  # odd sizes: the axis is pixel (50, 40)
    la, lo = pixel_latlon(st, cam, att, dtype=np.float64)
    assert _ground_km(la[40, 50], lo[40, 50], st.lat_deg, st.lon_deg) < ONE_METER_KM / 100
    # skyfield's own sub-point of the station's ITRS position says the same.
    rot, tsf = _teme_to_itrs_skyfield(t)
    sub = wgs84.subpoint_of(ITRSPosition(Distance(km=rot @ np.asarray(st.r_teme_km, float))).at(tsf))
    assert _ground_km(la[40, 50], lo[40, 50], sub.latitude.degrees, sub.longitude.degrees) < ONE_METER_KM / 100


@pytest.mark.parametrize("height_km", [0.0, 110.0])
def test_a_ray_off_nadir_in_the_equatorial_plane_meets_the_closed_form_central_angle(height_km):
    # A station in the equatorial plane sees the ellipsoid's equator, a circle of radius a + h: a
    # ray eta off nadir within that plane lands at central angle asin(r sin(eta) / (a + h)) - eta,
    # on latitude 0, east of the sub-station point.
    r_km = 6378.137 + 420.0
    st = SimpleNamespace(r_teme_km=np.array([r_km, 0.0, 0.0]), instants=instants(NIGHT))
    rows = np.array([[0.0, 1.0, 0.0], [0.0, 0.0, -1.0], [-1.0, 0.0, 0.0]])  # right = east, forward = nadir
    cam = Camera(width_px=1201, height_px=11, fov_deg=165.0)
    la, lo = pixel_latlon(st, cam, Attitude(rows), height_km=height_km, dtype=np.float64)
    cx, cy = cam.principal_point
    eta = np.arctan((np.arange(cam.width_px) - cx) / cam.focal_px)
    s = r_km * np.sin(np.abs(eta)) / (WGS84_A_KM + height_km)
    hits = s < 1.0
    gamma = np.degrees(np.sign(eta) * (np.arcsin(np.where(hits, s, np.nan)) - np.abs(eta)))
    lon_sub = -np.degrees(float(gmst82(st.instants)[0]))
    row = la[int(cy)]
    assert np.array_equal(np.isfinite(row), hits)
    np.testing.assert_allclose(row[hits], 0.0, atol=1e-9)
    dlon = (lo[int(cy)] - lon_sub + 180.0) % 360.0 - 180.0
    np.testing.assert_allclose(dlon[hits] * KM_PER_DEG, gamma[hits] * KM_PER_DEG, atol=ONE_MM_KM)
    assert hits.sum() > 100 and (~hits).sum() > 100  # both sides of the limb are in this frame


# -- independent intersections ---------------------------------------------------------------------------
@pytest.mark.parametrize("height_km", [0.0, 110.0])
def test_random_pixels_agree_with_skyfield_heights_and_scipy_roots(sat, height_km):
    t = TIMES[1]
    st = sat.at(t)
    scene = compute_scene(t, sat=sat, parts=())
    cam = Camera(width_px=640, height_px=480, focal_mm=18.0, look=Look("horizon", 30.0, -6.0), roll_deg=12.0)
    att = Attitude.from_look(cam.look, scene, cam.roll_deg)
    la, lo = pixel_latlon(st, cam, att, height_km=height_km, dtype=np.float64)
    rng = np.random.default_rng(11)
    ys, xs = np.nonzero(np.isfinite(la))
    pick = rng.choice(ys.size, 40, replace=False)
    ys, xs = ys[pick], xs[pick]
    rot, tsf = _teme_to_itrs_skyfield(t)
    o = rot @ np.asarray(st.r_teme_km, float)
    d = _pixel_dirs_teme(cam, att, xs, ys) @ rot.T

    def height(s, k):
        p = ITRSPosition(Distance(km=(o[:, None] + np.atleast_1d(s)[None, :] * d[k][:, None]))).at(tsf)
        return wgs84.height_of(p).km - height_km

    grid = np.arange(0.0, 2.0 * np.linalg.norm(o), 1.0)
    for k in range(xs.size):
        h = height(grid, k)
        first = int(np.argmax(h < 0.0))  # the first crossing in front of the camera, on a 1 km grid
        root = brentq(lambda s: float(height(s, k)[0]), grid[first - 1], grid[first], xtol=1e-10)
        g = wgs84.latlon_of(ITRSPosition(Distance(km=o + root * d[k])).at(tsf))
        dist = _ground_km(la[ys[k], xs[k]], lo[ys[k], xs[k]], g[0].degrees, g[1].degrees)
        # The grown ellipsoid sits up to 0.15 m below the 110 km geodetic surface (module docstring):
        # along a ray that meets it at grazing angle g that moves the point 0.15 m / sin(g).
        assert dist < (ONE_METER_KM / 100 if height_km == 0.0 else 0.05), (k, dist)


def test_the_renderers_exact_lat_lon_and_earth_mask_agree(scene):
    cam = Camera(width_px=320, height_px=200, focal_mm=20.0, look=Look("horizon", "ahead", 8.0), roll_deg=-20.0)
    att = Attitude.from_look(cam.look, scene, cam.roll_deg)
    geom = ray_geometry(scene.state, cam, att, exact_latlon=True)
    la, lo = pixel_latlon(scene.state, cam, att)
    assert np.array_equal(np.isfinite(la), geom.hit) and np.array_equal(np.isfinite(lo), geom.hit)
    assert 0.2 < geom.hit.mean() < 0.9
    np.testing.assert_allclose(la[geom.hit], geom.lat_deg[geom.hit], atol=FLOAT32_DEG)
    dlon = (lo[geom.hit] - geom.lon_deg[geom.hit] + 180.0) % 360.0 - 180.0
    np.testing.assert_allclose(dlon, 0.0, atol=FLOAT32_DEG)
    assert la.dtype == np.float32


def test_the_emission_shell_shows_beyond_the_hard_limb_on_the_rays_themselves(scene):
    cam = Camera(width_px=300, height_px=300, focal_mm=35.0, look=Look("horizon", "ahead", 0.0))
    att = Attitude.from_look(cam.look, scene)
    ground, _ = pixel_latlon(scene.state, cam, att, dtype=np.float64)
    la, lo = pixel_latlon(scene.state, cam, att, height_km=110.0, dtype=np.float64)
    shell_only = np.isfinite(la) & np.isnan(ground)
    assert np.isfinite(la[np.isfinite(ground)]).all()  # the shell covers the ground
    assert shell_only.sum() > 1000
    # The 110 km shell's limb stands above the hard limb by the angle of the spherical closed form
    # (2.9 deg from 420 km; the ellipsoid's local radius changes it by < 2 %): the rows of the
    # image's middle column that see only the shell span that angle.
    col = shell_only[:, cam.width_px // 2]
    rows = np.flatnonzero(col)
    cy = cam.principal_point[1]
    span = np.degrees(np.arctan((rows.max() + 0.5 - cy) / cam.focal_px) - np.arctan((rows.min() - 0.5 - cy) / cam.focal_px))
    want = float(limb_height_above_hard_limb_deg(float(scene.state.alt_km), 110.0))
    assert abs(span - want) < 0.02 * want + 1.0 / cam.focal_px * 180.0 / np.pi, (span, want)
    # Each returned point lies on its own pixel's ray, 110 km above the ellipsoid (geodetic height
    # by skyfield), and in front of the camera.
    ys, xs = np.nonzero(shell_only)
    rot, tsf = _teme_to_itrs_skyfield(NIGHT)
    pts = wgs84.latlon(la[ys, xs], lo[ys, xs], elevation_m=110_000.0).itrs_xyz.km.T
    o = rot @ np.asarray(scene.state.r_teme_km, float)
    d = _pixel_dirs_teme(cam, att, xs, ys) @ rot.T
    rel = pts - o
    along = np.sum(rel * d, axis=-1)
    off_ray = np.linalg.norm(rel - along[:, None] * d, axis=-1)
    assert (along > 0).all() and off_ray.max() < 0.3 * ONE_METER_KM


# -- the attitude from ICRS axes --------------------------------------------------------------------------
def test_attitude_from_icrs_round_trips_a_sky_look_and_agrees_with_erfa(scene):
    look = Look("sky", ra_deg=101.287, dec_deg=-16.716)  # Sirius
    att = Attitude.from_look(look, scene, roll_deg=33.0)
    rows_icrs = att.matrix @ np.asarray(scene.icrs_to_teme)
    back = attitude_from_icrs(rows_icrs, scene.state.instants)
    np.testing.assert_allclose(back.matrix, att.matrix, atol=1e-12)
    np.testing.assert_allclose(attitude_from_icrs(rows_icrs, NIGHT).matrix, att.matrix, atol=1e-12)
    ra, dec = np.radians([look.ra_deg, look.dec_deg])
    np.testing.assert_allclose(rows_icrs[2], [np.cos(dec) * np.cos(ra), np.cos(dec) * np.sin(ra), np.sin(dec)],
                               atol=1e-12)
    # erfa's IAU 1976/1980 precession-nutation and equation of the equinoxes: TEME is the true
    # equator with the mean equinox, v_teme = R3(eqeq) N P v. No frame bias (~23 mas) there.
    inst = scene.state.instants
    jd1, jd2 = float(inst.jd_whole), float(inst.tt_fraction)
    m = erfa.rz(erfa.eqeq94(jd1, jd2), np.eye(3)) @ erfa.pnm80(jd1, jd2)  # erfa.rz turns the frame
    angle = np.arccos(np.clip(np.sum((rows_icrs @ m.T) * back.matrix, axis=-1), -1.0, 1.0))
    assert angle.max() < 0.2 * ARCSEC_RAD, angle / ARCSEC_RAD


def test_attitude_from_icrs_repairs_rounding_and_refuses_non_rotations(scene):
    rows = np.eye(3) + 1e-5 * np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]])
    att = attitude_from_icrs(rows, scene.state.instants)
    np.testing.assert_allclose(att.matrix @ att.matrix.T, np.eye(3), atol=1e-12)
    with pytest.raises(InputError, match="not a rotation") as err:
        attitude_from_icrs(np.diag([1.0, 1.0, -1.0]), scene.state.instants)
    assert err.value.param == "rows_icrs"
    with pytest.raises(InputError, match="finite 3x3"):
        attitude_from_icrs(np.eye(2), scene.state.instants)
    with pytest.raises(InputError, match="one instant"):
        attitude_from_icrs(np.eye(3), instants([NIGHT, TIMES[1]]))


# -- the limb ----------------------------------------------------------------------------------------
def _boundary(mask):
    """Pixels of `mask` with a 4-neighbour outside it."""
    m = np.pad(mask, 1, mode="edge")
    out = ~m[:-2, 1:-1] | ~m[2:, 1:-1] | ~m[1:-1, :-2] | ~m[1:-1, 2:]
    return mask & out


def _distance_to_polyline(px, py, x, y):
    """Distance (px) from points (px, py) to the nearest vertex of a densely sampled polyline."""
    ok = np.isfinite(x)
    vx, vy = x[ok], y[ok]
    d = np.hypot(px[:, None] - vx[None, :], py[:, None] - vy[None, :])
    return d.min(axis=1)


@pytest.mark.parametrize("height_km", [0.0, 110.0])
def test_the_predicted_limb_lies_where_the_frame_turns_from_earth_to_sky(scene, height_km):
    cam = Camera(width_px=400, height_px=260, focal_mm=16.0, look=Look("horizon", 40.0, 3.0), roll_deg=15.0)
    att = Attitude.from_look(cam.look, scene, cam.roll_deg)
    if height_km == 0.0:
        earth = ray_geometry(scene.state, cam, att).hit  # the renderer's own Earth mask
    else:
        earth = np.isfinite(pixel_latlon(scene.state, cam, att, height_km=height_km)[0])
    x, y = predicted_limb(scene.state, cam, att, height_km=height_km, spacing_px=0.25)
    assert x.size > 100 and np.all(np.isfinite(x))  # one run across this frame
    # Every vertex is within 1 px of a pixel of each kind, and every Earth pixel at the edge of the
    # Earth (not at the frame's edge) is within 1 px of the curve.
    ys, xs = np.nonzero(_boundary(earth))
    inner = (xs > 0) & (xs < cam.width_px - 1) & (ys > 0) & (ys < cam.height_px - 1)
    assert inner.sum() > 100
    assert _distance_to_polyline(xs[inner].astype(float), ys[inner].astype(float), x, y).max() < 1.0
    # And 1.2 px to either side of each vertex, across the curve, the nearest pixels differ: one
    # sees the Earth, the other the sky (a pixel centre is within 0.71 px of any point).
    tx, ty = np.gradient(x), np.gradient(y)
    n = np.hypot(tx, ty)
    sides = []
    for sign in (1.0, -1.0):
        px = np.rint(x - sign * 1.2 * ty / n).astype(int)
        py = np.rint(y + sign * 1.2 * tx / n).astype(int)
        ok = (px >= 0) & (px < cam.width_px) & (py >= 0) & (py < cam.height_px)
        sides.append((ok, earth[np.clip(py, 0, cam.height_px - 1), np.clip(px, 0, cam.width_px - 1)]))
    both = sides[0][0] & sides[1][0]
    assert both.sum() > 0.9 * x.size
    assert np.all(sides[0][1][both] != sides[1][1][both])
    # Consecutive vertices are no further apart than asked.
    assert np.hypot(np.diff(x), np.diff(y)).max() <= 0.25 * 1.05


def test_no_limb_in_a_nadir_frame_and_pieces_are_separated_by_nan(scene):
    cam = Camera(width_px=300, height_px=200, focal_mm=50.0, look=Look("nadir"))
    x, y = predicted_limb(scene.state, cam, Attitude.from_look(cam.look, scene))
    assert x.size == 0 and y.size == 0
    # A very wide, flat nadir frame: the limb's circle (~70 deg from nadir) crosses it in two arcs,
    # one at each end (82 deg to the sides, 57 deg up and down).
    wide = Camera(width_px=1000, height_px=200, fov_deg=165.0, look=Look("nadir"))
    x, y = predicted_limb(scene.state, wide, Attitude.from_look(wide.look, scene))
    runs = [r for r in np.split(np.arange(x.size), np.flatnonzero(np.isnan(x)))]
    runs = [r[np.isfinite(x[r])] for r in runs]
    assert len(runs) == 2 and np.isnan(x).sum() == 1
    sides = sorted(np.sign(x[r] - wide.principal_point[0]).mean() for r in runs)
    assert sides == [-1.0, 1.0]
    assert all(np.ptp(y[r]) > 150 for r in runs)  # each arc spans the frame's height
    # The shell above the station has no limb seen from it.
    x, y = predicted_limb(scene.state, cam, Attitude.from_look(cam.look, scene), height_km=1000.0)
    assert x.size == 0


# -- the lens --------------------------------------------------------------------------------------
@pytest.mark.parametrize("k1", [-0.08, 0.05])
def test_radial_distortion_round_trips_and_moves_the_limb_with_the_pixels(scene, k1):
    rng = np.random.default_rng(3)
    xu, yu = rng.uniform(-0.8, 0.8, (2, 1000))
    xd, yd = distort(xu, yu, k1)
    np.testing.assert_allclose(xd, xu * (1.0 + k1 * (xu ** 2 + yu ** 2)), rtol=0, atol=0)  # the contract's formula
    back = undistort(xd, yd, k1)
    np.testing.assert_allclose(back[0], xu, atol=1e-12)
    np.testing.assert_allclose(back[1], yu, atol=1e-12)
    cam = Camera(width_px=360, height_px=240, focal_mm=20.0, look=Look("horizon", "ahead", 6.0))
    att = Attitude.from_look(cam.look, scene)
    lat, lon = pixel_latlon(scene.state, cam, att, k1=k1, dtype=np.float64)
    # A pixel's lat/lon with k1 is the pinhole lat/lon of the undistorted position: compare on the
    # rays written out here.
    ys, xs = np.nonzero(np.isfinite(lat))
    pick = rng.choice(ys.size, 25, replace=False)
    cx, cy = cam.principal_point
    ux, uy = undistort((xs[pick] - cx) / cam.focal_px, (ys[pick] - cy) / cam.focal_px, k1)
    pin = SimpleNamespace(width_px=1, height_px=1, principal_point=(0.0, 0.0), focal_px=cam.focal_px)
    for k in range(pick.size):
        d = ux[k] * att.right + uy[k] * att.down + att.forward
        one = Attitude(_rows(d, -att.down))  # a one-pixel pinhole camera looking along that ray
        la1, lo1 = pixel_latlon(scene.state, pin, one, dtype=np.float64)
        assert _ground_km(la1[0, 0], lo1[0, 0], lat[ys[pick[k]], xs[pick[k]]], lon[ys[pick[k]], xs[pick[k]]]) < 1e-6
    # The camera's own k1 is used when none is passed, and the limb bends with the pixels.
    lens = SimpleNamespace(width_px=cam.width_px, height_px=cam.height_px, principal_point=cam.principal_point,
                           focal_px=cam.focal_px, k1=k1)
    np.testing.assert_array_equal(pixel_latlon(scene.state, lens, att, dtype=np.float64)[0], lat)
    x, y = predicted_limb(scene.state, lens, att, spacing_px=0.25)
    ys, xs = np.nonzero(_boundary(np.isfinite(lat)))
    inner = (xs > 0) & (xs < cam.width_px - 1) & (ys > 0) & (ys < cam.height_px - 1)
    assert _distance_to_polyline(xs[inner].astype(float), ys[inner].astype(float), x, y).max() < 1.0


def test_a_lens_cannot_reach_beyond_its_largest_radius():
    # k1 = -0.5: r_d peaks at 2 / (3 sqrt(1.5)) = 0.544; a 60 deg wide frame reaches 0.577 in its
    # corners, which have no ray.
    st = SimpleNamespace(r_teme_km=np.array([6798.0, 0.0, 0.0]), instants=instants(NIGHT))
    rows = np.array([[0.0, 1.0, 0.0], [0.0, 0.0, -1.0], [-1.0, 0.0, 0.0]])
    cam = Camera(width_px=200, height_px=200, fov_deg=60.0)
    lat, _ = pixel_latlon(st, cam, Attitude(rows), k1=-0.5)
    cx, cy = cam.principal_point
    yy, xx = np.mgrid[0:200, 0:200]
    rd = np.hypot(xx - cx, yy - cy) / cam.focal_px
    assert np.array_equal(np.isnan(lat), rd > 2.0 / (3.0 * math.sqrt(1.5)))


# -- shapes, dtypes, errors, the twin ------------------------------------------------------------------------
def test_step_takes_every_nth_pixel_and_float64_is_available(scene):
    cam = Camera(width_px=101, height_px=67, focal_mm=24.0, look=Look("horizon", "ahead", 10.0))
    att = Attitude.from_look(cam.look, scene)
    full = pixel_latlon(scene.state, cam, att, dtype=np.float64)
    sub = pixel_latlon(scene.state, cam, att, step=4, dtype=np.float64)
    assert sub[0].shape == (17, 26)
    # The same pixels (equal to the last bits the compiler's vectorisation leaves free).
    np.testing.assert_allclose(sub[0], full[0][::4, ::4], rtol=0, atol=1e-12)
    np.testing.assert_allclose(sub[1], full[1][::4, ::4], rtol=0, atol=1e-12)
    f32 = pixel_latlon(scene.state, cam, att)
    assert f32[0].dtype == np.float32
    np.testing.assert_allclose(f32[0], full[0], atol=FLOAT32_DEG)


def test_bad_inputs_are_refused_with_the_parameter_named(sat, scene):
    cam = Camera(width_px=64, height_px=48)
    att = Attitude.from_look(cam.look, scene)
    cases = [
        (dict(height_km=float("nan")), "height_km", "finite number of km"),
        (dict(height_km=-500.0), "height_km", "from -100"),
        (dict(step=0), "step", "whole number"),
        (dict(step=2.5), "step", "whole number"),
        (dict(dtype=np.int16), "dtype", "float32 or float64"),
        (dict(k1=3.0), "k1", "between -1 and 1"),
    ]
    for kwargs, param, text in cases:
        with pytest.raises(InputError, match=text) as err:
            pixel_latlon(scene.state, cam, att, **kwargs)
        assert err.value.param == param
    with pytest.raises(InputError, match="index it first") as err:
        pixel_latlon(sat.at([NIGHT, TIMES[1]]), cam, att)
    assert err.value.param == "state"
    failed = SimpleNamespace(r_teme_km=np.full(3, np.nan), instants=scene.state.instants)
    with pytest.raises(InputError, match="SGP4 failed"):
        predicted_limb(failed, cam, att)
    with pytest.raises(InputError, match="positive number of pixels"):
        predicted_limb(scene.state, cam, att, spacing_px=0.0)


def test_the_numba_kernel_matches_its_numpy_twin(scene):
    cam = Camera(width_px=150, height_px=100, focal_mm=20.0, look=Look("horizon", "ahead", 12.0))
    att = Attitude.from_look(cam.look, scene)
    fill = geolocate._latlon_fill
    for k1, h in ((0.0, 0.0), (-0.05, 110.0)):
        out = []
        for fn in (fill.compiled, fill.numpy_twin):
            lat = np.empty((50, 75))
            lon = np.empty((50, 75))
            a_h, b_h = geolocate.WGS84_A_KM + h, geolocate.WGS84_B_KM + h
            cx, cy = cam.principal_point
            r, theta = geolocate._station(scene.state)
            fn(np.ascontiguousarray(att.matrix), cam.focal_px, cx, cy, k1, geolocate._max_radius(k1), r, theta,
               a_h, a_h / b_h, geolocate.WGS84_A_KM, geolocate.WGS84_B_KM, geolocate.WGS84_E2, geolocate._EP2, 2,
               lat, lon)
            out.append((lat, lon))
        assert np.array_equal(np.isnan(out[0][0]), np.isnan(out[1][0]))
        np.testing.assert_allclose(out[0][0], out[1][0], atol=1e-9, equal_nan=True)
        np.testing.assert_allclose(out[0][1], out[1][1], atol=1e-9, equal_nan=True)
