"""Rates of eqs. 21-22 and the Bell-channel view used by the solvers."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxtls


def _bose_np(T, delta=1.0):
    T = np.asarray(T, float)
    with np.errstate(divide="ignore", over="ignore"):
        return np.where(T > 0, 1.0 / np.expm1(delta / np.where(T > 0, T, 1.0)), 0.0)


def test_bose_matches_numpy_over_decades():
    T = np.concatenate([[0.0], np.geomspace(1e-3, 1e3, 301)])
    np.testing.assert_allclose(jaxtls.bose(T), _bose_np(T), rtol=1e-14, atol=0)


def test_bath_weights_are_delta_times_bose_factors_and_finite_in_limits():
    T = np.geomspace(1e-3, 1e3, 101)
    wd, wu = jaxtls.bath_weights(T, 2.0)
    np.testing.assert_allclose(wd, 2.0 * (1 + _bose_np(T, 2.0)), rtol=1e-13)
    np.testing.assert_allclose(wu, 2.0 * _bose_np(T, 2.0), rtol=1e-13)
    wd0, wu0 = jaxtls.bath_weights(0.0, 1.0)
    assert (float(wd0), float(wu0)) == (1.0, 0.0)
    wd, wu = jaxtls.bath_weights(3.0, 0.0)  # delta -> 0: both tend to T
    assert (float(wd), float(wu)) == (3.0, 3.0)


def test_rates_match_paper_formulas():
    T, J1, J2, K = [2.0, 0.3, 0.0], [1.0, 10.0, 3.0], [2.0, 5.0, 0.5], [0.5, 6.0, -1.0]
    r = jaxtls.rates(jaxtls.Model(T, (J1, J2), K, xi=0.4))
    n = _bose_np(T)
    J = np.array([J1, J2])
    np.testing.assert_allclose(r.g_down, (J * (1 + n)).sum(-1), rtol=1e-14)
    np.testing.assert_allclose(r.g_up, (J * n).sum(-1), rtol=1e-14)
    np.testing.assert_allclose(r.beta4, (np.array(K) * (1 + n)).sum(), rtol=1e-14)
    np.testing.assert_allclose(r.beta1, (np.array(K) * n).sum(), rtol=1e-14)
    gamma = (J * (1 + n)).sum() / 2
    np.testing.assert_allclose(r.gamma, gamma, rtol=1e-14)
    np.testing.assert_allclose(r.alpha, ((J * (1 + 2 * n)).sum()) / 2 + 0.4 * gamma, rtol=1e-14)


def test_symmetric_notation_of_eq22():
    r = jaxtls.rates(jaxtls.Model([1.0, 0.2], [1.0, 5.0], [0.0, 4.0], xi=0.1))
    np.testing.assert_allclose(r.eta * r.gamma, r.g_up[0], rtol=1e-14)
    np.testing.assert_allclose(r.eta_prime * r.beta, r.beta1, rtol=1e-14)
    np.testing.assert_allclose(r.alpha, r.gamma * (1 + r.eta + r.xi), rtol=1e-14)


def test_bell_channels_sum_nonnegative_terms():
    m = jaxtls.Model([1.0, 0.2], ([1.0, 5.0], [2.0, 3.0]), [1.2, -3.5])
    ch = jaxtls.bell_channels(m)
    r = jaxtls.rates(m)
    # a - b = 2 beta4 and a + b = g+_1 + g+_2 (times delta = 1); c = (g+_1 - g+_2)/2
    np.testing.assert_allclose(ch.a - ch.b, 2 * r.beta4, rtol=1e-13)
    np.testing.assert_allclose(ch.a + ch.b, r.g_down.sum(), rtol=1e-13)
    np.testing.assert_allclose(ch.c, (r.g_down[0] - r.g_down[1]) / 2, rtol=1e-13)
    np.testing.assert_allclose(ch.a_up - ch.b_up, 2 * r.beta1, rtol=1e-13)
    assert min(float(ch.a), float(ch.b), float(ch.a_up), float(ch.b_up)) >= 0


def test_gradients_of_rates_finite_at_zero_temperature():
    def f(T):
        r = jaxtls.rates(jaxtls.Model(T, [1.0, 2.0], [0.5, 1.0]))
        return r.g_down.sum() + r.g_up.sum() + r.beta1

    g = jax.grad(f)(jnp.array([0.0, 0.5]))
    assert np.all(np.isfinite(g)) and float(g[0]) == 0.0 and float(g[1]) > 0


def _weights_derivatives_mp(T, delta):
    """(d wd/dT, d wu/dT, d wd/d delta, d wu/d delta) in 800-digit arithmetic (mpmath), from
    wd = delta / (1 - e^-x), wu = wd - delta, x = delta/T (the closed forms differentiated
    once by hand: d/dT = (x / 2 sinh(x/2))^2, d wd/d delta = (m - x q)/m^2, q = e^-x, m = 1 - q)."""
    mp = pytest.importorskip("mpmath")
    if T == 0:
        return [0.0, 0.0, 1.0, 0.0]  # wd = delta, wu = 0
    with mp.workdps(800):
        x = mp.mpf(delta) / mp.mpf(T)
        if x == 0:
            return [1.0, 1.0, 0.5, -0.5]  # wd, wu = T +- delta/2 + O(delta^2)
        g_T = (x / (2 * mp.sinh(x / 2))) ** 2
        q, m = mp.exp(-x), -mp.expm1(-x)
        return [float(g_T), float(g_T), float((m - x * q) / m**2), float(q * (1 - x - q) / m**2)]


@pytest.mark.parametrize("delta", [1.0, 0.3, 1e-6, 0.0])
def test_bath_weight_derivatives_are_exact_from_zero_to_huge_temperatures(delta):
    # autodiff of the weights lost log10(T/delta) digits in d/d delta (1e-10 at T/delta = 1e6),
    # gave d wd/d delta = 0 instead of 1/2 at delta = 0, and NaN for T/delta above ~1e154
    Ts = [
        0.0,
        1e-300,
        1e-3,
        0.05,
        0.1,
        0.5,
        0.99,
        1.0,
        1.01,
        2.0,
        10.0,
        1e3,
        1e8,
        1e50,
        1e200,
        1e307,
    ]

    def weights(T, d):
        return jnp.stack(jaxtls.bath_weights(T, d))

    for T in Ts:
        f_T = jax.jacfwd(weights, argnums=0)(T, delta)
        f_d = jax.jacfwd(weights, argnums=1)(T, delta)
        r_d = jax.jacrev(weights, argnums=1)(T, delta)
        np.testing.assert_array_equal(r_d, f_d)  # reverse mode: the transpose of the same rule
        got = np.concatenate([f_T, f_d])
        ref = np.array(_weights_derivatives_mp(T, delta))
        x = delta / T if T > 0 else 0.0
        # beyond rounding, only the conditioning of e^-x on x's own rounding (x eps)
        tol = max(8e-16, 4e-16 * x)
        err = np.abs(got - ref) / np.where(np.abs(ref) > 1e-290, np.abs(ref), 1.0)
        assert np.all(err <= tol), (T, delta, got, ref)


def _hessian_mp(T, delta):
    mp = pytest.importorskip("mpmath")
    with mp.workdps(60):
        T, d = mp.mpf(T), mp.mpf(delta)
        x = d / T
        f = lambda y: y / -mp.expm1(-y)  # noqa: E731
        gT = lambda y: (y / 2 / mp.sinh(y / 2)) ** 2  # noqa: E731
        gp, f2 = mp.diff(gT, x), mp.diff(f, x, 2)
        return np.array([[-gp * x / T, gp / T], [gp / T, f2 / T]], dtype=float)


def test_bath_weight_hessian_matches_mpmath():
    # at T = delta the tie of the branches' maximum halved d/dT (d wd/d delta) and
    # d2 wd/d delta2; below T = delta/1420, sinh(x/2) overflowed into a NaN second derivative
    hess = jax.jit(jax.hessian(lambda v: jaxtls.bath_weights(v[0], v[1])[0]))
    for T in [1.0, 0.5, 2.0, 5e-4, 1e-4]:  # the reviewer's cases (session 7)
        H = hess(jnp.array([T, 1.0]))
        np.testing.assert_allclose(np.asarray(H), _hessian_mp(T, 1.0), rtol=1e-12, atol=1e-300)
