"""Diffraction spikes of a bladed aperture (render.optics, issue 14): their number and directions from the
blade count, their 1 / theta^2 fall-off and red-to-blue length ratio from the Fraunhofer edge term, and the
light they carry against the closed form of S(theta) integrated to the frame's edge, taken from the disc."""

from __future__ import annotations

import math

import numpy as np
import pytest

from cupola.errors import InputError
from cupola.inputs import camera_from_text
from cupola.render import RenderSettings, render
from cupola.render.optics import WAVELENGTHS_NM, spike_constant_rad, spike_directions, spikes_for
from cupola.scene import compute_scene

T = "2021-05-02T07:05:00Z"
BASE = RenderSettings(layers=("bodies",), noise=False, bloom=False, vignetting=False)


@pytest.fixture(scope="module")
def sun_shot():
    cam = camera_from_text(model="D5", lens=24, size="960x540", look="sky:sun", exposure="1/4000", iso=100,
                           f_number=11)
    scene = compute_scene(T, camera=cam)
    plain = render(scene, cam, BASE)
    return scene, cam, plain


def _spiked(sun_shot, blades, rotation=0.0):
    scene, cam, plain = sun_shot
    fr = render(scene, cam, BASE.replace(aperture_blades=blades, aperture_rotation_deg=rotation))
    return fr, fr.luminance.astype(float) - plain.luminance.astype(float)


def _sun_px(sun_shot):
    scene, cam, plain = sun_shot
    g = plain.luminance[..., 1]
    i, j = np.unravel_index(np.argmax(g), g.shape)
    w = g[i - 8:i + 9, j - 8:j + 9].astype(float)
    yy, xx = np.mgrid[i - 8:i + 9, j - 8:j + 9]
    return float((xx * w).sum() / w.sum()), float((yy * w).sum() / w.sum())


def _ring(delta, xs, ys, radius, step_deg=0.1):
    a = np.radians(np.arange(0.0, 360.0, step_deg))
    x = np.rint(xs + radius * np.cos(a)).astype(int)
    y = np.rint(ys + radius * np.sin(a)).astype(int)
    return np.degrees(a), delta[y, x, 1]


@pytest.mark.parametrize("blades, rotation", [(6, 0.0), (7, 12.0), (5, 40.0)])
def test_spike_count_and_directions_follow_the_blades(sun_shot, blades, rotation):
    """N even gives N spikes, N odd 2N, along the polygon's edge normals (rotation + (2k + 1) 180 / N)."""
    _, delta = _spiked(sun_shot, blades, rotation)
    xs, ys = _sun_px(sun_shot)
    ang, v = _ring(delta, xs, ys, 120.0)
    peaks = [ang[k] for k in range(v.size) if v[k] > 0.2 * v.max() and v[k] >= v[k - 1] and v[k] > v[(k + 1) % v.size]]
    # Merge a spike's neighbouring samples into one direction.
    dirs = []
    for a in peaks:
        if not dirs or a - dirs[-1] > 3.0:
            dirs.append(a)
    if len(dirs) > 1 and dirs[0] + 360.0 - dirs[-1] <= 3.0:
        dirs.pop()
    want = np.sort(np.degrees(spike_directions(blades, rotation)[0]) % 360.0)
    assert len(dirs) == (blades if blades % 2 == 0 else 2 * blades) == want.size
    got = np.sort(np.asarray(dirs) % 360.0)
    off = np.abs((got[:, None] - want[None, :] + 180.0) % 360.0 - 180.0).min(axis=1)
    assert off.max() < 1.0, (got, want)


def test_spikes_fall_as_the_inverse_square_and_are_longer_in_red(sun_shot):
    """Along a spike the added light follows 1 / (u^2 + u0^2); red over blue is 600 / 460 nm."""
    fr, delta = _spiked(sun_shot, 6, 0.0)
    xs, ys = _sun_px(sun_shot)
    a = spike_directions(6, 0.0)[0][0]
    sp = spikes_for(fr.camera, fr.settings, [math.radians(0.2666) * fr.camera.focal_px])
    u0 = float(sp.onset_px[0])

    def along(u):  # the pixel across the spike at distance u where it peaks (the band is a few px wide)
        pts = [delta[int(round(ys + u * math.sin(a) + v * math.cos(a))), int(round(xs + u * math.cos(a) - v * math.sin(a)))]
               for v in np.linspace(-3.0, 3.0, 25)]
        return max(pts, key=lambda p: p[1])

    r1, r2 = along(40.0), along(80.0)
    fall = (r1 / r2)
    want = (80.0 ** 2 + u0 ** 2) / (40.0 ** 2 + u0 ** 2)
    for c in range(3):
        assert fall[c] == pytest.approx(want, rel=0.08), (c, fall, want)
    ratio = np.mean([along(u)[0] / along(u)[2] for u in (40.0, 60.0, 80.0)])
    assert ratio == pytest.approx(WAVELENGTHS_NM[0] / WAVELENGTHS_NM[2], rel=0.03)


def test_spikes_move_light_from_the_disc_as_the_closed_form_says(sun_shot):
    """With E the Sun's light (its drawn disc over the core's 1 - eta): the light the spikes add beyond R of the
    Sun is sum over spikes of E K (f / u0) (atan(U / u0) - atan(R / u0)), U the frame's edge along the spike;
    over the whole frame the spikes' light, to U, less what the disc gives up (E times their share). Light
    measured as sum(L) / f^2 on the tangent plane, per channel."""
    scene, cam, plain = sun_shot
    fr, delta = _spiked(sun_shot, 6, 0.0)
    f = cam.focal_px
    xs, ys = _sun_px(sun_shot)
    r_px = math.radians(float(scene.body("Sun").radius_deg)) * f
    sp = spikes_for(cam, fr.settings, [r_px])
    h, w = plain.luminance.shape[:2]
    yy, xx = np.mgrid[0:h, 0:w]
    dist = np.hypot(xx - xs, yy - ys)
    e_sun = plain.luminance[dist <= r_px + 3.0].astype(float).sum(axis=0) / f ** 2 / (1.0 - BASE.psf_wing_fraction)
    u0, big_r = float(sp.onset_px[0]), 25.0
    k = spike_constant_rad(cam, 6)
    beyond = np.zeros(3)
    whole = np.zeros(3)
    for c_, s_ in zip(sp.cos_a, sp.sin_a):
        ends = [((w - 0.5 - xs) / c_) if c_ > 0 else ((-0.5 - xs) / c_) if c_ < 0 else np.inf,
                ((h - 0.5 - ys) / s_) if s_ > 0 else ((-0.5 - ys) / s_) if s_ < 0 else np.inf]
        u_end = min(ends)
        beyond += e_sun * k * (f / u0) * (math.atan(u_end / u0) - math.atan(big_r / u0))
        whole += e_sun * k * (f / u0) * math.atan(u_end / u0)
    gained = delta[dist > big_r].sum(axis=0) / f ** 2
    assert gained == pytest.approx(beyond, rel=0.03), (gained, beyond)
    share = float(sp.share_luma()[0])
    assert 0.005 < share < 0.2
    net = delta.reshape(-1, 3).sum(axis=0) / f ** 2
    assert net == pytest.approx(whole - e_sun * share, rel=0.03, abs=0.01 * float(whole.max())), (net, whole, share)


def test_no_blades_no_spikes_and_bad_counts_are_refused(sun_shot):
    scene, cam, plain = sun_shot
    assert spikes_for(cam, BASE, [1.0]) is None
    again = render(scene, cam, BASE.replace(aperture_blades=0))
    assert np.array_equal(again.luminance, plain.luminance)
    for bad in (1, 2, 25, 6.5, True, "6"):
        with pytest.raises(InputError) as e:
            RenderSettings(aperture_blades=bad)
        assert e.value.param == "aperture_blades" and repr(bad) in str(e.value)
    with pytest.raises(InputError):
        RenderSettings(aperture_rotation_deg=float("nan"))


def test_bright_stars_get_spikes_and_keep_their_light():
    """A tracked night frame with 8 blades: Sirius (V -1.46) has spikes, and its core plus spikes hold what
    its core alone held (light moved, not made), within the frame's share."""
    cam = camera_from_text(model="D5", lens=50, size="640x360", look="sky:sirius", exposure="1", iso=800,
                           f_number=8, tracked=True)
    scene = compute_scene("2024-01-19T16:02:54Z", camera=cam)
    s0 = RenderSettings(layers=("stars",), noise=False, bloom=False, vignetting=False)
    a = render(scene, cam, s0, force=True).luminance.astype(float)
    b = render(scene, cam, s0.replace(aperture_blades=8), force=True).luminance.astype(float)
    d = b - a
    i, j = np.unravel_index(np.argmax(a[..., 1]), a.shape[:2])
    ring = np.hypot(*np.mgrid[0:a.shape[0], 0:a.shape[1]] - np.array([i, j])[:, None, None])
    assert d[(ring > 20) & (ring < 25), 1].max() > 0.0  # spikes out there
    assert abs(b[ring < 60, 1].sum() - a[ring < 60, 1].sum()) < 0.1 * a[ring < 60, 1].sum()


def test_cli_blades_draws_spikes_and_refuses_a_bad_count(tmp_path, capsys):
    """`cupola render --blades 6` writes a frame with spikes around the Sun; --blades 2 is one line, exit 2."""
    from PIL import Image

    from cupola.cli import main

    args = ["render", T, "--look", "sky:sun", "--size", "320x180", "--exposure", "1/4000", "--iso", "100",
            "--f-number", "11", "--layers", "bodies"]
    plain, spiked = tmp_path / "plain.png", tmp_path / "spiked.png"
    assert main(args + ["-o", str(plain)]) == 0
    assert main(args + ["--blades", "6", "-o", str(spiked)]) == 0
    a = np.asarray(Image.open(plain), float)
    b = np.asarray(Image.open(spiked), float)
    assert (b - a).max() > 20 and (b - a).sum() > 0  # brighter lines out from the Sun
    capsys.readouterr()
    assert main(args + ["--blades", "2", "-o", str(tmp_path / "bad.png")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "got 2" in err[0] and "--blades" in err[0], err
    assert not (tmp_path / "bad.png").exists()


def test_web_render_takes_blades():
    pytest.importorskip("fastapi")
    pytest.importorskip("httpx")
    from fastapi.testclient import TestClient

    from cupola.web import create_app

    q = {"t": T, "look": "sky:sun", "w": 160, "h": 90, "exposure": "1/4000", "iso": 100, "fnumber": 11,
         "layers": "bodies"}
    with TestClient(create_app()) as c:
        ok = c.get("/api/render", params=q | {"blades": 6})
        assert ok.status_code == 200 and ok.headers["content-type"] == "image/png"
        bad = c.get("/api/render", params=q | {"blades": 2})
        assert bad.status_code in (400, 422) and bad.headers["content-type"].startswith("application/json")
        assert "aperture_blades" in bad.text or "blades" in bad.json().get("param", "")
