"""Measure a cold `cupola where` and `cupola place`: a fresh Python process each time (the way a user
runs the command), wall-clock time from start to exit, best and median of N runs.

Run: python benchmarks/bench_startup.py [N]   (default 7). The first run of a new checkout also
compiles or loads numba caches; run `cupola warmup` once before measuring.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time

COMMANDS = [
    ["where", "2021-05-02T06:56:00Z"],
    ["where", "2024-01-19T16:02:54Z", "--lang", "fr"],
    ["place", "46.8", "-71.2"],
]


def run(args: list[str], n: int, env: dict | None = None) -> list[float]:
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "cupola.cli", *args], check=True, stdout=subprocess.DEVNULL, env=env)
        times.append(time.perf_counter() - t0)
    return times


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 7
    run(COMMANDS[0], 1)  # page the files in once
    for args in COMMANDS:
        t = run(args, n)
        print(f"cupola {' '.join(args):<44} best {min(t):.2f} s  median {statistics.median(t):.2f} s  (n={n})")
    # The same first command with the compiled kernels forced at every size (cupola.jit: a one-instant
    # answer otherwise runs the numpy twins and never starts numba's CPU target).
    env = {k: v for k, v in os.environ.items() if k != "CUPOLA_NO_JIT"}
    t_auto = run(COMMANDS[0], n, env)
    t_jit = run(COMMANDS[0], n, {**env, "CUPOLA_NO_JIT": "0"})
    print(f"{' '.join(COMMANDS[0])}: tiny inputs on the twins median {statistics.median(t_auto):.2f} s, "
          f"compiled kernels (CUPOLA_NO_JIT=0) median {statistics.median(t_jit):.2f} s")


if __name__ == "__main__":
    main()
