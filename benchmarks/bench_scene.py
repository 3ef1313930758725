"""Benchmark: compute_scene for one instant (goal <= 50 ms warm) and for a series of 1,000 instants
at 10 s steps (goal <= 2 ms per instant, amortised), against the scalar path in the same run.

Warm means the process has loaded its tables (catalogue, ephemeris, Kp file, places, the day's
magnetic table) once; each timed call uses new instants, so no per-instant result is reused.

    .venv/bin/python benchmarks/bench_scene.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from cupola.orbit import Satellite
from cupola.scene import compute_scene

N_SERIES = 1000
STEP_S = 10


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--scalar", type=int, default=30, help="single instants timed")
    args = ap.parse_args()
    sat = Satellite.from_archive()
    start = np.datetime64("2021-05-02T04:00:00", "ns")
    t0 = time.perf_counter()
    compute_scene(start, sat=sat)
    compute_scene(start + np.arange(0, 600, 10).astype("timedelta64[s]"), sat=sat)  # compile, load tables
    print(f"first calls (load tables, compile): {time.perf_counter() - t0:.2f} s")

    scalar = []
    for k in range(1, args.scalar + 1):
        t = start + np.timedelta64(k * 61, "s")
        a = time.perf_counter()
        compute_scene(t, sat=sat)
        scalar.append(time.perf_counter() - a)
    per_scalar = statistics.median(scalar)

    series = []
    for k in range(args.repeat):
        ts = start + np.timedelta64(7 * (k + 1), "s") + (np.arange(N_SERIES) * STEP_S).astype("timedelta64[s]")
        a = time.perf_counter()
        s = compute_scene(ts, sat=sat)
        series.append(time.perf_counter() - a)
        assert len(s) == N_SERIES
    per_series = statistics.median(series) / N_SERIES
    print(f"compute_scene, one instant, warm: median {1e3 * per_scalar:.1f} ms over {args.scalar} "
          f"(max {1e3 * max(scalar):.1f} ms; goal <= 50 ms)")
    print(f"compute_scene, {N_SERIES} instants at {STEP_S} s: median {statistics.median(series):.2f} s over "
          f"{args.repeat} = {1e3 * per_series:.3f} ms per instant (goal <= 2 ms); "
          f"{per_scalar / per_series:.0f}x the scalar path per instant")


if __name__ == "__main__":
    main()
