"""How precisely the two TLS must be tuned: the detuning tolerance of the entanglement.

:func:`detuning_tolerance` is the smallest change ``t`` of the detuning, of either sign,
from the model's own value at which the negativity falls to ``fraction`` of its value there.

Mechanism (identical TLS, ``physics.md``). The steady state depends on the detuning only
through the extra mixing it causes between psi+ and psi- (:mod:`jaxtls.steady_state`), a
rate ``m = detuning^2 g_u / (2 (g_u g_v + 4 Omega^2))`` with ``g_u ~ g_v ~ Gamma/2`` the decay
rate of the Bell coherence, i.e. of the bright channel (``Gamma`` is dominated by the strong
bath), and ``Omega`` the exchange. The entangled states live next to the non-unique manifold,
where one Bell state is nearly dark and is emptied only at the slow rate of its channel (the
relaxation rate, the Liouvillian gap); the entanglement is lost once ``m`` competes with it.
Hence, without exchange, ``tolerance ~ sqrt(gap x Gamma)``, the geometric mean of the slow and
the fast rate, and with an exchange ``|Omega| >> Gamma`` the psi+-psi- splitting ``2 Omega``
puts the detuning off resonance: ``tolerance ~ |Omega| sqrt(gap / Gamma)``, linear in the
exchange. (``experiments/robustness.py`` checks both scalings.)

Algorithm, per point and per sign: the measure is evaluated on a geometric grid of ``t`` from
``1e-12`` to ``1e6`` times the mean rate (``points_per_decade`` per decade); the first grid
interval where it crosses
``fraction x N0`` is refined by bisection in ``log t`` to ``1e-7`` relative, and a final
Newton step carries the derivative (implicit function theorem: ``dt = -dg / g_t``), so the
result is differentiable (jit, vmap, grad). A dip narrower than a grid interval can be missed.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import jax
import jax.numpy as jnp

from .measures import negativity
from .model import Model
from .rates import rates
from .steady_state import steady_state

Array = jax.Array

_LO, _HI = -12.0, 6.0  # grid of t / (mean rate), in decades
_BISECT = 24  # halvings of a grid interval in log t: (ln 10 / 8) / 2^24 ~ 2e-8 relative


def _measure_at(model: Model, measure: Callable, detuning) -> Array:
    return measure(steady_state(model.replace(detuning=detuning), check=False))


def _one_side(model, measure, sign, target, scale, points_per_decade):
    """Smallest ``t > 0`` with ``measure(detuning0 + sign t) <= target`` (inf if none)."""
    det0, delta = model.detuning, model.delta
    t_max = delta - sign * det0  # |detuning0 + sign t| <= delta
    n = int((_HI - _LO) * points_per_decade) + 1
    logs = jnp.linspace(_LO, _HI, n) + jnp.log10(scale)
    grid = jnp.minimum(10.0**logs, t_max)
    values = jax.vmap(lambda t: _measure_at(model, measure, det0 + sign * t))(grid)
    below = values <= target
    first = jnp.argmax(below)  # first grid point at or below the target
    found = jnp.any(below) & (first > 0)
    lo = jnp.log(grid[jnp.maximum(first - 1, 0)])
    hi = jnp.log(grid[first])

    def halve(_, bracket):
        a, b = bracket
        mid = 0.5 * (a + b)
        ok = _measure_at(model, measure, det0 + sign * jnp.exp(mid)) <= target
        return jnp.where(ok, a, mid), jnp.where(ok, mid, b)

    lo, hi = jax.lax.fori_loop(0, _BISECT, halve, (lo, hi))
    t = jnp.exp(0.5 * (lo + hi))
    return jnp.where(found, t, jnp.where(below[0], 0.0, jnp.inf))


def _scaled(model: Model, k) -> Model:
    """The same steady state with every rate (J, K, detuning, exchange) multiplied by ``k``."""
    J = model.J * k if model.symmetric else (model.J1 * k, model.J2 * k)
    return model.replace(
        J=J, K=model.K * k, detuning=model.detuning * k, exchange=model.exchange * k
    )


def _point(model, fraction, measure, points_per_decade):
    N0 = measure(steady_state(model, check=False))
    target = fraction * N0
    r = rates(model)
    mean_rate = 0.5 * (jnp.sum(r.g_down) + jnp.sum(r.g_up))
    # The state depends on the rates only through their ratios: work on a copy whose mean
    # rate is 1e-8 delta, so that |detuning| <= delta never clips the grid (t up to 1e6 x the
    # mean rate), and scale back. k is a constant: the scaled copy still carries the
    # derivatives with respect to every leaf. k = 2^p, exact both ways: dividing by a k near
    # 1e296 gave 0 under jit for a tolerance of 2e-305 (rates at 2^-1000; XLA's CPU code
    # flushes subnormal intermediates), ldexp does not.
    ratio = jax.lax.stop_gradient(1e-8 * model.delta / jnp.where(mean_rate > 0, mean_rate, 1.0))
    p = jnp.frexp(jnp.where(jnp.isfinite(ratio), ratio, 1.0))[1]
    k = jnp.ldexp(1.0, p)
    scaled = _scaled(model, k)
    frozen = jax.lax.stop_gradient(scaled)
    stop_target = jax.lax.stop_gradient(target)
    # Both signs in one vmap: one copy of the steady state in the grid and one in the
    # bisection instead of one per sign (the compile time is mostly these copies).
    signs = jnp.array([1.0, -1.0])
    scale = 1e-8 * frozen.delta
    sides = jax.vmap(
        lambda sign: _one_side(frozen, measure, sign, stop_target, scale, points_per_decade)
    )(signs)

    # One Newton step on g(t) = measure(det0 + s t) - fraction N0 carries the derivative of
    # the root with respect to every leaf (t itself is a constant of the forward pass).
    def refined(sign, t):
        finite = jnp.isfinite(t) & (t > 0)
        t0 = jnp.where(finite, t, 1.0)

        def g(x):
            return _measure_at(scaled, measure, scaled.detuning + sign * x) - target

        value, slope = jax.jvp(g, (t0,), (jnp.ones_like(t0),))
        slope = jax.lax.stop_gradient(slope)
        safe = jnp.where(slope != 0, slope, 1.0)
        return jnp.where(finite, t0 - jnp.where(slope != 0, value / safe, 0.0), t)

    up, down = jax.vmap(refined)(signs, sides)  # one copy of the Newton step's jvp
    # Equal on both sides (e.g. N even in the detuning at detuning = exchange = 0): the
    # tolerance has a kink there; return the mean of the two one-sided derivatives.
    tie = jnp.abs(sides[0] - sides[1]) <= 1e-7 * jnp.minimum(sides[0], sides[1])
    out = jnp.ldexp(jnp.where(tie, 0.5 * (up + down), jnp.where(sides[0] < sides[1], up, down)), -p)
    return jnp.where((N0 > 0) & jnp.isfinite(N0), out, jnp.nan)


def detuning_tolerance(
    model: Model,
    fraction: float = 0.5,
    *,
    measure: Callable | None = None,
    points_per_decade: int = 8,
) -> Array:
    """Smallest detuning change (either sign) at which the entanglement falls to ``fraction``.

    Args:
      model: a :class:`jaxtls.Model`, batch shape ``(...)``.
      fraction: in ``(0, 1)``; the tolerance is where ``N`` first reaches ``fraction x N0``.
      measure: ``XState -> (...)`` array (default :func:`jaxtls.negativity`).
      points_per_decade: density of the bracketing grid (static).

    Returns:
      ``(...)`` array, in the units of ``detuning`` (those of J): NaN where ``N0 = 0`` (or the
      point is invalid / not unique), ``inf`` where the measure never falls that far up to
      ``1e6`` times the mean rate. The steady state, hence the tolerance, scales with the
      rates (only ratios of J, K, detuning and exchange matter): a tolerance above ``delta``
      belongs to a model whose rates are not small against ``delta``. Accurate to ~1e-7
      relative; differentiable (the derivative of the root, by the implicit function
      theorem).

    Example:
      >>> import jaxtls
      >>> m = jaxtls.Model(T=[20.0, 0.1], J=[1e-6, 1e-3], K=[0.0, 1e-3])  # rates << Delta
      >>> t = jaxtls.detuning_tolerance(m)
      >>> N = jaxtls.negativity(jaxtls.steady_state(m.replace(detuning=float(t))))
      >>> round(float(N / jaxtls.negativity(jaxtls.steady_state(m))), 6)
      0.5
    """
    if not isinstance(fraction, jax.core.Tracer) and not 0.0 < float(fraction) < 1.0:
        raise ValueError(f"fraction must be in (0, 1), got {fraction}")
    measure = negativity if measure is None else measure
    return _tolerance(model, jnp.asarray(fraction, jnp.float64), measure, int(points_per_decade))


@partial(jax.jit, static_argnames=("measure", "points_per_decade"))
def _tolerance(model, fraction, measure, points_per_decade):
    full = model.broadcast()
    shape = full.batch_shape
    flat = jax.tree_util.tree_map(
        lambda x: jnp.reshape(x, (-1,) + jnp.shape(x)[len(shape) :]), full
    )
    fn = jax.vmap(lambda m: _point(m, fraction, measure, points_per_decade))
    return jnp.reshape(fn(flat), shape)
