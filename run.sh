#!/usr/bin/env bash
# Set up everything on a fresh machine (Python 3.11 + pip) and run cupola.
#   ./run.sh          install, then run the main job (the seed stories) on the bundled defaults
#   ./run.sh test     install, then run the whole test suite, then once more the tests of the
#                     kernels that have a numpy twin with CUPOLA_NO_JIT=1 (the twins instead)
#   ./run.sh bench    install, then run the benchmarks (slow: includes skyfield on 1M instants)
set -euo pipefail
cd "$(dirname "$0")"
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
stamp=.venv/.cupola-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -e ".[test]"
  touch "$stamp"
fi
case "${1:-demo}" in
  demo) shift || true; exec .venv/bin/cupola demo "$@" ;;
  test) shift
    if [ "$#" -gt 0 ]; then exec .venv/bin/python -m pytest "$@"; fi
    .venv/bin/python -m pytest
    echo "== the same kernels' numpy twins (CUPOLA_NO_JIT=1)"
    CUPOLA_NO_JIT=1 exec .venv/bin/python -m pytest -q -m numpy_twin ;;
  bench) shift; for b in benchmarks/bench_*.py; do echo "== $b"; .venv/bin/python "$b" "$@"; done ;;
  *) exec .venv/bin/cupola "$@" ;;
esac
