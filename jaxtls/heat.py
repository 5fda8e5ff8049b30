"""Heat currents and entropy production of the steady state.

The heat current from bath n into the TLS is the energy it delivers per unit time,
``Q_n = Tr[H D_n(rho)]`` with ``D_n`` the part of the dissipator due to bath n and
``H = Delta (number of excitations)`` (the rates are those at ``delta``; dephasing and the
detuning exchange no energy in this model). In the Bell-channel rates of
:func:`jaxtls.bell_channels`, per bath,

  Q_n = wu_n [(A + B) P1 + A P+ + B P- + 2 C u] - wd_n [A P+ + B P- + (A + B) P4 - 2 C u]

with ``wd = Delta (1 + n)``, ``wu = Delta n``, ``A, B = (J1 + J2)/2 +- K``, ``C = (J1 - J2)/2``
and ``u = (rho_22 - rho_33)/2``.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from .model import Model
from .rates import bath_weights, channel_strengths
from .steady_state import XState, steady_state

Array = jax.Array


def heat_currents(model: Model, rho=None) -> Array:
    """Steady-state heat current from each bath into the TLS, shape ``(..., n_baths)``.

    Args:
      model: a :class:`jaxtls.Model`.
      rho: its steady state, an :class:`jaxtls.XState` or an X-shaped ``(..., 4, 4)`` matrix
        (computed if not given).

    They sum to zero in the steady state and vanish at equal temperatures; in units of
    ``delta`` times the units of J. The direct formula for bath n subtracts emission from
    absorption, ``wu X - wd Y``, which cancels for a hot bath (``wu/wd = exp(-delta/T)``):
    it loses ``eps T/delta`` relative. When ``rho`` is not given (the steady state computed
    here), the hottest bath's current is therefore taken from the balance
    ``Q_hot = -sum_(n != hot) Q_n`` (exact in the steady state), which keeps the accuracy
    of the colder baths' currents.

    Example:
      >>> import jaxtls
      >>> q = jaxtls.heat_currents(jaxtls.Model(T=[2.0, 0.1], J=[1.0, 3.0], K=[0.5, 2.0]))
      >>> bool(q[0] > 0), abs(float(q.sum())) < 1e-15  # heat flows in from the hot bath
      (True, True)
    """
    balance = rho is None
    if balance:
        rho = steady_state(model, check=False)
    if not isinstance(rho, XState):
        rho = XState.from_matrix(rho)
    p1, p2, p3, p4, re = rho.p1, rho.p2, rho.p3, rho.p4, rho.c_re
    P1, P4, mean = p1, p4, 0.5 * (p2 + p3)
    Pp, Pm, u = mean + re, mean - re, 0.5 * (p2 - p3)
    wd, wu = bath_weights(model.T, jnp.asarray(model.delta)[..., None])
    A, B, C = channel_strengths(model)
    P1, Pp, Pm, P4, u = (x[..., None] for x in (P1, Pp, Pm, P4, u))
    absorbed = wu * ((A + B) * P1 + A * Pp + B * Pm + 2 * C * u)
    emitted = wd * (A * Pp + B * Pm + (A + B) * P4 - 2 * C * u)
    Q = absorbed - emitted
    if not balance or model.n_baths < 2:
        return Q
    T = jnp.broadcast_to(jnp.asarray(model.T), Q.shape)
    hottest = jnp.arange(Q.shape[-1]) == jnp.argmax(T, axis=-1)[..., None]
    others = jnp.sum(jnp.where(hottest, 0.0, Q), axis=-1, keepdims=True)
    return jnp.where(hottest, -others, Q)


def entropy_production(model: Model, rho=None) -> Array:
    """Entropy production rate ``-sum_n Q_n / T_n >= 0`` of the steady state, shape ``(...)``.

    A bath at ``T_n = 0`` that receives heat makes it infinite; one that exchanges none adds 0.

    Example:
      >>> import jaxtls
      >>> s = jaxtls.entropy_production(jaxtls.Model(T=[2.0, 0.1], J=[1.0, 3.0], K=[0.5, 2.0]))
      >>> bool(s > 0)
      True
    """
    Q = heat_currents(model, rho)
    T = jnp.asarray(model.T)
    warm = T > 0
    per_bath = jnp.where(warm, -Q / jnp.where(warm, T, 1.0), jnp.where(Q < 0, jnp.inf, 0.0))
    return jnp.sum(per_bath, axis=-1)
