"""Entanglement measures of two-qubit states (``physics.md``, "Entanglement").

Every function takes ``rho`` of shape ``(..., 4, 4)`` in the basis |++>, |+->, |-+>, |-->,
or an :class:`jaxtls.XState` (from :func:`jaxtls.xstate`, no matrix is built then), and
returns shape ``(...)`` (``bell_populations``: ``(..., 4)``).

``method`` chooses the path:

* ``"x"``: closed forms for X-shaped states (non-zero entries only on the diagonal and at
  (2,3), (1,4) and their mirrors), which is the shape of every steady state of this model.
  No eigendecomposition, finite gradients everywhere (use it inside ``grad``).
* ``"eig"``: eigenvalues of the partial transpose (Wootters' formula for the concurrence), for
  arbitrary 4x4 states.
* ``"auto"`` (default): eagerly, ``"x"`` when the state is X-shaped and ``"eig"`` otherwise;
  under ``jit``, the ``"x"`` path with NaN where the state is not X-shaped (never a plausible
  wrong number): pass ``method="eig"`` there for general states.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from .steady_state import XState

Array = jax.Array

#: The largest stationary negativity the paper finds, ``(sqrt 5 - 2)/6 = 0.0393447`` (the
#: 2/3-1/3 state; identical TLS). Defined once: optimize and experiments use this one.
N_PAPER: float = (5**0.5 - 2) / 6

_X_MASK = np.zeros((4, 4), bool)
_X_MASK[np.diag_indices(4)] = True
_X_MASK[1, 2] = _X_MASK[2, 1] = _X_MASK[0, 3] = _X_MASK[3, 0] = True
_OFF_X_TOL = 1e-12
_SY_SY = np.array([[0, 0, 0, -1], [0, 0, 1, 0], [0, 1, 0, 0], [-1, 0, 0, 0]], np.complex128)


def _safe_sqrt(x):
    """sqrt with a zero (not NaN/inf) gradient at 0; NaN stays NaN (invalid points)."""
    pos = x > 0
    return jnp.where(pos, jnp.sqrt(jnp.where(pos, x, 1.0)), jnp.where(jnp.isnan(x), x, 0.0))


def _x_entries(rho):
    if isinstance(rho, XState):
        zero = jnp.zeros_like(rho.p1)
        return rho.p1, rho.p2, rho.p3, rho.p4, (rho.c_re, rho.c_im), (zero, zero)
    rho = jnp.asarray(rho)
    p = jnp.real(jnp.diagonal(rho, axis1=-2, axis2=-1))
    c, d = rho[..., 1, 2], rho[..., 0, 3]
    return p[..., 0], p[..., 1], p[..., 2], p[..., 3], _parts(c), _parts(d)


def _parts(z):
    return jnp.real(z), jnp.imag(z)


def _norm3(a, b, c):
    """sqrt(a^2 + b^2 + c^2) without underflow (scaled by the largest), zero gradient at 0."""
    m = jnp.maximum(jnp.maximum(jnp.abs(a), jnp.abs(b)), jnp.abs(c))
    pos = m > 0
    s = jnp.where(pos, m, 1.0)
    q = (a / s) ** 2 + (b / s) ** 2 + (c / s) ** 2  # >= 1 where pos
    return jnp.where(pos, s * jnp.sqrt(jnp.where(pos, q, 1.0)), 0.0)


def _block_eigs(pa, pb, z):
    """Eigenvalues (low, high) of the Hermitian block [[pa, z], [z*, pb]], gradient-safe;
    ``z`` is given as (real, imaginary) parts."""
    half = 0.5 * (pa + pb)
    r = _norm3(0.5 * (pa - pb), z[0], z[1])
    high = half + r
    # (pa pb - |z|^2)/high is free of the cancellation in half - r when low << high; below
    # 1e-150 (high^2 would underflow in the gradient) both forms are equally exact.
    big = high > 1e-150
    safe_high = jnp.where(big, high, 1.0)
    low = jnp.where(big, (pa * pb - z[0] ** 2 - z[1] ** 2) / safe_high, half - r)
    return low, high


def _off_x(rho):
    rho = jnp.asarray(rho)
    off = jnp.max(jnp.abs(jnp.where(_X_MASK, 0.0, rho)), axis=(-2, -1))
    return off > _OFF_X_TOL * jnp.maximum(jnp.max(jnp.abs(rho), axis=(-2, -1)), 1e-300)


def _resolve(rho, method):
    if method not in ("auto", "x", "eig"):
        raise ValueError(f"method must be 'auto', 'x' or 'eig', got {method!r}")
    if isinstance(rho, XState):
        return ("eig" if method == "eig" else "x"), None
    if method != "auto":
        return method, None
    if isinstance(rho, jax.core.Tracer):
        return "x", _off_x(rho)
    return ("eig" if bool(jnp.any(_off_x(rho))) else "x"), None


def _nan_where(mask, value):
    return value if mask is None else jnp.where(mask, jnp.nan, value)


def _matrix(rho):
    return rho.matrix() if isinstance(rho, XState) else jnp.asarray(rho)


def partial_transpose(rho) -> Array:
    """Partial transpose on TLS 2, ``(..., 4, 4) -> (..., 4, 4)``.

    Example:
      >>> import jaxtls, jax.numpy as jnp
      >>> pt = jaxtls.partial_transpose(jnp.eye(4).at[1, 2].set(0.5).at[2, 1].set(0.5) / 4)
      >>> float(pt[0, 3].real)
      0.125
    """
    rho = _matrix(rho)
    r = rho.reshape(rho.shape[:-2] + (2, 2, 2, 2))
    return jnp.swapaxes(r, -3, -1).reshape(rho.shape)


def pt_eigenvalues(rho) -> Array:
    """Eigenvalues of the partial transpose, ascending, ``(..., 4)`` (general path)."""
    return jnp.linalg.eigvalsh(partial_transpose(rho))


def pt_min_eigenvalue(rho, *, method: str = "auto") -> Array:
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
    path, bad = _resolve(rho, method)
    if path == "eig":
        return pt_eigenvalues(rho)[..., 0]
    p1, p2, p3, p4, c, d = _x_entries(rho)
    # The partial transpose swaps the (2,3) and (1,4) coherences between the two blocks.
    low14, _ = _block_eigs(p1, p4, c)
    low23, _ = _block_eigs(p2, p3, d)
    return _nan_where(bad, jnp.minimum(low14, low23))


def negativity(rho, *, method: str = "auto") -> Array:
    """Negativity ``N = (||rho^Gamma||_1 - 1)/2``, in ``[0, 1/2]``.

    Example:
      >>> import jaxtls, jax.numpy as jnp
      >>> singlet = jnp.zeros((4, 4)).at[1:3, 1:3].set(jnp.array([[0.5, -0.5], [-0.5, 0.5]]))
      >>> float(jaxtls.negativity(singlet))
      0.5
    """
    path, bad = _resolve(rho, method)
    if path == "eig":
        ev = pt_eigenvalues(rho)
        return jnp.sum(jnp.maximum(-ev, 0.0), axis=-1)
    p1, p2, p3, p4, c, d = _x_entries(rho)
    low14, _ = _block_eigs(p1, p4, c)
    low23, _ = _block_eigs(p2, p3, d)
    return _nan_where(bad, jnp.maximum(-low14, 0.0) + jnp.maximum(-low23, 0.0))


def log_negativity(rho, *, method: str = "auto") -> Array:
    """Logarithmic negativity ``log2(1 + 2 N)``, in ``[0, 1]``.

    Example:
      >>> import jaxtls, jax.numpy as jnp
      >>> float(jaxtls.log_negativity(jnp.eye(4) / 4))
      0.0
    """
    return jnp.log2(1.0 + 2.0 * negativity(rho, method=method))


def concurrence(rho, *, method: str = "auto") -> Array:
    """Wootters concurrence, in ``[0, 1]``; for X states ``2 max(0, |c| - sqrt(p1 p4), ...)``.

    Example:
      >>> import jaxtls, jax.numpy as jnp
      >>> bell = jnp.zeros((4, 4)).at[1:3, 1:3].set(0.5)
      >>> round(float(jaxtls.concurrence(bell)), 12)
      1.0
    """
    path, bad = _resolve(rho, method)
    if path == "eig":
        return _wootters(_matrix(rho))
    p1, p2, p3, p4, c, d = _x_entries(rho)
    abs_c = _safe_sqrt(c[0] ** 2 + c[1] ** 2)
    abs_d = _safe_sqrt(d[0] ** 2 + d[1] ** 2)
    val = jnp.maximum(abs_c - _safe_sqrt(p1 * p4), abs_d - _safe_sqrt(p2 * p3))
    return _nan_where(bad, 2.0 * jnp.maximum(val, 0.0))


def _wootters(rho):
    rho = jnp.asarray(rho, jnp.complex128)
    w, v = jnp.linalg.eigh(rho)
    sqrt_rho = (v * jnp.sqrt(jnp.maximum(w, 0.0))[..., None, :]) @ jnp.conj(jnp.swapaxes(v, -1, -2))
    tilde = _SY_SY @ jnp.conj(rho) @ _SY_SY
    # Eigenvalues of R = sqrt(sqrt_rho tilde sqrt_rho), descending.
    lam = jnp.sqrt(jnp.maximum(jnp.linalg.eigvalsh(sqrt_rho @ tilde @ sqrt_rho), 0.0))[..., ::-1]
    return jnp.maximum(lam[..., 0] - lam[..., 1] - lam[..., 2] - lam[..., 3], 0.0)


def bell_populations(rho) -> Array:
    """Weights of |1> = |++>, |psi+>, |psi->, |4> = |-->, shape ``(..., 4)`` (any state).

    Example:
      >>> import jaxtls
      >>> rho = jaxtls.steady_state(jaxtls.Model(T=[30.0, 0.05], J=[1.0, 1e5], K=[0.0, 1e5]))
      >>> [round(float(w), 2) for w in jaxtls.bell_populations(rho)]
      [0.67, 0.0, 0.33, 0.0]
    """
    p1, p2, p3, p4, (re, _), _ = _x_entries(rho)
    mean = 0.5 * (p2 + p3)
    return jnp.stack([p1, mean + re, mean - re, p4], axis=-1)
