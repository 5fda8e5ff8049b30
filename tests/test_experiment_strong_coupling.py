"""experiments/strong_coupling.py: one fast HEOM run (QuTiP), then checks that could fail."""

import os

import numpy as np
import pytest
from conftest import assert_checked_claims_agree, assert_files_exist, run_fast_once

from jaxtls.experiments import _registry
from jaxtls.experiments import strong_coupling as sc

pytest.importorskip("qutip")  # a test extra; without it the experiment reports 'not run'


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    return run_fast_once(sc, tmp_path_factory)


def test_registered():
    assert "strong_coupling" in _registry.EXPERIMENTS
    assert _registry.get("strong_coupling") is sc.run


def test_every_checked_claim_agrees(result):
    assert_checked_claims_agree(result[0], 6)


def test_weak_coupling_limit_matches_jaxtls(result):
    # the key check: the exact (HEOM) state at lambda = 1e-4 is jaxtls's complete weak-coupling
    # state (exchange and Lamb shifts from the same spectra), and not the one without them
    _, out = result
    d = np.load(os.path.join(out, "strong_coupling.npz"))
    assert d["lambda"][0] == 1e-4
    for key in ("a", "b"):
        assert abs(d[f"N_{key}"][0] / d[f"N_weak_{key}"] - 1) < 2e-3
        assert np.abs(d[f"bell_{key}"][0] - d[f"bell_weak_{key}"]).max() < 1e-3
        # the deviation grows with lambda (first order): it is physics, not a fixed offset
        dev = np.abs(d[f"N_{key}"] - d[f"N_weak_{key}"])
        assert dev[0] < dev[1] < dev[2]
    assert abs(d["N_b"][0] - d["N_weak_incoherent_b"]) > 0.02


def test_depth_convergence_is_measured(result):
    _, out = result
    d = np.load(os.path.join(out, "strong_coupling.npz"))
    for key in ("a", "b"):
        assert d[f"converged_{key}"].all()
        hist = d[f"depth_history_{key}"]  # (lambda, depth, [depth, N, change])
        for row in hist:
            row = row[np.isfinite(row[:, 0])]
            assert len(row) >= 2  # at least two depths compared, never assumed
            assert row[-1, 2] < sc.DEPTH_TOL


def test_restricted_solver_equals_qutip_at_strong_coupling():
    spec = sc.bath_specs("2/3-1/3", 0.05, hot_dim=None)
    solver = sc.heom_solver(spec, 2)
    rho, info = sc.heom_steady_state(solver)
    ref, _ = solver.steady_state(use_mkl=False)
    assert np.abs(rho - ref.full()).max() < 1e-10
    assert info["unknowns"] == 8 * info["ados"]  # half of each ADO's 16 elements


def test_files(result):
    r, out = result
    assert_files_exist(r)
    assert {os.path.basename(p) for p in r["figures"]} == {
        "strong_coupling.png",
        "strong_coupling.pdf",
    }


def test_bad_input_names_the_parameter():
    with pytest.raises(ValueError, match="regime"):
        sc.bath_specs("nope", 1e-3)
    with pytest.raises(ValueError, match="lam"):
        sc.bath_specs("2/3-1/3", -1.0)
    with pytest.raises(ValueError, match="finite"):
        sc.bath_specs("2/3-1/3", float("inf"))
    spec = sc.bath_specs("2/3-1/3", 1e-3)
    with pytest.raises(ValueError, match="d_min"):
        sc.converge_depth(spec, d_min=3, d_max=2)
    with pytest.raises(ValueError, match="tol"):
        sc.converge_depth(spec, tol=0.0)


def test_without_qutip_the_claims_are_not_run(monkeypatch, tmp_path):
    import sys

    monkeypatch.setitem(sys.modules, "qutip", None)  # import qutip -> ImportError
    r = sc.run(out=str(tmp_path), fast=True, progress=False)
    assert r["claims"] and all(c["agree"] is None for c in r["claims"])
    assert "qutip not available" in r["summary"]["status"]
