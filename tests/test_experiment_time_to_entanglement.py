"""experiments/time_to_entanglement.py: one fast run, then checks that could fail (the t_90 of
jaxtls.time_to_fraction against scipy's expm of the dense Liouvillian, N(t) -> N_ss)."""

import os

import numpy as np
import pytest
from conftest import assert_checked_claims_agree, assert_files_exist, run_fast_once
from scipy.linalg import expm

import jaxtls
from jaxtls.experiments import _registry
from jaxtls.experiments import time_to_entanglement as tte


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    return run_fast_once(tte, tmp_path_factory)


def test_registered():
    assert "time_to_entanglement" in _registry.EXPERIMENTS


def test_every_claim_agrees(result):
    assert all(c["agree"] is not None for c in result[0]["claims"])  # every claim is checked
    assert_checked_claims_agree(result[0], 5)


def test_files_exist(result):
    r, out = result
    assert_files_exist(r)
    data = np.load(os.path.join(out, "time_to_entanglement.npz"))
    t, N = data["paper_2/3-1/3_|_ground_|++>_t"], data["paper_2/3-1/3_|_ground_|++>_N"]
    assert t.shape == N.shape and N[0] == 0.0


def test_t90_by_scipy_expm_at_the_paper_point(result):
    # independent of the experiment's Brent search: N of the dense expm at t_90 is 0.9 N_ss
    s = result[0]["summary"]["paper 2/3-1/3 | ground |++>"]
    p = result[0]["parameters"]["points"]["paper 2/3-1/3"]
    m = jaxtls.Model(T=p["T"], J=(p["J(1)"], p["J(2)"]), K=p["K"])
    L = np.asarray(jaxtls.liouvillian(m))
    v0 = np.zeros(16, complex)
    v0[0] = 1.0  # |++><++|
    for t, want in ((s["t90"], 0.9), (0.5 * s["t90"], None), (50 / s["gap"], 1.0)):
        rho = (expm(L * t) @ v0).reshape(4, 4).T
        pt = rho.reshape(2, 2, 2, 2).transpose(0, 3, 2, 1).reshape(4, 4)
        n = float(np.sum(np.maximum(-np.linalg.eigvalsh(0.5 * (pt + pt.conj().T)), 0)))
        if want is None:
            assert n < 0.9 * s["N_ss"]  # not reached earlier
        else:
            assert abs(n / s["N_ss"] - want) < 1e-6


def test_trajectories_end_at_the_steady_state_and_t90_is_of_order_the_gap(result):
    for key, s in result[0]["summary"].items():
        assert s["N_end_rel"] < 1e-6, key
        assert abs(s["t90_dense"] - s["t90"]) <= 1e-6 * s["t90"], key
        assert 0.3 < s["t90_gap"] < 10, key


def test_scaling_to_unit_gap_keeps_the_state(result):
    # four 2/3-1/3-family points: the batch shape (4,) that the fixture's run compiled for
    pts = {
        f"{R:g}": ([T1, T2], [1.0, R], [1.0, R], [0.0, R])
        for T1, T2, R in ((20.0, 0.1, 1e3), (5.0, 0.01, 1e2), (50.0, 0.02, 1e4), (1.0, 0.05, 30))
    }
    assert len(pts) == len(result[0]["parameters"]["points"])
    m, gap = tte.batch(pts)
    np.testing.assert_allclose(jaxtls.relaxation_rate(m), 1.0, rtol=1e-9)
    T, J1, J2, K = (np.array([p[i] for p in pts.values()]) for i in range(4))
    orig = jaxtls.Model(T=T, J=(J1, J2), K=K)
    want = jaxtls.negativity(jaxtls.steady_state(orig))
    assert np.all(np.asarray(want) > 0.01)  # entangled points: the comparison is not 0 == 0
    np.testing.assert_allclose(jaxtls.negativity(jaxtls.steady_state(m)), want, rtol=1e-12)
    np.testing.assert_allclose(gap, jaxtls.relaxation_rate(orig), rtol=1e-12)
