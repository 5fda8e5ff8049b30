"""Entanglement measures of two-qubit states (``physics.md``, "Entanglement").

Every function takes a state of one of two types and dispatches on the type (at trace time,
never on values):

* an :class:`jaxtls.XState` (what :func:`jaxtls.steady_state` and :func:`jaxtls.closed_form`
  return): closed forms for X-shaped states; no matrix, no eigendecomposition, finite
  gradients everywhere. The fast path, and the one to use inside ``grad``.
* a ``(..., 4, 4)`` array (any state, e.g. ``rho(t)`` of :func:`jaxtls.evolve`): eigenvalues
  of the partial transpose (Wootters' formula for the concurrence). ``XState.from_matrix``
  converts an X-shaped matrix explicitly when the closed forms are wanted.

Results have shape ``(...)`` (``bell_populations``: ``(..., 4)``), identical eagerly, under
``jit`` and under ``vmap``.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from .steady_state import XState, density_matrix

Array = jax.Array

#: The largest stationary negativity the paper finds, ``(sqrt 5 - 2)/6 = 0.0393447`` (the
#: 2/3-1/3 state; identical TLS). Defined once: optimize and experiments use this one.
N_PAPER: float = (5**0.5 - 2) / 6

_SY_SY = np.array([[0, 0, 0, -1], [0, 0, 1, 0], [0, 1, 0, 0], [-1, 0, 0, 0]], np.complex128)


def _safe_sqrt(x):
    """sqrt with a zero (not NaN/inf) gradient at 0; NaN stays NaN (invalid points)."""
    pos = x > 0
    return jnp.where(pos, jnp.sqrt(jnp.where(pos, x, 1.0)), jnp.where(jnp.isnan(x), x, 0.0))


def _norm3(a, b, c):
    """sqrt(a^2 + b^2 + c^2) without underflow (scaled by the largest), zero gradient at 0."""
    m = jnp.maximum(jnp.maximum(jnp.abs(a), jnp.abs(b)), jnp.abs(c))
    pos = m > 0
    s = jnp.where(pos, m, 1.0)
    q = (a / s) ** 2 + (b / s) ** 2 + (c / s) ** 2  # >= 1 where pos
    return jnp.where(pos, s * jnp.sqrt(jnp.where(pos, q, 1.0)), 0.0)


def _low14(x: XState):
    """Smallest eigenvalue of the (1,4) block of the partial transpose, [[p1, c], [c*, p4]]
    (the transpose moves rho_23 there), gradient-safe."""
    return _block_low(x.p1, x.p4, x.c_re, x.c_im)


@jax.custom_jvp
def _block_low(p1, p4, c_re, c_im):
    """Lower eigenvalue of the Hermitian block [[p1, c], [c*, p4]], ``c = c_re + i c_im``."""
    half = 0.5 * (p1 + p4)
    high = half + _norm3(0.5 * (p1 - p4), c_re, c_im)
    # (p1 p4 - |c|^2)/high is free of the cancellation in half - r when low << high; below
    # 1e-150 (high^2 would underflow in the gradient) both forms are equally exact.
    big = high > 1e-150
    low = (p1 * p4 - c_re**2 - c_im**2) / jnp.where(big, high, 1.0)
    return jnp.where(big, low, 2 * half - high)


@_block_low.defjvp
def _block_low_jvp(primals, tangents):
    """``d low = d half - (a da + c_re dc_re + c_im dc_im) / r`` (``a = (p1 - p4)/2``,
    ``r = |(a, c)|``; at ``r = 0``, a kink, the mean of both eigenvalues' derivatives). By
    hand: through autodiff of the branches above, the blocked gradient of
    ``negativity(closed_form(m))`` costs 282 instead of 263 CPU ns per point (measured at 1e5
    points in one run; the general solver's: 264 vs 265, within the noise)."""
    p1, p4, cr, ci = primals
    d1, d4, dr, di = tangents
    a = 0.5 * (p1 - p4)
    r = _norm3(a, cr, ci)
    pos = r > 0
    rs = jnp.where(pos, r, 1.0)
    # each coefficient 0 where r is 0 or NaN (a NaN state: zero tangents, as in reverse mode)
    ka, kr, ki = (jnp.where(pos, v / rs, 0.0) for v in (a, cr, ci))
    dlow = 0.5 * (d1 + d4) - ka * (0.5 * (d1 - d4)) - kr * dr - ki * di
    return _block_low(p1, p4, cr, ci), dlow


def _state(rho):
    """An XState passes; anything else becomes a ``(..., 4, 4)`` array (the general path)."""
    return rho if isinstance(rho, XState) else jnp.asarray(rho)


def partial_transpose(rho) -> Array:
    """Partial transpose on TLS 2, ``(..., 4, 4) -> (..., 4, 4)``.

    Example:
      >>> import jaxtls, jax.numpy as jnp
      >>> pt = jaxtls.partial_transpose(jnp.eye(4).at[1, 2].set(0.5).at[2, 1].set(0.5) / 4)
      >>> float(pt[0, 3].real)
      0.125
    """
    rho = density_matrix(rho)
    r = rho.reshape(rho.shape[:-2] + (2, 2, 2, 2))
    return jnp.swapaxes(r, -3, -1).reshape(rho.shape)


def pt_eigenvalues(rho) -> Array:
    """Eigenvalues of the partial transpose, ascending, ``(..., 4)`` (general path)."""
    return jnp.linalg.eigvalsh(partial_transpose(rho))


@jax.jit  # eager calls run as one compiled program (op by op was 3-4x slower)
def pt_min_eigenvalue(rho) -> Array:
    """Smallest eigenvalue of the partial transpose (signed; negative iff entangled).

    For the steady states of this model this is the smooth ``lambda_-`` of ``physics.md``
    (its negative is the objective to maximise): it keeps a gradient on separable states,
    where the negativity is flat zero.

    Example:
      >>> import jaxtls
      >>> rho = jaxtls.steady_state(jaxtls.Model(T=[20.0, 0.1], J=[1.0, 1000.0], K=[0.0, 1000.0]))
      >>> float(jaxtls.pt_min_eigenvalue(rho)) < 0
      True
    """
    rho = _state(rho)
    if not isinstance(rho, XState):
        return pt_eigenvalues(rho)[..., 0]
    # The (2,3) block of the transpose is diagonal for an XState: [[p2, 0], [0, p3]].
    return jnp.minimum(_low14(rho), jnp.minimum(rho.p2, rho.p3))


@jax.jit  # eager calls run as one compiled program (op by op was 3-4x slower)
def negativity(rho) -> Array:
    """Negativity ``N = (||rho^Gamma||_1 - 1)/2``, in ``[0, 1/2]``.

    Example:
      >>> import jaxtls, jax.numpy as jnp
      >>> singlet = jnp.zeros((4, 4)).at[1:3, 1:3].set(jnp.array([[0.5, -0.5], [-0.5, 0.5]]))
      >>> float(jaxtls.negativity(singlet))
      0.5
    """
    rho = _state(rho)
    if not isinstance(rho, XState):
        return jnp.sum(jnp.maximum(-pt_eigenvalues(rho), 0.0), axis=-1)
    neg23 = jnp.maximum(-rho.p2, 0.0) + jnp.maximum(-rho.p3, 0.0)  # 0 for a physical state
    return jnp.maximum(-_low14(rho), 0.0) + neg23


@jax.jit  # eager calls run as one compiled program (op by op was 3-4x slower)
def log_negativity(rho) -> Array:
    """Logarithmic negativity ``log2(1 + 2 N)``, in ``[0, 1]``.

    Example:
      >>> import jaxtls, jax.numpy as jnp
      >>> float(jaxtls.log_negativity(jnp.eye(4) / 4))
      0.0
    """
    return jnp.log2(1.0 + 2.0 * negativity(rho))


@jax.jit  # eager calls run as one compiled program (op by op was 3-4x slower)
def concurrence(rho) -> Array:
    """Wootters concurrence, in ``[0, 1]``; for an XState ``2 max(0, |rho_23| - sqrt(p1 p4))``.

    Example:
      >>> import jaxtls, jax.numpy as jnp
      >>> bell = jnp.zeros((4, 4)).at[1:3, 1:3].set(0.5)
      >>> round(float(jaxtls.concurrence(bell)), 12)
      1.0
    """
    rho = _state(rho)
    if not isinstance(rho, XState):
        return _wootters(rho)
    abs_c = _safe_sqrt(rho.c_re**2 + rho.c_im**2)
    return 2.0 * jnp.maximum(abs_c - _safe_sqrt(rho.p1 * rho.p4), 0.0)


def _wootters(rho):
    rho = jnp.asarray(rho, jnp.complex128)
    w, v = jnp.linalg.eigh(rho)
    sqrt_rho = (v * jnp.sqrt(jnp.maximum(w, 0.0))[..., None, :]) @ jnp.conj(jnp.swapaxes(v, -1, -2))
    tilde = _SY_SY @ jnp.conj(rho) @ _SY_SY
    # Eigenvalues of R = sqrt(sqrt_rho tilde sqrt_rho), descending.
    lam = jnp.sqrt(jnp.maximum(jnp.linalg.eigvalsh(sqrt_rho @ tilde @ sqrt_rho), 0.0))[..., ::-1]
    return jnp.maximum(lam[..., 0] - lam[..., 1] - lam[..., 2] - lam[..., 3], 0.0)


@jax.jit  # eager calls run as one compiled program (op by op was 3-4x slower)
def bell_populations(rho) -> Array:
    """Weights of |1> = |++>, |psi+>, |psi->, |4> = |-->, shape ``(..., 4)`` (any state).

    Example:
      >>> import jaxtls
      >>> rho = jaxtls.steady_state(jaxtls.Model(T=[30.0, 0.05], J=[1.0, 1e5], K=[0.0, 1e5]))
      >>> [round(float(w), 2) for w in jaxtls.bell_populations(rho)]
      [0.67, 0.0, 0.33, 0.0]
    """
    rho = _state(rho)
    if isinstance(rho, XState):
        p1, p2, p3, p4, re = rho.p1, rho.p2, rho.p3, rho.p4, rho.c_re
    else:
        p = jnp.real(jnp.diagonal(rho, axis1=-2, axis2=-1))
        p1, p2, p3, p4, re = p[..., 0], p[..., 1], p[..., 2], p[..., 3], jnp.real(rho[..., 1, 2])
    mean = 0.5 * (p2 + p3)
    return jnp.stack([p1, mean + re, mean - re, p4], axis=-1)
