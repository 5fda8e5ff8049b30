"""jax.grad through both solvers matches central finite differences for every Model leaf."""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxtls

POINTS = {
    # entangled, near the 2/3-1/3 regime
    "entangled": dict(
        T=[3.0, 0.15], J=[1.0, 40.0], K=[0.2, 38.0], xi=0.01, detuning=0.02, exchange=0.5
    ),
    # separable: the signed objective still has a gradient
    "separable": dict(
        T=[0.7, 0.4], J=[1.0, 3.0], K=[0.3, 1.0], xi=0.2, detuning=0.1, exchange=-0.3
    ),
    # one bath at zero temperature
    "zero_T": dict(T=[2.0, 0.0], J=[1.0, 30.0], K=[0.0, 29.0], xi=0.0, detuning=0.0),
}


def _fd_grad(f, model, h=1e-6):
    with_path, tree = jax.tree_util.tree_flatten_with_path(model)
    leaves = [leaf for _, leaf in with_path]
    names = [jax.tree_util.keystr(path) for path, _ in with_path]
    grads = []
    for i, leaf in enumerate(leaves):
        g = np.zeros(np.shape(leaf))
        for idx in np.ndindex(g.shape):
            x0 = float(np.asarray(leaf)[idx])
            step = h * max(1.0, abs(x0))
            # One-sided at T = 0 or xi = 0, where the model ends.
            lo = 0.0 if (names[i] in (".T", ".xi") and x0 == 0.0) else step
            plus, minus = [np.array(x) for x in leaves], [np.array(x) for x in leaves]
            plus[i][idx] += step
            minus[i][idx] -= lo
            fp = f(jax.tree_util.tree_unflatten(tree, [jnp.asarray(x) for x in plus]))
            fm = f(jax.tree_util.tree_unflatten(tree, [jnp.asarray(x) for x in minus]))
            g[idx] = (float(fp) - float(fm)) / (step + lo)
        grads.append(g)
    return grads


@functools.cache
def _objective(solver, measure):
    def f(model):
        return measure(solver(model, check=False))  # an XState: the closed forms

    return jax.jit(f)


def _neg_lambda(rho):
    return -jaxtls.pt_min_eigenvalue(rho)


# The negativity is flat zero around a separable point, so it is checked at entangled ones.
CASES = [(p, m) for p in POINTS for m in (_neg_lambda, jaxtls.negativity)]
CASES = [(p, m) for p, m in CASES if not (p == "separable" and m is jaxtls.negativity)]


@pytest.mark.parametrize("point, measure", CASES)
@pytest.mark.parametrize("solver", [jaxtls.steady_state, jaxtls.closed_form])
def test_grad_matches_finite_differences_symmetric(point, solver, measure):
    model = jaxtls.Model(**POINTS[point])
    f = _objective(solver, measure)
    grads = jax.tree_util.tree_leaves(jax.grad(f)(model))
    for g, fd in zip(grads, _fd_grad(f, model), strict=True):
        np.testing.assert_allclose(np.asarray(g), fd, rtol=1e-5, atol=1e-8)


@pytest.mark.parametrize("point", ["entangled", "separable"])
def test_grad_matches_finite_differences_asymmetric(point):
    p = dict(POINTS[point])
    p["J"] = (np.array(p["J"]), np.array(p["J"]) * np.array([1.3, 1.1]))
    model = jaxtls.Model(**p)
    f = _objective(jaxtls.steady_state, _neg_lambda)
    grads = jax.tree_util.tree_leaves(jax.grad(f)(model))
    assert len(grads) == 8  # T, J1, J2, K, xi, delta, detuning, exchange
    for g, fd in zip(grads, _fd_grad(f, model), strict=True):
        np.testing.assert_allclose(np.asarray(g), fd, rtol=1e-5, atol=1e-8)


def test_batched_gradients_are_finite_over_random_points():
    rng = np.random.default_rng(3)
    n = 2000
    J = 10 ** rng.uniform(-2, 4, (n, 2))
    K = rng.uniform(-1, 1, (n, 2)) * J
    T = 10 ** rng.uniform(-2, 2, (n, 2))
    T[:100, 1] = 0.0
    model = jaxtls.Model(T, J, K, xi=10 ** rng.uniform(-3, 0, n))
    for solver in (jaxtls.steady_state, jaxtls.closed_form):
        f = _objective(solver, _neg_lambda)
        g = jax.vmap(jax.grad(f))(model.broadcast())
        assert all(np.isfinite(np.asarray(x)).all() for x in jax.tree_util.tree_leaves(g))


@pytest.mark.parametrize(
    "J1, J2, K",
    [([1.0, 0.0], [0.0, 1.0], [0.0, 0.0]), ([1.0, 0.5], [0.0, 1.0], [0.0, 0.3])],
    ids=["local baths", "TLS 2 not coupled to bath 1"],
)
def test_gradient_finite_when_a_tls_is_not_coupled_to_a_bath(J1, J2, K):
    # found by an independent check: d(-lambda_-)/dJ was NaN/inf there (sqrt(J1 J2) at 0)
    model = jaxtls.Model(T=[2.0, 0.1], J=(np.array(J1), np.array(J2)), K=K, detuning=0.1)
    f = _objective(jaxtls.steady_state, _neg_lambda)
    g = jax.grad(f)(model)
    for i in range(2):
        for which, leaf in enumerate((g.J[0], g.J[1])):
            J = [np.array(J1), np.array(J2)]
            J[which] = J[which].copy()
            J[which][i] += 1e-7  # one-sided: J = 0 is the edge of the model
            fd = (float(f(model.replace(J=tuple(J)))) - float(f(model))) / 1e-7
            assert np.isfinite(float(leaf[i]))
            np.testing.assert_allclose(float(leaf[i]), fd, rtol=1e-4, atol=1e-8)


@pytest.mark.parametrize("solver", ["general", "closed_form"])
def test_forward_and_reverse_mode_agree_with_finite_differences(solver):
    """The steady state's implicit derivative (a custom JVP) serves jax.jvp and jax.grad alike
    (a custom VJP would refuse forward mode, which detuning_tolerance and time_to_fraction
    use): both equal central finite differences along a random direction of every leaf."""
    rng = np.random.default_rng(11)
    J1 = rng.uniform(0.5, 2.0, 3)
    J = J1 if solver == "closed_form" else (J1, rng.uniform(0.5, 2.0, 3))
    base = dict(T=rng.uniform(0.2, 3.0, 3), K=0.6 * J1 * rng.uniform(-1, 1, 3), xi=0.3)
    asym = {} if solver == "closed_form" else dict(detuning=0.05, exchange=0.2)
    leaves = dict(T=base["T"], K=base["K"], xi=np.float64(0.3))

    def f(p):
        m = jaxtls.Model(T=p["T"], J=J, K=p["K"], xi=p["xi"], **asym)
        s = jaxtls.steady_state(m, solver=solver)
        return jaxtls.negativity(s) + 0.5 * s.p1 - 0.3 * s.c_re

    v = {k: rng.normal(size=np.shape(x)) for k, x in leaves.items()}
    _, jvp = jax.jvp(f, (leaves,), (v,))
    g = jax.grad(f)(leaves)
    rev = sum(float(np.sum(np.asarray(g[k]) * v[k])) for k in leaves)
    h = 1e-6
    plus = {k: leaves[k] + h * v[k] for k in leaves}
    minus = {k: leaves[k] - h * v[k] for k in leaves}
    fd = (float(f(plus)) - float(f(minus))) / (2 * h)
    assert abs(float(jvp) - rev) <= 1e-13 * max(1.0, abs(rev))
    assert abs(float(jvp) - fd) <= 1e-7 * max(1.0, abs(fd))


@pytest.mark.parametrize("solver", [jaxtls.steady_state, jaxtls.closed_form])
def test_invalid_and_non_unique_rows_do_not_poison_shared_leaves(solver):
    # a batch sharing J, with one invalid row (K > J) and one non-unique row (K = J on every
    # bath): masked out of the loss, they must leave the shared leaf's gradient that of the
    # valid rows alone (their singular stand-in once made it NaN in reverse mode). The
    # reference puts copies of the valid rows in their place (same shapes: one compilation).
    J = jnp.array([1.0, 1000.0])
    T = jnp.array([[20.0, 0.1], [30.0, 0.1], [20.0, 0.1], [20.0, 0.1]])
    K_bad = jnp.array([[0.0, 1000.0], [0.0, 1000.0], [5.0, 1000.0], [1.0, 1000.0]])
    K_ref = K_bad.at[2:].set(K_bad[:2])
    keep = jnp.array([1.0, 1.0, 0.0, 0.0])

    def values(J, K):
        return jaxtls.negativity(solver(jaxtls.Model(T=T, J=J, K=K), check=False))

    def loss(J, K):
        v = values(J, K)
        return jnp.sum(keep * jnp.where(jnp.isfinite(v), v, 0.0))

    grad = jax.jit(jax.grad(loss))
    g_bad, g_ref = grad(J, K_bad), grad(J, K_ref)
    assert np.all(np.isfinite(g_bad)) and np.all(g_ref != 0)
    np.testing.assert_allclose(g_bad, g_ref, rtol=1e-13)
    jac = jax.jit(jax.jacfwd(values))(J, K_bad)  # forward mode: no NaN tangent at the bad rows
    assert np.all(np.isfinite(jac[:2])) and np.all(np.isnan(jac[2:]) | (jac[2:] == 0))
