"""Independent reference implementations (numpy / mpmath / qutip, no jax) for the tests.

Everything here follows ``/work/shared/spec/physics.md`` literally and is deliberately slow and
simple; it shares no code with ``jaxtls``. Inputs are numpy 1-D arrays over baths (scalars are
accepted too); outputs are numpy arrays (or mpmath numbers for the closed form).

Conventions: basis |1>=|++>, |2>=|+->, |3>=|-+>, |4>=|--> (first symbol: TLS 1), sigma_z|+>=+|+>
(|+> is the ground state), lowering operator s_i = |+><-|_i, column-stacking vectorisation
(vec(rho)[a + 4 b] = rho[a, b], the same as qutip's).

The master equation is

    L rho = -i[H, rho] + sum_n sum_ij G_n[i,j] {(1+n_n) D(s_i,s_j) + n_n D(s_i^+,s_j^+)} rho
            + (Gamma_phi/2) D(Z,Z) rho,
    D(A,B) rho = B rho A^+ - {A^+ B, rho}/2,  G_n = [[J1_n, K_n], [K_n, J2_n]],
    H = -(D1/2) sz1 - (D2/2) sz2 + exchange (s1^+ s2 + s2^+ s1),
    D1 = delta + detuning/2,  D2 = delta - detuning/2,
    Z = (sz1 - sz2)/2,  Gamma_phi = xi (g+_1 + g+_2)/2,  g+_i = sum_n J^(i)_n (1 + n_n),
    n_n = 1/expm1(delta/T_n) (0 at T_n = 0); all rates are taken at frequency ``delta``.

Sign of the detuning: E_2 - E_3 = -(D1 - D2) = -detuning, so rho_23 rotates as
exp(+i detuning t) and its steady-state equation reads (alpha - i detuning) c = (real source).
For detuning > 0, Im c therefore has the SAME sign as Re c (Im c / Re c = detuning/alpha in the
symmetric case); the paper's "alpha + i delta" corresponds to the opposite sign convention.
"""

from __future__ import annotations

import mpmath as mp
import numpy as np

__all__ = [
    "bose",
    "dense_liouvillian",
    "dense_steady_state",
    "mp_steady_state",
    "mp_liouvillian",
    "mp_decay_rates",
    "symmetric_closed_form_mp",
    "qutip_steady_state",
    "partial_transpose",
    "negativity_eig",
    "concurrence_wootters",
    "NEGATIVITY_MAX",
]

#: Largest steady-state negativity of the paper, (sqrt 5 - 2)/6.
NEGATIVITY_MAX = (np.sqrt(5.0) - 2.0) / 6.0

# Single-TLS operators in the basis (|+>, |->).
_SZ = np.diag([1.0, -1.0]).astype(complex)
_S = np.array([[0.0, 1.0], [0.0, 0.0]], dtype=complex)  # |+><-|
_I2 = np.eye(2, dtype=complex)
_I4 = np.eye(4, dtype=complex)


def _arrays(T, J1, J2, K):
    T, J1, J2, K = (np.atleast_1d(np.asarray(x, dtype=float)) for x in (T, J1, J2, K))
    T, J1, J2, K = np.broadcast_arrays(T, J1, J2, K)
    return T, J1, J2, K


def bose(T, delta=1.0):
    """n = 1/expm1(delta/T), with n = 0 at T = 0 (numpy)."""
    T = np.atleast_1d(np.asarray(T, dtype=float))
    out = np.zeros_like(T)
    pos = T > 0
    with np.errstate(over="ignore"):
        out[pos] = 1.0 / np.expm1(delta / T[pos])
    return out


def _two_tls_ops():
    s1 = np.kron(_S, _I2)
    s2 = np.kron(_I2, _S)
    sz1 = np.kron(_SZ, _I2)
    sz2 = np.kron(_I2, _SZ)
    return s1, s2, sz1, sz2


def _spre(A):
    # vec(A rho) = (I (x) A) vec(rho) for column stacking
    return np.kron(_I4, A)


def _spost(A):
    # vec(rho A) = (A^T (x) I) vec(rho)
    return np.kron(A.T, _I4)


def _dissipator(A, B):
    """Superoperator of D(A,B) rho = B rho A^+ - {A^+ B, rho}/2 (column stacking)."""
    Ad = A.conj().T
    AdB = Ad @ B
    # vec(B rho A^+) = (conj(A) (x) B) vec(rho)
    return np.kron(A.conj(), B) - 0.5 * _spre(AdB) - 0.5 * _spost(AdB)


def dense_liouvillian(T, J1, J2, K, xi=0.0, delta=1.0, detuning=0.0, exchange=0.0):
    """Dense (16, 16) complex Liouvillian of the master equation (column-stacking vec)."""
    T, J1, J2, K = _arrays(T, J1, J2, K)
    n = bose(T, delta)
    s1, s2, sz1, sz2 = _two_tls_ops()
    s = (s1, s2)
    D1 = delta + detuning / 2.0
    D2 = delta - detuning / 2.0
    H = -(D1 / 2.0) * sz1 - (D2 / 2.0) * sz2
    H = H + exchange * (s1.conj().T @ s2 + s2.conj().T @ s1)
    L = -1j * (_spre(H) - _spost(H))
    for m in range(T.size):
        G = np.array([[J1[m], K[m]], [K[m], J2[m]]])
        for i in range(2):
            for j in range(2):
                if G[i, j] == 0.0:
                    continue
                L = L + G[i, j] * (1.0 + n[m]) * _dissipator(s[i], s[j])
                L = L + G[i, j] * n[m] * _dissipator(s[i].conj().T, s[j].conj().T)
    gp1 = np.sum(J1 * (1.0 + n))
    gp2 = np.sum(J2 * (1.0 + n))
    gamma_phi = float(xi) * (gp1 + gp2) / 2.0
    if gamma_phi != 0.0:
        Z = (sz1 - sz2) / 2.0
        L = L + (gamma_phi / 2.0) * _dissipator(Z, Z)
    return L


def dense_steady_state(T, J1, J2, K, xi=0.0, delta=1.0, detuning=0.0, rtol=1e-12, exchange=0.0):
    """Steady state (4, 4) from the SVD null vector of the dense Liouvillian, trace 1.

    Raises ValueError when the null space is degenerate: the two smallest singular values are
    both below ``rtol`` times the largest one (non-unique steady state).
    """
    L = dense_liouvillian(T, J1, J2, K, xi=xi, delta=delta, detuning=detuning, exchange=exchange)
    _, sv, vh = np.linalg.svd(L)
    if sv[-2] <= rtol * sv[0]:
        raise ValueError(
            f"degenerate null space of the Liouvillian (singular values {sv[-2]:.3e}, "
            f"{sv[-1]:.3e} vs largest {sv[0]:.3e}): steady state not unique"
        )
    v = vh[-1].conj()
    rho = v.reshape(4, 4, order="F")
    rho = rho / np.trace(rho)
    return 0.5 * (rho + rho.conj().T)


def _mp_bose(T, delta):
    if T == 0:
        return mp.mpf(0)
    return 1 / mp.expm1(delta / T)


def mp_steady_state(
    T, J1, J2, K, xi=0.0, delta=1.0, detuning=0.0, dps=50, as_mp=False, exchange=0.0
):
    """Steady state (4, 4) solved in mpmath at ``dps`` digits; returns a complex numpy array
    (or, with ``as_mp=True``, the 4x4 ``mp.matrix`` of mpc values).

    The full 16x16 Liouvillian of :func:`mp_liouvillian` (built in mpmath from the exact binary
    inputs, entry by entry from the action of L on the matrix units: a construction independent
    of the Kronecker products of :func:`dense_liouvillian`) has its row of d rho_11/dt replaced
    by the trace condition, and the system is solved with ``mp.lu_solve`` (no 6x6 restriction).
    """
    with mp.workdps(dps):
        Lm = mp_liouvillian(T, J1, J2, K, xi, delta, detuning, exchange, dps)
        rhs = mp.matrix(16, 1)
        for col in range(16):
            Lm[0, col] = mp.mpf(0)
        for a in range(4):
            Lm[0, a + 4 * a] = mp.mpf(1)
        rhs[0] = mp.mpf(1)
        x = mp.lu_solve(Lm, rhs)
        rho_mp = mp.matrix(4, 4)
        for a in range(4):
            for b in range(4):
                rho_mp[a, b] = x[a + 4 * b]
    if as_mp:
        return rho_mp
    return np.array(rho_mp.tolist(), dtype=complex)


def symmetric_closed_form_mp(T, J, K, xi=0.0, delta=1.0, dps=50):
    """Closed form (eqs. 23-24 of physics.md) in mpmath: returns (p1, p2, p3, p4, c) as mpf.

    Evaluated naively from gamma, eta, beta, eta'. For beta = 0 exactly (all K_n = 0) c = 0
    and the populations are the thermal-product ones.
    """
    T, J, _, K = _arrays(T, J, J, K)
    with mp.workdps(dps):
        f = lambda x: mp.mpf(float(x))  # noqa: E731
        dl = f(delta)
        xim = f(xi)
        ns = [_mp_bose(f(t), dl) for t in T]
        gamma = mp.fsum(f(j) * (1 + nn) for j, nn in zip(J, ns, strict=True))
        gm = mp.fsum(f(j) * nn for j, nn in zip(J, ns, strict=True))
        beta = mp.fsum(f(k) * (1 + nn) for k, nn in zip(K, ns, strict=True))
        beta1 = mp.fsum(f(k) * nn for k, nn in zip(K, ns, strict=True))
        eta = gm / gamma
        z = 1 + eta
        if beta == 0:
            c = mp.mpf(0)
            p1, p23, p4 = 1 / z**2, eta / z**2, eta**2 / z**2
            return (+p1, +p23, +p23, +p4, c)
        etap = beta1 / beta
        gb = gamma / beta
        num = gb * (etap - eta) * (1 - eta**2)
        den = (
            4 * (etap - eta) ** 2
            + gb**2 * (1 + eta) ** 3 * (1 + eta + xim)
            - (1 + etap) * (1 + 3 * eta**2 + 3 * etap + etap * eta**2)
        )
        c = num / den
        pref = c * beta / (gamma * z**3)
        a1 = z * (eta + etap)
        a2 = etap * eta + etap - eta - 1
        p1 = 1 / z**2 + pref * (a1 * 1 + a2 * (-2))
        p23 = eta / z**2 + pref * (a1 * (-1) + a2 * (1 - eta))
        p4 = eta**2 / z**2 + pref * (a1 * 1 + a2 * (2 * eta))
        return (p1, p23, +p23, p4, c)


def _bath_vectors(J1, J2, K):
    """Vectors v_k with G = [[J1, K], [K, J2]] = sum_k v_k v_k^T (Cholesky, J1 = 0 allowed)."""
    if J1 > 0.0:
        rest = max((J1 * J2 - K * K) / J1, 0.0)
        vs = [(np.sqrt(J1), K / np.sqrt(J1)), (0.0, np.sqrt(rest))]
    else:
        if K != 0.0:
            raise ValueError("K_n^2 <= J1_n J2_n violated (J1_n = 0, K_n != 0)")
        vs = [(0.0, np.sqrt(J2))]
    return [v for v in vs if v != (0.0, 0.0)]


def qutip_steady_state(T, J1, J2, K, xi=0.0, delta=1.0, detuning=0.0, exchange=0.0):
    """Steady state (4, 4) through QuTiP's Bloch-Redfield tensor (``qutip.steadystate``).

    Independent of the Lindblad form: bath n is written as its own correlated-noise couplings
    A_nk = v_k[0] sx1 + v_k[1] sx2 (G_n = sum_k v_k v_k^T) with the spectrum S_n(w) = 1 + n_n
    for w > 0 and n_n for w < 0. Calibrated on a single TLS (see the self-check): QuTiP's S(w)
    is sampled at w = E_initial - E_final, so S(w > 0) is the EMISSION (downward) rate,
    |<+|A|->|^2 S(+delta); the population block is then exactly eq. (11). The spectrum is flat
    on each side, i.e. every rate is taken at ``delta`` as physics.md prescribes; QuTiP's BR
    has no Lamb shift. Pure dephasing: A = Z with the white spectrum S = Gamma_phi/2 (a BR
    coupling A with S(0) damps rho_ab at S(0)(A_aa - A_bb)^2/2, and Z = +-1 on |2>, |3>).

    The secular cutoff is put half-way between the Bohr-frequency differences kept (0 and
    |detuning|: the rho_23 <-> populations coupling and the TLS-1/TLS-2 cross terms) and those
    dropped (about delta). QuTiP cuts at ``sec_cutoff * dw_min`` (dw_min: smallest non-zero
    level spacing), so ``sec_cutoff`` is scaled by dw_min. Needs |detuning| < 0.4 delta.
    """
    import qutip

    T, J1, J2, K = _arrays(T, J1, J2, K)
    if not abs(detuning) < 0.4 * delta:
        raise ValueError("the Bloch-Redfield path needs |detuning| < 0.4 delta")
    n = bose(T, delta)
    id2 = qutip.qeye(2)
    sx1, sx2 = qutip.tensor(qutip.sigmax(), id2), qutip.tensor(id2, qutip.sigmax())
    sz1, sz2 = qutip.tensor(qutip.sigmaz(), id2), qutip.tensor(id2, qutip.sigmaz())
    D1, D2 = delta + detuning / 2.0, delta - detuning / 2.0
    H = -(D1 / 2.0) * sz1 - (D2 / 2.0) * sz2  # basis(2, 0) = |+>, sigmaz() = +1 there
    if exchange != 0.0:
        low = qutip.basis(2, 0) * qutip.basis(2, 1).dag()  # |+><-|
        s1, s2 = qutip.tensor(low, id2), qutip.tensor(id2, low)
        H = H + exchange * (s1.dag() * s2 + s2.dag() * s1)

    def thermal(nb):
        return lambda w: (1.0 + nb) if w > 0 else (nb if w < 0 else 0.0)

    a_ops = []
    for m in range(T.size):
        for v0, v1 in _bath_vectors(J1[m], J2[m], K[m]):
            a_ops.append((v0 * sx1 + v1 * sx2, thermal(n[m])))
    gamma_phi = float(xi) * (np.sum(J1 * (1.0 + n)) + np.sum(J2 * (1.0 + n))) / 2.0
    if gamma_phi > 0.0:
        a_ops.append(((sz1 - sz2) / 2.0, lambda w: gamma_phi / 2.0))
    ev = qutip.data.eigs(H.to("dense").data, True)[0]  # the eigensolver QuTiP uses
    gaps = np.abs(ev[:, None] - ev[None, :])
    dw_min = gaps[gaps != 0].min()
    split = np.hypot(detuning, 2.0 * exchange)  # splitting of |+->, |-+> (detuning, exchange)
    if not split < 0.4 * delta:
        raise ValueError("the Bloch-Redfield path needs hypot(detuning, 2 exchange) < 0.4 delta")
    cut = 0.5 * (split + delta - 1.5 * split)
    R = qutip.bloch_redfield_tensor(H, a_ops, sec_cutoff=cut / dw_min, fock_basis=True)
    rho = qutip.steadystate(R).full()
    rho = rho / np.trace(rho)
    return 0.5 * (rho + rho.conj().T)


def partial_transpose(rho):
    """Partial transpose over TLS 2 of a (4, 4) matrix in the |TLS1 TLS2> basis."""
    r = np.asarray(rho).reshape(2, 2, 2, 2)  # (a1, a2, b1, b2)
    return r.transpose(0, 3, 2, 1).reshape(4, 4)


def negativity_eig(rho):
    """Negativity: sum of |negative eigenvalues| of the partial transpose (generic 4x4)."""
    pt = partial_transpose(rho)
    ev = np.linalg.eigvalsh(0.5 * (pt + pt.conj().T))
    return float(-np.sum(ev[ev < 0.0]))


def concurrence_wootters(rho):
    """Wootters concurrence max(0, l1 - l2 - l3 - l4) of a generic (4, 4) two-qubit state."""
    rho = np.asarray(rho, dtype=complex)
    sy = np.array([[0.0, -1j], [1j, 0.0]])
    yy = np.kron(sy, sy)
    rt = yy @ rho.conj() @ yy
    ev = np.linalg.eigvals(rho @ rt)
    lam = np.sort(np.sqrt(np.clip(ev.real, 0.0, None)))[::-1]
    return float(max(0.0, lam[0] - lam[1] - lam[2] - lam[3]))


def mp_liouvillian(T, J1, J2, K, xi=0.0, delta=1.0, detuning=0.0, exchange=0.0, dps=50):
    """The 16x16 Liouvillian as an ``mp.matrix`` at ``dps`` digits (column-stacking vec).

    Built in mpmath from the exact binary inputs (``mp.mpf(float(x))``) with mpmath Bose
    factors, entry by entry from the action of L on the matrix units E_kl:
    L(E_kl) = -i[H, E_kl] + sum_t c_t (B_t E_kl A_t^+ - {A_t^+ B_t, E_kl}/2) over the terms
    (c_t, A_t, B_t) of the master equation (aggregated emission/absorption Kossakowski
    matrices and the dephasing Z). Shared by :func:`mp_steady_state` and
    :func:`mp_decay_rates`.
    """
    T, J1, J2, K = _arrays(T, J1, J2, K)
    with mp.workdps(dps):
        f = lambda x: mp.mpf(float(x))  # noqa: E731
        dl, det, xim, om = f(delta), f(detuning), f(xi), f(exchange)
        Ts, J1s, J2s, Ks = ([f(x) for x in arr] for arr in (T, J1, J2, K))
        ns = [_mp_bose(t, dl) for t in Ts]
        Gd = [[mp.mpf(0)] * 2 for _ in range(2)]
        Gu = [[mp.mpf(0)] * 2 for _ in range(2)]
        for j1, j2, k, nn in zip(J1s, J2s, Ks, ns, strict=True):
            G = [[j1, k], [k, j2]]
            for i in range(2):
                for j in range(2):
                    Gd[i][j] += G[i][j] * (1 + nn)
                    Gu[i][j] += G[i][j] * nn
        gamma_phi = xim * (Gd[0][0] + Gd[1][1]) / 2

        def op(m2, which):
            out = [[mp.mpf(0)] * 4 for _ in range(4)]
            for a in range(4):
                for b in range(4):
                    a1, a2 = divmod(a, 2)
                    b1, b2 = divmod(b, 2)
                    if which == 0:
                        out[a][b] = m2[a1][b1] * (1 if a2 == b2 else 0)
                    else:
                        out[a][b] = m2[a2][b2] * (1 if a1 == b1 else 0)
            return out

        def mm(A, B):
            return [
                [mp.fsum(A[a][c] * B[c][b] for c in range(4)) for b in range(4)] for a in range(4)
            ]

        def dag(A):
            return [[mp.conj(A[b][a]) for b in range(4)] for a in range(4)]

        sl = [op([[0, 1], [0, 0]], 0), op([[0, 1], [0, 0]], 1)]
        su = [op([[0, 0], [1, 0]], 0), op([[0, 0], [1, 0]], 1)]
        sz1, sz2 = op([[1, 0], [0, -1]], 0), op([[1, 0], [0, -1]], 1)
        D1, D2 = dl + det / 2, dl - det / 2
        H = [[-(D1 / 2) * sz1[a][b] - (D2 / 2) * sz2[a][b] for b in range(4)] for a in range(4)]
        H[1][2] += om
        H[2][1] += om
        Z = [[(sz1[a][b] - sz2[a][b]) / 2 for b in range(4)] for a in range(4)]
        terms = []
        for i in range(2):
            for j in range(2):
                terms.append((Gd[i][j], sl[i], sl[j]))
                terms.append((Gu[i][j], su[i], su[j]))
        terms.append((gamma_phi / 2, Z, Z))
        Keff = [[mp.mpf(0)] * 4 for _ in range(4)]
        for c, A, B in terms:
            AdB = mm(dag(A), B)
            for a in range(4):
                for b in range(4):
                    Keff[a][b] += c * AdB[a][b]
        Lm = mp.matrix(16, 16)
        for k in range(4):
            for l in range(4):
                for a in range(4):
                    for b in range(4):
                        v = mp.mpc(0)
                        if b == l:
                            v += -1j * H[a][k] - Keff[a][k] / 2
                        if a == k:
                            v += 1j * H[l][b] - Keff[l][b] / 2
                        for c, A, B in terms:
                            if c != 0 and B[a][k] != 0 and A[b][l] != 0:
                                v += c * B[a][k] * mp.conj(A[b][l])
                        Lm[a + 4 * b, k + 4 * l] = v
    return Lm


def mp_decay_rates(T, J1, J2, K, xi=0.0, delta=1.0, detuning=0.0, exchange=0.0, dps=50):
    """All 16 decay rates ``-Re(eigenvalues)`` of :func:`mp_liouvillian`, ascending (mpf).

    ``mp.eig`` at ``dps`` digits: the Bohr frequencies on the diagonal cost nothing there, so
    a gap of 1e-15 of the rates keeps ~30 correct digits. The first entry is the stationary 0.
    """
    with mp.workdps(dps):
        L = mp_liouvillian(T, J1, J2, K, xi, delta, detuning, exchange, dps)
        ev = mp.eig(L, left=False, right=False)
        return sorted(-mp.re(e) for e in ev)
