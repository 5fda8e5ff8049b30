"""experiments/ceiling.py: one fast run, then checks that could fail (independent where the
experiment computes: the dense Liouvillian, numpy eigenvalues, the proved implication)."""

import os

import numpy as np
import pytest
from conftest import assert_checked_claims_agree, assert_files_exist, run_fast_once

import jaxtls
from jaxtls.experiments import _registry, ceiling

N_SYM = (np.sqrt(5) - 2) / 6  # the tests' own copies of the ceilings
N_ASYM = (np.sqrt(2) - 1) / 4


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    return run_fast_once(ceiling, tmp_path_factory)


def _pt_negativity(rho):
    pt = rho.reshape(2, 2, 2, 2).transpose(0, 3, 2, 1).reshape(4, 4)
    ev = np.linalg.eigvalsh(0.5 * (pt + pt.conj().T))
    return float(np.sum(np.maximum(-ev, 0.0)))


def test_registered():
    assert "ceiling" in _registry.EXPERIMENTS


def test_every_checked_claim_agrees(result):
    assert_checked_claims_agree(result[0], 3)


def test_files_exist(result):
    r, out = result
    assert_files_exist(r)
    data = np.load(os.path.join(out, "ceiling.npz"))
    assert data["2_baths_sym_bell"].shape == (1, 4)


def test_symmetric_search_reaches_the_theorem_bound_and_not_beyond(result):
    s = result[0]["summary"]["searches"]["2_baths_sym"]
    assert N_SYM - 1e-3 < s["best_N"] <= N_SYM
    assert s["best_C"] <= 1 / 3
    # the best state is the 2/3-1/3 state: |++> and one Bell state
    w = np.sort(s["bell_best"])[::-1]
    assert abs(w[0] - 2 / 3) < 0.02 and abs(w[1] - 1 / 3) < 0.02


def test_largest_single_excitation_ratio_confirmed_by_the_dense_liouvillian(result):
    s = result[0]["summary"]["searches"]["2_baths_sym"]
    assert len(s["seed_params"]) == len(s["N_per_seed"]) == 1
    assert abs(s["worst_ratio_dense"] - max(s["ratio_per_seed"])) < 1e-8
    # the 2/3-1/3 optimum: lambda_1 ~ 1/3 against p1 + p4 ~ 2/3
    assert max(s["ratio_per_seed"]) < 1.0


def test_limit_model_approaches_the_asymmetric_ceiling_by_the_dense_liouvillian():
    # independent: the dense 16x16 Liouvillian's null vector and numpy's partial transpose
    N = [
        _pt_negativity(np.asarray(jaxtls.liouvillian_steady_state(ceiling.limit_model(e))))
        for e in (0.1, 0.01)
    ]
    assert N[0] < N[1] < N_ASYM
    assert N_ASYM - N[1] < 1e-4


def test_single_excitation_against_numpy_eigenvalues():
    m = jaxtls.Model(T=[3.0, 0.2], J=([1.0, 5.0], [2.0, 1.0]), K=[0.5, -2.0], detuning=0.3)
    rho = np.asarray(jaxtls.density_matrix(jaxtls.steady_state(m)))
    l1, l2, p1, p4 = ceiling.single_excitation(rho)
    ev = np.linalg.eigvalsh(rho[1:3, 1:3])
    assert np.allclose([l2, l1], ev, atol=1e-15)
    assert np.isclose(p1, rho[0, 0].real) and np.isclose(p4, rho[3, 3].real)


def test_the_proved_implication_on_states_built_to_the_limit():
    # lambda_1 <= p1 + p4 implies N <= (sqrt2-1)/4 and C <= 1/2: random X states of that set,
    # many on its boundary (lambda_1 = p1 + p4, lambda_2 = 0, pure single-excitation block)
    rng = np.random.default_rng(3)
    n = 200_000
    p1, p4 = rng.uniform(0, 1, n), rng.uniform(0, 1, n) * rng.choice([0, 1], n)
    l1 = (p1 + p4) * np.where(rng.uniform(size=n) < 0.5, 1.0, rng.uniform(size=n))
    l2 = l1 * rng.uniform(size=n) * rng.choice([0, 1], n)
    tot = p1 + p4 + l1 + l2
    p1, p4, l1, l2 = p1 / tot, p4 / tot, l1 / tot, l2 / tot
    th = rng.uniform(0, np.pi, n)  # eigenvector angle of the block
    c = (l1 - l2) * np.sin(th) * np.cos(th)
    lam = 0.5 * (p1 + p4) - 0.5 * np.sqrt((p1 - p4) ** 2 + 4 * c**2)
    N = np.maximum(-lam, 0)
    C = 2 * np.maximum(np.abs(c) - np.sqrt(p1 * p4), 0)
    assert N.max() <= N_ASYM + 1e-15 and C.max() <= 0.5 + 1e-15
    assert N.max() > N_ASYM - 1e-3  # the bound is tight on this set


def test_symmetric_random_points_stay_below_the_theorem():
    r = ceiling.random_points(3, 3000, seed=11, symmetric=True)
    assert np.nanmax(r["N"]) <= N_SYM and np.nanmax(r["C"]) <= 1 / 3
    assert np.all(np.isfinite(r["N"]))


def test_ceiling_space_rejects_bad_input():
    with pytest.raises(ValueError, match="n_baths"):
        ceiling.ceiling_space(0, True)
    with pytest.raises(ValueError, match="box"):
        ceiling.ceiling_space(2, False, box=-1.0)
    sp = ceiling.ceiling_space(4, symmetric=False)
    assert sp.n_baths == 4 and sp.dim == 4 * 4 - 1 + 3
