"""jaxtls against the independent oracles of tests/oracles.py (numpy dense, mpmath, QuTiP)."""

import mpmath as mp
import numpy as np
import oracles
import pytest
from conftest import random_params

import jaxtls


def _model(T, J1, J2, K, xi, det=0.0):
    return jaxtls.Model(T, (J1, J2), K, xi=xi, detuning=det)


@pytest.mark.parametrize("n_baths", [2, 3])
@pytest.mark.parametrize("symmetric", [True, False])
def test_general_solver_matches_qutip(n_baths, symmetric):
    rng = np.random.default_rng(100 + n_baths + 10 * symmetric)
    T, J, K, xi = random_params(rng, 6, n_baths, symmetric, log_j=(-2, 2))
    J1, J2 = (J, J) if symmetric else J
    for i in range(6):
        det = 0.0 if i % 2 else 0.05
        want = oracles.qutip_steady_state(T[i], J1[i], J2[i], K[i], xi=xi[i], detuning=det)
        got = jaxtls.steady_state(_model(T[i], J1[i], J2[i], K[i], xi[i], det)).matrix()
        np.testing.assert_allclose(got, want, atol=1e-10)
        if symmetric and det == 0.0:
            cf = jaxtls.closed_form(jaxtls.Model(T[i], J1[i], K[i], xi=xi[i]))
            np.testing.assert_allclose(cf.matrix(), want, atol=1e-10)


@pytest.mark.parametrize("seed", [5, 6, 7])
def test_asymmetric_near_rank_one_couplings_against_mpmath(seed):
    # TLS coupled slightly differently AND almost identically on every bath: the psi-/psi+
    # channel strength (J1 + J2)/2 -+ K cancels in floating point unless it is computed from
    # the exact J1 J2 - K^2 (rates.psi_channels); 1-3 baths, T down to 0.03 Delta.
    rng = np.random.default_rng(seed)
    for _ in range(6):
        nb = int(rng.integers(1, 4))
        T = 10 ** rng.uniform(-1.5, 1, nb)
        J1 = 10 ** rng.uniform(-1, 2, nb)
        J2 = J1 * (1 + rng.choice([-1, 1], nb) * 10 ** rng.uniform(-9, -1, nb))
        K = np.sqrt(J1 * J2) * (1 - 10 ** -rng.uniform(4, 13, nb)) * rng.choice([-1, 1], nb)
        want = oracles.mp_steady_state(T, J1, J2, K)
        got = np.asarray(jaxtls.steady_state(_model(T, J1, J2, K, 0.0)).matrix())
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-14 * np.abs(want).max())


def test_psi_channels_against_mpmath():
    from jaxtls.rates import psi_channels

    rng = np.random.default_rng(3)
    J1 = 10 ** rng.uniform(-3, 3, 200)
    J2 = J1 * (1 + rng.choice([-1, 1], 200) * 10 ** rng.uniform(-12, 0, 200))
    J2[:20] = J1[:20]  # symmetric coupling too
    K = np.sqrt(J1 * J2) * (1 - 10 ** -rng.uniform(0, 15, 200)) * rng.choice([-1, 1], 200)
    A, B = (np.asarray(x) for x in psi_channels(J1, J2, K))
    with mp.workdps(50):
        for i in range(200):
            mean = (mp.mpf(J1[i]) + mp.mpf(J2[i])) / 2
            for got, want in ((A[i], mean + mp.mpf(K[i])), (B[i], mean - mp.mpf(K[i]))):
                assert abs(got - want) <= 4e-16 * abs(want), (i, got, want)


def test_measures_match_oracle_formulas():
    rng = np.random.default_rng(9)
    g = rng.normal(size=(20, 4, 4)) + 1j * rng.normal(size=(20, 4, 4))
    rho = g @ np.conj(np.swapaxes(g, -1, -2))
    rho /= np.trace(rho, axis1=-2, axis2=-1)[:, None, None]
    for r in rho:
        assert float(jaxtls.negativity(r)) == pytest.approx(oracles.negativity_eig(r), abs=1e-12)
        assert float(jaxtls.concurrence(r)) == pytest.approx(
            oracles.concurrence_wootters(r), abs=1e-8
        )


def test_margin_predicts_the_accuracy_of_strongly_asymmetric_points():
    # Found by an independent check: strongly asymmetric, nearly rank-one couplings on three
    # baths. The elimination cancels there, and Diagnostics.margin says by how much.
    T = [0.07166558500481601, 0.037447326258470345, 1.1881818750191546]
    J1 = np.array([0.012155847576092905, 279.01937626620884, 2.557753222624974])
    J2 = np.array([0.0010944256412417487, 9241346.53126079, 0.005080960065745961])
    K = [0.0036473833368878624, -50779.07782700183, -0.11399929553739471]
    m = _model(T, J1, J2, K, 0.0)
    margin = float(jaxtls.diagnose(m).margin)
    assert 1e-9 < margin < 1e-3  # it does cancel here
    want = oracles.mp_steady_state(T, J1, J2, K)
    got = np.asarray(jaxtls.steady_state(m).matrix())
    rel = np.abs(got - want)[np.abs(want) > 0] / np.abs(want)[np.abs(want) > 0]
    assert rel.max() < 100 * np.finfo(float).eps / margin
