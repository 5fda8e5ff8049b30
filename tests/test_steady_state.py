"""Steady-state solvers: closed form vs general solver vs dense Liouvillian, limits, errors."""

import importlib

import jax
import jax.numpy as jnp
import numpy as np
import oracles
import pytest
from conftest import random_params

import jaxtls

SUP = oracles.NEGATIVITY_MAX  # (sqrt 5 - 2)/6, the tests' own copy


def _dense(state):
    """The (..., 4, 4) matrix of an XState (or an array) as numpy."""
    return np.asarray(jaxtls.density_matrix(state))


def _rel_norm_err(a, b):
    a, b = _dense(a), _dense(b)
    return np.abs(a - b).max(axis=(-2, -1)) / np.abs(a).max(axis=(-2, -1))


def _pops(rho):
    return np.real(np.diagonal(_dense(rho), axis1=-2, axis2=-1))


@pytest.mark.parametrize("n_baths", [1, 2, 3])
def test_closed_form_equals_general_solver_over_decades(n_baths):
    rng = np.random.default_rng(n_baths)
    n = 20000
    T = 10 ** rng.uniform(-3, 3, (n, n_baths))
    J = 10 ** rng.uniform(-6, 6, (n, n_baths))
    kap = rng.uniform(-1, 1, (n, n_baths))
    kap[rng.random((n, n_baths)) < 0.2] = 1.0  # the boundary |K| = J, one bath at a time
    kap[rng.random((n, n_baths)) < 0.1] = -1.0
    xi = np.where(rng.random(n) < 0.5, 0.0, 10 ** rng.uniform(-4, 1, n))
    m = jaxtls.Model(T, J, kap * J, xi=xi)
    a, b = jaxtls.steady_state(m, check=False), jaxtls.closed_form(m, check=False)
    unique = np.asarray(jaxtls.diagnose(m).unique)
    assert unique.mean() > 0.8
    # Non-unique points (K = +-J on every bath with xi = 0) are NaN in both, unique ones in neither.
    np.testing.assert_array_equal(np.isnan(_pops(a)).any(-1), ~unique)
    np.testing.assert_array_equal(np.isnan(_pops(b)).any(-1), ~unique)
    a, b = _dense(a)[unique], _dense(b)[unique]
    assert _rel_norm_err(a, b).max() < 1e-10
    pa, pb = _pops(a), _pops(b)
    big = pa > 1e-250  # below that, both are denormal-range noise
    assert (np.abs(pa - pb)[big] / pa[big]).max() < 1e-10


@pytest.mark.parametrize("symmetric", [True, False])
@pytest.mark.parametrize("n_baths", [2, 3])
def test_general_solver_matches_dense_liouvillian(symmetric, n_baths, rng):
    T, J, K, xi = random_params(rng, 200, n_baths, symmetric, log_j=(-2, 2))
    det = np.where(rng.random(200) < 0.5, 0.0, rng.uniform(-0.5, 0.5, 200))
    m = jaxtls.Model(T, J, K, xi=xi, detuning=det)
    a = jaxtls.steady_state(m)
    b = jaxtls.liouvillian_steady_state(m)
    assert _rel_norm_err(a, b).max() < 1e-9


def test_closed_form_includes_dephasing_and_detuning(rng):
    T, J, K, xi = random_params(rng, 500, 2)
    det = rng.uniform(-1, 1, 500) * 10 ** rng.uniform(-3, 0, 500)
    m = jaxtls.Model(T, J, K, xi=xi, detuning=det)
    assert _rel_norm_err(jaxtls.closed_form(m), jaxtls.steady_state(m)).max() < 1e-10


@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_non_unique_steady_state_is_detected(sign):
    m = jaxtls.Model(T=[1.0, 0.1], J=[1.0, 5.0], K=[sign * 1.0, sign * 5.0])
    for solve in (jaxtls.steady_state, jaxtls.closed_form):
        with pytest.raises(ValueError, match="not unique"):
            solve(m)
        for state in (jax.jit(solve)(m), solve(m, check=False)):
            assert np.isnan(_dense(state)).all() and np.isnan(state.entries).all()
            assert bool(state.diagnostics.valid) and not bool(state.diagnostics.unique)
    d = jaxtls.diagnose(m)
    assert bool(d.valid) and not bool(d.unique) and float(d.margin) == 0.0
    # Dephasing or detuning lift the degeneracy.
    for lifted in (m.replace(xi=1e-6), m.replace(detuning=1e-6)):
        rho = jaxtls.steady_state(lifted)
        assert np.isfinite(_dense(rho)).all() and bool(rho.diagnostics.unique)


def test_uncoupled_tls_is_not_unique():
    with pytest.raises(ValueError, match="not unique"):
        jaxtls.steady_state(jaxtls.Model(T=[1.0], J=[0.0], K=[0.0]))


def test_invalid_point_inside_jit_is_nan_and_diagnosed():
    f = jax.jit(
        lambda k: jaxtls.steady_state(jaxtls.Model([1.0, 0.2], [1.0, 2.0], jnp.stack([k, k])))
    )
    state = f(3.0)
    assert np.isnan(_dense(state)).all() and not bool(state.diagnostics.valid)
    d = jax.jit(lambda k: jaxtls.diagnose(jaxtls.Model([1.0, 0.2], [1.0, 2.0], jnp.stack([k, k]))))(
        3.0
    )
    assert not bool(d.valid)


def test_closed_form_rejects_asymmetric_coupling():
    m = jaxtls.Model(T=[1.0, 0.1], J=([1.0, 5.0], [2.0, 5.0]), K=[0.0, 4.0])
    with pytest.raises(ValueError, match="symmetric coupling"):
        jaxtls.closed_form(m)
    assert np.isnan(_dense(jax.jit(jaxtls.closed_form)(m))).all()
    same = jaxtls.Model(T=[1.0, 0.1], J=([1.0, 5.0], [1.0, 5.0]), K=[0.0, 4.0])
    np.testing.assert_allclose(
        _dense(jaxtls.closed_form(same)), _dense(jaxtls.steady_state(same)), atol=1e-14
    )


@pytest.mark.parametrize("symmetric", [True, False])
def test_equal_temperatures_give_gibbs_product_state(symmetric, rng):
    T, J, K, xi = random_params(rng, 300, 3, symmetric)
    T = np.repeat(T[:, :1], 3, axis=1)
    rho = _dense(jaxtls.steady_state(jaxtls.Model(T, J, K, xi=xi)))
    w = np.exp(-1.0 / T[:, 0])  # Boltzmann factor of the excited level
    gibbs = np.stack([np.ones_like(w), w, w, w * w], -1) / ((1 + w) ** 2)[:, None]
    # Asymmetric coupling eliminates the Bell coherence u with signed terms: a few ulps more.
    np.testing.assert_allclose(_pops(rho), gibbs, rtol=1e-12 if symmetric else 1e-11, atol=1e-300)
    assert np.abs(rho[:, 1, 2]).max() < 1e-14


def test_large_detuning_gives_product_state_of_eq13(rng):
    T, J, K, xi = random_params(rng, 100, 2, symmetric=False, log_j=(-7, -5))
    m = jaxtls.Model(T, J, K, xi=xi, detuning=0.5)  # detuning >> rates, << delta
    rho = _dense(jaxtls.steady_state(m))
    r = jaxtls.rates(m)
    gd, gu = np.asarray(r.g_down), np.asarray(r.g_up)
    ground = gd / (gd + gu)  # weight of |+> for each TLS
    prod = np.stack(
        [
            ground[:, 0] * ground[:, 1],
            ground[:, 0] * (1 - ground[:, 1]),
            (1 - ground[:, 0]) * ground[:, 1],
            (1 - ground[:, 0]) * (1 - ground[:, 1]),
        ],
        -1,
    )
    np.testing.assert_allclose(_pops(rho), prod, atol=1e-9)
    assert np.abs(rho[:, 1, 2]).max() < 1e-5


def test_zero_splitting_gives_identity_over_four():
    m = jaxtls.Model(T=[2.0, 0.3], J=([1.0, 7.0], [2.0, 5.0]), K=[1.0, 5.0], delta=0.0)
    for rho in (jaxtls.steady_state(m), jaxtls.closed_form(m.replace(J=m.J1, K=[1.0, 6.0]))):
        np.testing.assert_allclose(_dense(rho), np.eye(4) / 4, atol=1e-15)
    small = m.replace(delta=1e-9)
    np.testing.assert_allclose(_dense(jaxtls.steady_state(small)), np.eye(4) / 4, atol=1e-8)


@pytest.mark.parametrize("kappa", [1.0, 0.95])
@pytest.mark.parametrize("theta", [0.01, 0.1, 1.0, 10.0])
def test_eq26_large_coupling_ratio_regime(kappa, theta):
    J2 = 1e7
    m = jaxtls.Model([theta * J2, 0.02], [1.0, J2], [0.0, kappa * J2])
    rho = _dense(jaxtls.steady_state(m))
    s = 1 / ((1 + 2 * theta) ** 3 - kappa**2)
    want = [
        s * ((1 + theta) ** 2 * (1 + 2 * theta) - kappa**2),
        s * theta * (1 + theta) * (1 + 2 * theta),
        s * theta**2 * (1 + 2 * theta),
        -s * kappa * theta,
    ]
    got = [rho[0, 0].real, rho[1, 1].real, rho[3, 3].real, rho[1, 2].real]
    np.testing.assert_allclose(got, want, atol=2e-6)


def test_two_thirds_one_third_supremum_approached_not_exceeded():
    m = jaxtls.Model([1e3, 0.01], [1.0, 1e9], [0.0, 1e9])
    for solve in (jaxtls.steady_state, jaxtls.closed_form):
        rho = solve(m)
        N = float(jaxtls.negativity(rho))
        assert SUP * (1 - 1e-3) < N <= SUP
        np.testing.assert_allclose(jaxtls.bell_populations(rho), [2 / 3, 0, 1 / 3, 0], atol=2e-3)


def test_negativity_never_exceeds_supremum_in_symmetric_case_over_extreme_ratios():
    rng = np.random.default_rng(7)
    n = 100000
    J = 10 ** np.stack([np.zeros(n), rng.uniform(0, 12, n)], -1)
    K = (
        np.stack(
            [rng.uniform(-1, 1, n), np.where(rng.random(n) < 0.5, 1.0, rng.uniform(0.9, 1, n))], -1
        )
        * J
    )
    T = 10 ** np.stack([rng.uniform(-1, 9, n), rng.uniform(-3, 0, n)], -1)
    m = jaxtls.Model(T, J, K)
    for solve in (jaxtls.steady_state, jaxtls.closed_form):
        N = np.asarray(jaxtls.negativity(solve(m, check=False)))
        assert np.nanmax(N) <= SUP and np.nanmax(N) > 0.99 * SUP


def test_vmap_and_jit_equal_python_loop(rng):
    T, J, K, xi = random_params(rng, 16, 2, symmetric=False)
    m = jaxtls.Model(T, J, K, xi=xi, detuning=np.linspace(-0.1, 0.1, 16))
    batched = _dense(jax.jit(jax.vmap(jaxtls.steady_state))(m.broadcast()))
    broadcast = _dense(jaxtls.steady_state(m))
    loop = np.stack([_dense(jaxtls.steady_state(m[i])) for i in range(16)])
    np.testing.assert_allclose(batched, broadcast, rtol=1e-14, atol=1e-17)
    np.testing.assert_allclose(batched, loop, rtol=0, atol=1e-15)
    sym = jaxtls.Model(T, J[0], K * np.sqrt(J[0] / J[1]), xi=xi)
    loop = np.stack([_dense(jaxtls.closed_form(sym[i])) for i in range(16)])
    vmapped = _dense(jax.vmap(jaxtls.closed_form)(sym.broadcast()))
    np.testing.assert_allclose(vmapped, loop, atol=1e-15)


def test_batch_shapes_broadcast():
    m = jaxtls.Model(
        T=jnp.ones((3, 1, 2)) * jnp.array([2.0, 0.1]),
        J=[1.0, 10.0],
        K=[0.0, 9.0],
        xi=jnp.linspace(0, 0.1, 4),
    )
    for state in (jaxtls.steady_state(m), jaxtls.closed_form(m)):
        assert isinstance(state, jaxtls.XState) and state.batch_shape == (3, 4)
        assert all(x.shape == (3, 4) for x in state.entries + tuple(state.diagnostics))
        assert state.matrix().shape == (3, 4, 4, 4) and state.matrix().dtype == jnp.complex128


@pytest.mark.parametrize("solver", ["general", "closed_form"])
def test_large_eager_batches_in_chunks_equal_one_jitted_call(solver, rng, monkeypatch):
    """Above EAGER_MAX points an eager call runs in chunks (the last one overlapping): the
    values of one jitted call to rounding (XLA rounds by array shape), for a ragged 2-D batch
    with leaves shared (J), batched (T) and partly broadcast (K, xi, detuning along the first
    batch axis only, delta along the second), invalid and non-unique points included."""
    ss = importlib.import_module("jaxtls.steady_state")
    monkeypatch.setattr(ss, "EAGER_MAX", 64)
    monkeypatch.setattr(ss, "CHUNK", 48)  # 7 x 23 = 161 points: 4 chunks, the last overlapping
    T = 10 ** rng.uniform(-2, 2, (7, 23, 2))
    K = rng.uniform(-1, 1, (7, 1, 2)) * np.array([1.0, 10.0])  # partly broadcast
    K[3, 0] = [1.0, 10.0]  # K = +J on both baths: not unique
    xi, det = rng.uniform(0, 0.1, (2, 7, 1))
    xi[3] = det[3] = 0.0  # with K = J on row 3: dark states
    m = jaxtls.Model(T, [1.0, 10.0], K, xi=xi, delta=rng.uniform(0.5, 2, 23), detuning=det)
    T = T.copy()
    T[2, 5, 0] = -1.0  # invalid (a Model built from values would refuse it: unflattened)
    leaves, treedef = jax.tree_util.tree_flatten(valid := m)
    m = treedef.unflatten([T] + leaves[1:])
    eager = jaxtls.steady_state(m, solver=solver, check=False)
    whole = jax.jit(lambda m: jaxtls.steady_state(m, solver=solver, check=False))(m)
    assert eager.batch_shape == (7, 23)
    leaves = jax.tree_util.tree_leaves
    for a, b in zip(leaves(eager), leaves(whole), strict=True):
        assert isinstance(a, jax.Array) and a.shape == b.shape and a.dtype == b.dtype
        if a.dtype == bool:
            np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
        else:  # a few ulps (NaN where NaN)
            np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=4e-15, atol=1e-300)
    assert np.isnan(eager.p1[2, 5]) and not eager.diagnostics.unique[3].any()
    with pytest.raises(ValueError, match=r"T must be >= 0 \(violated at index \(2, 5, 0\)"):
        jaxtls.steady_state(m, solver=solver)
    with pytest.raises(ValueError, match=r"not unique at batch index \(3, 0\)"):
        jaxtls.steady_state(valid, solver=solver)


# -- the state type: check=, diagnostics, from_matrix (issue 12) ------------------------------


def _bad_T_model(T0):
    """Two-bath model whose first temperature is ``T0`` (built inside jit: not validated)."""
    return jaxtls.Model(jnp.stack([T0, 0.1]), [1.0, 2.0], [0.5, 1.0])


@pytest.mark.parametrize("solver", ["general", "closed_form"])
def test_check_true_raises_under_jit_at_run_time_with_the_rules_message(solver):
    solve = lambda m, **kw: jaxtls.steady_state(m, solver=solver, **kw)  # noqa: E731
    f = jax.jit(lambda T0: solve(_bad_T_model(T0), check=True))
    assert np.isfinite(_dense(f(1.0))).all()  # a good point passes through the callback
    with pytest.raises(jax.errors.JaxRuntimeError, match=r"T must be >= 0"):
        jax.block_until_ready(f(-1.0))  # negative temperature built inside jit
    k_model = lambda k: jaxtls.Model([1.0, 0.1], [1.0, 5.0], k * jnp.array([1.0, 5.0]))  # noqa: E731
    g = jax.jit(lambda k: solve(k_model(k), check=True))
    assert np.isfinite(_dense(g(0.5))).all()
    with pytest.raises(jax.errors.JaxRuntimeError, match="not unique"):
        jax.block_until_ready(g(1.0))  # K = J on every bath, xi = 0
    # The same messages eagerly, as ValueError (one error path).
    with pytest.raises(ValueError, match="not unique"):
        solve(jaxtls.Model([1.0, 0.1], [1.0, 5.0], [1.0, 5.0]), check=True)


@pytest.mark.parametrize("solver", ["general", "closed_form"])
def test_check_none_is_nan_with_diagnostics_under_jit_and_check_false_never_raises(solver):
    solve = lambda m, **kw: jaxtls.steady_state(m, solver=solver, **kw)  # noqa: E731
    bad_T = jnp.array([1.0, -1.0, 2.0])
    for check in (None, False):
        one = lambda T0, check=check: solve(_bad_T_model(T0), check=check)  # noqa: E731
        state = jax.jit(jax.vmap(one))(bad_T)
        np.testing.assert_array_equal(np.isnan(state.p1), [False, True, False])
        np.testing.assert_array_equal(state.diagnostics.valid, [True, False, True])
        assert np.isnan(_dense(state)[1]).all() and np.isfinite(_dense(state)[[0, 2]]).all()
    non_unique = jaxtls.Model([1.0, 0.1], [1.0, 5.0], [1.0, 5.0])
    state = solve(non_unique, check=False)  # eagerly too: NaN, no error
    assert np.isnan(state.entries).all() and not bool(state.diagnostics.unique)
    assert bool(state.diagnostics.valid)
    with pytest.raises(ValueError, match="check must be"):
        solve(non_unique, check="yes")
    with pytest.raises(ValueError, match="solver must be"):
        jaxtls.steady_state(non_unique, solver="dense")


@pytest.mark.parametrize("solver", ["general", "closed_form"])
def test_diagnostics_of_the_state_equal_diagnose_eagerly_under_jit_and_vmap(solver, rng):
    T, J, K, xi = random_params(rng, 64, 2)
    K[:8] = J[:8]  # non-unique points (K = J on both baths) where xi = 0
    xi[:8] = np.where(np.arange(8) < 4, 0.0, xi[:8])
    m = jaxtls.Model(T, J, K, xi=xi)
    want = jaxtls.diagnose(m, solver=solver)
    assert not np.asarray(want.unique)[:4].any() and np.asarray(want.unique)[8:].all()
    runs = {
        "eager": jaxtls.steady_state(m, solver=solver, check=False).diagnostics,
        "jit": jax.jit(lambda mm: jaxtls.steady_state(mm, solver=solver).diagnostics)(m),
        "vmap": jax.vmap(lambda mm: jaxtls.steady_state(mm, solver=solver).diagnostics)(
            m.broadcast()
        ),
        "jit diagnose": jax.jit(lambda mm: jaxtls.diagnose(mm, solver=solver))(m),
    }
    for name, got in runs.items():
        for field in ("valid", "unique", "finite"):
            a, b = np.asarray(getattr(want, field)), np.asarray(getattr(got, field))
            np.testing.assert_array_equal(a, b, err_msg=f"{name}.{field}")
        # the margin to the ulp (vmap fuses the arithmetic differently)
        a, b = np.asarray(want.margin), np.asarray(got.margin)
        np.testing.assert_allclose(b, a, rtol=1e-14, atol=0, err_msg=f"{name}.margin")


def test_from_matrix_round_trips_and_rejects_non_x_matrices(rng):
    T, J, K, xi = random_params(rng, 50, 2, symmetric=False)
    state = jaxtls.steady_state(jaxtls.Model(T, J, K, xi=xi, detuning=0.01, exchange=0.3))
    assert np.abs(state.c_im).max() > 0  # both parts of rho_23 exercised
    back = jaxtls.XState.from_matrix(state.matrix())
    for a, b in zip(state.entries, back.entries, strict=True):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    assert back.diagnostics is None
    np.testing.assert_array_equal(_dense(back), _dense(state))
    rho = _dense(state).copy()
    rho[7, 0, 3] = rho[7, 3, 0] = 1e-9  # a rho_14 coherence at one point: not this shape
    with pytest.raises(ValueError, match=r"outside the diagonal and rho_23.*\(7,\)"):
        jaxtls.XState.from_matrix(rho)
    jitted = jax.jit(jaxtls.XState.from_matrix)(rho)
    bad = np.isnan(np.stack(jitted.entries, -1))
    assert bad[7].all() and not bad[np.arange(50) != 7].any()
    # check=False never raises: the same NaN as under jit
    unchecked = jaxtls.XState.from_matrix(rho, check=False)
    np.testing.assert_array_equal(np.isnan(np.stack(unchecked.entries, -1)), bad)
