"""The diffuse Milky Way map (sky.milkyway) and its layer in the renderer."""

from __future__ import annotations

import math

import numpy as np
import pytest

from cupola.camera import Camera
from cupola.colour import LUMA
from cupola.inputs import parse_look
from cupola.render import frame_geometry
from cupola.render.points import milky_way_layer
from cupola.scene import compute_scene
from cupola.sky import milkyway as mw


def _unit(ra_deg, dec_deg):
    r, d = np.radians(ra_deg), np.radians(dec_deg)
    return np.array([np.cos(d) * np.cos(r), np.cos(d) * np.sin(r), np.sin(d)])


def test_galactic_frame_matches_published_poles_and_centre():
    # The galactic centre (l = b = 0) at RA 266.405, Dec -28.936 and the north galactic pole at
    # RA 192.859, Dec +27.128 (J2000; ESA SP-1200 vol. 1, 1.5.3).
    g = mw.ICRS_TO_GALACTIC
    np.testing.assert_allclose(g @ _unit(266.405, -28.936), [1.0, 0.0, 0.0], atol=2e-5)
    np.testing.assert_allclose(g @ _unit(192.859, 27.128), [0.0, 0.0, 1.0], atol=2e-5)
    np.testing.assert_allclose(g @ g.T, np.eye(3), atol=1e-9)


def _sample(sb, u):
    dec = math.degrees(math.asin(u[2]))
    ra = math.degrees(math.atan2(u[1], u[0])) % 360
    return sb[min(int(dec + 90), 179), int(ra) % 360]


def test_map_is_the_galaxy():
    sb = mw.surface_brightness_map()
    lat = -89.5 + np.arange(180)
    lon = 0.5 + np.arange(360)
    la, lo = np.meshgrid(np.radians(lat), np.radians(lon), indexing="ij")
    u = np.stack([np.cos(la) * np.cos(lo), np.cos(la) * np.sin(lo), np.sin(la)], axis=-1)
    b = mw.galactic_latitude_deg(u)
    assert float(np.median(sb[np.abs(b) > 80])) == pytest.approx(mw.SB_POLE, abs=0.1)
    assert float(sb.min()) == pytest.approx(mw.SB_BRIGHTEST, abs=0.01)
    # The plane is brighter than high latitudes by magnitudes; the brightest cells lie in the plane
    # (the tracer's peak is the Carina arm, l ~ 290 deg: see the module docstring).
    w = np.cos(la)
    plane = np.average(sb[np.abs(b) < 5], weights=w[np.abs(b) < 5])
    high = np.average(sb[np.abs(b) > 40], weights=w[np.abs(b) > 40])
    assert high - plane > 1.0
    i, j = np.unravel_index(np.argmin(sb), sb.shape)
    gal = mw.ICRS_TO_GALACTIC @ u[i, j]
    assert abs(math.degrees(math.asin(gal[2]))) < 15
    # The Coalsack (RA 192.8, Dec -62.8) is darker than the Southern Cross star fields around it.
    coal = _sample(sb, _unit(192.8, -62.8))
    ring = np.mean([_sample(sb, _unit(192.8 + dr, -62.8 + dd)) for dr, dd in ((12, 0), (-12, 0), (0, 6), (0, -6))])
    assert coal > ring


@pytest.mark.slow
def test_bundled_map_is_the_tool_s_build():
    np.testing.assert_allclose(mw.surface_brightness_map(), mw.build_surface_brightness_map(), atol=0.006)


def test_layer_draws_the_map_luminance_on_sky_pixels():
    # A 50 mm frame aimed at the galactic centre: the centre pixel's luminance is the map's there
    # (1.08e5 cd/m^2 at 0 mag/arcsec^2), coloured as the camera records a typical star.
    cam = Camera(focal_mm=50.0, look=parse_look("sky:266.405,-28.936"), width_px=320, height_px=200)
    sc = compute_scene("2024-01-19T16:02:54Z", camera=cam)
    geom = frame_geometry(sc, force=True)
    out = milky_way_layer(sc, geom)
    y = out @ LUMA
    sb = mw.surface_brightness_map()
    want = mw.CD_M2_AT_0_MAG_ARCSEC2 * 10 ** (-0.4 * _sample(sb, _unit(266.405, -28.936)))
    from cupola.colour import camera_star_rgb
    from cupola.render.points import MILKY_WAY_BV

    gain = float(np.maximum(camera_star_rgb(MILKY_WAY_BV), 0) @ LUMA)
    if not geom.hit[100, 160]:
        assert float(y[100, 160]) == pytest.approx(want * gain, rel=0.1)  # 1-degree cells, bilinear
    assert float(y[geom.hit].max(initial=0.0)) == 0.0  # nothing on the Earth
