"""Airglow and aurora layers: band position against the closed form, darkness, photometry, colours."""

from __future__ import annotations

import dataclasses

import math

import numpy as np
import pytest

from cupola import colour, photometry
from cupola.camera import Camera, Look
from cupola.constants import WGS84_A_KM
from cupola.phenomena import airglow as ag
from cupola.phenomena import emission
from cupola.render import glow
from cupola.render import frame_geometry as ray_geometry
from cupola.scene import compute_scene
from cupola.view import limb_height_above_hard_limb_deg

NIGHT = "2024-01-19T16:02:54Z"
DAY = "2021-05-02T12:00:00Z"  # station sunlit, Sun 63 deg up below it
AURORA_T = "2021-05-02T06:56:00Z"  # Kp 3, the northern oval above the horizon
one_px = 1.0


@pytest.fixture(scope="module")
def night50():
    cam = Camera(focal_mm=50.0, look=Look("horizon"))
    sc = compute_scene(NIGHT, camera=cam)
    return sc, ray_geometry(sc)


def _limb_row(geom, col):
    """First row (from the top) whose ray meets the Earth, minus half a pixel: the hard limb."""
    return float(np.argmax(geom.hit[:, col])) - 0.5


def test_green_band_peak_row_matches_closed_form(night50):
    sc, geom = night50
    cam = geom.camera
    col = cam.width_px // 2
    limb = _limb_row(geom, col)
    # Closed form: the brightest line of sight is tangent 0.765 sigma below the layer's peak; it
    # stands limb_height_above_hard_limb_deg above the hard limb (sphere geometry).
    lay = ag.get_layer("oi_green")
    h_peak = ag.limb_peak_height_km(lay.height_km, lay.fwhm_km)
    delta = math.radians(float(limb_height_above_hard_limb_deg(float(sc.state.alt_km), h_peak)))
    # Pinhole: a ray at angle a above the limb ray lands f (tan(a0) - tan(a0 - delta)) px above it,
    # with a0 the limb ray's angle below the optical axis (vertical plane through the centre column).
    f = cam.focal_px
    a0 = math.atan((limb - cam.principal_point[1]) / f)
    predicted = cam.principal_point[1] + f * math.tan(a0 - delta)
    col_r = glow.airglow_column_rayleigh(sc, geom, "oi_green")[:, col]
    above = col_r[: int(limb)]
    peak = int(np.argmax(above))
    # Sub-pixel peak by a parabola through the three brightest rows.
    y0, y1, y2 = above[peak - 1], above[peak], above[peak + 1]
    peak_f = peak + 0.5 * (y0 - y2) / (y0 - 2 * y1 + y2)
    assert abs(peak_f - predicted) < 2 * one_px
    # The rendered layer's green channel peaks there as well (Na adds a little below).
    img = glow.airglow_layer(sc, geom)
    assert abs(int(np.argmax(img[: int(limb), col, 1])) - predicted) < 3 * one_px
    # And the limb brightness of the green layer is the closed form's (limb_brightening).
    assert y1 == pytest.approx(lay.zenith_rayleigh * ag.limb_brightening(lay.height_km, lay.fwhm_km), rel=0.03)


def test_tables_match_numpy_integration(night50):
    sc, geom = night50
    rng = np.random.default_rng(1)
    i = rng.integers(0, geom.camera.height_px, 300)
    j = rng.integers(0, geom.camera.width_px, 300)
    k = np.array([1.0, 1.0, glow.SCALE_Z])
    d = geom.dirs_teme[i, j].astype(float) * k
    sn = np.linalg.norm(d, axis=-1)
    o = np.asarray(geom.origin_teme_km) * k
    for name in ("oh", "oi_green", "oi_red"):
        ref = ag.layer_emission_along_rays_numpy(o, d / sn[:, None], name, r_earth_km=WGS84_A_KM,
                                                 far_side_extinction=True) / sn
        got = glow.airglow_column_rayleigh(sc, geom, name)[i, j]
        # Linear interpolation on the 0.25 km grid of closest approach: ~1e-3 typically, a few
        # per cent within a grid step of a thin layer's peak or of the ground's edge.
        close = np.isclose(got, ref, rtol=0.01, atol=0.5)
        assert close.mean() > 0.98
        assert np.allclose(got, ref, rtol=0.05, atol=0.5)


def test_airglow_absent_in_daylight():
    cam = Camera(focal_mm=24.0, look=Look("horizon"))
    sc = compute_scene(DAY, camera=cam)
    img = glow.airglow_layer(sc, ray_geometry(sc))
    assert img.shape == (cam.height_px, cam.width_px, 3) and img.dtype == np.float32
    assert float(img.max()) == 0.0


def test_airglow_luminance_scale(night50):
    sc, geom = night50
    y = glow.airglow_layer(sc, geom) @ colour.LUMA
    # Limb glow of a few kR at ~2e-7 cd/m^2 per R: 1e-4 .. 1e-2 cd/m^2.
    assert 1e-4 < float(y.max()) < 1e-2


def test_rayleigh_to_luminance_closed_form():
    # 1 R = 1e10/(4 pi) photons s^-1 m^-2 sr^-1; at 557.7 nm one photon is h c / lambda.
    photon_j = 6.62607015e-34 * 299792458.0 / 557.7e-9
    v = 0.995 + (1.0 - 0.995) * (560.0 - 557.7) / 5.0  # V(555) = 1, V(560) = 0.995
    assert photometry.rayleigh_to_cd_m2(557.7) == pytest.approx(1e10 / (4 * math.pi) * photon_j * 683.0 * v, rel=1e-6)
    assert photometry.rayleigh_to_cd_m2(557.7) == pytest.approx(1.93e-7, rel=0.01)


def test_v_lambda_table_against_colour_science(colour_science):
    sd = colour_science.colorimetry.SDS_LEFS_PHOTOPIC["CIE 1924 Photopic Standard Observer"]
    lam = np.arange(380.0, 781.0, 5.0)
    assert np.allclose(photometry.luminous_efficiency(lam), sd[lam], atol=2e-5)


def test_emission_colours_are_the_camera_s():
    # Each line as the camera records it: the rows are the camera model's colour of the line per
    # cd/m^2 times the line's luminance per rayleigh; N2+ 427.8 nm is blue-violet, 557.7 nm green.
    import colorsys

    rows = emission.aurora_line_luminance_rgb()
    for row, ln in zip(rows, emission.AURORA_LINES):
        expect = colour.line_rgb_per_cd_m2([ln.wavelength_nm]) * photometry.rayleigh_to_cd_m2(ln.wavelength_nm)
        np.testing.assert_allclose(row, expect, rtol=1e-12)
    hue = {ln.name: 360 * colorsys.rgb_to_hsv(*(np.clip(r, 0, None) / np.clip(r, 0, None).max()))[0]
           for r, ln in zip(rows, emission.AURORA_LINES)}
    assert 230 < hue["n2p_blue"] < 290 and 110 < hue["oi_green"] < 140 and (hue["oi_red"] < 10 or hue["oi_red"] > 350)


def test_aurora_in_view_is_drawn_green_above_the_limb():
    cam = Camera(focal_mm=14.0, look=Look("horizon", "north"))
    sc = compute_scene(AURORA_T, camera=cam)
    assert sc.aurora.visible
    geom = ray_geometry(sc)
    img = glow.aurora_layer(sc, geom)
    y = img @ colour.LUMA
    assert float(y.max()) > 1e-3
    i, j = np.unravel_index(np.argmax(y), y.shape)
    assert img[i, j, 1] > img[i, j, 0] and img[i, j, 1] > img[i, j, 2]  # green dominates
    # Nothing at all when the oval is out of view or the activity calibration gives it no light.
    grid = sc.aurora_emission.grid
    assert 0.0 < float(grid.max()) <= 1.0
    dark = dataclasses.replace(sc, _cache={"aurora_emission": dataclasses.replace(sc.aurora_emission,
                                                                                  grid=np.zeros_like(grid))})
    assert float(glow.aurora_layer(dark, geom).max()) == 0.0


def test_aurora_absent_when_not_in_view(night50):
    sc, geom = night50
    assert not sc.aurora.visible
    assert float(glow.aurora_layer(sc, geom).max()) == 0.0


def test_aurora_brightness_follows_activity():
    assert glow.aurora_green_kilorayleigh(18.0) == pytest.approx(0.6)
    assert glow.aurora_green_kilorayleigh(172.0) == pytest.approx(5.73, rel=0.01)
    assert glow.aurora_green_kilorayleigh(1e5) == 50.0


# -- gravity-wave modulation of the shells ----------------------------------------------------------
def test_airglow_wave_field_statistics():
    k, ph = emission.airglow_waves()
    u = np.random.default_rng(5).normal(size=(200_000, 3))
    u /= np.linalg.norm(u, axis=1, keepdims=True)
    m = emission.airglow_wave_factor(u, k, ph)
    assert float(m.mean()) == pytest.approx(1.0, abs=0.01)
    assert float(m.std()) == pytest.approx(emission.AIRGLOW_WAVE_RMS, rel=0.15)
    assert float(m.min()) >= 1.0 - emission.AIRGLOW_WAVE_RMS * math.sqrt(2 * len(ph)) - 1e-12
    # Horizontal wavelengths as documented: |k| = 2 pi R / lambda.
    lam = 2 * math.pi * emission.R_EARTH_KM / np.linalg.norm(k, axis=1)
    assert np.all((lam >= emission.AIRGLOW_WAVE_KM[0]) & (lam <= emission.AIRGLOW_WAVE_KM[1]))


def test_rendered_airglow_carries_the_wave_field(night50, monkeypatch):
    import cupola.scene as scene_mod

    sc, geom = night50
    waved = glow.airglow_layer(sc, geom).astype(float)
    smooth_em = dataclasses.replace(emission.airglow_emission(), wave_rms=0.0)
    monkeypatch.setattr(scene_mod, "airglow_emission", lambda: smooth_em)
    smooth = glow.airglow_layer(sc, geom).astype(float)
    # The modulation is sampled every glow.WAVE_GRID_STEP_PX pixels and interpolated between: at
    # those nodes it is the field evaluated in numpy where each ray meets the 90 km level (scaled
    # sphere), in ITRS.
    step = glow.WAVE_GRID_STEP_PX
    node = np.zeros(smooth.shape[:2], bool)
    node[::step, ::step] = True
    lit = node & (smooth[..., 0] > 1e-3 * smooth[..., 0].max())
    ratio = waved[..., 0][lit] / smooth[..., 0][lit]
    em = emission.airglow_emission()
    kz = glow.SCALE_Z
    d = geom.dirs_teme[lit].astype(float)
    o = np.asarray(geom.origin_teme_km, float)
    ds = d * np.array([1.0, 1.0, kz])
    sn = np.linalg.norm(ds, axis=1)
    os_ = o * np.array([1.0, 1.0, kz])
    tc = -(ds / sn[:, None]) @ os_
    p = np.sqrt(np.maximum(os_ @ os_ - tc * tc, 0.0))
    rw = WGS84_A_KM + em.wave_height_km
    t = np.where(tc > 0, np.where(p < rw, tc - np.sqrt(np.maximum(rw * rw - p * p, 0.0)), tc), 0.0)
    pts = o + (t / sn)[:, None] * d
    th = float(geom.theta_gmst)
    rot = np.array([[math.cos(th), math.sin(th), 0.0], [-math.sin(th), math.cos(th), 0.0], [0.0, 0.0, 1.0]])
    u = pts @ rot.T
    u /= np.linalg.norm(u, axis=1, keepdims=True)
    expected = emission.airglow_wave_factor(u, em.wave_k, em.wave_phase, em.wave_rms)
    np.testing.assert_allclose(ratio, expected, rtol=1e-5)
    assert float(np.std(ratio)) > 0.01  # the frame does show structure
    # Between the nodes, bilinear: never outside the range of the four nodes around a pixel.
    full = np.where(smooth[..., 0] > 0, waved[..., 0] / np.where(smooth[..., 0] > 0, smooth[..., 0], 1), np.nan)
    assert np.nanmin(full) >= 1 - emission.AIRGLOW_WAVE_RMS * math.sqrt(2 * len(em.wave_phase)) - 1e-6


# -- auroral forms ---------------------------------------------------------------------------------
def test_arc_count_and_share():
    assert [emission.arc_count(kp) for kp in (0, 2.4, 2.5, 5, 7.5, 9)] == [2, 2, 3, 4, 5, 5]
    # Together the arcs carry `share` of the band's mean column: integrate their cross-sections over
    # the band (f from 0 to 1) for a 500 km wide band.
    forms = emission.aurora_forms(5.0, 0.0)
    width = 500.0 / emission.R_EARTH_KM
    f = np.linspace(-0.5, 1.5, 200_001)
    c = emission.arc_weight(forms, width)
    z = (f[:, None] - forms.arcs[:, 0][None, :]) * width / forms.sigma_rad
    col = (c * forms.arcs[:, 9] * np.exp(-0.5 * z * z)).sum(axis=1)
    assert float(col.sum() * (f[1] - f[0])) == pytest.approx(forms.share, rel=1e-3)


def _arc_along_ray(em, geom, i, j, n=40_000):
    """Pixel (i, j)'s ray by brute force at n points out to 6,000 km: the distances t (km), the
    heights h as the kernel takes them, the arcs' volume factor and each line's unit profile
    (module docstring of phenomena.emission)."""
    forms = em.forms
    o = np.asarray(geom.origin_teme_km, float)
    d = geom.dirs_teme[i, j].astype(float)
    d /= np.linalg.norm(d)
    t = np.linspace(0.0, 6000.0, n)
    pts = o + t[:, None] * d
    th = float(geom.theta_gmst)
    x = math.cos(th) * pts[:, 0] + math.sin(th) * pts[:, 1]
    y = -math.sin(th) * pts[:, 0] + math.cos(th) * pts[:, 1]
    zc = pts[:, 2]
    lat = np.arctan2(zc, (1 - glow.WGS84_E2) * np.hypot(x, y))
    lon = np.arctan2(y, x)
    # Height above the ellipsoid as the kernel takes it (the sphere of radius a in the z-stretched space).
    h = np.sqrt(x * x + y * y + (zc * glow.SCALE_Z) ** 2) - WGS84_A_KM
    hemi = np.where(lat > 0, 0, 1)
    u = np.stack([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)], axis=-1)
    fr = em.frames[hemi]
    rho = np.arccos(np.clip(np.einsum("nk,nk->n", u, fr[:, 2]), -1, 1))
    phi = np.arctan2(np.einsum("nk,nk->n", u, fr[:, 1]), np.einsum("nk,nk->n", u, fr[:, 0]))
    nphi = em.rings.shape[1]
    kb = ((phi + np.pi) / (2 * np.pi) * nphi).astype(int) % nphi
    r_pole, r_eq = em.rings[hemi, kb, 0], em.rings[hemi, kb, 1]
    width = r_eq - r_pole
    gi = np.clip(((np.degrees(lat) + 90) / em.step_deg).astype(int), 0, em.grid.shape[0] - 1)
    gj = np.clip(((np.degrees(lon) + 180) / em.step_deg).astype(int), 0, em.grid.shape[1] - 1)
    env = em.grid[gi, gj]
    inside = (h >= em.bottom_km) & (h <= em.top_km) & np.isfinite(width) & (env > 0)
    a = forms.arcs
    centre = forms.share * width / (len(a) * forms.sigma_rad * math.sqrt(2 * math.pi))
    vol = np.zeros(n)
    for k in range(len(a)):
        fk = a[k, 0] + a[k, 1] * np.sin(a[k, 2] * phi + a[k, 3]) + a[k, 4] * np.sin(a[k, 5] * phi + a[k, 6])
        z = (rho - (r_pole + fk * width)) / forms.sigma_rad
        ray = 0.5 * (1 + np.sin(a[k, 7] * phi + a[k, 8]))
        ray = 1 - forms.ray_depth + forms.ray_depth * ray**4 * 128 / 35
        vol += centre * a[k, 9] * np.exp(-0.5 * z * z) * ray
    vol = np.where(inside, vol * env, 0.0)
    prof = em.profiles
    eta = np.stack([p[3] * np.exp(-0.5 * ((h - p[0]) / np.where(h < p[0], p[1], p[2])) ** 2) for p in prof])
    return t, h, vol, eta


def _arc_reference(em, geom, i, j, n=40_000):
    """The arcs' columns along pixel (i, j)'s ray by brute force, summed over the ray."""
    t, _, vol, eta = _arc_along_ray(em, geom, i, j, n)
    return (eta * vol).sum(axis=1) * (t[1] - t[0])


def test_arc_kernel_matches_brute_force_integration():
    cam = Camera(focal_mm=14.0, look=Look("horizon", 345.0, 4.0), width_px=480, height_px=270)
    sc = compute_scene(AURORA_T, camera=cam)
    geom = ray_geometry(sc)
    em = sc.aurora_emission
    assert em.forms is not None and em.in_view
    rows, cols = np.arange(0, 270, 3), np.arange(0, 480, 3)
    mask = np.ones((rows.size, cols.size), np.bool_)
    out = np.zeros((rows.size, cols.size, em.profiles.shape[0]))
    o = np.asarray(geom.origin_teme_km, float)
    glow._arc_kernel(geom.dirs_teme, rows, cols, mask, o, glow.SCALE_Z, WGS84_A_KM, glow.WGS84_E2,
                     float(geom.theta_gmst), WGS84_A_KM + em.bottom_km, WGS84_A_KM + em.top_km, em.profiles, em.grid,
                     float(em.step_deg), em.frames, em.rings, em.forms.arcs, em.forms.sigma_rad, em.forms.ray_depth,
                     em.forms.share, glow.ARC_STEPS, glow.ARC_SUBSTEPS, out)
    green = out[..., 0]
    lit = np.argwhere(green > 0.05 * green.max())
    assert len(lit) >= 20
    pick = lit[np.random.default_rng(2).choice(len(lit), 20, replace=False)]
    got = np.array([out[a, b] for a, b in pick])
    ref = np.array([_arc_reference(em, geom, rows[a], cols[b]) for a, b in pick])
    # The kernel: 24 segments per branch, cut in 8 near an arc, each arc's Gaussian integrated exactly
    # for a linear change across a piece, the profiles at its centroid; against 40,000 points along the ray.
    np.testing.assert_allclose(got[:, 0], ref[:, 0], rtol=0.15)
    assert float(np.median(np.abs(got[:, 0] / ref[:, 0] - 1))) < 0.05


def test_aurora_forms_deterministic_and_drifting(monkeypatch):
    cam = Camera(focal_mm=14.0, look=Look("horizon", 345.0, 4.0), width_px=480, height_px=270)
    frames = [glow.aurora_layer(sc, ray_geometry(sc)) for sc in (compute_scene(AURORA_T, camera=cam),
                                                                 compute_scene(AURORA_T, camera=cam))]
    assert np.array_equal(frames[0], frames[1])  # the same instant, the same forms
    # The same view with the forms of 2 s and of an hour later: a small drift, then other forms.
    sc = compute_scene(AURORA_T, camera=cam)
    geom = ray_geometry(sc)
    em = sc.aurora_emission
    seconds = float((np.datetime64(AURORA_T.rstrip("Z"), "ns") - np.datetime64("2000-01-01T12:00:00", "ns"))
                    / np.timedelta64(1, "s"))
    assert np.allclose(em.forms.arcs, emission.aurora_forms(3.0 + 1 / 3, seconds).arcs) or \
        em.forms.arcs.shape[0] == emission.arc_count(sc.aurora_oval.kp)
    change = []
    a = frames[0][..., 1].astype(float)
    for later in (2.0, 3600.0):  # a timelapse interval, and an hour
        moved = dataclasses.replace(em, forms=emission.aurora_forms(float(sc.aurora_oval.kp), seconds + later))
        monkeypatch.setattr(type(sc), "aurora_emission", property(lambda self, m=moved: m))
        b = glow.aurora_layer(sc, geom)[..., 1].astype(float)
        change.append(float(np.abs(b - a).sum() / a.sum()))
    assert 0.0 < change[0] < 0.4 * change[1]


def test_aurora_lower_border_lies_at_the_model_height():
    """The curtains' sharp lower border in a render, converted to height where each pixel's ray
    crosses the curtain, lies within 10 km of the green line's half-maximum height below its peak.

    A 50 mm view along the limb toward seed 2's oval (curtains well above the hard limb). In each
    column the lower border is where the green signal, going up, first reaches half the column's
    peak (interpolated between rows). Where that ray crosses the curtain comes from the model's own
    arc geometry integrated by brute force (the arcs' volume factor along the ray, its maximum), and
    the height there from the ray with the WGS84 ellipsoid (cupola.frames.geodetic), not from the
    kernel."""
    from cupola.frames import geodetic
    cam = Camera(focal_mm=50.0, look=Look("horizon", 335.0, 2.0), width_px=960, height_px=540)
    sc = compute_scene(AURORA_T, camera=cam)
    geom = ray_geometry(sc)
    em = sc.aurora_emission
    green = glow.aurora_layer(sc, geom)[..., 1].astype(float)
    line = em.profiles[0]  # 557.7 nm: peak_km, sigma_below_km, ...
    want = line[0] - line[1] * math.sqrt(2.0 * math.log(2.0))  # 100.6 km
    th = float(geom.theta_gmst)
    c, s = math.cos(th), math.sin(th)
    heights, widths = [], []
    for j in range(150, 950, 25):
        col = green[:, j]
        if col.max() < 0.2 * green.max():
            continue
        k = int(np.argmax(col))
        below = np.nonzero(col[k:] < 0.5 * col[k])[0]  # rows grow downward: below the peak
        if not below.size:
            continue
        r1 = k + int(below[0])  # first row under half the peak; r1 - 1 is over it
        f = (col[r1 - 1] - 0.5 * col[k]) / (col[r1 - 1] - col[r1])
        hs = []
        for r in (r1 - 1, r1):
            t, _, vol, _ = _arc_along_ray(em, geom, r, j, n=20_000)
            d = geom.dirs_teme[r, j].astype(float)
            p = np.asarray(geom.origin_teme_km, float) + t[int(np.argmax(vol))] * d / np.linalg.norm(d)
            itrs = np.array([c * p[0] + s * p[1], -s * p[0] + c * p[1], p[2]])
            hs.append(float(geodetic(itrs)[2]))
        heights.append(hs[0] + f * (hs[1] - hs[0]))
        tenth = np.nonzero(col[k:] < 0.1 * col[k])[0]
        widths.append(int(tenth[0]) - int(below[0]) if tenth.size else 99)
    heights = np.array(heights)
    assert heights.size >= 12
    assert abs(float(np.median(heights)) - want) <= 10.0, heights
    assert float(np.mean(np.abs(heights - want) <= 10.0)) >= 0.8, heights
    # Sharp: from half to a tenth of the peak within a few rows (~1.4 km a row at 2,000 km).
    assert float(np.median(widths)) <= 8, widths
