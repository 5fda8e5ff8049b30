"""Relaxation rate: the spectral gap of the full weak-coupling dynamics.

The master equation of ``physics.md`` conserves the difference m of excitation numbers between
the ket and the bra, so its Liouvillian splits into sectors, all built here from the Bell-basis
channel rates of :func:`jaxtls.bell_channels` (subtraction-free sums over baths), never from a
dense Liouvillian:

* m = 0: populations of |1>, psi+, psi-, |4> and the Bell coherence ``u + i v`` (the equations
  of :mod:`jaxtls.steady_state`), a real 6x6 generator; the trace mode is removed exactly
  (``P1 = 1 - P+ - P- - P4``), which leaves 5 decay rates.
* m = -1 (m = +1 is its conjugate): rho_{1,psi+}, rho_{1,psi-}, rho_{psi+,4}, rho_{psi-,4},
  written in the frame rotating at the Bohr frequency, so Delta drops out exactly and only the
  rates, the detuning and the exchange remain (a complex 4x4). For symmetric coupling without
  detuning it splits into the swap-even pair (psi+) and the swap-odd pair (psi-), 2x2 each.
* m = +-2: rho_14, decaying at ``Gamma/2 = (a + b + a_up + b_up)/2``.

Every block is divided by the largest rate ``s = Gamma + gamma_phi + |detuning| + 2|Omega|``
(the model is scale-free in J), so J ~ 1e-20 and J ~ 1e140 give the scaled answer.

Accuracy: the gap is found to its own relative accuracy, not to eps x the largest rate
(next to the non-unique manifold it is ~1e-15 of the rates).

* m = 0: the coherence ``(u, v)`` is eliminated at the eigenvalue ``lambda`` (a 2x2 Schur
  complement with determinant ``(g_u - lambda)(g_v - lambda) + 4 Omega^2``), which leaves a
  4-state rate matrix ``Q(lambda)`` with zero column sums, exactly as in the steady-state
  solver (there at ``lambda = 0``). Its characteristic polynomial
  ``F(lambda) = lambda^3 - e1 lambda^2 + e2 lambda - e3`` has as coefficients the sums of the
  principal minors of the Laplacian, which the all-minors matrix-tree theorem writes as sums
  over rooted spanning forests of products of rates: for symmetric coupling and real
  ``lambda`` below ``g_u`` every rate is >= 0, so e1, e2, e3 are sums of positive terms with
  relative accuracy eps. The smallest root of F is then relatively well conditioned
  (``F ~ e2 lambda - e3`` there: condition number ~2), and Newton's method on F, started from
  the eigenvalue of the scaled 5x5 block (``jnp.linalg.eigvals``, stop-gradient), reaches it in
  a few steps. ``F`` has poles only at ``Re lambda >= Gamma/2``; a slowest m = 0 eigenvalue at
  or above ``Gamma/4`` (large, hence already accurate) is polished instead by a Newton step on
  ``det(lambda - A5)``. For asymmetric coupling the Schur complement adds rank-one terms of
  either sign (as in the steady-state solver), and the coefficients lose the digits those
  terms cancel.
* m = -1, symmetric without detuning: each 2x2 block is solved in closed form in the variable
  ``mu = lambda + i Omega`` (or ``- i Omega``), where the constant term
  ``l1 a + l1 l3 + a_up l3 + 2 i Omega (l1 + a_up)`` is subtraction-free; the slow root is
  ``d / r_big``. Otherwise a Newton step on ``det(lambda - N4)`` polishes the eigenvalue of the
  scaled block (accurate to eps x the largest rate).

Gradients never go through an eigensolver: each refined root ends with one Newton step from
its stop-gradient value, whose derivative is the implicit-function derivative
``-dF/dtheta / F'``. Where the minimum is attained by eigenvalues degenerate by symmetry (e.g.
``K = 0``, ``J1 = J2``: the psi+ and psi- coherences), the sectors and the two 2x2 blocks are
separate smooth functions and the derivative is right along every direction that keeps the
symmetry. Along directions that split them (``K`` at ``K = 0``) the two eigenvalues cross and
the gap has a kink: the returned derivative is then the mean of the two branches' derivatives
(``jnp.minimum``'s rule at a tie; 0 at a symmetric ridge). At an exact double root inside one
block (not by a symmetry the blocks exploit), the derivative is not defined and is returned
finite but meaningless.
"""

from __future__ import annotations

import itertools
from typing import NamedTuple

import jax
import jax.numpy as jnp

from .model import Model
from .model import is_valid as _valid
from .rates import bell_channels

Array = jax.Array

_NEWTON = 4  # Newton steps on F from the eigvals start (quadratic convergence, ~1e-16 start)


class _Scaled(NamedTuple):
    a: Array
    b: Array
    c: Array
    au: Array
    bu: Array
    cu: Array
    gp: Array
    det: Array
    om: Array


def _scaled(model: Model):
    """Channel rates over their scale ``s``, benign values where invalid; ``(ch, s, ok, zero)``."""
    ch = bell_channels(model)
    valid = _valid(model) & (jnp.asarray(model.delta) > 0)
    s = ch.a + ch.b + ch.a_up + ch.b_up + ch.gamma_phi + jnp.abs(ch.detuning)
    s = s + 2 * jnp.abs(ch.exchange)
    fine = valid & (s > 0) & jnp.isfinite(s)
    inv = 1.0 / jnp.where(fine, s, 1.0)
    benign = dict(a=0.3, b=0.2, c=0.0, au=0.1, bu=0.1, cu=0.0, gp=0.1, det=0.05, om=0.1)
    vals = (ch.a, ch.b, ch.c, ch.a_up, ch.b_up, ch.c_up, ch.gamma_phi, ch.detuning, ch.exchange)
    sc = _Scaled(
        *(jnp.where(fine, x * inv, benign[k]) for k, x in zip(_Scaled._fields, vals, strict=True))
    )
    return sc, jnp.where(fine, s, 1.0), valid, valid & (s == 0)


# ----------------------------------------------------------------------------- m = 0 sector


def _m0_matrix(r: _Scaled) -> Array:
    """Trace-removed 5x5 generator on (P+, P-, P4, u, v) (real; eigenvalues = -decay rates)."""
    a, b, c, au, bu, cu, gp, det, om = r
    gam = a + b + au + bu
    m = 0.5 * gp
    d = c - cu
    z = jnp.zeros_like(a)
    # rows: dP1, dP+, dP-, dP4, du, dv; columns: P1, P+, P-, P4, u, v
    M = [
        [-(au + bu), a, b, z, -2 * c, z],
        [au, -(a + au + m), m, a, d, det],
        [bu, m, -(b + bu + m), b, d, -det],
        [z, au, bu, -(a + b), 2 * cu, z],
        [-cu, 0.5 * d, 0.5 * d, c, -0.5 * gam, 2 * om],
        [z, -0.5 * det, 0.5 * det, z, -2 * om, -(0.5 * gam + gp)],
    ]
    trace = [1.0, 1.0, 1.0, 0.0, 0.0]
    A = [[M[i][j + 1] - M[i][0] * trace[j] for j in range(5)] for i in range(1, 6)]
    return jnp.stack([jnp.stack(row, -1) for row in A], -2)


def _forests():
    """Rooted spanning forests of the complete directed graph on 4 states, by edge count k.

    Each forest is a tuple of edges ``(i, parent)``: every state of a k-subset S has one
    outgoing edge and following edges never cycles. By the all-minors matrix-tree theorem the
    sum of the principal k-minors of a column Laplacian is the sum over these forests of the
    products of the rates ``i -> parent``.
    """
    out = {}
    for k in (1, 2, 3):
        terms = []
        for S in itertools.combinations(range(4), k):
            for parents in itertools.product(range(4), repeat=k):
                f = dict(zip(S, parents, strict=True))
                if any(i == p for i, p in f.items()):
                    continue
                ok = True
                for start in S:
                    seen, x = set(), start
                    while x in f:
                        if x in seen:
                            ok = False
                            break
                        seen.add(x)
                        x = f[x]
                    if not ok:
                        break
                if ok:
                    terms.append(tuple(f.items()))
        out[k] = terms
    return out


_FORESTS = _forests()  # 12, 48 and 64 forests


def _m0_rates_at(r: _Scaled, lam):
    """Off-diagonal rates ``Q[i][j]`` (j -> i) of the populations with (u, v) eliminated at
    eigenvalue ``lam``; state order |1>, psi+, |4>, psi- (as in jaxtls.steady_state)."""
    a, b, c, au, bu, cu, gp, det, om = r
    gam = a + b + au + bu
    gu, gv, w = 0.5 * gam - lam, 0.5 * gam + gp - lam, 2.0 * om
    den = gu * gv + w * w
    inv2 = 0.5 / jnp.where(den != 0, den, 1.0)
    m = 0.5 * gp + det * det * gu * inv2
    z = jnp.zeros_like(lam)
    Q = [[z, a, z, b], [au, z, a, m], [z, au, z, bu], [bu, m, b, z]]
    d = c - cu
    hu, ku = [-2 * c, d, 2 * cu, d], [-2 * cu, d, 2 * c, d]
    hv, kv = [z, det, z, -det], [z, -det, z, det]
    f_uu, f_x = gv * inv2, w * inv2
    return [
        [
            Q[i][j] + (hu[i] * ku[j] * f_uu + (hu[i] * kv[j] - hv[i] * ku[j]) * f_x)
            if i != j
            else z
            for j in range(4)
        ]
        for i in range(4)
    ]


def _m0_charpoly(r: _Scaled, lam):
    """``F(lam) = lam^3 - e1 lam^2 + e2 lam - e3`` of ``Q(lam)`` (forest sums, see module)."""
    Q = _m0_rates_at(r, lam)
    e = {}
    for k, forests in _FORESTS.items():
        total = None
        for forest in forests:
            term = None
            for i, p in forest:
                term = Q[p][i] if term is None else term * Q[p][i]
            total = term if total is None else total + term
        e[k] = total
    return ((lam - e[1]) * lam + e[2]) * lam - e[3]


def _safe_div(x, y):
    ok = y != 0
    return jnp.where(ok, x / jnp.where(ok, y, 1.0), 0.0)


def _det_shifted(M, x):
    """``det(x I + M)`` for a small square ``M`` (..., n, n) and scalar ``x`` (...), from the
    characteristic polynomial of ``-M`` (Faddeev-LeVerrier: matrix products only). Unlike
    ``jnp.linalg.det`` its derivative stays finite where ``x I + M`` is singular, which is
    exactly where the Newton steps on it end (at an eigenvalue)."""
    n = M.shape[-1]
    eye = jnp.eye(n, dtype=M.dtype)
    A = -M  # det(x I - A)
    coeffs = [jnp.ones(M.shape[:-2], M.dtype)]  # c_n = 1, then c_{n-1}, ..., c_0
    Mk = jnp.zeros_like(M)
    for k in range(1, n + 1):
        Mk = A @ Mk + coeffs[-1][..., None, None] * eye
        coeffs.append(-jnp.trace(A @ Mk, axis1=-2, axis2=-1) / k)
    out = jnp.zeros_like(x)
    for c in coeffs:  # Horner in x
        out = out * x + c
    return out


def _det_with_safe_gradient(M, x):
    """``det(x I + M)``: the value (and its derivative in ``x``, for the Newton steps) from
    ``jnp.linalg.det``, the derivative with respect to ``M`` from :func:`_det_shifted`
    (``jnp.linalg.det``'s is NaN where ``x I + M`` is singular, i.e. at the root)."""
    sg = jax.lax.stop_gradient
    n = M.shape[-1]
    value = jnp.linalg.det(x[..., None, None] * jnp.eye(n, dtype=M.dtype) + sg(M))
    poly = _det_shifted(M, sg(x))
    return value + (poly - sg(poly))


def _newton_root(fn, lam0, steps):
    """Newton on a holomorphic ``fn`` from ``lam0``; the last step carries the derivative
    (implicit function theorem), earlier ones are stop-gradient."""
    lam = jax.lax.stop_gradient(lam0)

    def val_der(x):
        return jax.jvp(fn, (x,), (jnp.ones_like(x),))

    for _ in range(steps):
        f, df = val_der(lam)
        lam = jax.lax.stop_gradient(lam - _safe_div(f, df))
    f, df = val_der(lam)
    return lam - _safe_div(f, jax.lax.stop_gradient(df))


def _slowest(decay_ev):
    """The eigenvalue (of the decay-form matrix) with the smallest real part, and its index."""
    idx = jnp.argmin(jnp.real(decay_ev), axis=-1)
    return jnp.take_along_axis(decay_ev, idx[..., None], -1)[..., 0], idx


def _m0(r: _Scaled):
    A = _m0_matrix(r)
    ev = -jnp.linalg.eigvals(jax.lax.stop_gradient(A))  # decay form, start values only
    lam0, idx = _slowest(ev)
    gam = r.a + r.b + r.au + r.bu
    use_f = jnp.real(lam0) < 0.25 * gam  # far from the poles of F (Re >= Gamma/2)
    lam_f = _newton_root(lambda x: _m0_charpoly(r, x), jnp.where(use_f, lam0, 0.0 + 0.0j), _NEWTON)

    def det5(x):
        return _det_with_safe_gradient(A.astype(x.dtype), x)  # det(x - (-A))

    lam_d = _newton_root(det5, jnp.where(use_f, 0.5 + 0.0j, lam0), 1)
    lam = jnp.where(use_f, lam_f, lam_d)
    return ev, idx, lam


# ----------------------------------------------------------------------------- m = -1 sector


def _m1_matrix(r: _Scaled) -> Array:
    """Decay-form 4x4 ``N`` (d x/dt = -N x) on (rho_{1,+}, rho_{1,-}, rho_{+,4}, -rho_{-,4}),
    rotating frame (no Delta)."""
    a, b, c, au, bu, cu, gp, det, om = r
    q = 0.25 * gp
    x12 = -0.5j * det + 0.5 * (c - cu)
    x34 = -0.5j * det - 0.5 * (c - cu)
    B = [
        [1j * om - 0.5 * (a + 2 * au + bu) - q, x12, a, c],
        [x12, -1j * om - 0.5 * (b + 2 * bu + au) - q, c, b],
        [au, cu, -1j * om - 0.5 * (2 * a + b + au) - q, x34],
        [cu, bu, x34, 1j * om - 0.5 * (2 * b + a + bu) - q],
    ]
    B = [[jnp.asarray(x, jnp.complex128) + 0 * a for x in row] for row in B]
    return -jnp.stack([jnp.stack(row, -1) for row in B], -2)


def _pair(a, au, b, bu, gp, om):
    """Decay rates (small, big) of the 2x2 block [[P - i om, -a], [-au, Q + i om]],
    P = au + l1, Q = a + l3, in mu = lambda + i om (subtraction-free constant term)."""
    l1 = 0.5 * (a + bu) + 0.25 * gp
    l3 = 0.5 * (b + au) + 0.25 * gp
    t = (au + l1 + a + l3) + 2j * om
    d = (l1 * a + l1 * l3 + au * l3) + 2j * om * (l1 + au)
    s = jnp.sqrt(t * t - 4 * d)
    s = jnp.where(jnp.real(jnp.conj(t) * s) >= 0, s, -s)
    big = 0.5 * (t + s)
    small = _safe_div(d, big)
    return jnp.real(small), jnp.real(big)


def _m1(r: _Scaled, after=0.0):
    N = _m1_matrix(r) + after  # after: a zero that orders this sector's LAPACK calls
    ev = jnp.linalg.eigvals(jax.lax.stop_gradient(N))
    lam0, idx = _slowest(ev)
    split = (r.c == 0) & (r.cu == 0) & (r.det == 0)

    def det4(x):
        return _det_with_safe_gradient(-N.astype(x.dtype), x)

    lam_d = jnp.real(_newton_root(det4, jnp.where(split, 0.5 + 0.0j, lam0), 1))
    se, be = _pair(r.a, r.au, r.b, r.bu, r.gp, r.om)  # swap-even: psi+
    so, bo = _pair(r.b, r.bu, r.a, r.au, r.gp, -r.om)  # swap-odd: psi-
    slow = jnp.where(split, jnp.minimum(se, so), lam_d)
    closed = jnp.stack([se, be, so, bo], -1)
    return ev, idx, slow, split, closed


def _sectors(model: Model):
    r, s, valid, zero = _scaled(model)
    ev0, i0, lam0 = _m0(r)
    # Order the m = -1 LAPACK calls (eigvals, det) after the m = 0 ones (a zero that XLA
    # keeps, added to the m = -1 block only): run side by side, batched LAPACK calls stall
    # XLA's CPU runtime beyond ~2e4 points (lax.optimization_barrier does not prevent it:
    # measured, stalled at 1e5 points). On the block, not on the rates (``r.a + after``),
    # the rest of the m = -1 work stays free to fuse (measured, 1e5 points, compile: forward
    # 16.2 -> 5.2 s, gradient 31.0 -> 18.5 s; gradients bit for bit the same, values to
    # rounding); it ran at 1e5 and 4e5 points.
    # -0.0 in both parts: x + (-0.0) is x bit for bit, signed zeros included (+0.0 turned
    # -0.0 entries into +0.0 and changed which of two tied eigenvalues LAPACK lists first)
    after = -jnp.abs(0.0 * jax.lax.stop_gradient(jnp.real(lam0)))
    after = jnp.where(jnp.isfinite(after), after, -0.0)
    ev1, i1, lam1, split, closed = _m1(r, jax.lax.complex(after, after)[..., None, None])
    m2 = 0.5 * (r.a + r.b + r.au + r.bu)
    return r, s, valid, zero, (ev0, i0, jnp.real(lam0)), (ev1, i1, lam1, split, closed), m2


def sector_rates(model: Model) -> tuple[Array, Array, Array]:
    """Decay rates per sector: ``(m0 (..., 5), m1 (..., 4), m2 (...,))``, in the units of J.

    m0 excludes the stationary mode; m1 is the m = -1 sector (m = +1 has the same rates), m2
    the rate of rho_14. The slowest rate of each sector is the refined one of
    :func:`relaxation_rate`; the others come from ``jnp.linalg.eigvals`` of the scaled,
    Delta-free blocks (accurate to eps x the largest rate; no gradient through them), or, for
    m1 with symmetric coupling and no detuning, from the closed form of its two 2x2 blocks.
    Unordered. NaN at invalid points.
    """
    r, s, valid, zero, (ev0, i0, l0), (ev1, i1, l1, split, closed), m2 = _sectors(model)
    unit = s / jnp.asarray(model.delta)
    k0 = jnp.arange(5) == i0[..., None]
    m0 = jnp.where(k0, l0[..., None], jnp.real(ev0))
    k1 = jnp.arange(4) == i1[..., None]
    m1 = jnp.where(split[..., None], closed, jnp.where(k1, l1[..., None], jnp.real(ev1)))
    out = []
    for x in (m0, m1, m2):
        u = unit[..., None] if x.ndim > unit.ndim else unit
        v = valid[..., None] if x.ndim > valid.ndim else valid
        zz = zero[..., None] if x.ndim > zero.ndim else zero
        out.append(jnp.where(v, jnp.where(zz, 0.0, x * u), jnp.nan))
    return tuple(out)


def relaxation_rate(model: Model) -> Array:
    """Slowest decay rate of the dynamics (Liouvillian spectral gap), shape ``(...)``.

    In the units of J (``1/relaxation_rate`` is the time to reach the steady state). It tends
    to zero as the model approaches the non-unique manifold (TLS coupled identically to every
    bath, ``K_n -> +-J_n``, ``xi -> 0``, no detuning), where a second stationary state appears;
    entangled steady states near the paper's optimum live close to that manifold and are
    therefore slow to reach. The gap keeps its relative accuracy there (see the module
    docstring: forest-sum characteristic polynomial of the population block, closed-form
    coherence blocks, implicit-function gradients). NaN at invalid parameters (as the solvers,
    also under ``jit``) and at ``delta = 0``, where the Bose factors, hence the rates,
    diverge. ``jnp.linalg.eigvals`` of 5x5 and 4x4 blocks gives only start values (on a GPU
    JAX computes it with LAPACK on the host). Called eagerly it runs op by op (measured, 2
    shared cores: 54 us per point at 1e5 points, 68 at 1e6); for large batches jit it: 12.8
    us per point at 1e5-1e6 after a ~14 s compilation (in chunks of 4096 points through
    :func:`jaxtls.batching.map_model_chunks`, one compilation for any batch size).

    Example:
      >>> import jaxtls
      >>> m = jaxtls.Model(T=[0.0], J=[1.0], K=[0.0])  # one TLS decay channel each, T = 0
      >>> round(float(jaxtls.relaxation_rate(m)), 12)  # coherences decay at J/2
      0.5
    """
    r, s, valid, zero, (_, _, l0), (_, _, l1, _, _), m2 = _sectors(model)
    gap = jnp.minimum(jnp.minimum(l0, l1), m2) * (s / jnp.asarray(model.delta))
    return jnp.where(valid, jnp.where(zero, 0.0, gap), jnp.nan)
