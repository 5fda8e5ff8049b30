"""Tests of jaxtls.baths: spectral densities -> Model (rates, Lamb-shift difference, exchange, xi).

The references here share no code with jaxtls: scipy's QAWC (``weight='cauchy'``) for the
principal values, an mpmath time-domain transform of the bath correlation function, and a
numpy/mpmath Bloch-Redfield generator built from the two-sided bath spectra C_ij(w).
"""

import jax
import jax.numpy as jnp
import mpmath as mp
import numpy as np
import pytest
import scipy.integrate as si
import scipy.special as sp

import jaxtls
from jaxtls import Bath, bath_terms, model_from_baths, pv_integrals

# ---------------------------------------------------------------------------------------------
# Independent references (numpy / scipy / mpmath)
# ---------------------------------------------------------------------------------------------


def ref_S(w, s, wc, cutoff):
    x = w / wc
    F = np.exp(-x) if cutoff == "exponential" else 1.0 / (1.0 + x * x)
    return wc * x**s * F


def ref_kappa(x, D):
    if D is None:
        return 1.0
    return {1: np.cos(x), 2: sp.j0(x), 3: np.sinc(x / np.pi)}[D]


def ref_coth(w, T):
    if T == 0:
        return 1.0
    if w == 0:
        return np.inf
    return 1.0 / np.tanh(w / (2.0 * T))


def scipy_pv(T, s, wc, cutoff, D, delay, delta=1.0):
    """(I_L, I_X) by QAWC on [0, 3 delta] plus QAGS/QAGI on the rest."""
    out = []

    def h_lamb(w):
        return ref_S(w, s, wc, cutoff) * ref_coth(w, T) if w > 0 else 2 * T * (s == 1)

    def h_exch(w):
        return ref_S(w, s, wc, cutoff) * ref_kappa(w * delay, D) * w / delta

    for h in (h_lamb, h_exch):

        def phi(w, h=h):  # integrand = phi(w)/(w - delta)
            return -h(w) * 2 * delta / (delta + w) / (2 * np.pi)

        def f(w, h=h):
            return h(w) * 2 * delta / (delta**2 - w**2) / (2 * np.pi)

        B = 3 * delta
        kw = dict(epsabs=1e-15, epsrel=1e-13, limit=1000)
        a, _ = si.quad(phi, 0, B, weight="cauchy", wvar=delta, **kw)
        top = np.inf if cutoff == "drude" else max(B, (60 + 5 * s) * wc)
        if D in (1, 2) and delay > 0:  # split the oscillating part into many pieces
            edges = np.linspace(B, top, int(8 + top * delay))
            b = sum(
                si.quad(f, x0, x1, **kw)[0] for x0, x1 in zip(edges[:-1], edges[1:], strict=True)
            )
        else:
            b, _ = si.quad(f, B, top, **kw)
        out.append(a + b)
    return out


CASES = [  # T, s, omega_c, cutoff, D, delay
    (0.0, 1.0, 5.0, "exponential", None, 0.0),
    (0.3, 1.0, 5.0, "exponential", 1, 0.5),
    (2.0, 3.0, 2.0, "exponential", 3, 1.0),
    (0.01, 2.5, 0.5, "exponential", 2, 2.0),
    (50.0, 1.0, 100.0, "exponential", 1, 0.1),
    (1e-3, 1.0, 0.05, "exponential", None, 0.0),
    (0.3, 1.0, 5.0, "drude", None, 0.0),
    (5.0, 1.4, 3.0, "drude", None, 0.0),
    (0.1, 1.0, 2.0, "exponential", 1, 6.0),
]


def make_bath(T, s, wc, cutoff, D, delay, g1=1.0, g2=None, gz=0.0):
    kind = "ohmic" if s == 1.0 else "power"
    return Bath(T, g1, g2, kind=kind, cutoff=cutoff, D=D, s=s, omega_c=wc, delay=delay, gz=gz)


# ---------------------------------------------------------------------------------------------
# (a) rates at Delta
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", CASES[:5])
def test_rates_at_delta(case):
    T, s, wc, cutoff, D, delay = case
    g1, g2 = 0.013, -0.021
    b = make_bath(*case, g1=g1, g2=g2)
    t = bath_terms([b], delta=1.3)
    S = ref_S(1.3, s, wc, cutoff)
    np.testing.assert_allclose(t.J1[0], g1**2 * S, rtol=1e-13)
    np.testing.assert_allclose(t.J2[0], g2**2 * S, rtol=1e-13)
    np.testing.assert_allclose(t.K[0], g1 * g2 * S * ref_kappa(1.3 * delay, D), rtol=1e-12)
    m = model_from_baths([b], delta=1.3)
    np.testing.assert_allclose(m.J1[0], g1**2 * S, rtol=1e-13)
    np.testing.assert_allclose(m.K[0], t.K[0], rtol=0)
    assert not m.symmetric


# ---------------------------------------------------------------------------------------------
# (b) principal values against scipy QAWC, and closed forms
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", CASES)
def test_pv_against_scipy(case):
    b = make_bath(*case)
    I_L, e_L, I_X, e_X, _ = (float(x) for x in pv_integrals(b))
    ref_L, ref_X = scipy_pv(*case)
    scale = max(abs(ref_L), abs(ref_X), float(b.S(1.0)))
    assert abs(I_L - ref_L) <= 1e-10 * scale, (I_L, ref_L)
    assert abs(I_X - ref_X) <= 1e-10 * scale, (I_X, ref_X)
    assert e_L <= 1e-10 * scale and e_X <= 1e-10 * scale


@pytest.mark.parametrize("s", [1.0, 1.25, 1.5])
@pytest.mark.parametrize("wc", [0.3, 3.0])
def test_drude_exchange_closed_form(s, wc):
    # Omega / g^2 = wc^(3-s)/(2(1+wc^2)) [cot(pi s/2) - wc^s / sin(pi s/2)] (Delta = 1, D=None)
    b = make_bath(0.7, s, wc, "drude", None, 0.0)
    I_X = float(pv_integrals(b)[2])
    exact = (
        wc ** (3 - s)
        / (2 * (1 + wc**2))
        * (1 / np.tan(np.pi * s / 2) - wc**s / np.sin(np.pi * s / 2))
    )
    assert abs(I_X - exact) <= 1e-12 * abs(exact)


def test_time_domain_transform():
    """Gamma(w) = int_0^inf dt e^{iwt} <B(t)B(0)> for T = 0, Ohmic exponential (mpmath quadosc).

    <B(t)B(0)> = (1/2pi) int_0^inf w e^{-w/wc} e^{-iwt} dw = (1/2pi) / (1/wc + i t)^2.
    Re Gamma(Delta) = J(Delta)/2, Im Gamma(Delta) - Im Gamma(-Delta) = Lamb shift,
    Im Gamma(Delta) + Im Gamma(-Delta) = exchange per g1 g2 (D = None).
    """
    wc = 4.0
    mp.mp.dps = 20

    def gamma(w):
        f = lambda t: mp.exp(1j * w * t) / (1 / mp.mpf(wc) + 1j * t) ** 2 / (2 * mp.pi)  # noqa: E731
        return complex(mp.quadosc(f, [0, mp.inf], omega=abs(w)))

    gp, gm = gamma(1.0), gamma(-1.0)
    I_L, _, I_X, _, _ = (
        float(x) for x in pv_integrals(make_bath(0.0, 1.0, wc, "exponential", None, 0.0))
    )
    assert abs(gp.real - np.exp(-1 / wc) / 2) < 1e-12
    assert abs(gm.real) < 1e-12
    assert abs((gp.imag - gm.imag) - I_L) < 1e-11
    assert abs((gp.imag + gm.imag) - I_X) < 1e-11


# ---------------------------------------------------------------------------------------------
# (c) Bloch-Redfield oracle built from the bath correlation functions
# ---------------------------------------------------------------------------------------------

_SX = np.array([[0, 1], [1, 0]], complex)
_SZ = np.diag([1.0, -1.0]).astype(complex)
_I2 = np.eye(2, dtype=complex)
_OPS = {
    1: np.kron(_SX, _I2),
    2: np.kron(_I2, _SX),
    "z": 0.5 * (np.kron(_SZ, _I2) - np.kron(_I2, _SZ)),
}


def _mp_S(w, spec):
    x = w / spec["wc"]
    F = mp.exp(-x) if spec["cutoff"] == "exponential" else 1 / (1 + x * x)
    return spec["wc"] * x ** spec["s"] * F


def _mp_kappa(x, D):
    if D is None:
        return mp.mpf(1)
    if x == 0:
        return mp.mpf(1)
    return {1: mp.cos(x), 2: mp.besselj(0, x), 3: mp.sin(x) / x}[D]


def _C_unit(w, spec, cross):
    """Two-sided spectrum per unit couplings, C(w) = int dt e^{iwt} <B(t) B(0)> (mpmath):
    J(|w|) (1 + n(|w|)) for w > 0, J(|w|) n(|w|) for w < 0, J = S (times kappa if cross)."""
    w = mp.mpf(w)
    T = mp.mpf(spec["T"])
    if w == 0:
        w = mp.mpf("1e-12")  # the limit w -> 0 of J(w)(1+n(w))
    x = abs(w)
    J = _mp_S(x, spec)
    if cross:
        J *= _mp_kappa(x * spec["delay"], spec["D"])
    n = 0 if T == 0 else 1 / mp.expm1(x / T)
    return J * (1 + n) if w > 0 else J * n


def _Gamma_unit(w, spec, cross):
    """One-sided transform: C/2 + i P int dw'/2pi C(w')/(w - w') (mpmath, symmetric fold)."""
    w = mp.mpf(w)
    f = lambda y: (_C_unit(w - y, spec, cross) - _C_unit(w + y, spec, cross)) / y  # noqa: E731
    top = 30 * spec["wc"] if spec["cutoff"] == "exponential" else 40 * spec["wc"]
    scales = {abs(w), 2 * abs(w), spec["wc"], 10 * spec["wc"], top}
    if spec["T"] > 0:
        scales |= {spec["T"], 10 * spec["T"]}
    if cross and spec["delay"] > 0:
        scales |= set(np.linspace(0, top, int(4 + top * spec["delay"] / 3))[1:])
    pts = [mp.mpf(0)] + [mp.mpf(float(p)) for p in sorted(scales) if p > 0] + [mp.inf]
    pv = mp.quad(f, pts) / (2 * mp.pi)
    return complex(_C_unit(w, spec, cross) / 2 + 1j * pv)


def _Gamma(w, spec, pair, cache):
    a, b = pair
    g = {1: spec["g1"], 2: spec["g2"], "z": spec["gz"]}
    key = (id(spec), w, a != b)
    if key not in cache:
        cache[key] = _Gamma_unit(w, spec, a != b)
    return g[a] * g[b] * cache[key]


def redfield_oracle(specs, delta1=1.0, delta2=1.0):
    """Secular Bloch-Redfield generator (16x16, column stacking) and its Lamb-shift Hamiltonian.

    H_int = sum_n [B1_n sx1 + B2_n sx2 + Bz_n (sz1 - sz2)/2]; the components A(w) of each system
    operator are taken in the eigenbasis of H_S = -(D1/2) sz1 - (D2/2) sz2, and pairs of
    components are kept when their Bohr frequencies differ by less than delta/2 (degenerate
    and nearly degenerate ones), dropped otherwise (those differ by ~ 2 delta).
    """
    mp.mp.dps = 15
    E = np.array([-(delta1 + delta2), -(delta1 - delta2), delta1 - delta2, delta1 + delta2]) / 2
    comps = []  # (label, w, A(w)):  A(w) = sum_{E_b - E_a = w} |a><a|A|b><b|
    for lab, A in _OPS.items():
        freqs = {}
        for a in range(4):
            for b in range(4):
                if A[a, b] != 0:
                    w = round(E[b] - E[a], 12)
                    freqs.setdefault(w, np.zeros((4, 4), complex))[a, b] = A[a, b]
        comps += [(lab, w, M) for w, M in freqs.items()]
    gam, cache = {}, {}
    for lab_a, _, _ in comps:
        for lab_b, w, _ in comps:
            key = (lab_a, lab_b, w)
            if key in gam:
                continue
            longi = (lab_a == "z") != (lab_b == "z")
            gam[key] = 0.0 if longi else sum(_Gamma(w, sp_, (lab_a, lab_b), cache) for sp_ in specs)
    I4 = np.eye(4)
    spre = lambda X: np.kron(I4, X)  # noqa: E731
    spost = lambda X: np.kron(X.T, I4)  # noqa: E731
    HS = np.diag(E).astype(complex)
    L = -1j * (spre(HS) - spost(HS))
    HLS = np.zeros((4, 4), complex)
    cut = 0.5 * (delta1 + delta2) / 2
    for lab_a, wp, Aa in comps:
        for lab_b, w, Ab in comps:
            if abs(w - wp) > cut:
                continue
            G = gam[(lab_a, lab_b, w)]
            if G == 0:
                continue
            Aad = Aa.conj().T
            # G [A_b rho A_a^+ - A_a^+ A_b rho] + h.c.
            L += G * (np.kron(Aad.T, Ab) - spre(Aad @ Ab))
            L += np.conj(G) * (np.kron(Ab.conj(), Aa) - spost(Ab.conj().T @ Aa))
    # Lamb-shift Hamiltonian sum S_ab(w) A_a^+(w') A_b(w), S = (G_ab - conj(G_ba))/2i, of the
    # transverse couplings (the longitudinal one adds S_zz(0) Z^2, a shift of |2>, |3> together
    # that acts on neither the populations nor rho_23)
    for lab_a, wp, Aa in comps:
        for lab_b, w, Ab in comps:
            if abs(w - wp) > cut or "z" in (lab_a, lab_b):
                continue
            G_ab, G_ba = gam[(lab_a, lab_b, w)], gam[(lab_b, lab_a, w)]
            HLS += (G_ab - np.conj(G_ba)) / 2j * (Aa.conj().T @ Ab)
    _, sv, vh = np.linalg.svd(L)
    v = vh[-1].conj()
    rho = v.reshape(4, 4, order="F")
    rho = rho / np.trace(rho)
    return 0.5 * (rho + rho.conj().T), HLS, sv


def _spec(b: Bath, i=()):
    leaf = lambda n: float(np.asarray(getattr(b, n))[i])  # noqa: E731
    return dict(
        T=leaf("T"),
        g1=leaf("g1"),
        g2=leaf("g2"),
        gz=leaf("gz"),
        s=leaf("s"),
        wc=leaf("omega_c"),
        delay=leaf("delay"),
        cutoff=b.cutoff,
        D=b.D,
    )


REDFIELD_SETS = [
    # hot local bath weakly coupled to TLS 1, cold 1D bath coupled more to TLS 2
    [
        Bath(8.0, 0.004, 0.001, omega_c=6.0),
        Bath(0.05, 0.006, 0.012, omega_c=6.0, D=1, delay=0.4),
    ],
    # super-Ohmic 3D bath + Drude bath with longitudinal dephasing
    [
        Bath(0.2, 0.01, 0.014, kind="power", s=3.0, omega_c=2.0, D=3, delay=1.0),
        Bath(3.0, 0.003, 0.002, cutoff="drude", omega_c=5.0, gz=0.002),
    ],
    # 2D bath, asymmetric, and an Ohmic bath at equilibrium-ish temperature
    [
        Bath(0.1, 0.012, 0.007, omega_c=4.0, D=2, delay=1.5),
        Bath(1.0, 0.002, 0.005, omega_c=4.0, gz=0.001),
    ],
]


@pytest.mark.parametrize("k", range(len(REDFIELD_SETS)))
def test_against_bloch_redfield(k):
    baths = REDFIELD_SETS[k]
    rho_ref, HLS, _ = redfield_oracle([_spec(b) for b in baths])
    m = model_from_baths(baths)
    # coherent part: exchange and splitting difference of the oracle's Lamb-shift Hamiltonian
    offdiag = HLS - np.diag(np.diag(HLS))
    assert abs(HLS[2, 1] - float(m.exchange)) <= 1e-9 * abs(float(m.exchange)) + 1e-15
    assert abs(HLS[1, 2] - float(m.exchange)) <= 1e-9 * abs(float(m.exchange)) + 1e-15
    offdiag[1, 2] = offdiag[2, 1] = 0
    assert np.max(np.abs(offdiag)) == 0.0  # only <2|H|3>, <3|H|2>
    d = np.diag(HLS).real
    assert abs((d[0] + d[3]) - (d[1] + d[2])) < 1e-16  # a sum of sigma_z terms (+ const)
    # E_2 - E_3 = -(Delta_1 - Delta_2): the shift of the detuning is -(H_22 - H_33)
    lamb = -(d[1] - d[2])
    assert abs(lamb - float(m.detuning)) <= 1e-9 * abs(lamb) + 1e-15
    assert abs(lamb) > 1e-6 and abs(float(m.exchange)) > 1e-6  # both terms present
    rho = np.asarray(jaxtls.steady_state(m).matrix())
    np.testing.assert_allclose(rho, rho_ref, atol=2e-9)
    # the coherent terms matter: dropping them changes the state
    rho0 = np.asarray(jaxtls.steady_state(m.replace(detuning=0.0, exchange=0.0)).matrix())
    assert np.max(np.abs(rho0 - rho_ref)) > 1e-5


# ---------------------------------------------------------------------------------------------
# (d) gradients, (e) jit / vmap
# ---------------------------------------------------------------------------------------------


def _observables(leaves, spec):
    """Model fields derived from a bath (plus a fixed second one): detuning, exchange, xi, K."""
    kind, cutoff, D = spec
    b1 = Bath.tree_unflatten((kind, cutoff, D), list(leaves))
    b2 = Bath(0.05, 0.01, 0.02, omega_c=10.0, D=1, delay=0.3)
    m = model_from_baths([b1, b2])
    return jnp.stack([m.detuning, m.exchange, m.xi, m.K[0], m.J[1][0]])


# the finite differences: one compilation per bath kind instead of 12 eager evaluations
_jit_observables = jax.jit(_observables, static_argnums=1)


@pytest.mark.parametrize(
    "leaves,spec",
    [
        ((0.4, 0.006, 0.003, 2.2, 3.0, 1.1, 0.0), ("power", "exponential", 2)),
        ((1.5, 0.004, 0.005, 1.0, 4.0, 0.0, 0.001), ("ohmic", "drude", None)),
    ],
)
def test_gradients_vs_finite_differences(leaves, spec):
    x0 = [jnp.float64(v) for v in leaves]
    jac = jax.jacfwd(lambda *xs: _observables(xs, spec), argnums=tuple(range(7)))(*x0)
    for i in range(7):
        if spec[0] == "ohmic" and i == 3:
            continue  # s is fixed to 1 for an Ohmic bath
        if spec[2] is None and i == 5:
            continue  # no delay without geometry
        h = 1e-5 * max(abs(leaves[i]), 1e-2)
        xp, xm = list(x0), list(x0)
        xp[i], xm[i] = x0[i] + h, x0[i] - h
        fd = (_jit_observables(tuple(xp), spec) - _jit_observables(tuple(xm), spec)) / (2 * h)
        g = jac[i]
        assert np.all(np.isfinite(g))
        np.testing.assert_allclose(g, fd, rtol=2e-5, atol=1e-9 * (1 + float(jnp.max(jnp.abs(g)))))


def test_jit_vmap_batch():
    T = jnp.array([0.1, 1.0, 5.0])
    g2 = jnp.array([0.01, 0.02, 0.005])
    delay = jnp.array([0.0, 0.5, 1.2])
    hot = Bath(T * 4, 0.003, 0.002, omega_c=15.0)
    cold = Bath(T, 0.01, g2, omega_c=15.0, D=2, delay=delay)
    eager = model_from_baths([hot, cold])
    jitted = jax.jit(lambda a, b: model_from_baths([a, b]))(hot, cold)
    for f in ("T", "K", "xi", "detuning", "exchange"):
        np.testing.assert_allclose(getattr(jitted, f), getattr(eager, f), rtol=1e-14, atol=1e-18)
    np.testing.assert_allclose(jitted.J[1], eager.J[1], rtol=1e-14)
    assert eager.T.shape == (3, 2) and eager.exchange.shape == (3,)
    vm = jax.vmap(lambda a, b: model_from_baths([a, b]))(hot.broadcast(), cold.broadcast())
    np.testing.assert_allclose(vm.exchange, eager.exchange, rtol=1e-13)
    for i in (2,):
        one = model_from_baths(
            [
                Bath(T[i] * 4, 0.003, 0.002, omega_c=15.0),
                Bath(T[i], 0.01, g2[i], omega_c=15.0, D=2, delay=delay[i]),
            ]
        )
        np.testing.assert_allclose(one.detuning, eager.detuning[i], rtol=1e-13)
        np.testing.assert_allclose(one.exchange, eager.exchange[i], rtol=1e-13)


# ---------------------------------------------------------------------------------------------
# (f) physical limits
# ---------------------------------------------------------------------------------------------


def test_identical_tls_no_lamb_difference():
    baths = [Bath(3.0, 0.01, omega_c=10.0), Bath(0.1, 0.02, omega_c=3.0, D=3, delay=0.5)]
    t = bath_terms(baths)
    assert np.all(np.asarray(t.lamb) == 0.0)
    m = model_from_baths(baths)
    assert float(m.detuning) == 0.0 and float(m.exchange) != 0.0
    # symmetric model with the exchange: closed form unchanged (exchange does not act there)
    rho = jaxtls.steady_state(m).matrix()
    rho0 = jaxtls.steady_state(jaxtls.Model(T=m.T, J=m.J1, K=m.K, xi=m.xi)).matrix()
    np.testing.assert_allclose(rho, rho0, atol=1e-12)


def test_flat_band_d1_exchange_sine_and_zero():
    """D = 1, wide band: Omega -> +(g^2 S(Delta)/2) sin(Delta tau) - (1/pi) wc/(1 + wc^2 tau^2)."""
    wc = 20.0
    for dbar in (0.2, 0.5, 1.0):
        b = Bath(0.0, 1.0, omega_c=wc, D=1, delay=dbar)
        I_X, err = (float(x) for x in pv_integrals(b)[2:4])
        flat = 0.5 * float(b.S(1.0)) * np.sin(dbar) - wc / (1 + (wc * dbar) ** 2) / np.pi
        assert abs(I_X - flat) < 0.03 and err < 1e-12, (dbar, I_X, flat)
    local = float(pv_integrals(Bath(0.0, 1.0, omega_c=wc))[2])
    assert local < -0.3 * wc / np.pi  # a local bath: large, negative, grows with the cutoff
    # zeros near dbar = pi and 2 pi, where K/J = -1, +1 (sign changes), inside the accuracy range
    for wc, (x0, x1) in ((6.0, (2.8, 3.4)), (3.0, (5.8, 6.8))):
        t = [bath_terms([Bath(0.0, 1.0, omega_c=wc, D=1, delay=x)]) for x in (x0, x1)]
        assert all(bool(ti.ok) for ti in t)
        assert float(t[0].exchange[0]) * float(t[1].exchange[0]) < 0
    # the exchange vanishes exactly only with one coupling switched off
    assert float(bath_terms([Bath(1.0, 0.01, 0.0, omega_c=5.0)]).exchange[0]) == 0.0


def test_equilibrium_gives_gibbs_with_coherent_terms():
    # all baths at one temperature: Gibbs product state even with Lamb shifts and exchange
    T = 0.4
    baths = [Bath(T, 0.01, 0.003, omega_c=6.0), Bath(T, 0.004, 0.02, omega_c=6.0, D=1, delay=0.8)]
    m = model_from_baths(baths)
    rho = np.asarray(jaxtls.steady_state(m).matrix())
    p = np.array([1.0, np.exp(-1 / T)])
    p = p / p.sum()
    np.testing.assert_allclose(rho, np.diag(np.kron(p, p)), atol=1e-10)


def test_ohmic_dephasing_xi():
    b = Bath(2.0, 0.01, 0.02, omega_c=10.0, gz=0.003)
    m = model_from_baths([b])
    n = 1 / np.expm1(1 / 2.0)
    gplus = (0.01**2 + 0.02**2) * float(b.S(1.0)) * (1 + n) / 2
    np.testing.assert_allclose(float(m.xi), 2 * 0.003**2 * 2.0 / gplus, rtol=1e-13)
    sup = Bath(2.0, 0.01, 0.02, kind="power", s=2.0, omega_c=10.0, gz=0.003)
    assert float(model_from_baths([sup]).xi) == 0.0


# ---------------------------------------------------------------------------------------------
# accuracy limits and validation
# ---------------------------------------------------------------------------------------------


def test_large_delay_is_nan_not_a_number():
    far = Bath(0.1, 0.01, 0.02, omega_c=10.0, D=1, delay=10.0)  # wc d/v = 100 > limit
    t = bath_terms([far])
    assert not bool(t.ok) and np.isnan(t.exchange[0]) and np.isfinite(t.lamb[0])
    with pytest.raises(ValueError, match="exchange of bath 0"):
        model_from_baths([far])
    m = jax.jit(lambda b: model_from_baths([b]))(far)
    assert np.isnan(float(m.exchange))
    near = far.replace(delay=1.5)  # wc d/v = 15: within the documented range
    assert bool(bath_terms([near]).ok)


@pytest.mark.parametrize(
    "kw,match",
    [
        (dict(T=-1.0), "T must be >= 0"),
        (dict(T=np.inf), "T must be finite"),
        (dict(omega_c=0.0), "omega_c"),
        (dict(omega_c=np.nan), "omega_c must be finite"),
        (dict(delay=-0.1, D=1), "delay must be >= 0"),
        (dict(delay=0.5), "delay must be 0 for D=None"),
        (dict(kind="gauss"), "kind"),
        (dict(cutoff="hard"), "cutoff must be one of"),
        (dict(D=4), "D \\(bath dimensionality\\)"),
        (dict(kind="ohmic", s=2.0), "s must be 1 for kind='ohmic'"),
        (dict(kind="power", s=0.5), "1 <= s <= 6"),
        (dict(kind="power", s=7.0), "1 <= s <= 6"),
        (dict(kind="power", s=1.8, cutoff="drude"), "1 <= s <= 1.5"),
        (dict(cutoff="drude", D=1), "requires D=None"),
        (dict(g1=np.nan), "g1 must be finite"),
    ],
)
def test_validation(kw, match):
    args = dict(T=1.0, g1=0.01)
    args.update(kw)
    with pytest.raises(ValueError, match=match):
        Bath(args.pop("T"), args.pop("g1"), **args)


def test_model_from_baths_input_errors():
    with pytest.raises(ValueError, match="sequence of Bath"):
        model_from_baths([])
    with pytest.raises(ValueError, match="detuning"):
        model_from_baths([Bath(1.0, 0.01)], bare_detuning=2.0)
    with pytest.raises(ValueError, match="xi is undefined"):
        model_from_baths([Bath(1.0, 0.0, gz=0.01)])


def test_bad_delta_and_tiny_temperatures():
    # found by an adversarial check: a bad delta said "outside the documented accuracy", and
    # T = 1e-300 (a subnormal grid start) failed
    for delta in (-1.0, 0.0, float("nan")):
        with pytest.raises(ValueError, match="delta"):
            jaxtls.model_from_baths([jaxtls.Bath(T=1.0, g1=0.1)], delta=delta)
    cold = [jaxtls.bath_terms([jaxtls.Bath(T=T, g1=0.01, g2=0.02)]) for T in (1e-300, 0.0)]
    assert bool(cold[0].ok) and float(cold[0].lamb[0]) == float(cold[1].lamb[0])
