"""Camera: presets, pointing modes and the pinhole projection, against closed forms."""

from __future__ import annotations

import numpy as np
import pytest

from cupola.camera import Camera, Look, pixel_rays, pointing_basis, project
from cupola.camera import parse_look as parse_look_numbers
from cupola.errors import InputError
from cupola.frames import geodetic_to_itrs, itrs_to_teme
from cupola.orbit import Satellite
from cupola.inputs import parse_look
from cupola.sky.stars import icrs_to_teme
from cupola.view import horizon_dip_deg, local_horizontal_basis

T = "2024-01-19T16:02:54Z"


@pytest.fixture(scope="module")
def state():
    return Satellite.from_archive().at(T)


def test_lens_and_sensor_give_the_textbook_field_of_view():
    # 24 mm on a 36 x 24 mm sensor: 2 atan(18 / 24) = 73.7 deg horizontally (3:2 image).
    cam = Camera(model="FF", focal_mm=24.0, width_px=3000, height_px=2000)
    assert cam.fov_h_deg == pytest.approx(2 * np.degrees(np.arctan(18.0 / 24.0)), abs=1e-6)
    # A 16:9 crop keeps the full width: same horizontal field, smaller vertical one.
    wide = Camera(model="FF", focal_mm=24.0, width_px=1920, height_px=1080)
    assert wide.fov_h_deg == pytest.approx(cam.fov_h_deg, abs=1e-6)
    assert wide.fov_v_deg == pytest.approx(2 * np.degrees(np.arctan(18.0 / 24.0 * 1080 / 1920)), abs=1e-6)
    assert Camera(fov_deg=90.0, width_px=1000, height_px=500).focal_px == pytest.approx(500.0)
    assert Camera(model="Z9", focal_mm=400.0).fov_h_deg == pytest.approx(5.14, abs=0.01)


@pytest.mark.parametrize(
    "text, look",
    [
        ("nadir", Look("nadir")),
        ("horizon:30", Look("horizon", 30.0)),
        ("horizon:north", Look("horizon", "north")),
        ("horizon:ahead", Look("horizon", "ahead")),
        ("horizon:starboard,2.5", Look("horizon", "starboard", 2.5)),
        ("target:48.85,2.35", Look("target", lat_deg=48.85, lon_deg=2.35)),
        ("sky:101.29,-16.72", Look("sky", ra_deg=101.29, dec_deg=-16.72)),
    ],
)
def test_parse_look(text, look):
    assert parse_look(text) == look


@pytest.mark.parametrize(
    "text, match",
    [
        ("sideways", "unknown pointing 'sideways'"),
        ("target:91,0", "latitude 91 is outside"),
        ("target:10", "needs 2 numbers"),
        ("sky:10,95", "declination 95 is outside"),
        ("horizon:abc", "cannot read the azimuth"),
    ],
)
def test_bad_looks_name_the_value_and_the_fix(text, match):
    with pytest.raises(InputError, match=match):
        parse_look(text)


@pytest.mark.parametrize(
    "kw, match",
    [
        ({"model": "D700"}, "unknown camera 'D700'"),
        ({"exposure_s": 0.0}, r"the exposure must be a number from 1e-06 to 3,600 s, got 0.0"),
        ({"exposure_s": float("inf")}, r"the exposure must be a number from 1e-06 to 3,600 s, got inf"),
        ({"width_px": 4}, "image size 4x1080"),
        ({"width_px": 640.5}, "image size 640.5x1080 is out of range .whole numbers"),
        ({"focal_mm": -5.0}, r"the focal length must be a number from 1 to 10,000 mm, got -5.0"),
        ({"focal_mm": float("nan")}, r"the focal length must be a number from 1 to 10,000 mm, got nan"),
        ({"fov_deg": 0.0}, r"the field of view must be a number from 0.01 to 179 deg, got 0.0"),
        ({"iso": 0.5}, r"the ISO sensitivity must be a number from 1 to 10,000,000, got 0.5"),
        ({"iso": float("inf")}, r"the ISO sensitivity must be a number from 1 to 10,000,000, got inf"),
        ({"f_number": 0.0}, r"the f-number must be a number from 0.5 to 128, got 0.0"),
        ({"f_number": -2.8}, r"the f-number must be a number from 0.5 to 128, got -2.8"),
        ({"roll_deg": float("nan")}, r"the roll must be a finite number, got nan"),
        ({"look": "nadir"}, r"look must be a Look, got str"),
    ],
)
def test_bad_cameras(kw, match):
    with pytest.raises(InputError, match=match):
        Camera(**kw)


def test_nadir_points_straight_down_with_the_way_ahead_at_the_top(state):
    b = pointing_basis(Camera(look=Look("nadir")), state.r_teme_km, state.v_teme_km_s)
    r_hat = state.r_teme_km / np.linalg.norm(state.r_teme_km)
    assert np.allclose(b[2], -r_hat)
    assert np.dot(-b[1], state.v_teme_km_s) > 0.99 * np.linalg.norm(state.v_teme_km_s)  # image up = ahead
    assert np.allclose(b @ b.T, np.eye(3), atol=1e-12)
    assert np.linalg.det(b) == pytest.approx(1.0)  # right-handed


def test_horizon_view_centres_the_hard_limb_and_keeps_it_level(state):
    cam = Camera(look=parse_look("horizon:90"))
    b = pointing_basis(cam, state.r_teme_km, state.v_teme_km_s)
    east, north, up = local_horizontal_basis(state.r_teme_km)
    alt = np.linalg.norm(state.r_teme_km) - 6371.0088
    dip = np.radians(float(horizon_dip_deg(alt)))
    # Forward: due east, dipped to the limb. Right: horizontal (level horizon).
    assert np.allclose(b[2], np.cos(dip) * east - np.sin(dip) * up, atol=1e-12)
    assert abs(np.dot(b[0], up)) < 1e-12
    x, y, ok = project(cam, b, b[2])
    assert ok and x == pytest.approx(959.5) and y == pytest.approx(539.5)


def test_target_and_sky_pointing(state):
    cam = Camera(look=parse_look("target:-6.2,155.0"))
    b = pointing_basis(cam, state.r_teme_km, state.v_teme_km_s, state.instants)
    tgt = itrs_to_teme(geodetic_to_itrs(-6.2, 155.0, 0.0), state.instants)
    want = (tgt - state.r_teme_km) / np.linalg.norm(tgt - state.r_teme_km)
    assert np.allclose(b[2], want, atol=1e-12)
    rot = icrs_to_teme(state.instants)
    cam = Camera(look=parse_look("sky:101.2872,-16.7161"))  # Sirius
    b = pointing_basis(cam, state.r_teme_km, state.v_teme_km_s, state.instants, rot)
    ra, dec = np.radians(101.2872), np.radians(-16.7161)
    d = rot @ np.array([np.cos(dec) * np.cos(ra), np.cos(dec) * np.sin(ra), np.sin(dec)])
    assert np.allclose(b[2], d, atol=1e-12)


def test_roll_turns_the_image_about_its_centre(state):
    b0 = pointing_basis(Camera(look=Look("nadir")), state.r_teme_km, state.v_teme_km_s)
    b90 = pointing_basis(Camera(look=Look("nadir"), roll_deg=90.0), state.r_teme_km, state.v_teme_km_s)
    assert np.allclose(b90[2], b0[2])
    assert np.allclose(b90[0], b0[1], atol=1e-12) and np.allclose(b90[1], -b0[0], atol=1e-12)


def test_projection_and_pixel_rays_are_inverse(state):
    cam = Camera(model="D4", focal_mm=28.0, width_px=640, height_px=480, look=parse_look("horizon:ahead"))
    b = pointing_basis(cam, state.r_teme_km, state.v_teme_km_s)
    rays = pixel_rays(cam, b)
    x, y, ok = project(cam, b, rays)
    assert ok.all()
    assert np.allclose(x, np.arange(640)[None, :], atol=1e-9)
    assert np.allclose(y, np.arange(480)[:, None], atol=1e-9)
    # Closed form: a ray at angle a from the axis in the right direction lands f tan(a) px right.
    a = np.radians(20.0)
    d = np.cos(a) * b[2] + np.sin(a) * b[0]
    x, y, _ = project(cam, b, d)
    assert x == pytest.approx(cam.principal_point[0] + cam.focal_px * np.tan(a))


def test_named_targets_and_sky_objects():
    paris = parse_look("target:Paris")
    # GeoNames: Paris 48.85341 N, 2.3488 E (the most populous place of that name).
    assert paris.name == "Paris"
    assert paris.lat_deg == pytest.approx(48.85341, abs=1e-4) and paris.lon_deg == pytest.approx(2.3488, abs=1e-4)
    assert parse_look("target:montreal").name == "Montréal"  # accents and case folded
    assert parse_look("target:Paris").text == "target:Paris"
    sirius = parse_look("sky:Sirius")
    # Hipparcos (J1991.25): Sirius RA 101.2885 deg, Dec -16.7131 deg.
    assert sirius.ra_deg == pytest.approx(101.2885, abs=1e-3) and sirius.dec_deg == pytest.approx(-16.7131, abs=1e-3)
    moon = parse_look("sky:Moon")
    assert moon.body == "moon" and moon.text == "sky:Moon"
    with pytest.raises(InputError, match="no place called 'Pariss'.*did you mean 'paris'"):
        parse_look("target:Pariss")
    with pytest.raises(InputError, match="unknown sky object 'Zeus'"):
        parse_look("sky:Zeus")


def test_pointing_at_a_body_uses_its_direction(state):
    d = np.array([0.3, -0.4, 0.866])
    d /= np.linalg.norm(d)
    b = pointing_basis(Camera(look=parse_look("sky:venus")), state.r_teme_km, state.v_teme_km_s, body_dir_teme=d)
    assert np.allclose(b[2], d)
    with pytest.raises(InputError, match="needs its direction"):
        pointing_basis(Camera(look=parse_look("sky:venus")), state.r_teme_km, state.v_teme_km_s)


@pytest.mark.parametrize(
    "kw, match",
    [
        ({"mode": "sideways"}, "unknown pointing mode 'sideways'"),
        ({"mode": "horizon", "azimuth": float("nan")}, "the azimuth must be a finite number, got nan"),
        ({"mode": "horizon", "azimuth": "up"}, "unknown direction 'up'"),
        ({"mode": "horizon", "pitch_deg": float("nan")}, r"the pitch above the hard limb must be a number from -90 to 90 deg"),
        ({"mode": "horizon", "pitch_deg": 95.0}, r"the pitch above the hard limb must be a number from -90 to 90 deg, got 95.0"),
        ({"mode": "target", "lat_deg": float("inf")}, "the look's lat must be a finite number, got inf"),
        ({"mode": "target", "lat_deg": 91.0}, "the look's lat 91 is outside -90..90"),
        ({"mode": "sky", "dec_deg": -95.0}, "the look's dec -95 is outside -90..90"),
    ],
)
def test_bad_looks_built_in_python_are_refused_too(kw, match):
    with pytest.raises(InputError, match=match) as info:
        Look(**kw)
    assert info.value.param == "look"


@pytest.mark.parametrize("text", ["horizon:nan", "horizon:north,nan", "horizon:inf", "target:nan,0", "sky:10,nan",
                                  "sky:inf,0", "target:1e999,0"])
def test_non_finite_numbers_in_looks_are_refused(text):
    with pytest.raises(InputError, match="finite") as info:
        parse_look(text)
    assert info.value.param == "look"
