"""Whole frames: the limb's size against closed-form geometry, golden images, the seed gallery."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from golden_scenes import GOLDEN, render_golden

from cupola.camera import Camera, Look, pointing_basis, project
from cupola.frames import WGS84_A_KM
from cupola.orbit import Satellite
from cupola.render import render
from cupola.render.phash import dhash, hamming
from cupola.scene import compute_scene
from cupola.search import Predicate, find_edges
from cupola.view import local_horizontal_basis

# Kernels with a numpy twin: CI reruns this module with CUPOLA_NO_JIT=1 (cupola.jit).
pytestmark = pytest.mark.numpy_twin

GOLDEN_DIR = Path(__file__).parent / "golden"
# A 256-bit difference hash: a changed layer or a moved limb flips dozens of bits; numerical noise
# (threads, CPU) flips a handful.
GOLDEN_MAX_BITS = 24


def _equator_crossing():
    """Return the instant the ISS crosses the equator northbound on 2024-01-22 (|z| < 1 m)."""
    sat = Satellite.from_archive()
    pred = Predicate(lambda t: sat.at(t).r_teme_km[..., 2] > 0.0, 60.0, "north of the equator")
    edges = find_edges(pred, "2024-01-22T00:00:00Z", "2024-01-22T02:00:00Z", tol_s=1e-4)
    return edges.t_utc[edges.rising][0]


def test_limb_radius_matches_the_closed_form():
    # Over the equator (z ~ 0) the Earth's section in the equatorial plane is a circle of radius
    # a, so the limb seen in that plane lies at rho = asin(a / |r|) from nadir, i.e. f tan(rho)
    # pixels from the image centre along the image direction of the local east.
    t = _equator_crossing()
    cam = Camera(fov_deg=150.0, width_px=801, height_px=801, look=Look("nadir"))
    scene = compute_scene(t, camera=cam)
    st = scene.state
    assert abs(float(st.r_teme_km[2])) < 0.01
    frame = render(scene, cam, layers=("earth",))
    r = float(np.linalg.norm(st.r_teme_km))
    rho = np.arcsin(WGS84_A_KM / r)
    want_px = cam.focal_px * np.tan(rho)
    basis = pointing_basis(cam, st.r_teme_km, st.v_teme_km_s)
    east = local_horizontal_basis(st.r_teme_km)[0]
    east[2] = 0.0
    east /= np.linalg.norm(east)
    for sign in (1.0, -1.0):
        d = np.cos(rho) * (-st.r_teme_km / r) + np.sin(rho) * sign * east
        x, y, _ = project(cam, basis, d)
        cx, cy = cam.principal_point
        ux, uy = (x - cx) / want_px, (y - cy) / want_px  # image direction of the limb point
        s = np.arange(0.0, 400.0, 0.25)
        px = np.rint(cx + s * ux).astype(int)
        py = np.rint(cy + s * uy).astype(int)
        inside = (px >= 0) & (px < 801) & (py >= 0) & (py < 801)
        hit = frame.geometry.hit[py[inside], px[inside]]
        edge = s[inside][np.argmin(hit)]  # first step along the line that misses the Earth
        assert abs(edge - want_px) <= 1.0, (sign, edge, want_px)


# The thumbnail check catches what the structural hash is blind to (a smooth aurora band or a
# changed exposure keeps most gradients): 32x18 box-averaged colours, in 8-bit levels.
THUMB_MEAN_LEVELS = 3.0
THUMB_MAX_LEVELS = 24


def _thumb(rgb):
    from PIL import Image

    return np.asarray(Image.fromarray(rgb).resize((32, 18), Image.BOX), dtype=float)


@pytest.mark.parametrize("name", list(GOLDEN))
def test_golden_images(name):
    from PIL import Image

    rebuild = "if the change is deliberate, rebuild with: .venv/bin/python tools/build_golden.py"
    want = json.loads((GOLDEN_DIR / "hashes.json").read_text())[name]
    rgb = render_golden(name)
    got = dhash(rgb)
    assert hamming(got, want) <= GOLDEN_MAX_BITS, (
        f"{name} looks different from tests/golden/{name}.png ({hamming(got, want)} bits); {rebuild}"
    )
    diff = np.abs(_thumb(rgb) - _thumb(np.asarray(Image.open(GOLDEN_DIR / f"{name}.png").convert("RGB"))))
    assert diff.mean() <= THUMB_MEAN_LEVELS and diff.max() <= THUMB_MAX_LEVELS, (
        f"{name}: colours differ from tests/golden/{name}.png (mean {diff.mean():.1f}, max {diff.max():.0f} levels); "
        f"{rebuild}"
    )


def test_golden_images_differ_from_each_other():
    hashes = json.loads((GOLDEN_DIR / "hashes.json").read_text())
    names = list(hashes)
    for i in range(len(names)):
        for j in range(i + 1, len(names)):
            assert hamming(hashes[names[i]], hashes[names[j]]) > 3 * GOLDEN_MAX_BITS


def test_long_and_short_exposures_both_look_like_photographs():
    # The same night limb: 10 s ISO 6400 shows the airglow band; 1/320 s shows next to nothing.
    long_cam = Camera(model="Z9", focal_mm=50.0, width_px=320, height_px=180, look=Look("horizon", "ahead", 3.0),
                      exposure_s=10.0, iso=6400.0, f_number=1.4, tracked=True)
    scene = compute_scene("2024-01-19T16:02:54Z", camera=long_cam)
    bright = render(scene, long_cam).rgb
    dark = render(scene, long_cam.replace(exposure_s=1 / 320)).rgb
    assert 20 < bright.mean() < 200
    assert dark.mean() < 5


def test_demo_writes_the_seed_gallery(tmp_path, capsys):
    from cupola.cli import main
    from cupola.render.output import read_metadata

    assert main(["demo", "--out", str(tmp_path)]) == 0
    files = sorted(p.name for p in tmp_path.iterdir())
    assert files == ["seed1_airglow.png", "seed2_aurora_sunrise.png", "seed2_timelapse.mp4"]
    import av

    with av.open(str(tmp_path / "seed2_timelapse.mp4")) as clip:
        stream = clip.streams.video[0]
        assert sum(1 for _ in clip.decode(stream)) == 163 and (stream.width, stream.height) == (960, 540)
    meta = read_metadata(tmp_path / "seed2_aurora_sunrise.png")
    assert meta["datetime_original"] == "2021:05:02 06:56:00" and meta["model"] == "NIKON D5"
    assert "just before orbital sunrise" in meta["description"]


def test_ray_geometry_matches_numpy_closed_forms():
    from cupola.camera import pixel_rays
    from cupola.frames import geodetic, rotate_z
    from cupola.render import frame_geometry as ray_geometry
    from cupola.view import ray_ellipsoid

    cam = Camera(model="D5", focal_mm=14.0, width_px=240, height_px=160, look=Look("horizon", "ahead", -8.0))
    scene = compute_scene("2021-05-02T07:10:00Z", camera=cam)
    g = ray_geometry(scene, cam)
    d = pixel_rays(cam, g.basis_teme)
    near, far = ray_ellipsoid(np.broadcast_to(g.origin_teme_km, d.shape), d)
    hit = np.isfinite(near) & (far > 0)
    assert np.array_equal(hit, g.hit) and 0.2 < hit.mean() < 0.95
    p = g.origin_teme_km + near[..., None] * d
    lat, lon, alt = geodetic(rotate_z(p[hit], g.theta_gmst))
    assert np.abs(alt).max() < 1e-6
    assert np.abs(g.lat_deg[hit] - lat).max() < 1e-3  # the kernel's polynomial atan2: 6e-4 deg
    assert np.abs((g.lon_deg[hit] - lon + 180) % 360 - 180).max() < 1e-3
    assert np.allclose(g.hit_km[hit], near[hit], rtol=1e-6)
    # Tangent heights of the rays that miss: closest approach to the centre (ahead of the
    # station; a ray pointing away from the Earth is closest at the station) minus the mean radius.
    o = g.origin_teme_km
    tca = np.maximum(-(d[~hit] @ o), 0.0)
    closest = np.linalg.norm(o + tca[:, None] * d[~hit], axis=-1) - 6371.0088
    assert np.allclose(g.tangent_km[~hit], closest, atol=1e-3)


def test_pointing_at_the_moon_centres_it():
    # 2021-05-02 06:56 UTC: the Moon (waning gibbous) stands above the limb (see test_scene).
    from cupola.inputs import parse_look

    cam = Camera(model="Z9", focal_mm=400.0, width_px=400, height_px=300, look=parse_look("sky:Moon"),
                 exposure_s=1 / 500, iso=200.0, f_number=5.6)
    scene = compute_scene("2021-05-02T06:56:00Z", camera=cam)
    frame = render(scene, cam, layers=("bodies",))
    y = frame.luminance.sum(axis=-1)
    lit = y > 0.5 * y.max()
    ys, xs = np.nonzero(lit)
    # The lit part of a gibbous Moon is off-centre; its bounding box spans the whole disc along
    # the terminator, so the box centre on that axis and the disc radius are checked.
    radius_px = cam.focal_px * np.tan(np.radians(float(scene.body("Moon").radius_deg)))
    assert abs((ys.min() + ys.max()) / 2 - cam.principal_point[1]) <= 1.5 or \
        abs((xs.min() + xs.max()) / 2 - cam.principal_point[0]) <= 1.5
    assert max(ys.max() - ys.min(), xs.max() - xs.min()) == pytest.approx(2 * radius_px, abs=3)
