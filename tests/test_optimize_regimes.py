"""optimize.classify: Bell weights, the nearest ideal regime and the fidelity to it."""

import numpy as np
import pytest

import jaxtls
from jaxtls import optimize
from jaxtls.optimize.regimes import BELL


def _bell_diag(w):
    return BELL @ np.diag(w) @ BELL.T


@pytest.mark.parametrize(
    "w, regime, ideal",
    [
        ((1, 0, 0, 0), "ground", "|++>"),
        ((0, 0, 0, 1), "excited", "|-->"),
        ((0.25,) * 4, "maximally mixed", "I/4"),
        ((0, 0, 1, 0), "bell", "|psi->"),
        ((2 / 3, 0, 1 / 3, 0), "2/3-1/3", "2/3|++> + 1/3|psi->"),
        ((2 / 3, 1 / 3, 0, 0), "2/3-1/3", "2/3|++> + 1/3|psi+>"),
        ((0.5, 0.5, 0, 0), "1/2-1/2", "1/2|++> + 1/2|psi+>"),
    ],
)
def test_classify_ideal_states(w, regime, ideal):
    c = optimize.classify(_bell_diag(w))
    assert (c.regime, c.ideal) == (regime, ideal)
    assert c.fidelity == pytest.approx(1.0, abs=1e-9)
    np.testing.assert_allclose(c.bell_weights, w, atol=1e-12)
    assert set(c.fidelities) == set(optimize.REGIMES)


def test_fidelity_of_mixtures():
    # F(rho, sigma) for commuting (Bell-diagonal) states is (sum_k sqrt(p_k q_k))^2.
    p, q = np.array([0.6, 0.1, 0.25, 0.05]), np.array([2 / 3, 0, 1 / 3, 0])
    expect = np.sum(np.sqrt(p * q)) ** 2
    assert float(optimize.fidelity(_bell_diag(p), q)) == pytest.approx(expect, rel=1e-12)
    with pytest.raises(ValueError, match="summing to 1"):
        optimize.fidelity(_bell_diag(p), (1, 1, 0, 0))


def test_paper_regime_state_from_eq_26():
    # K_2 = J_2, Delta << T1 << Delta J2/J1, T2 << Delta: the paper's 2/3-1/3 state.
    s = jaxtls.steady_state(jaxtls.Model(T=[30.0, 1e-3], J=[1.0, 1e6], K=[0.0, 1e6]))
    c = optimize.classify(s)
    assert (c.regime, c.ideal) == ("2/3-1/3", "2/3|++> + 1/3|psi->")
    assert c.fidelity > 0.999
    # Same thing for a full matrix and for K -> -K (the other Bell state).
    c2 = optimize.classify(
        jaxtls.steady_state(jaxtls.Model([30.0, 1e-3], [1.0, 1e6], [0, -1e6])).matrix()
    )
    assert c2.ideal == "2/3|++> + 1/3|psi+>" and c2.fidelity > 0.999


def test_classify_batch_and_nan():
    m = jaxtls.Model(
        T=[[30.0, 1e-3], [0.05, 0.05], [1.0, 0.1]],
        J=[[1.0, 1e6], [1.0, 1.0], [1.0, 1.0]],
        K=[[0, 1e6], [0, 0], [1.0, 1.0]],  # the last one is not unique: NaN
    )
    c = optimize.classify(jaxtls.steady_state(m, check=False))
    assert list(c.regime) == ["2/3-1/3", "ground", "undefined"]
    assert c.fidelity.shape == (3,) and np.isnan(c.fidelity[2])
    assert c.bell_weights.shape == (3, 4)


def test_classify_rejects_bad_shape():
    with pytest.raises(ValueError, match="4, 4"):
        optimize.classify(np.eye(3))
