"""Benchmark: the web API on loopback, a bounded load run against `cupola serve` in its own process
(goals: /api/where >= 200 requests/s with p99 < 200 ms; /api/render at 1280x720 <= 0.5 s warm; overload
refused at once with 503 and Retry-After, never queued; the server's RSS bounded under mixed load).

    .venv/bin/python benchmarks/bench_web.py [--seconds 10] [--threads 8] [--flood 32] [--mixed-seconds 30]
    .venv/bin/python benchmarks/bench_web.py --mixed-seconds 300     # the 5-minute mixed run

Each phase also prints the server's peak RSS during it (VmHWM, reset before the phase through
/proc/PID/clear_refs; the peak since start where that cannot be written).

Phases (each prints answers 200 per second and their p50 and p99, and the count of each status: all
the load comes from one client address, so past 400 requests/s the per-client token bucket answers
429, as it should):
1. /api/where over 64 instants a few seconds apart, asked again and again (what a page's slider and
   many viewers of one moment ask): after the first round every answer is a cache hit;
2. /api/where at a new instant each request (no cache hit: one Scene each, ~15-60 ms of work in
   the one worker thread);
3. /api/render 1280x720 JPEG of seed 1, warm (median and best of 7): the same instant again (its
   Scene from the cache, as when the page asks where then render), then a new instant each;
4. overload: --flood requests at once (a barrier) of 1280x720 renders at new instants, more than the
   one worker and its 8 queued places: how many are answered, how many refused 503 with Retry-After,
   and how fast each kind comes back;
5. mixed: where (new and repeated instants), track, 640x360 renders and plans from --threads
   clients, the server's RSS (VmRSS) sampled each second: first, peak and last.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import numpy as np

SEED1 = np.datetime64("2024-01-19T16:02:54", "s")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(port: int) -> subprocess.Popen:
    cmd = [sys.executable, "-c", "import sys; from cupola.cli import main; sys.exit(main())", "serve", "--port",
           str(port)]
    proc = subprocess.Popen(cmd, env=os.environ.copy(), stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/api/presets", timeout=1)
            return proc
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("the server did not start")


def rss_mb(pid: int, key: str = "VmRSS") -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024
    return float("nan")


def reset_peak(pid: int) -> None:
    """Set the process's peak RSS (VmHWM) to its RSS now, where Linux allows it."""
    try:
        with open(f"/proc/{pid}/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass


def flood(base: str, url, n: int):
    """Send `n` requests at once (a barrier across `n` clients); return [(status, seconds, Retry-After)]."""
    barrier = threading.Barrier(n)

    def one(i):
        with httpx.Client(base_url=base, timeout=300) as c:
            c.get("/api/presets")  # connected before the barrier
            barrier.wait()
            t = time.perf_counter()
            r = c.get(url(i))
            return r.status_code, time.perf_counter() - t, r.headers.get("retry-after")

    with ThreadPoolExecutor(n) as ex:
        return list(ex.map(one, range(n)))


def iso(t) -> str:
    return str(np.datetime64(t, "s")) + "Z"


def load(base: str, urls, seconds: float, threads: int):
    """Ask `urls()` (a function giving the next URL) from `threads` clients for `seconds`; return
    (answers 200 per second, latencies in s of those, status counts)."""
    stop = time.monotonic() + seconds
    lat, codes, lock = [], {}, threading.Lock()

    def worker():
        with httpx.Client(base_url=base, timeout=30) as c:
            while time.monotonic() < stop:
                url = urls()
                t = time.perf_counter()
                r = c.get(url)
                dt = time.perf_counter() - t
                with lock:
                    if r.status_code == 200:
                        lat.append(dt)
                    codes[r.status_code] = codes.get(r.status_code, 0) + 1

    t0 = time.perf_counter()
    with ThreadPoolExecutor(threads) as ex:
        for f in [ex.submit(worker) for _ in range(threads)]:
            f.result()
    return len(lat) / (time.perf_counter() - t0), np.array(lat), codes


# The mixed load's requests, by weight: where at new and at repeated instants, track, renders and plans.
MIXED_KINDS = ("where_new", "where_hot", "where_hot", "where_hot", "track", "render", "plan")


def mixed_urls(pick, new_instant, hot, w: int, h: int):
    """Return a function giving the mixed load's next URL: `pick(seq)` draws an element (thread-safe if the
    clients share it), `new_instant()` gives an instant not asked before, `hot` the instants asked again,
    renders are `w` x `h` JPEGs."""
    def url() -> str:
        kind = pick(MIXED_KINDS)
        if kind == "where_new":
            return f"/api/where?t={new_instant()}"
        if kind == "where_hot":
            return f"/api/where?t={pick(hot)}"
        if kind == "track":
            return f"/api/track?t={iso(SEED1 + np.timedelta64(int(pick(range(3600))), 's'))}"
        if kind == "render":
            return f"/api/render?t={pick(hot)}&w={w}&h={h}&format=jpeg"
        return "/api/plan?kind=sunrise&from=2024-01-19T12:00:00Z&to=2024-01-19T18:00:00Z"
    return url


def report(label: str, rps: float, lat: np.ndarray, codes: dict, goal: str = "", pid: int | None = None) -> None:
    p50, p99 = np.percentile(lat, [50, 99]) * 1e3
    peak = f", server peak RSS {rss_mb(pid, 'VmHWM'):.0f} MB" if pid else ""
    print(f"{label}: {rps:,.0f} answers/s, p50 {p50:.1f} ms, p99 {p99:.1f} ms{peak}, answers {codes}" +
          (f"  ({goal})" if goal else ""))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=10.0, help="each /api/where phase (default 10)")
    ap.add_argument("--threads", type=int, default=8, help="concurrent clients (default 8)")
    ap.add_argument("--flood", type=int, default=32, help="renders sent at once in the overload phase (default 32)")
    ap.add_argument("--mixed-seconds", type=float, default=30.0, help="the mixed run (default 30; 300 = 5 min)")
    args = ap.parse_args()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    proc = start_server(port)
    try:
        with httpx.Client(base_url=base, timeout=120) as c:
            t = time.perf_counter()
            c.get("/api/where", params={"t": iso(SEED1)})
            print(f"first /api/where (cold process: tables and kernels load): {time.perf_counter() - t:.2f} s")
            hot = [iso(SEED1 + np.timedelta64(5 * k, "s")) for k in range(64)]
            for t_ in hot:
                c.get("/api/where", params={"t": t_})
        rng = np.random.default_rng(1)
        reset_peak(proc.pid)
        report("/api/where, 64 instants asked again (cache hits)",
               *load(base, lambda: f"/api/where?t={hot[rng.integers(64)]}", args.seconds, args.threads),
               goal=">= 200 requests/s, p99 < 200 ms", pid=proc.pid)
        counter = iter(range(10**9))
        reset_peak(proc.pid)
        report("/api/where, a new instant each request (no cache)",
               *load(base, lambda: f"/api/where?t={iso(SEED1 + np.timedelta64(1000 + next(counter), 's'))}",
                     args.seconds, args.threads), pid=proc.pid)

        with httpx.Client(base_url=base, timeout=120) as c:
            q = {"t": iso(SEED1), "w": 1280, "h": 720, "camera": "Z9", "look": "horizon:ahead,6", "exposure": "10",
                 "iso": 6400, "tracked": "true", "format": "jpeg"}
            c.get("/api/render", params=q)
            reset_peak(proc.pid)
            times = []
            for _ in range(7):
                t = time.perf_counter()
                r = c.get("/api/render", params=q)
                times.append(time.perf_counter() - t)
                assert r.status_code == 200, r.text
            print(f"/api/render 1280x720 JPEG warm, one instant again (its Scene cached): median "
                  f"{statistics.median(times) * 1e3:.0f} ms, best {min(times) * 1e3:.0f} ms "
                  f"({len(r.content) / 1e3:.0f} kB; goal <= 500 ms)")
            times = []
            for k in range(7):
                t = time.perf_counter()
                r = c.get("/api/render", params={**q, "t": iso(SEED1 + np.timedelta64(7 * k + 1, "s"))})
                times.append(time.perf_counter() - t)
                assert r.status_code == 200, r.text
            print(f"/api/render 1280x720 JPEG warm, a new instant each (Scene computed): median "
                  f"{statistics.median(times) * 1e3:.0f} ms, best {min(times) * 1e3:.0f} ms (goal <= 500 ms); "
                  f"server peak RSS over both {rss_mb(proc.pid, 'VmHWM'):.0f} MB")

        reset_peak(proc.pid)
        got = flood(base, lambda i: f"/api/render?t={iso(SEED1 + np.timedelta64(500 + 3 * i, 's'))}&w=1280&h=720"
                                    "&format=jpeg", args.flood)
        ok = sorted(dt for code, dt, _ in got if code == 200)
        busy = sorted(dt for code, dt, ra in got if code == 503 and ra)
        other = {code: sum(1 for c_, *_ in got if c_ == code) for code, *_ in got if code not in (200, 503)}
        print(f"overload: {args.flood} renders 1280x720 at once: {len(ok)} answered 200 (in {ok[0]:.2f} to "
              f"{ok[-1]:.2f} s), {len(busy)} refused 503 with Retry-After (median {statistics.median(busy) * 1e3:.0f} "
              f"ms, slowest {busy[-1] * 1e3:.0f} ms)" + (f", others {other}" if other else "") +
              f"; server peak RSS {rss_mb(proc.pid, 'VmHWM'):.0f} MB" if ok and busy else f"overload: {got}")

        counter2 = iter(range(10**9))
        mixed_url = mixed_urls(lambda seq: seq[rng.integers(len(seq))],
                               lambda: iso(SEED1 + np.timedelta64(90_000 + next(counter2), "s")), hot, 640, 360)

        reset_peak(proc.pid)
        samples = [rss_mb(proc.pid)]
        done = threading.Event()

        def sample():
            while not done.wait(1.0):
                samples.append(rss_mb(proc.pid))

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        rps, lat, codes = load(base, mixed_url, args.mixed_seconds, args.threads)
        done.set()
        sampler.join()
        samples.append(rss_mb(proc.pid))
        report(f"mixed load for {args.mixed_seconds:g} s", rps, lat, codes)
        q = len(samples) // 4 or 1
        print(f"server RSS: first {samples[0]:.0f} MB, peak {max(samples):.0f} MB (VmHWM "
              f"{rss_mb(proc.pid, 'VmHWM'):.0f} MB), last {samples[-1]:.0f} MB; "
              f"mean of the first quarter {np.mean(samples[:q]):.0f} MB, of the last {np.mean(samples[-q:]):.0f} MB")
    finally:
        proc.terminate()
        proc.wait(10)


if __name__ == "__main__":
    main()
