"""Relaxation rate (spectral gap): dense 16x16 spectrum, 50-digit mpmath, scales, gradients."""

import functools

import jax
import jax.numpy as jnp
import mpmath as mp
import numpy as np
import oracles
import pytest
from conftest import random_params

import jaxtls


def _dense_rates(model):
    """Sorted decay rates of jaxtls.liouvillian (numpy eigenvalues); entry 0 is stationary."""
    return np.sort(-np.linalg.eigvals(np.asarray(jaxtls.liouvillian(model))).real, axis=-1)


# One compiled gap per pytree structure and shape (symmetric or not, number of baths): the
# single points below reuse it instead of paying eager dispatch or a compilation per test.
_jit_rate = jax.jit(jaxtls.relaxation_rate)


def _oracle_rates(T, J1, J2, K, **kw):
    """Sorted decay rates of tests/oracles.dense_liouvillian (numpy, no jaxtls code)."""
    return np.sort(-np.linalg.eigvals(oracles.dense_liouvillian(T, J1, J2, K, **kw)).real)


@pytest.mark.parametrize("symmetric", [True, False])
def test_gap_matches_dense_liouvillian_spectrum(symmetric, rng):
    T, J, K, xi = random_params(rng, 200, 3, symmetric, log_j=(-1, 1))
    m = jaxtls.Model(T, J, K, xi=xi, detuning=rng.uniform(-0.2, 0.2, 200))
    dense = _dense_rates(m)  # drop entry 0, the stationary eigenvalue (unique steady state)
    np.testing.assert_allclose(jaxtls.relaxation_rate(m), dense[:, 1], rtol=1e-9, atol=1e-12)
    m0, m1, m2 = jaxtls.sector_rates(m)
    every = np.sort(np.concatenate([m0, m1, m1, m2[:, None], m2[:, None]], -1), -1)
    np.testing.assert_allclose(every, dense[:, 1:], rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("kind", ["symmetric", "asymmetric", "detuned", "exchange", "all"])
def test_gap_matches_the_oracle_spectrum_at_random_points(kind):
    rng = np.random.default_rng(
        ["symmetric", "asymmetric", "detuned", "exchange", "all"].index(kind)
    )
    for _ in range(25):
        nb = int(rng.integers(1, 4))
        T = 10 ** rng.uniform(-2, 1.5, nb) * (rng.random(nb) > 0.15)
        J1 = 10 ** rng.uniform(-2, 2, nb)
        J2 = J1 if kind in ("symmetric", "detuned", "exchange") else 10 ** rng.uniform(-2, 2, nb)
        K = rng.uniform(-1, 1, nb) * np.sqrt(J1 * J2)
        # padded to 3 baths with uncoupled ones (J = K = 0 at T = 1: they add no rate), so the
        # 1-, 2- and 3-bath points share one compilation (both the model and the oracle see them)
        sym, pad = J2 is J1, (0, 3 - nb)
        T, J1, K = np.pad(T, pad, constant_values=1.0), np.pad(J1, pad), np.pad(K, pad)
        J2 = J1 if sym else np.pad(J2, pad)
        xi = float(10 ** rng.uniform(-3, 0)) if rng.random() < 0.5 else 0.0
        scale = float(np.max(J1 + J2))
        det = float(rng.uniform(-0.3, 0.3) * scale) if kind in ("detuned", "all") else 0.0
        exch = float(rng.uniform(-2, 2) * scale) if kind in ("exchange", "all") else 0.0
        kw = dict(xi=xi, detuning=det, exchange=exch, delta=max(1.0, 2 * abs(det)))
        want = _oracle_rates(T, J1, J2, K, **kw)[1]
        J = J1 if J2 is J1 else (J1, J2)
        got = float(_jit_rate(jaxtls.Model(T, J, K, **kw)))
        assert got == pytest.approx(want, rel=1e-8, abs=1e-12 * scale)


# Points where the gap is a tiny fraction of the rates (next to the non-unique manifold) or a
# slow coherence (zero temperature), with the gap from 50-digit mpmath eigenvalues.
HARD = {
    "paper_optimum": dict(T=[418.27, 1.0364e-3], J1=[1.0, 999994.6], K=[-(1 - 1e-12), -999994.6]),
    "near_manifold": dict(T=[1.0, 0.2], J1=[1.0, 5.0], K=[1 - 1e-11, 5.0]),
    "near_manifold_xi": dict(T=[2.0, 0.05], J1=[1.0, 300.0], K=[-1.0, -300.0], xi=1e-13),
    "near_manifold_detuned": dict(T=[2.0, 0.05], J1=[1.0, 300.0], K=[1.0, 300.0], detuning=1e-6),
    "near_manifold_exchange": dict(T=[5.0, 0.01], J1=[1.0, 1e4], K=[1 - 1e-13, 1e4], exchange=3e3),
    "cold_dark_coherence": dict(T=[0.0, 0.0], J1=[1.0, 100.0], K=[1 - 1e-12, 100.0]),
    "cold_dark_coherence_exchange": dict(
        T=[0.0, 0.0], J1=[1.0, 100.0], K=[-(1 - 1e-12), -100.0], exchange=50.0
    ),
}


def _hard_model(p, scale=1.0):
    p = dict(p)
    J1 = np.asarray(p.pop("J1")) * scale
    K = np.asarray(p.pop("K")) * scale
    for k in ("detuning", "exchange"):
        if k in p:
            p[k] = p[k] * scale
    return jaxtls.Model(p.pop("T"), J1, K, **p)


@functools.cache
def _mp_gap(name):
    """The 50-digit gap of HARD[name] (computed once: the scale tests reuse it)."""
    p = dict(HARD[name])
    J1 = p.pop("J1")
    return oracles.mp_decay_rates(p.pop("T"), J1, J1, p.pop("K"), **p)[1]


@pytest.mark.parametrize("name", sorted(HARD))
def test_gap_keeps_its_relative_accuracy_next_to_the_manifold(name):
    want = _mp_gap(name)
    got = float(_jit_rate(_hard_model(HARD[name])))
    rel = abs(mp.mpf(got) / want - 1)
    assert rel < 1e-9, (got, mp.nstr(want, 15))


def test_paper_optimum_gap_is_the_mpmath_value():
    got = float(jaxtls.relaxation_rate(_hard_model(HARD["paper_optimum"])))  # eager
    assert got == pytest.approx(1.25410846726e-9, rel=1e-10)


@pytest.mark.parametrize("scale", [2.0**-66, 2.0**465], ids=["1e-20", "1e140"])
@pytest.mark.parametrize("name", ["paper_optimum", "near_manifold", "cold_dark_coherence"])
def test_gap_is_scale_free_in_the_couplings(name, scale):
    # The rates scale with J; delta and T stay: the gap must scale exactly (no Delta or
    # overflow in the way; powers of 2, ~1.4e-20 and ~9.5e139, keep the inputs exact). The
    # old dense eigensolver lost the gap at 1e-20 and overflowed at 1e140.
    base = float(_jit_rate(_hard_model(HARD[name])))
    got = float(_jit_rate(_hard_model(HARD[name], scale)))
    want = float(_mp_gap(name)) * scale
    assert got > 0
    assert got == pytest.approx(want, rel=1e-9)
    assert got == pytest.approx(base * scale, rel=1e-12)


def test_gap_is_scale_free_at_random_points(rng):
    # the shapes of test_gap_matches_dense_liouvillian_spectrum[False]: its eager dispatch
    # compilations serve here (200 points, 3 asymmetric baths)
    T, J, K, xi = random_params(rng, 200, 3, False, log_j=(-1, 1))
    m = jaxtls.Model(T, J, K, xi=xi, exchange=rng.uniform(-2, 2, 200))
    base = np.asarray(jaxtls.relaxation_rate(m))
    for s in (2.0**-66, 2.0**465):  # ~1e-20, ~1e140, exact scalings
        ms = m.replace(J=(J[0] * s, J[1] * s), K=K * s, exchange=m.exchange * s)
        np.testing.assert_allclose(np.asarray(jaxtls.relaxation_rate(ms)), base * s, rtol=1e-12)


def test_gap_closes_at_the_non_unique_manifold():
    eps = np.array([1e-1, 1e-3, 1e-6, 0.0])
    J = np.array([1.0, 5.0])
    # point by point through the compiled gap of the single symmetric 2-bath points above
    gap = np.array([float(_jit_rate(jaxtls.Model(T=[1.0, 0.2], J=J, K=(1 - e) * J))) for e in eps])
    assert np.all(np.diff(gap) < 0) and abs(gap[-1]) < 1e-13 and gap[2] < 1e-4


def test_gap_gradient_matches_finite_difference():
    m = jaxtls.Model(T=[1.5, 0.3], J=[1.0, 4.0], K=[0.2, 3.0], xi=0.05)
    g = jax.grad(lambda k: jaxtls.relaxation_rate(m.replace(K=k)))(m.K)
    h = 1e-6
    fd = [
        (_jit_rate(m.replace(K=m.K.at[i].add(h))) - _jit_rate(m.replace(K=m.K.at[i].add(-h))))
        / (2 * h)
        for i in range(2)
    ]
    np.testing.assert_allclose(g, fd, rtol=1e-5)


@pytest.mark.parametrize("symmetric", [True, False])
def test_gap_gradient_matches_finite_difference_with_detuning_and_exchange(symmetric):
    J = [1.0, 4.0] if symmetric else ([1.0, 4.0], [2.0, 3.0])
    m = jaxtls.Model(T=[1.5, 0.3], J=J, K=[0.2, 2.0], xi=0.05, detuning=0.3, exchange=0.7)

    def f(T, K, detuning, exchange):
        return jaxtls.relaxation_rate(m.replace(T=T, K=K, detuning=detuning, exchange=exchange))

    args = (m.T, m.K, jnp.asarray(0.3), jnp.asarray(0.7))
    grads = jax.grad(f, argnums=(0, 1, 2, 3))(*args)
    h = 1e-6
    for k, (x, g) in enumerate(zip(args, grads, strict=True)):
        x = np.atleast_1d(np.asarray(x))
        for i in range(x.size):
            e = np.zeros_like(x)
            e[i] = h
            up = [
                jnp.asarray((x + e).reshape(np.shape(args[k]))) if j == k else a
                for j, a in enumerate(args)
            ]
            dn = [
                jnp.asarray((x - e).reshape(np.shape(args[k]))) if j == k else a
                for j, a in enumerate(args)
            ]
            fd = (f(*up) - f(*dn)) / (2 * h)
            assert float(np.atleast_1d(g)[i]) == pytest.approx(float(fd), rel=1e-5, abs=1e-9)


def test_gradient_at_a_symmetry_degenerate_gap():
    # K = 0, J1 = J2: the coherences rho_{1,psi+} and rho_{1,psi-} (and their m = +-1
    # partners) decay at the same rate; the old eigvals gradient was 0.603 for K.
    m = jaxtls.Model(T=[0.3, 0.1], J=[1.0, 2.0], K=[0.0, 0.0])
    f = _jit_rate  # values compiled once; the gradients below are eager

    def onesided(name, i, h=1e-7):
        x = jnp.asarray(getattr(m, name))
        up = x.at[i].add(h) if x.ndim else x + h
        f0 = float(f(m))
        right = (float(f(m.replace(**{name: up}))) - f0) / h
        if name in ("xi",) or (name == "T" and float(x[i]) == 0):
            return right, right
        dn = x.at[i].add(-h) if x.ndim else x - h
        return right, (f0 - float(f(m.replace(**{name: dn})))) / h

    for name in ("T", "J", "xi", "delta", "detuning", "exchange"):
        g = np.atleast_1d(
            np.asarray(
                jax.grad(lambda v, n=name: jaxtls.relaxation_rate(m.replace(**{n: v})))(
                    jnp.asarray(getattr(m, name))
                )
            )
        )
        for i in range(g.size):
            right, left = onesided(name, i)
            assert right == pytest.approx(left, rel=1e-5, abs=1e-7)  # differentiable here
            assert g[i] == pytest.approx(right, rel=1e-5, abs=1e-7), name
    # K: the psi+ and psi- coherences cross (K -> -K symmetry), the gap has a ridge with
    # slope -0.488 on both sides; the documented return is the mean of the two one-sided
    # derivatives, 0 here.
    gK = np.asarray(jax.grad(lambda k: jaxtls.relaxation_rate(m.replace(K=k)))(m.K))
    right, left = onesided("K", 1)
    assert right == pytest.approx(-0.48793673, rel=1e-5) and left == pytest.approx(-right, rel=1e-5)
    np.testing.assert_allclose(gK, 0.0, atol=1e-9)


def test_batch_equals_loop_and_jit_equals_eager(rng):
    T, J, K, xi = random_params(rng, 8, 2, False, log_j=(-2, 2))  # 8 eager single points
    m = jaxtls.Model(
        T, J, K, xi=xi, detuning=rng.uniform(-0.1, 0.1, 8), exchange=rng.uniform(-1, 1, 8)
    )
    batch = np.asarray(jaxtls.relaxation_rate(m))
    loop = np.array([float(jaxtls.relaxation_rate(m[i])) for i in range(8)])
    np.testing.assert_allclose(batch, loop, rtol=1e-13)
    # jit and vmap in one compiled function (traced, batched by vmap's rules, not by the
    # library's broadcasting): one compilation instead of one plus ~130 eager vmap dispatches
    jitted_vmap = np.asarray(jax.jit(jax.vmap(jaxtls.relaxation_rate))(m.broadcast()))
    np.testing.assert_allclose(jitted_vmap, batch, rtol=1e-13)


BROKEN = [
    dict(T=[-1.0, 0.1]),
    dict(J=[-1.0, 3.0]),
    dict(K=[1.5, 2.0]),  # K^2 > J1 J2
    dict(xi=-0.1),
    dict(delta=-1.0),
    dict(detuning=2.0),  # |detuning| > delta
    dict(T=[float("nan"), 0.1]),
]


def _x_entries(state):
    """p1..p4 and rho_23 of a state (the entries an X state has), from its dense matrix."""
    rho = jaxtls.density_matrix(state)
    return jnp.concatenate([jnp.diagonal(rho, axis1=-2, axis2=-1), rho[..., 1, 2, None]], -1)


@jax.jit  # module level: one compilation serves every point below (same shapes)
def _everything(T, J, K, xi, detuning, delta):
    m = jaxtls.Model(T, J, K, xi=xi, detuning=detuning, delta=delta)
    s = jaxtls.steady_state(m, check=False)
    return (
        jaxtls.relaxation_rate(m),
        jaxtls.negativity(s),
        jaxtls.entropy_production(m),
        jaxtls.heat_currents(m),
        _x_entries(s),
        _x_entries(jaxtls.closed_form(m, check=False)),
    )


@pytest.mark.parametrize("broken", BROKEN, ids=lambda b: next(iter(b)))
def test_invalid_points_inside_jit_are_nan_everywhere(broken):
    # Model() refuses these eagerly; inside jit nothing may return a plausible number.
    p = dict(T=[2.0, 0.1], J=[1.0, 3.0], K=[0.5, 2.0], xi=0.1, detuning=0.01, delta=1.0)
    p.update(broken)
    args = [jnp.asarray(p[k], jnp.float64) for k in ("T", "J", "K", "xi", "detuning", "delta")]
    for out in _everything(*args):
        assert np.isnan(np.asarray(out)).all()
    ok = _everything(
        *[jnp.asarray(v, jnp.float64) for v in ([2.0, 0.1], [1.0, 3.0], [0.5, 2.0], 0.1, 0.01, 1.0)]
    )
    assert all(np.isfinite(np.asarray(o)).all() for o in ok)


def test_invalid_points_have_nan_gradients_not_errors():
    m = jaxtls.Model(T=[2.0, 0.1], J=[1.0, 3.0], K=[0.5, 2.0])
    g = jax.jit(jax.grad(lambda k: jaxtls.relaxation_rate(m.replace(K=k))))(jnp.array([1.5, 2.0]))
    assert g.shape == (2,)
    v = _jit_rate(m.replace(delta=0.0))  # Model takes delta = 0; the gap there is NaN
    assert np.isnan(float(v))


def test_gradient_at_an_asymmetric_gap_front_optimum():
    # found when the asymmetric Pareto front of the gap collapsed: the determinant Newton
    # step took jnp.linalg.det's derivative at its root, where the matrix is singular (NaN)
    m = jaxtls.Model(
        T=[848.6590226346941, 0.010486200249501688],
        J=(np.array([1.0, 999278.7853345766]), np.array([2.6179250871510025, 477945.7823686516])),
        K=[
            -0.994884852829836 * np.sqrt(2.6179250871510025),
            -0.9999999978341193 * np.sqrt(999278.7853345766 * 477945.7823686516),
        ],
    )
    g = jax.grad(lambda m: jnp.log(jaxtls.relaxation_rate(m)))(m)
    h = 1e-6
    for leaf, i in (("T", 0), ("K", 0)):
        x = np.asarray(getattr(m, leaf)).copy()
        plus, minus = x.copy(), x.copy()
        plus[i] += h * abs(x[i])
        minus[i] -= h * abs(x[i])

        def f(v, leaf=leaf):
            return float(jnp.log(jaxtls.relaxation_rate(m.replace(**{leaf: v}))))

        fd = (f(plus) - f(minus)) / (2 * h * abs(x[i]))
        assert np.isfinite(float(getattr(g, leaf)[i]))
        np.testing.assert_allclose(float(getattr(g, leaf)[i]), fd, rtol=1e-5)
