"""The Moon's face (issue 13): its albedo map, orientation, phase shading and total brightness.

Truths: Allen's magnitude law for the whole disc's flux (computed here from the phase angle and the
distance), the phase fraction (1 + cos i) / 2 and the Sun's side for the terminator, published
selenographic positions of maria and highlands, the Moon's optical libration bounds (Meeus,
Astronomical Algorithms, 2nd ed., ch. 53: +-7.9 deg in longitude, +-6.9 deg in latitude) and
Cassini's third law (the lunar equator inclined 1.54 deg to the ecliptic), with the geocentric Moon
from the DE421 ephemeris through skyfield.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from cupola.camera import Camera, Look
from cupola.render import DEFAULT_SETTINGS, frame_geometry, points
from cupola.scene import compute_scene
from cupola.sky.bodies import ECLIPTIC_POLE_ICRS, RADIUS_KM, moon_albedo, moon_frame_icrs

pytestmark = pytest.mark.numpy_twin  # the Moon kernel has a numpy twin: CI reruns this with CUPOLA_NO_JIT=1

NIGHT = "2021-05-03T01:11:00Z"  # waning gibbous, 58 % lit, 4.7 deg above the limb
GIBBOUS = "2024-01-23T00:04:00Z"  # waxing gibbous, 93 % lit, high above the limb
LUX_V0 = 2.54e-6  # Allen's Astrophysical Quantities, 4th ed., 15.1

# IAU Gazetteer of Planetary Nomenclature centres (lat, lon deg, east positive).
MARIA = {"Mare Imbrium": (32.8, -15.6), "Mare Serenitatis": (28.0, 17.5), "Mare Crisium": (17.0, 59.1)}
HIGHLANDS = {"southern highlands (Maurolycus)": (-42.0, 14.0), "south of Ptolemaeus": (-25.0, 5.0)}


def _moon_view(t, focal_mm=1200.0):
    cam = Camera(focal_mm=focal_mm, look=Look("sky", body="moon"), exposure_s=1 / 250, width_px=640, height_px=640)
    sc = compute_scene(t, camera=cam)
    geom = frame_geometry(sc, cam, force=True)
    return sc, cam, geom, points.moon_layer(sc, geom)


@pytest.fixture(scope="module")
def night():
    return _moon_view(NIGHT)


@pytest.fixture(scope="module")
def gibbous():
    return _moon_view(GIBBOUS)


def _pixel_solid_angle(cam, shape):
    ii, jj = np.mgrid[:shape[0], :shape[1]]
    cx, cy = cam.principal_point
    rho2 = ((jj - cx) ** 2 + (ii - cy) ** 2) / cam.focal_px**2
    return (1.0 + rho2) ** -1.5 / cam.focal_px**2


@pytest.mark.parametrize("which", ["night", "gibbous"])
def test_disc_flux_is_the_magnitude_law(which, request):
    sc, cam, geom, img = request.getfixturevalue(which)
    moon = sc.body("Moon")
    i = float(moon.phase_angle_deg)
    v = -12.73 + 0.026 * abs(i) + 4e-9 * i**4 + 5 * math.log10(float(moon.distance_km) / 384_400.0)
    lit_lux = LUX_V0 * 10 ** (-0.4 * v)
    # The night side adds earthshine (~1e-4 of the lit side's luminance): in the total, at its size.
    k = (1 + math.cos(math.radians(i))) / 2
    omega = 2 * math.pi * (1 - math.cos(math.radians(float(moon.radius_deg))))
    earthshine_lux = DEFAULT_SETTINGS.earthshine_cd_m2 * (1 - k) * (1 - k) * omega
    got = float((img[..., 1].astype(float) * _pixel_solid_angle(cam, img.shape)).sum())
    assert np.allclose(img[..., 0], img[..., 1]) and np.allclose(img[..., 2], img[..., 1])  # neutral, above the air
    assert got == pytest.approx(lit_lux + earthshine_lux, rel=0.01)


def _sky_point(sc, lat_deg, lon_deg):
    """TEME direction from the station to the selenographic point (lat, lon) and its outward normal."""
    moon = sc.body("Moon")
    frame = np.asarray(moon.frame_teme, float)
    la, lo = math.radians(lat_deg), math.radians(lon_deg)
    n = frame.T @ np.array([math.cos(la) * math.cos(lo), math.cos(la) * math.sin(lo), math.sin(la)])
    c = np.asarray(moon.dir_teme, float).reshape(3) * float(moon.distance_km)
    p = c + RADIUS_KM["moon"] * n
    return p / np.linalg.norm(p), n, p


def test_terminator_is_on_the_sunward_side_with_the_phase_fraction(night):
    sc, cam, geom, img = night
    moon, sun = sc.body("Moon"), sc.body("Sun")
    y = img[..., 1]
    disc = y > 0
    lit = y > 100.0 * DEFAULT_SETTINGS.earthshine_cd_m2
    k = (1 + math.cos(math.radians(float(moon.phase_angle_deg)))) / 2
    assert lit.sum() / disc.sum() == pytest.approx(k, abs=0.02)
    # The lit part's centroid lies from the disc's centre toward the Sun's direction in the image.
    ii, jj = np.nonzero(disc)
    li, lj = np.nonzero(lit)
    off = np.array([lj.mean() - jj.mean(), li.mean() - ii.mean()])
    m = np.asarray(moon.dir_teme, float).reshape(3)
    s = np.asarray(sun.dir_teme, float).reshape(3)
    toward = s - (s @ m) * m
    x0, y0, _ = points.project(cam, geom.basis_teme, m)
    x1, y1, _ = points.project(cam, geom.basis_teme, m + 1e-4 * toward / np.linalg.norm(toward))
    e = np.array([x1 - x0, y1 - y0])
    cos_angle = off @ e / (np.linalg.norm(off) * np.linalg.norm(e))
    assert cos_angle > math.cos(math.radians(5.0))
    # Its distance: the lit area of a disc of radius r with a terminator ellipse of semi-axis r cos i
    # has its centroid at 4 r (1 + cos i) ... computed here by sampling the closed-form shape.
    r = cam.focal_px * math.tan(math.radians(float(moon.radius_deg)))
    ci = math.cos(math.radians(float(moon.phase_angle_deg)))
    g = np.linspace(-1, 1, 801)
    u, v = np.meshgrid(g, g)
    inside = u * u + v * v <= 1
    shape_lit = inside & (u >= -ci * np.sqrt(np.clip(1 - v * v, 0, None)))  # lit from +u
    expected = r * float(u[shape_lit].mean())
    assert float(np.linalg.norm(off)) == pytest.approx(expected, rel=0.05)


def test_albedo_map_has_dark_maria_and_bright_highlands():
    alb = moon_albedo()
    h, w = alb.shape

    def at(lat, lon):
        i = int((90 - lat) / 180 * h)
        j = int((lon + 180) / 360 * w) % w
        return float(alb[max(i - 4, 0):i + 5, j - 4:j + 5].mean())

    maria = [at(*p) for p in MARIA.values()]
    high = [at(*p) for p in HIGHLANDS.values()]
    assert max(maria) < 0.75 * min(high)
    # Normal albedo: maria ~0.07, highlands ~0.13-0.15 (Sato et al. 2014): about half.
    assert np.mean(maria) / np.mean(high) == pytest.approx(0.55, abs=0.15)


def test_maria_are_darker_than_highlands_on_the_rendered_face(gibbous):
    sc, cam, geom, img = gibbous
    moon, sun = sc.body("Moon"), sc.body("Sun")
    c = np.asarray(moon.dir_teme, float).reshape(3) * float(moon.distance_km)
    s_pos = np.asarray(sun.dir_teme, float).reshape(3) * float(sun.distance_km)
    y = img[..., 1].astype(float)

    def albedo_seen(lat, lon):
        d, n, p = _sky_point(sc, lat, lon)
        mu0 = float(n @ ((s_pos - p) / np.linalg.norm(s_pos - p)))
        mu = float(-(n @ d))
        assert mu0 > 0.2 and mu > 0.2  # lit and facing the station
        x, yy, _ = points.project(cam, geom.basis_teme, d)
        i, j = int(round(yy)), int(round(x))
        # Divide out the Lommel-Seeliger factor: what is left is the albedo times one scale.
        return float(y[i - 1:i + 2, j - 1:j + 2].mean()) / (mu0 / (mu0 + mu))

    maria = [albedo_seen(*p) for p in MARIA.values()]
    high = [albedo_seen(*p) for p in HIGHLANDS.values()]
    assert max(maria) < 0.8 * min(high)


def test_libration_and_the_axis_follow_the_moons_published_bounds():
    from cupola.ephemeris import kernel
    from cupola.timebase import timescale

    ts = timescale()
    t = ts.utc(2024, 1, np.arange(0.0, 60.0, 0.25))
    eph = kernel()
    earth_to_moon = np.asarray((eph["moon"] - eph["earth"]).at(t).position.km).T  # geometric, ICRS
    frame = moon_frame_icrs(t.tdb - 2451545.0)
    sub = np.einsum("nij,nj->ni", frame, -earth_to_moon / np.linalg.norm(earth_to_moon, axis=-1, keepdims=True))
    lat = np.degrees(np.arcsin(sub[:, 2]))
    lon = np.degrees(np.arctan2(sub[:, 1], sub[:, 0]))
    assert np.abs(lon).max() < 8.2 and np.abs(lon).max() > 5.0
    assert np.abs(lat).max() < 7.0 and np.abs(lat).max() > 5.5
    assert abs(lon.mean()) < 1.5  # the mean Earth frame faces the Earth on average
    # Cassini: the lunar pole stays 1.54 deg from the ecliptic pole.
    tilt = np.degrees(np.arccos(frame[:, 2] @ ECLIPTIC_POLE_ICRS))
    assert np.all(np.abs(tilt - 1.54) < 0.15)


def test_moon_kernel_matches_its_numpy_twin(night):
    sc, cam, geom, img = night
    moon, sun = sc.body("Moon"), sc.body("Sun")
    m_dir = np.asarray(moon.dir_teme, float).reshape(3)
    rad = math.radians(float(moon.radius_deg))
    box = points._disc_box(sc, geom, m_dir, rad, 2.0)
    sfm = np.asarray(sun.dir_teme, float).reshape(3) * float(sun.distance_km) - m_dir * float(moon.distance_km)
    sfm /= np.linalg.norm(sfm)
    opt = sc.limb_optics
    args = (geom.dirs_teme, geom.hit, geom.tangent_km, *box, np.asarray(sc.state.r_teme_km, float).reshape(3),
            float(opt.step_km), np.ascontiguousarray(opt.bending_rad).reshape(-1, 1),
            np.ascontiguousarray(opt.transmission_rgb), m_dir, float(moon.distance_km),
            float(moon.distance_km) * math.sin(rad), sfm, np.asarray(moon.frame_teme, float), sc.moon_albedo,
            1000.0, 0.1, 1.0 / cam.focal_px, 3)
    a = np.zeros(img.shape, np.float32)
    b = np.zeros(img.shape, np.float32)
    points._moon_kernel.compiled(*args, a)
    points._moon_kernel.numpy_twin(*args, b)
    assert a.max() > 100.0
    np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-3)


def test_setting_moon_is_flattened_and_reddened(night):
    sc, cam, geom, _ = night
    moon = sc.body("Moon")
    # Put the Moon just above the limb seen from this station: its true direction at a geometric
    # tangent height of -5 km in the plane of the station and the real Moon.
    o = np.asarray(sc.state.r_teme_km, float).reshape(3)
    ro = float(np.linalg.norm(o))
    nadir = -o / ro
    m = np.asarray(moon.dir_teme, float).reshape(3)
    side = m - (m @ nadir) * nadir
    side /= np.linalg.norm(side)
    th = math.asin((6371.0088 - 5.0) / ro)
    d = math.cos(th) * nadir + math.sin(th) * side
    low = dataclasses.replace(moon, dir_teme=d)
    sc2 = dataclasses.replace(sc, bodies=tuple(low if b.name == "moon" else b for b in sc.bodies))
    cam2 = Camera(focal_mm=800.0, look=Look("sky", body="moon"), exposure_s=1 / 250, width_px=800, height_px=800)
    sc2 = dataclasses.replace(sc2, camera=cam2)
    geom2 = frame_geometry(sc2, cam2, force=True)
    img = points.moon_layer(sc2, geom2)
    lit = img[..., 0] > 0
    assert lit.any() and not geom2.hit[lit].any()
    up = o - (o @ d) * d
    x0, y0, _ = points.project(cam2, geom2.basis_teme, d)
    x1, y1, _ = points.project(cam2, geom2.basis_teme, d + 1e-4 * up / np.linalg.norm(up))
    eu = np.array([x1 - x0, y1 - y0]) / math.hypot(x1 - x0, y1 - y0)
    ea = np.array([-eu[1], eu[0]])
    ii, jj = np.nonzero(lit)
    pts = np.stack([jj, ii], axis=-1).astype(float)
    assert np.ptp(pts @ eu) < 0.6 * np.ptp(pts @ ea)  # flattened (the lit part of a gibbous Moon)
    rgb = img[ii, jj].astype(float)
    assert rgb[:, 0].sum() > 2.0 * rgb[:, 1].sum() > 0  # reddened
