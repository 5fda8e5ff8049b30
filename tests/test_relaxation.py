"""Relaxation rate (spectral gap) against the dense 16x16 Liouvillian."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import random_params

import jaxtls


def _dense_gap(model):
    ev = np.linalg.eigvals(np.asarray(jaxtls.liouvillian(model)))
    rates = np.sort(-ev.real, axis=-1)
    return rates[..., 1]  # drop the stationary eigenvalue (unique steady state)


@pytest.mark.parametrize("symmetric", [True, False])
def test_gap_matches_dense_liouvillian_spectrum(symmetric, rng):
    T, J, K, xi = random_params(rng, 200, 3, symmetric, log_j=(-1, 1))
    m = jaxtls.Model(T, J, K, xi=xi, detuning=rng.uniform(-0.2, 0.2, 200))
    np.testing.assert_allclose(jaxtls.relaxation_rate(m), _dense_gap(m), rtol=1e-9, atol=1e-12)
    m0, m1, m2 = jaxtls.sector_rates(m)
    every = np.sort(np.concatenate([m0, m1, m1, m2[:, None], m2[:, None]], -1), -1)
    dense = np.sort(-np.linalg.eigvals(np.asarray(jaxtls.liouvillian(m))).real, -1)[:, 1:]
    np.testing.assert_allclose(every, dense, rtol=1e-8, atol=1e-10)


def test_gap_closes_at_the_non_unique_manifold():
    eps = np.array([1e-1, 1e-3, 1e-6, 0.0])
    J = np.array([1.0, 5.0])
    m = jaxtls.Model(T=[1.0, 0.2], J=J, K=(1 - eps[:, None]) * J)
    gap = np.asarray(jaxtls.relaxation_rate(m))
    assert np.all(np.diff(gap) < 0) and abs(gap[-1]) < 1e-13 and gap[2] < 1e-4


def test_gap_gradient_matches_finite_difference():
    m = jaxtls.Model(T=[1.5, 0.3], J=[1.0, 4.0], K=[0.2, 3.0], xi=0.05)
    g = jax.grad(lambda k: jaxtls.relaxation_rate(m.replace(K=k)))(m.K)
    h = 1e-6
    fd = [
        (
            jaxtls.relaxation_rate(m.replace(K=m.K.at[i].add(h)))
            - jaxtls.relaxation_rate(m.replace(K=m.K.at[i].add(-h)))
        )
        / (2 * h)
        for i in range(2)
    ]
    np.testing.assert_allclose(g, fd, rtol=1e-5)


BROKEN = [
    dict(T=[-1.0, 0.1]),
    dict(J=[-1.0, 3.0]),
    dict(K=[1.5, 2.0]),  # K^2 > J1 J2
    dict(xi=-0.1),
    dict(delta=-1.0),
    dict(detuning=2.0),  # |detuning| > delta
    dict(T=[float("nan"), 0.1]),
]


@pytest.mark.parametrize("broken", BROKEN, ids=lambda b: next(iter(b)))
def test_invalid_points_inside_jit_are_nan_everywhere(broken):
    # Model() refuses these eagerly; inside jit nothing may return a plausible number.
    p = dict(T=[2.0, 0.1], J=[1.0, 3.0], K=[0.5, 2.0], xi=0.1, detuning=0.01, delta=1.0)
    p.update(broken)

    @jax.jit
    def everything(T, J, K, xi, detuning, delta):
        m = jaxtls.Model(T, J, K, xi=xi, detuning=detuning, delta=delta)
        s = jaxtls.xstate(m, check=False)
        return (
            jaxtls.relaxation_rate(m),
            jaxtls.negativity(s),
            jaxtls.entropy_production(m),
            jaxtls.heat_currents(m),
            jaxtls.steady_state(m, check=False),
            jaxtls.closed_form(m, check=False),
        )

    args = [jnp.asarray(p[k], jnp.float64) for k in ("T", "J", "K", "xi", "detuning", "delta")]
    for out in everything(*args):
        assert np.isnan(np.asarray(out)).all()
    ok = everything(
        *[jnp.asarray(v, jnp.float64) for v in ([2.0, 0.1], [1.0, 3.0], [0.5, 2.0], 0.1, 0.01, 1.0)]
    )
    assert all(np.isfinite(np.asarray(o)).all() for o in ok)
