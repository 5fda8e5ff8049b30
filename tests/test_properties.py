"""Hypothesis property tests: physical invariants of the steady state for any parameters."""

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

import jaxtls

SUP = (np.sqrt(5) - 2) / 6
log = st.floats(-3, 3)
unit = st.floats(-1, 1)


@st.composite
def models(draw, symmetric=None):
    n = draw(st.integers(1, 3))
    T = [10 ** draw(log) if draw(st.booleans()) or i else 0.0 for i in range(n)]
    J1 = [10 ** draw(log) for _ in range(n)]
    sym = draw(st.booleans()) if symmetric is None else symmetric
    J2 = J1 if sym else [10 ** draw(log) for _ in range(n)]
    K = [draw(unit) * np.sqrt(a * b) for a, b in zip(J1, J2, strict=True)]
    xi = draw(st.sampled_from([0.0, 1e-3, 0.1, 2.0]))
    detuning = draw(st.sampled_from([0.0, 0.0, 1e-3, -0.3]))
    exchange = draw(st.sampled_from([0.0, 0.0, 0.02, -0.7, 30.0]))
    J = J1 if sym else (J1, J2)
    return jaxtls.Model(T, J, K, xi=xi, detuning=detuning, exchange=exchange)


def _solve(model):
    rho = np.asarray(jaxtls.steady_state(model, check=False))
    return rho, bool(jaxtls.diagnose(model).unique)


@given(models())
def test_density_matrix_is_physical(model):
    rho, unique = _solve(model)
    if not unique:
        assert np.isnan(rho).all()
        return
    assert abs(np.trace(rho) - 1) < 1e-13
    np.testing.assert_allclose(rho, rho.conj().T, atol=1e-15)
    assert np.linalg.eigvalsh(rho).min() > -1e-13
    N = float(jaxtls.negativity(rho))
    assert 0 <= N <= 0.5
    np.testing.assert_allclose(N, float(jaxtls.negativity(rho, method="eig")), atol=1e-12)


@given(models(symmetric=True))
def test_symmetric_coupling_never_beats_the_papers_supremum(model):
    rho, unique = _solve(model)
    if unique:
        assert float(jaxtls.negativity(rho)) <= SUP
        np.testing.assert_allclose(rho, jaxtls.closed_form(model), atol=1e-12)
        if model.detuning == 0 or model.exchange == 0:  # p2 != p3 needs both
            assert abs(rho[1, 1] - rho[2, 2]) < 1e-14


@given(models(), st.randoms(use_true_random=False))
def test_invariant_under_exchanging_baths(model, random):
    perm = list(range(model.n_baths))
    random.shuffle(perm)
    J = model.J[..., perm] if model.symmetric else (model.J1[..., perm], model.J2[..., perm])
    swapped = model.replace(T=model.T[..., perm], J=J, K=model.K[..., perm])
    rho, unique = _solve(model)
    if unique:
        np.testing.assert_allclose(_solve(swapped)[0], rho, atol=1e-13)


@given(models())
def test_exchanging_the_tls_swaps_the_state(model):
    J = model.J if model.symmetric else (model.J2, model.J1)
    other = model.replace(J=J, detuning=-model.detuning)
    rho, unique = _solve(model)
    if unique:
        P = np.eye(4)[[0, 2, 1, 3]]  # |+-> <-> |-+>
        np.testing.assert_allclose(_solve(other)[0], P @ rho @ P, atol=1e-13)
