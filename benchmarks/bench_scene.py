"""Benchmark: compute_scene for one instant, all layers, warm (goal <= 50 ms).

Warm means the process has loaded its tables (catalogue, ephemeris, Kp file, places) once;
each timed call is a new instant one minute later, so no per-instant result is reused.

    .venv/bin/python benchmarks/bench_scene.py
"""

from __future__ import annotations

import statistics
import time

import numpy as np

from cupola.orbit import Satellite
from cupola.scene import compute_scene


def main(n: int = 30) -> None:
    sat = Satellite.from_archive()
    start = np.datetime64("2021-05-02T06:00:00", "ns")
    t0 = time.perf_counter()
    compute_scene(start, sat=sat)
    compute_scene(start + np.timedelta64(50, "m"), sat=sat)  # over land too: region table
    cold = time.perf_counter() - t0
    times = []
    for k in range(1, n + 1):
        t = start + np.timedelta64(k, "m")
        a = time.perf_counter()
        compute_scene(t, sat=sat)
        times.append(time.perf_counter() - a)
    print(f"first two calls (load tables): {cold:.2f} s")
    print(f"compute_scene warm, {n} instants: median {1e3 * statistics.median(times):.1f} ms, "
          f"max {1e3 * max(times):.1f} ms  (goal <= 50 ms)")


if __name__ == "__main__":
    main()
