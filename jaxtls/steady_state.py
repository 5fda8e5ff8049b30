"""Steady state of the two TLS: general solver and the paper's closed form.

Both return an :class:`XState`: the populations and rho_23 in the basis |++>, |+->, |-+>, |-->,
with the solve's :class:`Diagnostics`. Only those entries survive in the steady state
(``physics.md``), so both work on that real 6-unknown block; neither builds a Liouvillian, and
the ``(..., 4, 4)`` matrix is built only on request (``XState.matrix``).

General solver. In the Bell basis (|1>, |psi+>, |psi->, |4>) the block reads

  dP1 = -(a_up + b_up) P1 + a P+ + b P- - 2 c u
  dP+ = a_up P1 - (a + a_up + m) P+ + m P- + a P4 + (c - c_up) u + detuning v
  dP- = b_up P1 + m P+ - (b + b_up + m) P- + b P4 + (c - c_up) u - detuning v
  dP4 = a_up P+ + b_up P- - (a + b) P4 + 2 c_up u
  du  = -c_up P1 + (c - c_up)(P+ + P-)/2 + c P4 - (Gamma/2) u + 2 Omega v
  dv  = detuning (P- - P+)/2 - (Gamma/2 + gamma_phi) v - 2 Omega u

with the channel rates of :func:`jaxtls.bell_channels`, ``m = gamma_phi/2``,
``Gamma = a + b + a_up + b_up``, ``u + i v = <psi+|rho|psi->`` and the exchange ``Omega``
(``H_x`` is ``Omega (|psi+><psi+| - |psi-><psi-|)``: it rotates the Bell coherence at
``2 Omega`` and leaves the populations alone). Eliminating ``(u, v)`` (a 2x2 solve with
determinant ``g_u g_v + 4 Omega^2``, ``g_u = Gamma/2``, ``g_v = Gamma/2 + gamma_phi``) adds a
positive transfer ``detuning^2 g_u / (2 (g_u g_v + 4 Omega^2))`` to ``m`` and, for asymmetric
coupling only, rank-one terms of either sign. What is left is a 4-state rate matrix whose
stationary vector is found by the Grassmann-Taksar-Heyman elimination: pivots are sums of
rates, never differences, so for symmetric coupling every step is subtraction-free and the
result keeps full relative accuracy next to the non-unique manifold (K_n -> +-J_n on every
bath). A pivot that is zero (or lost to cancellation) means the steady state is not unique.

Which points are not unique. A second stationary state needs a state that no bath, no
dephasing and no Hamiltonian term moves out of. With rank-one couplings along one direction
``(g1, g2)`` on every bath (``J1_n = g1^2 w_n``, ``J2_n = g2^2 w_n``, ``K_n = g1 g2 w_n``), the
state ``g1 |+-> - g2 |-+>`` is dark for emission; it is dark for absorption too only if
``g1 = +-g2`` or every ``T_n = 0``; it is stationary under ``H`` iff
``detuning K_n + exchange (J2_n - J1_n) = 0``; any dephasing moves it. Hence:

* identical TLS (``K_n = +-J_n`` on every bath, any T): not unique iff ``detuning = 0`` and
  ``xi = 0``, whatever the exchange (``H_x`` is diagonal in the Bell basis);
* TLS coupled differently: not unique iff every ``T_n = 0``, ``xi = 0`` and
  ``detuning K_n = exchange (J1_n - J2_n)``;
* a TLS coupled to no bath: not unique iff the exchange is 0 (the exchange couples it).

The solvers do not test these rules: a zero pivot finds them (tested against the null space
of the dense Liouvillian in ``tests/test_exchange.py``).
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from .model import Model, _is_concrete, is_valid, validate
from .rates import bath_all, bath_sum, bath_weights, bell_channels, per_bath

Array = jax.Array

_EPS = float(np.finfo(np.float64).eps)
# A GTH pivot smaller than this fraction of the magnitude of its terms carries no correct
# digit: the state is then numerically non-unique and reported as NaN.
_PIVOT_TOL = 64 * _EPS


class Diagnostics(NamedTuple):
    """Per-point diagnostics of a solve; shapes ``(...)``.

    Attributes:
      valid: the parameters are physical (``T, J, xi, delta >= 0``, ``K^2 <= J1 J2``,
        ``|detuning| <= delta``, finite).
      unique: the steady state is unique (and numerically resolved).
      margin: general solver: smallest relative GTH pivot (pivot over the sum of the
        magnitudes of its terms): 1 when no pivot cancels (always, for symmetric coupling,
        except on the non-unique manifold, where it is 0). For asymmetric coupling it can be
        below 1, and the smallest entries of the state then carry a relative error of about
        ``eps / margin`` (points with ``margin < 64 eps`` are reported as not unique).
        Closed form: the denominator of eq. (23) over ``S^4``, 0 on the manifold.
      finite: the solve gave finite numbers (False only where float64 cannot hold the
        computation even after the exact rescaling of the rates, e.g. temperatures beyond
        ~1e150 Delta); such points are NaN and ``check=True`` raises.
    """

    valid: Array
    unique: Array
    margin: Array
    finite: Array | bool = True


class XState(NamedTuple):
    """The steady state: an X-shaped two-qubit state, populations and the coherence rho_23,
    with the diagnostics of the solve alongside (PyTree; leaves shape ``(...)``).

    Every steady state of this model has this shape (``physics.md``), so the solvers return
    this structure and never build the ``(..., 4, 4)`` matrix; :meth:`matrix` (or
    :func:`jaxtls.density_matrix`) builds it on request. The measures of
    :mod:`jaxtls.measures` dispatch on the type: an ``XState`` takes the closed forms, a plain
    array the general eigenvalue path. NaN entries mark invalid or non-unique points, and
    ``diagnostics`` says which (as diffrax returns a solution with its result code).

    Attributes:
      p1, p2, p3, p4: populations of |++>, |+->, |-+>, |-->.
      c_re, c_im: real and imaginary parts of the coherence ``rho_23 = <+-|rho|-+>`` (kept
        real: complex arithmetic does not vectorise as well on CPU).
      diagnostics: the :class:`Diagnostics` of the solve that produced the state (``None``
        for a state built by hand or by :meth:`from_matrix`).

    Example:
      >>> import jaxtls
      >>> s = jaxtls.steady_state(jaxtls.Model(T=[20.0, 0.1], J=[1.0, 1000.0], K=[0.0, 1000.0]))
      >>> round(float(s.c_re), 4), bool(s.diagnostics.unique), s.matrix().shape
      (-0.1576, True, (4, 4))
    """

    p1: Array
    p2: Array
    p3: Array
    p4: Array
    c_re: Array
    c_im: Array
    diagnostics: Diagnostics | None = None

    @property
    def c(self) -> Array:
        """The coherence rho_23 (complex), shape ``(...)``."""
        return self.c_re + 1j * self.c_im

    @property
    def entries(self) -> tuple[Array, ...]:
        """``(p1, p2, p3, p4, c_re, c_im)`` (the state without its diagnostics)."""
        return (self.p1, self.p2, self.p3, self.p4, self.c_re, self.c_im)

    @property
    def populations(self) -> Array:
        """``(..., 4)`` populations."""
        return jnp.stack([self.p1, self.p2, self.p3, self.p4], axis=-1)

    @property
    def batch_shape(self) -> tuple[int, ...]:
        """The batch shape ``(...)`` (the matrix is ``batch_shape + (4, 4)``)."""
        return tuple(jnp.shape(self.p1))

    def matrix(self) -> Array:
        """The ``(..., 4, 4)`` complex128 density matrix (NaN everywhere on NaN points)."""
        p1, p2, p3, p4, c = self.p1, self.p2, self.p3, self.p4, self.c
        z = jnp.where(jnp.isnan(p1), jnp.nan, 0.0)
        p1, p2, p3, p4, z = (jnp.asarray(x, jnp.complex128) for x in (p1, p2, p3, p4, z))
        c = jnp.asarray(c, jnp.complex128)
        rows = [[p1, z, z, z], [z, p2, c, z], [z, jnp.conj(c), p3, z], [z, z, z, p4]]
        return jnp.stack([jnp.stack(r, axis=-1) for r in rows], axis=-2)

    @classmethod
    def from_matrix(cls, rho, *, check: bool = True) -> XState:
        """The ``XState`` of a ``(..., 4, 4)`` density matrix whose only off-diagonal entries
        are rho_23 and rho_32 (an explicit conversion: the measures then use the closed forms).

        Entries outside that pattern larger than 1e-12 of the largest entry raise eagerly
        (``check=True``); inside ``jit`` such points are NaN.

        Example:
          >>> import jaxtls, jax.numpy as jnp
          >>> bell = jnp.zeros((4, 4)).at[1:3, 1:3].set(0.5)
          >>> float(jaxtls.negativity(jaxtls.XState.from_matrix(bell)))
          0.5
        """
        rho = jnp.asarray(rho)
        off = jnp.abs(jnp.where(_C_MASK, 0.0, rho)).max(axis=(-2, -1))
        bad = off > 1e-12 * jnp.maximum(jnp.abs(rho).max(axis=(-2, -1)), 1e-300)
        if check and _is_concrete(bad) and bool(jnp.any(bad)):
            raise ValueError(
                "XState.from_matrix: rho has entries outside the diagonal and rho_23 (at batch "
                f"index {_first(np.asarray(bad))}); use the measures on the matrix itself"
            )
        p = jnp.real(jnp.diagonal(rho, axis1=-2, axis2=-1))
        c = rho[..., 1, 2]
        vals = (p[..., 0], p[..., 1], p[..., 2], p[..., 3], jnp.real(c), jnp.imag(c))
        return cls(*(jnp.where(bad, jnp.nan, v) for v in vals))


_C_MASK = np.eye(4, dtype=bool)
_C_MASK[1, 2] = _C_MASK[2, 1] = True


def density_matrix(rho) -> Array:
    """The ``(..., 4, 4)`` complex128 density matrix of a state: an :class:`XState` (built on
    request) or an array (returned as a complex128 array).

    Example:
      >>> import jaxtls
      >>> s = jaxtls.steady_state(jaxtls.Model(T=[20.0, 0.1], J=[1.0, 1000.0], K=[0.0, 1000.0]))
      >>> jaxtls.density_matrix(s).shape
      (4, 4)
    """
    if isinstance(rho, XState):
        return rho.matrix()
    return jnp.asarray(rho, jnp.complex128)


def _gth(Q, M=None):
    """Stationary vector of a 4-state rate matrix by GTH elimination.

    ``Q[i][j]`` is the rate j -> i (diagonal ignored); ``M`` the same built from magnitudes,
    used only to measure cancellation (``None`` when every rate is non-negative, ``M = Q``).
    Returns the unnormalised vector and the smallest relative pivot.
    """
    Q = [row[:] for row in Q]
    M = None if M is None else [row[:] for row in M]
    inv, margin = {}, None
    for k in (3, 2, 1):
        s = sum(Q[i][k] for i in range(k))
        inv[k] = 1.0 / jnp.where(s != 0, s, 1.0)
        if M is None:
            rel = jnp.where(s > 0, 1.0, 0.0)
        else:
            ms = sum(M[i][k] for i in range(k))
            inv_ms = 1.0 / jnp.where(ms != 0, ms, 1.0)
            rel = jnp.where(ms > 0, s * inv_ms, 0.0)
        margin = rel if margin is None else jnp.minimum(margin, rel)
        for i in range(k):
            scaled = Q[i][k] * inv[k]
            for j in range(k):
                if i != j:
                    Q[i][j] = Q[i][j] + scaled * Q[k][j]
                    if M is not None:
                        M[i][j] = M[i][j] + M[i][k] * inv_ms * M[k][j]
    pi = [jnp.ones_like(Q[1][0])]
    for k in (1, 2, 3):
        pi.append(sum(Q[k][j] * pi[j] for j in range(k)) * inv[k])
    return pi, margin


def _is_zero(x) -> bool:
    """A structural zero: the Python number 0 (symmetric coupling's mixing channel)."""
    return isinstance(x, (int, float)) and x == 0


def _mul(a, b):
    return 0.0 if _is_zero(a) or _is_zero(b) else a * b


def _sum(terms):
    """Sum of the terms that are not structural zeros (0.0 if none)."""
    terms = [t for t in terms if not _is_zero(t)]
    return functools.reduce(lambda x, y: x + y, terms) if terms else 0.0


def _bell_matrix(ch):
    """The generator of the real 6-unknown block, rows/columns (P1, P+, P-, P4, u, v), as
    nested lists (the equations of the module docstring; its columns 0-3 sum to zero). Entries
    that are always zero are the Python number 0.0, and so are those of ``c``, ``c_up`` when
    they are (symmetric coupling): :func:`_adjoint` skips them."""
    a, b, c, au, bu, cu = ch.a, ch.b, ch.c, ch.a_up, ch.b_up, ch.c_up
    g, det, w = ch.gamma_phi, ch.detuning, 2.0 * ch.exchange
    m, gam = 0.5 * g, a + b + au + bu
    d = 0.0 if _is_zero(c) and _is_zero(cu) else c - cu
    z = 0.0
    return [
        [-(au + bu), a, b, z, _mul(-2.0, c), z],
        [au, -(a + au + m), m, a, d, det],
        [bu, m, -(b + bu + m), b, d, -det],
        [z, au, bu, -(a + b), _mul(2.0, cu), z],
        [_mul(-1.0, cu), _mul(0.5, d), _mul(0.5, d), c, -0.5 * gam, w],
        [z, -0.5 * det, 0.5 * det, z, -w, -(0.5 * gam + g)],
    ]


def _solve_lin(A, r):
    """``A x = r`` for small systems given as nested lists of ``(...)`` arrays (unrolled
    elimination: vectorises over the batch; structural zeros skipped)."""
    n = len(r)
    A = [row[:] for row in A]
    r = r[:]
    for k in range(n):
        inv = 1.0 / A[k][k]
        for i in range(k + 1, n):
            f = _mul(A[i][k], inv)
            for j in range(k + 1, n):
                A[i][j] = _sum([A[i][j], -_mul(f, A[k][j])])
            r[i] = _sum([r[i], -_mul(f, r[k])])
    x = [None] * n
    for k in range(n - 1, -1, -1):
        acc = _sum([r[k]] + [-_mul(A[k][j], x[j]) for j in range(k + 1, n)])
        x[k] = acc / A[k][k]
    return x


def _adjoint(M, scale, r):
    """``(M^T + scale w w^T) l = r`` (``w`` = (1, 1, 1, 1, 0, 0)): the coherences (u, v)
    eliminated first through their 2x2 block (determinant ``g_u g_v + 4 Omega^2 > 0``), as
    in the forward solve, then a 4x4 system (a 6x6 elimination costs 5x more on CPU).
    Structural zeros of ``M`` (Python 0.0) are skipped: for symmetric coupling the
    populations do not feed ``u`` (measured, CPU ns per point of the gradient of
    ``negativity(solver(m))`` at 1e5 / 1e6 points, one jitted call: closed form 821 -> 588 /
    1023 -> 828, general 736 -> 571 / 930 -> 758; in blocks, general 319 -> 271)."""
    B = [[M[4][4], M[5][4]], [M[4][5], M[5][5]]]  # (M_qq)^T
    det = B[0][0] * B[1][1] - B[0][1] * B[1][0]
    det = jnp.where(det != 0, det, 1.0)
    Bi = [[B[1][1] / det, -B[0][1] / det], [-B[1][0] / det, B[0][0] / det]]
    # Dt[i][a] = M[4 + a][i] (to the populations), Ct[a][j] = M[j][4 + a] (from them)
    BiC = [
        [_sum([_mul(Bi[a][0], M[j][4]), _mul(Bi[a][1], M[j][5])]) for j in range(4)]
        for a in range(2)
    ]
    Bir = [_sum([_mul(Bi[a][0], r[4]), _mul(Bi[a][1], r[5])]) for a in range(2)]
    S = [
        [
            _sum([M[j][i] + scale, -_mul(M[4][i], BiC[0][j]), -_mul(M[5][i], BiC[1][j])])
            for j in range(4)
        ]
        for i in range(4)
    ]
    rp = [_sum([r[i], -_mul(M[4][i], Bir[0]), -_mul(M[5][i], Bir[1])]) for i in range(4)]
    lp = _solve_lin(S, rp)
    lq = [_sum([Bir[a]] + [-_mul(BiC[a][j], lp[j]) for j in range(4)]) for a in range(2)]
    return lp + lq


def _implicit_derivative(fn):
    """``fn`` (model -> (entries, unique, margin)) with the derivative of the entries from
    the stationary equations instead of through the solver's elimination (a custom JVP:
    forward mode, and reverse mode by its transpose).

    The state ``x`` solves ``M(ch) x = 0``, ``w.x = 1`` (``w`` = trace, the left null vector
    of ``M``; ``ch`` the Bell channel rates, ``M`` linear in them). A tangent ``dch`` moves it
    by ``dx`` with ``(M + s w w^T) dx = -M(dch) x`` (``s`` a rate scale; the rank-one term
    removes the null space and keeps ``w.dx = 0``, since ``w^T M(dch) = 0``): one small linear
    solve, the same whichever solver made the state. ``margin`` gets no derivative; invalid
    points and points without a unique state get zero tangents.
    """

    @jax.custom_jvp
    def solve(model):
        return fn(model)

    @solve.defjvp
    def solve_jvp(primals, tangents):
        (model,), (dmodel,) = primals, tangents
        values, unique, margin = out = fn(model)
        # invalid points too get the regular stand-in and zero tangents: with their own
        # (possibly singular) generator, a zero cotangent times an infinite coefficient
        # made the gradient of every shared leaf NaN in reverse mode
        good = unique & is_valid(model)
        p1, p2, p3, p4, cr, ci = (jnp.where(good, v, 0.0) for v in values)
        mean = 0.5 * (p2 + p3)
        x = [p1, mean + cr, mean - cr, p4, 0.5 * (p2 - p3), -ci]
        ch, dch = jax.jvp(bell_channels, (model,), (dmodel,))
        if model.symmetric:  # no mixing channel: c = c_up = 0 exactly, tangents too
            ch, dch = (t._replace(c=0.0, c_up=0.0) for t in (ch, dch))
        eye = [[float(i == j) for j in range(6)] for i in range(6)]
        M = [
            [v if _is_zero(v) else jnp.where(good, v, -eye[i][j]) for j, v in enumerate(row)]
            for i, row in enumerate(_bell_matrix(ch))
        ]  # a regular stand-in where there is no unique state (off-diagonal zeros stay)
        dM = _bell_matrix(dch)
        scale = ch.a + ch.b + ch.a_up + ch.b_up
        scale = jnp.where(good & (scale > 0), scale, 0.0)  # stand-in: M + s w w^T = -1
        r = [-_sum([_mul(dM[i][j], x[j]) for j in range(6)]) for i in range(6)]
        Mt = [[M[j][i] for j in range(6)] for i in range(6)]
        dx = [jnp.where(good, v, 0.0) for v in _adjoint(Mt, scale, r)]
        dP1, dPp, dPm, dP4, du, dv = dx
        dmean = 0.5 * (dPp + dPm)
        dvalues = (dP1, dmean + du, dmean - du, dP4, 0.5 * (dPp - dPm), -dv)
        zero_bool = np.zeros(jnp.shape(unique), jax.dtypes.float0)
        return out, (dvalues, zero_bool, jnp.zeros_like(margin))

    return solve


def _general(model: Model):
    ch = bell_channels(model)
    a, b, c, au, bu, cu = ch.a, ch.b, ch.c, ch.a_up, ch.b_up, ch.c_up
    gam = a + b + au + bu
    # (u, v) decay at g_u = gam/2, g_v = gam/2 + gamma_phi and rotate into each other at
    # w = 2 Omega; their 2x2 system has determinant g_u g_v + w^2 = den4 / 4.
    w = 2.0 * ch.exchange
    den4 = gam * (gam + 2 * ch.gamma_phi) + 4 * w * w
    den4_safe = jnp.where(den4 > 0, den4, 1.0)
    det = ch.detuning
    m = 0.5 * ch.gamma_phi + det * det * gam / den4_safe
    zero = jnp.zeros_like(a)
    # State order for the elimination: 0 = |1>, 1 = psi+, 2 = |4>, 3 = psi-. Eliminating psi-
    # first puts the nearly dark state's (tiny, accurate) outflow into a pivot of its own.
    Q = [
        [zero, a, zero, b],  # into |1>
        [au, zero, a, m],  # into psi+
        [zero, au, zero, bu],  # into |4>
        [bu, m, b, zero],  # into psi-
    ]
    # Sources s_u = ku.P/2, s_v = kv.P/2 of (u, v); u and v feed back into each population
    # with coefficients hu, hv.
    d = c - cu
    hu = [-2 * c, d, 2 * cu, d]
    ku = [-2 * cu, d, 2 * c, d]
    hv = [zero, det, zero, -det]
    kv = [zero, -det, zero, det]
    if model.symmetric:  # c = c_up = 0: a plain rate matrix, subtraction-free elimination
        pi, margin = _gth(Q)
    else:
        # hu ku^T g_v + hu kv^T w - hv ku^T w over the determinant (hv kv^T g_u is in m)
        f_uu = (gam + 2 * ch.gamma_phi) / den4_safe
        f_x = 2 * w / den4_safe

        def extra(i, j):
            return hu[i] * ku[j] * f_uu + (hu[i] * kv[j] - hv[i] * ku[j]) * f_x

        Qe = [[Q[i][j] + extra(i, j) for j in range(4)] for i in range(4)]
        Me = [[Q[i][j] + jnp.abs(extra(i, j)) for j in range(4)] for i in range(4)]
        pi, margin = _gth(Qe, Me)
    total = pi[0] + pi[1] + pi[2] + pi[3]
    P = [x / total for x in pi]
    s_u = 0.5 * sum(ku[i] * P[i] for i in range(4))
    s_v = 0.5 * sum(kv[i] * P[i] for i in range(4))
    # (u, v) = ([g_v s_u + w s_v], [g_u s_v - w s_u]) / (g_u g_v + w^2)
    u = (2 * (gam + 2 * ch.gamma_phi) * s_u + 4 * w * s_v) / den4_safe
    v = (2 * gam * s_v - 4 * w * s_u) / den4_safe
    P1, Pp, P4, Pm = P
    x = 0.5 * (Pp - Pm)
    mean = 0.5 * (Pp + Pm)
    unique = (margin > _PIVOT_TOL) & (gam > 0)
    return (P1, mean + u, mean - u, P4, x, -v), unique, margin


def _closed(model: Model):
    J, K = model.J1, model.K
    sym = bath_all(model.J1 == model.J2)
    delta = jnp.asarray(model.delta)
    wd, wu = bath_weights(model.T, delta[..., None])
    D, U = bath_sum(J * wd), bath_sum(J * wu)
    Kd, Ku = bath_sum(K * wd), bath_sum(K * wu)
    # Work on the side of the nearer non-unique manifold (K = +J or K = -J): there
    # eps = sum (J - sgn K) w >= 0 is a sum of non-negative terms. c is odd in K.
    sgn = jnp.where(Kd + Ku < 0, -1.0, 1.0)
    e = J - sgn[..., None] * K
    ed, eu = bath_sum(e * wd), bath_sum(e * wu)
    # Y = ed U - eu D = sum_{n<m} (wd_n wu_m - wu_n wd_m)(e_n J_m - e_m J_n): exactly 0 at
    # equal temperatures, free of the cancellation of the two products.
    wd_, wu_, e_, J_ = (per_bath(x) for x in (wd, wu, e, J))
    Y = jnp.zeros_like(D)
    for i in range(len(J_)):
        for j in range(i + 1, len(J_)):
            Y = Y + (wd_[i] * wu_[j] - wu_[i] * wd_[j]) * (e_[i] * J_[j] - e_[j] * J_[i])
    S = D + U
    DmU = delta * bath_sum(J)  # D - U = delta sum_n J_n, exactly
    alpha = S + model.xi * D
    # Dephasing, plus the detuning through alpha -> alpha + i detuning (end of sec. III B);
    # the exchange w = 2 Omega rotates (p2 - p3)/2 into Im rho_23 and back, which weakens
    # the detuning's mixing of psi+ and psi-: S alpha + w^2 replaces S alpha.
    det, w = delta * model.detuning, 2.0 * delta * model.exchange
    rot = S * alpha + w * w
    rot_safe = jnp.where(rot > 0, rot, 1.0)
    gphi = model.xi * D + det * det * S / rot_safe
    eps = ed + eu
    E = ed * (D * D + 3 * U * U) + eu * (3 * D * D + U * U)
    # Denominator of eq. (23) (times beta^2 D^2 / gamma^2), as a sum of non-negative terms.
    den = 4 * Y * Y + (gphi + eps) * S**3 + E * sgn * (Kd + Ku)
    unique = (den > 0) & sym
    c = sgn * Y * DmU * S / jnp.where(unique, den, 1.0)
    S2 = jnp.where(S > 0, S * S, 1.0)
    sY = sgn * Y  # = D Ku - U Kd
    # Eq. (24) multiplied out.
    p1 = (D * D + c * (2 * D * Kd - sY)) / S2
    p2 = (D * U - c * (Ku * U + Kd * D)) / S2
    p4 = (U * U + c * (sY + 2 * U * Ku)) / S2
    y = det * c * S / rot_safe
    u = -w * det * c / rot_safe  # (p2 - p3)/2, non-zero with detuning and exchange together
    margin = jnp.where(unique, den / jnp.where(S > 0, S**4, 1.0), 0.0)
    return (p1, p2 + u, p2 - u, p4, c, y), unique, margin


def _raise_if_bad(model: Model, diag: Diagnostics, name: str, solver: str) -> None:
    """The one error path: eagerly, and at run time under ``jit`` for ``check=True``."""
    valid, unique = np.asarray(diag.valid), np.asarray(diag.unique)
    if not valid.all():
        validate(model)  # names the parameter and the rule (the table of jaxtls.model.rules)
        raise ValueError(f"{name}: invalid parameters at batch index {_first(~valid)}")
    finite = np.asarray(diag.finite)
    if not finite.all():
        raise ValueError(
            f"{name}: the steady state at batch index {_first(~finite)} cannot be computed "
            "in float64 (overflow even after rescaling the rates, e.g. a temperature above "
            "~1e150 Delta)"
        )
    if not unique.all():
        at = f" at batch index {_first(~unique)}" if np.ndim(unique) else ""
        if solver == "closed_form" and not model.symmetric:
            raise ValueError(
                f"{name}: closed_form needs symmetric coupling, J1 = J2 (J given as one array); "
                "use steady_state for an asymmetric model"
            )
        head = f"{name}: the steady state is not unique{at}: "
        raise ValueError(
            head + "a state is dark and stationary. Either the two TLS are coupled to the "
            "environment in the same way (K_n = +-J_n on every bath, xi = 0, no detuning; the "
            "exchange does not help), or they are coupled along one direction at zero "
            "temperature with detuning K_n = exchange (J1_n - J2_n), or a TLS is coupled to "
            "nothing and the exchange is 0. Pass check=False to get NaN for such points "
            "instead of this error."
        )


def _first(mask) -> tuple[int, ...]:
    idx = np.argwhere(np.atleast_1d(mask))[0]
    return tuple(int(i) for i in idx) if np.ndim(mask) else ()


def _exponents(m: Model) -> Array:
    """Per point, the power of 2 ``e`` such that ``2^-e`` brings the largest rate (thermal
    factors included) to [1/4, 1), where it lies outside [2^-128, 2^128]; else 0."""
    delta = jnp.asarray(m.delta)
    # delta (1 + n) <= delta + T: the largest rate (times delta) within a factor 2, no exp
    scale = per_bath(jnp.maximum(m.J1, m.J2) * (delta[..., None] + m.T))
    top = functools.reduce(jnp.maximum, scale)  # unrolled: no slow reduce kernel on CPU
    top = jnp.maximum(top, delta * jnp.maximum(jnp.abs(m.detuning), jnp.abs(m.exchange)))
    _, e = jnp.frexp(jnp.where(jnp.isfinite(top) & (top > 0), top, 1.0))
    # Only rates outside [2^-128, 2^128] are rescaled: inside, the smallest products of the
    # elimination (cubes of the slowest rates) are safer at the scale the user chose.
    return jax.lax.stop_gradient(jnp.where(jnp.abs(e) > 128, jnp.clip(e, -1000, 1000), 0))


def _normalised(m: Model, e: Array) -> Model:
    """The same model with every rate (J, K, detuning, exchange) scaled by ``2^-e``.

    The steady state depends only on ratios of rates, and a power of 2 scales exactly, so
    the result is bit for bit that of the model as given wherever that one neither
    overflows nor underflows; extreme scales (1e-170, 1e160, J T > 1e77) then solve too.
    """
    s = jnp.ldexp(1.0, -e)
    J = m.J * s[..., None] if m.symmetric else (m.J1 * s[..., None], m.J2 * s[..., None])
    return Model.tree_unflatten(
        None, [m.T, J, m.K * s[..., None], m.xi, m.delta, m.detuning * s, m.exchange * s]
    )


def _rescaled(fn, m: Model):
    """``fn`` on the model, rescaled only if some point of the batch needs it: one cheap
    pass decides, and the common case runs without the rescaling (which costs more than the
    solve itself on CPU: it materialises every scaled leaf). Under a user's ``vmap`` the
    ``cond`` becomes a select and both run (same result). The ``cond`` also keeps the
    gradient fast: its branches compile as separate computations, and without it XLA fuses
    the blocked gradient of ``negativity(closed_form(m))`` 2.4x slower (measured, CPU ns per
    point at 1e5 points in blocks: 815 vs 342 with the implicit derivative, 908 vs 679 by
    autodiff; ``lax.optimization_barrier`` on the rule's primal values gained nothing)."""
    e = _exponents(m)
    return jax.lax.cond(jnp.any(e != 0), lambda m: fn(_normalised(m, e)), fn, m)


def _rescaled_always(fn, m: Model):
    """``fn`` on the model rescaled per point, without a ``cond``: the values and derivatives
    of :func:`_rescaled` (``2^0 = 1`` scales nothing; to rounding, as XLA fuses each program
    its own way). For a single point (batch shape ``()``): that is what a ``vmap`` maps (the
    optimizer's starts, ``detuning_tolerance``, ``sweep``, a user's ``jax.vmap``), and there
    the ``cond``'s predicate is batched, the ``cond`` becomes a select and both branches run;
    this runs one solver instead of two (measured, ``detuning_tolerance`` on 64 points,
    compile / run: forward 9.8 s / 9.8 ms -> 5.6 s / 3.2 ms, gradient 31.5 s / 25 ms ->
    9.3 s / 3.8 ms; an optimizer search, 64 starts, compile 10.3 -> 5.9 s). On a batch it
    is slower (it materialises the scaled leaves): batches keep the ``cond``."""
    return fn(_normalised(m, _exponents(m)))


def _nan_unless_finite(v):
    """0 where ``v`` is finite, else NaN; no derivative. Masking with ``where(isfinite(v),
    v, nan)`` instead makes the reverse pass select on ``v`` itself, which splits XLA's fused
    forward and backward loops (measured, gradient of ``negativity(closed_form(m))`` in
    blocks, CPU ns per point at 1e5 points, one run: 386 vs 296)."""
    return jax.lax.stop_gradient(jnp.where(jnp.isfinite(v), 0.0, jnp.nan))


def _make(fn):
    def impl(m):
        # dispatch on the (static) batch shape, never on values: one point -> no cond
        rescale = _rescaled_always if m.batch_shape == () else _rescaled
        values, unique, margin = rescale(fn, m)
        valid = is_valid(m)
        ok = valid & unique  # depends on the inputs and the pivots only, not on the outputs:
        # each entry's mask then fuses into that entry's own loop (a mask shared by all six
        # entries forced XLA to materialise them all first: 2.7x the cost of the solve)
        state = [jnp.where(ok, v, jnp.nan) + _nan_unless_finite(v) for v in values]
        # only a valid, unique point can fail to compute (float64 overflow); its entries are
        # NaN then. Computed only where the diagnostics are used (XLA drops it otherwise).
        finite = ~ok | jnp.isfinite(sum(values))
        diag = Diagnostics(valid, unique, margin, finite)
        return XState(*state, diagnostics=diag)

    return impl


_impls = {
    "general": _make(_implicit_derivative(_general)),
    "closed_form": _make(_implicit_derivative(_closed)),
}
_jitted = {k: jax.jit(v) for k, v in _impls.items()}


def _solve(model: Model, solver: str, check: bool | None, caller: str) -> XState:
    if solver not in _impls:
        raise ValueError(f"solver must be 'general' or 'closed_form', got {solver!r}")
    if check not in (None, True, False):
        raise ValueError(f"check must be None, True or False, got {check!r}")
    leaves, treedef = jax.tree_util.tree_flatten(model)
    if all(_is_concrete(x) for x in leaves):
        state = _eager(solver, model)
        if check is not False:
            _raise_if_bad(model, state.diagnostics, caller, solver)
        return state
    state = _impls[solver](model)
    if check:  # inside jit: the same error, raised at run time by a host callback

        def host(leaves, valid, unique, finite):
            m = jax.tree_util.tree_unflatten(treedef, [np.asarray(x) for x in leaves])
            d = Diagnostics(valid, unique, 0.0, finite)
            _raise_if_bad(m, d, caller, solver)

        d = state.diagnostics
        jax.debug.callback(host, leaves, d.valid, d.unique, d.finite)
    return state


#: Eager calls on more points than :data:`EAGER_MAX` run in chunks of this many (one
#: compiled shape, :func:`jaxtls.batching.map_model_chunks`, the last chunk overlapping the
#: one before): memory bounded by the chunk, not the batch, and the intermediates in cache.
#: Inside a user's jit nothing is chunked (:func:`jaxtls.blocked` does it there). Measured
#: at 1e6 points, chunks of 2^12 ... 2^16 (one interleaved run, load 4, wall / CPU ns per
#: point): closed form 106/106, 103/115, 74/106, 80/108, 95/114; general 91/144, 104/141,
#: 96/128, 106/135, 103/145; one call on 1e5 points 83/93 and 77/117.
CHUNK = 1 << 14
#: Up to this many points an eager call is one compiled call (measured, closed form at 2^18
#: points: 79 ns per point in one call, 105 in chunks; above, one call falls out of cache).
EAGER_MAX = 1 << 18


def _eager(solver: str, model: Model) -> XState:
    """The eager solve: one jitted call, or on CPU above :data:`EAGER_MAX` points chunks of
    :data:`CHUNK` points (:func:`jaxtls.batching.map_model_chunks`: shared leaves whole,
    batched ones as views); the next chunk computes while this one is copied out. The values
    equal one jitted call's to rounding, not bit for bit: XLA's rounding depends on the
    array shape (a reviewer measured up to 2.7 ulp, 6919 of 262145 points of p4, and the
    same between one call on 262144 and on 262145 points).
    Measured against the former padded 2^16-point chunks concatenated at the end (2 cores
    shared with other jobs, load 4-5, CPU ns per point): ``closed_form`` at 1e6 points 172 ->
    108, at 4e6 159 -> 102; ``steady_state`` 183 -> 125 and 181 -> 126; one jitted call on the
    whole batch 190-191 (closed form), 219-246 (general).
    """
    shape = model.batch_shape
    n = int(np.prod(shape))
    if n <= EAGER_MAX or jax.default_backend() != "cpu":  # accelerators: one call
        return _jitted[solver](model)
    from .batching import map_model_chunks  # batching builds on this module

    return map_model_chunks(_jitted[solver], model, CHUNK)


_CHECK_DOC = """check: what to do with invalid points or points without a unique steady state.
        ``None`` (default): raise ``ValueError`` when called eagerly, NaN under ``jit``/
        ``vmap``/``grad`` (the state's ``diagnostics`` tell why). ``True``: raise under ``jit``
        too, at run time (a host callback; ``jax.errors.JaxRuntimeError`` carrying the same
        message; costs a device-to-host transfer of the diagnostics). ``False``: never raise."""


def steady_state(model: Model, *, solver: str = "general", check: bool | None = None) -> XState:
    """Steady state of the general model: any number of baths, asymmetric couplings
    ``(J1, J2)``, dephasing ``xi``, detuning and exchange.

    Args:
      model: a :class:`jaxtls.Model`, batch shape ``(...)``.
      solver: ``"general"`` (default; the elimination described in this module) or
        ``"closed_form"`` (the same as :func:`closed_form`: symmetric coupling only).
      CHECK

    Returns:
      an :class:`XState` (populations and rho_23 in the basis |++>, |+->, |-+>, |-->, shape
      ``(...)`` each, and the solve's :class:`Diagnostics`); ``.matrix()`` gives the
      ``(..., 4, 4)`` complex128 density matrix.

    Example:
      >>> import jaxtls
      >>> rho = jaxtls.steady_state(jaxtls.Model(T=[20.0, 0.1], J=[1.0, 1000.0], K=[0.0, 1000.0]))
      >>> round(float(jaxtls.negativity(rho)), 4), rho.matrix().shape
      (0.0325, (4, 4))
    """
    return _solve(model, solver, check, "steady_state")


def closed_form(model: Model, *, check: bool | None = None) -> XState:
    """The paper's closed form (eqs. 23-24) for symmetric coupling ``J1 = J2``.

    Written as a ratio of sums of non-negative terms, so it stays finite for ``K -> 0`` and
    accurate next to the non-unique manifold. Dephasing ``xi``, a small detuning (the
    substitution ``alpha -> alpha + i detuning``) and the exchange are included. A model with
    ``J`` given as a pair raises eagerly and is NaN under ``jit``.

    Args:
      model: a symmetric :class:`jaxtls.Model`, batch shape ``(...)``.
      CHECK

    Returns:
      an :class:`XState`, as :func:`steady_state`.

    Example:
      >>> import jaxtls, jax.numpy as jnp
      >>> m = jaxtls.Model(T=[20.0, 0.1], J=[1.0, 1000.0], K=[0.0, 1000.0])
      >>> a, b = jaxtls.closed_form(m), jaxtls.steady_state(m)
      >>> bool(jnp.allclose(a.matrix(), b.matrix(), atol=1e-12))
      True
    """
    return _solve(model, "closed_form", check, "closed_form")


def diagnose(model: Model, *, solver: str = "general") -> Diagnostics:
    """Why a point is NaN: validity, uniqueness and the relative distance to non-uniqueness;
    the ``diagnostics`` of ``steady_state(model, check=False)`` (or of ``closed_form`` for
    ``solver="closed_form"``). Works under ``jit``.

    Example:
      >>> import jaxtls
      >>> d = jaxtls.diagnose(jaxtls.Model(T=[1.0, 0.1], J=[1.0, 2.0], K=[1.0, 2.0]))
      >>> bool(d.valid), bool(d.unique)
      (True, False)
    """
    return _solve(model, solver, False, "diagnose").diagnostics


for _f in (steady_state, closed_form):
    _f.__doc__ = _f.__doc__.replace("CHECK", _CHECK_DOC)
