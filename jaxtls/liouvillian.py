"""Dense 16x16 Liouvillian of the master equation in ``physics.md`` (reference path).

Not the production solver (see :mod:`jaxtls.steady_state`): it serves as an independent
cross-check, and for the full spectrum of the dynamics. Column-stacking convention:
``vec(rho)[i + 4 j] = rho[i, j]``, ``vec(A X B) = (B^T kron A) vec(X)``.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from .model import Model
from .rates import bath_weights

Array = jax.Array

_SP = np.array([[0, 1], [0, 0]], np.complex128)  # |+><-| in the basis (|+>, |->)
_SZ = np.diag([1.0, -1.0]).astype(np.complex128)
_I2 = np.eye(2, dtype=np.complex128)
S1, S2 = np.kron(_SP, _I2), np.kron(_I2, _SP)  # lowering operators of TLS 1 and 2
SZ1, SZ2 = np.kron(_SZ, _I2), np.kron(_I2, _SZ)
_I4 = np.eye(4, dtype=np.complex128)


def _dissipator(A, B):
    """Superoperator of D(A, B) rho = B rho A^dag - {A^dag B, rho}/2."""
    AdB = A.conj().T @ B
    return np.kron(A.conj(), B) - 0.5 * (np.kron(_I4, AdB) + np.kron(AdB.T, _I4))


_DOWN = np.stack([[_dissipator(a, b) for b in (S1, S2)] for a in (S1, S2)])  # (2, 2, 16, 16)
_UP = np.stack([[_dissipator(a.conj().T, b.conj().T) for b in (S1, S2)] for a in (S1, S2)])
_Z = 0.5 * (SZ1 - SZ2)
_DEPH = _dissipator(_Z, _Z)
_COMM_Z1 = np.kron(_I4, SZ1) - np.kron(SZ1.T, _I4)  # superoperator of [sz1, .]
_COMM_Z2 = np.kron(_I4, SZ2) - np.kron(SZ2.T, _I4)
_HX = S1.conj().T @ S2 + S2.conj().T @ S1  # exchange s1^dag s2 + s2^dag s1
_COMM_X = np.kron(_I4, _HX) - np.kron(_HX.T, _I4)  # superoperator of [H_x, .]


def liouvillian(model: Model) -> Array:
    """Dense Liouvillian, shape ``(..., 16, 16)`` complex128, in the units of J.

    Example:
      >>> import jaxtls
      >>> L = jaxtls.liouvillian(jaxtls.Model(T=[1.0, 0.1], J=[1.0, 2.0], K=[0.5, 1.0]))
      >>> L.shape
      (16, 16)
    """
    delta = jnp.asarray(model.delta)
    wd, wu = bath_weights(model.T, delta[..., None])
    wd, wu = wd / delta[..., None], wu / delta[..., None]
    J1, J2, K = jnp.broadcast_arrays(model.J1, model.J2, model.K)
    G = jnp.stack([jnp.stack([J1, K], -1), jnp.stack([K, J2], -1)], -2)  # (..., n, 2, 2)
    Gd = jnp.sum(G * wd[..., None, None], axis=-3)
    Gu = jnp.sum(G * wu[..., None, None], axis=-3)
    L = jnp.einsum("...ij,ijab->...ab", Gd, _DOWN) + jnp.einsum("...ij,ijab->...ab", Gu, _UP)
    gamma_phi = model.xi * 0.5 * (Gd[..., 0, 0] + Gd[..., 1, 1])
    L = L + (0.5 * gamma_phi)[..., None, None] * _DEPH
    d1 = delta + 0.5 * model.detuning
    d2 = delta - 0.5 * model.detuning
    # -i[H, .] with H = -(d1/2) sz1 - (d2/2) sz2
    L = L + 0.5j * (d1[..., None, None] * _COMM_Z1 + d2[..., None, None] * _COMM_Z2)
    # -i[H_x, .] with H_x = exchange (s1^dag s2 + s2^dag s1)
    return L - 1j * jnp.asarray(model.exchange)[..., None, None] * _COMM_X


def liouvillian_steady_state(model: Model) -> Array:
    """Steady state from the null vector of :func:`liouvillian` (slow reference path).

    Returns ``(..., 4, 4)``; the null space is assumed one-dimensional (not checked).
    """
    L = liouvillian(model)
    _, _, vh = jnp.linalg.svd(L)
    v = jnp.conj(vh[..., -1, :])
    rho = jnp.swapaxes(v.reshape(v.shape[:-1] + (4, 4)), -1, -2)
    rho = rho / jnp.trace(rho, axis1=-2, axis2=-1)[..., None, None]
    return 0.5 * (rho + jnp.conj(jnp.swapaxes(rho, -1, -2)))
