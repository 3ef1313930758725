"""The lens: PSF core (Airy, defocus, pixel), the veiling-glare wing, the Sun's glare, bloom, vignetting."""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import scipy.integrate as si
import scipy.optimize as so
import scipy.special as sp

from cupola.camera import Camera, Look
from cupola.photometry import SUN_CD_M2
from cupola.render import DEFAULT_SETTINGS, optics, points
from cupola.render import frame_geometry as ray_geometry
from cupola.scene import compute_scene
from cupola.sky.stars import icrs_to_teme

# Kernels with a numpy twin: CI reruns this module with CUPOLA_NO_JIT=1 (cupola.jit).
pytestmark = pytest.mark.numpy_twin

DAY = "2021-05-02T12:00:00Z"  # the Sun above the limb
ETA = 0.03  # the wing's share (RenderSettings.psf_wing_fraction)
BETA = 2.5  # its slope
A_RAD = math.radians(0.02)  # its shoulder
GREEN_UM = 0.53
DATA = Path(__file__).parents[1] / "src" / "cupola" / "data" / "lens_vignetting.json"


def _wing(theta):
    """The wing, written out: (beta - 2) a^(beta - 2) / (2 pi) (theta^2 + a^2)^(-beta / 2) per sr."""
    return (BETA - 2) * A_RAD ** (BETA - 2) / (2 * math.pi) * (np.asarray(theta) ** 2 + A_RAD ** 2) ** (-BETA / 2)


# -- the core --------------------------------------------------------------------------------------------------
def test_airy_first_zero_and_its_gaussian_fit():
    # The Airy pattern's first dark ring: the first zero of J1 over pi, in units of lambda N.
    x0 = float(sp.jn_zeros(1, 1)[0])
    cam = Camera(f_number=8.0)
    np.testing.assert_allclose(optics.airy_first_zero_um(cam), x0 / math.pi * np.array([0.6, 0.53, 0.46]) * 8.0,
                               rtol=1e-3)
    # The Gaussian that fits the Airy central lobe best (least squares, peaks equal) has sigma 0.42 lambda N.
    r = np.linspace(1e-6, x0 / math.pi, 400)
    airy = (2 * sp.j1(math.pi * r) / (math.pi * r)) ** 2
    fit = so.minimize_scalar(lambda s: np.sum((airy - np.exp(-r * r / (2 * s * s))) ** 2 * r), bounds=(0.2, 0.6),
                             method="bounded").x
    no_defocus = DEFAULT_SETTINGS.replace(lens_defocus_um=0.0)
    assert optics.lens_sigma_um(cam, no_defocus)[1] == pytest.approx(fit * GREEN_UM * 8.0, rel=0.01)


def _splat_sigma(cam, settings):
    """Draw one star at the frame's centre (a quarter pixel off) and return its measured sigma (px)."""
    h, w = cam.height_px, cam.width_px
    geom = SimpleNamespace(camera=cam, hit=np.zeros((h, w), bool))
    out = np.zeros((h, w, 3), np.float32)
    cx, cy = cam.principal_point
    x0, y0 = cx + 0.25, cy - 0.1
    points.splat(out, geom, [[x0]], [[y0]], [[True]], 1e-3, [1.0, 1.0, 1.0], optics.star_sigma_px(cam, settings),
                 False, settings)
    img = out[..., 1].astype(float)
    ii, jj = np.indices(img.shape)
    return math.sqrt((img * (jj - x0) ** 2).sum() / img.sum())


@pytest.mark.parametrize("f_number", [1.4, 4.0, 16.0])
def test_star_core_is_diffraction_defocus_and_pixel_in_quadrature(f_number):
    # A strip 6,000 px wide: the D5's 35.9 mm at 6 um a pixel, where the lens's blur is comparable to a pixel.
    cam = Camera(model="D5", width_px=6000, height_px=16, f_number=f_number, focal_mm=50.0)
    pitch_um = 35.9 / 6000 * 1000
    airy_um = 0.42 * GREEN_UM * f_number
    defocus_um = DEFAULT_SETTINGS.lens_defocus_um / f_number / 4.0  # blur disc dz / N, sigma a quarter of it
    expected = math.sqrt((airy_um ** 2 + defocus_um ** 2) / pitch_um ** 2 + 1 / 12)
    assert optics.star_sigma_px(cam, DEFAULT_SETTINGS) == pytest.approx(expected, rel=1e-9)
    assert _splat_sigma(cam, DEFAULT_SETTINGS) == pytest.approx(expected, rel=0.03)
    # The setting overrides the lens.
    assert _splat_sigma(cam, DEFAULT_SETTINGS.replace(psf_sigma_px=1.5)) == pytest.approx(1.5, rel=0.03)


REAL_PHOTO = Path("/work/shared/data/photos/ISS030-E-130515.jpg")


@pytest.mark.skipif(not REAL_PHOTO.exists(), reason="the shared photo is not on this machine")
def test_star_core_matches_the_stars_of_a_real_iss_photo():
    """The lens's core at the real photo's settings (D3S, 24 mm f/1.4, 4256 px) against the stars measured
    in it: second-moment sigma of the unsaturated stars in the sky above the airglow, with the variance of
    its ~3 px trail (L^2 / 12, the tracking check of cupola annotate) taken out."""
    from PIL import Image
    from scipy import ndimage

    im = np.asarray(Image.open(REAL_PHOTO).convert("L"), float)[450:900, 1500:3000]
    d = im - ndimage.median_filter(im, 15)
    lab, _ = ndimage.label(d > 40)
    sig = []
    for sl in ndimage.find_objects(lab):
        y0, x0 = sl[0].start - 4, sl[1].start - 4
        w = d[max(y0, 0):y0 + 12, max(x0, 0):x0 + 12].clip(0)
        if y0 < 0 or x0 < 0 or w.sum() < 300 or w.max() > 240:  # edges, faint or saturated
            continue
        yy, xx = np.indices(w.shape)
        cy, cx = (w * yy).sum() / w.sum(), (w * xx).sum() / w.sum()
        sig.append(math.sqrt((w * ((yy - cy) ** 2 + (xx - cx) ** 2)).sum() / w.sum() / 2))
    assert len(sig) > 50
    measured = math.sqrt(float(np.median(sig)) ** 2 - 3.0 ** 2 / 12 / 2)  # the trail's variance, per axis
    cam = Camera(model="D5", width_px=4256, height_px=2832, focal_mm=24.0, f_number=1.4)
    assert optics.star_sigma_px(cam, DEFAULT_SETTINGS) == pytest.approx(measured, rel=0.2)


def test_star_core_sharpens_then_blurs_as_the_lens_stops_down():
    cam = Camera(model="D5", width_px=6000, height_px=16, focal_mm=50.0)
    s = [optics.star_sigma_px(cam.replace(f_number=n), DEFAULT_SETTINGS) for n in (1.4, 2.8, 5.6, 11.0, 22.0)]
    best = int(np.argmin(s))
    assert 0 < best < len(s) - 1  # defocus dominates wide open, diffraction stopped down


# -- the wing -----------------------------------------------------------------------------------------------
def test_wing_integrates_to_one_and_its_share_within_an_angle():
    ring = lambda t: 2 * math.pi * t * _wing(t)  # noqa: E731
    total = si.quad(ring, 0, 100 * A_RAD, limit=400, points=[A_RAD])[0] + si.quad(ring, 100 * A_RAD, np.inf)[0]
    assert total == pytest.approx(1.0, rel=1e-6)
    for deg in (0.05, 1.0, 30.0):
        t = math.radians(deg)
        within, _ = si.quad(ring, 0, t, limit=400, points=[A_RAD] if t > A_RAD else None)
        assert float(optics.wing_within(t, DEFAULT_SETTINGS)) == pytest.approx(within, rel=1e-6)
        assert float(optics.wing(t, DEFAULT_SETTINGS)) == pytest.approx(float(_wing(t)), rel=1e-12)


def _sky_look(sc, dir_teme):
    d = icrs_to_teme(sc.state.instants).T @ np.asarray(dir_teme, float)
    return Look("sky", ra_deg=math.degrees(math.atan2(d[1], d[0])) % 360.0, dec_deg=math.degrees(math.asin(d[2])))


def _frame_off_the_sun(off_deg, focal_mm=24.0):
    """A DAY scene and the geometry of a camera aimed `off_deg` from the Sun (the Sun above the frame)."""
    sc = compute_scene(DAY)
    sun = sc.body("Sun")
    s = np.asarray(sun.dir_teme, float).reshape(3)
    # Tilt the Sun direction by off_deg about any axis perpendicular to it.
    perp = np.cross(s, [0.0, 0.0, 1.0])
    perp /= np.linalg.norm(perp)
    t = math.radians(off_deg)
    aim = math.cos(t) * s + math.sin(t) * np.cross(perp, s)
    cam = Camera(focal_mm=focal_mm, width_px=480, height_px=270, look=_sky_look(sc, aim), exposure_s=1 / 1000,
                 iso=100, f_number=8.0)
    sc = dataclasses.replace(sc, camera=cam)
    return sc, ray_geometry(sc, cam, force=True), s


@pytest.mark.parametrize("off_deg", [55.0, 75.0])
def test_a_sun_outside_the_frame_adds_the_wing_integral_over_the_frame(off_deg):
    sc, geom, s = _frame_off_the_sun(off_deg)
    cam = geom.camera
    frac = float(sc.lighting.sun_fraction)
    assert frac > 0.99
    img = points.sun_layer(sc, geom)[..., 1].astype(float)
    # The test's own rays: pinhole directions of each pixel's centre and each pixel's solid angle.
    basis = np.asarray(geom.basis_teme, float)
    ii, jj = np.indices(img.shape)
    cx, cy = cam.principal_point
    u, v = (jj - cx) / cam.focal_px, (ii - cy) / cam.focal_px
    d = u[..., None] * basis[0] + v[..., None] * basis[1] + basis[2]
    norm = np.linalg.norm(d, axis=-1)
    omega = 1.0 / (cam.focal_px ** 2 * norm ** 3)  # sr: cos^3 / f^2
    theta = np.arctan2(np.linalg.norm(np.cross(d, s), axis=-1), d @ s)
    assert theta.min() > math.radians(off_deg - 45.0)  # the Sun is outside the frame (half-diagonal 41 deg)
    r_sun = math.radians(float(sc.body("Sun").radius_deg))
    e_sun = SUN_CD_M2 * math.pi * r_sun ** 2 * frac * math.cos(math.radians(off_deg))  # disc x front element
    expected = ETA * e_sun * float((_wing(theta) * omega).sum())  # lux the wing puts on the frame
    got = float((img * omega).sum())
    assert got == pytest.approx(expected, rel=0.02)
    # Smooth: no pixel jumps against its neighbour more than the wing's slope allows.
    assert np.all(img > 0.0) and np.abs(np.diff(np.log(img), axis=1)).max() < 0.05


def test_no_glare_from_a_sun_behind_the_lens():
    sc, geom, _ = _frame_off_the_sun(135.0, focal_mm=50.0)
    assert float(points.sun_layer(sc, geom).max()) == 0.0


# -- bloom --------------------------------------------------------------------------------------------------
def _point_frame(cam, lum=1000.0, at=None):
    img = np.zeros((cam.height_px, cam.width_px, 3), np.float32)
    i, j = at or (cam.height_px // 2, cam.width_px // 2)
    img[i, j] = lum
    return img, i, j


def test_bloom_moves_light_without_making_it_and_follows_the_wing():
    cam = Camera(focal_mm=24.0, width_px=1920, height_px=1080)
    img, i, j = _point_frame(cam)
    before = img.astype(float).sum()
    out = optics.bloom(img.copy(), cam, DEFAULT_SETTINGS)
    after = out.astype(float).sum()
    assert after == pytest.approx(before, rel=0.01)
    # What leaves the frame is the wing beyond its edges: at least the wing beyond the farthest corner.
    f = cam.focal_px
    assert after < before * (1 - ETA * (1 - float(optics.wing_within(math.atan(1102 / f), DEFAULT_SETTINGS))))
    assert after > before * (1 - ETA * (1 - float(optics.wing_within(math.atan(540 / f), DEFAULT_SETTINGS))))
    # The core keeps 1 - eta of the light; the halo at r px is eta L w(r / f) / f^2 (per pixel of 1 / f^2 sr).
    assert out[i, j, 1] > (1 - ETA) * 1000.0
    for r in (24, 40, 120, 400):  # beyond four blocks (the halo is bilinear between block centres)
        ring = np.mean([out[i + di, j + dj, 1] for di, dj in ((0, r), (0, -r), (r, 0), (-r, 0))])
        assert ring == pytest.approx(ETA * 1000.0 * float(_wing(r / f)) / f ** 2, rel=0.12), r


def test_bloom_is_energy_neutral_on_a_flat_field_and_off_when_asked():
    cam = Camera(focal_mm=50.0, width_px=320, height_px=240)
    flat = np.full((240, 320, 3), 5.0, np.float32)
    out = optics.bloom(flat.copy(), cam, DEFAULT_SETTINGS)
    # Far from the edges a uniform scene stays uniform (what a pixel loses, its neighbours give back).
    np.testing.assert_allclose(out[100:140, 140:180], 5.0, rtol=2e-3)
    assert out[0, 0, 0] < out[120, 160, 0]  # the corner loses the wing that would come from beyond
    np.testing.assert_array_equal(optics.bloom(flat.copy(), cam, DEFAULT_SETTINGS.replace(bloom=False)), flat)


@pytest.mark.parametrize("vignetting", [False, True])
def test_lens_kernel_matches_its_numpy_twin(monkeypatch, vignetting):
    cam = Camera(focal_mm=24.0, width_px=203, height_px=117, exposure_s=1 / 30, iso=800, f_number=2.0)
    settings = DEFAULT_SETTINGS.replace(vignetting=vignetting)
    rng = np.random.default_rng(3)
    img = rng.uniform(0.0, 0.5, (117, 203, 3)).astype(np.float32)
    img[20:23, 30:34] = 5e3  # a bright light
    img[50, 60] = 2e9  # a Sun-like pixel: clipped, not spread
    a = optics.apply_lens(img.copy(), cam, settings)
    assert (a[10:35, 20:45] > img[10:35, 20:45] * 1.01).mean() > 0.5  # the light's halo
    monkeypatch.setenv("CUPOLA_NO_JIT", "1")
    b = optics.apply_lens(img.copy(), cam, settings)
    np.testing.assert_allclose(a, b, rtol=2e-5, atol=2e-4)  # float32 block sums and FFT
    v = 1.0 if not vignetting else float(optics.vignetting_for(cam).at(math.hypot(60 - 101, 50 - 58)))
    assert a[50, 60, 0] == pytest.approx(v * (2e9 - ETA * optics.BLOOM_CLIP_CD_M2), rel=1e-5)


# -- vignetting ---------------------------------------------------------------------------------------------
def _flat_sensor(cam):
    """The light a flat field of 1 cd/m^2 leaves on the sensor through `cam`'s lens (vignetting only)."""
    lum = np.ones((cam.height_px, cam.width_px, 3), np.float32)
    return optics.apply_lens(lum, cam, DEFAULT_SETTINGS.replace(bloom=False))[..., 1].astype(float)


def test_vignetting_corner_to_centre_is_the_lensfun_polynomial():
    table = json.loads(DATA.read_text())
    lens = next(x for x in table["lenses"] if x["focal_mm"] == 14.0)
    k = lens["k"][lens["f_numbers"].index(2.8)]
    cam = Camera(model="Z9", focal_mm=14.0, width_px=960, height_px=540, f_number=2.8)
    vig = optics.vignetting_for(cam, DEFAULT_SETTINGS)
    v = _flat_sensor(cam)
    # A pixel's centre in mm on the sensor over the calibration frame's half-diagonal (36 x 24 mm).
    pitch_mm = min(35.9 / 960, 23.9 / 540)

    def lensfun_pa(r_px):
        r = r_px * pitch_mm / (0.5 * math.hypot(36.0, 24.0))
        return 1 + k[0] * r ** 2 + k[1] * r ** 4 + k[2] * r ** 6

    corner = lensfun_pa(math.hypot(479.5, 269.5)) / lensfun_pa(math.hypot(0.5, 0.5))  # pixel (269, 479) at centre
    assert v[0, 0] / v[269, 479] == pytest.approx(corner, rel=1e-4)
    assert 0.1 < corner < 0.5  # a 14 mm wide open: ~2 stops at the corners
    # Stopped down between two calibrated apertures: between their corner values.
    mid = _flat_sensor(cam.replace(f_number=4.7))
    at = [_flat_sensor(cam.replace(f_number=n)) for n in (4.0, 5.6)]
    lo, hi = sorted(x[0, 0] / x[269, 479] for x in at)
    assert lo <= mid[0, 0] / mid[269, 479] <= hi


def test_vignetting_matches_lensfun_itself():
    lensfunpy = pytest.importorskip("lensfunpy")
    db = lensfunpy.Database()
    lf_cam = db.find_cameras("Nikon Corporation", "Nikon D5")[0]
    lf_lens = db.find_lenses(lf_cam, "Nikon", "Nikkor AF-S 24mm f/1.8G ED")[0]
    w, h = 360, 240  # a 3:2 frame: the whole sensor, as lensfun assumes
    mod = lensfunpy.Modifier(lf_lens, 1.0, w, h)
    mod.initialize(24.0, 2.8, 1000.0, pixel_format=np.float32)
    gain = np.ones((h, w, 3), np.float32)
    assert mod.apply_color_modification(gain)  # lensfun corrects: it multiplies by 1 / V
    cam = Camera(model="FF", focal_mm=24.0, width_px=w, height_px=h, f_number=2.8)
    v = _flat_sensor(cam)
    # (within 1.5 %: lensfun places pixel centres and scales the crop factor slightly differently at the corners)
    np.testing.assert_allclose(v / v[h // 2, w // 2], 1.0 / gain[..., 1], rtol=0.015)


def test_vignetting_without_a_calibration_is_cos4():
    cam = Camera(focal_mm=35.0, width_px=400, height_px=300)
    vig = optics.vignetting_for(cam)
    assert vig.cos4 and vig.lens == ""
    v = _flat_sensor(cam)
    def cos4(r_px):
        return math.cos(math.atan(r_px / cam.focal_px)) ** 4

    assert v[0, 0] / v[150, 200] == pytest.approx(cos4(math.hypot(199.5, 149.5)) / cos4(math.hypot(0.5, 0.5)), rel=1e-6)
    assert optics.vignetting_for(cam, DEFAULT_SETTINGS.replace(vignetting=False)) is None


def test_the_frame_is_vignetted_once():
    # The 50 mm f/1.2 wide open: the corners of a flat sky more than a stop darker, and only through the lens.
    cam = Camera(model="Z9", focal_mm=50.0, width_px=256, height_px=144, f_number=1.2)
    v = _flat_sensor(cam)
    assert v[0, 0] < 0.5 * v[72, 128]
    assert optics.apply_lens(np.ones((144, 256, 3), np.float32), cam,
                             DEFAULT_SETTINGS.replace(bloom=False, vignetting=False)).min() == 1.0
