"""Relaxation rate: the spectral gap of the full weak-coupling dynamics.

The master equation of ``physics.md`` conserves the difference of excitation numbers between
the ket and the bra, so its Liouvillian splits into sectors: m = 0 (populations and rho_23,
6 elements, which holds the steady state), m = +-1 (rho_12, rho_13, rho_24, rho_34 and their
conjugates, 4 elements each) and m = +-2 (rho_14, rho_41). The gap is the smallest decay rate
over all of them, with the trace mode of the m = 0 sector removed exactly (by eliminating
rho_11 = 1 - rho_22 - rho_33 - rho_44) rather than by a tolerance on a near-zero eigenvalue.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from .liouvillian import liouvillian
from .model import Model
from .steady_state import _valid

Array = jax.Array


def _vec(i, j):
    return i + 4 * j  # column stacking, as in jaxtls.liouvillian


# m = 0 sector with rho_11 first (it is eliminated), then the rest.
_M0 = np.array([_vec(0, 0), _vec(1, 1), _vec(2, 2), _vec(3, 3), _vec(1, 2), _vec(2, 1)])
_M1 = np.array([_vec(0, 1), _vec(0, 2), _vec(1, 3), _vec(2, 3)])  # m = -1 (m = +1: conjugate)
_M2 = _vec(0, 3)


def _block(L, idx):
    return L[..., idx[:, None], idx[None, :]]


def sector_rates(model: Model) -> tuple[Array, Array, Array]:
    """Decay rates ``-Re(eigenvalues)`` per sector: ``(m0 (..., 5), m1 (..., 4), m2 (...,))``.

    The m = 0 rates exclude the stationary mode. Rates are in the units of J.
    """
    L = liouvillian(model)
    M = _block(L, _M0)
    trace_row = jnp.array([1.0, 1.0, 1.0, 0.0, 0.0])  # d rho_11 = -(d rho_22 + d rho_33 + ...)
    A = M[..., 1:, 1:] - M[..., 1:, :1] * trace_row
    m0 = -jnp.real(jnp.linalg.eigvals(A))
    m1 = -jnp.real(jnp.linalg.eigvals(_block(L, _M1)))
    m2 = -jnp.real(L[..., _M2, _M2])
    return m0, m1, m2


def relaxation_rate(model: Model) -> Array:
    """Slowest decay rate of the dynamics (Liouvillian spectral gap), shape ``(...)``.

    In the units of J (``1/relaxation_rate`` is the time to reach the steady state). It tends
    to zero as the model approaches the non-unique manifold (TLS coupled identically to every
    bath, ``K_n -> +-J_n``, ``xi -> 0``, no detuning), where a second stationary state appears;
    entangled steady states near the paper's optimum live close to that manifold and are
    therefore slow to reach. NaN at invalid parameters (as the solvers, also under ``jit``)
    and at ``delta = 0``, where the Bose factors, hence the rates, diverge. Differentiable
    where the slowest eigenvalue is simple; uses ``jnp.linalg.eigvals`` of matrices of size 5
    and 4 (CPU; on GPU it needs a jax build with a non-symmetric eigensolver).

    Example:
      >>> import jaxtls
      >>> m = jaxtls.Model(T=[0.0], J=[1.0], K=[0.0])  # one TLS decay channel each, T = 0
      >>> round(float(jaxtls.relaxation_rate(m)), 12)  # coherences decay at J/2
      0.5
    """
    m0, m1, m2 = sector_rates(model)
    gap = jnp.minimum(jnp.minimum(jnp.min(m0, -1), jnp.min(m1, -1)), m2)
    return jnp.where(_valid(model), gap, jnp.nan)  # invalid parameters: NaN, as the solvers
