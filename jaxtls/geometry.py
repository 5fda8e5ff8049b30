"""Bath geometry: the ratio K/J set by the distance between the two coupling points.

For a D-dimensional continuous free field (paper, sec. IV C 2), with ``dbar = Delta d / v``
(d: distance between the points where the two TLS couple to the bath, v: field velocity),

    K/J = cos(dbar) (D = 1),   J_0(dbar) (D = 2),   sin(dbar)/dbar (D = 3).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

Array = jax.Array

DIMENSIONS = (1, 2, 3)

# Trapezoidal rule for J_0(x) = (1/2pi) int_0^{2pi} cos(x sin t) dt converges exponentially
# (error ~ J_N(x)); 96 nodes reach float64 precision for x <= 40, beyond which the Hankel
# asymptotic series (14 terms) is at least as accurate.
_NODES = np.sin(2 * np.pi * np.arange(96) / 96)
_X_SWITCH = 40.0


def _hankel_coefficients(n_terms=14):
    a = [1.0]
    for k in range(1, n_terms):
        a.append(a[-1] * -((2 * k - 1) ** 2) / (k * 8.0))
    return np.array(a)


_A = _hankel_coefficients()


def bessel_j0(x) -> Array:
    """Bessel function J_0 (float64, differentiable, batched).

    Example:
      >>> import jaxtls
      >>> abs(round(float(jaxtls.bessel_j0(2.404825557695773)), 12))
      0.0
    """
    x = jnp.abs(jnp.asarray(x, jnp.float64))
    small = x <= _X_SWITCH
    xs = jnp.where(small, x, 0.0)
    quad = jnp.mean(jnp.cos(xs[..., None] * _NODES), axis=-1)
    xl = jnp.where(small, _X_SWITCH + 1.0, x)
    inv = 1.0 / xl
    # J_0 ~ sqrt(2/(pi x)) [cos(w) sum_k (-1)^k a_2k x^-2k - sin(w) sum_k (-1)^k a_2k+1 x^-2k-1]
    P = sum(((-1) ** k) * _A[2 * k] * inv ** (2 * k) for k in range(len(_A) // 2))
    Q = sum(((-1) ** k) * _A[2 * k + 1] * inv ** (2 * k + 1) for k in range(len(_A) // 2))
    w = xl - np.pi / 4
    asym = jnp.sqrt(2.0 / (np.pi * xl)) * (P * jnp.cos(w) - Q * jnp.sin(w))
    return jnp.where(small, quad, asym)


def kappa(dbar, D: int) -> Array:
    """K/J of a bath of dimensionality ``D`` (1, 2 or 3) at reduced distance ``dbar >= 0``.

    Example:
      >>> import jaxtls
      >>> [round(float(jaxtls.kappa(1.0, D)), 6) for D in (1, 2, 3)]
      [0.540302, 0.765198, 0.841471]
    """
    if D not in DIMENSIONS:
        raise ValueError(f"D (bath dimensionality) must be 1, 2 or 3, got {D!r}")
    dbar = jnp.asarray(dbar, jnp.float64)
    if not isinstance(dbar, jax.core.Tracer) and bool(
        jnp.any(dbar < 0) | ~jnp.all(jnp.isfinite(dbar))
    ):
        raise ValueError("dbar (reduced distance Delta d / v) must be finite and >= 0")
    if D == 1:
        return jnp.cos(dbar)
    if D == 2:
        return bessel_j0(dbar)
    return jnp.sinc(dbar / np.pi)  # sin(dbar)/dbar, 1 at dbar = 0, smooth gradient


def cross_coupling(J1, J2, dbar, D: int) -> Array:
    """``K = kappa(dbar, D) sqrt(J1 J2)`` for one bath (broadcasts).

    Example:
      >>> import jaxtls
      >>> float(jaxtls.cross_coupling(4.0, 4.0, 0.0, 3))
      4.0
    """
    return kappa(dbar, D) * jnp.sqrt(jnp.asarray(J1, jnp.float64) * jnp.asarray(J2, jnp.float64))
