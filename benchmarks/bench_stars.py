"""Benchmark: which of the 117,955 Hipparcos stars stand above the Earth's limb at 1,000 instants.

cupola: ``visible_stars(state, mag_limit=None)`` (star vectors to TEME once, then a numba dot
product per star and instant against the nadir, parallel over instants). Baselines in the same
process: the same test written as chunked numpy matrix products, and skyfield's
``(earth + satellite).at(t).observe(Star(...)).apparent().is_behind_earth()`` on a vector Star of the whole
catalogue for a few instants, extrapolated to all of them (skyfield's sphere has no atmosphere, so
its counts differ slightly; only its time is compared). The station states are computed before
timing starts.

    .venv/bin/python benchmarks/bench_stars.py              # 1,000 instants
    .venv/bin/python benchmarks/bench_stars.py --n 10000 --skyfield-instants 0
"""

from __future__ import annotations

import argparse
import datetime
import json
import time

import numpy as np

L1 = "1 25544U 98067A   24022.37051078  .00025408  00000-0  45565-3 0  9998"
L2 = "2 25544  51.6435 322.8411 0004875 117.1497  28.5107 15.49747298435787"


def best_of(fn, repeat=3):
    best = np.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=1000, help="instants (one every 5.4 s over 90 min)")
    ap.add_argument("--skyfield-instants", type=int, default=3)
    args = ap.parse_args()

    from cupola.api import Satellite
    from cupola.sky import catalog, visible_stars
    from cupola.sky.stars import ATMOSPHERE_KM, _scaled, _teme_dirs_at
    from cupola.timebase import instants

    t0 = time.perf_counter()
    cat = catalog()
    load_s = time.perf_counter() - t0
    sat = Satellite.from_tle(L1, L2)
    t = np.datetime64("2024-01-22T09:00:00", "ns") + (np.arange(args.n) * (5_580_000_000_000 // args.n)).astype("timedelta64[ns]")
    st = sat.at(t)
    visible_stars(sat.at(t[:2]), mag_limit=None)  # warm: jit cache, rotation
    cupola_s, view = best_of(lambda: visible_stars(st, mag_limit=None))

    # numpy twin of the same test (float64, chunks of 64 instants)
    def numpy_twin():
        mid = instants(t[len(t) // 2])
        a, s = _scaled(ATMOSPHERE_KM)
        dirs = _teme_dirs_at(cat, mid) * s
        d = dirs / np.linalg.norm(dirs, axis=-1, keepdims=True)
        o = st.r_teme_km * s
        ro = np.linalg.norm(o, axis=-1)
        nadir = -o / ro[:, None]
        cl = np.sqrt(1.0 - (a / ro) ** 2)
        out = np.empty(len(t), np.int64)
        for i in range(0, len(t), 64):
            out[i : i + 64] = np.count_nonzero(nadir[i : i + 64] @ d.T <= cl[i : i + 64, None], axis=1)
        return out

    numpy_s, counts_np = best_of(numpy_twin, repeat=1)
    result = {
        "stars": len(cat), "instants": args.n, "catalogue_load_s": round(load_s, 3),
        "cupola_s": round(cupola_s, 4), "numpy_twin_s": round(numpy_s, 4),
        "counts_equal_numpy": bool(np.array_equal(counts_np, view.count)),
        "mean_visible": float(view.count.mean()),
    }
    if args.skyfield_instants:
        from skyfield.api import EarthSatellite, Star
        from skyfield.units import Angle

        from cupola.ephemeris import kernel
        from cupola.timebase import timescale

        ts = timescale()
        eph = kernel()
        es = EarthSatellite(L1, L2, "ISS", ts)
        star = Star(ra=Angle(degrees=cat.ra_deg), dec=Angle(degrees=cat.dec_deg),
                    ra_mas_per_year=cat.pm_ra_mas_yr, dec_mas_per_year=cat.pm_dec_mas_yr,
                    parallax_mas=np.where(cat.parallax_mas > 0, cat.parallax_mas, 1e-6),
                    epoch=ts.J(1991.25))
        k = args.skyfield_instants
        t0 = time.perf_counter()
        for i in range(k):
            ti = ts.from_datetime(t[i * (len(t) // k)].astype("datetime64[us]").item().replace(
                tzinfo=datetime.timezone.utc))
            (eph["earth"] + es).at(ti).observe(star).apparent().is_behind_earth()
        per = (time.perf_counter() - t0) / k
        result["skyfield_per_instant_s"] = round(per, 4)
        result["skyfield_extrapolated_s"] = round(per * args.n, 1)
        result["ratio_skyfield_over_cupola"] = round(per * args.n / cupola_s, 1)
    print(f"cupola visible_stars: {len(cat)} stars x {args.n} instants in {cupola_s:.3f} s")
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
