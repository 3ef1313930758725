"""Benchmark: state (TEME, lat/lon/alt, sunlit) for N instants, cupola versus skyfield.

skyfield side: ``EarthSatellite.at`` + ``wgs84.latlon_of`` + ``wgs84.height_of`` +
``is_sunlit(de421)``, run in chunks of 100,000 instants because one call on 1,000,000 instants
needs ~20 GB. Same element set, same instants, same process. Prints both times, the ratio and
cupola's peak memory (measured in a child process so skyfield's memory does not count).

    .venv/bin/python benchmarks/bench_orbit.py            # 1,000,000 instants (~2 min)
    .venv/bin/python benchmarks/bench_orbit.py --n 200000 # quicker
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np

L1 = "1 25544U 98067A   24022.37051078  .00025408  00000-0  45565-3 0  9998"
L2 = "2 25544  51.6435 322.8411 0004875 117.1497  28.5107 15.49747298435787"
SKYFIELD_CHUNK = 100_000


def instants(n: int) -> np.ndarray:
    """Return n instants spread over 24 h from the set's epoch day (a dense, realistic span)."""
    start = np.datetime64("2024-01-22T00:00:00", "ns")
    return start + (np.arange(n, dtype=np.int64) * (86_400_000_000_000 // n)).astype("timedelta64[ns]")


def run_cupola(n: int, repeat: int = 3) -> dict:
    import resource

    from cupola.api import Satellite

    sat = Satellite.from_tle(L1, L2)
    t = instants(n)
    sat.at(t[:1000])  # warm caches (ephemeris load, timescale)
    best = np.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        st = sat.at(t)
        _ = (st.lat_deg, st.lon_deg, st.alt_km, st.sunlit)
        best = min(best, time.perf_counter() - t0)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    t0 = time.perf_counter()
    sat.at(t, exact=True)  # SGP4 called at every instant (no Hermite fill)
    exact = time.perf_counter() - t0
    return {"seconds": best, "exact_seconds": exact, "peak_rss_mb": peak_mb,
            "sunlit_fraction": float(st.sunlit.mean())}


def run_skyfield(n: int) -> dict:
    import warnings

    from skyfield.api import EarthSatellite, load, load_file, wgs84

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # skyfield-data's IERS file age; unused here
        from skyfield_data import get_skyfield_data_path

    ts = load.timescale(builtin=True)
    eph = load_file(os.path.join(get_skyfield_data_path(), "de421.bsp"))
    sat = EarthSatellite(L1, L2, "ISS", ts)
    t64 = instants(n)
    secs = (t64 - np.datetime64("2024-01-22T00:00:00", "ns")).astype(np.int64) / 1e9
    t0 = time.perf_counter()
    lit_sum = 0
    for a in range(0, n, SKYFIELD_CHUNK):
        t = ts.utc(2024, 1, 22, 0, 0, secs[a : a + SKYFIELD_CHUNK])
        pos = sat.at(t)
        lat, lon = wgs84.latlon_of(pos)
        h = wgs84.height_of(pos)
        lit = pos.is_sunlit(eph)
        lit_sum += int(lit.sum())
        del pos, lat, lon, h, lit
    return {"seconds": time.perf_counter() - t0, "sunlit_fraction": lit_sum / n}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(run_cupola(args.n)))
        return
    out = subprocess.run([sys.executable, __file__, "--n", str(args.n), "--child"],
                         check=True, capture_output=True, text=True).stdout
    cup = json.loads(out.strip().splitlines()[-1])
    sky = run_skyfield(args.n)
    ratio = sky["seconds"] / cup["seconds"]
    print(f"instants:            {args.n:,}")
    print(f"cupola  Satellite.at: {cup['seconds']:.3f} s  (best of 3, peak RSS {cup['peak_rss_mb']:.0f} MB)")
    print(f"skyfield (chunked {SKYFIELD_CHUNK:,}): {sky['seconds']:.1f} s")
    print(f"ratio:               {ratio:.0f}x faster  (goal >= 100x)")
    print(f"cupola exact=True:   {cup['exact_seconds']:.3f} s  ({sky['seconds'] / cup['exact_seconds']:.0f}x; SGP4 at every instant)")
    print(f"sunlit fraction:     cupola {cup['sunlit_fraction']:.6f}  skyfield {sky['sunlit_fraction']:.6f}")


if __name__ == "__main__":
    main()
