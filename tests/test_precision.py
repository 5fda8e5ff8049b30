"""Next to the non-unique manifold: both solvers against the paper's formulas in 50 digits."""

import mpmath as mp
import numpy as np
import pytest

import jaxtls


def paper_closed_form_mp(T, J, K, xi=0.0, delta=1.0, dps=60):
    """Eqs. (23)-(24) evaluated naively in high precision from the exact binary inputs."""
    with mp.workdps(dps):
        T, J, K = ([mp.mpf(float(x)) for x in v] for v in (T, J, K))
        d, xi = mp.mpf(float(delta)), mp.mpf(float(xi))
        n = [1 / mp.expm1(d / t) if t > 0 else mp.mpf(0) for t in T]
        gamma = sum(j * (1 + m) for j, m in zip(J, n, strict=True))
        eta = sum(j * m for j, m in zip(J, n, strict=True)) / gamma
        beta = sum(k * (1 + m) for k, m in zip(K, n, strict=True))
        etap = sum(k * m for k, m in zip(K, n, strict=True)) / beta
        g = gamma / beta
        den = (
            4 * (etap - eta) ** 2
            + g**2 * (1 + eta) ** 3 * (1 + eta + xi)
            - (1 + etap) * (1 + 3 * eta**2 + 3 * etap + etap * eta**2)
        )
        c = g * (etap - eta) * (1 - eta**2) / den
        z = 1 + eta
        f = c * beta / (gamma * z**3)
        w = etap * eta + etap - eta - 1
        p1 = 1 / z**2 + f * (z * (eta + etap) - 2 * w)
        p2 = eta / z**2 + f * (-z * (eta + etap) + (1 - eta) * w)
        p4 = eta**2 / z**2 + f * (z * (eta + etap) + 2 * eta * w)
        return np.array([float(p1), float(p2), float(p2), float(p4), float(c)])


def _flat(rho):
    rho = np.asarray(jaxtls.density_matrix(rho))
    return np.array(
        [rho[0, 0].real, rho[1, 1].real, rho[2, 2].real, rho[3, 3].real, rho[1, 2].real]
    )


CASES = [
    ([3.0, 0.1], [1.0, 50.0]),
    ([30.0, 0.05], [1.0, 1e5]),
    ([0.5, 0.2, 2.0], [2.0, 7.0, 0.3]),
    ([1e3, 1e-3], [1e-6, 1e6]),
]


@pytest.mark.parametrize("T, J", CASES)
@pytest.mark.parametrize("gap", [1e-12, 1e-9, 1e-6])
@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_accurate_next_to_the_non_unique_manifold(T, J, gap, sign):
    J = np.array(J)
    K = sign * J * (1 - gap)  # |K_n| / J_n = 1 - gap on every bath
    want = paper_closed_form_mp(T, J, K)
    m = jaxtls.Model(T, J, K)
    for solver in (jaxtls.steady_state, jaxtls.closed_form):
        got = _flat(solver(m))
        scale = np.abs(want).max()
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-13 * scale)


@pytest.mark.parametrize("T, J", CASES)
def test_accurate_close_to_the_manifold_with_tiny_dephasing(T, J):
    J = np.array(J)
    m = jaxtls.Model(T, J, J * (1 - 1e-10), xi=1e-11)
    want = paper_closed_form_mp(T, J, J * (1 - 1e-10), xi=1e-11)
    for solver in (jaxtls.steady_state, jaxtls.closed_form):
        np.testing.assert_allclose(_flat(solver(m)), want, rtol=1e-10, atol=1e-14)


def test_random_symmetric_points_against_high_precision():
    rng = np.random.default_rng(11)
    for _ in range(40):
        nb = rng.integers(1, 4)
        T = 10 ** rng.uniform(-2, 2, nb)
        J = 10 ** rng.uniform(-4, 4, nb)
        K = J * rng.uniform(-1, 1, nb)
        xi = float(rng.choice([0.0, 10 ** rng.uniform(-4, 0)]))
        want = paper_closed_form_mp(T, J, K, xi)
        m = jaxtls.Model(T, J, K, xi=xi)
        for solver in (jaxtls.steady_state, jaxtls.closed_form):
            np.testing.assert_allclose(_flat(solver(m)), want, rtol=1e-10, atol=1e-14)


def test_naive_double_precision_formula_fails_there():
    """The test above bites: the paper's formula in ~double precision loses c entirely."""
    T, J = [3.0, 0.1], np.array([1.0, 50.0])
    K = J * (1 - 1e-12)
    exact, naive = paper_closed_form_mp(T, J, K), paper_closed_form_mp(T, J, K, dps=15)
    assert abs(naive[4] / exact[4] - 1) > 0.5
    assert abs(_flat(jaxtls.closed_form(jaxtls.Model(T, J, K)))[4] / exact[4] - 1) < 1e-10


@pytest.mark.parametrize("scale", [1e-160, 1e-300, 1e154, 1e200, 1e300])
def test_states_are_scale_free_down_to_subnormal_and_up_to_overflow(scale):
    # found by an independent check: asymmetric states went wrong at 1e-160 (subnormal
    # products) and were called non-unique at 1e154. The state depends on rate ratios only.
    J1, J2, K = np.array([1.0, 50.0]), np.array([0.7, 80.0]), np.array([0.2, -60.0])
    kw = dict(T=[3.0, 0.2], exchange=2.0, detuning=0.0)
    want = np.asarray(jaxtls.steady_state(jaxtls.Model(J=(J1, J2), K=K, **kw)).matrix())
    s = 2.0 ** np.round(np.log2(scale))  # exact scaling: the same state bit for bit
    got = jaxtls.steady_state(
        jaxtls.Model(J=(J1 * s, J2 * s), K=K * s, **{**kw, "exchange": 2.0 * s})
    )
    np.testing.assert_array_equal(np.asarray(got.matrix()), want)
    sym = dict(T=[3.0, 0.2], J=np.array([1.0, 50.0]), K=np.array([0.2, 45.0]))
    want = np.asarray(jaxtls.closed_form(jaxtls.Model(**sym)).matrix())
    got = jaxtls.closed_form(jaxtls.Model(sym["T"], sym["J"] * s, sym["K"] * s))
    np.testing.assert_array_equal(np.asarray(got.matrix()), want)


def test_closed_form_at_large_J_times_T():
    # found by an independent check: closed_form(check=True) returned NaN silently for
    # J T > 1e77 (the fourth powers of the rates overflowed)
    m = jaxtls.Model(T=[1e80, 0.1], J=[1.0, 10.0], K=[0.0, 9.0])
    for solver in (jaxtls.closed_form, jaxtls.steady_state):
        rho = np.asarray(solver(m).matrix())
        assert np.isfinite(rho).all()
        np.testing.assert_allclose(
            rho, jaxtls.steady_state(m.replace(T=np.array([1e15, 0.1]))).matrix(), atol=1e-13
        )


@pytest.mark.parametrize("solver", ["general", "closed_form"])
def test_one_point_solve_rescales_like_a_batch_under_vmap(solver):
    # a one-point model (what vmap maps: sweep, the optimizer's starts, detuning_tolerance)
    # is solved without the rescaling's cond: it must still rescale the points that need it,
    # per point, and give the batched solve's values and derivatives at the others
    import jax
    import jax.numpy as jnp

    s = 2.0 ** np.array([0.0, -1000.0, 600.0, 0.0, 3.0])  # exact: the state is scale-free
    J1 = np.array([1.0, 1000.0]) * s[:, None]
    J2 = J1 if solver == "closed_form" else np.array([1.2, 1100.0]) * s[:, None]
    K = np.array([0.0, 900.0]) * s[:, None]
    m = jaxtls.Model(T=[20.0, 0.1], J=J1 if solver == "closed_form" else (J1, J2), K=K, xi=1e-3)
    m = m.replace(exchange=0.5 * s)
    want = jaxtls.steady_state(m, solver=solver)
    got = jax.jit(jax.vmap(lambda p: jaxtls.steady_state(p, solver=solver)))(m.broadcast())
    for a, b in zip(got.entries, want.entries, strict=True):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-13, atol=0)
        assert np.isfinite(np.asarray(a)).all()
    # the same state at every scale: rows 1, 2 (rescaled) equal row 0 (not rescaled)
    np.testing.assert_allclose(np.asarray(got.p1)[1:3], np.asarray(got.p1)[[0, 0]], rtol=1e-13)

    def loss(f):
        return lambda T: jnp.sum(jaxtls.negativity(f(m.broadcast().replace(T=T))))

    T = jnp.broadcast_to(jnp.asarray(m.T), (5, 2))
    g_want = jax.grad(loss(lambda p: jaxtls.steady_state(p, solver=solver, check=False)))(T)
    g_got = jax.grad(loss(jax.vmap(lambda p: jaxtls.steady_state(p, solver=solver, check=False))))(
        T
    )
    np.testing.assert_allclose(np.asarray(g_got), np.asarray(g_want), rtol=1e-12, atol=0)
    assert np.all(np.asarray(jaxtls.negativity(want)) > 0) and np.all(np.asarray(g_got) != 0)
