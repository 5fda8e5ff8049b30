"""Model PyTree: construction, validation errors, batching."""

import re

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxtls


def test_leaves_are_float64_arrays_and_pytree_roundtrip():
    m = jaxtls.Model(T=[1.0, 0.1], J=([1.0, 2.0], [3.0, 4.0]), K=[0.5, 1.0], xi=0.2)
    leaves, tree = jax.tree_util.tree_flatten(m)
    assert len(leaves) == 8 and all(x.dtype == jnp.float64 for x in leaves)
    back = jax.tree_util.tree_unflatten(tree, leaves)
    assert not back.symmetric and np.allclose(back.J2, [3.0, 4.0])
    paths = [jax.tree_util.keystr(p) for p, _ in jax.tree_util.tree_leaves_with_path(m)]
    assert paths[0] == ".T" and ".xi" in paths and paths[-1] == ".exchange"


def test_symmetric_model_has_one_J_leaf():
    m = jaxtls.Model(T=[1.0, 0.1], J=[1.0, 2.0], K=[0.5, 1.0])
    assert m.symmetric and len(jax.tree_util.tree_leaves(m)) == 7
    assert m.J1 is m.J2 and m.n_baths == 2 and m.batch_shape == ()


def test_batch_shape_broadcast_and_indexing():
    T = jnp.ones((5, 3, 2))
    m = jaxtls.Model(T=T, J=[1.0, 2.0], K=[0.5, 1.0], xi=jnp.linspace(0, 1, 3))
    assert m.batch_shape == (5, 3)
    full = m.broadcast()
    assert full.J.shape == (5, 3, 2) and full.xi.shape == (5, 3) and full.delta.shape == (5, 3)
    assert m[2, 1].batch_shape == () and float(m[2, 1].xi) == 0.5


def test_immutable_and_replace():
    m = jaxtls.Model(T=[1.0], J=[1.0], K=[0.5])
    with pytest.raises(AttributeError):
        m.T = 3
    assert float(m.replace(xi=0.5).xi) == 0.5


def test_vmap_over_batched_model():
    m = jaxtls.Model(T=jnp.ones((4, 2)), J=jnp.ones((4, 2)), K=jnp.zeros((4, 2)), xi=jnp.zeros(4))
    out = jax.vmap(lambda mm: mm.T.sum() + mm.xi)(m.broadcast())
    assert out.shape == (4,)


def test_model_built_from_tracers_is_not_validated():
    @jax.jit
    def f(k):
        return jaxtls.Model(T=[1.0, 1.0], J=[1.0, 1.0], K=jnp.stack([k, k])).K.sum()

    assert float(f(5.0)) == 10.0  # K > J: no check inside jit


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(T=[-1.0, 1.0], J=[1.0, 1.0], K=[0.0, 0.0]), "T must be >= 0"),
        (dict(T=[np.nan, 1.0], J=[1.0, 1.0], K=[0.0, 0.0]), "T must be finite"),
        (dict(T=[1.0, 1.0], J=[-1.0, 1.0], K=[0.0, 0.0]), "J must be >= 0"),
        (dict(T=[1.0, 1.0], J=[1.0, 1.0], K=[0.0, np.inf]), "K must be finite"),
        (dict(T=[1.0, 1.0], J=[1.0, 1.0], K=[0.0, 1.5]), r"K_n\^2 <= J\^\(1\)_n J\^\(2\)_n"),
        (dict(T=[1.0, 1.0], J=([1.0, 1.0], [1.0, 4.0]), K=[0.0, 2.1]), r"K_n\^2 <= J"),
        (dict(T=[1.0, 1.0], J=([1.0, -1.0], [1.0, 4.0]), K=[0.0, 0.0]), r"J\[0\].*>= 0"),
        (dict(T=[1.0, 1.0], J=[1.0, 1.0, 1.0], K=[0.0, 0.0]), "J has 3 baths"),
        (dict(T=1.0, J=1.0, K=0.0), "trailing bath axis"),
        (dict(T=[1.0, 1.0], J=[1.0, 1.0], K=[0.0, 0.0], xi=-0.1), "xi must be >= 0"),
        (dict(T=[1.0, 1.0], J=[1.0, 1.0], K=[0.0, 0.0], delta=-1.0), "delta must be >= 0"),
        (dict(T=[1.0, 1.0], J=[1.0, 1.0], K=[0.0, 0.0], detuning=2.0), "detuning must be small"),
        (dict(T=np.ones((3, 2)), J=np.ones((4, 2)), K=[0.0, 0.0]), "do not broadcast"),
        (dict(T=[1.0, 1.0], J=([1.0, 1.0],), K=[0.0, 0.0]), "pair"),
    ],
)
def test_validation_errors_name_parameter_and_rule(kwargs, match):
    with pytest.raises(ValueError, match=match):
        jaxtls.Model(**kwargs)


def test_K_equal_to_J_and_to_sqrt_J1J2_is_accepted():
    jaxtls.Model(T=[1.0, 1.0], J=[0.3, 7.0], K=[0.3, -7.0])
    J1, J2 = np.array([0.3, 7.0]), np.array([1.1, 2.0])
    jaxtls.Model(T=[1.0, 1.0], J=(J1, J2), K=np.sqrt(J1 * J2))


@pytest.mark.parametrize("scale", [1e160, 1e-170, 1e-300])
def test_coupling_rule_holds_at_extreme_scales(scale):
    # found by an independent check: K^2 overflowed (1e160) or underflowed (1e-170) and
    # K = 2 J was accepted
    with pytest.raises(ValueError, match="K must satisfy"):
        jaxtls.Model(T=[1.0], J=[scale], K=[2 * scale])
    bad = jax.jit(lambda K: jaxtls.negativity(jaxtls.steady_state(jaxtls.Model([1.0], [scale], K))))
    assert np.isnan(float(bad(jnp.array([2 * scale]))))
    jaxtls.Model(T=[1.0], J=[scale], K=[scale])  # K = J is fine


@pytest.mark.parametrize("value", [1e-3j, np.array(1e-3j), [1e-3j]])
def test_complex_leaves_are_rejected_by_name(value):
    # found by an adversarial check: a complex exchange became 0 with only a ComplexWarning
    with pytest.raises(ValueError, match="exchange must be real"):
        jaxtls.Model(T=[1.0], J=[1.0], K=[0.0], exchange=value)


# -- one rule table, two paths ----------------------------------------------------------------

_GOOD = dict(T=[1.0, 0.2], K=[0.5, 1.0], xi=0.1, delta=1.0, detuning=0.01, exchange=0.1)
_FIN = "be finite (got NaN or inf)"
_GE0 = "be >= 0"


def _bad_values(j_names):
    """(parameter, rule) -> a field and a bad value for it: every rule of the table, one each."""
    bad = {}
    for field in ("T", "K") + j_names:
        bad[(field, _FIN)] = np.nan if field != "K" else np.inf
    for field in ("T",) + j_names:
        bad[(field, _GE0)] = -1.0
    for field in ("xi", "delta", "detuning", "exchange"):
        bad[(field, _FIN)] = np.inf if field == "detuning" else np.nan
    for field in ("xi", "delta"):
        bad[(field, _GE0)] = -0.5
    return bad


@pytest.mark.parametrize("symmetric", [True, False])
def test_every_rule_is_hit_eagerly_by_name_and_by_is_valid_under_jit(symmetric):
    J = [1.0, 2.0] if symmetric else ([1.0, 2.0], [1.5, 3.0])
    good = dict(_GOOD, J=J)
    j_names = ("J",) if symmetric else ("J[0] (J of TLS 1)", "J[1] (J of TLS 2)")
    fields = {n: ("J", i) for i, n in enumerate(j_names)}  # which array of J
    table = [(p, r) for p, r, _, _ in jaxtls.rules(jaxtls.Model(**good))]
    cases = _bad_values(j_names)
    kj = next(r for p, r in table if p == "K" and "K_n^2" in r)
    small = next(r for p, r in table if p == "detuning" and "small" in r)
    cases[("K", kj)] = 2.5  # K_2^2 = 6.25 > J1_2 J2_2 (4 or 6)
    cases[("detuning", small)] = 1.5  # |detuning| > delta = 1
    assert sorted(cases) == sorted(table)  # a rule added to the table needs a case here

    def build(point, param, value):
        """Leaves of a batch of 2 points, the bad value at ``point`` (last bath when per bath)."""
        two = lambda v: jnp.stack([jnp.asarray(v, jnp.float64)] * 2)  # noqa: E731
        leaves = {k: two(v) for k, v in good.items() if k != "J"}
        J_leaves = [two(J)] if symmetric else [two(J[0]), two(J[1])]
        name, which = fields.get(param, (param, None))
        leaf = leaves[name] if which is None else J_leaves[which]
        leaf = leaf.at[point, -1].set(value) if leaf.ndim == 2 else leaf.at[point].set(value)
        if which is None:
            leaves[name] = leaf
        else:
            J_leaves[which] = leaf
        leaves["J"] = J_leaves[0] if symmetric else tuple(J_leaves)
        return leaves

    def is_valid(kw):
        return jaxtls.is_valid(jaxtls.Model(**kw))

    jitted = jax.jit(is_valid)  # one compilation serves every case (same shapes)
    solved = jax.jit(lambda kw: jaxtls.steady_state(jaxtls.Model(**kw)))
    for (param, rule), value in cases.items():
        kw = build(1, param, value)
        message = "^" + re.escape(f"{param} must {rule} (violated at index (1")
        with pytest.raises(ValueError, match=message):
            jaxtls.Model(**kw)
        np.testing.assert_array_equal(np.asarray(jitted(kw)), [True, False], err_msg=param + rule)
        state = solved(kw)  # the solvers' NaN mask is the same table
        np.testing.assert_array_equal(state.diagnostics.valid, [True, False], err_msg=param)
        np.testing.assert_array_equal(np.isnan(state.p1), [False, True], err_msg=param)
    assert np.asarray(jitted(build(1, "xi", 0.0))).all()  # the good model passes both
