"""cupola batch at catalogue scale: synthetic photo records through run_batch on a LocalCluster.

Prints the wall time and rows/s of the where fields (1 and 2 workers: the scaling) and of the
where fields with the in_view summary, and the same kind of rows through the single-instant API
(``where_json(compute_scene(t))``, one call per row) on a small sample, for the ratio.

    python benchmarks/bench_batch.py                      # 1,000,000 rows (where), in_view on as many
    python benchmarks/bench_batch.py --rows 200000 --in-view-rows 50000 --in-view-workers 1,2
    python benchmarks/bench_batch.py --scaling --rows 100000   # the same job on 1 and 2 workers

``--scaling`` runs one job (``--columns``, default where and in_view) on a LocalCluster of worker
processes with one thread each, first with 1 worker then with 2, and prints rows/s, the ratio,
and each worker's parts and CPU seconds (from the parts' sidecars): on a loaded machine the wall
ratio says how much of the machine the job got, the CPU split whether the work was shared evenly.

Times are ISO text inside the bundled element sets' spans (2024-01-18..24, 2021-05-01..02), with
one row in 1,000 unreadable on purpose. Wall times include starting the cluster (~3 s) and each
worker's first loading of cupola's tables (reported apart); the CPU seconds the parts took are
printed too, since on a shared machine the wall time says more about the other work.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from cupola.answers.json import where_json  # noqa: E402
from cupola.batch import PART_ROWS, run_batch  # noqa: E402
from cupola.scene import compute_scene  # noqa: E402

SPANS = (("2024-01-18T00:00:00", 6 * 86400), ("2021-05-01T00:00:00", 2 * 86400))


def catalogue(n: int, seed: int = 0) -> pd.DataFrame:
    """Return n synthetic records (photo id, ISO time), one in 1,000 with a time that cannot be read."""
    rng = np.random.default_rng(seed)
    span = rng.integers(0, len(SPANS), n)
    start = np.array([np.datetime64(SPANS[k][0], "s") for k in span])
    length = np.array([SPANS[k][1] for k in span])
    t = start + rng.integers(0, length).astype("timedelta64[s]")
    text = np.char.add(np.datetime_as_string(t), "Z").astype(object)
    text[rng.random(n) < 0.001] = "not a time"
    return pd.DataFrame({"photo_id": np.char.add("ISS", np.char.zfill(np.arange(n).astype(str), 8)), "time_utc": text})


def timed_run(src: Path, tmp: Path, columns: str, workers: int, partitions: int | None = None) -> tuple[float, object]:
    out = tmp / f"out-{columns.replace(',', '+')}-{workers}.parquet"
    shutil.rmtree(out, ignore_errors=True)
    t0 = time.perf_counter()
    r = run_batch(src, out, columns=columns, workers=workers, partitions=partitions)
    wall = time.perf_counter() - t0
    shutil.rmtree(out, ignore_errors=True)
    return wall, r


def per_worker(report) -> str:
    """Return 'N parts, C CPU s' for each worker process of a run_batch report (busiest first)."""
    parts: dict[int, list[float]] = {}
    for p in report.parts:
        parts.setdefault(p.get("worker_pid", 0), []).append(p["cpu_s"])
    return "; ".join(f"{len(c)} parts, {sum(c):.1f} CPU s" for c in sorted(parts.values(), key=sum, reverse=True))


def scaling(src: Path, tmp: Path, columns: str, rows: int) -> None:
    """Run the same job on 1 and 2 workers (processes, a thread each) and print the ratio: an even
    number of parts of about the default size, so that 2 workers can share them equally."""
    per_part = PART_ROWS["in_view" if "in_view" in columns else "where"]
    parts = 2 * max(1, round(rows / (2 * per_part)))
    rate = {}
    for w in (1, 2):
        c0 = os.getloadavg()[0]
        wall, r = timed_run(src, tmp, columns, w, parts)
        rate[w] = r.rows_per_s
        cpu = sum(p["cpu_s"] for p in r.parts)
        print(f"scaling {columns}, {rows:,} rows, {w} worker{'s' if w > 1 else ' '}: {r.seconds:6.1f} s computing "
              f"({r.rows_per_s:8,.0f} rows/s; {wall:.1f} s wall with the cluster and {r.warmup_s:.1f} s warm-up), "
              f"{r.partitions} parts, {cpu:.1f} CPU s in the parts: {per_worker(r)} (load {c0:.1f} -> "
              f"{os.getloadavg()[0]:.1f})", flush=True)
    print(f"scaling 1 -> 2 workers: {rate[2] / rate[1]:.2f}x the rows/s (ideal 2x on 2 idle cores)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--in-view-rows", type=int, default=None, help="rows for the in_view runs (default --rows)")
    ap.add_argument("--workers", default="1,2", help="worker counts for the where runs")
    ap.add_argument("--in-view-workers", default="2", help="worker counts for the in_view runs")
    ap.add_argument("--sample", type=int, default=200, help="rows through the single-instant API")
    ap.add_argument("--numba-threads", default="1",
                    help="NUMBA_NUM_THREADS of each worker (default 1: a worker is one core, so 1 -> 2 workers "
                         "is 1 -> 2 cores; '' lets cupola give each worker cores / workers)")
    ap.add_argument("--scaling", action="store_true", help="only the 1 -> 2 worker scaling of one job (--rows rows)")
    ap.add_argument("--columns", default="where,in_view", help="the --scaling job's columns")
    args = ap.parse_args()
    if args.numba_threads:
        os.environ["NUMBA_NUM_THREADS"] = args.numba_threads
    print(f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    tmp = Path(tempfile.mkdtemp(prefix="cupola-bench-batch-"))
    try:
        df = catalogue(args.rows)
        src = tmp / "photos.parquet"
        df.to_parquet(src, index=False, row_group_size=100_000)  # Dask reads a row group a partition
        if args.scaling:
            scaling(src, tmp, args.columns, args.rows)
            return
        results = {}
        for columns, rows, counts in (("where", args.rows, args.workers),
                                      ("where,in_view", args.in_view_rows or args.rows, args.in_view_workers)):
            path = src
            if rows != args.rows:
                path = tmp / f"photos-{rows}.parquet"
                df.iloc[:rows].to_parquet(path, index=False, row_group_size=100_000)
            for w in (int(x) for x in counts.split(",")):
                wall, r = timed_run(path, tmp, columns, w)
                results[(columns, w)] = rows / wall
                cpu = sum(p["cpu_s"] for p in r.parts)
                print(f"{columns:14s} {rows:>9,} rows, {w} worker{'s' if w > 1 else ' '}: {wall:7.1f} s wall "
                      f"({rows / wall:9,.0f} rows/s), of which {r.warmup_s:.1f} s loading cupola on the workers "
                      f"and {r.seconds:.1f} s computing ({r.rows_per_s:,.0f} rows/s); {r.partitions} parts, "
                      f"{r.errors:,} error rows; {cpu:.0f} CPU s in the parts ({1e6 * cpu / rows:.0f} us a row: "
                      f"{cpu / 2:.0f} s on 2 idle cores; {per_worker(r)}; load {os.getloadavg()[0]:.1f})",
                      flush=True)
            ws = sorted(w for (c, w) in results if c == columns)
            if len(ws) > 1:
                print(f"{columns:14s} scaling {ws[0]} -> {ws[-1]} workers: "
                      f"{results[(columns, ws[-1])] / results[(columns, ws[0])]:.2f}x (ideal {ws[-1] / ws[0]:.0f}x)")
        sample = df[df["time_utc"] != "not a time"].sample(args.sample, random_state=1)["time_utc"]
        compute_scene(sample.iloc[0])
        t0 = time.perf_counter()
        for t in sample:
            where_json(compute_scene(t))
        per_row = args.sample / (time.perf_counter() - t0)
        n_w = min((w for c, w in results if c == "where"), default=None)  # the fewest workers measured
        ratio = f"; batch where on {n_w} worker(s) is {results[('where', n_w)] / per_row:,.0f}x that" if n_w else ""
        print(f"single-instant API (where_json(compute_scene(t)), full Scene, one process): {per_row:,.0f} rows/s"
              + ratio)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
