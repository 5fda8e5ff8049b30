"""Objectives of the search: smooth functions of the steady state to maximise over a Space.

* ``"negativity"``: the signed ``-lambda_-`` (:func:`signed_negativity`), equal to the
  negativity N on entangled states and negative on separable ones, where N itself is flat
  zero and would stall the gradient.
* ``"margin"``: the entanglement margin ``log(|rho_23|^2 / (p1 p4))``
  (:func:`entanglement_margin`), positive iff the X-shaped steady state is entangled. It is
  scale-free (of order one however small the populations), so its zero crossing locates the
  boundary of the entangled region sharply, where N is far too small to be resolved
  (:func:`optimize.geometry_study` uses it).

The steady state comes from :func:`jaxtls.steady_state`, with the closed form (eqs. 23-24) for
symmetric spaces and the general solver otherwise. A space's constraints
(:mod:`optimize.constraints`) are subtracted as penalties; their bounds may be
overridden at run time through ``fixed`` (:func:`optimize.constraints.bound_name`).
:func:`loss_and_grad` is what the optimiser sees: ``loss = -objective``, with NaN points
(non-unique or invalid states) replaced by a large finite penalty and a zero gradient, so a
NaN never enters the optimiser's state.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

import jaxtls

from .constraints import penalty
from .space import Space

Array = jax.Array

OBJECTIVES = ("negativity", "margin")
# Loss given to NaN points: worse than any finite loss (-lambda_- lies in [-1, 1/2]; the
# margin's magnitude is below 2200 in float64).
NAN_LOSS = {"negativity": 1.0, "margin": 1e4}


def check_objective(kind: str) -> str:
    """Return ``kind`` if it names an objective, else raise ``ValueError``."""
    if kind not in OBJECTIVES:
        raise ValueError(f"unknown objective {kind!r}; choose from {list(OBJECTIVES)}")
    return kind


def signed_negativity(state) -> Array:
    """``-lambda_-``, minus the smallest eigenvalue of the partial transpose, shape ``(...)``.

    Equal to the negativity where positive; smooth (no ``max(0, .)``), with finite gradients.

    Args:
      state: :class:`jaxtls.XState` (or a ``(..., 4, 4)`` matrix: the eigenvalue path).

    Example:
      >>> import jaxtls
      >>> from jaxtls.optimize.objectives import signed_negativity
      >>> s = jaxtls.steady_state(jaxtls.Model(T=[20.0, 0.1], J=[1.0, 1000.0], K=[0.0, 1000.0]))
      >>> round(float(signed_negativity(s)), 4)
      0.0325
    """
    return -jaxtls.pt_min_eigenvalue(state)


def _safe_log(x):
    pos = x > 0
    return jnp.where(pos, jnp.log(jnp.where(pos, x, 1.0)), -jnp.inf)


def entanglement_margin(state: jaxtls.XState) -> Array:
    """``log(|rho_23|^2) - log(p1) - log(p4)``, shape ``(...)``: > 0 iff entangled.

    For the X-shaped steady states of this model the partial transpose has the eigenvalues
    ``p2``, ``p3`` and ``lambda_+-``, and ``lambda_- < 0`` iff ``|rho_23|^2 > p1 p4``.
    ``-inf`` where ``rho_23 = 0``; NaN where the populations underflow (a state within
    ``exp(-700)`` of a pure product state).

    Example:
      >>> import jaxtls
      >>> from jaxtls.optimize.objectives import entanglement_margin
      >>> s = jaxtls.steady_state(jaxtls.Model(T=[20.0, 0.1], J=[1.0, 1000.0], K=[0.0, 1000.0]))
      >>> bool(entanglement_margin(s) > 0)
      True
    """
    c2 = state.c_re**2 + state.c_im**2
    return _safe_log(c2) - _safe_log(state.p1) - _safe_log(state.p4)


def solver_name(space: Space) -> str:
    """``"closed_form"`` for symmetric spaces (fast, exact), ``"general"`` otherwise."""
    return "closed_form" if space.symmetric else "general"


def space_state(space: Space, u, fixed=None, variant=None) -> jaxtls.XState:
    """Steady state at unconstrained ``u`` (shape ``(..., dim)``), batch shape ``(...)``.

    NaN (never an exception) where the state is not unique or the point is invalid.

    Example:
      >>> from jaxtls import optimize
      >>> from jaxtls.optimize.objectives import space_state
      >>> sp = optimize.paper()
      >>> space_state(sp, sp.sample(None, 3)).p1.shape
      (3,)
    """
    model = space.model(space.values(u, fixed), variant)
    return jaxtls.steady_state(model, solver=solver_name(space), check=False)


def _value(state, kind):
    """The objective ``kind`` of ``state``: a name, or a traced index into ``OBJECTIVES``
    (then both are computed and one selected: one compilation serves both)."""
    if isinstance(kind, str):
        return signed_negativity(state) if kind == "negativity" else entanglement_margin(state)
    return jnp.where(kind == 1, entanglement_margin(state), signed_negativity(state))


def _nan_loss(kind):
    if isinstance(kind, str):
        return NAN_LOSS[kind]
    return jnp.where(kind == 1, NAN_LOSS["margin"], NAN_LOSS["negativity"])


def _loss_and_aux(space: Space, u, fixed, variant, kind):
    model = space.model(space.values(u, fixed), variant)
    state = jaxtls.steady_state(model, solver=solver_name(space), check=False)
    value = _value(state, kind)
    if space.constraints:
        value = value - penalty(space.constraints, model, fixed)
    return -value, (state, jaxtls.negativity(state))


def space_objective(space: Space, u, fixed=None, variant=None, kind="negativity") -> Array:
    """The objective ``kind`` at ``u`` (to maximise), minus the space's constraint penalties.

    Args:
      space: a :class:`optimize.Space`.
      u: unconstrained parameters, shape ``(..., dim)``.
      fixed: optional overrides of the fixed values (may be traced).
      variant: bath -> D for spaces with geometry.
      kind: ``"negativity"`` or ``"margin"``.

    Returns:
      shape ``(...)``; NaN at non-unique or invalid points.

    Example:
      >>> from jaxtls import optimize
      >>> from jaxtls.optimize.objectives import space_objective
      >>> sp = optimize.paper()
      >>> u = sp.to_unconstrained(dict(T_1=30.0, T_2=0.01, J_2=1e4, kappa_1=0.0, kappa_2=0.999))
      >>> round(float(space_objective(sp, u)), 3)
      0.029
    """
    return -_loss_and_aux(space, u, fixed, variant, kind)[0]


def loss_grad_state(space: Space, u, fixed=None, variant=None, kind="negativity"):
    """Guarded ``(loss, grad, state, N)`` at one point ``u`` (shape ``(dim,)``).

    As :func:`loss_and_grad`, plus the steady state (:class:`jaxtls.XState`) and its
    negativity (0 where NaN), computed in the same pass. ``kind`` may also be a traced
    index into :data:`OBJECTIVES`.
    """
    f = jax.value_and_grad(_loss_and_aux, argnums=1, has_aux=True)
    (loss, (state, N)), g = f(space, u, fixed, variant, kind)
    loss_ok = jnp.isfinite(loss)
    g_ok = loss_ok & jnp.all(jnp.isfinite(g))
    loss = jnp.where(loss_ok, loss, _nan_loss(kind))
    return loss, jnp.where(g_ok, g, 0.0), state, jnp.where(jnp.isnan(N), 0.0, N)


def loss_and_grad(space: Space, u, fixed=None, variant=None, kind="negativity"):
    """Guarded ``(loss, grad)`` at one point ``u`` (shape ``(dim,)``; ``vmap`` it for many).

    ``loss = -space_objective(...)``; where the loss is not finite it is replaced by
    ``NAN_LOSS[kind]`` and the gradient by zero; a non-finite gradient at a finite loss (an
    underflow) is replaced by zero too.

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxtls import optimize
      >>> from jaxtls.optimize.objectives import loss_and_grad
      >>> sp = optimize.paper()
      >>> loss, g = loss_and_grad(sp, jnp.zeros(sp.dim))
      >>> g.shape, bool(jnp.all(jnp.isfinite(g)))
      ((5,), True)
    """
    return loss_grad_state(space, u, fixed, variant, kind)[:2]
