"""Hypothesis property tests: physical invariants of the steady state for any parameters.

Every drawn example is checked (no test returns early on a point it cannot use): the
invariants draw models whose steady state is unique by construction (:func:`models`: bath 1
couples the two TLS with ``|K_1| <= 0.9 sqrt(J^(1)_1 J^(2)_1)``, a full-rank coupling matrix,
so no state is dark for it), and the non-unique manifold has its own strategy and test
(:func:`non_unique_models`, the rules of the ``jaxtls.steady_state`` module docstring).
"""

import numpy as np
import oracles
import pytest
from hypothesis import given
from hypothesis import strategies as st

import jaxtls

SUP = oracles.NEGATIVITY_MAX  # (sqrt 5 - 2)/6, the tests' own copy
log = st.floats(-3, 3)
unit = st.floats(-1, 1)
P_SWAP = np.eye(4)[[0, 2, 1, 3]]  # |+-> <-> |-+>: exchanging the two TLS


@st.composite
def models(draw, symmetric=None):
    """Any valid model whose steady state is unique (bath 1 has ``|kappa_1| <= 0.9``)."""
    n = draw(st.integers(1, 3))
    T = [10 ** draw(log) if draw(st.booleans()) or i else 0.0 for i in range(n)]
    J1 = [10 ** draw(log) for _ in range(n)]
    sym = draw(st.booleans()) if symmetric is None else symmetric
    J2 = J1 if sym else [10 ** draw(log) for _ in range(n)]
    kappa = [draw(st.floats(-0.9, 0.9))] + [draw(unit) for _ in range(n - 1)]
    K = [k * np.sqrt(a * b) for k, a, b in zip(kappa, J1, J2, strict=True)]
    xi = draw(st.sampled_from([0.0, 1e-3, 0.1, 2.0]))
    detuning = draw(st.sampled_from([0.0, 0.0, 1e-3, -0.3]))
    exchange = draw(st.sampled_from([0.0, 0.0, 0.02, -0.7, 30.0]))
    J = J1 if sym else (J1, J2)
    return jaxtls.Model(T, J, K, xi=xi, detuning=detuning, exchange=exchange)


@st.composite
def non_unique_models(draw):
    """Points of the non-unique manifold, one of the three kinds of the solver's docstring."""
    n = draw(st.integers(1, 3))
    w = [10 ** draw(log) for _ in range(n)]
    kind = draw(st.sampled_from(["identical", "different", "uncoupled"]))
    exchange = draw(st.sampled_from([0.0, 0.02, -0.7, 30.0]))
    if kind == "identical":  # K_n = s J_n (one sign s), any T and exchange, no detuning or xi
        T = [draw(st.sampled_from([0.0, 10 ** draw(log)])) for _ in range(n)]
        sign = draw(st.sampled_from([1.0, -1.0]))
        return jaxtls.Model(T, w, [sign * x for x in w], exchange=exchange)
    if kind == "different":  # rank one along (g1, g2), T = 0, detuning K = exchange (J1 - J2)
        # exactly rank one in binary: powers of 2 times g's of few bits (with 0.8, say,
        # J1 J2 - K^2 = 1e-16 > 0 and the rounded point IS unique)
        w = [2.0 ** draw(st.integers(-10, 10)) for _ in range(n)]
        g1, g2 = 1.0, draw(st.sampled_from([0.125, 0.25, 0.375, 0.5, 0.75, -0.25, -0.625]))
        detuning = draw(st.sampled_from([0.0, 1e-3, -0.3]))
        J1, J2, K = ([g * x for x in w] for g in (g1 * g1, g2 * g2, g1 * g2))
        exchange = detuning * g1 * g2 / (g1 * g1 - g2 * g2)
        return jaxtls.Model([0.0] * n, (J1, J2), K, detuning=detuning, exchange=exchange)
    T = [10 ** draw(log) for _ in range(n)]  # TLS 2 coupled to no bath, no exchange
    return jaxtls.Model(T, (w, [0.0] * n), [0.0] * n, detuning=draw(st.sampled_from([0.0, 0.1])))


def _solve(model):
    """The steady state (numpy), after checking that it is unique and finite."""
    assert bool(jaxtls.diagnose(model).unique), f"unique by construction: {model}"
    rho = np.asarray(jaxtls.steady_state(model, check=False).matrix())
    assert np.isfinite(rho).all()
    return rho


def _thermal(g_down, g_up):
    """Product state rho_1 (x) rho_2 with rho_i = diag(g+_i, g-_i)/(g+_i + g-_i)."""
    tls = [np.array([d, u]) / (d + u) for d, u in zip(g_down, g_up, strict=True)]
    return np.diag(np.kron(tls[0], tls[1])).astype(complex)


def _bose(T):
    T = np.asarray(T, float)
    with np.errstate(divide="ignore", over="ignore"):
        return np.where(T > 0, 1 / np.expm1(1 / np.where(T > 0, T, 1.0)), 0.0)


@given(models())
def test_density_matrix_is_physical(model):
    rho = _solve(model)
    assert abs(np.trace(rho) - 1) < 1e-13
    np.testing.assert_allclose(rho, rho.conj().T, atol=1e-15)
    assert np.linalg.eigvalsh(rho).min() > -1e-13
    N = float(jaxtls.negativity(rho))  # a matrix: eigenvalues of the partial transpose
    assert 0 <= N <= 0.5
    fast = float(jaxtls.negativity(jaxtls.steady_state(model)))  # the XState's closed form
    np.testing.assert_allclose(N, fast, atol=1e-12)


@given(non_unique_models())
def test_non_unique_points_are_reported_not_solved(model):
    assert not bool(jaxtls.diagnose(model).unique)
    state = jaxtls.steady_state(model, check=False)
    assert np.isnan(np.asarray(state.matrix())).all() and not bool(state.diagnostics.unique)
    assert np.isnan(float(jaxtls.negativity(state)))
    with pytest.raises(ValueError, match="not unique"):
        jaxtls.steady_state(model)


@given(models(symmetric=True))
def test_symmetric_coupling_never_beats_the_papers_supremum(model):
    rho = _solve(model)
    assert float(jaxtls.negativity(rho)) <= SUP
    np.testing.assert_allclose(rho, jaxtls.closed_form(model).matrix(), atol=1e-12)
    if model.detuning == 0 or model.exchange == 0:  # p2 != p3 needs both
        assert abs(rho[1, 1] - rho[2, 2]) < 1e-14


@given(models(), log)
def test_equal_temperatures_give_the_gibbs_product_state(model, log_t):
    # all T_n equal: rho = rho_th (x) rho_th at that temperature, c = 0, whatever the
    # couplings, dephasing, detuning and exchange (rates at delta obey detailed balance)
    T = 10**log_t
    rho = _solve(model.replace(T=np.full(model.n_baths, T)))
    x = np.exp(-1 / T)  # Boltzmann factor of the excited level (delta = 1)
    np.testing.assert_allclose(rho, _thermal([1.0, 1.0], [x, x]), atol=1e-12)
    assert abs(rho[1, 2]) < 1e-13


@given(models(), st.sampled_from([0.5, -0.5, 1.0]))
def test_large_detuning_gives_the_product_state_of_eq13(model, detuning):
    # every rate and the exchange <= 1e-6 of the detuning, the detuning still <= delta: the
    # state is rho_1 (x) rho_2 up to O(rate/detuning) (the exchange turns the O(rate/detuning)
    # coherence into a population difference p2 - p3 of that order)
    T, J1, J2 = (np.asarray(x) for x in (model.T, model.J1, model.J2))
    n = _bose(T)
    top = np.max((J1 + J2) * (1 + 2 * n))  # the largest rate
    s = 1e-6 / top
    exchange = float(model.exchange) * s / max(1.0, abs(float(model.exchange)) / top)
    J = J1 * s if model.symmetric else (J1 * s, J2 * s)
    rho = _solve(model.replace(J=J, K=model.K * s, exchange=exchange, detuning=detuning))
    g_down = [np.sum(j * s * (1 + n)) for j in (J1, J2)]
    g_up = [np.sum(j * s * n) for j in (J1, J2)]
    product = _thermal(g_down, g_up)
    np.testing.assert_allclose(np.diag(rho).real, np.diag(product).real, rtol=0, atol=1e-5)
    assert abs(rho[1, 2]) < 1e-5
    assert float(jaxtls.negativity(rho)) < 1e-10


@given(models(), st.randoms(use_true_random=False))
def test_invariant_under_exchanging_baths(model, random):
    perm = list(range(model.n_baths))
    random.shuffle(perm)
    J = model.J[..., perm] if model.symmetric else (model.J1[..., perm], model.J2[..., perm])
    swapped = model.replace(T=model.T[..., perm], J=J, K=model.K[..., perm])
    np.testing.assert_allclose(_solve(swapped), _solve(model), atol=1e-13)


@given(models())
def test_exchanging_the_tls_swaps_the_state(model):
    # TLS 1 <-> TLS 2: J^(1) <-> J^(2), detuning -> -detuning, K and the exchange unchanged
    J = model.J if model.symmetric else (model.J2, model.J1)
    other = model.replace(J=J, detuning=-model.detuning)
    np.testing.assert_allclose(_solve(other), P_SWAP @ _solve(model) @ P_SWAP, atol=1e-13)
