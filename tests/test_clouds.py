"""The cloud layer: the map's provenance and orientation, the cloud fraction of a day frame against
the PNG, cloud against clear ocean, moonlit clouds, clouds standing above the limb, and the night
ground without a coastline outline."""

from __future__ import annotations

import io
import math
from types import SimpleNamespace

import numpy as np
import pytest

from cupola.camera import Attitude, Camera, Look
from cupola.camera.geometry import RayGeometry, fast_atan2_np
from cupola.colour import LUMA
from cupola.constants import R_EARTH_KM, WGS84_A_KM, WGS84_B_KM
from cupola.phenomena.clouds import GLOBAL_CLOUD_FRACTION, MAX_OPACITY, ZONAL_CLOUD_FRACTION, Clouds, clouds
from cupola.photometry import E_SUN_LUX
from cupola.render import RenderSettings, earth, frame_geometry, render

# Kernels with a numpy twin: CI reruns this module with CUPOLA_NO_JIT=1 (cupola.jit).
pytestmark = pytest.mark.numpy_twin

DAY_CLOUDY = "2021-05-02T05:54:00Z"  # the station at 3 N 79 E (Indian Ocean), late morning, cloudy
# The Lambertian ground at the texture's full resolution (glint and footprint filter: test_glint.py).
EARTH_BARE = RenderSettings(layers=("earth",), atmosphere=False, glint=False, texture_filter=False)


def _png_opacity():
    """The bundled cloud map read straight from the PNG (test-side), 0..1."""
    from importlib.resources import files

    from PIL import Image

    with Image.open(io.BytesIO(files("cupola.data").joinpath("clouds.png").read_bytes())) as im:
        return np.asarray(im, dtype=np.float64) / 255.0


def test_cloud_map_shape_levels_and_orientation():
    op = _png_opacity()
    assert op.shape == (2048, 4096)
    assert np.unique(op).size <= 64  # 6-bit levels (tools/build_clouds.py)
    np.testing.assert_array_equal(clouds().opacity / 255.0, op)
    # The real cover: the global mean and each 10-degree band's mean opacity against the satellite
    # climatologies' zonal means (phenomena.clouds, with sources); the Southern Ocean's storm belt
    # (50-60 S) cloudier than the subtropics (15-30 N); the Sahara clearer than its latitude.
    lat = 90.0 - (np.arange(2048) + 0.5) * 180.0 / 2048
    lon = -180.0 + (np.arange(4096) + 0.5) * 360.0 / 4096
    w = np.cos(np.radians(lat))[:, None]
    mean = float((op * w).sum() / (w.sum() * 4096))
    assert mean == pytest.approx(GLOBAL_CLOUD_FRACTION, abs=0.02)
    table = np.array(ZONAL_CLOUD_FRACTION)
    for north in range(90, -90, -10):
        band = (lat <= north) & (lat > north - 10)
        want = np.interp(lat[band], table[::-1, 0], table[::-1, 1])
        assert float(op[band].mean()) == pytest.approx(float(want.mean()), abs=0.03), north
    belt = op[(lat < -50) & (lat > -60)].mean()
    subtropics = op[(lat > 15) & (lat < 30)].mean()
    assert belt > subtropics + 0.25
    sahara = op[np.ix_((lat > 18) & (lat < 28), (lon > 0) & (lon < 25))].mean()
    assert sahara < subtropics - 0.1


@pytest.fixture(scope="module")
def cloudy_day():
    cam = Camera(width_px=320, height_px=180, focal_mm=24.0, look=Look("nadir"), exposure_s=1 / 1000)
    from cupola.scene import compute_scene

    scene = compute_scene(DAY_CLOUDY, camera=cam)
    return scene, cam


def test_day_cloud_fraction_matches_the_map_over_a_box(cloudy_day):
    scene, cam = cloudy_day
    on = render(scene, cam, EARTH_BARE)
    off = render(scene, cam, EARTH_BARE.replace(clouds=False))
    g = on.geometry
    assert bool(g.hit.all()) and float(g.cos_sun_zenith.min()) > 0.5  # day, all ground
    y_on, y_off = on.luminance.astype(float) @ LUMA, off.luminance.astype(float) @ LUMA
    # A cloud top reflects cloud_albedo of the sunlight: L = (1 - a) L_ground + a E mu_s rho_c / pi.
    rho_c = RenderSettings().cloud_albedo
    y_cloud = E_SUN_LUX * g.cos_sun_zenith.astype(float) * rho_c / math.pi
    a_view = (y_on - y_off) / (y_cloud - y_off)
    # Undo the slant path (a_v = 1 - (1 - a)^(1 / mu_v)) to get the map's opacity.
    a_map = 1.0 - (1.0 - np.clip(a_view, 0, 1)) ** g.cos_view_zenith.astype(float)
    # A lat/lon box around the point below the station, inside the frame.
    lat0, lon0 = float(scene.state.lat_deg), float(scene.state.lon_deg)
    box = (lat0 - 0.6, lat0 + 0.6, lon0 - 0.8, lon0 + 0.8)
    la, lo = g.lat_deg.astype(float), g.lon_deg.astype(float)
    sel = (la > box[0]) & (la < box[1]) & (lo > box[2]) & (lo < box[3])
    assert sel.sum() > 2000 and not sel[0].any() and not sel[-1].any()  # inside the frame
    # Pixel ground areas: range^2 / (cos(view zenith) cos^3(off-axis angle)).
    cx, cy = cam.principal_point
    yy, xx = np.mgrid[0:cam.height_px, 0:cam.width_px]
    cos_ax = 1.0 / np.sqrt(1.0 + ((xx - cx) ** 2 + (yy - cy) ** 2) / cam.focal_px**2)
    area = g.hit_km.astype(float) ** 2 / (g.cos_view_zenith.astype(float) * cos_ax**3)
    frame_fraction = float((a_map * area)[sel].sum() / area[sel].sum())
    # The map over the same box, texel by texel with cos(lat) areas.
    op = _png_opacity()
    lat = 90.0 - (np.arange(2048) + 0.5) * 180.0 / 2048
    lon = -180.0 + (np.arange(4096) + 0.5) * 360.0 / 4096
    rows = (lat > box[0]) & (lat < box[1])
    cols = (lon > box[2]) & (lon < box[3])
    w = np.cos(np.radians(lat[rows]))[:, None] * np.ones(cols.sum())
    map_fraction = float((op[np.ix_(rows, cols)] * w).sum() / w.sum())
    assert map_fraction > 0.3  # a cloudy region
    assert frame_fraction == pytest.approx(map_fraction, abs=0.03)


def test_clouds_brighter_than_clear_ocean_by_the_reflectance_ratio(cloudy_day):
    scene, cam = cloudy_day
    on = render(scene, cam, EARTH_BARE)
    g = on.geometry
    y = on.luminance.astype(float) @ LUMA
    # Independently: each ray meets the cloud-top shell (6 km up) at p; the map's opacity there,
    # seen along the slant path, mixes the cloud's albedo with the ground's reflectance.
    top = RenderSettings().cloud_top_km
    o = np.asarray(g.origin_teme_km, float)
    d = g.dirs_teme.astype(float)
    k = (WGS84_A_KM + top) / (WGS84_B_KM + top)
    oo, dd = o * [1, 1, k], d * [1, 1, k]
    sn = np.linalg.norm(dd, axis=-1)
    dd /= sn[..., None]
    b = dd @ oo
    t = (-b - np.sqrt(b * b - (oo @ oo - (WGS84_A_KM + top) ** 2))) / sn
    p = o + t[..., None] * d
    n = p / np.array([(WGS84_A_KM + top) ** 2] * 2 + [(WGS84_B_KM + top) ** 2])
    n /= np.linalg.norm(n, axis=-1, keepdims=True)
    th = g.theta_gmst
    # With the renderer's 6e-4 deg polynomial atan2 (a steep cloud edge moves with it).
    lat_c = np.degrees(fast_atan2_np(n[..., 2], np.hypot(n[..., 0], n[..., 1])))
    lon_c = np.degrees(fast_atan2_np(-math.sin(th) * p[..., 0] + math.cos(th) * p[..., 1],
                                     math.cos(th) * p[..., 0] + math.sin(th) * p[..., 1]))
    a_v = 1.0 - (1.0 - clouds().opacity_at(lat_c, lon_c)) ** (1.0 / -np.sum(n * d, axis=-1))
    la, lo = g.lat_deg.astype(float), g.lon_deg.astype(float)
    rho_ground = earth.reflectance_at(la, lo) @ LUMA
    rho_c = RenderSettings().cloud_albedo
    expect = (E_SUN_LUX / math.pi * ((1 - a_v) * rho_ground * g.cos_sun_zenith.astype(float)
                                     + a_v * rho_c * (n @ np.asarray(g.sun_dir_teme, float))))
    np.testing.assert_allclose(y, expect, rtol=2e-3)
    # Against the same pixels without clouds (the open Indian Ocean): the reflectance ratio.
    sea = render(scene, cam, EARTH_BARE.replace(clouds=False)).luminance.astype(float) @ LUMA
    opaque = a_v > 0.98
    assert opaque.sum() > 20
    assert float(np.median(rho_ground[opaque])) < 0.01  # open ocean under those clouds
    np.testing.assert_allclose((y / sea)[opaque], rho_c / rho_ground[opaque], rtol=0.05)
    assert float(np.median((y / sea)[opaque])) > 50


# -- synthetic geometries ---------------------------------------------------------------------------
def _geom(dirs, origin, sun, hit, tangent):
    n = len(dirs)
    shape = (1, n)
    o = np.asarray(origin, float)
    dirs = np.asarray(dirs, float)
    near = []
    for d in dirs:  # the ground hit (a, a, b ellipsoid), for the hit rays
        k = WGS84_A_KM / WGS84_B_KM
        oo, dd = o * [1, 1, k], d * [1, 1, k]
        sn = np.linalg.norm(dd)
        dd = dd / sn
        b = oo @ dd
        disc = b * b - (oo @ oo - WGS84_A_KM**2)
        near.append((-b - math.sqrt(disc)) / sn if disc >= 0 else np.nan)
    near = np.array(near)
    p = o + near[:, None] * dirs
    nrm = p / np.array([WGS84_A_KM**2, WGS84_A_KM**2, WGS84_B_KM**2])
    nrm /= np.linalg.norm(nrm, axis=-1, keepdims=True)
    f32 = lambda v: np.asarray(v, np.float32).reshape(shape)  # noqa: E731
    return RayGeometry(
        camera=Camera(width_px=max(n, 8), height_px=8), attitude=Attitude(np.eye(3)), basis_teme=np.eye(3),
        origin_teme_km=o, sun_dir_teme=np.asarray(sun, float), theta_gmst=0.0,
        dirs_teme=dirs.astype(np.float32).reshape(shape + (3,)), hit=np.asarray(hit).reshape(shape),
        hit_km=f32(np.where(hit, near, np.nan)), lat_deg=f32(np.where(hit, 0.0, np.nan)),
        lon_deg=f32(np.where(hit, 0.0, np.nan)), cos_sun_zenith=f32(np.where(hit, nrm @ sun, np.nan)),
        cos_view_zenith=f32(np.where(hit, -np.sum(nrm * dirs, -1), np.nan)), tangent_km=f32(tangent),
        cos_sun_ray=f32(dirs @ np.asarray(sun, float)))


def _overcast_scene(moon_dir=(0.0, 0.0, 1.0), vmag=math.nan):
    moon = SimpleNamespace(dir_teme=np.asarray(moon_dir, float), vmag=np.float64(vmag),
                           illuminated_fraction=np.float64(0.0))
    return SimpleNamespace(body=lambda name: moon, clouds=Clouds(np.full((2048, 4096), 255, np.uint8)))


def _grazing(heights_km):
    """Rays from a station 420 km above (R, 0, 0)... tangent to spheres of radius R_EQ + h in the
    equatorial plane (where the ellipsoid's radius is a), toward +y."""
    o = np.array([WGS84_A_KM + 420.0, 0.0, 0.0])
    d_o = np.linalg.norm(o)
    dirs = []
    for h in heights_km:
        r = WGS84_A_KM + h
        ang = math.asin(r / d_o)  # between the ray and the direction to the centre
        dirs.append([-math.cos(ang), math.sin(ang), 0.0])
    return o, np.array(dirs)


def test_clouds_stand_above_the_limb_up_to_their_top():
    top = RenderSettings().cloud_top_km
    heights = [1.0, 4.0, top + 1.0, top + 5.0]
    o, dirs = _grazing(heights)
    sun = np.array([0.0, 1.0, 0.0])  # above the tangent points (which lie near +y... at the far side)
    tangent = [h - (R_EARTH_KM - WGS84_A_KM) for h in heights]  # heights above the mean sphere
    g = _geom(dirs, o, sun, hit=np.zeros(4, bool), tangent=tangent)
    out = (earth.earth_layer(_overcast_scene(), g, settings=EARTH_BARE).astype(float) @ LUMA)[0]
    assert out[0] > 0 and out[1] > 0  # the grazing rays meet the cloud tops
    assert out[2] == 0 and out[3] == 0  # above the cloud tops: nothing (no air in this test)
    # Closed form: the ray meets the 6 km shell where its normal makes an angle with the Sun.
    for k in range(2):
        d = dirs[k]
        a_s = WGS84_A_KM + top
        b = o @ d
        t = -b - math.sqrt(b * b - (o @ o - a_s**2))
        n = (o + t * d) / a_s
        assert out[k] == pytest.approx(E_SUN_LUX * (n @ sun) * RenderSettings().cloud_albedo / math.pi, rel=1e-3)


def test_moonlit_clouds_at_night():
    o = np.array([WGS84_A_KM + 420.0, 0.0, 0.0])
    d = np.array([[-1.0, 0.0, 0.0]])
    sun = np.array([-1.0, 0.0, 0.0])  # midnight below the station
    g = _geom(d, o, sun, hit=np.array([True]), tangent=[-1.0])
    full_v = -12.73
    e_moon = 2.54e-6 * 10 ** (-0.4 * full_v)
    lit = earth.earth_layer(_overcast_scene((1.0, 0.0, 0.0), full_v), g, settings=EARTH_BARE)[0, 0]
    dark = earth.earth_layer(_overcast_scene(), g, settings=EARTH_BARE)[0, 0]
    rho_c = RenderSettings().cloud_albedo
    sea_rho = earth.reflectance_at(0.0, 0.0)
    a = MAX_OPACITY  # code 255
    for got, e in ((lit, earth.NIGHT_FLOOR_LUX + e_moon), (dark, earth.NIGHT_FLOOR_LUX)):
        np.testing.assert_allclose(got, e * (a * rho_c + (1 - a) * sea_rho) / math.pi, rtol=1e-4)
    # Moonlit clouds outshine the moonlit sea below them ~100x (0.7 against ~0.005).
    sea = earth.earth_layer(_overcast_scene((1.0, 0.0, 0.0), full_v), g,
                            settings=EARTH_BARE.replace(clouds=False))[0, 0]
    assert float(lit @ LUMA) > 50 * float(sea @ LUMA) > 0


def test_numba_matches_numpy_with_clouds(cloudy_day):
    scene, cam = cloudy_day
    for look, t in ((Look("nadir"), DAY_CLOUDY), (Look("nadir"), "2021-05-02T02:18:00Z")):
        from cupola.scene import compute_scene

        c = Camera(width_px=192, height_px=108, focal_mm=24.0, look=look, exposure_s=1 / 1000)
        sc = compute_scene(t, camera=c)
        g = frame_geometry(sc, c)
        a = earth.earth_layer(sc, g)
        b = earth.earth_layer_numpy(sc, g)
        np.testing.assert_allclose(a, b, rtol=1e-3, atol=1e-6)


# -- no coastline at night ---------------------------------------------------------------------------
def test_no_coastline_outline_at_night():
    # Across the coast of Gabon (2.5 S: rainforest and sea, both dark) at night under a full Moon:
    # the ground is lit alike on both sides, so luminance / reflectance is constant; the old
    # outline added 0.06 of reflectance on the coast cells, more than the forest's own.
    lon = np.linspace(8.0, 12.0, 401)
    lat = np.full_like(lon, -2.5)
    assert earth.coast_fraction_at(lat, lon).max() > 0.5  # the profile crosses the coast
    n = lon.size
    o = np.array([WGS84_A_KM + 420.0, 0.0, 0.0])
    g = RayGeometry(
        camera=Camera(width_px=n, height_px=8), attitude=Attitude(np.eye(3)), basis_teme=np.eye(3),
        origin_teme_km=o, sun_dir_teme=np.array([-1.0, 0.0, 0.0]), theta_gmst=0.0,
        dirs_teme=np.tile(np.array([-1.0, 0.0, 0.0], np.float32), (1, n, 1)), hit=np.ones((1, n), bool),
        hit_km=np.full((1, n), 420.0, np.float32), lat_deg=lat.astype(np.float32)[None],
        lon_deg=lon.astype(np.float32)[None], cos_sun_zenith=np.full((1, n), -0.9, np.float32),
        cos_view_zenith=np.ones((1, n), np.float32), tangent_km=np.full((1, n), -1.0, np.float32),
        cos_sun_ray=np.full((1, n), -1.0, np.float32))
    moon = SimpleNamespace(dir_teme=np.array([1.0, 0.0, 0.0]), vmag=np.float64(-12.7),
                           illuminated_fraction=np.float64(1.0))
    scene = SimpleNamespace(body=lambda name: moon)
    y = earth.earth_layer(scene, g, settings=EARTH_BARE)[0].astype(float) @ LUMA
    rho = earth.reflectance_at(lat, lon) @ LUMA
    ratio = y / rho
    np.testing.assert_allclose(ratio, ratio[0], rtol=1e-4)
    # The previous outline (0.06 of reflectance on the coast cells) would have stood out there as
    # a ridge several times the sea's luminance, which this check would catch.
    coast = earth.coast_fraction_at(lat, lon)
    assert float((rho + 0.06 * coast).max()) > 1.3 * float(rho.max())
