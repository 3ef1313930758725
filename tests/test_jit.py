"""The kernel policy of cupola.jit: tiny inputs run the numpy twins unless CUPOLA_NO_JIT=0."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

from cupola import _kernels, jit

PROBE = """
import io, contextlib, sys
from cupola.cli import main
with contextlib.redirect_stdout(io.StringIO()):
    code = main(["where", "2024-01-19T16:02:54Z"])
from numba.core.registry import CPUDispatcher
loaded = sorted(f"{name}.{k}" for name, m in list(sys.modules.items()) if name.startswith("cupola")
                for k, v in vars(m).items()
                for d in [v, getattr(v, "compiled", None), getattr(v, "parallel", None), getattr(v, "serial", None)]
                if isinstance(d, CPUDispatcher) and d.signatures)
print(code, "numba.np.arraymath" in sys.modules, ",".join(loaded))
"""


def _probe(flag: str | None) -> list[str]:
    env = {k: v for k, v in os.environ.items() if k != jit.NO_JIT_ENV}
    if flag is not None:
        env[jit.NO_JIT_ENV] = flag
    out = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return out.stdout.split()


def test_one_instant_where_starts_no_compiled_kernel():
    # Unset: a one-instant answer runs on the twins, so numba's CPU target (which imports
    # scipy.linalg) never starts: the cold-start saving the policy exists for.
    code, target, *loaded = _probe(None)
    assert code == "0" and target == "False" and loaded == []


def test_compiled_flag_forces_the_kernels():
    code, target, *loaded = _probe("0")
    assert code == "0" and target == "True"
    assert any("lagrange4" in k for k in loaded[0].split(",")) and any("teme_chain" in k for k in loaded[0].split(","))


@pytest.mark.parametrize("flag, n, expected", [("1", 10**6, True), ("0", 1, False), (None, 1, True),
                                               (None, jit.TWIN_BELOW - 1, True), (None, jit.TWIN_BELOW, False),
                                               (None, None, False)])
def test_use_twins(monkeypatch, flag, n, expected):
    if flag is None:
        monkeypatch.delenv(jit.NO_JIT_ENV, raising=False)
    else:
        monkeypatch.setenv(jit.NO_JIT_ENV, flag)
    assert jit.use_twins(n) is expected


def test_twin_and_kernel_agree_on_both_sides_of_the_threshold(monkeypatch):
    # lagrange4 on either path: the same interpolation (the twin is the kernel's reference).
    rng = np.random.default_rng(3)
    nodes = rng.normal(size=(40, 3))
    for n in (3, jit.TWIN_BELOW + 5):
        base = rng.integers(0, 36, n).astype(np.intp)
        x = rng.uniform(0, 1, n)
        out_twin, out_kernel = np.empty((n, 3)), np.empty((n, 3))
        monkeypatch.setenv(jit.NO_JIT_ENV, "1")
        _kernels.lagrange4(nodes, base, x, out_twin)
        monkeypatch.setenv(jit.NO_JIT_ENV, "0")
        _kernels.lagrange4(nodes, base, x, out_kernel)
        np.testing.assert_allclose(out_kernel, out_twin, rtol=1e-12, atol=1e-12)
