"""The coverage-guided fuzz targets ``fuzz/fuzz_elements.py`` and ``fuzz/fuzz_exif.py`` (atheris) run for a bounded
number of inputs.

``fuzz_elements.py`` seeds from ``tests/fuzz_corpus/`` (built by ``tools/build_fuzz_corpus.py`` from the bundled
element sets and the OMM fixtures); each input goes to parse_tle, parse_omm, parse_element_sets and to_utc64.
``fuzz_exif.py`` seeds from ``tests/fuzz_corpus_exif/`` (small JPEG, PNG and TIFF photographs with the EXIF of the
station's Nikon bodies, and bare EXIF blocks, built by the same tool); each input is a photograph file (or an EXIF
block put into a valid JPEG) given to read_photo and load_pixels. The seeds are copied to a temporary folder so
that the inputs libFuzzer adds to its corpus stay out of the repository, with a fixed seed so that every run
explores the same inputs. Any exception but the readers' own errors, or a bad message or value, is a crash:
libFuzzer stops, writes the input as ``crash-*`` and exits non-zero, and the test fails showing it.
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
EXIF_TARGET = ROOT / "fuzz" / "fuzz_exif.py"
EXIF_CORPUS = ROOT / "tests" / "fuzz_corpus_exif"
# Photographs per run (~20 s here: a few ms each, exifread instrumented too).
EXIF_RUNS = 10_000
# Seconds one input may take before libFuzzer calls it a hang (a crash too): a hostile file is read in
# milliseconds, the slowest in a fraction of a second.
EXIF_INPUT_TIMEOUT_S = 30


def _run_target(target: Path, corpus: Path, runs: int, tmp_path: Path, *extra: str) -> subprocess.CompletedProcess:
    """Run `target` on a copy of `corpus` for `runs` inputs (seed 1, inputs of at most 8 kB); return the result,
    failing the test on a crash file or a non-zero exit."""
    work = tmp_path / "corpus"
    shutil.copytree(corpus, work)
    assert len(list(work.iterdir())) >= 10
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")])}
    cmd = [sys.executable, str(target), str(work), f"-atheris_runs={runs}", "-seed=1", "-max_len=8192",
           f"-artifact_prefix={tmp_path}{os.sep}", "-print_final_stats=1", *extra]
    # The timeout only catches a hang (itself a bug); the work is bounded by the number of runs.
    done = subprocess.run(cmd, capture_output=True, text=True, errors="replace", timeout=900, cwd=tmp_path, env=env)
    crashes = sorted(p.name for p in tmp_path.glob("crash-*")) + sorted(p.name for p in tmp_path.glob("timeout-*"))
    assert done.returncode == 0 and not crashes, (crashes, done.stderr[-4000:])
    return done


@pytest.mark.fuzz
def test_element_and_time_parsers_survive_coverage_guided_fuzzing(tmp_path):
    pytest.importorskip("atheris")
    done = _run_target(TARGET, CORPUS, RUNS, tmp_path)
    m = re.search(r"fuzz_elements: (\d+) inputs, (\d+) element sets parsed, (\d+) times read", done.stderr)
    assert m, done.stderr[-2000:]
    inputs, sets, times = map(int, m.groups())
    print(f"atheris: {inputs} inputs to each of parse_tle, parse_omm, parse_element_sets, to_utc64; "
          f"{sets} element sets and {times} times accepted")
    assert inputs >= 10_000
    assert sets > 0 and times > 0  # the seeds themselves parse: the target exercises the accepting paths too


@pytest.mark.fuzz
def test_photo_reader_survives_coverage_guided_fuzzing(tmp_path):
    pytest.importorskip("atheris")
    done = _run_target(EXIF_TARGET, EXIF_CORPUS, EXIF_RUNS, tmp_path, f"-timeout={EXIF_INPUT_TIMEOUT_S}")
    m = re.search(r"fuzz_exif: (\d+) inputs, (\d+) photos read, (\d+) refused", done.stderr)
    assert m, done.stderr[-2000:]
    inputs, read, refused = map(int, m.groups())
    print(f"atheris: {inputs} photographs to read_photo and load_pixels; {read} read, {refused} refused")
    assert inputs >= 10_000
    assert read > 0 and refused > 0  # the seeds themselves are read: the target exercises the accepting paths too
