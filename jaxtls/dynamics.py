"""Time evolution of the two TLS under the master equation of ``physics.md`` (exact).

``rho(t) = exp(L t) rho0`` for the Liouvillian ``L`` of :func:`jaxtls.liouvillian`, without
time stepping: every propagator is a matrix exponential (scaling and squaring of a
degree-18 Taylor polynomial on ``||A||_1 <= 1``: matrix products only), so values, ``jit``,
``vmap`` and gradients (w.r.t. the model, the initial state and the times) follow from JAX's
rules. Times are in the inverse units of J
(``hbar = 1``; the rates are ``J (1 + n)`` and ``J n``, as in :func:`jaxtls.liouvillian`).

How, and why it stays accurate at weak coupling (rates << Delta):

* Rotating frame. ``L = L0 + L_I`` with ``L0 = -i[H0, .]``, ``H0 = -(delta/2)(sz1 + sz2)``.
  Every other term commutes with ``L0`` exactly (the dissipators ``D(s_i, s_j)`` pair one
  lowering with one raising operator, the dephasing ``Z`` is diagonal, the exchange conserves
  the excitation number, the detuning is diagonal), so ``exp(L t) = exp(L0 t) exp(L_I t)``
  with no approximation. ``exp(L0 t)`` is the phase ``exp(-i m delta t)`` of an element of
  ket-bra excitation difference ``m``, applied exactly; the matrix exponential only ever
  sees ``L_I``, which holds the rates, the detuning and the exchange. ``delta`` then costs
  nothing: no squarings spent on the Bohr frequency, no error of ``eps delta t`` in the
  slow dynamics (``delta = 1e8`` with the same rates and ``T/delta`` gives the same
  rotating-frame state to rounding).
* Blocks. ``L_I`` conserves ``m``: it is block diagonal with the blocks m = 0 (populations,
  rho_23, rho_32: 6), m = +-1 (4 each) and m = +-2 (rho_41, rho_14: 1 each). Each block is
  exponentiated on its own (216 + 2 x 64 + 2 flops instead of 4096 per product). An
  :class:`jaxtls.XState` initial state (populations and rho_23, the shape of every steady
  state) needs only the m = 0 block, as a real 6x6.
* Exact trace. In the m = 0 block ``p1 = tr - p2 - p3 - p4`` is eliminated: the other five
  unknowns obey an affine system, exponentiated as a 6x6 whose last row is exactly zero, so
  the trace is kept to rounding at every time (a plain expm of the singular generator drifts
  by ``eps`` per squaring, ``~eps ||L|| t`` at long times), and ``rho(t -> inf)`` is the
  steady state (:func:`jaxtls.steady_state`) to ~1e-13 even for rate ratios of 1e5.

Measures accept the trajectories directly: ``jaxtls.negativity(evolve(model, rho0, t))``
(shape ``(..., n_t)``), or :func:`negativity_trajectory`.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from .measures import negativity
from .model import Model
from .rates import bath_weights, bose
from .steady_state import XState, steady_state

Array = jax.Array

# -- superoperators (column stacking: vec(rho)[i + 4 j] = rho[i, j]) -------------------------
_SP = np.array([[0, 1], [0, 0]], np.complex128)  # |+><-|: lowers the excited |->
_SZ = np.diag([1.0, -1.0]).astype(np.complex128)
_I2 = np.eye(2, dtype=np.complex128)
_I4 = np.eye(4, dtype=np.complex128)
_S = (np.kron(_SP, _I2), np.kron(_I2, _SP))
_SZ1, _SZ2 = np.kron(_SZ, _I2), np.kron(_I2, _SZ)


def _dissipator(A, B):
    """Superoperator of D(A, B) rho = B rho A^dag - {A^dag B, rho}/2."""
    AdB = A.conj().T @ B
    return np.kron(A.conj(), B) - 0.5 * (np.kron(_I4, AdB) + np.kron(AdB.T, _I4))


def _comm(H):
    """Superoperator of [H, .]."""
    return np.kron(_I4, H) - np.kron(H.T, _I4)


_DOWN = np.stack([[_dissipator(a, b) for b in _S] for a in _S])  # (2, 2, 16, 16)
_UP = np.stack([[_dissipator(a.conj().T, b.conj().T) for b in _S] for a in _S])
_DEPH = _dissipator(0.5 * (_SZ1 - _SZ2), 0.5 * (_SZ1 - _SZ2))
_COMM_DET = _comm(-0.25 * (_SZ1 - _SZ2))  # H_det = -(detuning/4)(sz1 - sz2), per detuning
_COMM_X = _comm(_S[0].conj().T @ _S[1] + _S[1].conj().T @ _S[0])

# -- blocks of fixed m = n_exc(ket) - n_exc(bra); n_exc = 0, 1, 1, 2 for |++>, |+->, |-+>, |--> --
_BLOCKS = {
    0: [(0, 0), (1, 1), (2, 2), (3, 3), (1, 2), (2, 1)],
    1: [(1, 0), (2, 0), (3, 1), (3, 2)],
    -1: [(0, 1), (0, 2), (1, 3), (2, 3)],
    2: [(3, 0)],
    -2: [(0, 3)],
}
_VEC = {m: np.array([i + 4 * j for i, j in pairs]) for m, pairs in _BLOCKS.items()}
_ORDER = np.concatenate([_VEC[m] for m in (0, 1, -1, 2, -2)])
_INVERSE = np.argsort(_ORDER)  # concatenated blocks -> vec
_N_EXC = np.array([0, 1, 1, 2])
_M_MAT = (_N_EXC[:, None] - _N_EXC[None, :]).astype(np.float64)  # m of rho_ab
# (p1, p2, p3, p4, rho_23, rho_32) = T6 (p1, p2, p3, p4, Re rho_23, Im rho_23)
_T6 = np.eye(6, dtype=np.complex128)
_T6[4:, 4:] = [[1, 1j], [1, -1j]]
_T6_INV = np.linalg.inv(_T6)
_POP = np.array([1.0, 1.0, 1.0, 0.0, 0.0])  # p2, p3, p4 (+ the coherences) of the reduced vector

MAX_SQUARINGS = 50  # the propagators are NaN (never a wrong number) beyond ||L_I t||_1 = 2^50


def rotating_liouvillian(model: Model) -> Array:
    """``L_I = L + i[H0, .]``: the Liouvillian without the common Bohr frequency, ``(..., 16, 16)``.

    Column stacking as :func:`jaxtls.liouvillian`; ``H0 = -(delta/2)(sz1 + sz2)``, which
    commutes with ``L_I``, so ``exp(L t) = exp(-i[H0, .] t) exp(L_I t)`` exactly. Built
    directly (the mean splitting is never added and subtracted), complex128, units of J.

    Example:
      >>> import jaxtls, numpy as np
      >>> m = jaxtls.Model(T=[1.0, 0.1], J=[1.0, 2.0], K=[0.5, 1.0], detuning=0.3)
      >>> L = jaxtls.liouvillian(m) - jaxtls.rotating_liouvillian(m)  # -i[H0, .]
      >>> bool(np.allclose(np.diag(L).imag.reshape(4, 4).T[0], [0, 1, 1, 2]))
      True
    """
    delta = jnp.asarray(model.delta, jnp.float64)
    wd, wu = bath_weights(model.T, delta[..., None])
    wd, wu = wd / delta[..., None], wu / delta[..., None]  # 1 + n, n
    J1, J2, K = jnp.broadcast_arrays(model.J1, model.J2, model.K)
    G = jnp.stack([jnp.stack([J1, K], -1), jnp.stack([K, J2], -1)], -2)  # (..., n, 2, 2)
    Gd = jnp.sum(G * wd[..., None, None], axis=-3)
    Gu = jnp.sum(G * wu[..., None, None], axis=-3)
    L = jnp.einsum("...ij,ijab->...ab", Gd, _DOWN) + jnp.einsum("...ij,ijab->...ab", Gu, _UP)
    gamma_phi = jnp.asarray(model.xi) * 0.5 * (Gd[..., 0, 0] + Gd[..., 1, 1])
    L = L + (0.5 * gamma_phi)[..., None, None] * _DEPH
    L = L - 1j * jnp.asarray(model.detuning)[..., None, None] * _COMM_DET
    return L - 1j * jnp.asarray(model.exchange)[..., None, None] * _COMM_X


def _block(L, m):
    v = _VEC[m]
    return L[..., v[:, None], v[None, :]]


def _affine(L6):
    """Reduced m = 0 generator (p1 = tr - p2 - p3 - p4 eliminated): ``(A5, b)`` with
    ``dz/dt = A5 z + b tr`` for ``z = (p2, p3, p4, a, b)``; shapes ``(..., 5, 5), (..., 5)``."""
    col = L6[..., 1:, 0]
    return L6[..., 1:, 1:] - col[..., :, None] * _POP, col


_TAYLOR = 18  # degree of the Taylor polynomial on the scaled matrix, ||A||_1 <= 1
# truncation error <= e ||A||^19 / 19! < 3e-17: below float64 resolution


def _scaled_taylor(M, max_squarings):
    """``exp(M / 2^s)`` by its degree-18 Taylor polynomial (Horner), ``s`` the squarings
    that bring ``||M||_1`` to at most 1. Matrix products only: no solve, a short compile,
    and the same code on CPU and GPU. Returns ``(R, s, bad)``, ``bad`` where more than
    ``max_squarings`` would be needed."""
    norm = jax.lax.stop_gradient(jnp.max(jnp.sum(jnp.abs(M), axis=-2), axis=-1))
    s = jnp.ceil(jnp.log2(jnp.where(norm > 0, norm, 1.0)))
    s = jax.lax.stop_gradient(jnp.maximum(s, 0.0))
    A = M * (0.5**s)[..., None, None]
    eye = jnp.eye(M.shape[-1], dtype=M.dtype)

    def horner(i, R):  # R <- I + A R / k, k = degree - i (a loop: one product to compile)
        return eye + (A @ R) / (_TAYLOR - i).astype(A.dtype)

    R = jax.lax.fori_loop(1, _TAYLOR, horner, eye + A / _TAYLOR)
    return R, s, s > max_squarings


def _expm(M, max_squarings):
    """``exp(M)``, ``(..., k, k)``, by scaling and squaring (NaN beyond ``max_squarings``)."""
    R, s, bad = _scaled_taylor(M, max_squarings)

    def square(i, X):
        return jnp.where((i < s)[..., None, None], X @ X, X)

    R = jax.lax.fori_loop(0, max_squarings, square, R)
    return jnp.where(bad[..., None, None], jnp.nan, R)


def _expm_affine(A5, b, t, max_squarings):
    """``exp`` of ``[[A5 t, b t], [0, 0]]`` as ``(X (..., n_t, 5, 5), y (..., n_t, 5))``.

    Scaling and squaring with the constant row kept exactly ``(0, ..., 0, 1)``: then
    ``X <- X X``, ``y <- X y + y``, and the stationary mode does not drift (a generic expm
    of this singular generator multiplies it by ``(1 + eps)^(2^s)``).
    """
    k = A5.shape[-1]
    tt = t[..., :, None, None]
    top = jnp.concatenate([A5[..., None, :, :] * tt, b[..., None, :, None] * tt], axis=-1)
    M = jnp.concatenate([top, jnp.zeros_like(top[..., :1, :])], axis=-2)
    R, s, bad = _scaled_taylor(M, max_squarings)
    X, y = R[..., :k, :k], R[..., :k, k]

    def square(i, carry):
        X, y = carry
        go = i < s
        y2 = (X @ y[..., None])[..., 0] + y
        return jnp.where(go[..., None, None], X @ X, X), jnp.where(go[..., None], y2, y)

    X, y = jax.lax.fori_loop(0, max_squarings, square, (X, y))
    return jnp.where(bad[..., None, None], jnp.nan, X), jnp.where(bad[..., None], jnp.nan, y)


def _propagate(A, x0, t, max_squarings):
    """``exp(A t) x0`` for generators ``(..., k, k)``, states ``(..., k)``, times ``(..., n_t)``:
    returns ``(..., n_t, k)``."""
    E = _expm(A[..., None, :, :] * t[..., :, None, None], max_squarings)
    return (E @ x0[..., None, :, None])[..., 0]


def _m0_propagate(L6, x0, t, max_squarings):
    """m = 0 block with the exact trace: x0 ``(..., 6)`` = (p1, ..., p4, a, b) -> ``(..., n_t, 6)``
    (``L6``: the block of ``L_I``, complex, or its real form)."""
    A5, b = _affine(L6)
    X, y = _expm_affine(A5, b, t, max_squarings)
    tr = x0[..., 0] + x0[..., 1] + x0[..., 2] + x0[..., 3]
    z = (X @ x0[..., None, 1:, None])[..., 0] + y * tr[..., None, None]
    p1 = tr[..., None] - z[..., 0] - z[..., 1] - z[..., 2]
    return jnp.concatenate([p1[..., None], z], axis=-1)


def _real_m0(L):
    """Real generator of (p1, ..., p4, Re rho_23, Im rho_23) from ``L_I``, ``(..., 6, 6)``."""
    return jnp.real(_T6_INV @ _block(L, 0) @ _T6)


def _x_vector(x: XState):
    fields = jnp.broadcast_arrays(*(jnp.asarray(f, jnp.float64) for f in x.entries))
    return jnp.stack(fields, axis=-1)


def _times(t):
    t = jnp.asarray(t, jnp.float64)
    if t.ndim != 1:
        raise ValueError(f"t must be a 1-D array of times (n_t,), got shape {t.shape}")
    return t


def _check_frame(frame):
    if frame not in ("lab", "rotating"):
        raise ValueError(f"frame must be 'lab' or 'rotating', got {frame!r}")


def as_xstate(rho) -> XState:
    """An :class:`jaxtls.XState` from a ``(..., 4, 4)`` state whose only entries are the
    populations and rho_23 (and its mirror): :meth:`jaxtls.XState.from_matrix`."""
    return rho if isinstance(rho, XState) else XState.from_matrix(rho)


def evolve(
    model: Model,
    rho0,
    t,
    *,
    frame: str = "lab",
    max_squarings: int = MAX_SQUARINGS,
):
    """State at times ``t`` from ``rho0``: ``rho(t) = exp(L t) rho0`` (exact, no stepping).

    Args:
      model: a :class:`jaxtls.Model`, batch shape ``B`` (``delta > 0``: at ``delta = 0`` the
        Bose factors, hence the rates, diverge).
      rho0: initial state(s): a ``(..., 4, 4)`` matrix (batch shape ``R``; any matrix, the map
        is linear) or an :class:`jaxtls.XState` (fields of shape ``R``), e.g.
        :func:`product_ground_state`, :func:`thermal_state` or a steady state.
      t: times, shape ``(n_t,)``, in the inverse units of J; ``t >= 0`` (negative times are
        the inverse map, which is not a physical evolution).
      frame: ``"lab"`` (default; the master equation with ``H`` of ``physics.md``, as
        QuTiP's ``mesolve`` with :func:`jaxtls.qutip_operators`) or ``"rotating"`` (the
        interaction picture of ``H0 = -(delta/2)(sz1 + sz2)``: without the phases
        ``exp(-i m delta t)`` of the coherences). Populations, rho_23 and every entanglement
        measure are the same in both.
      max_squarings: static bound on the squarings of the matrix exponential; beyond
        ``||L_I t||_1 = 2^max_squarings`` (1.1e15 by default; ``||L_I||_1`` is about the
        largest rate) the result is NaN.

    Returns:
      ``(*broadcast(B, R), n_t, 4, 4)`` complex128 for a matrix ``rho0``; for an ``XState``
      an ``XState`` with fields ``(*broadcast(B, R), n_t)`` (only the real 6x6 m = 0 block
      is exponentiated: much cheaper). Trace kept to rounding (see the module docstring).

    Example:
      >>> import jaxtls, jax.numpy as jnp
      >>> m = jaxtls.Model(T=[20.0, 0.1], J=[1.0, 1000.0], K=[0.0, 1000.0])
      >>> rho = jaxtls.evolve(m, jaxtls.product_ground_state(), jnp.array([0.0, 1.0, 1e3]))
      >>> rho.shape
      (3, 4, 4)
      >>> [round(float(n), 4) for n in jaxtls.negativity(rho)]  # -> the steady state's 0.0325
      [0.0, 0.0325, 0.0325]
      >>> s = jaxtls.evolve(m, jaxtls.product_ground_state(as_xstate=True), jnp.array([1e3]))
      >>> round(float(jaxtls.negativity(s)[0]), 4)
      0.0325
    """
    _check_frame(frame)
    t = _times(t)
    if not isinstance(rho0, XState):
        rho0 = jnp.asarray(rho0, jnp.complex128)
        if rho0.shape[-2:] != (4, 4):
            raise ValueError(f"rho0 must have shape (..., 4, 4), got {rho0.shape}")
    out = _evolve(model, rho0, t, max_squarings)
    if frame == "lab" and not isinstance(out, XState):
        out = out * _lab_phases(model, t)
    return out


def _lab_phases(model: Model, t) -> Array:
    """``exp(-i m delta t)``, ``(..., n_t, 4, 4)``: lab frame = rotating frame x these
    (elementwise), ``m = n_exc(ket) - n_exc(bra)`` of each entry."""
    delta = jnp.asarray(model.delta, jnp.float64)
    t = jnp.asarray(t, jnp.float64)
    return jnp.exp(-1j * _M_MAT * (delta[..., None, None, None] * t[:, None, None]))


@functools.partial(jax.jit, static_argnums=(3,))
def _evolve(model, rho0, t, max_squarings):
    """Rotating-frame evolution (one compile for both frames)."""
    L = rotating_liouvillian(model)
    if isinstance(rho0, XState):
        y = _m0_propagate(_real_m0(L), _x_vector(rho0), t, max_squarings)
        return XState(*(y[..., k] for k in range(6)))
    return _evolve_general(L, rho0, t, max_squarings)


def negativity_trajectory(model: Model, rho0, t) -> Array:
    """Negativity along the trajectory, shape ``(*broadcast(B, R), n_t)``.

    The same as ``jaxtls.negativity(jaxtls.evolve(model, rho0, t))``. The path follows the
    type of ``rho0``, eagerly and under ``jit`` alike: an :class:`jaxtls.XState` (product,
    thermal and steady states, e.g. ``product_ground_state(as_xstate=True)``) evolves its six
    real entries and takes the closed-form negativity; a ``(..., 4, 4)`` matrix evolves the
    whole matrix and takes the partial-transpose eigenvalues (an X-shaped matrix gives the
    same numbers to rounding; :meth:`jaxtls.XState.from_matrix` converts one).

    Example:
      >>> import jaxtls, jax.numpy as jnp
      >>> m = jaxtls.Model(T=[20.0, 0.1], J=[1.0, 1000.0], K=[0.0, 1000.0])
      >>> n = jaxtls.negativity_trajectory(m, jaxtls.product_ground_state(), jnp.array([1e3]))
      >>> round(float(n[0]), 4)
      0.0325
    """
    return negativity(evolve(model, rho0, t, frame="rotating"))


def product_ground_state(*, as_xstate: bool = False):
    """``|++><++|``, both TLS in their ground state |+>: ``(4, 4)`` complex128 (or an XState).

    Example:
      >>> import jaxtls
      >>> float(jaxtls.product_ground_state()[0, 0].real)
      1.0
    """
    rho = jnp.zeros((4, 4), jnp.complex128).at[0, 0].set(1.0)
    return _maybe_x(rho, as_xstate)


def thermal_state(model: Model | float, T, *, as_xstate: bool = False):
    """Gibbs state ``exp(-H0/T)/Z`` of ``H0 = -(delta/2)(sz1 + sz2)``, shape ``(..., 4, 4)``.

    The product of two single-TLS Gibbs states at the splitting ``delta`` (rates and Bose
    factors of this model are taken at ``delta``, the detuning and the exchange are second
    order): it is the steady state when every bath is at ``T``. ``T = 0`` gives
    :func:`product_ground_state`.

    Args:
      model: a :class:`jaxtls.Model` (its ``delta``, batch shape ``B``) or a splitting.
      T: temperature(s), broadcast against ``B``, ``T >= 0``.
      as_xstate: return an :class:`jaxtls.XState` (fast path of :func:`evolve`).

    Example:
      >>> import jaxtls
      >>> rho = jaxtls.thermal_state(1.0, 1.0)
      >>> [round(float(p), 4) for p in jaxtls.bell_populations(rho)]
      [0.5344, 0.1966, 0.1966, 0.0723]
    """
    delta = jnp.asarray(model.delta if isinstance(model, Model) else model, jnp.float64)
    n = bose(T, delta)
    up, down = (1.0 + n) / (1.0 + 2.0 * n), n / (1.0 + 2.0 * n)  # |+>, |->
    p = jnp.stack([up * up, up * down, down * up, down * down], axis=-1)
    rho = jnp.zeros(p.shape[:-1] + (4, 4), jnp.complex128)
    rho = rho.at[..., jnp.arange(4), jnp.arange(4)].set(p.astype(jnp.complex128))
    return _maybe_x(rho, as_xstate)


def _maybe_x(rho, flag):
    return as_xstate(rho) if flag else rho


_BISECT = 60  # bisection steps in a grid interval: width 2^-60 of it (float64 resolution)


def time_to_fraction(
    model: Model,
    rho0=None,
    fraction=0.9,
    *,
    t_max=None,
    n_grid: int = 256,
    max_squarings: int = MAX_SQUARINGS,
) -> Array:
    """First time the negativity reaches ``fraction`` of the stationary one, shape ``(...)``.

    ``N(t) >= fraction * N_ss`` first at the returned time (``N_ss`` from
    :func:`jaxtls.steady_state`, ``N(t)`` from :func:`evolve`). NaN where ``N_ss = 0`` (separable
    steady state), where the steady state is not unique or invalid, and where ``N(t)`` does
    not reach the level before ``t_max``. 0 where ``rho0`` already does.

    Method: ``N(t)`` on a grid of ``n_grid`` times log-spaced from ``1e-3`` of the fastest
    time scale (``1/||L_I||_1``) to ``t_max`` (default ``100 / jaxtls.relaxation_rate``),
    plus ``t = 0``; the first grid interval where the level is crossed is bisected to the
    float64 resolution. A crossing up and back down inside one grid interval (an oscillation
    faster than the grid, from the exchange or the detuning) is missed: raise ``n_grid``.
    Gradients: implicit-function derivative ``-(dN/dtheta - fraction dN_ss/dtheta)/(dN/dt)``
    at the crossing (the search itself is under ``stop_gradient``).

    Args:
      model: a :class:`jaxtls.Model`, batch shape ``B``.
      rho0: initial state (as in :func:`evolve`, batch shape ``R``); default
        :func:`product_ground_state` as an XState. The path follows the type, as in
        :func:`negativity_trajectory`: an XState the six-entry one, a matrix the general one.
      fraction: the level, in ``(0, 1)``; broadcasts against ``B``.
      t_max: end of the search (broadcasts against ``B``). The default needs
        :func:`jaxtls.relaxation_rate` (``jnp.linalg.eigvals``, which JAX computes with
        LAPACK on the host CPU even on a GPU: a transfer per call); passing it avoids that.
      n_grid: number of grid times (static).
      max_squarings: as in :func:`evolve`.

    Returns:
      ``(*broadcast(B, R))`` float64.

    Example:
      >>> import jaxtls
      >>> m = jaxtls.Model(T=[20.0, 0.1], J=[1.0, 1000.0], K=[0.0, 1000.0])
      >>> t90 = jaxtls.time_to_fraction(m, fraction=0.9)
      >>> n = jaxtls.negativity_trajectory(m, jaxtls.product_ground_state(), t90[None])
      >>> round(float(n[0] / jaxtls.negativity(jaxtls.steady_state(m))), 6)
      0.9
      >>> bool(jnp.isnan(jaxtls.time_to_fraction(m.replace(K=[0.0, 0.0]))))
      True
    """
    if rho0 is None:
        rho0 = product_ground_state(as_xstate=True)
    elif not isinstance(rho0, XState):
        rho0 = jnp.asarray(rho0, jnp.complex128)
        if rho0.shape[-2:] != (4, 4):
            raise ValueError(f"rho0 must have shape (..., 4, 4), got {rho0.shape}")
    if t_max is None:
        t_max = 100.0 / _relaxation_rate(model)
    return _time_to_fraction(model, rho0, fraction, t_max, n_grid, max_squarings)


@jax.jit
def _relaxation_rate(model):
    from .relaxation import relaxation_rate

    return jax.lax.stop_gradient(relaxation_rate(model))


@functools.partial(jax.jit, static_argnums=(4, 5))
def _time_to_fraction(model, rho0, fraction, t_max, n_grid, max_squarings):
    L = rotating_liouvillian(model)
    if isinstance(rho0, XState):
        x0 = _x_vector(rho0)
        gen, rho_batch = _real_m0(L), x0.shape[:-1]

        def state_at(gen, tt):  # times (..., k) -> states (..., k, 6)
            return _m0_propagate(gen, x0, tt, max_squarings)

        def neg(y):
            return negativity(XState(*(y[..., k] for k in range(6))))

        def rate(gen, y):  # dy/dt
            return (gen[..., None, :, :] @ y[..., None])[..., 0]

    else:
        gen, rho_batch = L, rho0.shape[:-2]

        def state_at(gen, tt):
            return _evolve_general(gen, rho0, tt, max_squarings)

        def neg(r):
            return negativity(r)

        def rate(gen, r):
            vec = jnp.swapaxes(r, -1, -2).reshape(r.shape[:-2] + (16, 1))
            dvec = (gen[..., None, :, :] @ vec)[..., 0]
            return jnp.swapaxes(dvec.reshape(dvec.shape[:-1] + (4, 4)), -1, -2)

    n_ss = negativity(steady_state(model, check=False))
    target = jnp.asarray(fraction, jnp.float64) * n_ss
    gen_s, target_s = jax.lax.stop_gradient(gen), jax.lax.stop_gradient(target)
    t_max = jax.lax.stop_gradient(jnp.asarray(t_max, jnp.float64))
    fast = jnp.max(jnp.sum(jnp.abs(gen_s), axis=-2), axis=-1)  # ||.||_1: the fastest rate
    t_lo = jnp.minimum(1e-3 / fast, 1e-3 * t_max)
    batch = jnp.broadcast_shapes(target.shape, t_max.shape, t_lo.shape, rho_batch)
    t_lo, t_max = jnp.broadcast_to(t_lo, batch), jnp.broadcast_to(t_max, batch)
    ratio = t_max / t_lo
    false = jnp.zeros(batch, bool)

    def body(i, carry):
        # i < n_grid: scan the grid t = 0, t_lo, ..., t_max for the first crossing;
        # then bisect [lo, hi]. One evaluation of N per step: a single traced copy.
        lo, hi, prev, found, at0 = carry
        scanning = i < n_grid
        grid_t = jnp.where(i > 0, t_lo * ratio ** ((i - 1) / (n_grid - 2)), 0.0)
        mid = 0.5 * (lo + hi)
        tt = jnp.where(scanning, grid_t, mid)
        ok = neg(state_at(gen_s, tt[..., None]))[..., 0] >= target_s
        cross = scanning & ~found & ok
        lo = jnp.where(scanning, jnp.where(cross, prev, lo), jnp.where(ok, lo, mid))
        hi = jnp.where(scanning, jnp.where(cross, grid_t, hi), jnp.where(ok, mid, hi))
        at0 = at0 | (cross & (i == 0))
        prev = jnp.where(scanning, grid_t, prev)
        return lo, hi, prev, found | cross, at0

    zero = jnp.zeros(batch)
    init = (zero, zero, zero, false, false)
    _, t0, _, found, at0 = jax.lax.fori_loop(0, n_grid + _BISECT, body, init)
    first = jnp.where(at0, 0, 1)
    t0 = jax.lax.stop_gradient(t0)
    # Implicit-function derivative at the crossing g(t0) = N(t0) - target = 0; the value
    # stays t0: t* = t0 - (g - stop_gradient(g)) / (dN/dt).
    state = state_at(gen, t0[..., None])
    g = neg(state)[..., 0] - target
    state_s = jax.lax.stop_gradient(state)
    dn_dt = jax.lax.stop_gradient(jax.jvp(neg, (state_s,), (rate(gen_s, state_s),))[1][..., 0])
    use = (dn_dt > 0) & (first > 0)
    t_star = t0 - jnp.where(use, (g - jax.lax.stop_gradient(g)) / jnp.where(use, dn_dt, 1.0), 0.0)
    t_star = jnp.where(first > 0, t_star, 0.0)
    ok = found & (n_ss > 0) & jnp.isfinite(n_ss)
    return jnp.where(ok, t_star, jnp.nan)


def _evolve_general(L, rho0, t, max_squarings):
    """Rotating-frame states ``(..., n_t, 4, 4)`` from a full ``L_I`` and times ``(..., n_t)``."""
    rho0 = jnp.asarray(rho0, jnp.complex128)
    vec0 = jnp.swapaxes(rho0, -1, -2).reshape(rho0.shape[:-2] + (16,))
    parts = [_m0_propagate(_block(L, 0), vec0[..., _VEC[0]], t, max_squarings)]
    # m = +1 and m = -1 stacked: one exponential of shape (..., 2, n_t, 4, 4)
    L1 = jnp.stack([_block(L, 1), _block(L, -1)], axis=-3)
    x1 = jnp.stack([vec0[..., _VEC[1]], vec0[..., _VEC[-1]]], axis=-2)
    y1 = _propagate(L1, x1, t[..., None, :], max_squarings)
    parts += [y1[..., 0, :, :], y1[..., 1, :, :]]
    for m in (2, -2):
        lam = L[..., _VEC[m][0], _VEC[m][0]]
        parts.append((jnp.exp(lam[..., None] * t) * vec0[..., None, _VEC[m][0]])[..., None])
    batch = jnp.broadcast_shapes(*(p.shape[:-1] for p in parts))
    vec = jnp.concatenate([jnp.broadcast_to(p, batch + p.shape[-1:]) for p in parts], axis=-1)
    vec = vec[..., _INVERSE]
    return jnp.swapaxes(vec.reshape(vec.shape[:-1] + (4, 4)), -1, -2)
