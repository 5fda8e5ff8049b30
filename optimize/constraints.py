"""Constraints on the search: the price of stationary entanglement (issue "beyond the paper").

A :class:`Constraint` is data attached to a :class:`optimize.Space` (``space.constrain(...)``);
the search adds a smooth penalty ``weight * relu(violation)^2`` to its objective, with the
violation measured relative to the bound. Kinds:

* ``"min_relaxation"``: the Liouvillian gap (:func:`jaxtls.relaxation_rate`) divided by the
  largest coupling ``max J`` must be at least ``bound``;
* ``"max_entropy_production"``: :func:`jaxtls.entropy_production` divided by ``max J`` at most
  ``bound``;
* ``"max_heat_current"``: the largest ``|Q_n|`` (:func:`jaxtls.heat_currents`) divided by
  ``delta max J`` at most ``bound``.
"""

from __future__ import annotations

from typing import NamedTuple

import jax.numpy as jnp

import jaxtls

KINDS = ("min_relaxation", "max_entropy_production", "max_heat_current")
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


def measure(kind: str, model: jaxtls.Model):
    """The constrained quantity of ``model`` in units of its largest coupling."""
    jmax = jnp.maximum(jnp.max(model.J1, axis=-1), jnp.max(model.J2, axis=-1))
    if kind == "min_relaxation":
        return jaxtls.relaxation_rate(model) / jmax
    if kind == "max_entropy_production":
        return jaxtls.entropy_production(model) / jmax
    q = jaxtls.heat_currents(model)
    return jnp.max(jnp.abs(q), axis=-1) / (jnp.asarray(model.delta) * jmax)


def penalty(constraints, model: jaxtls.Model):
    """Sum of ``weight * relu(relative violation)^2`` over ``constraints``."""
    total = 0.0
    for c in constraints:
        value = measure(c.kind, model)
        if c.kind == "min_relaxation":
            violation = (c.bound - value) / c.bound
        else:
            violation = (value - c.bound) / c.bound
        total = total + _WEIGHT * jnp.maximum(violation, 0.0) ** 2
    return total
