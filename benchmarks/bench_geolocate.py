"""Benchmark: per-pixel latitude/longitude of a 24-megapixel photo (6048x4032) at the ground and at
a 110 km emission height (goal <= 1 s warm on 2 cores; ISS_Camera_Geolocate takes minutes), the
first call (compile or cache load), the memory it needs, and the renderer's ray_geometry on the
same work for comparison (on a frame a quarter of the size, scaled, if the full one does not fit).

    .venv/bin/python benchmarks/bench_geolocate.py [--repeat 5] [--ray-geometry-full]

Each figure is measured in a fresh child process where it matters (first call, memory peak), so
that one measurement does not warm or inflate the next. The CPU time of all threads is printed
beside the wall time: with other work on the cores, it / the core count is what a quiet machine
would take.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

WIDTH, HEIGHT = 6048, 4032  # a Nikon D5/Z9-class frame: 24.4 MP
TIME = "2024-01-19T16:02:54Z"
LOOK = "horizon:ahead,-25"  # Earth across ~3/4 of the frame, the limb and some sky at the top

CHILD = r"""
import json, os, resource, sys, time, statistics, tracemalloc
t_import = time.perf_counter()
import numpy as np
from cupola.camera import Attitude, Camera, parse_look
from cupola.scene import compute_scene
from cupola.photo.geolocate import pixel_latlon
from cupola.camera.geometry import ray_geometry
what, width, height, repeat, height_km = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
cam = Camera(model="D5", focal_mm=24.0, width_px=width, height_px=height, look=parse_look(LOOK))
scene = compute_scene(TIME, parts=())
att = Attitude.from_look(cam.look, scene)
rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
def run():
    if what == "latlon":
        return pixel_latlon(scene.state, cam, att, height_km=height_km)
    return ray_geometry(scene.state, cam, att, exact_latlon=True)
tracemalloc.start()
t0 = time.perf_counter(); out = run(); first = time.perf_counter() - t0
peak = tracemalloc.get_traced_memory()[1]
tracemalloc.stop()
earth = float(np.isfinite(out[0]).mean()) if what == "latlon" else float(out.hit.mean())
del out
times, cpu = [], []
for _ in range(repeat):
    t0, c0 = time.perf_counter(), time.process_time()
    out = run(); times.append(time.perf_counter() - t0); cpu.append(time.process_time() - c0); del out
rss1 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps(dict(first=first, median=statistics.median(times), best=min(times), cpu=statistics.median(cpu),
                      load=os.getloadavg()[0], peak_mb=peak / 2**20,
                      rss_growth_mb=(rss1 - rss0) / 1024, earth=earth)))
""".replace("LOOK", repr(LOOK)).replace("TIME", repr(TIME))


def child(what: str, width: int, height: int, repeat: int, height_km: float = 0.0, cache_dir: str | None = None) -> dict:
    env = dict(os.environ, **({"NUMBA_CACHE_DIR": cache_dir} if cache_dir else {}))
    out = subprocess.run([sys.executable, "-c", CHILD, what, str(width), str(height), str(repeat), str(height_km)],
                         check=True, capture_output=True, text=True, env=env)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--ray-geometry-full", action="store_true",
                    help="run ray_geometry on the full 24 MP frame (~2.4 GB of arrays) instead of a quarter")
    args = ap.parse_args()
    mp = WIDTH * HEIGHT / 1e6
    print(f"per-pixel lat/lon, {WIDTH}x{HEIGHT} ({mp:.1f} MP), {LOOK} at {TIME}, "
          f"{os.cpu_count()} CPUs, NUMBA_NUM_THREADS={os.environ.get('NUMBA_NUM_THREADS', 'default')}")
    for h in (0.0, 110.0):
        r = child("latlon", WIDTH, HEIGHT, args.repeat, h)
        print(f"  pixel_latlon at {h:5.0f} km: warm median {r['median']:.3f} s (best {r['best']:.3f} s, goal <= 1 s; "
              f"CPU time of all threads {r['cpu']:.2f} s, load average {r['load']:.1f}), "
              f"first call (kernel from the disk cache) {r['first']:.2f} s, python-heap peak {r['peak_mb']:.0f} MB "
              f"(the two float32 outputs: {2 * 4 * WIDTH * HEIGHT / 2**20:.0f} MB), "
              f"max RSS growth {r['rss_growth_mb']:.0f} MB; {100 * r['earth']:.0f} % of pixels on the shell")
        if h == 0.0:
            latlon = r
    with tempfile.TemporaryDirectory() as empty:
        c = child("latlon", WIDTH, HEIGHT, 1, 0.0, cache_dir=empty)
    print(f"  pixel_latlon first call with an empty numba cache (compiles the kernel): {c['first']:.2f} s")
    w, hh = (WIDTH, HEIGHT) if args.ray_geometry_full else (WIDTH // 2, HEIGHT // 2)
    g = child("ray_geometry", w, hh, max(1, args.repeat // 2))
    scale = (WIDTH * HEIGHT) / (w * hh)
    print(f"  ray_geometry(exact_latlon=True) {w}x{hh}: warm median {g['median']:.3f} s, "
          f"python-heap peak {g['peak_mb']:.0f} MB; scaled to {mp:.1f} MP: {g['median'] * scale:.2f} s, "
          f"{g['peak_mb'] * scale / 1024:.1f} GB  -> pixel_latlon is {g['median'] * scale / latlon['median']:.1f}x "
          f"faster and needs {g['peak_mb'] * scale / latlon['peak_mb']:.0f}x less memory")


if __name__ == "__main__":
    t0 = time.perf_counter()
    main()
    print(f"(benchmark ran {time.perf_counter() - t0:.0f} s)")
