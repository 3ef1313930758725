"""The orbital sunrise (issue 14): ozone, aerosol and the Earth's shadow in the limb's colours.

Physics first (the cited numbers, closed forms, independent integrals), then the bundled table
against its own recomputation, then a rendered sunrise frame: toward the Sun just before it rises
over the limb, the colour along the tangent height (closed-form geometry) goes from orange-red at
the base through a white/yellow band to blue above, then dark.
"""

from __future__ import annotations

import importlib.resources
import io
import math

import numpy as np
import pytest
from scipy.integrate import quad

from cupola.camera import Camera
from cupola.constants import R_EARTH_KM
from cupola.inputs import parse_look
from cupola.phenomena import extinction as ex

# Kernels with a numpy twin: CI reruns this module with CUPOLA_NO_JIT=1 (cupola.jit).
pytestmark = pytest.mark.numpy_twin

DU_CM2 = 2.687e16  # molecules cm^-2 per Dobson unit (WMO definition: 0.01 mm of ozone at STP)
# Serdyuchenko et al. (2014) 10 nm bin means of the ozone cross-section (cm^2) around 600 nm
# (bins 590-600 and 600-610 nm, as tabulated by Bruneton 2017).
SIGMA_595, SIGMA_605 = 4.701e-21, 5.019e-21
H_R = 8.0  # the Rayleigh scale height (km) of the model
SUNRISE = "2021-05-02T06:57:20Z"  # 15 s before seed 2's orbital sunrise (06:57:35), the Sun below the limb
Y = np.array([0.2126, 0.7152, 0.0722])


# -- the constituents ----------------------------------------------------------------------------
def test_ozone_vertical_optical_depth_at_600_nm():
    # 300 DU at 600 nm: the cited cross-sections give 0.039 (the usual round figure is ~0.036-0.04).
    expect = 300.0 * DU_CM2 * 0.5 * (SIGMA_595 + SIGMA_605)
    assert float(ex.ozone_vertical_tau(600.0, 300.0)) == pytest.approx(expect, rel=1e-6)
    assert 0.033 < expect < 0.042
    # The Chappuis band peaks near 600 nm and is ~20x weaker at 450 nm.
    lam = np.arange(400.0, 780.0, 5.0)
    assert 590.0 <= lam[np.argmax(ex.ozone_cross_section_cm2(lam))] <= 610.0
    assert ex.ozone_vertical_tau(450.0) < ex.ozone_vertical_tau(600.0) / 15.0


def test_ozone_profile_holds_its_column_and_peak():
    z = np.linspace(0.0, 120.0, 12001)
    n = ex.ozone_density_cm3(z, 300.0)
    column_du = np.trapezoid(n, z * 1.0e5) / DU_CM2
    assert column_du == pytest.approx(300.0, rel=1e-4)
    # US Standard Atmosphere 1976: peak ~4-5e12 cm^-3 near 20-25 km.
    assert 20.0 < z[np.argmax(n)] < 25.0 and 3.5e12 < n.max() < 6e12


def test_rayleigh_below_500_nm_matches_hansen_travis():
    lam = np.linspace(400.0, 780.0, 39)
    um = lam / 1000.0
    ht = 0.008569 * um**-4 * (1 + 0.0113 * um**-2 + 0.00013 * um**-4)  # Hansen & Travis (1974) eq. 2.29
    np.testing.assert_allclose(ex.rayleigh_vertical_tau_visible(lam), ht, rtol=0.02)
    # The two fits of Bucholtz's table 5 meet at 500 nm.
    assert float(ex.rayleigh_vertical_tau_visible(499.999)) == pytest.approx(float(ex.rayleigh_vertical_tau(500.0)),
                                                                           rel=2e-3)


def test_aerosol_angstrom_law():
    tau = ex.vertical_taus(np.array([440.0, 550.0, 870.0]))
    assert tau[1, 2] == pytest.approx(ex.AEROSOL_TAU_550) and tau[1, 3] == pytest.approx(ex.STRAT_AEROSOL_TAU_550)
    alpha = -math.log(tau[0, 2] / tau[2, 2]) / math.log(440.0 / 870.0)
    assert alpha == pytest.approx(ex.AEROSOL_ANGSTROM, rel=1e-9)


@pytest.mark.parametrize("z_km, elev_deg", [(0.0, 90.0), (0.0, 0.0), (10.0, -2.0), (30.0, -4.0), (5.0, 20.0)])
def test_path_columns_match_line_integrals(z_km, elev_deg):
    # Independent: the straight line integral of each constituent's profile by adaptive quadrature.
    r0 = R_EARTH_KM + z_km
    mu = math.sin(math.radians(elev_deg))
    top = R_EARTH_KM + ex.ATMOSPHERE_TOP_KM
    s_top = -r0 * mu + math.sqrt((r0 * mu) ** 2 + top * top - r0 * r0)
    cols = ex.path_columns(z_km, mu)
    for c in range(4):
        def f(s):
            return float(ex.constituent_shapes(math.sqrt(r0 * r0 + s * s + 2 * r0 * mu * s) - R_EARTH_KM)[c])

        t_mid = max(-r0 * mu, 0.0)
        pts = [t_mid] if 0.0 < t_mid < s_top else None
        expect = quad(f, 0.0, s_top, points=pts, limit=400, epsabs=1e-9)[0]
        assert cols[c] == pytest.approx(expect, rel=2e-3, abs=1e-6), (c, cols[c], expect)
    if elev_deg == 90.0:
        np.testing.assert_allclose(cols, 1.0, rtol=1e-4)  # one vertical column of each


def test_path_blocked_by_the_ground():
    # From 10 km the geometric horizon is 3.2 deg down: a ray 4 deg down meets the ground.
    assert np.all(ex.path_columns(10.0, math.sin(math.radians(-4.0))) >= ex.BLOCKED_COLUMN)
    assert np.all(ex.path_columns(10.0, math.sin(math.radians(-3.0))) < 200.0)


@pytest.fixture(scope="module")
def sun_table():
    return ex.sun_path_table()


def test_refraction_lights_the_edge_of_the_shadow(sun_table):
    # The Sun's centre geometrically 0.1 deg below the horizon seen from 10 km beyond the Earth's
    # edge (i.e. its grazing ray blocked): refraction (~1.2 deg at grazing) still brings its light,
    # dimmed; without refraction it is dark.
    taus = ex.vertical_taus(np.array([700.0]))
    e_block = -math.degrees(math.acos(R_EARTH_KM / (R_EARTH_KM + 10.0))) - 0.6  # 0.6 deg below the edge
    lit = float(ex.sunlight_transmission(10.0, math.sin(math.radians(e_block)), taus, sun_table)[0])
    bare = float(ex.sunlight_transmission(10.0, math.sin(math.radians(e_block)), taus,
                                          ex.sun_path_table(refraction=False))[0])
    assert bare < 1e-6 < lit < 0.3


def test_thin_limb_is_the_closed_form(sun_table):
    # High above the ozone and aerosol, sunlit from high up: L = beta(h) sqrt(2 pi (R + h) H) / (4 pi)
    # per unit irradiance (the Chapman grazing column), the sunlight and the view almost unattenuated.
    lam = np.array([450.0, 550.0, 700.0])
    h = 60.0
    got = ex.limb_line_radiance(h, 60.0, 90.0, lam, table=sun_table)[:, 0]
    tau = ex.rayleigh_vertical_tau_visible(lam)
    expect = tau / H_R * math.exp(-h / H_R) * math.sqrt(2 * math.pi * (R_EARTH_KM + h) * H_R) / (4 * math.pi)
    np.testing.assert_allclose(got, expect, rtol=0.02)


def test_deep_shadow_is_dark_and_the_sunrise_colours(sun_table):
    lam = ex.SPECTRUM_NM
    lit = ex.limb_line_radiance(20.0, 5.0, 90.0, lam, table=sun_table)
    dark = ex.limb_line_radiance(20.0, -15.0, 90.0, lam, table=sun_table)  # the shadow ~220 km above
    assert np.all(dark <= 1e-6 * lit.max())
    # Just before sunrise at the tangent point (the Sun 2 deg down), looking toward it:
    prof = ex.limb_line_radiance(np.array([8.0, 30.0]), -2.0, 0.0, lam, table=sun_table)[..., 0]
    red, blue = lam > 620.0, lam < 480.0
    assert prof[0, red].mean() > 20 * prof[0, blue].mean()  # the troposphere: sunlight through the limb
    assert prof[1, blue].mean() > 2 * prof[1, red].mean()  # above it: blue, and ozone's dip at 600 nm
    chap = (lam > 580.0) & (lam < 620.0)
    assert prof[1, chap].mean() < 0.8 * 0.5 * (prof[1, (lam > 540) & (lam < 560)].mean() + prof[1, (lam > 650)
                                                                                           & (lam < 670)].mean())


# -- the bundled table ----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def bundled():
    data = importlib.resources.files("cupola.data").joinpath("limb_radiance.npz").read_bytes()
    with np.load(io.BytesIO(data)) as z:
        return {k: np.asarray(z[k]) for k in z.files}


def test_bundled_table_is_its_recomputation(bundled, sun_table):
    from cupola.colour import sunlight_ratio_rgb

    g = ex.limb_table_grids()
    for k, v in g.items():
        np.testing.assert_array_equal(bundled[k], v)
    assert float(bundled["aerosol_g"]) == ex.AEROSOL_G
    deg = np.degrees
    for ih, ie, ia in ((10, 40, 12), (25, 46, 6), (45, 80, 0)):
        h, e, a = g["limb_h_km"][ih], deg(np.arcsin(g["limb_sin_elev"][ie])), deg(np.arccos(g["limb_cos_az"][ia]))
        spec = ex.limb_line_radiance(h, e, a, table=sun_table)
        np.testing.assert_allclose(bundled["limb"][ih, ie, ia], sunlight_ratio_rgb(ex.SPECTRUM_NM, spec.T),
                                   rtol=1e-5, atol=1e-12)
    for ie, im, ia in ((60, 20, 3), (50, 5, 6)):
        e, m, a = deg(np.arcsin(g["ground_sin_elev"][ie])), g["ground_mu"][im], deg(np.arccos(g["ground_cos_az"][ia]))
        spec = ex.ground_path_radiance(e, m, a, table=sun_table)
        np.testing.assert_allclose(bundled["ground"][ie, im, ia], sunlight_ratio_rgb(ex.SPECTRUM_NM, spec.T),
                                   rtol=1e-5, atol=1e-12)


def test_sunlight_ratio_rgb_keeps_sunlight_white():
    from cupola.colour import sunlight_ratio_rgb

    np.testing.assert_allclose(sunlight_ratio_rgb(ex.SPECTRUM_NM, np.ones(ex.SPECTRUM_NM.size)), 1.0, rtol=1e-9)
    red = sunlight_ratio_rgb(ex.SPECTRUM_NM, (ex.SPECTRUM_NM > 600.0).astype(float))
    assert red[0] > 0.8 and red[2] < 0.1


# -- the renderer ---------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def sunrise_frame():
    """A 200 mm frame toward the Sun's azimuth 15 s before seed 2's orbital sunrise (earth layer)."""
    from cupola.render import RenderSettings, render
    from cupola.scene import compute_scene

    scene = compute_scene(SUNRISE)
    r = np.asarray(scene.state.r_teme_km, float).reshape(3)
    sun = np.asarray(scene.state.sun_teme_km, float).reshape(3) - r
    up, sun = r / np.linalg.norm(r), sun / np.linalg.norm(sun)
    east = np.cross([0.0, 0.0, 1.0], up)
    east /= np.linalg.norm(east)
    north = np.cross(up, east)
    az = math.degrees(math.atan2(sun @ east, sun @ north)) % 360.0
    assert math.degrees(math.asin(sun @ up)) < -20.3  # the Sun is still below the station's horizon
    cam = Camera(model="D5", focal_mm=200.0, width_px=96, height_px=240, look=parse_look(f"horizon:{az:.3f},0.6"),
                 exposure_s=1 / 4000, iso=100, f_number=8)
    settings = RenderSettings(layers=("earth",), noise=False)
    return scene, render(scene, cam, settings=settings, force=True)


def _tangent_km(origin, dirs):
    # Closed form: a straight ray from o along unit d passes closest to the centre at |o x d|.
    return np.linalg.norm(np.cross(origin, dirs), axis=-1) - R_EARTH_KM


def test_sunrise_limb_colours_by_tangent_height(sunrise_frame):
    _, frame = sunrise_frame
    g = frame.geometry
    col = g.dirs_teme.shape[1] // 2
    h = _tangent_km(np.asarray(g.origin_teme_km, float), g.dirs_teme[:, col].astype(float))
    miss = ~g.hit[:, col]
    np.testing.assert_allclose(h[miss], g.tangent_km[miss, col], atol=0.05)  # the geometry agrees
    rgb = frame.luminance[:, col].astype(float)

    def band(lo, hi):
        m = miss & (h >= lo) & (h < hi)
        assert m.sum() >= 2, (lo, hi)
        return rgb[m].mean(axis=0)

    peak = (rgb[miss] @ Y).max()
    base, white, blue, top = band(3.0, 10.0), band(13.0, 17.0), band(25.0, 60.0), band(92.0, 100.0)
    assert base[0] > base[1] > base[2] > 0.0  # orange-red troposphere
    assert white.min() > 0.6 * white.max()  # a white-yellow band above it
    assert blue[2] > 1.5 * blue[0] and blue[2] > blue[1]  # the blue above (Pesquet's "halo bleu")
    assert top @ Y < 1e-3 * peak  # then dark
    # In order of height: the last red row below the first white one below the first blue one.
    rows = np.nonzero(miss)[0]
    hh, cc = h[rows], rgb[rows]
    red = hh[(cc[:, 0] > cc[:, 1]) & (cc[:, 1] > cc[:, 2]) & (cc[:, 0] > 1.5 * cc[:, 2])]
    bl = hh[cc[:, 2] > 1.5 * cc[:, 0]]
    assert red.max() < bl.min()


def test_sunrise_kernel_matches_numpy_twin(sunrise_frame):
    from cupola.render import earth

    scene, frame = sunrise_frame
    a = earth.earth_layer(scene, frame.geometry)
    b = earth.earth_layer_numpy(scene, frame.geometry)
    np.testing.assert_allclose(a, b, rtol=2e-3, atol=1e-5)


def test_twilight_ground_is_not_a_milky_wash():
    # Seen straight down, the path radiance over the ground in civil twilight is the twilight sky's
    # own brightness, of the order of the sky's mean luminance E / pi seen from below (a thin
    # atmosphere looks the same from both sides): the AMS Glossary's clear-sky illuminance, log-linear
    # from ~500 lx at sunset to ~2.7 lx at -6 deg. The Rayleigh-only model gave 49 and 460 cd/m^2.
    from cupola.render import earth

    lt, gt, lg, _ = earth._limb_tables()
    for elev, before in ((-5.2, 49.0), (-2.5, 460.0)):
        e_lux = math.exp(math.log(500.0) + elev / -6.0 * (math.log(2.7) - math.log(500.0)))
        rgb, w = earth.ground_rgb_np(gt, lg, np.array([math.sin(math.radians(elev))]), np.array([1.0]),
                                     np.array([0.0]))
        lum = earth.E_SUN_LUX * rgb[0]
        assert w[0] == 1.0
        assert e_lux / math.pi / 3.0 < lum @ Y < 3.0 * e_lux / math.pi < before
        assert lum[2] > lum[1] > lum[0]  # the blue hour, seen from above


def test_twilight_illuminance_follows_the_published_curve():
    # AMS Glossary of Meteorology ("civil twilight", "astronomical twilight"), clear skies.
    from cupola.render import earth

    def lux(elev_deg):
        return float(earth.twilight_lux(math.sin(math.radians(elev_deg))))

    assert 0.95 * 410.0 < lux(0.0) < 585.0
    assert 2.0 <= lux(-6.0) <= 3.5
    assert lux(-12.0) == pytest.approx(0.008, rel=0.05)
    assert lux(-18.0) == pytest.approx(6e-4, rel=0.05)
    assert lux(-19.0) == 0.0
    elev = np.linspace(-18.0, 0.0, 73)
    assert np.all(np.diff(earth.twilight_lux(np.sin(np.radians(elev)))) > 0.0)
    # The twilight sky's colour (what lights the ground after sunset) is blue, not red.
    tw = earth.twilight_rgb()
    assert tw[2] > tw[1] > tw[0] and tw @ Y == pytest.approx(1.0)


def test_phase_functions_are_normalised_and_the_renderers():
    from cupola.render import earth

    mu = np.linspace(-1.0, 1.0, 200001)
    for p in (ex.rayleigh_phase(mu), ex.aerosol_phase(mu)):
        assert np.trapezoid(p, mu) / 2.0 == pytest.approx(1.0, rel=1e-6)  # (1 / 4 pi) integral over the sphere
    g_mean = np.trapezoid(mu * ex.aerosol_phase(mu), mu) / 2.0
    assert g_mean == pytest.approx(ex.AEROSOL_G, rel=1e-4)  # Henyey-Greenstein: <cos> = g
    pr, pa = earth._phases_np(mu, ex.AEROSOL_G)
    np.testing.assert_allclose(pr, ex.rayleigh_phase(mu), rtol=1e-12)
    np.testing.assert_allclose(pa, ex.aerosol_phase(mu), rtol=1e-12)
