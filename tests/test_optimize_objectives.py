"""optimize.objectives: the smooth signed objective, the margin, and the NaN guard."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxtls
from jaxtls import optimize
from jaxtls.optimize._engine import FAST_COMPILE
from jaxtls.optimize.objectives import (
    NAN_LOSS,
    entanglement_margin,
    loss_and_grad,
    loss_grad_state,
    signed_negativity,
    space_objective,
    space_state,
)


def _probe_points(d, seed=0):
    """Box corners (saturated, |u| >> 30, and at the saturation scale), mixed corners, and
    interior points."""
    rng = np.random.default_rng(seed)
    corners = np.array([[s * c] * d for s in (-1, 1) for c in (1e3, 30.0, 10.0)])
    mixed = rng.choice([-1e3, 1e3, -30.0, 30.0, -10.0, 10.0, 0.0], size=(40, d))
    return jnp.asarray(np.concatenate([corners, mixed, rng.normal(0, 2, (60, d))]))


def _guarded_and_raw(sp):
    """What the optimiser sees (guarded loss and gradient) and the raw loss and its gradient,
    batched."""
    fixed = {k: jnp.asarray(v) for k, v in sp.fixed_values().items()}

    def both(u):
        raw = jax.value_and_grad(lambda x: -space_objective(sp, x, fixed))(u)
        return loss_and_grad(sp, u, fixed), raw

    return jax.jit(jax.vmap(both), compiler_options=FAST_COMPILE)


# A nearly pure |++> (both baths cold, p2, p3 ~ 1e-164) in the asymmetric space: the raw
# gradient of jaxtls.pt_min_eigenvalue was NaN there ((p2 p3)/high^2 underflowed to 0/0); the
# XState measures now guard it, and the search's guard (zero gradient on a NaN) stays.
U_UNDERFLOW = [-2.5608, -1.4261, 1.2420, -4.5003, 0.7727, -1.1633, 0.2186]


@pytest.mark.parametrize("name", ["paper", "asymmetric", "ohmic", "geometry"])
def test_gradients_finite_at_the_bounds_and_on_separable_states(name):
    sp = optimize.get_space(name)
    u = _probe_points(sp.dim)
    if name == "asymmetric":
        u = jnp.concatenate([jnp.asarray([U_UNDERFLOW]), u])  # first: the interior stays last
    (loss, g), (raw, raw_g) = jax.tree_util.tree_map(np.asarray, _guarded_and_raw(sp)(u))
    # What the optimiser sees is always finite, and equal to the raw loss where that is finite.
    assert np.all(np.isfinite(loss)) and np.all(np.isfinite(g))
    ok = np.isfinite(raw)
    assert ok.mean() > 0.95
    np.testing.assert_array_equal(loss[ok], raw[ok])
    # Raw gradients are finite wherever the loss is, but for rare underflows of a nearly pure
    # |++> (asymmetric space), where the guard uses a zero gradient instead of the NaN.
    raw_ok = np.all(np.isfinite(raw_g), axis=-1)
    if name == "asymmetric":
        # the underflow point: finite loss, and (since the XState measures guard high^2 below
        # 1e-150) a finite raw gradient too
        assert ok[0] and raw_ok[0]
        assert np.mean(raw_ok[ok]) > 0.9
        assert np.all(g[ok & ~raw_ok] == 0)
    else:
        assert np.all(raw_ok[ok])
    # At the faces of the box (|u| >= 30: saturated, the derivative of the bijection is
    # ~1e-13 or exactly 0) the gradient is finite, never NaN; inside, it is nonzero wherever
    # the loss is finite, separable states (loss = lambda_- > 0, N = 0) included, except at
    # rare underflows of a nearly pure |++> (where the guard zeroes a NaN).
    interior = np.zeros(len(u), bool)
    interior[-60:] = True
    moving = np.linalg.norm(g, axis=-1) > 0
    assert np.mean(moving[ok & interior]) > 0.9
    sep = ok & interior & (raw > 0)
    assert sep.sum() >= 5 and np.mean(moving[sep]) > 0.9


def test_signed_objective_is_the_negativity_where_positive():
    sp = optimize.paper()
    u = sp.sample(0, 400)
    s = space_state(sp, u)
    sn = np.asarray(signed_negativity(s))
    N = np.asarray(jaxtls.negativity(s))
    ent = sn > 0
    assert 0 < ent.sum() < len(u)  # both kinds of states are sampled
    np.testing.assert_allclose(N[ent], sn[ent], rtol=1e-12)
    assert np.all(N[~ent] == 0)
    # The margin has the sign of -lambda_- (entangled iff |rho_23|^2 > p1 p4).
    m = np.asarray(entanglement_margin(s))
    fin = np.isfinite(m) & (np.abs(sn) > 1e-14)
    np.testing.assert_array_equal(m[fin] > 0, sn[fin] > 0)


def test_nan_points_are_guarded():
    # kappa_1 = kappa_2 = 1, xi = 0: both TLS coupled identically to every bath, the steady
    # state is not unique: the solver gives NaN, the guard a finite penalty and no gradient,
    # for both objectives (traced index 0 and 1). With xi = 0.1 the state is unique again.
    sp = optimize.paper().replace(kappa_1=optimize.Fixed(0.0), kappa_2=optimize.Fixed(0.0))
    cases = {"kappa_1": [1.0, 1.0, 1.0], "kappa_2": [1.0, 1.0, 1.0], "xi": [0.0, 0.0, 0.1]}
    fixed = {k: jnp.full(3, v) for k, v in sp.fixed_values().items()}
    fixed.update({k: jnp.asarray(v) for k, v in cases.items()})
    kinds = jnp.array([0, 1, 0])

    def f(fx, kind):
        loss, g, state, N = loss_grad_state(sp, jnp.zeros(sp.dim), fx, None, kind)
        return loss, g, state.p1, N

    loss, g, p1, N = map(
        np.asarray, jax.jit(jax.vmap(f), compiler_options=FAST_COMPILE)(fixed, kinds)
    )
    assert np.isnan(p1[:2]).all() and np.isfinite(p1[2])
    assert loss.tolist()[:2] == [NAN_LOSS["negativity"], NAN_LOSS["margin"]]
    np.testing.assert_array_equal(g[:2], 0.0)
    assert np.isfinite(loss[2]) and np.all(np.isfinite(g[2])) and np.any(g[2] != 0)
    assert N[0] == N[1] == 0


def test_margin_gradient_is_order_one_near_the_entanglement_edge():
    # Cold and just above the threshold kappa_2 = 1/2: N ~ 1e-100, far below anything a
    # search resolves, but the margin is ~1e-2 with a ~1e-2 gradient: it resolves the edge
    # of the entangled region.
    sp = optimize.paper().replace(kappa_2=optimize.Fixed(0.52))
    u = sp.to_unconstrained(dict(T_1=0.01, T_2=0.002, J_2=3e5, kappa_1=-0.9))
    f = jax.jit(lambda u: loss_grad_state(sp, u, kind="margin"), compiler_options=FAST_COMPILE)
    m, g, _, N = f(u)
    assert 0 < float(N) < 1e-50
    assert 1e-3 < -float(m) < 1 and np.all(np.isfinite(np.asarray(g)))
    assert np.linalg.norm(np.asarray(g)) > 1e-2
