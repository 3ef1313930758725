"""Airglow layers: limb geometry, limb brightening, ray integrals, colours and night/day."""

from __future__ import annotations

import colorsys
import json
import math
import types
from importlib import resources

import numpy as np
import pytest
from scipy.integrate import quad

from cupola.errors import InputError
from cupola.orbit import Satellite
from cupola.phenomena import airglow
from cupola.phenomena.airglow import (
    LAYERS,
    airglow_in_view,
    get_layer,
    layer_emission_along_rays,
    limb_brightening,
    limb_peak_height_km,
    peak_brightening,
    slab_brightening,
    tangent_brightening,
)

# Kernels with a numpy twin: CI reruns this module with CUPOLA_NO_JIT=1 (cupola.jit).
pytestmark = pytest.mark.numpy_twin

R_KM = 6371.0088
hundredth_deg = 0.01
AU_KM = 1.495978707e8


@pytest.fixture(scope="module")
def sat():
    return Satellite.from_archive()


def fake_state(alt_km=420.0, sun_dir=(0.0, 1.0, 0.0), sunlit=False):
    """A stand-in state: station over (0 N, 0 E) of a spherical Earth, Sun along `sun_dir`."""
    r = np.array([R_KM + alt_km, 0.0, 0.0])
    return types.SimpleNamespace(alt_km=np.float64(alt_km), sunlit=np.bool_(sunlit), r_teme_km=r,
                                 sun_teme_km=AU_KM * np.asarray(sun_dir, float))


def gaussian_eps(layer):
    sigma = layer.fwhm_km / (2 * np.sqrt(2 * np.log(2)))
    return lambda h: np.exp(-0.5 * ((h - layer.height_km) / sigma) ** 2) / (sigma * np.sqrt(2 * np.pi))


def numeric_tangent_column(layer, h_t):
    """Column (per unit zenith column) along the full tangent ray, exact geometry, by quad."""
    eps = gaussian_eps(layer)
    p = R_KM + h_t
    f = lambda s: eps(np.sqrt(p * p + s * s) - R_KM)  # noqa: E731
    s_peak = np.sqrt(max((R_KM + layer.height_km) ** 2 - p * p, 0.0))
    pts = [0.0, s_peak] if s_peak > 0 else [0.0]
    val, _ = quad(f, 0.0, 3000.0, points=pts, limit=400, epsabs=0, epsrel=1e-10)
    return 2.0 * val


# -- layers and limb geometry ---------------------------------------------------------------
def test_layer_heights_and_brightness_ranges():
    h = {layer.name: layer.height_km for layer in LAYERS}
    assert h == {"oh": 87.0, "na": 92.0, "oi_green": 97.0, "oi_red": 250.0}
    z = {layer.name: layer.zenith_rayleigh for layer in LAYERS}
    assert 100 <= z["oi_green"] <= 250 and 30 <= z["na"] <= 150 and 50 <= z["oi_red"] <= 150
    assert get_layer("oh").total_zenith_rayleigh >= 100_000  # several hundred kR, mostly IR


def test_limb_angles_from_420_km_match_design_note():
    views = airglow_in_view(fake_state(420.0))
    got = [v.limb_elevation_deg for v in views]
    np.testing.assert_allclose(got, [2.24, 2.38, 2.51, 7.41], atol=hundredth_deg)
    for v in views:  # independent closed form: arccos(R/r) - arccos((R+h)/r)
        r = R_KM + 420.0
        want = np.degrees(np.arccos(R_KM / r) - np.arccos((R_KM + v.height_km) / r))
        assert v.limb_elevation_deg == pytest.approx(want, abs=1e-9)
        assert v.elevation_deg == pytest.approx(-np.degrees(np.arccos((R_KM + v.height_km) / r)), abs=1e-9)
        assert v.elevation_deg < 0


def test_limb_angles_follow_real_altitude(sat):
    s = sat.at("2024-01-19T16:02:54Z")
    for v in airglow_in_view(s):
        r = R_KM + float(s.alt_km)
        want = np.degrees(np.arccos(R_KM / r) - np.arccos((R_KM + v.height_km) / r))
        assert v.limb_elevation_deg == pytest.approx(want, abs=1e-9)


# -- limb brightening -------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["oh", "na", "oi_green", "oi_red"])
@pytest.mark.parametrize("z", [-2.0, -0.765, 0.0, 1.0, 2.5])
def test_tangent_brightening_closed_form_vs_quad(name, z):
    layer = get_layer(name)
    sigma = layer.sigma_km
    h_t = layer.height_km + z * sigma
    closed = tangent_brightening(h_t, layer.height_km, layer.fwhm_km)
    numeric = numeric_tangent_column(layer, h_t)
    # Parabolic approximation: error O(sigma / R) -> 0.3 % for the thin layers, 2 % for OI red.
    tol = 0.02 if name == "oi_red" else 0.003
    assert closed == pytest.approx(numeric, rel=tol)


def test_peak_and_max_brightening_for_oh():
    oh = get_layer("oh")
    numeric_peak = numeric_tangent_column(oh, oh.height_km)
    assert peak_brightening(oh.height_km, oh.fwhm_km) == pytest.approx(numeric_peak, rel=0.003)
    hs = np.linspace(oh.height_km - 6, oh.height_km + 2, 161)
    cols = np.array([numeric_tangent_column(oh, h) for h in hs])
    best = hs[np.argmax(cols)]
    assert limb_peak_height_km(oh.height_km, oh.fwhm_km) == pytest.approx(best, abs=0.1)
    g = limb_brightening(oh.height_km, oh.fwhm_km)
    assert g == pytest.approx(cols.max(), rel=0.003)
    assert 60 <= g <= 70  # "~60-70x" for an 8 km layer at 87 km


def test_written_out_brightening_constants_match_scipy():
    """The closed form's constants are written out in airglow.py (no scipy.special at import):
    recompute them with scipy's parabolic cylinder function, gamma and Brent's root finder."""
    from scipy.optimize import brentq
    from scipy.special import gamma, pbdv

    z = brentq(lambda x: pbdv(0.5, x)[0], -2.0, 0.0, xtol=1e-15)
    assert airglow.MAX_BRIGHTENING_Z == pytest.approx(z, abs=1e-12)
    assert airglow.MAX_BRIGHTENING_COEFF == pytest.approx(np.exp(-z * z / 4) * pbdv(-0.5, z)[0], rel=1e-12)
    assert airglow.PEAK_BRIGHTENING_COEFF == pytest.approx(pbdv(-0.5, 0.0)[0], rel=1e-12)
    assert airglow.PEAK_BRIGHTENING_COEFF == pytest.approx(2 ** 1.25 * gamma(1.25) / np.sqrt(np.pi), rel=1e-14)


def test_slab_brightening_matches_exact_chord():
    for h, dh in [(87.0, 8.0), (97.0, 10.0), (250.0, 100.0)]:
        r = R_KM + h
        chord = 2 * np.sqrt((r + dh) ** 2 - r**2)  # exact path through the slab, tangent at its base
        assert slab_brightening(h, dh) == pytest.approx(chord / dh, rel=dh / (4 * r) + 1e-9)
    assert slab_brightening(87.0, 8.0) == pytest.approx(80.4, abs=0.1)


# -- column emission along rays -------------------------------------------------------------
def ray_quad(layer, origin, d, b_zen):
    """Exact numeric integral along one ray (spherical Earth blocks it)."""
    eps = gaussian_eps(layer)
    o = np.asarray(origin, float)
    d = np.asarray(d, float) / np.linalg.norm(d)
    tc = -o @ d
    p2 = o @ o - tc * tc
    t_end = 20000.0
    if tc > 0 and p2 < R_KM**2:
        t_end = tc - np.sqrt(R_KM**2 - p2)
    f = lambda t: eps(np.linalg.norm(o + t * d) - R_KM)  # noqa: E731
    pts = [x for x in (tc,) if 0 < x < t_end]
    val, _ = quad(f, 0.0, t_end, points=pts or None, limit=500, epsabs=0, epsrel=1e-10)
    return b_zen * val


@pytest.mark.parametrize("name", ["oh", "oi_green", "oi_red"])
def test_rays_match_numeric_integration(name):
    layer = get_layer(name)
    o = np.array([R_KM + 420.0, 0.0, 0.0])
    gam0 = np.arccos(R_KM / (R_KM + 420.0))
    # nadir, 40 deg and 65 deg off nadir, tangent rays at several heights, upward, just above the limb
    angles = []
    for h_t in [-30.0, 0.5, layer.height_km - 10, layer.height_km, layer.height_km + 5, 300.0]:
        angles.append(np.arcsin((R_KM + h_t) / (R_KM + 420.0)))  # off-nadir angle of that tangent
    off_nadir = np.array([0.0, np.radians(40.0), np.radians(65.0)] + angles + [np.pi, gam0 + 0.2])
    dirs = np.stack([-np.cos(off_nadir), np.sin(off_nadir), np.zeros_like(off_nadir)], axis=-1)
    got = layer_emission_along_rays(o, dirs, layer)
    want = np.array([ray_quad(layer, o, d, layer.zenith_rayleigh) for d in dirs])
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-6 * layer.zenith_rayleigh)
    # Straight down: the zenith column below the station (the OI red tail above 420 km is lost).
    below = 0.5 * (1.0 + math.erf((420.0 - layer.height_km) / (layer.sigma_km * math.sqrt(2.0))))
    assert got[0] == pytest.approx(layer.zenith_rayleigh * below, rel=1e-6)


def test_tangent_ray_from_station_matches_closed_form():
    oh = get_layer("oh")
    o = np.array([0.0, 0.0, R_KM + 420.0])
    a = np.arcsin((R_KM + oh.height_km) / (R_KM + 420.0))
    d = np.array([np.sin(a), 0.0, -np.cos(a)])
    got = layer_emission_along_rays(o, d, "oh")
    want = oh.zenith_rayleigh * peak_brightening(oh.height_km, oh.fwhm_km)
    assert got == pytest.approx(want, rel=0.003)


def test_rays_broadcast_and_nan():
    rng = np.random.default_rng(1)
    dirs = rng.normal(size=(4, 5, 3))
    o = np.array([R_KM + 420.0, 0.0, 0.0])
    out = layer_emission_along_rays(o, dirs, "na")
    assert out.shape == (4, 5) and np.all(np.isfinite(out)) and np.all(out >= 0)
    bad = layer_emission_along_rays(np.array([[np.nan, 0, 0], list(o)]), dirs[0, :2], "na")
    assert np.isnan(bad[0]) and np.isfinite(bad[1])


def test_unknown_layer_message():
    with pytest.raises(InputError, match=r"unknown airglow layer 'blue'; use one of oh, na"):
        get_layer("blue")


# -- colours -----------------------------------------------------------------------------------
def _bundled():
    return json.loads((resources.files("cupola") / "data" / "airglow_colours.json").read_text())


def test_colours_recomputed_with_colour_science(colour_science):
    colour = colour_science
    table = _bundled()
    cmfs = colour.MSDS_CMFS["CIE 1931 2 Degree Standard Observer"]
    for layer in LAYERS:
        e = table["layers"][layer.name]
        assert e["lines_nm"] == list(layer.lines_nm) and e["lines_rayleigh"] == list(layer.lines_rayleigh)
        lam = np.array(layer.lines_nm)
        xyz = (np.array(layer.lines_rayleigh) / lam) @ np.atleast_2d(colour.wavelength_to_XYZ(lam, cmfs))
        rgb = colour.XYZ_to_sRGB(xyz / xyz[1], apply_cctf_encoding=False)
        rgb = rgb - min(rgb.min(), 0.0)
        rgb = rgb / rgb.max()
        np.testing.assert_allclose(e["rgb_linear"], rgb, atol=1e-9)
        enc = colour.cctf_encoding(rgb, function="sRGB")
        assert e["hex"] == "#" + "".join(f"{int(round(v * 255)):02x}" for v in enc)
        # Physics: adding white keeps the dominant wavelength of the line spectrum.
        xy = colour.XYZ_to_xy(colour.sRGB_to_XYZ(np.array(e["rgb_linear"]), apply_cctf_decoding=False))
        wl = colour.dominant_wavelength(xy, np.array([0.3127, 0.3290]), cmfs)[0]
        mean_nm = np.average(lam, weights=np.array(layer.lines_rayleigh) / lam)
        if layer.name != "oh":
            assert wl == pytest.approx(mean_nm, abs=1.0)
    view = {v.name: v for v in airglow_in_view(fake_state())}
    for name, e in table["layers"].items():
        assert view[name].colour_hex == e["hex"]


def _hue_deg(hex_code):
    r, g, b = (int(hex_code[i:i + 2], 16) / 255 for i in (1, 3, 5))
    return colorsys.rgb_to_hsv(r, g, b)[0] * 360.0


def test_colour_hues_are_physical():
    hexes = {v.name: v.colour_hex for v in airglow_in_view(fake_state())}
    assert 70 <= _hue_deg(hexes["oi_green"]) <= 110  # 557.7 nm: green-yellow
    assert 25 <= _hue_deg(hexes["na"]) <= 50  # 589 nm: orange-yellow
    for red in ("oi_red", "oh"):
        h = _hue_deg(hexes[red])
        assert min(h, 360 - h) <= 20  # 630 nm and the OH bands: red


# -- night and day -----------------------------------------------------------------------------
def test_pacific_night_has_green_and_sodium(sat):
    s = sat.at("2024-01-19T16:02:54Z")
    assert not s.sunlit
    v = {x.name: x for x in airglow_in_view(s)}
    for name in ("oi_green", "na", "oh"):
        assert v[name].visible.shape == () and bool(v[name].visible) and v[name].note == ""
        assert v[name].dark_fraction > 0.5
    assert v["oh"].limb_rayleigh == pytest.approx(v["oh"].zenith_rayleigh * 62.96, rel=1e-3)


def test_daytime_has_nothing_visible(sat):
    s = sat.at("2024-01-19T16:40:00Z")
    assert s.sunlit
    for v in airglow_in_view(s):
        assert not v.visible and v.note == "daylight on the limb" and v.dark_fraction == 0.0


def test_station_in_sunlight_over_the_terminator():
    # Sun 5 deg below the horizon of the sub-station point (solar zenith 95 deg): the limb rings
    # (12.8-17.9 deg of arc away) reach 108-113 deg on the night side, so part of each is dark,
    # but the station itself is (taken as) sunlit.
    sun = (-np.sin(np.radians(5.0)), np.cos(np.radians(5.0)), 0.0)
    v = airglow_in_view(fake_state(sun_dir=sun, sunlit=True))
    for x in v:
        assert 0.0 < x.dark_fraction < 0.5
        assert not x.visible and x.note == "station in sunlight"
    dark = airglow_in_view(fake_state(sun_dir=sun, sunlit=False))
    assert all(x.visible for x in dark)
    # With the Sun on the horizon the red layer's ring (max SZA 102.8 < 105.8) stays sunlit.
    noon_edge = {x.name: x for x in airglow_in_view(fake_state(sun_dir=(0.0, 1.0, 0.0)))}
    assert noon_edge["oi_red"].note == "daylight on the limb" and noon_edge["oi_green"].visible


def test_dark_threshold_geometry():
    # 90 + arccos(R/(R+h)): the shadow reaches 87 km at SZA 99.4 deg, 250 km at 105.8 deg.
    assert airglow.dark_threshold_sza_deg(87.0) == pytest.approx(99.415, abs=0.001)
    assert airglow.dark_threshold_sza_deg(250.0) == pytest.approx(105.795, abs=0.001)


def test_vectorised_over_instants(sat):
    t = np.array(["2024-01-19T16:02:54", "2024-01-19T16:40:00", "2021-05-02T06:56:00"], dtype="datetime64[ns]")
    s = sat.at(t)
    many = airglow_in_view(s)
    for i, ti in enumerate(t):
        one = airglow_in_view(sat.at(ti))
        for a, b in zip(many, one):
            assert a.visible.shape == (3,) and a.note.shape == (3,)
            assert bool(a.visible[i]) == b.visible and a.note[i] == b.note
            assert a.limb_elevation_deg[i] == pytest.approx(b.limb_elevation_deg, abs=1e-6)


def test_numba_kernel_matches_numpy_twin():
    rng = np.random.default_rng(7)
    origins = rng.normal(size=(300, 3))
    origins *= (R_KM + rng.uniform(50.0, 600.0, size=300) / 1.0)[:, None] / np.linalg.norm(origins, axis=-1)[:, None]
    dirs = rng.normal(size=(300, 3))
    origins[5] = np.nan
    for layer in LAYERS:
        a = layer_emission_along_rays(origins, dirs, layer)
        b = airglow.layer_emission_along_rays_numpy(origins, dirs, layer)
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-9)
        assert np.isnan(a[5]) and np.isnan(b[5])


def test_ray_starting_inside_the_layer():
    green = get_layer("oi_green")
    o = np.array([0.0, R_KM + 95.0, 0.0])
    dirs = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, -1.0, 0.0], [1.0, 0.3, 0.0], [1.0, -0.05, 0.2]])
    got = layer_emission_along_rays(o, dirs, green)
    want = np.array([ray_quad(green, o, d, green.zenith_rayleigh) for d in dirs])
    np.testing.assert_allclose(got, want, rtol=1e-5)
    # Up plus down from inside is the whole vertical column.
    assert got[1] + got[2] == pytest.approx(green.zenith_rayleigh, rel=1e-6)
