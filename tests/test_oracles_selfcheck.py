"""Self-checks of the independent reference oracles in ``tests/oracles.py`` (no jax)."""

import numpy as np
import oracles as o
import pytest

ATOL = 1e-8


def _random_symmetric(rng, n_baths):
    T = 10 ** rng.uniform(-2, 2, n_baths)
    J = 10 ** rng.uniform(-3, 3, n_baths)
    K = rng.uniform(-1, 1, n_baths) * J
    xi = 0.0 if rng.random() < 0.5 else 10 ** rng.uniform(-3, 0)
    return T, J, K, xi


def _cf_matrix(cf):
    p1, p2, p3, p4, c = (complex(x) for x in cf)
    rho = np.diag([p1, p2, p3, p4]).astype(complex)
    rho[1, 2] = c
    rho[2, 1] = np.conj(c)
    return rho


def test_qutip_spectrum_convention_single_tls():
    """QuTiP's BR samples S at w = E_initial - E_final: S(w > 0) is the emission rate."""
    import qutip

    down, up, s0 = 0.3, 0.1, 0.7
    H = -0.5 * qutip.sigmaz()  # basis(2, 0) = |+> is the ground state
    spec = lambda w: down if w > 0 else up  # noqa: E731
    R = qutip.bloch_redfield_tensor(H, [(qutip.sigmax(), spec)], fock_basis=True).full()
    np.testing.assert_allclose(R[0, 3], down, atol=1e-15)  # |-> -> |+> (vec index of rho_--)
    np.testing.assert_allclose(R[3, 0], up, atol=1e-15)
    np.testing.assert_allclose(
        R[2, 2], -(down + up) / 2 + 1j, atol=1e-15
    )  # rho_+- (vec index 0 + 2*1)
    rho = qutip.steadystate(qutip.bloch_redfield_tensor(H, [(qutip.sigmax(), spec)])[0])
    np.testing.assert_allclose(np.diag(rho.full()).real, [0.75, 0.25], atol=1e-14)
    Rz = qutip.bloch_redfield_tensor(H, [(qutip.sigmaz(), lambda w: s0)], fock_basis=True)
    np.testing.assert_allclose(Rz.full()[1, 1].real, -2 * s0, atol=1e-15)  # S(0)(1 - -1)^2/2


def test_qutip_secular_cutoff_keeps_detuned_coherence():
    """QuTiP's default cutoff (0.1 dw_min) would drop rho_23 when detuned; ours must not."""
    T, J, K = np.array([30.0, 0.05]), np.array([1.0, 100.0]), np.array([0.0, 100.0])
    want = o.mp_steady_state(T, J, J, K, detuning=0.05)
    assert abs(want[1, 2]) > 0.05
    np.testing.assert_allclose(o.qutip_steady_state(T, J, J, K, detuning=0.05), want, atol=1e-12)
    with pytest.raises(ValueError):
        o.qutip_steady_state(T, J, J, K, detuning=0.5)


@pytest.mark.parametrize("n_baths", [2, 3])
def test_symmetric_dense_mp_qutip_closed_form_agree(n_baths):
    rng = np.random.default_rng(100 + n_baths)
    for _ in range(8):
        T, J, K, xi = _random_symmetric(rng, n_baths)
        dense = o.dense_steady_state(T, J, J, K, xi=xi)
        mp_rho = o.mp_steady_state(T, J, J, K, xi=xi)
        qt = o.qutip_steady_state(T, J, J, K, xi=xi)
        cf = _cf_matrix(o.symmetric_closed_form_mp(T, J, K, xi=xi))
        for other in (dense, qt, cf):
            np.testing.assert_allclose(other, mp_rho, rtol=0, atol=ATOL)
        # structure: trace 1, p2 = p3, c real, only rho_23 survives among coherences
        assert abs(np.trace(mp_rho) - 1) < 1e-14
        assert abs(mp_rho[1, 1] - mp_rho[2, 2]) < 1e-14
        assert abs(mp_rho[1, 2].imag) < 1e-14
        off = mp_rho - np.diag(np.diag(mp_rho))
        off[1, 2] = off[2, 1] = 0
        assert np.abs(off).max() < 1e-14
        assert np.all(np.linalg.eigvalsh(mp_rho) > -1e-12)


@pytest.mark.parametrize("n_baths", [2, 3])
def test_asymmetric_dense_vs_qutip_vs_mp(n_baths):
    rng = np.random.default_rng(200 + n_baths)
    for k in range(8):
        T = 10 ** rng.uniform(-2, 2, n_baths)
        J1 = 10 ** rng.uniform(-3, 3, n_baths)
        J2 = 10 ** rng.uniform(-3, 3, n_baths)
        K = rng.uniform(-1, 1, n_baths) * np.sqrt(J1 * J2)
        xi = 0.0 if k % 2 else 10 ** rng.uniform(-3, 0)
        det = 0.0 if k % 3 else 10 ** rng.uniform(-3, -1)
        dense = o.dense_steady_state(T, J1, J2, K, xi=xi, detuning=det)
        qt = o.qutip_steady_state(T, J1, J2, K, xi=xi, detuning=det)
        mp_rho = o.mp_steady_state(T, J1, J2, K, xi=xi, detuning=det)
        np.testing.assert_allclose(dense, mp_rho, rtol=0, atol=ATOL)
        np.testing.assert_allclose(qt, mp_rho, rtol=0, atol=ATOL)
        off = mp_rho - np.diag(np.diag(mp_rho))
        off[1, 2] = off[2, 1] = 0
        assert np.abs(off).max() < 1e-14


def test_population_block_is_eq11():
    rng = np.random.default_rng(3)
    T = 10 ** rng.uniform(-1, 1, 3)
    J1, J2 = 10 ** rng.uniform(-1, 1, (2, 3))
    K = rng.uniform(-1, 1, 3) * np.sqrt(J1 * J2)
    L = o.dense_liouvillian(T, J1, J2, K, xi=0.3, detuning=0.01)
    n = o.bose(T)
    gp1, gp2 = np.sum(J1 * (1 + n)), np.sum(J2 * (1 + n))
    gm1, gm2 = np.sum(J1 * n), np.sum(J2 * n)
    M = np.array(
        [
            [gm1 + gm2, -gp2, -gp1, 0],
            [-gm2, gm1 + gp2, 0, -gp1],
            [-gm1, 0, gp1 + gm2, -gp2],
            [0, -gm1, -gm2, gp1 + gp2],
        ]
    )
    pop = [a + 4 * a for a in range(4)]
    np.testing.assert_allclose(L[np.ix_(pop, pop)], -M, rtol=0, atol=1e-12)
    # rho_23 (vec index 1 + 4*2) decays at alpha = (g+1 + g+2 + g-1 + g-2)/2 + Gamma_phi
    alpha = (gp1 + gp2 + gm1 + gm2) / 2 + 0.3 * (gp1 + gp2) / 2
    i23 = 1 + 4 * 2
    assert abs(-L[i23, i23].real - alpha) < 1e-12
    assert abs(L[i23, i23].imag - 0.01) < 1e-12  # rotation at the detuning (D1 - D2)


@pytest.mark.parametrize("T0", [0.05, 0.7, 20.0])
def test_equal_temperatures_give_gibbs_product(T0):
    rng = np.random.default_rng(4)
    T = np.full(3, T0)
    J1, J2 = 10 ** rng.uniform(-2, 2, (2, 3))
    K = rng.uniform(-1, 1, 3) * np.sqrt(J1 * J2)
    w = np.exp(-1.0 / T0)
    one = np.diag([1.0, w]) / (1 + w)
    gibbs = np.kron(one, one)
    for rho in (
        o.dense_steady_state(T, J1, J2, K, xi=0.2),
        o.mp_steady_state(T, J1, J2, K, xi=0.2),
        o.qutip_steady_state(T, J1, J2, K, xi=0.2),
    ):
        np.testing.assert_allclose(rho, gibbs, rtol=0, atol=1e-10)
    cf = o.symmetric_closed_form_mp(T, J1, 0.5 * J1, xi=0.2)
    np.testing.assert_allclose(_cf_matrix(cf), gibbs, rtol=0, atol=1e-14)


def test_identical_coupling_is_detected():
    T = np.array([30.0, 0.05, 1.0])
    J = np.array([1.0, 1e3, 0.1])
    with pytest.raises(ValueError, match="not unique"):
        o.dense_steady_state(T, J, J, J)
    with pytest.raises(ValueError, match="not unique"):
        o.dense_steady_state(T, J, J, -J)
    # a tiny dephasing lifts the degeneracy
    o.dense_steady_state(T, J, J, J, xi=1e-3)


def test_large_detuning_gives_product_state_eq13():
    T = np.array([5.0, 0.2])
    J1 = np.array([1e-6, 3e-6])
    J2 = np.array([2e-6, 1e-6])
    K = np.array([0.9e-6, 1.5e-6])
    n = o.bose(T)
    ones = []
    for J in (J1, J2):
        gp, gm = np.sum(J * (1 + n)), np.sum(J * n)
        ones.append(np.diag([gp, gm]) / (gp + gm))
    product = np.kron(*ones)
    # detuning << rates: correlated (c = O(1e-3)); detuning >> rates: product, c ~ rates/detuning
    assert abs(o.mp_steady_state(T, J1, J2, K, detuning=1e-8)[1, 2]) > 3e-3
    dev = []
    for det in (1e-3, 1e-2):
        rho = o.mp_steady_state(T, J1, J2, K, detuning=det)
        for other in (o.dense_steady_state, o.qutip_steady_state):
            np.testing.assert_allclose(other(T, J1, J2, K, detuning=det), rho, atol=1e-12)
        dev.append(np.abs(rho - product).max())
    assert dev[0] < 1e-4
    assert 9 < dev[0] / dev[1] < 11


def test_detuning_sign_of_coherence():
    """(alpha - i detuning) c = source: Im c / Re c = +detuning/alpha (symmetric case)."""
    T, J, K = np.array([30.0, 0.05]), np.array([1.0, 100.0]), np.array([0.0, 100.0])
    n = o.bose(T)
    alpha = np.sum(J * (1 + n)) + np.sum(J * n)  # gamma (1 + eta), xi = 0
    for det in (1e-2, -3e-2):
        c = o.mp_steady_state(T, J, J, K, detuning=det)[1, 2]
        assert c.real < 0
        np.testing.assert_allclose(c.imag / c.real, det / alpha, rtol=1e-12)


def test_near_non_unique_manifold_mp():
    """K = +-J (1 - 1e-12) on every bath: float64 gives up, mpmath agrees with the closed form."""
    rng = np.random.default_rng(6)
    # The solve loses about log10(1 / 1e-12) digits (the distance to the manifold) of the
    # working precision; allow 1e4 more for the growth of rounding in the 16x16 elimination.
    # At 50 digits that is 1e-34, while float64 is off by ~1e-4 at these points.
    dps = 50
    tol = 10.0 ** (-dps) * 1e12 * 1e4
    for sign in (1.0, -1.0):
        T = 10 ** rng.uniform(-1, 1, 3)
        J = 10 ** rng.uniform(-3, 3, 3)
        K = sign * J * (1 - 1e-12)
        rho = o.mp_steady_state(T, J, J, K, dps=dps, as_mp=True)
        rho80 = o.mp_steady_state(T, J, J, K, dps=80, as_mp=True)
        cf = o.symmetric_closed_form_mp(T, J, K, dps=80)
        for a, b in zip((rho[0, 0], rho[1, 1], rho[2, 2], rho[3, 3], rho[1, 2]), cf, strict=True):
            assert abs(a - b) < tol
        assert max(abs(rho[i, j] - rho80[i, j]) for i in range(4) for j in range(4)) < tol
        with pytest.raises(ValueError, match="not unique"):
            o.dense_steady_state(T, J, J, K)


def test_max_negativity_regime():
    J1 = np.array([1.0, 1e6])
    K = np.array([0.0, 1e6])
    T = np.array([30.0, 0.05])
    ns = [
        o.negativity_eig(f(T, J1, J1, K))
        for f in (o.dense_steady_state, o.mp_steady_state, o.qutip_steady_state)
    ]
    np.testing.assert_allclose(ns, ns[1], rtol=1e-9)
    # finite T1/Delta = 30 costs about 2.6 % (O(Delta/T1) correction)
    assert 0.97 * o.NEGATIVITY_MAX < ns[1] < o.NEGATIVITY_MAX
    # deeper in the 2/3-1/3 regime (T1 = 300): within 1 %
    n300 = o.negativity_eig(o.mp_steady_state(np.array([300.0, 0.05]), J1, J1, K))
    assert 0.99 * o.NEGATIVITY_MAX < n300 < o.NEGATIVITY_MAX


def test_negativity_never_above_maximum():
    rng = np.random.default_rng(7)
    for ratio in (1e2, 1e4, 1e6, 1e8):
        J = np.array([1.0, ratio])
        for kappa in (1.0, -1.0, 0.9):
            K = np.array([0.0, kappa * ratio])
            for T1 in np.geomspace(0.3, 10 * ratio, 5):
                T = np.array([T1, 10 ** rng.uniform(-2, -0.5)])
                p1, p2, p3, p4, c = (complex(x) for x in o.symmetric_closed_form_mp(T, J, K))
                lam = (p1 + p4).real / 2 - np.sqrt((p1 - p4).real ** 2 + 4 * abs(c) ** 2) / 2
                assert -lam < o.NEGATIVITY_MAX
    # and the maximum is approached: max over T1 at J2/J1 = 1e6 is within 1 %
    J, K = np.array([1.0, 1e6]), np.array([0.0, 1e6])
    best = max(
        o.negativity_eig(o.mp_steady_state(np.array([t, 0.05]), J, J, K))
        for t in (100.0, 300.0, 1000.0)
    )
    assert 0.99 * o.NEGATIVITY_MAX < best < o.NEGATIVITY_MAX


def test_eq26_large_ratio_limit():
    ratio, T1 = 1e8, 1e4
    J = np.array([1.0, ratio])
    for kappa in (1.0, 0.95):
        K = np.array([0.0, kappa * ratio])
        p1, p2, _, p4, c = (
            float(x) for x in o.symmetric_closed_form_mp(np.array([T1, 0.02]), J, K)
        )
        th = T1 / ratio
        sig = 1 / ((1 + 2 * th) ** 3 - kappa**2)
        ref = [
            sig * ((1 + th) ** 2 * (1 + 2 * th) - kappa**2),
            sig * th * (1 + th) * (1 + 2 * th),
            sig * th**2 * (1 + 2 * th),
            -sig * kappa * th,
        ]
        np.testing.assert_allclose([p1, p2, p4, c], ref, rtol=2e-3)


def test_measures_generic_and_x_states():
    rng = np.random.default_rng(5)
    bell = np.zeros(4)
    bell[1], bell[2] = 1 / np.sqrt(2), -1 / np.sqrt(2)
    singlet = np.outer(bell, bell)
    assert abs(o.negativity_eig(singlet) - 0.5) < 1e-14
    assert abs(o.concurrence_wootters(singlet) - 1.0) < 1e-7
    prod = np.kron(np.diag([0.7, 0.3]), np.diag([0.4, 0.6]))
    assert o.negativity_eig(prod) == 0.0
    assert o.concurrence_wootters(prod) < 1e-7
    for _ in range(50):
        p = rng.dirichlet(np.ones(4))
        c = rng.uniform(0, 1) * np.sqrt(p[1] * p[2]) * np.exp(1j * rng.uniform(0, 2 * np.pi))
        rho = np.diag(p).astype(complex)
        rho[1, 2], rho[2, 1] = c, np.conj(c)
        lam_m = (p[0] + p[3]) / 2 - np.sqrt((p[0] - p[3]) ** 2 + 4 * abs(c) ** 2) / 2
        assert abs(o.negativity_eig(rho) - max(0.0, -lam_m)) < 1e-12
        conc = 2 * max(0.0, abs(c) - np.sqrt(p[0] * p[3]))
        assert abs(o.concurrence_wootters(rho) - conc) < 1e-6
    for _ in range(20):  # generic states: N <= C/2 ... and both invariant under local unitaries
        a = rng.normal(size=(4, 4)) + 1j * rng.normal(size=(4, 4))
        rho = a @ a.conj().T
        rho /= np.trace(rho)
        u1, _ = np.linalg.qr(rng.normal(size=(2, 2)) + 1j * rng.normal(size=(2, 2)))
        u2, _ = np.linalg.qr(rng.normal(size=(2, 2)) + 1j * rng.normal(size=(2, 2)))
        U = np.kron(u1, u2)
        rho2 = U @ rho @ U.conj().T
        assert abs(o.negativity_eig(rho) - o.negativity_eig(rho2)) < 1e-12
        assert abs(o.concurrence_wootters(rho) - o.concurrence_wootters(rho2)) < 1e-6
        assert 2 * o.negativity_eig(rho) <= o.concurrence_wootters(rho) + 1e-9
