"""Measure place lookup + caption throughput (captions per second) for 100,000 instants.

Run: python benchmarks/bench_caption.py [N]
The points follow a synthetic ISS-like ground track (51.6° inclination, ~15.5 orbits a day) sampled
every second, so consecutive instants share places the way a real time series does, plus a uniformly
random set as a worst case. Tables are loaded (and timed) once before the measured runs.
"""

from __future__ import annotations

import sys
import time

import numpy as np

from cupola.geo import caption, locate


def ground_track(n: int) -> tuple[np.ndarray, np.ndarray]:
    t_s = np.arange(n, dtype=np.float64)
    u = 2 * np.pi * t_s / 5554.0                      # argument of latitude, 92.6-minute orbit
    inc = np.radians(51.6)
    lat = np.degrees(np.arcsin(np.sin(inc) * np.sin(u)))
    lon = np.degrees(np.arctan2(np.cos(inc) * np.sin(u), np.cos(u)) - 7.292115e-5 * t_s)
    return lat, (lon + 180.0) % 360.0 - 180.0


def bench(label: str, lat: np.ndarray, lon: np.ndarray, lang: str) -> float:
    alt_km = 415.0 + 5.0 * np.sin(np.arange(lat.size) / 900.0)
    phase = np.where(np.arange(lat.size) % 5554 < 3500, "day", "night")
    best = np.inf
    for _ in range(3):
        t0 = time.perf_counter()
        caption(alt_km, locate(lat, lon), phase, lang=lang)
        best = min(best, time.perf_counter() - t0)
    rate = lat.size / best
    print(f"{label:<28} lang={lang}  n={lat.size}  {best:.3f} s  {rate:,.0f} captions/s")
    return rate


def bench_from_instants(n: int) -> float:
    """End to end from times: Satellite.at + phase codes + locate + caption (one instant a second)."""
    from cupola.api import Satellite
    from cupola.lighting import phases

    sat = Satellite.from_archive()
    t = np.datetime64("2024-01-22T00:00:00", "ns") + (np.arange(n) * 1_000_000_000).astype("timedelta64[ns]")
    best = np.inf
    for _ in range(3):
        t0 = time.perf_counter()
        st = sat.at(t)
        caption(st.alt_km, locate(st.lat_deg, st.lon_deg), phases(sat, st), lang="en")
        best = min(best, time.perf_counter() - t0)
    print(f"{'from instants (at+phase+caption)':<28} lang=en  n={n}  {best:.3f} s  {n / best:,.0f} captions/s")
    return n / best


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    t0 = time.perf_counter()
    caption(415.0, locate([0.0, 47.0], [0.0, 2.0]), "day")
    print(f"first call (loads tables): {time.perf_counter() - t0:.2f} s")
    lat, lon = ground_track(n)
    bench("ISS ground track, 1 s step", lat, lon, "en")
    bench("ISS ground track, 1 s step", lat, lon, "fr")
    rng = np.random.default_rng(1)
    lat_r = np.degrees(np.arcsin(rng.uniform(-np.sin(np.radians(51.6)), np.sin(np.radians(51.6)), n)))
    bench("uniform random points", lat_r, rng.uniform(-180, 180, n), "en")
    bench_from_instants(n)


if __name__ == "__main__":
    main()
