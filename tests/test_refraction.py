"""Refraction and extinction of point sources and discs seen through the limb (issue 14).

The truths here are independent of the renderer's closed forms: the bending of a ray through an
exponential atmosphere by numerical integration of the ray equation (Bouguer's invariant n r sin z),
the standard horizontal refraction of the almanacs, the optical depth of a limb path by numerical
integration of the density along the straight line, and the flattening of a disc from the apparent
directions of its top and bottom edges found by root finding on the integrated bending.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from scipy.integrate import quad
from scipy.optimize import brentq

from cupola.camera import Camera, Look
from cupola.constants import R_EARTH_KM
from cupola.phenomena import extinction as ex
from cupola.phenomena import refraction as rf
from cupola.render import DEFAULT_SETTINGS, frame_geometry, points
from cupola.scene import compute_scene
from cupola.sky.stars import StarsView

pytestmark = pytest.mark.numpy_twin  # the disc kernels have numpy twins: CI reruns this with CUPOLA_NO_JIT=1

NIGHT = "2024-01-19T16:02:54Z"
SUNRISE = "2021-05-02T13:09:12Z"  # the Sun comes up over the limb (its true centre behind it)
H_KM = ex.RAYLEIGH_SCALE_HEIGHT_KM
NU0 = rf.REFRACTIVITY_SEA_LEVEL
ARCMIN = math.radians(1.0 / 60.0)


def _bending_ray_trace(impact_km: float) -> float:
    """Total bending (rad) of a ray with impact parameter a = n r sin(z) through n(r) = 1 + nu0 exp(-(r - R) / H),
    by integrating d(phi) along the ray: alpha = -2 a int_{r0}^inf (dn/dr) / (n sqrt(n^2 r^2 - a^2)) dr,
    r0 the turning point (n(r0) r0 = a)."""
    def n(r):
        return 1.0 + NU0 * math.exp(-(r - R_EARTH_KM) / H_KM)

    r0 = brentq(lambda r: n(r) * r - impact_km, impact_km - 10.0, impact_km + 1.0, xtol=1e-12)

    # r = r0 + s^2 removes the inverse square root at the turning point.
    def integrand(s):
        r = r0 + s * s
        dn = -(n(r) - 1.0) / H_KM
        q = (n(r) * r) ** 2 - impact_km**2
        return -2.0 * impact_km * dn / (n(r) * math.sqrt(q)) * 2.0 * s if q > 0 else 0.0

    return quad(integrand, 1e-9, math.sqrt(40.0 * H_KM), limit=400, epsabs=1e-14)[0]


@pytest.mark.parametrize("h_km, rel", [(2.0, 0.03), (5.0, 0.02), (10.0, 0.01), (20.0, 0.01), (40.0, 0.01)])
def test_bending_matches_a_ray_trace(h_km, rel):
    # The closed form is in the straight apparent line's tangent height (the impact parameter's).
    traced = _bending_ray_trace(R_EARTH_KM + h_km)
    assert float(rf.bending_rad(h_km)) == pytest.approx(traced, rel=rel)


def test_limb_refraction_is_twice_the_horizontal_refraction():
    # A ray grazing the ground, seen from space, is bent on its way in and on its way out: twice the
    # refraction at the horizon seen from sea level, 34' in the real atmosphere (Explanatory Supplement
    # to the Astronomical Almanac, 1992, sec. 3.28). The isothermal 8 km atmosphere bends ~12 % more
    # (module docstring of phenomena.refraction), and the ray trace of that atmosphere agrees.
    grazing = float(rf.bending_rad(rf.GRAZING_KM))
    assert grazing == pytest.approx(2 * 34.0 * ARCMIN, rel=0.15)
    assert grazing == pytest.approx(_bending_ray_trace(R_EARTH_KM * (1 + NU0)), rel=0.035)
    assert float(rf.turning_radius_km(R_EARTH_KM + rf.GRAZING_KM)) == pytest.approx(R_EARTH_KM, abs=0.01)
    assert float(rf.table_bending_rad(10.0)) == pytest.approx(float(rf.bending_rad(10.0)), rel=1e-4)


def test_transmission_table_matches_the_integrated_optical_depth():
    # tau(lambda, h): the vertical depths times the density integrated along the whole straight line.
    def column(h, scale):
        r = R_EARTH_KM + h
        return 2.0 * quad(lambda s: math.exp(-(math.sqrt(r * r + s * s) - R_EARTH_KM) / scale), 0.0, 3000.0,
                          limit=200)[0] / scale

    lam = np.arange(380.0, 781.0, 5.0)
    from cupola.colour import camera_rgb, planck_spd

    sun = planck_spd(lam, 5778.0)
    for h in (2.0, 8.0, 15.0, 30.0):
        tau = ex.rayleigh_vertical_tau_broad(lam) * column(h, H_KM) + ex.aerosol_vertical_tau(lam) * column(h, 1.5)
        expected = np.clip(camera_rgb(lam, sun * np.exp(-tau)) / camera_rgb(lam, sun), 0.0, 1.0)
        got = rf.table_transmission_rgb(h)
        np.testing.assert_allclose(got, expected, rtol=0.03, atol=1e-4)
        assert got[0] > got[1] > got[2]  # red first


def test_short_wavelength_rayleigh_meets_the_long_one():
    # Bucholtz's two ranges meet at 500 nm; 450 nm is 0.2197 in his table 2 (US Standard 1962).
    lo, hi = ex.rayleigh_vertical_tau_broad([499.9, 500.1])
    assert lo == pytest.approx(hi, rel=0.002)
    assert float(ex.rayleigh_vertical_tau_broad(450.0)) == pytest.approx(0.2197, rel=0.02)
    with pytest.raises(ValueError, match="200 nm"):
        ex.rayleigh_vertical_tau_broad(150.0)


def test_apparent_directions_invert_the_bending():
    o = np.array([R_EARTH_KM + 420.0, 0.0, 0.0])
    ro = float(np.linalg.norm(o))
    rng = np.random.default_rng(3)
    h_true = rng.uniform(-50.0, 150.0, 200)
    th = np.arcsin((R_EARTH_KM + h_true) / ro)
    phi = rng.uniform(0, 2 * math.pi, 200)
    d = np.stack([-np.cos(th), np.sin(th) * np.cos(phi), np.sin(th) * np.sin(phi)], axis=-1)
    ref = rf.apparent_directions(o, d)
    assert np.all(np.isfinite(ref.tangent_km))  # all above the refracted ground
    assert np.all(ref.visible[h_true > -40.0])  # and seen through more than MIN_TRANSMISSION there
    th_a = np.arccos(np.clip(-(ref.dir_teme @ o) / ro, -1, 1))
    bent = ref.tangent_km < rf.STRAIGHT_ABOVE_KM
    np.testing.assert_allclose((th_a - rf.table_bending_rad(ro * np.sin(th_a) - R_EARTH_KM))[bent], th[bent], atol=1e-10)
    np.testing.assert_allclose(th_a[~bent], th[~bent], atol=1e-12)  # straight above: bent by < 2.3"
    assert float(rf.bending_rad(rf.STRAIGHT_ABOVE_KM)) < 1.1e-5
    np.testing.assert_allclose(ref.transmission_rgb, rf.table_transmission_rgb(ref.tangent_km), rtol=1e-12)
    # Shape of the answer and the hidden ones: below the refracted hard limb.
    th_low = math.asin((R_EARTH_KM + rf.GRAZING_KM) / ro) - float(rf.bending_rad(rf.GRAZING_KM)) - 0.001
    low = rf.apparent_directions(o, np.array([[-math.cos(th_low), math.sin(th_low), 0.0]]))
    assert not low.visible[0] and np.isnan(low.tangent_km[0]) and np.all(low.transmission_rgb == 0.0)


# -- stars through the limb ------------------------------------------------------------------------------
def _one_star(scene, d_teme, vmag=0.0):
    st = StarsView(count=np.array(1), mag_limit=6.0, atmosphere_km=20.0, index=np.zeros(1, np.intp),
                   hip=np.zeros(1, np.int32), name=np.array(["test"], object), dir_teme=np.asarray(d_teme, float)[None],
                   az_deg=np.zeros(1), el_deg=np.zeros(1), vmag=np.array([vmag]), bv=np.array([0.6]),
                   rgb=np.ones((1, 3)))
    one = dataclasses.replace(scene, stars=st, bodies=tuple(b for b in scene.bodies if b.kind != "planet"))
    object.__setattr__(one, "star_field", lambda *a, **k: (st.dir_teme, st.vmag, st.bv))
    return one


@pytest.fixture(scope="module")
def limb_view():
    cam = Camera(focal_mm=200.0, look=Look("horizon", pitch_deg=0.4), exposure_s=1 / 100, tracked=True)
    sc = compute_scene(NIGHT, camera=cam)
    return sc, cam, frame_geometry(sc)


def _true_dir_at(geom, h_apparent_km, column_offset_px=0.0):
    """The true direction of a source seen at apparent tangent height h in the frame's middle column:
    theta_g = theta_a - alpha(h) with alpha from the ray trace (not the renderer's formula)."""
    o = np.asarray(geom.origin_teme_km, float)
    ro = float(np.linalg.norm(o))
    nadir = -o / ro
    fwd = np.asarray(geom.basis_teme, float)[2] + column_offset_px / geom.camera.focal_px * np.asarray(geom.basis_teme)[0]
    side = fwd - (fwd @ nadir) * nadir
    side /= np.linalg.norm(side)
    th_a = math.asin((R_EARTH_KM + h_apparent_km) / ro)
    th_g = th_a - _bending_ray_trace(R_EARTH_KM + h_apparent_km)
    app = math.cos(th_a) * nadir + math.sin(th_a) * side
    return math.cos(th_g) * nadir + math.sin(th_g) * side, app


def _flux_rgb(img, x, y, r=6):
    i0, j0 = int(round(y)), int(round(x))
    return img[i0 - r:i0 + r + 1, j0 - r:j0 + r + 1].reshape(-1, 3).astype(float).sum(0)


def test_stars_dim_redden_and_rise_smoothly_through_the_limb(limb_view):
    sc, cam, geom = limb_view
    far, app_far = _true_dir_at(geom, 80.0)
    clear = _flux_rgb(points.stars_layer(_one_star(sc, far), geom), *points.project(cam, geom.basis_teme, app_far)[:2])
    clear = clear / rf.table_transmission_rgb(80.0)  # 0.9995 there
    assert np.all(clear > 0)
    previous = None
    for h in (30.0, 22.0, 18.0, 12.0, 6.0):
        true, app = _true_dir_at(geom, h)
        img = points.stars_layer(_one_star(sc, true), geom)
        x, y, _ = points.project(cam, geom.basis_teme, app)
        # Drawn where the ray-traced refraction puts it: lifted by alpha(h) (up to ~0.6 deg here).
        ys, xs = np.nonzero(img[..., 0] > 0)
        w = img[ys, xs, 0].astype(float)
        assert math.hypot((w * xs).sum() / w.sum() - x, (w * ys).sum() / w.sum() - y) < 1.0
        flux = _flux_rgb(img, x, y)
        ratio = flux / clear
        # The brightness follows the transmission table at the tangent height it is drawn at (within
        # 0.3 km of the ray trace's: the transmission changes by ~10 % a pixel at 6 km), channel by channel.
        drawn_h = float(sc.refract(true[None]).tangent_km[0])
        assert drawn_h == pytest.approx(h, abs=0.3)
        np.testing.assert_allclose(ratio, rf.table_transmission_rgb(drawn_h), rtol=0.01, atol=1e-6)
        assert ratio[0] > ratio[1] > ratio[2]  # reddened
        if previous is not None:  # dimmer step by step: no cut at 20 km
            assert np.all(flux < previous) and flux[0] > 1e-3 * clear[0]
        previous = flux


def test_a_star_behind_the_refracted_limb_is_absent(limb_view):
    sc, cam, geom = limb_view
    o = np.asarray(geom.origin_teme_km, float)
    ro = float(np.linalg.norm(o))
    nadir = -o / ro
    fwd = np.asarray(geom.basis_teme, float)[2]
    side = fwd - (fwd @ nadir) * nadir
    side /= np.linalg.norm(side)
    graze = R_EARTH_KM * (1 + NU0)  # the impact parameter of the ray that grazes the ground
    th = math.asin(graze / ro) - _bending_ray_trace(graze) - math.radians(0.05)
    d = math.cos(th) * nadir + math.sin(th) * side
    assert float(points.stars_layer(_one_star(sc, d), geom).max()) == 0.0


# -- the rising Sun ----------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def sunrise():
    sc = compute_scene(SUNRISE)
    sun = sc.body("Sun")
    cam = Camera(focal_mm=800.0, look=Look("sky", body="sun"), exposure_s=1 / 8000, width_px=900, height_px=900)
    sc = dataclasses.replace(sc, camera=cam)
    settings = dataclasses.replace(DEFAULT_SETTINGS, psf_wing_fraction=0.0)
    from cupola.render import frame_geometry as fg

    geom = fg(sc, cam, force=True)
    return sc, sun, cam, geom, points.sun_layer(sc, geom, None, settings)


def test_rising_sun_is_flattened_as_the_ray_trace_says(sunrise):
    sc, sun, cam, geom, img = sunrise
    support = img[..., 0] > 0.0
    assert support.any() and not geom.hit[support].any()
    o = np.asarray(geom.origin_teme_km, float)
    ro = float(np.linalg.norm(o))
    s = np.asarray(sun.dir_teme, float).reshape(3)
    up = o - (o @ s) * s
    up /= np.linalg.norm(up)
    across = np.cross(s, up)
    # Image directions of the local vertical and horizontal at the Sun.
    x0, y0, _ = points.project(cam, geom.basis_teme, s)
    xu, yu, _ = points.project(cam, geom.basis_teme, s + 1e-4 * up)
    xa, ya, _ = points.project(cam, geom.basis_teme, s + 1e-4 * across)
    eu = np.array([xu - x0, yu - y0]) / math.hypot(xu - x0, yu - y0)
    ea = np.array([xa - x0, ya - y0]) / math.hypot(xa - x0, ya - y0)
    ii, jj = np.nonzero(support)
    p = np.stack([jj, ii], axis=-1).astype(float)
    vertical_px = np.ptp(p @ eu) + 1.0
    horizontal_px = np.ptp(p @ ea) + 1.0
    # Expected: the true nadir angles of the top and bottom edges, seen at theta_a with theta_a -
    # alpha_traced(h(theta_a)) = theta_g (root finding on the ray trace).
    r_sun = math.radians(float(sun.radius_deg))
    th_c = math.acos(float(-(o @ s) / ro))
    th_limb = math.asin(R_EARTH_KM / ro)

    def apparent(th_g):
        return brentq(lambda t: t - _bending_ray_trace(ro * math.sin(t)) - th_g, th_limb + 1e-7, th_limb + 0.05,
                      xtol=1e-12)

    top, bottom = apparent(th_c + r_sun), apparent(th_c - r_sun)
    expected = (top - bottom) / (2.0 * r_sun)
    h_bottom = ro * math.sin(bottom) - R_EARTH_KM
    assert h_bottom > 3.0 and expected < 0.6  # the whole disc above the ground, strongly flattened
    assert vertical_px / horizontal_px == pytest.approx(expected, rel=0.10)
    assert horizontal_px == pytest.approx(2.0 * r_sun * cam.focal_px, rel=0.03)
    # And the closed form's first-order ratio at the centre's apparent height is of the same size.
    mid = apparent(th_c)
    assert float(rf.flattening(ro * math.sin(mid) - R_EARTH_KM, ro - R_EARTH_KM)) == pytest.approx(expected, rel=0.25)


def test_rising_sun_is_reddened_toward_its_lower_edge(sunrise):
    sc, sun, cam, geom, img = sunrise
    support = img[..., 0] > 0.5 * float(img[..., 0].max())
    ii, jj = np.nonzero(support)
    h = geom.tangent_km[ii, jj].astype(float)
    lo, hi = h < np.percentile(h, 20), h > np.percentile(h, 80)
    g_over_r = img[ii, jj, 1].astype(float) / img[ii, jj, 0]
    assert g_over_r[lo].mean() < 0.8 * g_over_r[hi].mean()
    # Every pixel inside the edge is the disc's luminance times the table's transmission at its tangent height.
    from scipy.ndimage import binary_erosion

    inner = binary_erosion(img[..., 0] > 0, iterations=2)
    ii, jj = np.nonzero(inner)
    np.testing.assert_allclose(img[ii, jj].astype(float) / points.SUN_CD_M2,
                               rf.table_transmission_rgb(geom.tangent_km[ii, jj].astype(float)), rtol=2e-3, atol=1e-7)


def test_disc_kernels_match_their_numpy_twins(sunrise):
    sc, sun, cam, geom, img = sunrise
    box = points._disc_box(sc, geom, np.asarray(sun.dir_teme, float).reshape(3), math.radians(float(sun.radius_deg)),
                           2.0)
    opt = sc.limb_optics
    args = (geom.dirs_teme, geom.hit, geom.tangent_km, *box, np.asarray(sc.state.r_teme_km, float).reshape(3),
            float(opt.step_km), np.ascontiguousarray(opt.bending_rad).reshape(-1, 1),
            np.ascontiguousarray(opt.transmission_rgb), np.asarray(sun.dir_teme, float).reshape(3),
            math.radians(float(sun.radius_deg)), points.SUN_CD_M2, 1.0 / cam.focal_px)
    a = np.zeros(img.shape, np.float32)
    b = np.zeros(img.shape, np.float32)
    points._sun_disc_kernel.compiled(*args, a)
    points._sun_disc_kernel.numpy_twin(*args, b)
    np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-3 * points.SUN_CD_M2 * 1e-6)


def test_glare_cosine_kernel_matches_its_numpy_twin(sunrise):
    sc, sun, cam, geom, img = sunrise
    d = np.asarray(sun.dir_teme, float).reshape(3)
    a = np.empty(geom.cos_sun_ray.shape, np.float32)
    b = np.empty(geom.cos_sun_ray.shape, np.float32)
    points._cos_to.compiled(geom.dirs_teme, d, a)
    points._cos_to.numpy_twin(geom.dirs_teme, d, b)
    np.testing.assert_allclose(a, b, atol=1e-6)
    np.testing.assert_allclose(a, geom.cos_sun_ray, atol=1e-5)  # the geometry's own cosine to the true Sun
