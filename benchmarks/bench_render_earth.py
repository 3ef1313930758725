"""Benchmark: the Earth + atmosphere layer and the camera response at 1920x1080, warm.

Goal: earth_layer <= ~60 ms and develop (expose + tone curve + sRGB + 8 bits) <= 20 ms on 2 cores.
Also times the numpy-only reference of the Earth layer (earth_layer_numpy) for comparison.

    .venv/bin/python benchmarks/bench_render_earth.py
"""

from __future__ import annotations

import statistics
import time

from cupola.camera import Camera
from cupola.inputs import parse_look
from cupola.render.earth import earth_layer, earth_layer_numpy
from cupola.render import frame_geometry as ray_geometry
from cupola.render.response import develop
from cupola.scene import compute_scene

CASES = (
    ("day limb", "2021-05-02T06:10:00Z", "horizon:ahead,6", 1 / 1000, 100.0, 8.0),
    ("day nadir", "2021-05-02T06:10:00Z", "nadir", 1 / 1000, 100.0, 8.0),
    ("sunrise (seed 2)", "2021-05-02T06:56:00Z", "horizon:345,4", 1.0, 12800.0, 1.4),
    ("moonlit night", "2024-01-20T12:00:00Z", "horizon:ahead,6", 10.0, 6400.0, 1.4),
)


def _median_ms(fn, n):
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return 1e3 * statistics.median(times)


def main(n: int = 10) -> None:
    for name, t, look, exp_s, iso, fno in CASES:
        cam = Camera(model="Z9", focal_mm=24.0, look=parse_look(look), exposure_s=exp_s, iso=iso, f_number=fno)
        scene = compute_scene(t, camera=cam)
        g = ray_geometry(scene)
        lum = earth_layer(scene, g)  # compile / load textures
        develop(lum, cam)
        t_nb = _median_ms(lambda s=scene, g=g: earth_layer(s, g), n)
        t_np = _median_ms(lambda s=scene, g=g: earth_layer_numpy(s, g), 2)
        t_dev = _median_ms(lambda lum=lum, cam=cam: develop(lum, cam), n)
        print(f"{name:18s} earth_layer numba {t_nb:6.1f} ms | numpy-only {t_np:7.1f} ms "
              f"(x{t_np / t_nb:4.1f}) | develop {t_dev:5.1f} ms   (goals <= 60 ms, <= 20 ms)")


if __name__ == "__main__":
    main()
