"""The deep star field: Hipparcos then Gaia to the exposure's limiting magnitude."""

from __future__ import annotations

import math

import numpy as np
import pytest

from cupola.camera import Camera
from cupola.camera.geometry import project
from cupola.inputs import parse_look
from cupola.photometry import vmag_to_lux
from cupola.render import DEFAULT_SETTINGS, RenderSettings, frame_geometry, render
from cupola.render.points import limiting_vmag
from cupola.render.response import exposure_scale
from cupola.scene import compute_scene
from cupola.sky import stars

# Kernels with a numpy twin: CI reruns this module with CUPOLA_NO_JIT=1 (cupola.jit).
pytestmark = pytest.mark.numpy_twin

NIGHT = "2024-01-19T16:02:54Z"


@pytest.mark.parametrize("v, published", [(6.0, 4_800), (8.0, 41_000), (9.0, 117_000), (10.0, 324_000)])
def test_whole_sky_counts_match_the_published_table(v, published):
    # Cumulative counts of stars brighter than V over the whole sky (Allen's Astrophysical
    # Quantities, 4th ed., Cox 2000, table 19.2 / the classic Seares-van Rhijn counts).
    vmag = stars._field_catalog()[0]
    assert int(np.searchsorted(vmag, v, side="right")) == pytest.approx(published, rel=0.25)


def test_field_directions_match_the_apparent_hipparcos_directions():
    sc = compute_scene(NIGHT)
    cat = stars.catalog(6.0)
    ref = stars.apparent_directions_teme(cat, sc.state).reshape(-1, 3)[np.argsort(cat.vmag, kind="stable")]
    d, v, _ = stars.star_field(sc.state, 6.0)
    assert len(v) == len(cat)
    sep = np.degrees(np.arccos(np.clip(np.sum(d * ref, axis=1), -1, 1))) * 3600
    assert sep.max() < 1.0  # arcsec: the field leaves out parallax only
    # A cone keeps exactly the stars within it.
    axis = -np.asarray(sc.state.r_teme_km, float) / np.linalg.norm(sc.state.r_teme_km)
    dc, vc, _ = stars.star_field(sc.state, 9.0, axis, 20.0)
    da, va, _ = stars.star_field(sc.state, 9.0)
    inside = np.degrees(np.arccos(np.clip(da @ axis, -1, 1))) < 20.0
    assert inside.sum() <= len(vc) and np.all(np.degrees(np.arccos(np.clip(dc @ axis, -1, 1))) < 20.6)
    assert len(vc) - inside.sum() < 0.05 * len(vc)  # only the 0.5 deg margin's stars extra


def test_limiting_magnitude_closed_form():
    # Peak pixel of a star: E f^2 k / (2 pi s^2) against the threshold (noise off: 0.0025), for a core
    # wide enough that the splat's sum over pixels is the Gaussian's integral (bloom off: no wing share).
    cam = Camera(focal_mm=14.0, exposure_s=1.0, iso=6400, f_number=2.8, tracked=True)
    quiet = DEFAULT_SETTINGS.replace(noise=False, psf_sigma_px=0.8, bloom=False)
    s = quiet.psf_sigma_px
    e = 0.0025 * 2 * math.pi * s * s / (exposure_scale(cam) * cam.focal_px ** 2)
    # (the splat's discrete normalisation differs from the integral by e^(-2 pi^2 s^2): 1e-5 mag)
    assert limiting_vmag(cam, quiet) == pytest.approx(-2.5 * math.log10(e / float(vmag_to_lux(0.0))), abs=1e-4)
    # Ten times the exposure: 2.5 mag deeper; with the sensor's read noise a brighter limit.
    longer = Camera(focal_mm=14.0, exposure_s=10.0, iso=6400, f_number=2.8, tracked=True)
    assert limiting_vmag(longer, quiet) - limiting_vmag(cam, quiet) == pytest.approx(2.5, abs=1e-9)
    assert limiting_vmag(cam, quiet.replace(noise=True)) < limiting_vmag(cam, quiet)
    # Bloom takes the wing's 3 % from the peak: 2.5 log10(1 / 0.97) mag brighter.
    assert limiting_vmag(cam, quiet) - limiting_vmag(cam, quiet.replace(bloom=True)) == pytest.approx(
        -2.5 * math.log10(0.97), abs=1e-9)
    # A trail spreads the light: 40 px of trail cost 2.5 log10(40 / (sqrt(2 pi) s)) mag.
    f = cam.focal_px
    rate = 40.0 / (1.0 * f)
    assert limiting_vmag(cam, quiet) - limiting_vmag(cam, quiet, rate) == pytest.approx(
        2.5 * math.log10(40.0 / (math.sqrt(2 * math.pi) * s)), abs=1e-4)


def _peaks(lum, v_min, scale):
    y = lum.sum(axis=-1) * scale
    core = y[1:-1, 1:-1]
    nb = np.max(np.stack([y[1 + di:y.shape[0] - 1 + di, 1 + dj:y.shape[1] - 1 + dj]
                          for di in (-1, 0, 1) for dj in (-1, 0, 1) if di or dj]), axis=0)
    return int(((core >= nb) & (core > v_min)).sum())


def test_star_counts_grow_with_exposure_as_photometry_predicts():
    # A 14 mm tracked frame away from the Earth: the stars drawn and the peaks counted in the
    # render follow the catalogue to the closed-form limit, for 1/100 s to 1 s.
    settings = RenderSettings(layers=("stars",), noise=False)
    counts, expected = [], []
    for t in (0.01, 0.1, 1.0):
        cam = Camera(focal_mm=14.0, exposure_s=t, iso=6400, f_number=2.8, tracked=True, width_px=960, height_px=640,
                     look=parse_look("horizon:behind,60"))
        sc = compute_scene(NIGHT, camera=cam)
        frame = render(sc, cam, settings)
        geom = frame.geometry
        lim = limiting_vmag(cam, settings)
        d, v, _ = stars.star_field(sc.state, lim)
        x, y, front = project(cam, np.asarray(geom.attitude.matrix), d)
        in_frame = front & (x >= 1) & (y >= 1) & (x <= cam.width_px - 2) & (y <= cam.height_px - 2)
        expected.append(int(in_frame.sum()))
        counts.append(_peaks(frame.luminance, 0.5 * 0.0025, exposure_scale(cam)))
    assert expected[0] < expected[1] < expected[2]
    for got, want in zip(counts, expected):
        assert got == pytest.approx(want, rel=0.25)
