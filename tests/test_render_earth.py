"""Tests for the Earth layer: texture orientation, day/night radiometry, the Rayleigh limb."""

from __future__ import annotations

import importlib.resources
import io
import math
from types import SimpleNamespace

import numpy as np
import pytest
from PIL import Image

from cupola.camera import Attitude, Camera
from cupola.inputs import parse_look
from cupola.render import RenderSettings, earth
from cupola.render.settings import DEFAULT_SETTINGS
from cupola.camera.geometry import RayGeometry

# Kernels with a numpy twin: CI reruns this module with CUPOLA_NO_JIT=1 (cupola.jit).
pytestmark = pytest.mark.numpy_twin

R_KM = 6371.0088  # cupola.view.R_EARTH_KM (the tangent-height sphere)
WGS84_A_KM = 6378.137
H_KM = 8.0
E_SUN = 128_000.0
lux_rel = 1e-5  # relative tolerance for closed forms (float32 arithmetic)
RAYLEIGH_ONLY = RenderSettings(limb_ozone_aerosol=False)


# -- independent reads of the bundled data -------------------------------------------------------
@pytest.fixture(scope="module")
def day_image():
    data = importlib.resources.files("cupola.data").joinpath("earth_day.jpg").read_bytes()
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))


@pytest.fixture(scope="module")
def land_mask():
    data = importlib.resources.files("cupola.data").joinpath("earth_mask.npz").read_bytes()
    return np.load(io.BytesIO(data))["mask"]


def _pixel(img, lat, lon):
    h, w = img.shape[:2]
    return img[int((90.0 - lat) / 180.0 * h), int((lon + 180.0) / 360.0 * w)]


def _texel_centre(img, lat, lon):
    """Return (lat, lon) of the centre of the texel containing (lat, lon), and its value."""
    h, w = img.shape[:2]
    i, j = int((90.0 - lat) / 180.0 * h), int((lon + 180.0) / 360.0 * w)
    return 90.0 - (i + 0.5) * 180.0 / h, -180.0 + (j + 0.5) * 360.0 / w, img[i, j]


def _srgb_decode(code):
    c = np.asarray(code, float) / 255.0
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def test_day_texture_orientation(day_image):
    assert day_image.shape == (2700, 5400, 3)
    sahara = _pixel(day_image, 23.0, 12.0).astype(float)
    pacific = _pixel(day_image, 0.0, -150.0).astype(float)
    greenland = _pixel(day_image, 75.0, -40.0).astype(float)
    assert sahara.mean() > 120 and sahara[0] > sahara[2] + 40  # bright tan
    assert pacific.mean() < 40 and pacific[2] > pacific[0] + 15  # dark blue
    assert greenland.min() > 200  # ice


def test_land_mask_orientation(land_mask):
    assert land_mask.shape == (3600, 7200)
    assert _pixel(land_mask, 48.85, 2.35) & 1 == 1  # Paris
    assert _pixel(land_mask, 45.0, -30.0) & 1 == 0  # North Atlantic
    assert _pixel(land_mask, 23.0, 12.0) & 1 == 1  # Sahara
    assert _pixel(land_mask, 0.0, -150.0) & 1 == 0  # central Pacific
    lf = earth.land_fraction_at(np.array([48.85, 45.0]), np.array([2.35, -30.0]))
    np.testing.assert_allclose(lf, [1.0, 0.0])
    # The coastline bit lies on the land/sea edge: near Brest (48.38 N, 4.49 W) it is set somewhere.
    assert earth.coast_fraction_at(np.linspace(48.2, 48.6, 41), np.full(41, -4.77)).max() > 0.5


def test_reflectance_at_texel_centres(day_image):
    for lat, lon in ((23.0, 12.0), (0.0, -150.0), (75.0, -40.0)):
        la, lo, code = _texel_centre(day_image, lat, lon)
        np.testing.assert_allclose(earth.reflectance_at(la, lo), earth.ALBEDO_SCALE * _srgb_decode(code), rtol=1e-5)


# -- synthetic geometries ------------------------------------------------------------------------
def _geom(n, **kw):
    """Return a (1, n) RayGeometry with defaults (no hit) overridden by keyword arrays."""
    shape = (1, n)

    def arr(name, fill, dtype=np.float32):
        v = kw.get(name)
        return np.full(shape, fill, dtype) if v is None else np.asarray(v, dtype).reshape(shape)

    dirs = kw.get("dirs")
    dirs = np.tile(np.array([1.0, 0.0, 0.0], np.float32), shape + (1,)) if dirs is None else \
        np.asarray(dirs, np.float32).reshape(shape + (3,))
    return RayGeometry(
        camera=Camera(width_px=max(n, 8), height_px=8, fov_deg=0.05), attitude=Attitude(np.eye(3)), basis_teme=np.eye(3),
        origin_teme_km=np.asarray(kw.get("origin", [R_KM + 420.0, 0.0, 0.0]), float),
        sun_dir_teme=np.asarray(kw.get("sun", [1.0, 0.0, 0.0]), float), theta_gmst=0.0, dirs_teme=dirs,
        hit=arr("hit", False, np.bool_), hit_km=arr("hit_km", np.nan), lat_deg=arr("lat_deg", np.nan),
        lon_deg=arr("lon_deg", np.nan), cos_sun_zenith=arr("cos_sun_zenith", np.nan),
        cos_view_zenith=arr("cos_view_zenith", 1.0), tangent_km=arr("tangent_km", -1.0),
        cos_sun_ray=arr("cos_sun_ray", 0.0))


def _scene(moon_dir=(0.0, 0.0, 1.0), vmag=math.nan, fraction=0.0):
    moon = SimpleNamespace(dir_teme=np.asarray(moon_dir, float), vmag=np.float64(vmag),
                           illuminated_fraction=np.float64(fraction))
    return SimpleNamespace(body=lambda name: moon)


def test_day_side_lambertian_closed_form(day_image):
    pts = [_texel_centre(day_image, 23.0, 12.0), _texel_centre(day_image, 75.0, -40.0)]
    cos_sz = [0.8, 0.3]
    g = _geom(2, hit=[True, True], hit_km=[420.0, 900.0], lat_deg=[p[0] for p in pts],
              lon_deg=[p[1] for p in pts], cos_sun_zenith=cos_sz, cos_view_zenith=[1.0, 0.6])
    out = earth.earth_layer(_scene(), g, atmosphere=False)
    for k, (_, _, code) in enumerate(pts):
        rho = earth.ALBEDO_SCALE * _srgb_decode(code)
        np.testing.assert_allclose(out[0, k], E_SUN * rho * cos_sz[k] / math.pi, rtol=lux_rel)
    # Sanity of the calibration: the Sahara's luminous reflectance ~0.35, ice ~0.8.
    y = [0.2126, 0.7152, 0.0722]
    assert 0.25 < np.dot(earth.ALBEDO_SCALE * _srgb_decode(pts[0][2]), y) < 0.45
    assert 0.7 < np.dot(earth.ALBEDO_SCALE * _srgb_decode(pts[1][2]), y) < 0.9


def test_day_side_atmosphere_closed_form(day_image):
    la, lo, code = _texel_centre(day_image, 23.0, 12.0)
    mus, muv, mu_sr = 0.7, 0.5, -0.6
    g = _geom(1, hit=[True], hit_km=[800.0], lat_deg=[la], lon_deg=[lo], cos_sun_zenith=[mus],
              cos_view_zenith=[muv], cos_sun_ray=[mu_sr])
    out = earth.earth_layer(_scene(), g)[0, 0]
    ch90 = math.sqrt(math.pi * R_KM / (2 * H_KM))
    m_s, m_v = 1 / (mus + 1 / ch90), 1 / (muv + 1 / ch90)
    tau = earth.TAU_RAYLEIGH_RGB
    rho = earth.ALBEDO_SCALE * _srgb_decode(code)
    t = np.exp(-tau * (m_s + m_v))
    phase = 0.75 * (1 + mu_sr**2)
    expect = (E_SUN * mus * rho * t / math.pi + E_SUN * phase / (4 * math.pi) * m_v / (m_s + m_v) * (1 - t)
              + 400.0 * earth.twilight_rgb() * rho * np.exp(-tau * m_v) / math.pi)
    np.testing.assert_allclose(out, expect, rtol=2e-4)
    # The haze is blue: path radiance B > G > R.
    path = out - E_SUN * mus * rho * t / math.pi
    assert path[2] > path[1] > path[0]


def _night_geom(cos_sz=-0.8):
    # Straight down onto the point (a, 0, 0): the surface normal is +x.
    return _geom(1, hit=[True], hit_km=[R_KM + 420.0 - WGS84_A_KM], lat_deg=[0.0], lon_deg=[-150.0],
                 cos_sun_zenith=[cos_sz], cos_view_zenith=[1.0], dirs=[-1.0, 0.0, 0.0])


def test_night_side_moonlight_ratio():
    # The point is open sea under the Moon: the Lambertian term alone (moonglint: test_glint.py).
    g = _night_geom()
    lambert = DEFAULT_SETTINGS.replace(glint=False)
    dark = earth.earth_layer(_scene(), g, settings=lambert)[0, 0]
    full_v = -12.73
    full = earth.earth_layer(_scene((1.0, 0.0, 0.0), vmag=full_v), g, settings=lambert)[0, 0]
    below = earth.earth_layer(_scene((-1.0, 0.0, 0.0), vmag=full_v), g, settings=lambert)[0, 0]
    # Moonless: the 2e-3 lx floor on dark ocean is far below 1e-3 cd/m^2.
    assert 0 < dark.max() < 1e-4
    e_moon = 2.54e-6 * 10 ** (-0.4 * full_v)
    np.testing.assert_allclose(full / dark, (2e-3 + e_moon) / 2e-3, rtol=1e-4)
    np.testing.assert_allclose(below, dark, rtol=1e-6)  # a Moon below the ground's horizon adds nothing
    # At 60 deg zenith the Moon gives half.
    tilted = earth.earth_layer(_scene((0.5, math.sqrt(0.75), 0.0), vmag=full_v), g, settings=lambert)[0, 0]
    np.testing.assert_allclose(tilted / dark, (2e-3 + 0.5 * e_moon) / 2e-3, rtol=1e-4)
    # Without a V magnitude, the illuminated fraction times 0.25 lx.
    half = earth.earth_layer(_scene((1.0, 0.0, 0.0), fraction=0.5), g, settings=lambert)[0, 0]
    np.testing.assert_allclose(half / dark, (2e-3 + 0.125) / 2e-3, rtol=1e-4)


def test_twilight_is_between_day_and_night():
    vals = [earth.earth_layer(_scene(), _night_geom(c))[0, 0] for c in (0.05, -0.05, -0.1, -0.3)]
    y = [np.dot(v, [0.2126, 0.7152, 0.0722]) for v in vals]
    assert y[0] > y[1] > y[2] > y[3]
    assert y[2] > 10 * y[3]  # civil twilight is still far brighter than night


def _limb_geom(heights_km, sun):
    """Rays along +x tangent at (0, 0, R + h): one pixel per height."""
    n = len(heights_km)
    o = np.array([-2300.0, 0.0, R_KM + 420.0])
    d = np.linalg.norm(o)
    inward = -o / d
    dirs = []
    for h in heights_km:
        # Rotate the inward direction about +y by the angle asin(r/d) that makes the ray tangent to
        # the sphere of radius r = R + h; keep the rotation whose tangent point has z > 0.
        r = R_KM + h
        c, s = math.sqrt(1 - (r / d) ** 2), r / d
        for sg in (1.0, -1.0):
            v = np.array([c * inward[0] + sg * s * inward[2], 0.0, -sg * s * inward[0] + c * inward[2]])
            t = -o @ v
            if t > 0 and abs(np.linalg.norm(o + t * v) - r) < 1e-6 and (o + t * v)[2] > 0:
                dirs.append(v)
                break
    dirs = np.array(dirs)
    tp = np.array([o + (-o @ v) * v for v in dirs])
    return _geom(n, origin=o, dirs=dirs, tangent_km=list(heights_km), sun=sun,
                 cos_sun_ray=dirs @ np.asarray(sun, float)), tp


def test_limb_scale_height_and_closed_form():
    heights = [10.0, 40.0, 45.0, 75.0]
    # Sun straight above the tangent points (they sit near +z).
    g, tp = _limb_geom(heights, sun=[0.0, 0.0, 1.0])
    # The Rayleigh-only closed form (the ozone and aerosol table off: tests/test_sunrise.py has its own).
    out = earth.earth_layer(_scene(), g, settings=RAYLEIGH_ONLY)[0].astype(float)
    tau = earth.TAU_RAYLEIGH_RGB
    ch90 = math.sqrt(math.pi * R_KM / (2 * H_KM))
    expect = []
    for k, h in enumerate(heights):
        p = tp[k]
        mu = p[2] / np.linalg.norm(p)
        phase = 0.75 * (1 + float(g.cos_sun_ray[0, k]) ** 2)
        h_eff = np.maximum(h, H_KM * np.log(np.maximum(2 * ch90 * tau, 1.0)))
        t_sun = np.exp(-tau * np.exp(-h_eff / H_KM) / (mu + 1 / ch90))
        expect.append(E_SUN * phase / (4 * math.pi) * t_sun * (1 - np.exp(-tau * np.sqrt(2 * math.pi * R_KM / H_KM)
                                                                           * math.exp(-h / H_KM))))
    np.testing.assert_allclose(out, np.array(expect), rtol=1e-3)
    # Thin part of the limb: 30 km higher is exp(-30/8) fainter (within 3 %: residual thickness).
    np.testing.assert_allclose(out[3] / out[2], math.exp(-30.0 / H_KM) * np.ones(3), rtol=0.03)
    # Thick bottom: 10 km vs 40 km is less than the exponential (saturation) but more than 1.
    r = out[0] / out[1]
    assert np.all(r > 1.0) and np.all(r < math.exp(30.0 / H_KM))
    # The daytime limb at its base is a few thousand cd/m^2 and blue at 40 km.
    assert 2_000 < np.dot(out[0], [0.2126, 0.7152, 0.0722]) < 20_000
    assert out[1][2] > out[1][1] > out[1][0]


def test_limb_in_shadow_is_dark_and_cut_above_100_km():
    g, _ = _limb_geom([10.0, 40.0], sun=[0.0, 0.0, -1.0])  # Sun behind the Earth
    assert np.all(earth.earth_layer(_scene(), g) == 0.0)
    g, _ = _limb_geom([101.0, 150.0], sun=[0.0, 0.0, 1.0])
    assert np.all(earth.earth_layer(_scene(), g) == 0.0)
    g, _ = _limb_geom([10.0], sun=[0.0, 0.0, 1.0])
    assert np.all(earth.earth_layer(_scene(), g, atmosphere=False) == 0.0)


# -- a real frame ---------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def day_frame():
    from cupola.render import frame_geometry as ray_geometry
    from cupola.scene import compute_scene

    cam = Camera(model="Z9", focal_mm=24.0, width_px=192, height_px=108, look=parse_look("horizon:ahead,6"),
                 exposure_s=1 / 1000, iso=100, f_number=8)
    scene = compute_scene("2021-05-02T06:10:00Z", camera=cam)
    return scene, ray_geometry(scene)


def test_numba_matches_numpy_reference(day_frame):
    scene, g = day_frame
    a = earth.earth_layer(scene, g)
    b = earth.earth_layer_numpy(scene, g)
    assert a.shape == g.hit.shape + (3,) and a.dtype == np.float32
    np.testing.assert_allclose(a, b, rtol=1e-3, atol=1e-6)


def test_day_frame_limb_band(day_frame):
    scene, g = day_frame
    out = earth.earth_layer(scene, g)
    limb = ~g.hit & (g.tangent_km < 100.0)
    assert g.hit.any() and limb.any()
    # Rays above 100 km stay black; the band is blue where thin (30-60 km).
    assert np.all(out[~g.hit & (g.tangent_km >= 100.0)] == 0.0)
    mid = out[~g.hit & (g.tangent_km > 30.0) & (g.tangent_km < 60.0)]
    assert np.all(mid[:, 2] >= mid[:, 0])


# -- the texture filtered by each pixel's footprint -------------------------------------------------
BARE = DEFAULT_SETTINGS.replace(clouds=False, glint=False)
DAY_T = "2021-05-02T07:10:00Z"  # over Burgundy, the Sun 43 deg up
LUMA_W = np.array([0.2126, 0.7152, 0.0722])


def _reflectance_image(scene, g, settings):
    """Return the reflectance each pixel shows: the bare ground's L pi / E (no haze, clouds, glint)."""
    out = earth.earth_layer(scene, g, settings=settings, atmosphere=False).astype(float)
    e = E_SUN * np.maximum(np.nan_to_num(g.cos_sun_zenith), 0.0) + 2e-3  # + the night floor
    return np.where(g.hit[..., None], out * math.pi / e[..., None], 0.0)


def _frame(focal_mm, look, w=320, h=180, scale=1):
    from cupola.render import frame_geometry
    from cupola.scene import compute_scene

    cam = Camera(model="Z9", focal_mm=focal_mm, width_px=w * scale, height_px=h * scale, look=parse_look(look))
    scene = compute_scene(DAY_T, camera=cam)
    return scene, frame_geometry(scene)


def _high_frequency(y, ok):
    """Mean square of the luminance minus its 3 x 3 mean, over pixels whose 3 x 3 lies in `ok`."""
    from scipy.ndimage import uniform_filter

    inner = uniform_filter(ok.astype(float), 3) > 0.999
    return float(np.mean((y - uniform_filter(y, 3))[inner] ** 2)), inner


def test_texture_filter_matches_a_supersampled_frame_at_14mm():
    # Truth: each pixel the mean of 4 x 4 sub-pixel rays (a camera 4x finer, same field) sampling
    # the full-resolution texture bilinearly: a box filter with no aliasing to speak of.
    look = "horizon:ahead,-5"
    scene, g = _frame(14.0, look)
    _, g4 = _frame(14.0, look, scale=4)
    h, w = g.hit.shape
    fine = _reflectance_image(scene, g4, BARE.replace(texture_filter=False))
    truth = fine.reshape(h, 4, w, 4, 3).mean(axis=(1, 3))
    ok = g.hit & g4.hit.reshape(h, 4, w, 4).all(axis=(1, 3))
    e_truth, inner = _high_frequency(truth @ LUMA_W, ok)
    filtered = _reflectance_image(scene, g, BARE)
    plain = _reflectance_image(scene, g, BARE.replace(texture_filter=False))
    e_filtered, _ = _high_frequency(filtered @ LUMA_W, ok)
    e_plain, _ = _high_frequency(plain @ LUMA_W, ok)
    assert e_plain > 1.3 * e_truth  # point sampling aliases here (so the measure can tell)
    assert 0.8 * e_truth < e_filtered < 1.15 * e_truth  # no moire, and not blurred away
    rms = lambda img: float(np.sqrt(np.mean((((img - truth) @ LUMA_W)[inner]) ** 2)))  # noqa: E731
    assert rms(filtered) < rms(plain)


@pytest.mark.parametrize("focal_mm", [14.0, 50.0])
def test_texture_region_mean_is_the_area_mean(day_image, focal_mm):
    scene, g = _frame(focal_mm, "nadir")
    rho = _reflectance_image(scene, g, BARE)
    # A box of whole texels around the sub-station point: 18 x 24 texels (1.2 x 1.6 deg).
    th, tw = day_image.shape[:2]
    lat0, lon0 = float(scene.state.lat_deg), float(scene.state.lon_deg)
    i0, j0 = int((90.0 - lat0) / 180.0 * th) - 9, int((lon0 + 180.0) / 360.0 * tw) - 12
    lat_n, lat_s = 90.0 - i0 * 180.0 / th, 90.0 - (i0 + 18) * 180.0 / th
    lon_w, lon_e = -180.0 + j0 * 360.0 / tw, -180.0 + (j0 + 24) * 360.0 / tw
    tex = earth.ALBEDO_SCALE * _srgb_decode(day_image[i0:i0 + 18, j0:j0 + 24]) @ LUMA_W
    rows_lat = 90.0 - (i0 + 0.5 + np.arange(18)) * 180.0 / th
    area_mean = float(np.average(tex, weights=np.broadcast_to(np.cos(np.radians(rows_lat))[:, None], tex.shape)))
    inside = g.hit & (g.lat_deg < lat_n) & (g.lat_deg > lat_s) & (g.lon_deg > lon_w) & (g.lon_deg < lon_e)
    assert inside.sum() > 200
    # Each pixel weighs its ground area: r^2 cos^3(off-axis angle) / cos(theta_v).
    c = g.dirs_teme.astype(float) @ np.asarray(g.basis_teme, float)[2]
    weight = g.hit_km.astype(float) ** 2 * c**3 / g.cos_view_zenith.astype(float)
    frame_mean = float(np.average((rho @ LUMA_W)[inside], weights=weight[inside]))
    np.testing.assert_allclose(frame_mean, area_mean, rtol=0.01)


# -- the hard limb's edge --------------------------------------------------------------------------
def _brute_coverage(g, rows, cols, n=32):
    """Return the fraction of each pixel's n x n sub-pixel rays that meet the WGS84 ellipsoid in front."""
    cam = g.camera
    f = cam.focal_px
    cx, cy = cam.principal_point
    basis = np.asarray(g.basis_teme, float)
    off = (np.arange(n) + 0.5) / n - 0.5
    k = WGS84_A_KM / (WGS84_A_KM * (1 - 1 / 298.257223563))
    o = np.asarray(g.origin_teme_km, float) * [1, 1, k]
    out = []
    for i, j in zip(rows, cols):
        xu = (j + off[None, :] - cx) / f
        yv = (i + off[:, None] - cy) / f
        d = xu[..., None] * basis[0] + yv[..., None] * basis[1] + basis[2]
        d = d * [1, 1, k]
        d /= np.linalg.norm(d, axis=-1, keepdims=True)
        b = d @ o
        disc = b * b - (o @ o - WGS84_A_KM**2)
        out.append(np.mean((disc > 0) & (-b - np.sqrt(np.maximum(disc, 0)) > 0)))
    return np.array(out)


@pytest.mark.parametrize("look", ["horizon:ahead,6", "horizon:port,2"])
def test_limb_coverage_is_the_pixels_share_of_the_earth(look):
    from cupola.render import frame_geometry
    from cupola.scene import compute_scene

    cam = Camera(model="Z9", focal_mm=24.0, width_px=192, height_px=108, look=parse_look(look), roll_deg=7.0)
    g = frame_geometry(compute_scene(DAY_T, camera=cam))
    rows, cols, cov, _ = earth.limb_edges(g)
    assert len(rows) > 150
    # A 128 x 128 grid counts a nearly straight edge to within half a row of samples (0.004).
    np.testing.assert_allclose(cov, _brute_coverage(g, rows, cols, 128), atol=0.005)
    # Every pixel of the staircase whose share is fractional is among them.
    h = g.hit
    edge = np.zeros_like(h)
    edge[:, 1:] |= h[:, 1:] != h[:, :-1]
    edge[:, :-1] |= h[:, :-1] != h[:, 1:]
    edge[1:] |= h[1:] != h[:-1]
    edge[:-1] |= h[:-1] != h[1:]
    er, ec = np.nonzero(edge)
    brute = _brute_coverage(g, er, ec)
    listed = set(zip(rows.tolist(), cols.tolist()))
    assert all((r, c) in listed for r, c, b in zip(er, ec, brute) if 0.01 < b < 0.99)


def test_limb_antialias_touches_only_edge_pixels(day_frame):
    scene, g = day_frame
    sharp = earth.earth_layer(scene, g, settings=DEFAULT_SETTINGS.replace(limb_antialias=False)).astype(float)
    soft = earth.earth_layer(scene, g).astype(float)
    rows, cols, cov, _ = earth.limb_edges(g)
    changed = np.abs(soft - sharp).sum(axis=-1) > 0
    edge = np.zeros_like(changed)
    edge[rows, cols] = True
    assert changed.any() and not (changed & ~edge).any()
    # An edge pixel mostly on the Earth keeps most of its own (ground) value, and the reverse.
    for r, c, f in zip(rows, cols, cov):
        w_own = f if g.hit[r, c] else 1.0 - f
        if w_own > 0.9:
            np.testing.assert_allclose(soft[r, c], sharp[r, c], rtol=0.25, atol=1.0)


def test_mip_levels_are_block_means():
    from cupola.raster import box_levels, mip_factors

    assert mip_factors(2700, 5400) == (2, 2, 3, 3, 3)  # 5400 x 2700 down to 50 x 25
    rng = np.random.default_rng(1)
    img = rng.random((36, 72, 3)).astype(np.float32)
    levels = box_levels(img, (2, 3))
    np.testing.assert_allclose(levels[0][4, 7], img[8:10, 14:16].mean(axis=(0, 1)), rtol=1e-6)
    np.testing.assert_allclose(levels[1][2, 5], img[12:18, 30:36].mean(axis=(0, 1)), rtol=1e-5)
    np.testing.assert_allclose(levels[1].mean(axis=(0, 1)), img.mean(axis=(0, 1)), rtol=1e-5)
