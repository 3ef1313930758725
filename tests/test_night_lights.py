"""Night lights from the radiance raster: spectra and calibration, sampling on the ground, the
total light of a frame over France, foreshortening near the limb, lamp colours, exposure smear."""

from __future__ import annotations

import io
import math

import numpy as np
import pytest

from cupola.camera import Camera, Look
from cupola.colour import LUMA, XYZ_TO_SRGB, blackbody_rgb_unit, blackbody_xyz, cmf, planck_spd
from cupola.constants import R_EARTH_KM, WGS84_A_KM, WGS84_E2
from cupola.frames import geodetic_to_itrs, itrs_to_teme
from cupola.phenomena import lights
from cupola.phenomena.lights import NightLights, night_lights
from cupola.photometry import luminous_efficiency
from cupola.render import RenderSettings, frame_geometry, render
from cupola.render.lights import city_lights_layer, city_lights_numpy, ground_latlon
from cupola.scene import Scene, compute_scene

# Kernels with a numpy twin: CI reruns this module with CUPOLA_NO_JIT=1 (cupola.jit).
pytestmark = pytest.mark.numpy_twin

FRANCE_T = "2021-05-02T02:18:00Z"  # the station at 42.5 N 2.0 E, over the Gulf of Lion, at night
LIGHTS_ONLY = RenderSettings(layers=("city_lights",), clouds=False, atmosphere=False)


def _raw_codes():
    """The bundled raster read straight from the file (test-side)."""
    from importlib.resources import files

    with np.load(io.BytesIO(files("cupola.data").joinpath("night_lights.npz").read_bytes())) as z:
        return z["code"], float(z["lo_nw"]), float(z["hi_nw"]), z["led"]


# -- spectra and calibration ------------------------------------------------------------------------
def test_dnb_band_and_lumens_per_watt_closed_forms():
    assert lights.dnb_response(700.0) == pytest.approx(1.0, abs=1e-6)
    assert lights.dnb_response(lights.DNB_BAND_NM[0]) == pytest.approx(0.5, abs=0.01)
    assert lights.dnb_response(lights.DNB_BAND_NM[1]) == pytest.approx(0.5, abs=0.01)
    assert lights.dnb_response(450.0) < 1e-2 and lights.dnb_response(950.0) < 1e-2
    # A narrow line at 555 nm, inside the band: 683 lm/W over the band's response there.
    line = lambda lam: np.exp(-0.5 * ((np.asarray(lam) - 555.0) / 0.5) ** 2)  # noqa: E731
    assert lights.lumens_per_dnb_watt(line) == pytest.approx(683.0 / float(lights.dnb_response(555.0)), rel=2e-3)
    # The DNB misses the LEDs' blue pump (450 nm): per DNB watt an LED gives more light than its
    # own luminous efficacy of radiation.
    lam = np.arange(380.0, 1001.0)
    ler_led = 683.0 * np.sum(np.interp(lam, lam, luminous_efficiency(lam)) * lights.led_spd(lam)) \
        / np.sum(lights.led_spd(lam))
    assert lights.lumens_per_dnb_watt(lights.led_spd) > ler_led
    # Both lamps: a few hundred lm per W of DNB radiance (LER of HPS ~ 350-400, of 4000 K LEDs ~ 300).
    for spd in (lights.hps_spd, lights.led_spd):
        assert 300.0 < lights.lumens_per_dnb_watt(spd) < 700.0
    assert lights.NW_CM2_SR_TO_W_M2_SR == pytest.approx(1e-5)


def test_lamp_colours_sodium_orange_led_near_4000_k():
    hps = lights.spectrum_rgb_unit(lights.hps_spd)
    led = lights.spectrum_rgb_unit(lights.led_spd)
    assert hps @ LUMA == pytest.approx(1.0) and led @ LUMA == pytest.approx(1.0)
    assert hps[0] > 2 * hps[1] and hps[2] < 0.05 * hps[0]  # sodium: orange, no blue
    assert led[2] / led[0] > 0.3  # LED: white
    # The LED's chromaticity is near a 4,000 K black body's (CIE 1931 xy, independently).
    lam = np.arange(380.0, 781.0)
    xyz = lights.led_spd(lam) @ cmf(lam)
    bb = blackbody_xyz(4000.0)
    assert xyz[:2] / xyz.sum() == pytest.approx(bb[:2] / bb.sum(), abs=0.03)
    np.testing.assert_allclose(np.clip(XYZ_TO_SRGB @ (xyz / xyz[1]), 0, None), led, rtol=1e-3)
    # What the camera records: its rendering of a black body equals colour.blackbody_rgb_unit's
    # (the same camera model by another path); sodium stays orange, the LED white.
    bb_spd = lambda lam: planck_spd(lam, 4000.0)  # noqa: E731
    np.testing.assert_allclose(lights.spectrum_camera_rgb(bb_spd), blackbody_rgb_unit(4000.0), rtol=1e-3)
    cam_hps, cam_led = lights.spectrum_camera_rgb(lights.hps_spd), lights.spectrum_camera_rgb(lights.led_spd)
    assert cam_hps[0] > 3 * cam_hps[1] and cam_hps[2] < 0.05 * cam_hps[0]
    assert cam_led[2] / cam_led[0] > 0.3
    np.testing.assert_allclose(lights.lamp_rgb_per_nw()[0], 1e-5 * lights.lumens_per_dnb_watt(lights.hps_spd) * cam_hps)


def test_raster_orientation_and_calibration():
    nl = night_lights()
    code, lo, hi, led = _raw_codes()
    assert code.shape == (2048, 4096) and nl.lut_nw[0] == 0.0
    assert nl.lut_nw[1] == pytest.approx(lo) and nl.lut_nw[255] == pytest.approx(hi)
    # Texel centres give the decoded codes exactly (row 0 at 90 N, column 0 at 180 W).
    i, j = 2048 * 41 // 180, 4096 * 182 // 360  # near Paris
    lat, lon = 90.0 - (i + 0.5) * 180.0 / 2048, -180.0 + (j + 0.5) * 360.0 / 4096
    c = int(code[i, j])
    assert float(nl.radiance_nw(lat, lon)) == pytest.approx(lo * (hi / lo) ** ((c - 1) / 254.0) if c else 0.0)
    # Lit: Paris, Cairo, Tokyo; dark: the central Pacific, the Sahara.
    r = nl.radiance_nw(np.array([48.86, 30.04, 35.68, 0.0, 23.0]), np.array([2.35, 31.24, 139.69, -150.0, 12.0]))
    assert np.all(r[:3] > 10.0) and np.all(r[3:] == 0.0)
    # Bilinear: halfway between two texel centres is their mean.
    lat2 = 90.0 - (i + 0.5) * 180.0 / 2048
    lon2 = -180.0 + (j + 1.0) * 360.0 / 4096
    pair = nl.lut_nw[code[i, j]], nl.lut_nw[code[i, j + 1]]
    assert float(nl.radiance_nw(lat2, lon2)) == pytest.approx(0.5 * (pair[0] + pair[1]))


def test_led_share_makes_lights_bluer():
    nl = night_lights()
    # Japan (LED share 0.7) against Egypt (0.2): B/R grows with the LED share.
    places = {"Tokyo": (35.68, 139.69), "Cairo": (30.04, 31.24)}
    f = {k: float(nl.led_share(*v)) for k, v in places.items()}
    assert f["Tokyo"] == pytest.approx(0.7, abs=0.01) and f["Cairo"] == pytest.approx(0.2, abs=0.01)
    rgb = {k: nl.rgb_cd_m2(*v) for k, v in places.items()}
    br = {k: v[2] / v[0] for k, v in rgb.items()}
    assert br["Tokyo"] > 2.0 * br["Cairo"]
    # The mix is linear in radiance: B/R from the two lamps' colours at that share.
    hps, led = nl.rgb_per_nw
    for k in places:
        expect = ((1 - f[k]) * hps[2] + f[k] * led[2]) / ((1 - f[k]) * hps[0] + f[k] * led[0])
        assert br[k] == pytest.approx(expect, rel=1e-6)


# -- frames ----------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def france():
    cam = Camera(width_px=480, height_px=270, focal_mm=24.0, look=Look("target", lat_deg=46.8, lon_deg=2.4),
                 exposure_s=1 / 1000)
    scene = compute_scene(FRANCE_T, camera=cam)
    return scene, cam


def _teme(scene, lat, lon):
    return np.asarray(itrs_to_teme(geodetic_to_itrs(lat, lon, 0.0), scene.state.instants), float).reshape(
        np.shape(lat) + (3,))


def test_france_total_light_matches_the_raster_integrated_over_the_footprint(france):
    scene, cam = france
    frame = render(scene, cam, LIGHTS_ONLY)
    assert bool(np.all(frame.geometry.cos_sun_zenith[frame.geometry.hit] < 0))  # all night
    # The frame's light: sum of L over pixel solid angles (cos^3 of the off-axis angle / f^2).
    h, w = cam.height_px, cam.width_px
    cx, cy = cam.principal_point
    yy, xx = np.mgrid[0:h, 0:w]
    omega = (1.0 / (1.0 + ((xx - cx) ** 2 + (yy - cy) ** 2) / cam.focal_px**2)) ** 1.5 / cam.focal_px**2
    frame_total = float(np.sum((frame.luminance.astype(np.float64) @ LUMA) * omega))

    # Independently: every texel of the raster whose centre projects into the frame, with its
    # area on the ground, the cosine of its emission angle and its range: sum L A cos(e) / s^2.
    code, lo, hi, led = _raw_codes()
    g = frame.geometry
    f_lat, f_lon = g.lat_deg[g.hit], g.lon_deg[g.hit]
    assert f_lon.max() - f_lon.min() < 90  # not across the antimeridian: one box of texels holds it
    i0, i1 = int((90 - f_lat.max() - 1) * 2048 / 180), int((90 - f_lat.min() + 1) * 2048 / 180)
    j0, j1 = int((f_lon.min() - 1 + 180) * 4096 / 360), int((f_lon.max() + 1 + 180) * 4096 / 360)
    ii, jj = np.mgrid[i0:i1, j0:j1]
    lat = 90.0 - (ii + 0.5) * 180.0 / 2048
    lon = -180.0 + (jj + 0.5) * 360.0 / 4096
    c = code[ii, jj].astype(float)
    rad = np.where(c > 0, lo * (hi / lo) ** ((c - 1) / 254.0), 0.0)
    share = led[np.clip(((90.0 - lat) / 0.25).astype(int), 0, 719), ((lon + 180.0) / 0.25).astype(int) % 1440] / 255.0
    assert share.min() < share.max()  # the frame holds France (0.35) and neighbours
    hps, ledc = lights.lamp_rgb_per_nw() @ LUMA
    lum = rad * ((1 - share) * hps + share * ledc)
    p = _teme(scene, lat, lon)
    o = np.asarray(scene.state.r_teme_km, float).reshape(3)
    los = p - o
    s = np.linalg.norm(los, axis=-1)
    u = los / s[..., None]
    phi = np.radians(lat)
    n_itrs = np.stack([np.cos(phi) * np.cos(np.radians(lon)), np.cos(phi) * np.sin(np.radians(lon)), np.sin(phi)], -1)
    n = np.asarray(itrs_to_teme(n_itrs.reshape(-1, 3), scene.state.instants), float).reshape(n_itrs.shape)
    cos_e = -np.sum(u * n, axis=-1)
    # Lights come on from sunset to the end of civil twilight (Sun 6 deg down): the dawn edge.
    sun = np.asarray(scene.body("Sun").dir_teme, float).reshape(3)
    on = np.clip(-(n @ sun) / math.sin(math.radians(6.0)), 0.0, 1.0)
    lum = lum * on
    # Texel area on the ellipsoid: meridional and prime-vertical radii of curvature.
    n_rad = WGS84_A_KM / np.sqrt(1 - WGS84_E2 * np.sin(phi) ** 2)
    m_rad = n_rad * (1 - WGS84_E2) / (1 - WGS84_E2 * np.sin(phi) ** 2)
    area_m2 = (m_rad * math.radians(180.0 / 2048)) * (n_rad * np.cos(phi) * math.radians(360.0 / 4096)) * 1e6
    cam_c = u @ frame.attitude.matrix.T
    x = cx + cam.focal_px * cam_c[..., 0] / cam_c[..., 2]
    y = cy + cam.focal_px * cam_c[..., 1] / cam_c[..., 2]
    inside = (cam_c[..., 2] > 0) & (x > -0.5) & (x < w - 0.5) & (y > -0.5) & (y < h - 0.5) & (cos_e > 0)
    raster_total = float(np.sum((lum * area_m2 * cos_e / (s * 1e3) ** 2)[inside]))
    assert raster_total > 0
    assert frame_total == pytest.approx(raster_total, rel=0.10)


def test_lights_sampled_at_the_ground_under_each_pixel(france):
    scene, cam = france
    frame = render(scene, cam, LIGHTS_ONLY)
    g = frame.geometry
    nl = scene.night_lights
    on = np.minimum(-g.cos_sun_zenith[g.hit].astype(float) / math.sin(math.radians(6.0)), 1.0)[:, None]
    # The sub-texel pattern keeps sqrt(c / (c + a)) of its contrast, a the pixel's footprint in
    # pattern cells: range / focal length, stretched by 1 / sqrt(cos(view zenith)).
    cell_km = math.pi * R_EARTH_KM / 180.0 / (nl.code.shape[0] * nl.detail_sub / 180.0)
    a = g.hit_km[g.hit].astype(float) / cam.focal_px / np.sqrt(np.maximum(g.cos_view_zenith[g.hit].astype(float), 0.05))
    keep = lights.detail_keep(a / cell_km)
    assert 0.3 < float(np.median(keep)) < 0.9  # 24 mm: a pixel is ~0.9 km, a cell ~0.6 km
    expect = nl.rgb_cd_m2(g.lat_deg[g.hit].astype(float), g.lon_deg[g.hit].astype(float), keep) * on
    np.testing.assert_allclose(frame.luminance[g.hit], expect, rtol=1e-4, atol=1e-7)
    assert float(frame.luminance[g.hit].max()) > 0.1  # Paris, Lyon, Marseille: tenths of cd/m^2 and more


def test_same_instant_same_bytes(france):
    scene, cam = france
    a = render(scene, cam).rgb
    b = render(compute_scene(FRANCE_T, camera=cam), cam).rgb
    assert a.tobytes() == b.tobytes()


def test_numba_matches_numpy_reference_with_smear_and_clouds(france):
    scene, _ = france
    cam = Camera(width_px=240, height_px=135, focal_mm=24.0, look=Look("target", lat_deg=46.8, lon_deg=2.4),
                 exposure_s=2.0)
    g = frame_geometry(scene, cam)
    for settings in (RenderSettings(), LIGHTS_ONLY):
        a = city_lights_layer(scene, g, settings=settings)
        b = city_lights_numpy(scene, g, settings)
        assert float(a.max()) > 0
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)


def _synthetic(lat_box, lon_box):
    """A raster lit (code 200, all sodium) only inside the lat/lon box of texel edges given."""
    code = np.zeros((2048, 4096), np.uint8)
    i0, i1 = int(round((90 - lat_box[1]) / 180 * 2048)), int(round((90 - lat_box[0]) / 180 * 2048))
    j0, j1 = int(round((lon_box[0] + 180) / 360 * 4096)), int(round((lon_box[1] + 180) / 360 * 4096))
    code[i0:i1, j0:j1] = 200
    return NightLights.from_codes(code, 1.5, 150.0, np.zeros((720, 1440), np.uint8)), (i1 - i0, j1 - j0)


def test_lights_foreshorten_near_the_limb_by_cos_emission(monkeypatch):
    scene0 = compute_scene(FRANCE_T)
    lat_s, lon_s = float(scene0.state.lat_deg), float(scene0.state.lon_deg)
    # A patch 1,500 km north of the point below the station (the North Sea): seen ~8 deg above
    # its horizon, at an emission angle of ~80 deg.
    lat_c, lon_c = lat_s + 1500.0 / 111.2, lon_s
    dlat = 180.0 / 2048
    n_lat, n_lon = 6, 10
    i_c, j_c = int((90 - lat_c) / dlat), int((lon_c + 180) / (360.0 / 4096))
    box_lat = (90 - (i_c + n_lat // 2) * dlat, 90 - (i_c - n_lat // 2) * dlat)
    box_lon = (-180 + (j_c - n_lon // 2) * 360.0 / 4096, -180 + (j_c + n_lon // 2) * 360.0 / 4096)
    nl, (ni, nj) = _synthetic(box_lat, box_lon)
    monkeypatch.setattr(Scene, "night_lights", property(lambda self: nl))
    centre = (0.5 * (box_lat[0] + box_lat[1]), 0.5 * (box_lon[0] + box_lon[1]))
    cam = Camera(width_px=480, height_px=320, focal_mm=200.0, look=Look("target", lat_deg=centre[0],
                 lon_deg=centre[1]), exposure_s=1 / 1000)
    scene = compute_scene(FRANCE_T, camera=cam)
    img = render(scene, cam, LIGHTS_ONLY).luminance.astype(np.float64) @ LUMA
    assert img.sum() > 0
    yy, xx = np.mgrid[0:cam.height_px, 0:cam.width_px]
    m = img / img.sum()
    mx, my = (m * xx).sum(), (m * yy).sum()
    sx = math.sqrt((m * (xx - mx) ** 2).sum())
    sy = math.sqrt((m * (yy - my) ** 2).sum())
    # Closed form: cross-range extent / range, down-range extent cos(e) / range. On the ground the
    # bilinear patch is a box of n texels convolved with a one-texel tent: var = (n d)^2 / 12 + d^2 / 6.
    phi = math.radians(centre[0])
    d_ns = math.radians(dlat) * WGS84_A_KM * (1 - WGS84_E2) / (1 - WGS84_E2 * math.sin(phi) ** 2) ** 1.5
    d_ew = math.radians(360.0 / 4096) * WGS84_A_KM * math.cos(phi) / math.sqrt(1 - WGS84_E2 * math.sin(phi) ** 2)
    s_ns = math.sqrt((ni * d_ns) ** 2 / 12 + d_ns**2 / 6)
    s_ew = math.sqrt((nj * d_ew) ** 2 / 12 + d_ew**2 / 6)
    p = _teme(scene, *centre)
    o = np.asarray(scene.state.r_teme_km, float).reshape(3)
    u = (o - p) / np.linalg.norm(o - p)
    up = np.asarray(itrs_to_teme(np.array([math.cos(phi) * math.cos(math.radians(centre[1])),
                                           math.cos(phi) * math.sin(math.radians(centre[1])), math.sin(phi)]),
                                 scene.state.instants), float).reshape(3)
    cos_e = float(u @ up)
    assert 0.1 < cos_e < 0.25  # near the limb
    assert (sy / sx) == pytest.approx(cos_e * s_ns / s_ew, rel=0.15)
    # Seen face-on the same patch would be ~cos(e) ** -1 taller: it is squashed ~5-10x.
    assert sx / sy > 4.0


def test_clouds_dim_the_lights_under_them(france, monkeypatch):
    from cupola.phenomena.clouds import Clouds

    scene, cam = france
    clear = render(scene, cam, LIGHTS_ONLY.replace(clouds=True))
    monkeypatch.setattr(Scene, "clouds", property(lambda self: Clouds(np.full((2048, 4096), 255, np.uint8))))
    overcast = render(scene, cam, LIGHTS_ONLY.replace(clouds=True))
    open_sky = render(scene, cam, LIGHTS_ONLY)
    k = RenderSettings().cloud_light_block
    # (Under clouds the texels' radiance is coded again in 255 log steps of 2.5 %: within 1.3 %.)
    np.testing.assert_allclose(overcast.luminance, (1 - k) * open_sky.luminance, rtol=0.013, atol=1e-9)
    assert float(overcast.luminance.sum()) == pytest.approx((1 - k) * float(open_sky.luminance.sum()), rel=2e-3)
    assert float(clear.luminance.sum()) <= float(open_sky.luminance.sum())


def test_no_lights_in_daylight():
    cam = Camera(focal_mm=24.0, width_px=320, height_px=180, look=Look("nadir"), exposure_s=1 / 60)
    sc = compute_scene("2021-05-02T12:00:00Z", camera=cam)
    g = frame_geometry(sc, cam)
    assert bool(np.all(g.cos_sun_zenith[g.hit] > 0))
    assert float(city_lights_layer(sc, g).max()) == 0.0


def test_long_exposures_smear_the_lights_as_the_mean_over_the_exposure(france):
    scene, _ = france
    look = Look("nadir")
    t_exp = 2.0
    cam = Camera(width_px=240, height_px=135, focal_mm=35.0, look=look, exposure_s=t_exp)
    sc = compute_scene(FRANCE_T, camera=cam)
    geom = frame_geometry(sc, cam)
    # The ground under the frame's centre moves at the station's ground speed, ~7 km/s.
    cx, cy = cam.principal_point
    a = ground_latlon(sc, cam, geom.attitude, np.array(cx), np.array(cy), -1.0)
    b = ground_latlon(sc, cam, geom.attitude, np.array(cx), np.array(cy), 1.0)
    arc = math.radians(math.hypot(float(b[0] - a[0]), float(b[1] - a[1]) * math.cos(math.radians(float(a[0])))))
    assert 13.0 < arc * 6371.0 < 15.5
    # Without the sub-texel pattern, which a smear tap (one a texel of path) cannot resolve.
    flat = LIGHTS_ONLY.replace(light_detail=False)
    smeared = render(sc, cam, flat).luminance.astype(np.float64)
    # Brute force: the mean of short exposures along the exposure, each with the untracked camera
    # fixed in the station's frame (Look nadir) at its own instant.
    from cupola.timebase import add_seconds

    t0 = np.datetime64(FRANCE_T.rstrip("Z"), "ns")
    short = Camera(width_px=240, height_px=135, focal_mm=35.0, look=look, exposure_s=1 / 1000)
    offs = np.linspace(-t_exp / 2, t_exp / 2, 41)
    mean = np.mean([render(compute_scene(add_seconds(t0, float(dt)), camera=short), short, flat)
                    .luminance.astype(np.float64) for dt in offs], axis=0)
    assert smeared.sum() == pytest.approx(mean.sum(), rel=0.03)
    assert np.abs(smeared - mean).sum() < 0.1 * mean.sum()
    still = render(sc, short, flat).luminance.astype(np.float64)
    assert np.abs(still - mean).sum() > 2 * np.abs(smeared - mean).sum()
    # With the pattern the smeared frame keeps the same light.
    assert render(sc, cam, LIGHTS_ONLY).luminance.astype(np.float64).sum() == pytest.approx(smeared.sum(), rel=0.03)


def test_sub_texel_pattern_spreads_the_light_and_keeps_it(france):
    """The pattern has mean 1 over its tile and ~1 over each texel; a frame's light is the same with
    and without it (within 3 %), and zoomed in (200 mm, a texel ~70 px) it breaks the texels' soft
    squares into structure: the pixel-to-pixel contrast inside lit texels grows several-fold."""
    tile = lights.light_detail_tile()
    assert tile.shape == (256, 256) and float(tile.mean()) == pytest.approx(1.0, abs=1e-6)
    s = tile.shape[0] // 16
    blocks = tile.reshape(16, s, 16, s).mean(axis=(1, 3))
    assert float(np.abs(blocks - 1).max()) < 0.8 and float(blocks.std()) < 0.25
    scene, cam = france
    on = render(scene, cam, LIGHTS_ONLY).luminance.astype(np.float64).sum()
    off = render(scene, cam, LIGHTS_ONLY.replace(light_detail=False)).luminance.astype(np.float64).sum()
    assert on == pytest.approx(off, rel=0.03)
    tele = Camera(width_px=320, height_px=240, focal_mm=200.0, look=Look("target", lat_deg=45.76, lon_deg=4.84),
                  exposure_s=1 / 1000)
    sc = compute_scene(FRANCE_T, camera=tele)
    y_on = render(sc, tele, LIGHTS_ONLY).luminance.astype(np.float64) @ LUMA
    y_off = render(sc, tele, LIGHTS_ONLY.replace(light_detail=False)).luminance.astype(np.float64) @ LUMA
    lit = y_off[1:, 1:] > 0.1 * y_off.max()
    assert lit.sum() > 1000

    def step(y):
        return np.abs(np.diff(y, axis=0))[:, 1:][lit].mean() / y[1:, 1:][lit].mean()

    assert step(y_on) > 4 * step(y_off)
