#!/usr/bin/env bash
# Set up everything on a fresh machine (Python 3.11 + pip) and run cupola.
#   ./run.sh          install, then run the main job (the seed stories) on the bundled defaults
#   ./run.sh test     install, then run the whole test suite, then once more the tests of the
#                     kernels that have a numpy twin with CUPOLA_NO_JIT=1 (the twins instead)
#   ./run.sh bench    install, then run the benchmarks (slow: includes skyfield on 1M instants)
#   ./run.sh ARGS     install, then `cupola ARGS` (relative paths are the caller's: the working
#                     directory is kept)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")" && pwd)"
PY=${PYTHON:-python3}
VENV="$ROOT/.venv"
if [ ! -x "$VENV/bin/python" ]; then
  "$PY" -m venv "$VENV"
fi
stamp="$VENV/.cupola-installed"
if [ ! -f "$stamp" ] || [ "$ROOT/pyproject.toml" -nt "$stamp" ]; then
  "$VENV/bin/python" -m pip install --quiet --upgrade pip
  "$VENV/bin/python" -m pip install --quiet -e "$ROOT[test,web]"
  touch "$stamp"
fi
case "${1:-demo}" in
  demo) shift || true; exec "$VENV/bin/cupola" demo "$@" ;;
  test) shift
    cd "$ROOT"  # the tests and their data paths are the project's
    # The browser tests drive Debian's Chromium through Playwright (never a downloaded browser).
    if [ ! -x /usr/bin/chromium ] && [ ! -x /usr/bin/chromium-headless-shell ]; then
      if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        echo "== installing Debian's chromium and chromium-headless-shell for the browser tests"
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
          chromium chromium-headless-shell >/dev/null \
          || echo "== could not install chromium: the browser tests will be skipped (they fail when CI=true)"
      else
        echo "== no /usr/bin/chromium and no root to install it: the browser tests will be skipped (they fail when CI=true)"
      fi
    fi
    if [ "$#" -gt 0 ]; then exec "$VENV/bin/python" -m pytest "$@"; fi
    "$VENV/bin/python" -m pytest
    echo "== the same kernels' numpy twins (CUPOLA_NO_JIT=1)"
    CUPOLA_NO_JIT=1 exec "$VENV/bin/python" -m pytest -q -m numpy_twin ;;
  bench) shift; cd "$ROOT"; for b in benchmarks/bench_*.py; do echo "== $b"; "$VENV/bin/python" "$b" "$@"; done ;;
  *) exec "$VENV/bin/cupola" "$@" ;;
esac
