"""Sun- and moonglint on open water: Cox & Munk (1954) slopes, Fresnel reflectance, the glint formula.

The independent truths: the specular point found by minimisation on the WGS84 ellipsoid (where the
surface normal bisects the directions to the Sun and to the station), Fresnel reflectance in its
sine/tangent form (Born & Wolf 1.5.3), and the glint radiance of Cox & Munk (1954) as written by
Zhang & Wang (2010, Opt. Express 18, 12356, eq. 1): L = E rho(omega) p / (4 cos^4(beta) cos(theta_v)),
p = exp(-tan^2(beta) / sigma^2) / (pi sigma^2), sigma^2 = 0.003 + 5.12e-3 U.
"""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest

from cupola.camera import Attitude, Camera
from cupola.camera.geometry import RayGeometry
from cupola.inputs import parse_look
from cupola.render import earth
from cupola.render.settings import DEFAULT_SETTINGS

pytestmark = pytest.mark.numpy_twin

A_KM = 6378.137  # WGS84
B_KM = A_KM * (1.0 - 1.0 / 298.257223563)
R_KM = 6371.0088
E_SUN = 128_000.0
N_WATER = 1.34
WIND = 7.0
SIGMA2 = 0.003 + 5.12e-3 * WIND
CH90 = math.sqrt(math.pi * R_KM / (2 * 8.0))
NO_GLINT = DEFAULT_SETTINGS.replace(glint=False)
PLAIN = DEFAULT_SETTINGS.replace(clouds=False)
PLAIN_NO_GLINT = PLAIN.replace(glint=False)
few_percent = 0.03
float32_rel = 1e-4
one_deg = 1.0


def fresnel(i_rad):
    """Unpolarised Fresnel reflectance, sine/tangent form (Born & Wolf 1.5.3), n = 1.34."""
    if i_rad < 1e-8:
        return ((N_WATER - 1) / (N_WATER + 1)) ** 2
    t = math.asin(math.sin(i_rad) / N_WATER)
    rs = math.sin(i_rad - t) ** 2 / math.sin(i_rad + t) ** 2
    rp = math.tan(i_rad - t) ** 2 / math.tan(i_rad + t) ** 2
    return 0.5 * (rs + rp)


def glint(e, beta, omega, mu_v, sigma2=SIGMA2):
    p = math.exp(-math.tan(beta) ** 2 / sigma2) / (math.pi * sigma2)
    return e * fresnel(omega) * p / (4 * math.cos(beta) ** 4 * mu_v)


def airmass(mu):
    return 1.0 / (max(mu, 0.0) + 1.0 / CH90)


# -- a pixel straight below the station ----------------------------------------------------------
def _nadir_geom(lat, lon, sun, cos_sz):
    """One ray straight down onto (a, 0, 0) (normal +x), labelled with the texture point lat/lon."""
    o = np.array([A_KM + 420.0, 0.0, 0.0])
    one = lambda v, dt=np.float32: np.full((1, 1), v, dt)  # noqa: E731
    return RayGeometry(
        camera=Camera(width_px=8, height_px=8, fov_deg=0.05), attitude=Attitude(np.eye(3)), basis_teme=np.eye(3),
        origin_teme_km=o, sun_dir_teme=np.asarray(sun, float), theta_gmst=0.0,
        dirs_teme=np.array([[[-1.0, 0.0, 0.0]]], np.float32), hit=one(True, np.bool_), hit_km=one(420.0),
        lat_deg=one(lat), lon_deg=one(lon), cos_sun_zenith=one(cos_sz), cos_view_zenith=one(1.0),
        tangent_km=one(-1.0), cos_sun_ray=one(-float(sun[0])))


def _scene(moon_dir=(0.0, 0.0, 1.0), vmag=math.nan):
    moon = SimpleNamespace(dir_teme=np.asarray(moon_dir, float), vmag=np.float64(vmag), illuminated_fraction=np.float64(0))
    return SimpleNamespace(body=lambda name: moon)


PACIFIC = (0.0, -150.0)
SAHARA = (23.0, 12.0)


def _glint_only(scene, g, settings=DEFAULT_SETTINGS, **kw):
    on = earth.earth_layer(scene, g, settings=settings, **kw)[0, 0].astype(float)
    off = earth.earth_layer(scene, g, settings=settings.replace(glint=False), **kw)[0, 0].astype(float)
    return on - off


def test_peak_glint_closed_form_at_nadir():
    # Sun overhead, view from overhead: beta = omega = theta_v = 0.
    g = _nadir_geom(*PACIFIC, sun=[1.0, 0.0, 0.0], cos_sz=1.0)
    bare = _glint_only(_scene(), g, atmosphere=False)
    expect = E_SUN * ((N_WATER - 1) / (N_WATER + 1)) ** 2 / (4 * math.pi * SIGMA2)
    np.testing.assert_allclose(bare, expect, rtol=float32_rel)
    assert 4_000 < expect < 7_000  # cd/m^2: far above the ~100 cd/m^2 of the dark sea beside it
    # Through the atmosphere: the direct beam's extinction both ways.
    tau = earth.TAU_RAYLEIGH_RGB
    np.testing.assert_allclose(_glint_only(_scene(), g), expect * np.exp(-tau * 2 * airmass(1.0)), rtol=float32_rel)


@pytest.mark.parametrize("tilt_deg", [5.0, 10.0, 20.0])
def test_off_specular_glint_follows_cox_munk(tilt_deg):
    # View from overhead, Sun 2*beta from the zenith: the facet that glints tilts by beta, omega = beta.
    beta = math.radians(tilt_deg)
    sun = [math.cos(2 * beta), math.sin(2 * beta), 0.0]
    g = _nadir_geom(*PACIFIC, sun=sun, cos_sz=sun[0])
    np.testing.assert_allclose(_glint_only(_scene(), g, atmosphere=False), glint(E_SUN, beta, beta, 1.0),
                               rtol=float32_rel)
    # A stronger wind spreads the glint: wider slopes, a lower peak, more light far from it.
    windy = DEFAULT_SETTINGS.replace(glint_wind_m_s=15.0)
    s2 = 0.003 + 5.12e-3 * 15.0
    np.testing.assert_allclose(_glint_only(_scene(), g, windy, atmosphere=False),
                               glint(E_SUN, beta, beta, 1.0, s2), rtol=float32_rel)


def test_no_glint_on_land():
    g = _nadir_geom(*SAHARA, sun=[1.0, 0.0, 0.0], cos_sz=1.0)
    assert np.all(_glint_only(_scene(), g) == 0.0)
    assert np.all(_glint_only(_scene((1.0, 0.0, 0.0), vmag=-12.7), _nadir_geom(*SAHARA, [-1.0, 0, 0], -0.8)) == 0.0)


def test_moonglint_scales_with_the_moons_illuminance():
    g = _nadir_geom(*PACIFIC, sun=[-1.0, 0.0, 0.0], cos_sz=-0.8)  # night: the Sun below
    vmags = (-12.7, -10.2)  # full and about half Moon
    lum = [_glint_only(_scene((1.0, 0.0, 0.0), vmag=v), g) for v in vmags]
    np.testing.assert_allclose(lum[0] / lum[1], 10 ** (-0.4 * (vmags[0] - vmags[1])), rtol=float32_rel)
    e_full = 2.54e-6 * 10 ** (-0.4 * vmags[0])
    tau = earth.TAU_RAYLEIGH_RGB
    np.testing.assert_allclose(lum[0], glint(e_full, 0.0, 0.0, 1.0) * np.exp(-tau * 2 * airmass(1.0)), rtol=float32_rel)
    assert np.all(_glint_only(_scene((0.0, 0.0, 1.0), vmag=-12.7), g) == 0.0)  # the Moon on the horizon: none
    assert np.all(_glint_only(_scene((1.0, 0.0, 0.0)), g) == 0.0)  # no Moon magnitude, fraction 0: none


def test_clouds_block_the_glint():
    g = _nadir_geom(*PACIFIC, sun=[1.0, 0.0, 0.0], cos_sz=1.0)
    clouds = SimpleNamespace(opacity=np.full((4, 8), 255, np.uint8), tau_lut=np.full(256, 100.0))
    scene = _scene()
    scene.clouds = clouds
    assert np.all(np.abs(_glint_only(scene, g)) < 1e-6 * E_SUN)


# -- a real frame --------------------------------------------------------------------------------
def specular_point(o, s):
    """Return the point (TEME km) of the WGS84 ellipsoid whose normal bisects the directions to the
    station `o` and the Sun `s` (unit), by minimisation over geodetic latitude and longitude."""
    from scipy.optimize import minimize

    e2 = 1 - (B_KM / A_KM) ** 2

    def point(x):
        la, lo = x
        n_ = A_KM / math.sqrt(1 - e2 * math.sin(la) ** 2)
        p = np.array([n_ * math.cos(la) * math.cos(lo), n_ * math.cos(la) * math.sin(lo), n_ * (1 - e2) * math.sin(la)])
        return p, np.array([math.cos(la) * math.cos(lo), math.cos(la) * math.sin(lo), math.sin(la)])

    def cost(x):
        p, n = point(x)
        h = (o - p) / np.linalg.norm(o - p) + s
        return 1.0 - (h / np.linalg.norm(h)) @ n

    x0 = o / np.linalg.norm(o) + s
    x0 /= np.linalg.norm(x0)
    r = minimize(cost, [math.asin(x0[2]), math.atan2(x0[1], x0[0])], method="Nelder-Mead",
                 options=dict(xatol=1e-12, fatol=1e-16, maxiter=4000))
    return point(r.x)[0]


@pytest.fixture(scope="module")
def glint_frame():
    """2021-05-02 05:53 UTC over the Indian Ocean south-west of India, the Sun 17 deg from the
    zenith: nadir, 24 mm, 0.19 deg a pixel."""
    from cupola.render import frame_geometry
    from cupola.scene import compute_scene

    cam = Camera(model="Z9", focal_mm=24.0, width_px=384, height_px=216, look=parse_look("nadir"),
                 exposure_s=1 / 1000, iso=100, f_number=8)
    scene = compute_scene("2021-05-02T05:53:00Z", camera=cam)
    return scene, frame_geometry(scene)


def _glint_peak(scene, g, settings):
    diff = (earth.earth_layer(scene, g, settings=settings).astype(float)
            - earth.earth_layer(scene, g, settings=settings.replace(glint=False)).astype(float))
    y = diff @ [0.2126, 0.7152, 0.0722]
    i, j = np.unravel_index(np.argmax(y), y.shape)
    o = np.asarray(g.origin_teme_km, float)
    p = specular_point(o, np.asarray(g.sun_dir_teme, float))
    to_p = (p - o) / np.linalg.norm(p - o)
    off_deg = math.degrees(math.acos(min(g.dirs_teme[i, j].astype(float) @ to_p, 1.0)))
    return diff, y, (i, j), to_p, off_deg


@pytest.mark.parametrize("wind_m_s", [2.0, 5.0])
def test_glint_peaks_at_the_specular_point(glint_frame, wind_m_s):
    # The slope density peaks at the mirror point; the slowly varying factors (Fresnel, cos^4,
    # 1 / cos(theta_v), extinction) move the radiance's peak by an amount that grows with the
    # glint's width sigma^2: 0.45 deg at 2 m/s, 0.9 deg at 5 m/s, 1.3 deg at 7 m/s in this frame.
    scene, g = glint_frame
    *_, off_deg = _glint_peak(scene, g, PLAIN.replace(glint_wind_m_s=wind_m_s))
    assert off_deg < one_deg


def test_glint_peak_radiance_is_the_formula(glint_frame):
    scene, g = glint_frame
    diff, y, (i, j), to_p, off_deg = _glint_peak(scene, g, PLAIN)
    assert off_deg < 2 * one_deg
    assert float(earth.land_fraction_at(g.lat_deg[i, j], g.lon_deg[i, j])) == 0.0  # open sea
    np.testing.assert_allclose(diff[i, j], _formula(g, i, j), rtol=few_percent)
    # And so is every other glinting sea pixel (a sample of those above 1 % of the peak).
    cand = np.argwhere((y > 0.01 * y[i, j]) & g.hit)
    rng = np.random.default_rng(5)
    checked = 0
    for ii, jj in cand[rng.choice(len(cand), 60, replace=False)]:
        if float(earth.land_fraction_at(g.lat_deg[ii, jj], g.lon_deg[ii, jj])) == 0.0:
            np.testing.assert_allclose(diff[ii, jj], _formula(g, ii, jj), rtol=few_percent)
            checked += 1
    assert checked > 30


def _formula(g, i, j):
    """Return the glint (3,) at pixel (i, j) from its ray, by the formula, through the atmosphere."""
    o = np.asarray(g.origin_teme_km, float)
    s = np.asarray(g.sun_dir_teme, float)
    d = g.dirs_teme[i, j].astype(float)
    hp = o + float(g.hit_km[i, j]) * d
    n = hp / np.array([A_KM**2, A_KM**2, B_KM**2])
    n /= np.linalg.norm(n)
    v = -d
    h = (v + s) / np.linalg.norm(v + s)
    beta, omega = math.acos(min(h @ n, 1.0)), math.acos(min(h @ s, 1.0))
    mu_v, mu_s = v @ n, s @ n
    tau = earth.TAU_RAYLEIGH_RGB
    return glint(E_SUN, beta, omega, mu_v) * np.exp(-tau * (airmass(mu_s) + airmass(mu_v)))


def test_glint_frame_numba_matches_numpy(glint_frame):
    scene, g = glint_frame
    a = earth.earth_layer(scene, g)
    b = earth.earth_layer_numpy(scene, g)
    np.testing.assert_allclose(a, b, rtol=1e-3, atol=1e-4)
