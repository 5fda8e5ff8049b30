"""Constraints on the search: the price of stationary entanglement (issue "beyond the paper").

A :class:`Constraint` is data attached to a :class:`optimize.Space` (``space.constrain(...)``);
the search adds a smooth penalty ``weight * relu(violation)^2`` to its objective, with the
violation measured as the log of the ratio to the bound (scale-free: these quantities span
decades). Kinds:

* ``"min_relaxation"``: the Liouvillian gap (:func:`jaxtls.relaxation_rate`) divided by the
  largest coupling ``max J`` must be at least ``bound``;
* ``"max_entropy_production"``: :func:`jaxtls.entropy_production` divided by ``max J`` at most
  ``bound``;
* ``"max_heat_current"``: the largest ``|Q_n|`` (:func:`jaxtls.heat_currents`) divided by
  ``delta max J`` at most ``bound``;
* ``"min_detuning_tolerance"``: :func:`jaxtls.detuning_tolerance` (the detuning change that
  halves N) divided by ``max J`` at least ``bound``: how precisely the TLS must be tuned.

Kinds named ``min_*`` are lower bounds, ``max_*`` upper bounds (:func:`is_lower`).
"""

from __future__ import annotations

from typing import NamedTuple

import jax.numpy as jnp

import jaxtls

KINDS = ("min_relaxation", "max_entropy_production", "max_heat_current", "min_detuning_tolerance")
_WEIGHT = 10.0  # lambda_- lives in [-0.04, 0] near the optimum; violations of ~1% then dominate


class Constraint(NamedTuple):
    """``kind`` (one of ``KINDS``) and its ``bound`` (in units of the largest coupling)."""

    kind: str
    bound: float

    def check(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"constraint kind must be one of {KINDS}, got {self.kind!r}")
        if not (self.bound > 0 and jnp.isfinite(self.bound)):
            raise ValueError(
                f"constraint {self.kind}: bound must be finite and > 0, got {self.bound}"
            )


def is_lower(kind: str) -> bool:
    """True for the kinds that bound from below (``min_*``)."""
    return kind.startswith("min_")


def max_coupling(model: jaxtls.Model):
    """The largest coupling ``max_n max(J1_n, J2_n)``, shape ``(...)``: the unit of the bounds."""
    return jnp.maximum(jnp.max(model.J1, axis=-1), jnp.max(model.J2, axis=-1))


def measure(kind: str, model: jaxtls.Model):
    """The constrained quantity of ``model`` in units of its largest coupling."""
    jmax = max_coupling(model)
    if kind == "min_relaxation":
        return jaxtls.relaxation_rate(model) / jmax
    if kind == "max_entropy_production":
        return jaxtls.entropy_production(model) / jmax
    if kind == "min_detuning_tolerance":
        # NaN at separable points (no N to halve): counted as no tolerance at all (the full
        # penalty), else the penalised search escapes to the separable plateau
        tol = jaxtls.detuning_tolerance(model)
        return jnp.where(jnp.isnan(tol), 0.0, tol) / jmax
    q = jaxtls.heat_currents(model)
    return jnp.max(jnp.abs(q), axis=-1) / (jnp.asarray(model.delta) * jmax)


def bound_name(i: int) -> str:
    """Name under which the search passes the bound of constraint ``i`` as a traced value."""
    return f"constraint_{i}"


def bound_values(constraints) -> dict:
    """``bound_name(i) -> bound`` for ``constraints`` (the runtime values of the bounds)."""
    return {bound_name(i): float(c.bound) for i, c in enumerate(constraints)}


def placeholders(constraints) -> tuple:
    """``constraints`` with every bound set to 1: the compiled search depends on the kinds
    only, and reads the bounds at run time (one compilation serves a whole Pareto front)."""
    return tuple(Constraint(c.kind, 1.0) for c in constraints)


def penalty(constraints, model: jaxtls.Model, bounds=None):
    """Sum of ``weight * relu(log(value / bound))^2`` over ``constraints`` (``bound / value``
    for lower bounds).

    ``bounds``: optional mapping ``bound_name(i) -> bound`` (traced values are fine) that
    overrides the constraints' own bounds.
    """
    total = 0.0
    for i, c in enumerate(constraints):
        value = measure(c.kind, model)
        b = c.bound if bounds is None else bounds.get(bound_name(i), c.bound)
        # log of the ratio: scale-free (the quantities span decades), ~ relative near the bound
        ratio = b / value if is_lower(c.kind) else value / b
        violation = jnp.log(jnp.maximum(ratio, 1e-300))
        total = total + _WEIGHT * jnp.maximum(violation, 0.0) ** 2
    return total
