"""Vectorised NumPy baseline of the jaxtls core, for ``bench_core.py``.

The same formulas as :mod:`jaxtls.steady_state` and :mod:`jaxtls.measures`, written with plain
NumPy on arrays (no JAX): the weights of :func:`jaxtls.bath_weights`, the closed form of the
paper's eqs. 23-24 in the subtraction-free form of ``jaxtls.steady_state._closed``, the
Bell-channel Grassmann-Taksar-Heyman (GTH) elimination of ``jaxtls.steady_state._general``, and
the X-state negativity / ``pt_min_eigenvalue`` of ``jaxtls.measures``. Invalid and non-unique
points give NaN, as in jaxtls, so both sides do the same work. The benchmark checks (untimed)
that this module agrees with jaxtls to 1e-12, so that the timing comparison is like for like.

Every function takes the fields of a :class:`jaxtls.Model` as NumPy float64 arrays of one
batch shape: ``T, J1, J2, K`` of shape ``(N, n_baths)`` and ``xi, delta, detuning`` of shape
``(N,)``. Solvers return the reduced state ``(p1, p2, p3, p4, re_c, im_c)`` (populations of
|++>, |+->, |-+>, |--> and ``rho_23 = re_c + i im_c``); the full 4x4 matrix is never built,
which is what a NumPy programmer would write.
"""

from __future__ import annotations

import numpy as np

_EPS = float(np.finfo(np.float64).eps)
_KJ_SLACK = 16 * _EPS
_PIVOT_TOL = 64 * _EPS

__all__ = [
    "bath_sum",
    "bath_weights",
    "closed_form",
    "general",
    "negativity",
    "pt_min_eigenvalue",
    "valid",
]


def bath_weights(T, delta):
    """``(delta (1 + n), delta n)`` per bath, as :func:`jaxtls.bath_weights`."""
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        warm = T > 0
        x = np.where(warm, delta / np.where(warm, T, 1.0), np.inf)  # delta/T, inf at T = 0
        pos = x > 0
        wd = np.where(pos, delta / -np.expm1(-np.where(pos, x, 1.0)), T)
        wu = wd * np.exp(-x)
    return wd, wu


def valid(T, J1, J2, K, xi, delta, detuning):
    """Physical parameters (``jaxtls.steady_state._valid``)."""
    ok = (T >= 0) & (J1 >= 0) & (J2 >= 0) & (K * K <= J1 * J2 * (1 + _KJ_SLACK))
    ok &= np.isfinite(T) & np.isfinite(J1) & np.isfinite(J2) & np.isfinite(K)
    ok = np.all(ok, axis=-1)
    return ok & (xi >= 0) & (delta >= 0) & np.isfinite(xi + delta + detuning)


def _safe(x, cond):
    return np.where(cond, x, 1.0)


def bath_sum(x):
    """Sum over the trailing bath axis, unrolled (``jaxtls.rates.bath_sum``; faster than
    ``np.sum(x, -1)`` over a short minor axis)."""
    total = x[..., 0]
    for k in range(1, x.shape[-1]):
        total = total + x[..., k]
    return total


def _pair_sum(e, J, wd, wu):
    """``sum_{n<m} (wd_n wu_m - wu_n wd_m)(e_n J_m - e_m J_n)`` (``steady_state._pair_sum``)."""
    total = np.zeros(e.shape[:-1])
    n = e.shape[-1]
    for i in range(n):
        for j in range(i + 1, n):
            weight = wd[..., i] * wu[..., j] - wu[..., i] * wd[..., j]
            total = total + weight * (e[..., i] * J[..., j] - e[..., j] * J[..., i])
    return total


def closed_form(T, J1, J2, K, xi, delta, detuning):
    """The paper's closed form (eqs. 23-24), as ``jaxtls.closed_form``; symmetric points only
    (``J1 == J2``; other points are NaN). Returns ``(p1, p2, p3, p4, re_c, im_c)``."""
    J = J1
    sym = np.all(J1 == J2, axis=-1)
    wd, wu = bath_weights(T, delta[:, None])
    D, U = bath_sum(J * wd), bath_sum(J * wu)
    Kd, Ku = bath_sum(K * wd), bath_sum(K * wu)
    sgn = np.where(Kd + Ku < 0, -1.0, 1.0)
    e_n = J - sgn[:, None] * K
    ed, eu = bath_sum(e_n * wd), bath_sum(e_n * wu)
    # Y = ed U - eu D, as a sum over bath pairs: exactly 0 at equal temperatures.
    Y = _pair_sum(e_n, J, wd, wu)
    S = D + U
    DmU = delta * bath_sum(J)
    alpha = S + xi * D
    gphi = xi * D + (delta * detuning) ** 2 / _safe(alpha, alpha > 0)
    eps = ed + eu
    E = ed * (D * D + 3 * U * U) + eu * (3 * D * D + U * U)
    den = 4 * Y * Y + (gphi + eps) * S**3 + E * sgn * (Kd + Ku)
    ok = (den > 0) & sym & valid(T, J1, J2, K, xi, delta, detuning)
    c = sgn * Y * DmU * S / _safe(den, ok)
    S2 = _safe(S * S, S > 0)
    sY = sgn * Y
    p1 = (D * D + c * (2 * D * Kd - sY)) / S2
    p2 = (D * U - c * (Ku * U + Kd * D)) / S2
    p4 = (U * U + c * (sY + 2 * U * Ku)) / S2
    y = delta * detuning * c / _safe(alpha, alpha > 0)
    out = (p1, p2, p2, p4, c, y)
    return tuple(np.where(ok, v, np.nan) for v in out)


def _gth(Q, M=None):
    """GTH stationary vector of a 4-state rate matrix (``jaxtls.steady_state._gth``);
    ``M = None`` when every rate is non-negative."""
    Q = [row[:] for row in Q]
    M = None if M is None else [row[:] for row in M]
    inv, margin = {}, None
    for k in (3, 2, 1):
        s = sum(Q[i][k] for i in range(k))
        inv[k] = 1.0 / _safe(s, s != 0)
        if M is None:
            rel = np.where(s > 0, 1.0, 0.0)
        else:
            ms = sum(M[i][k] for i in range(k))
            inv_ms = 1.0 / _safe(ms, ms != 0)
            rel = np.where(ms > 0, s * inv_ms, 0.0)
        margin = rel if margin is None else np.minimum(margin, rel)
        for i in range(k):
            scaled = Q[i][k] * inv[k]
            for j in range(k):
                if i != j:
                    Q[i][j] = Q[i][j] + scaled * Q[k][j]
                    if M is not None:
                        M[i][j] = M[i][j] + M[i][k] * inv_ms * M[k][j]
    pi = [np.ones_like(Q[1][0])]
    for k in (1, 2, 3):
        pi.append(sum(Q[k][j] * pi[j] for j in range(k)) * inv[k])
    return pi, margin


def general(T, J1, J2, K, xi, delta, detuning, symmetric=None):
    """The Bell-channel GTH solver of ``jaxtls.steady_state`` (any couplings, dephasing,
    detuning). Returns ``(p1, p2, p3, p4, re_c, im_c)``.

    ``symmetric`` (default: ``J1 is J2``, as a jaxtls Model with one J array) takes the
    subtraction-free path for ``J1 = J2``, where the mixing rates vanish.
    """
    symmetric = (J1 is J2) if symmetric is None else symmetric
    wd, wu = bath_weights(T, delta[:, None])
    mean = 0.5 * (J1 + J2)
    A, B, C = mean + K, mean - K, 0.5 * (J1 - J2)
    a, b, c = (bath_sum(wd * X) for X in (A, B, C))
    au, bu, cu = (bath_sum(wu * X) for X in (A, B, C))
    gamma_phi = xi * 0.5 * (a + b)
    det = delta * detuning
    gam = a + b + au + bu
    gam_safe = _safe(gam, gam > 0)
    decay_v = gam + 2 * gamma_phi
    m = 0.5 * gamma_phi + det**2 / _safe(decay_v, decay_v > 0)
    zero = np.zeros_like(a)
    # States: 0 = |1>, 1 = psi+, 2 = |4>, 3 = psi-; Q[i][j] is the rate j -> i.
    Q = [
        [zero, a, zero, b],
        [au, zero, a, m],
        [zero, au, zero, bu],
        [bu, m, b, zero],
    ]
    d = c - cu
    h = [-2 * c, d, 2 * cu, d]
    k = [-2 * cu, d, 2 * c, d]
    if symmetric:  # c = c_up = 0: a plain rate matrix
        pi, margin = _gth(Q)
    else:
        inv_gam = 1.0 / gam_safe
        Qe = [[Q[i][j] + h[i] * k[j] * inv_gam for j in range(4)] for i in range(4)]
        Me = [[Q[i][j] + np.abs(h[i] * k[j]) * inv_gam for j in range(4)] for i in range(4)]
        pi, margin = _gth(Qe, Me)
    total = pi[0] + pi[1] + pi[2] + pi[3]
    P1, Pp, P4, Pm = (x / total for x in pi)
    u = (k[0] * P1 + k[1] * Pp + k[2] * P4 + k[3] * Pm) / gam_safe
    x = 0.5 * (Pp - Pm)
    alpha = 0.5 * gam + gamma_phi
    y = det * x / _safe(alpha, alpha > 0)
    half = 0.5 * (Pp + Pm)
    ok = (margin > _PIVOT_TOL) & (gam > 0) & valid(T, J1, J2, K, xi, delta, detuning)
    out = (P1, half + u, half - u, P4, x, y)
    return tuple(np.where(ok, v, np.nan) for v in out)


def _block_low(pa, pb, z2):
    """Lower eigenvalue of [[pa, z], [z*, pb]] with ``z2 = |z|^2`` (``measures._block_eigs``)."""
    half = 0.5 * (pa + pb)
    r = np.sqrt(np.maximum((0.5 * (pa - pb)) ** 2 + z2, 0.0))
    high = half + r
    return np.where(high > 0, (pa * pb - z2) / _safe(high, high > 0), half - r)


def pt_min_eigenvalue(p1, p2, p3, p4, re_c, im_c):
    """Smallest eigenvalue of the partial transpose of the X state (signed)."""
    low14 = _block_low(p1, p4, re_c * re_c + im_c * im_c)
    low23 = _block_low(p2, p3, np.zeros_like(p1))
    return np.minimum(low14, low23)


def negativity(p1, p2, p3, p4, re_c, im_c):
    """Negativity of the X state, ``max(0, -lambda_14) + max(0, -lambda_23)``."""
    low14 = _block_low(p1, p4, re_c * re_c + im_c * im_c)
    low23 = _block_low(p2, p3, np.zeros_like(p1))
    return np.maximum(-low14, 0.0) + np.maximum(-low23, 0.0)
