"""experiments/time_to_entanglement.py: one fast run, then checks that could fail (the t_90 of
jaxtls.time_to_fraction against scipy's expm of the dense Liouvillian, N(t) -> N_ss)."""

import os

import numpy as np
import pytest
from scipy.linalg import expm

import jaxtls
from jaxtls.experiments import _registry
from jaxtls.experiments import time_to_entanglement as tte


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    out = str(tmp_path_factory.mktemp("tte"))
    return tte.run(out=out, fast=True, progress=False), out


def test_registered():
    assert "time_to_entanglement" in _registry.EXPERIMENTS


def test_every_claim_agrees(result):
    r, _ = result
    assert len(r["claims"]) >= 5
    bad = [c["claim"] for c in r["claims"] if not c["agree"]]
    assert not bad, bad


def test_files_exist(result):
    r, out = result
    for path in r["figures"] + r["data"]:
        assert os.path.isfile(path) and os.path.getsize(path) > 0, path
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


def test_scaling_to_unit_gap_keeps_the_state():
    pts = {"a": ([20.0, 0.1], [1.0, 1000.0], [1.0, 1000.0], [0.0, 1000.0])}
    m, gap = tte.batch(pts)
    assert np.isclose(float(jaxtls.relaxation_rate(m)[0]), 1.0, rtol=1e-9)
    orig = jaxtls.Model(T=[20.0, 0.1], J=[1.0, 1000.0], K=[0.0, 1000.0])
    want = float(jaxtls.negativity(jaxtls.steady_state(orig)))
    assert np.isclose(float(jaxtls.negativity(jaxtls.steady_state(m))[0]), want, rtol=1e-12)
    assert np.isclose(gap[0], float(jaxtls.relaxation_rate(orig)), rtol=1e-12)
