"""Point sources and discs: star positions against skyfield, trails, PSF, Moon/Sun discs."""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path

import numpy as np
import pytest

from cupola import photometry
from cupola.camera import Camera, Look
from cupola.render import DEFAULT_SETTINGS, optics, points
from cupola.render import frame_geometry as ray_geometry
from cupola.sky.stars import icrs_to_teme as icrs_to_teme_matrix
from cupola.scene import compute_scene
from cupola.sky.stars import StarsView

REF = json.loads((Path(__file__).parent / "reference" / "sky_skyfield.json").read_text())
NIGHT = "2021-05-03T01:11:00Z"  # reference instant 6: night, Sirius and the Moon above the limb
DAY = "2021-05-02T12:00:00Z"  # reference instant 4: day, the Sun above the limb
SIRIUS_HIP = 32349
one_px = 1.0
LUMA = np.array([0.2126, 0.7152, 0.0722])


def _pinhole(cam, basis, d):
    """Independent pinhole projection of TEME unit vectors (test-side)."""
    c = np.asarray(basis) @ np.asarray(d, float)
    cx, cy = (cam.width_px - 1) / 2.0, (cam.height_px - 1) / 2.0
    return cx + cam.focal_px * c[0] / c[2], cy + cam.focal_px * c[1] / c[2]


def _centroid(img, x0, y0, r):
    y = img @ LUMA if img.ndim == 3 else img
    i0, j0 = int(round(y0)), int(round(x0))
    win = y[i0 - r:i0 + r + 1, j0 - r:j0 + r + 1].astype(float)
    ii, jj = np.mgrid[i0 - r:i0 + r + 1, j0 - r:j0 + r + 1]
    return float((win * jj).sum() / win.sum()), float((win * ii).sum() / win.sum()), win


def _one_star(scene, d_teme, vmag=0.0):
    st = StarsView(count=np.array(1), mag_limit=6.0, atmosphere_km=20.0, index=np.zeros(1, np.intp),
                   hip=np.zeros(1, np.int32), name=np.array(["test"], object), dir_teme=np.asarray(d_teme, float)[None],
                   az_deg=np.zeros(1), el_deg=np.zeros(1), vmag=np.array([vmag]), bv=np.array([0.6]),
                   rgb=np.ones((1, 3)))
    one = dataclasses.replace(scene, stars=st, bodies=tuple(b for b in scene.bodies if b.name.lower() in ("sun", "moon")))
    # The renderer draws the deep field (Scene.star_field): this scene's holds the one star.
    object.__setattr__(one, "star_field", lambda *a, **k: (st.dir_teme, st.vmag, st.bv))
    return one


def _ref_instant(t):
    return next(x for x in REF["instants"] if x["t_utc"] == t)


def test_sirius_lands_on_the_skyfield_pixel():
    ref = _ref_instant(NIGHT)
    k = [s["hip"] for s in REF["stars"]].index(SIRIUS_HIP)
    star = REF["stars"][k]
    # Point a 200 mm lens 0.3 deg off Sirius so it is not at the principal point.
    cam = Camera(focal_mm=200.0, look=Look("sky", ra_deg=math.degrees(star["ra_rad"]) + 0.3,
                                           dec_deg=math.degrees(star["dec_rad"]) - 0.2), exposure_s=1 / 100)
    sc = compute_scene(NIGHT, camera=cam)
    assert SIRIUS_HIP in set(sc.stars.hip.tolist())
    geom = ray_geometry(sc)
    d_teme = np.asarray(ref["teme_rotation"]) @ np.asarray(ref["star_apparent_gcrs"][k])
    x, y = _pinhole(cam, geom.basis_teme, d_teme)
    img = points.stars_layer(sc, geom)
    cx, cy, win = _centroid(img, x, y, 6)
    assert math.hypot(cx - x, cy - y) < one_px
    # Energy: the splat's luminance x pixel solid angle sums to Sirius's illuminance.
    vmag = float(sc.stars.vmag[list(sc.stars.hip).index(SIRIUS_HIP)])
    e_lux = (img @ LUMA).astype(float).sum() / cam.focal_px**2  # all other stars are far fainter
    assert e_lux == pytest.approx(2.54e-6 * 10 ** (-0.4 * vmag), rel=0.1)


def test_star_behind_the_earth_is_absent():
    cam = Camera(focal_mm=50.0, look=Look("horizon"), exposure_s=1 / 100)
    sc = compute_scene(NIGHT, camera=cam)
    geom = ray_geometry(sc)
    i, j = cam.height_px - 100, cam.width_px // 2
    assert geom.hit[i, j]
    below = _one_star(sc, geom.dirs_teme[i, j].astype(float))
    assert float(points.stars_layer(below, geom).max()) == 0.0
    assert not geom.hit[100, j]
    above = _one_star(sc, geom.dirs_teme[100, j].astype(float))
    assert float(points.stars_layer(above, geom).max()) > 0.0


def test_tracked_star_is_round_with_the_psf_width():
    cam = Camera(focal_mm=50.0, look=Look("horizon", pitch_deg=20.0), exposure_s=30.0, tracked=True)
    sc = compute_scene(NIGHT, camera=cam)
    geom = ray_geometry(sc)
    d = geom.basis_teme[2] + 0.3 / cam.focal_px * geom.basis_teme[0]
    # An explicit sigma (the setting overrides the lens's core; tests/test_optics.py checks the lens's).
    wide = DEFAULT_SETTINGS.replace(psf_sigma_px=0.8)
    img = points.stars_layer(_one_star(sc, d / np.linalg.norm(d)), geom, settings=wide)
    x, y = _pinhole(cam, geom.basis_teme, d / np.linalg.norm(d))
    cx, cy, win = _centroid(img, x, y, 6)
    ii, jj = np.mgrid[-6:7, -6:7]
    ii = ii + int(round(y)) - cy
    jj = jj + int(round(x)) - cx
    sx = math.sqrt((win * jj**2).sum() / win.sum())
    sy = math.sqrt((win * ii**2).sum() / win.sum())
    # Pixel sampling of a Gaussian adds ~1/12 px^2 to its variance at most.
    assert sx == pytest.approx(0.8, abs=0.06)
    assert sy == pytest.approx(0.8, abs=0.06)


def _mean_motion_rev_day(line2: str) -> float:
    return float(line2[52:63])


@pytest.mark.parametrize("psi_deg", [90.0, 35.0])
def test_untracked_trail_length_matches_the_orbit_rate(psi_deg):
    cam = Camera(focal_mm=50.0, look=Look("horizon", pitch_deg=25.0), exposure_s=30.0, tracked=False)
    sc = compute_scene(NIGHT, camera=cam)
    geom = ray_geometry(sc)
    # A star at angle psi from the orbit normal, near the image centre.
    r = np.asarray(sc.state.r_teme_km, float)
    v = np.asarray(sc.state.v_teme_km_s, float)
    n = np.cross(r, v)
    n /= np.linalg.norm(n)
    fwd = geom.basis_teme[2]
    perp = fwd - np.dot(fwd, n) * n
    perp /= np.linalg.norm(perp)
    d = math.cos(math.radians(psi_deg)) * n + math.sin(math.radians(psi_deg)) * perp
    sc1 = _one_star(sc, d)
    # Point the camera at the star (same pointing machinery: sky mode), then render.
    m = icrs_to_teme_matrix(sc.state.instants)
    d_icrs = m.T @ d
    ra, dec = math.degrees(math.atan2(d_icrs[1], d_icrs[0])), math.degrees(math.asin(d_icrs[2]))
    cam = cam.replace(look=Look("sky", ra_deg=ra % 360.0, dec_deg=dec))
    sc1 = _one_star(dataclasses.replace(sc, camera=cam), d)
    geom = ray_geometry(sc1, cam)
    img = (points.stars_layer(sc1, geom) @ LUMA).astype(float)
    ii, jj = np.nonzero(img > 0)
    w = img[ii, jj]
    pts = np.stack([jj, ii], axis=-1).astype(float)
    mu = (w[:, None] * pts).sum(0) / w.sum()
    cov = ((pts - mu).T * w) @ (pts - mu) / w.sum()
    var_long = float(np.linalg.eigvalsh(cov)[-1])
    # A uniform segment of length L blurred by a Gaussian: variance L^2 / 12 + sigma^2.
    length_px = math.sqrt(12.0 * (var_long - optics.star_sigma_px(cam, DEFAULT_SETTINGS)**2))
    set_line2 = _set_line2(sc)  # the element set used: its mean motion gives the period
    period_s = 86400.0 / _mean_motion_rev_day(set_line2)
    expected_rad = 2 * math.pi / period_s * cam.exposure_s * math.sin(math.radians(psi_deg))
    expected_px = cam.focal_px * expected_rad
    assert expected_px > 30
    assert length_px == pytest.approx(expected_px, rel=0.05)


def _set_line2(sc):
    from cupola.orbit import Satellite

    sat = Satellite.from_archive()
    return sat.archive.sets[int(sc.state.set_index)].line2


def test_star_positions_tracked_do_not_move():
    cam = Camera(focal_mm=50.0, look=Look("horizon"), exposure_s=30.0, tracked=True)
    sc = compute_scene(NIGHT, camera=cam)
    geom = ray_geometry(sc)
    x, y, front = points.star_positions(sc, cam, geom.attitude, [-15.0, 0.0, 15.0])
    assert x.shape == (3, sc.stars.dir_teme.shape[0])
    assert np.allclose(x[0], x[2]) and np.allclose(y[0], y[2])


def _aim_off(body, sc, off_deg=0.4):
    m = icrs_to_teme_matrix(sc.state.instants)
    d_icrs = m.T @ np.asarray(body.dir_teme, float).reshape(3)
    ra, dec = math.degrees(math.atan2(d_icrs[1], d_icrs[0])), math.degrees(math.asin(d_icrs[2]))
    return Look("sky", ra_deg=(ra + off_deg) % 360.0, dec_deg=dec + 0.5 * off_deg)


def test_moon_disc_lands_on_its_pixel_with_its_size():
    sc = compute_scene(NIGHT)
    moon = sc.body("Moon")
    assert bool(moon.above_limb)
    cam = Camera(focal_mm=400.0, look=_aim_off(moon, sc), exposure_s=1 / 250)
    sc = dataclasses.replace(sc, camera=cam)
    geom = ray_geometry(sc, cam)
    img = points.moon_layer(sc, geom)[..., 1]
    x, y = _pinhole(cam, geom.basis_teme, np.asarray(moon.dir_teme, float).reshape(3))
    r_px = cam.focal_px * math.tan(math.radians(float(moon.radius_deg)))
    # The disc's support (lit part + earthshine): centroid and area.
    support = (img > 0).astype(float)
    ii, jj = np.nonzero(support)
    assert math.hypot(jj.mean() - x, ii.mean() - y) < one_px
    assert support.sum() == pytest.approx(math.pi * r_px**2, rel=0.02)
    # Phase: the bright part covers the illuminated fraction of the disc (~0.58 here).
    lit = (img > 10.0).sum() / support.sum()
    assert lit == pytest.approx(float(moon.illuminated_fraction), abs=0.03)
    # Its face and total brightness: tests/test_moon.py.


def test_sun_disc_lands_on_its_pixel():
    sc = compute_scene(DAY)
    sun = sc.body("Sun")
    assert bool(sun.above_limb)
    cam = Camera(focal_mm=400.0, look=_aim_off(sun, sc), exposure_s=1 / 4000)
    sc = dataclasses.replace(sc, camera=cam)
    geom = ray_geometry(sc, cam)
    img = points.sun_layer(sc, geom)[..., 0].astype(float)
    x, y = _pinhole(cam, geom.basis_teme, np.asarray(sun.dir_teme, float).reshape(3))
    disc = np.clip(img - 0.01 * photometry.SUN_CD_M2, 0.0, None)  # above the glare
    ii, jj = np.mgrid[: img.shape[0], : img.shape[1]]
    cx, cy = (disc * jj).sum() / disc.sum(), (disc * ii).sum() / disc.sum()
    assert math.hypot(cx - x, cy - y) < one_px
    r_px = cam.focal_px * math.tan(math.radians(float(sun.radius_deg)))
    assert (img > 0.5 * photometry.SUN_CD_M2).sum() == pytest.approx(math.pi * r_px**2, rel=0.02)
    # Glare falls off as the PSF wing, (theta^2 + a^2)^(-2.5 / 2), outside the disc.
    j_far = int(round(x + 4 * r_px))
    j_near = int(round(x + 2 * r_px))
    ratio = img[int(round(y)), j_far] / img[int(round(y)), j_near]
    a = math.radians(0.02) * cam.focal_px  # the wing's shoulder, in pixels
    expected = ((abs(j_far - x) ** 2 + a * a) / (abs(j_near - x) ** 2 + a * a)) ** -1.25
    assert ratio == pytest.approx(expected, rel=0.05)


def test_sun_behind_the_earth_draws_nothing():
    sc = compute_scene(NIGHT, camera=Camera(focal_mm=14.0, look=Look("horizon", "behind")))
    assert not bool(sc.body("Sun").above_limb)
    assert float(points.sun_layer(sc, ray_geometry(sc)).max()) == 0.0


