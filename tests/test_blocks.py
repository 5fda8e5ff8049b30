"""jaxtls.blocked: the same values as the function it blocks (bit for bit), and the same
derivatives (reverse and forward mode) as plain autodiff, for both solvers."""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxtls

BLOCK = 64  # small blocks: several blocks and a ragged last one on a few hundred points
# blocks from two on (the default, 8, would run these small batches directly)
_blocked = functools.partial(jaxtls.blocked, min_blocks=2)


def _model(shape, seed=0, symmetric=False):
    """Random asymmetric two-bath models with detuning, exchange and dephasing; a few
    points at extreme scales (the rescaling branch) and a few invalid ones (NaN)."""
    r = np.random.default_rng(seed)
    T = r.uniform(0.05, 30.0, shape + (2,))
    J1 = 10 ** r.uniform(-1, 3, shape + (2,))
    J2 = J1 if symmetric else J1 * r.uniform(0.5, 2.0, shape + (2,))
    K = r.uniform(-1, 1, shape + (2,)) * np.sqrt(J1 * J2)
    for x in {id(a): a for a in (J1, J2, K)}.values():
        x.reshape(-1, 2)[3] *= 1e160  # overflows without the exact rescaling
    J = J1 if symmetric else (J1, J2)
    xi = r.uniform(0, 0.5, shape)
    det = 0.0 if symmetric else r.uniform(-0.2, 0.2, shape)
    m = jaxtls.Model(T=T, J=J, K=K, xi=xi, detuning=det, exchange=r.uniform(0, 0.3, shape))
    T = T.copy()
    T.reshape(-1, 2)[5, 0] = -1.0  # invalid: NaN (built past the eager validation)
    leaves, tree = jax.tree_util.tree_flatten(m)
    return jax.tree_util.tree_unflatten(tree, [jnp.asarray(T)] + leaves[1:])


SOLVERS = {
    "general": lambda m: jaxtls.negativity(jaxtls.steady_state(m)),
    "closed_form": lambda m: jaxtls.negativity(jaxtls.closed_form(m)),
}


@pytest.mark.parametrize("solver", SOLVERS)
def test_values_bit_for_bit(solver):
    m = _model((3, 101), symmetric=solver == "closed_form")  # 303 points: 5 blocks, ragged
    f = SOLVERS[solver]
    got, want = jax.jit(_blocked(f, block=BLOCK))(m), jax.jit(f)(m)
    assert got.shape == (3, 101)
    assert np.isnan(want).sum() == 1
    np.testing.assert_array_equal(np.asarray(got), np.asarray(want))


def _leaves(tree):
    return [np.asarray(x) for x in jax.tree_util.tree_leaves(tree)]


def _lam(m):
    """The objective of the searches: the smooth lambda_- (a gradient on every point)."""
    return jaxtls.pt_min_eigenvalue(jaxtls.closed_form(m))


def test_gradient_equals_autodiff_and_forward_mode():
    """Reverse mode equals plain autodiff on every leaf; forward mode (jvp) equals grad . v.
    (The derivative rule does not depend on the solver: the closed form is tested, the cheaper
    to compile.)"""
    m = _model((250,), seed=1, symmetric=True).broadcast()  # every leaf per point
    blocked = _blocked(_lam, block=BLOCK)
    got = jax.jit(jax.grad(lambda m: jnp.nansum(blocked(m))))(m)
    want = jax.jit(jax.grad(lambda m: jnp.nansum(_lam(m))))(m)
    for g, w in zip(_leaves(got), _leaves(want), strict=True):
        assert g.shape == w.shape
        np.testing.assert_allclose(g, w, rtol=1e-9, atol=1e-12 * np.nanmax(np.abs(w)))
    assert all(np.count_nonzero(g) > 100 for g in _leaves(got)[:3])  # T, J, K
    v = jax.tree_util.tree_map(lambda x: 0.01 * jnp.sign(jnp.sin(7 * x + 1)), m)
    value, t = jax.jvp(blocked, (m,), (v,))
    np.testing.assert_array_equal(np.asarray(value), np.asarray(jax.jit(_lam)(m)))
    pairs = zip(_leaves(got), _leaves(v), strict=True)
    dot = sum(jnp.sum(a * b, axis=tuple(range(1, a.ndim))) for a, b in pairs)
    ok = np.isfinite(np.asarray(value))
    np.testing.assert_allclose(np.asarray(t)[ok], np.asarray(dot)[ok], rtol=1e-9, atol=1e-15)


def test_under_vmap():
    """Under an outer vmap each row (here 150 points) is blocked on its own."""
    m = _model((2, 150), seed=2, symmetric=True).broadcast()
    f = SOLVERS["closed_form"]
    got = jax.vmap(_blocked(f, block=BLOCK))(m)
    np.testing.assert_array_equal(np.asarray(got), np.asarray(jax.jit(f)(m)))


def test_structured_outputs_and_their_gradient():
    """A function returning several arrays per point runs blocked too, and its gradient
    (through the blocks, each recomputed in the reverse pass) equals plain autodiff. (The
    mechanism does not depend on the function: the Bell channel rates keep it cheap.)"""
    m = _model((200,), seed=3).broadcast()

    def f(m):
        ch = jaxtls.bell_channels(m)
        return {"a": ch.a, "pair": (ch.b_up, ch.c)}

    got, want = _blocked(f, block=BLOCK)(m), jax.jit(f)(m)
    for g, w in zip(_leaves(got), _leaves(want), strict=True):
        np.testing.assert_array_equal(g, w)

    def loss(fun):
        return jax.grad(lambda m: jnp.nansum(fun(m)["a"] * fun(m)["pair"][1] + fun(m)["pair"][0]))

    got, want = loss(_blocked(f, block=BLOCK))(m), loss(f)(m)
    for g, w in zip(_leaves(got), _leaves(want), strict=True):
        np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-14 * np.nanmax(np.abs(w)))
    assert np.count_nonzero(_leaves(got)[0]) > 100


def test_small_batches_and_bad_input():
    m = _model((10,), seed=4)
    f = SOLVERS["general"]
    got, want = jax.jit(_blocked(f))(m), jax.jit(f)(m)
    np.testing.assert_array_equal(np.asarray(got), np.asarray(want))
    with pytest.raises(ValueError, match="block must be >= 1"):
        _blocked(f, block=0)
    with pytest.raises(TypeError, match="expected a jaxtls.Model"):
        _blocked(f)(jnp.ones(3))


def test_closure_over_a_traced_parameter():
    """A parameter of fn outside the model (closed over, traced by grad/jvp) is
    differentiated exactly, alone or with the model (it raised UnexpectedTracerError).
    A cheap pointwise fn: the derivative mechanism does not depend on it."""
    m = _model((10,), seed=5, symmetric=True).broadcast()

    def fn(s):
        return lambda m: jnp.sin(s * m.T[:, 0]) * m.J[:, 1] + s**2 * m.xi

    def loss(make):
        return lambda s, m: jnp.sum(make(s)(m))

    blocked = loss(lambda s: _blocked(fn(s), block=4))
    got = jax.grad(blocked, argnums=(0, 1))(0.7, m)
    want = jax.grad(loss(fn), argnums=(0, 1))(0.7, m)
    for g, w in zip(_leaves(got), _leaves(want), strict=True):
        np.testing.assert_allclose(g, w, rtol=1e-13, atol=0)
    assert np.asarray(got[0]) != 0
    t = jax.jvp(lambda s: _blocked(fn(s), block=4)(m), (0.7,), (1.0,))[1]
    np.testing.assert_allclose(t, jax.jvp(lambda s: fn(s)(m), (0.7,), (1.0,))[1], rtol=1e-13)


@pytest.mark.parametrize(
    "fn",
    [lambda m: jnp.sum(m.xi), lambda m: jnp.stack([m.xi, m.xi]), lambda m: m.xi[:, None] * m.xi],
    ids=["scalar", "batch-not-first", "outer-product"],
)
def test_output_without_a_row_per_point(fn):
    m = _model((10,), seed=6)
    with pytest.raises(ValueError, match="leading axis is the batch"):
        _blocked(fn, block=2)(m)


def test_shared_leaves_gradient():
    """Leaves shared by the whole batch (J, K, delta given once) stay shared (broadcast in
    each block): the values are those of jit(fn), the gradient of a shared leaf is the sum of
    every point's (reverse mode) and its tangent reaches every point (forward mode)."""
    T = np.stack([np.linspace(0.5, 30.0, 301), np.full(301, 0.2)], axis=-1)
    m = jaxtls.Model(T=T, J=[1.0, 100.0], K=[0.5, 90.0], xi=0.1)

    def f(m):  # one number per point, cheap to compile (the rule does not depend on fn)
        ch = jaxtls.bell_channels(m)
        return ch.a * ch.b_up + ch.gamma_phi

    b = _blocked(f, block=BLOCK)
    np.testing.assert_array_equal(np.asarray(jax.jit(b)(m)), np.asarray(jax.jit(f)(m)))
    w = jnp.linspace(0.5, 1.5, 301)  # a cotangent that differs from point to point
    got = jax.grad(lambda m: jnp.sum(w * b(m)))(m)
    want = jax.grad(lambda m: jnp.sum(w * f(m)))(m)
    for g, w in zip(_leaves(got), _leaves(want), strict=True):
        assert g.shape == w.shape
        np.testing.assert_allclose(g, w, rtol=1e-11, atol=1e-13 * np.abs(w).max())
    v = jax.tree_util.tree_map(lambda x: 0.1 * jnp.ones_like(x), m)
    np.testing.assert_allclose(
        np.asarray(jax.jvp(b, (m,), (v,))[1]), np.asarray(jax.jvp(f, (m,), (v,))[1]), rtol=1e-11
    )
