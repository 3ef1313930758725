"""Exposure smear of the ground and the glows (issue 14): the motion field against the night lights'
own ground paths and against closed forms, the path average against a box filter, energy, the gate,
a ground-tracking camera, and the kernels against their numpy twins."""

from __future__ import annotations

import math

import numpy as np
import pytest

from cupola.camera import Attitude, Camera, Look
from cupola.camera.attitude import orbit_rate, rotation_about
from cupola.camera.geometry import project
from cupola.constants import EARTH_ROTATION_RAD_S
from cupola.frames import geodetic_to_itrs, itrs_to_teme
from cupola.render import RenderSettings, frame_geometry, render
from cupola.render import smear as sm
from cupola.render.lights import ground_latlon
from cupola.render.points import exposure_times, star_positions
from cupola.scene import compute_scene

# Kernels with a numpy twin: CI reruns this module with CUPOLA_NO_JIT=1 (cupola.jit).
pytestmark = pytest.mark.numpy_twin

COAST_T = "2024-01-21T08:05:30Z"  # over the Pacific off California at night, the Moon high
PACIFIC_T = "2024-01-19T16:02:54Z"  # seed 1: night over the Pacific north-east of Papua New Guinea
SMALL = dict(width_px=320, height_px=180)
GROUND = ("earth", "airglow", "aurora")
QUIET = RenderSettings(noise=False)


def _path_lengths(d):
    return np.hypot(d[..., 0], d[..., 1]), np.hypot(d[..., 2], d[..., 3])


@pytest.fixture(scope="module")
def coast():
    cam = Camera(focal_mm=24.0, look=Look("target", lat_deg=36.0, lon_deg=-119.5), exposure_s=20.0, **SMALL)
    return compute_scene(COAST_T, camera=cam), cam


# -- the field ---------------------------------------------------------------------------------------
def test_ground_smear_equals_the_night_lights_smear(coast):
    """Same frame, same pixels: where the lights layer's ground path (start and end of the exposure,
    ``render.lights.ground_latlon``) is drawn in the mid-exposure frame, through geodetic -> ITRS ->
    TEME and the pinhole projection, is where the field says."""
    scene, cam = coast
    geom = frame_geometry(scene, cam)
    field = sm.motion_field(scene, geom, RenderSettings())
    ys, xs = np.mgrid[20:170:25, 20:310:25].astype(float)
    hit = geom.hit[ys.astype(int), xs.astype(int)]
    t0, t1 = exposure_times(cam, 3)[[0, 2]]
    lat, lon = ground_latlon(scene, cam, geom.attitude, xs, ys, [t0, t1])
    r0 = np.asarray(scene.state.r_teme_km, float).reshape(3)
    want = []
    for k in range(2):
        p = np.asarray(itrs_to_teme(geodetic_to_itrs(lat[k], lon[k], 0.0), scene.state.instants), float)
        x, y, _ = project(cam, geom.basis_teme, (p - r0) / np.linalg.norm(p - r0, axis=-1, keepdims=True))
        want.append(np.hypot(x - xs, y - ys))
    got = _path_lengths(field.at(xs, ys))
    ok = hit & np.isfinite(want[0]) & np.isfinite(want[1])
    assert ok.sum() > 40
    for k in range(2):
        assert np.all(want[k][ok] > 5.0)  # 20 s at 24 mm on a 320 px frame: 8 to 30 px
        assert got[k][ok] == pytest.approx(want[k][ok], rel=0.10)


@pytest.mark.parametrize("tracked", [False, True])
def test_nadir_ground_moves_at_v_ground_over_altitude(tracked):
    """At the centre of a nadir frame the ground moves at |v_rel| R / (r h) (the sub-station point's
    ground speed over the altitude) for a camera fixed in LVLH, at |v_rel| / h for one held fixed on
    the sky; v_rel is the station's velocity over the turning Earth."""
    exp_s = 10.0
    cam = Camera(focal_mm=50.0, look=Look("nadir"), exposure_s=exp_s, tracked=tracked, **SMALL)
    scene = compute_scene(PACIFIC_T, camera=cam)
    geom = frame_geometry(scene, cam)
    field = sm.motion_field(scene, geom, RenderSettings())
    cx, cy = cam.principal_point
    start, end = _path_lengths(field.at(np.array(cx), np.array(cy)))
    r = np.asarray(scene.state.r_teme_km, float).reshape(3)
    v = np.asarray(scene.state.v_teme_km_s, float).reshape(3)
    v_rel = np.linalg.norm(v - np.cross([0.0, 0.0, EARTH_ROTATION_RAD_S], r))
    h = float(np.asarray(scene.state.alt_km))
    rn = np.linalg.norm(r)
    rate = v_rel / h if tracked else v_rel * (rn - h) / (rn * h)
    assert float(start + end) == pytest.approx(rate * exp_s * cam.focal_px, rel=0.03)
    assert float(start) == pytest.approx(float(end), rel=0.02)


def test_tracked_limb_moves_at_the_lvlh_rate():
    """Held fixed on the sky and looking ahead, the limb drifts at the LVLH rate v / r (0.65 deg in
    10 s): the tangent point's direction turns at v sin(dip) / (r sin(dip))."""
    exp_s = 10.0
    cam = Camera(focal_mm=50.0, look=Look("horizon", "ahead", 1.0), exposure_s=exp_s, tracked=True, **SMALL)
    scene = compute_scene(PACIFIC_T, camera=cam)
    geom = frame_geometry(scene, cam)
    field = sm.motion_field(scene, geom, RenderSettings())
    limb = int(np.argmax(geom.hit[:, 160]))  # the first ground row from the top, at the centre column
    assert 10 < limb < 170
    _, omega = orbit_rate(scene.state)
    assert math.degrees(omega * exp_s) == pytest.approx(0.65, abs=0.02)
    want = omega * exp_s * cam.focal_px
    rows = np.nonzero((geom.tangent_km[:, 160] > 20.0) & (geom.tangent_km[:, 160] < 100.0))[0]
    assert rows.size >= 5
    start, end = _path_lengths(field.at(np.full(rows.size, 160.0), rows.astype(float)))
    # The Earth's turn moves the tangent point by up to 0.46 / 7.66 of the station's speed.
    assert start + end == pytest.approx(np.full(rows.size, want), rel=0.08)
    # Below the limb the ground is nearer than the tangent point, so it moves faster.
    s0, s1 = _path_lengths(field.at(np.array(160.0), np.array(limb + 6.0)))
    assert float(s0 + s1) > want


def test_ground_tracking_camera_smears_the_stars_not_the_ground(coast, monkeypatch):
    """A camera turned to keep one ground point on its axis (a NightPod-style drive, here the
    attitude sequence built in the test) sees that ground stand still while the stars trail."""
    scene, cam = coast
    cam = cam.replace(focal_mm=200.0)  # a city close-up (Z9 200 mm): parallax across the frame is small
    geom = frame_geometry(scene, cam)
    b0 = np.asarray(geom.basis_teme, float)
    cx, cy = cam.principal_point
    times0 = exposure_times(cam, 9)
    lat, lon = ground_latlon(scene, cam, geom.attitude, cx, cy, 0.0)
    target_itrs = geodetic_to_itrs(lat, lon, 0.0)

    def during(self, state, times_s, tracked):
        t = np.atleast_1d(np.asarray(times_s, float))
        motion = scene.motion(t)
        out = []
        for r, theta in zip(motion.r_teme_km, motion.earth_angle_rad):
            c, s = math.cos(theta), math.sin(theta)
            x, y, z = np.asarray(target_itrs, float).reshape(3)
            p = np.array([c * x - s * y, s * x + c * y, z])
            fwd = (p - r) / np.linalg.norm(p - r)
            axis = np.cross(b0[2], fwd)
            ang = math.asin(min(np.linalg.norm(axis), 1.0))
            rot = rotation_about(axis / max(np.linalg.norm(axis), 1e-300), ang) if ang > 0 else np.eye(3)
            out.append(b0 @ rot.T)
        return np.array(out)

    before = sum(_path_lengths(sm.motion_field(scene, geom, RenderSettings()).at(np.array(cx), np.array(cy))))
    assert float(before) > 20.0  # fixed to the station, the ground at the centre moves tens of px
    monkeypatch.setattr(Attitude, "during", during)
    field = sm.motion_field(scene, geom, RenderSettings())
    start, end = _path_lengths(field.at(np.array(cx), np.array(cy)))
    assert float(start + end) < 0.5  # the tracked ground point stays on its pixel
    ys, xs = np.mgrid[10:170:20, 10:310:20].astype(float)
    ground = geom.hit[ys.astype(int), xs.astype(int)]
    s0, s1 = _path_lengths(field.at(xs, ys))
    assert np.median((s0 + s1)[ground]) < 0.1 * float(before)  # the rest of the ground barely moves
    # A direction fixed on the sky (the mid-exposure optical axis) now trails across the frame.
    x, y, _ = star_positions(scene, cam, geom.attitude, times0, dirs_teme=b0[2][None])
    trail = float(np.sum(np.hypot(np.diff(x[:, 0]), np.diff(y[:, 0]))))
    assert trail > 0.5 * float(before)


# -- the filter ----------------------------------------------------------------------------------------
def _uniform_field(h, w, dx, step=8):
    rows, cols = (h - 1) // step + 2, (w - 1) // step + 2
    f = np.zeros((rows, cols, 4))
    f[..., 0], f[..., 2] = -0.5 * dx, 0.5 * dx
    return sm.MotionField(f, step)


@pytest.mark.parametrize("scale, length, tol", [(1, 40.0, 0.03), (4, 40.0, 0.08), (8, 150.0, 0.06)])
def test_a_uniform_smear_is_a_box_filter(scale, length, tol):
    """A vertical edge smeared by L px along x becomes a linear ramp L px wide (the box filter's closed
    form), also on the reduced images (4 and 8 times)."""
    h, w = 64, 512
    img = np.zeros((h, w, 3), np.float32)
    img[:, 256:] = 1.0
    settings = RenderSettings(smear_max_scale=scale)
    field = _uniform_field(h, w, length)
    assert sm.smear_scale(field, settings) == scale
    out = sm.smear_in_place(img.copy(), field, settings)
    x = np.arange(w)
    ramp = np.clip((x - (255.5 - 0.5 * length)) / length, 0.0, 1.0)
    assert np.abs(out[32, :, 0] - ramp).max() < tol
    assert out[32, 20, 1] == pytest.approx(0.0, abs=1e-6) and out[32, 490, 2] == pytest.approx(1.0, abs=1e-6)


def test_energy_is_kept(coast):
    """The frame's total luminance is the same smeared or not (within 1 %)."""
    scene, cam = coast
    a = render(scene, cam, QUIET.replace(layers=GROUND, smear=False)).luminance.astype(np.float64)
    b = render(scene, cam, QUIET.replace(layers=GROUND)).luminance.astype(np.float64)
    assert b.sum() == pytest.approx(a.sum(), rel=0.01)
    assert np.abs(b - a).sum() > 0.05 * a.sum()  # and it did smear


def test_a_short_exposure_is_unchanged_byte_for_byte(coast):
    scene, cam = coast
    fast = cam.replace(exposure_s=1 / 1000)
    geom = frame_geometry(scene, fast)
    assert sm.smear_bound_px(scene, fast) < 1.0
    assert sm.motion_field(scene, geom, RenderSettings()) is None
    a = render(scene, fast, RenderSettings(smear=False))
    b = render(scene, fast, RenderSettings())
    assert np.array_equal(a.rgb, b.rgb) and np.array_equal(a.luminance, b.luminance)


def test_the_bound_holds(coast):
    """The cheap gate's bound is never below the field's own longest path."""
    scene, cam = coast
    for exp_s in (0.05, 1.0, 20.0):
        c = cam.replace(exposure_s=exp_s)
        field = sm.motion_field(scene, frame_geometry(scene, c), RenderSettings(smear_min_px=0.0))
        assert field.max_px <= sm.smear_bound_px(scene, c)


def test_kernels_match_their_numpy_twins(coast, monkeypatch):
    scene, cam = coast
    geom = frame_geometry(scene, cam)
    settings = RenderSettings()
    monkeypatch.setenv("CUPOLA_NO_JIT", "0")
    field = sm.motion_field(scene, geom, settings)
    monkeypatch.setenv("CUPOLA_NO_JIT", "1")
    twin = sm.motion_field(scene, geom, settings)
    assert np.allclose(field.field, twin.field, atol=1e-6)
    rng = np.random.default_rng(4)
    img = rng.random((cam.height_px, cam.width_px, 3)).astype(np.float32)
    # Paths from 20 to 200 px across the frame: the 8-times reduction blended with the 4-times one.
    ramp = _uniform_field(cam.height_px, cam.width_px, 1.0)
    ramp.field[...] *= np.linspace(20.0, 200.0, ramp.field.shape[1])[None, :, None]
    assert sm._levels(ramp, settings) == (4, 8)
    for f, scales in ((field, (1, 2, 4, 8)), (ramp, (8,))):
        for scale in scales:
            s = settings.replace(smear_max_scale=scale)
            monkeypatch.setenv("CUPOLA_NO_JIT", "0")
            a = sm.smear_in_place(img.copy(), f, s)
            monkeypatch.setenv("CUPOLA_NO_JIT", "1")
            b = sm.smear_in_place(img.copy(), f, s)
            assert np.allclose(a, b, atol=2e-5)


def test_the_render_hook_is_the_second_buffer(coast):
    """Drawing the smeared layers, smearing them, then adding the rest equals smearing a separate
    buffer of those layers and adding the others' frame (the renderer does it in place)."""
    scene, cam = coast
    all_ = render(scene, cam, QUIET).luminance.astype(np.float64)
    ground = render(scene, cam, QUIET.replace(layers=GROUND)).luminance.astype(np.float64)
    rest = render(scene, cam, QUIET.replace(layers=("city_lights", "stars", "milky_way", "bodies"))).luminance
    assert np.allclose(all_, ground + rest, rtol=1e-5, atol=1e-9)


# -- the Cupola's window frame (optional foreground) -------------------------------------------------
def test_window_geometry_closed_forms():
    from cupola.render import foreground as fg

    d = 0.5
    edge = fg.CENTRAL_RADIUS_M / d  # tan of the central window's edge seen from d behind it: 0.8
    assert fg.clear_fraction(edge - 0.01, 0.0, d) == 1.0 and fg.clear_fraction(0.0, edge + 0.01, d) == 0.0
    assert fg.clear_fraction(0.5 * (edge + fg.RING_RADIUS_M / d), 0.0, d) == 0.0  # the ring around it
    # The middle of the top side window: the band's mid-line, z = -depth / 2 at r = (r1 + r2) / 2.
    z = -0.5 * fg.BAND_DEPTH_M
    q = 0.5 * (fg.RING_RADIUS_M + fg.BAND_BASE_RADIUS_M) / (z + d)
    assert fg.clear_fraction(0.0, -q, d) == 1.0
    # The mullion between the top window and the next, 30 deg round, and its mirror image.
    for sign in (1.0, -1.0):
        u, v = sign * q * math.sin(math.pi / 6), -q * math.cos(math.pi / 6)
        assert fg.clear_fraction(u, v, d) == 0.0
        assert fg.clear_fraction(u, v, d, roll_deg=sign * 30.0) == 1.0  # turned onto a window
    assert fg.clear_fraction(0.0, 100.0, d) == 0.0  # below the band: the cabin


def test_window_frame_is_a_defocused_silhouette(coast):
    from cupola.render import foreground as fg

    scene, cam = coast
    cam = cam.replace(focal_mm=14.0, exposure_s=1 / 1000, width_px=480, height_px=270)
    assert RenderSettings().window_frame is False  # off by default
    on = QUIET.replace(window_frame=True)
    plain = render(scene, cam, QUIET).luminance
    framed = render(scene, cam, on).luminance
    mask = fg.window_mask(cam, on)
    assert np.allclose(framed, plain * mask[..., None], rtol=1e-6)
    cx, cy = cam.principal_point
    f = cam.focal_px
    edge_px = cx + f * fg.CENTRAL_RADIUS_M / on.window_distance_m  # the central window's edge on the centre row
    row = mask[int(round(cy))]
    blur = fg.blur_radius_px(f, cam.effective_focal_mm, cam.f_number, on.window_distance_m)
    assert blur == pytest.approx(0.5 * f * (14e-3 / 1.4) / 0.5)
    assert row[int(cx)] == pytest.approx(1.0)
    assert row[int(edge_px - blur - 3)] == pytest.approx(1.0, abs=0.02)
    assert row[int(edge_px + blur + 3)] == pytest.approx(0.0, abs=0.02)
    assert row[int(round(edge_px))] == pytest.approx(0.5, abs=0.15)  # half the blur disc is clear
