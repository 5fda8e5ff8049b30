"""experiments/robustness.py: one fast run, then checks that could fail."""

import os

import numpy as np
import pytest
from conftest import assert_checked_claims_agree, assert_files_exist, run_fast_once

from jaxtls.experiments import _registry, robustness


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    return run_fast_once(robustness, tmp_path_factory)


def test_registered_after_pareto():
    names = list(_registry.EXPERIMENTS)
    assert names.index("robustness") == names.index("pareto") + 1


def test_every_checked_claim_agrees(result):
    assert_checked_claims_agree(result[0], 8)  # the two front claims are full-mode only


def test_files_exist(result):
    r, out = result
    assert_files_exist(r)
    names = {os.path.basename(p) for p in r["figures"]}
    assert {"robustness.png", "robustness.pdf", "robustness_baths.png"} <= names
    data = np.load(os.path.join(out, "robustness.npz"))
    assert data["N_vs_detuning"].shape == (len(data["detuning"]), 4)


def test_fast_mode_skips_the_fronts_and_says_so(result):
    # the fronts (full mode only) are tested in tests/test_constraints.py
    r, out = result
    data = np.load(os.path.join(out, "robustness.npz"))
    assert not any(k.startswith("front_") for k in data.files)
    fronts = [
        c for c in r["claims"] if "tolerance fronts" in c["claim"] or "monotone" in c["claim"]
    ]
    assert fronts and all(c["agree"] is None for c in fronts)


def test_bare_detuning_is_searched_in_the_bath_model(result):
    r, _ = result
    bm = r["summary"]["bath_model"]
    free = [v for k, v in bm.items() if "bare detuning free" in k]
    fixed = [v for k, v in bm.items() if "bare detuning free" not in k]
    assert len(free) == 2 and all(v["bare detuning / max J"] == 0.0 for v in fixed)
    # a free bare detuning can only help (its searches start from the same warm points)
    assert max(v["N"] for v in free) >= max(v["N"] for v in fixed) - 1e-3


def test_tolerance_by_an_independent_dense_scan(result):
    r, _ = result
    pt = r["parameters"]["points"]["K1 = 0 regime"]
    tol = r["summary"]["points"]["K1 = 0 regime"]["tolerance / max J"]
    # a dense scan of the detuning with numpy bookkeeping, not the library's bisection
    d = np.linspace(0.0, 2.0 * tol, 2001)
    N = robustness.evaluate([pt], np.concatenate([-d[::-1], d])[:, None])["N"][:, 0]
    N0 = robustness.evaluate([pt])["N"][0]
    first = min(d[np.argmax(x)] for x in (N[:2001][::-1] <= 0.5 * N0, N[2001:] <= 0.5 * N0))
    assert first == pytest.approx(tol, abs=2 * (d[1] - d[0]))


def test_summary_keys_and_mechanism_band(result):
    r, _ = result
    s = r["summary"]
    for key in ("points", "front_paper", "knobs", "compensation_physics_md", "bath_model"):
        assert key in s
    assert {"paper-space N = 0.0392", "asymmetric N = 0.1027"} <= set(s["what_survives"])
    ratios = [v["tol / sqrt(gap alpha)"] for v in s["points"].values()]
    assert 0.3 < min(ratios) and max(ratios) < 3
    assert 5e-3 < s["geometry_temperature_K"] < 2e-2
    assert "Mechanism" in r["discussion"]
