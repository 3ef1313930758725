"""The coverage-guided fuzz target ``fuzz/fuzz_elements.py`` (atheris) run for a bounded number of inputs.

It seeds from ``tests/fuzz_corpus/`` (built by ``tools/build_fuzz_corpus.py`` from the bundled element sets and
the OMM fixtures), copied to a temporary folder so that the inputs libFuzzer adds to its corpus stay out of the
repository, with a fixed seed so that every run explores the same inputs. Each input goes to parse_tle,
parse_omm, parse_element_sets and to_utc64; any exception but their own errors, or a bad message, is a crash:
libFuzzer stops, writes the input as ``crash-*`` and exits non-zero, and this test fails showing it.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TARGET = ROOT / "fuzz" / "fuzz_elements.py"
CORPUS = ROOT / "tests" / "fuzz_corpus"
# Inputs per run: each one reaches all four parsers, so this is the count per parser.
RUNS = 12_000


@pytest.mark.fuzz
def test_element_and_time_parsers_survive_coverage_guided_fuzzing(tmp_path):
    pytest.importorskip("atheris")
    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS, corpus)
    seeds = len(list(corpus.iterdir()))
    assert seeds >= 10
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")])}
    cmd = [sys.executable, str(TARGET), str(corpus), f"-atheris_runs={RUNS}", "-seed=1", "-max_len=8192",
           f"-artifact_prefix={tmp_path}{os.sep}", "-print_final_stats=1"]
    # The timeout only catches a hang (itself a bug); the work is bounded by the number of runs.
    done = subprocess.run(cmd, capture_output=True, text=True, errors="replace", timeout=900, cwd=tmp_path, env=env)
    crashes = sorted(p.name for p in tmp_path.glob("crash-*"))
    assert done.returncode == 0 and not crashes, (crashes, done.stderr[-4000:])
    m = re.search(r"fuzz_elements: (\d+) inputs, (\d+) element sets parsed, (\d+) times read", done.stderr)
    assert m, done.stderr[-2000:]
    inputs, sets, times = map(int, m.groups())
    print(f"atheris: {inputs} inputs to each of parse_tle, parse_omm, parse_element_sets, to_utc64; "
          f"{sets} element sets and {times} times accepted")
    assert inputs >= 10_000
    assert sets > 0 and times > 0  # the seeds themselves parse: the target exercises the accepting paths too
