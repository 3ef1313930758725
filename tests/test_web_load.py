"""A bounded load run against `cupola serve` in its own process, on loopback (issue 17's load and soak, in the
suite): the web API's figures in the README come from ``benchmarks/bench_web.py`` (5 minutes of mixed load);
this runs the same phases, shorter, with the same client code, and asserts what must hold however loaded the
machine is (no timing is asserted):

- every answer is 200, or a refusal that says so and when to come back (429 from the per-client token bucket,
  503 with Retry-After from a full queue): never a 5xx else, never a request left without an answer;
- a flood of renders larger than the worker and its queue is refused in part, at once, not queued;
- over a mixed soak (where new and repeated, track, renders, plans) the server's resident memory stops growing:
  the mean RSS of the soak's last quarter is within ``RSS_GROWTH_MB`` of its second quarter's (the first
  quarter fills the LRU stores);
- SIGTERM at the end stops the server with 143 and it leaves nothing in its temporary root.

``python -m pytest -s tests/test_web_load.py`` prints the figures (answers/s, p50, p99, RSS).
"""

from __future__ import annotations

import importlib.util
import sys
import threading
from pathlib import Path

import httpx
import numpy as np
import pytest
from test_web_hostile import free_port, listing, proc_status, start_server, stop

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("bench_web", ROOT / "benchmarks" / "bench_web.py")
bench_web = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench_web)
iso = bench_web.iso

SEED1 = bench_web.SEED1
PHASE_S = 4.0     # each /api/where phase
SOAK_S = 40.0     # the mixed soak
THREADS = 4       # concurrent clients
FLOOD = 16        # renders sent at once: more than the one worker and its 8 queued places
# What the server's RSS may still grow between the soak's second and last quarters (the bench's 5-minute soak grew
# 12 MB from its first quarter to its last, once the stores were full).
RSS_GROWTH_MB = 100.0
REFUSALS = {429, 503}


def _figures(label: str, rps: float, lat: np.ndarray, codes: dict) -> str:
    p50, p99 = (np.percentile(lat, [50, 99]) * 1e3) if len(lat) else (float("nan"),) * 2
    return f"{label}: {rps:.1f} answers/s, p50 {p50:.0f} ms, p99 {p99:.0f} ms, statuses {codes}"


def _answered(codes: dict, label: str) -> None:
    assert set(codes) <= {200} | REFUSALS, (label, codes)
    assert codes.get(200, 0) > 0, (label, codes)


@pytest.mark.slow
@pytest.mark.skipif(sys.platform != "linux", reason="reads /proc for the server's memory")
def test_load_overload_and_soak_against_cupola_serve(tmp_path):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    proc = start_server(tmp_path, port)
    lines = []
    try:
        hot = [iso(SEED1 + np.timedelta64(5 * k, "s")) for k in range(64)]
        with httpx.Client(base_url=base, timeout=120) as c:
            for t in hot:
                assert c.get("/api/where", params={"t": t}).status_code == 200
        rng = np.random.default_rng(3)
        lock = threading.Lock()

        def pick(seq):
            with lock:
                return seq[int(rng.integers(len(seq)))]

        rps, lat, codes = bench_web.load(base, lambda: f"/api/where?t={pick(hot)}", PHASE_S, THREADS)
        _answered(codes, "where, cache hits")
        lines.append(_figures("/api/where, cache hits", rps, lat, codes))

        counter = iter(range(10**9))

        def new_instant(offset: int) -> str:
            with lock:
                return iso(SEED1 + np.timedelta64(offset + next(counter), "s"))

        rps, lat, codes = bench_web.load(base, lambda: f"/api/where?t={new_instant(1000)}", PHASE_S, THREADS)
        _answered(codes, "where, new instants")
        lines.append(_figures("/api/where, a new instant each", rps, lat, codes))

        got = bench_web.flood(base, lambda i: f"/api/render?t={iso(SEED1 + np.timedelta64(500 + 3 * i, 's'))}"
                                              "&w=640&h=360&format=jpeg", FLOOD)
        statuses = sorted(code for code, _dt, _ra in got)
        assert len(got) == FLOOD and set(statuses) <= {200, 503}, statuses
        refused = [(dt, ra) for code, dt, ra in got if code == 503]
        assert refused and all(ra for _dt, ra in refused), got  # past the queue: refused, with when to come back
        assert statuses.count(200) >= 1, got
        lines.append(f"flood of {FLOOD} renders: {statuses.count(200)} answered, {len(refused)} refused 503 "
                     f"(slowest refusal {max(dt for dt, _ra in refused) * 1e3:.0f} ms)")

        mixed_url = bench_web.mixed_urls(pick, lambda: new_instant(90_000), hot, 320, 180)

        samples, done = [], threading.Event()

        def sample():
            while not done.wait(0.5):
                samples.append(proc_status(proc.pid, "VmRSS") / 2**20)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        rps, lat, codes = bench_web.load(base, mixed_url, SOAK_S, THREADS)
        done.set()
        sampler.join()
        _answered(codes, "mixed soak")
        q = len(samples) // 4
        assert q >= 10, samples
        second, last = float(np.mean(samples[q:2 * q])), float(np.mean(samples[-q:]))
        lines.append(_figures(f"mixed soak {SOAK_S:g} s", rps, lat, codes)
                     + f"; server RSS second quarter {second:.0f} MB, last {last:.0f} MB, peak {max(samples):.0f} MB")
        assert last - second < RSS_GROWTH_MB, samples
    finally:
        if proc.poll() is None:
            code, err, _dt = stop(proc, 30)
        else:
            code, err = proc.returncode, proc.communicate()[1]
    print("\n" + "\n".join(lines))
    assert code == 143 and "Traceback" not in err, err[-2000:]
    assert listing(tmp_path / "tmp") == []
