"""The camera model of cupola.colour: spectral sensitivities, white balance, colour correction."""

from __future__ import annotations

import numpy as np
import pytest

from cupola import colour
from cupola.errors import InputError


def _hue_deg(rgb):
    r, g, b = np.clip(np.asarray(rgb, float), 0, None) / max(np.max(rgb), 1e-12)
    import colorsys

    return 360.0 * colorsys.rgb_to_hsv(r, g, b)[0]


def test_daylight_renders_neutral_at_its_luminance():
    cam = colour.camera_model()
    rgb = colour.camera_rgb(cam.wavelength_nm, cam.daylight_spd * 3.0)
    # daylight of luminance L -> (L, L, L): compute L independently with the CIE photopic curve.
    lum = colour._luminous_power(cam.wavelength_nm, cam.daylight_spd * 3.0)
    np.testing.assert_allclose(rgb, [lum, lum, lum], rtol=1e-5)  # the bundled matrix has 6 decimals


def test_green_line_is_recorded_green_not_chartreuse(colour_science):
    # The eye: 557.7 nm is chartreuse (CIE 1931 -> sRGB, hue ~ 100 deg); the camera: green
    # (hue 115-140 deg), because the line falls on the green channel alone.
    xyz = colour_science.wavelength_to_XYZ(557.7)
    eye = np.asarray(colour_science.XYZ_to_sRGB(xyz, apply_cctf_encoding=False), float)
    eye = eye - min(eye.min(), 0.0)
    cam = colour.line_rgb_per_cd_m2([557.7])
    assert 85.0 < _hue_deg(eye) < 110.0
    assert 115.0 < _hue_deg(cam) < 140.0
    # The red line stays red; a 3,000 K lamp stays orange.
    red = _hue_deg(colour.line_rgb_per_cd_m2([630.0]))
    assert red < 10.0 or red > 350.0
    assert 15.0 < _hue_deg(colour.blackbody_rgb_unit(3000.0)) < 45.0


def test_colour_checker_through_the_camera_matches_the_eye(colour_science):
    # Broad-band colours: the camera agrees with the eye (CIE -> sRGB) to a few delta E, as the
    # colour-correction matrix was fitted to. Independent: colour-science's own XYZ -> sRGB and CIEDE2000.
    cs = colour_science
    cam = colour.camera_model()
    shape = cs.SpectralShape(380, 780, 5)
    d55 = cs.SDS_ILLUMINANTS["D55"].copy().align(shape)
    chart = cs.SDS_COLOURCHECKERS["BabelColor Average"]
    errs = []
    white_xyz = cs.sd_to_XYZ(cs.sd_ones(shape), illuminant=d55) / 100  # the perfect reflector under D55
    for name, sd in chart.items():
        sd = sd.copy().align(shape)
        power = np.asarray(sd.values, float) * np.asarray(d55.values, float)
        rgb_cam = colour.camera_rgb(cam.wavelength_nm, power)
        rgb_white = colour.camera_rgb(cam.wavelength_nm, np.asarray(d55.values, float))
        xyz = cs.sd_to_XYZ(sd, illuminant=d55) / 100
        d65 = cs.xy_to_XYZ(cs.CCS_ILLUMINANTS["CIE 1931 2 Degree Standard Observer"]["D65"])
        xyz_d65 = cs.chromatic_adaptation(xyz, white_xyz, d65, method="Von Kries", transform="Bradford")
        lab_eye = cs.XYZ_to_Lab(xyz_d65)
        lab_cam = cs.XYZ_to_Lab(cs.sRGB_to_XYZ(rgb_cam / rgb_white[1], apply_cctf_decoding=False))
        errs.append(float(cs.delta_E(lab_eye, lab_cam, method="CIE 2000")))
    assert np.mean(errs) < 2.0 and np.max(errs) < 6.0


def test_white_balance():
    np.testing.assert_array_equal(colour.white_balance_matrix("daylight"), np.eye(3))
    # A black body at the balance temperature renders neutral.
    for k in (3000.0, 4500.0, 8000.0):
        rgb = colour.white_balance_matrix(k) @ colour.blackbody_rgb_unit(k)
        np.testing.assert_allclose(rgb / rgb[1], [1.0, 1.0, 1.0], atol=0.02)
    for bad in ("tungsten", 100.0, float("nan"), "abc"):
        with pytest.raises(InputError, match="white balance"):
            colour.white_balance_matrix(bad)
