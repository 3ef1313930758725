"""Benchmark: a whole 1920x1080 frame with all layers, warm (goal <= 0.25 s on 2 cores), and
numpy-only versus numba for the per-pixel work that has a numpy twin.

    .venv/bin/python benchmarks/bench_render.py [--repeat 7]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from cupola.camera import pixel_rays
from cupola.demo import seed_cameras
from cupola.render import render
from cupola.render.earth import earth_layer, earth_layer_numpy
from cupola.render import FramePool, frame_geometry
from cupola.scene import compute_scene
from cupola.view import ray_ellipsoid

SCENES = (("seed 1, airglow, 24 mm 10 s tracked", "2024-01-19T16:02:54Z", 0),
          ("seed 2, aurora at sunrise, 14 mm 1 s", "2021-05-02T06:56:00Z", 1))


def geometry_numpy(scene, geom):
    """The ray directions and Earth hits with numpy alone (what the numba pass replaces)."""
    d = pixel_rays(geom.camera, geom.basis_teme)
    near, far = ray_ellipsoid(np.broadcast_to(geom.origin_teme_km, d.shape), d)
    hit = np.isfinite(near) & (near > 0)
    p = geom.origin_teme_km + np.where(hit, near, 0.0)[..., None] * d
    lat = np.degrees(np.arcsin(np.clip(p[..., 2] / np.linalg.norm(p, axis=-1), -1, 1)))
    lon = np.degrees(np.arctan2(p[..., 1], p[..., 0]))
    return hit, lat, lon


def best_median(fn, repeat):
    fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), min(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=7)
    args = ap.parse_args()
    cams = seed_cameras()
    for label, t, k in SCENES:
        cam = cams[k]
        scene = compute_scene(t, camera=cam)
        frames = []
        pool = FramePool()
        med, best = best_median(lambda: frames.append(render(scene, cam, pool=pool)), args.repeat)
        layers = {name: statistics.median(f.timings_s[name] for f in frames[1:]) for name in frames[-1].timings_s}
        print(f"{label}: whole frame 1920x1080 median {med * 1e3:.0f} ms, best {best * 1e3:.0f} ms (goal <= 250 ms)")
        print("   " + ", ".join(f"{n} {v * 1e3:.0f}" for n, v in layers.items()) + " (ms)")
        geom = frame_geometry(scene, cam)
        g_nb, _ = best_median(lambda: frame_geometry(scene, cam), 3)
        g_np, _ = best_median(lambda: geometry_numpy(scene, geom), 1)
        e_nb, _ = best_median(lambda: earth_layer(scene, geom), 3)
        e_np, _ = best_median(lambda: earth_layer_numpy(scene, geom), 1)
        print(f"   ray geometry: numba {g_nb * 1e3:.0f} ms, numpy-only {g_np * 1e3:.0f} ms ({g_np / g_nb:.0f}x)")
        print(f"   earth layer:  numba {e_nb * 1e3:.0f} ms, numpy-only {e_np * 1e3:.0f} ms ({e_np / e_nb:.0f}x)")


if __name__ == "__main__":
    main()
