"""The measuring instrument of benchmarks/limit.py: its C loop is the jaxtls computation.

The C baseline is only a fair limit if it computes what jaxtls computes: these tests compile it
(as the benchmark does) and compare it with jaxtls on random and on invalid points, check that
its memory-ceiling pass reads every input byte, and that without a compiler the benchmark says
the baseline is unavailable instead of failing.
"""

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import limit  # noqa: E402


def test_without_a_compiler_the_baseline_is_reported_unavailable(tmp_path, monkeypatch):
    monkeypatch.setenv("CC", str(tmp_path / "no-such-gcc"))
    built = limit.build_kernels(tmp_path)
    assert built["available"] is False
    assert "compiler" in built["reason"]
    assert built["builds"] == {}


def test_c_baseline_agrees_with_jaxtls(tmp_path):
    built = limit.build_kernels(tmp_path, names=["c"])
    if limit.compiler() is None:  # no gcc here: the benchmark must say so, not fail
        assert built["available"] is False and built["reason"]
        return
    assert built["builds"]["c"]["ok"], built["builds"]["c"].get("error")
    kernel = built["builds"]["c"]["kernel"]
    p = limit.sample(100, seed=3)
    a = limit.agreement(kernel, p)
    assert a["ok"], a
    assert a["n_points"] == 100 and a["nan_points"] == 0
    assert a["timed_equals_checked"]  # IEEE build: the timed loop is the checked loop
    bad = limit.invalid_agreement(kernel)
    assert bad["ok"], bad
    assert np.isnan(bad["c"][1:5]).all() and np.isfinite(bad["c"][5:]).all()

    # the ceiling pass reads all 8 inputs of every point (nothing skipped): its output is
    # their sum, on 1 thread and on all of them
    inputs = limit.c_inputs(p)
    T, J, K, xi, delta = inputs
    want = T.sum(1) + J.sum(1) + K.sum(1) + xi + delta
    for threads in (1, kernel.max_threads):
        got = kernel.stream(inputs, np.empty(100), threads)
        np.testing.assert_allclose(got, want, rtol=1e-14)  # summation order
