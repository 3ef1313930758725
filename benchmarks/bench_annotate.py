"""Benchmark: `cupola annotate` end to end, stage by stage, on the shared real photograph
(4256x2832, 2012: no element set, so no Scene) and on a 24-megapixel synthetic photograph with a
known pointing (6016x4016, 2024-01-19, the Earth and its limb in the frame, every output written),
with the peak memory of the process.

    PYTHONPATH=src .venv/bin/python benchmarks/bench_annotate.py [--repeat 2] [--photo PATH]

It also times star extraction plus plate solve alone on the 24 MP frame (goal <= 0.5 s warm),
and the star-pattern database's build (once per lens field, then cached) in a fresh cache folder,
separately.

The first run of each includes the numba compilation of the kernels that are not cached yet and
the loading of the star catalogues; later runs are warm.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from cupola.answers.json import annotate_json  # noqa: E402
from cupola.photo.annotate import annotate  # noqa: E402

PHOTO = Path("/work/shared/data/photos/ISS030-E-130515.jpg")


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _report(label: str, runs: list[tuple[float, dict, dict]]) -> None:
    for k, (total, stages, answer) in enumerate(runs):
        p = answer["pointing"]
        what = (f"solved: {p['matched_stars']} stars, rms {p['rms_arcsec']}\", RA {p['ra_deg']} Dec {p['dec_deg']}"
                if p["solved"] else f"not solved ({p['reason']})")
        print(f"{label} run {k + 1}: {total:.2f} s in all; {answer['pointing']['stars_detected']} sources, {what}; "
              f"tracking {answer['tracking']}")
        print("    " + ", ".join(f"{name} {s:.2f} s" for name, s in stages.items()))
    print(f"    peak RSS of the process so far: {_peak_mb():,.0f} MB (with the synthetic photo's making, when made)")


def _run(path, repeat: int, **kw) -> list[tuple[float, dict, dict]]:
    runs = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        a = annotate(path, **kw)
        runs.append((time.perf_counter() - t0, dict(a.timings_s), annotate_json(a)))
    return runs


def _extract_and_solve(path, repeat: int) -> None:
    """Time sky mask + detection + plate solve (warm) on `path`, then a database build."""
    import os
    import statistics

    from cupola.photo.metadata import load_pixels, read_photo
    from cupola.photo.solve import fov_bucket, load_database, solve_field
    from cupola.photo.stars import detect_stars, frame_stats, sky_mask

    meta = read_photo(path)
    rgb = load_pixels(path)
    times = {"sky_mask": [], "detect": [], "solve": []}  # the luma and block statistics count in sky_mask
    cpu = []
    for _ in range(repeat + 1):  # the first run compiles / loads: not counted
        c0 = time.process_time()
        t0 = time.perf_counter()
        stats = frame_stats(rgb)
        mask = sky_mask(rgb, stats=stats)
        t1 = time.perf_counter()
        src = detect_stars(rgb, mask, stats=stats)
        t2 = time.perf_counter()
        sol = solve_field(src, meta.width_px, meta.height_px, meta.focal_px, time_utc=meta.time_utc)
        t3 = time.perf_counter()
        cpu.append(time.process_time() - c0)
        for k, v in zip(times, (t1 - t0, t2 - t1, t3 - t2)):
            times[k].append(v)
    med = {k: statistics.median(v[1:]) for k, v in times.items()}
    print(f"extraction + solve on {meta.width_px}x{meta.height_px}: {sum(med.values()):.3f} s warm median "
          f"(goal <= 0.5 s): sky mask {med['sky_mask']:.3f} s, detection {med['detect']:.3f} s "
          f"({len(src)} sources), solve {med['solve']:.3f} s ({sol.matched_stars} stars, rms {sol.rms_px:.2f} px); "
          f"CPU time of all threads {statistics.median(cpu[1:]):.3f} s on {os.cpu_count()} cores, "
          f"load average {os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory() as cache:
        old = os.environ.get("CUPOLA_CACHE_DIR")
        os.environ["CUPOLA_CACHE_DIR"] = cache
        try:
            lo, hi, _ = fov_bucket(sol.fov_deg)
            t0 = time.perf_counter()
            _, db_path, built = load_database(sol.fov_deg, 2024.0)
            print(f"star-pattern database for {lo:g}-{hi:g} deg fields built in {built:.2f} s "
                  f"({os.path.getsize(db_path) / 1e6:.1f} MB; loading it next time: cached)")
        finally:
            if old is None:
                os.environ.pop("CUPOLA_CACHE_DIR")
            else:
                os.environ["CUPOLA_CACHE_DIR"] = old


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--photo", default=str(PHOTO))
    ap.add_argument("--no-synthetic", action="store_true")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        if Path(args.photo).exists():
            runs = _run(args.photo, args.repeat, overlay=out / "real_overlay.jpg", wcs=out / "real.wcs")
            _report(f"real photo {Path(args.photo).name} (overlay, WCS)", runs)
        if not args.no_synthetic:
            from photo_synth import synth_photo

            t0 = time.perf_counter()
            sp = synth_photo(out / "synth24.jpg", width_px=6016, height_px=4016, focal_mm=24.0, model="D5",
                             look="horizon:ahead,12", exposure_s=0.5, tracked=True, jpeg_quality=85)
            print(f"synthetic 24 MP photo made in {time.perf_counter() - t0:.1f} s "
                  f"(truth: RA {sp.ra_deg:.3f} Dec {sp.dec_deg:.3f} roll {sp.roll_deg:.2f})")
            runs = _run(sp.path, args.repeat, overlay=out / "s_overlay.jpg", side_by_side=out / "s_side.jpg",
                        wcs=out / "s.wcs", lonlat=out / "s_lonlat.npz")
            _report("synthetic 6016x4016 (all outputs)", runs)
            _extract_and_solve(sp.path, args.repeat)


if __name__ == "__main__":
    main()
