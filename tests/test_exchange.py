"""The bath-mediated exchange Omega (s1^dag s2 + s2^dag s1) in every solver and quantity.

Each solver is compared with the independent oracles of tests/oracles.py (a numpy dense
Liouvillian, 50-digit mpmath, QuTiP's Bloch-Redfield tensor) that add H_x to the Hamiltonian
directly; the uniqueness rule derived in jaxtls.steady_state is checked against the dimension
of the Liouvillian's null space.
"""

import numpy as np
import oracles
import pytest

import jaxtls

S = 1e-3  # rates small against Delta, as the weak-coupling model requires of the oracles


def _random_point(rng, symmetric):
    n = int(rng.integers(1, 4))
    T = 10 ** rng.uniform(-1.3, 1, n)
    J1 = S * 10 ** rng.uniform(-2, 2, n)
    J2 = J1 if symmetric else S * 10 ** rng.uniform(-2, 2, n)
    K = rng.uniform(-1, 1, n) * np.sqrt(J1 * J2)
    top = J1.max()
    kw = dict(
        xi=float(rng.choice([0.0, 0.0, 0.05])),
        detuning=float(rng.uniform(-1, 1) * top * 10 ** rng.uniform(-2, 0.5)),
        exchange=float(rng.uniform(-1, 1) * top * 10 ** rng.uniform(-2, 1)),
    )
    return T, J1, J2, K, kw


def _model(T, J1, J2, K, kw):
    return jaxtls.Model(T, J1 if J1 is J2 else (J1, J2), K, **kw)


@pytest.mark.parametrize("symmetric", [True, False])
def test_solvers_match_the_dense_liouvillian_with_exchange(symmetric):
    rng = np.random.default_rng(11 + symmetric)
    for _ in range(25):
        T, J1, J2, K, kw = _random_point(rng, symmetric)
        want = oracles.dense_steady_state(T, J1, J2, K, **kw)
        m = _model(T, J1, J2, K, kw)
        np.testing.assert_allclose(jaxtls.steady_state(m).matrix(), want, atol=1e-10)
        if symmetric:
            np.testing.assert_allclose(jaxtls.closed_form(m).matrix(), want, atol=1e-10)
            s = jaxtls.steady_state(m, solver="closed_form")
            np.testing.assert_allclose(s.matrix(), want, atol=1e-10)


def test_general_solver_matches_qutip_with_exchange():
    rng = np.random.default_rng(5)
    for symmetric in (True, False, False):
        T, J1, J2, K, kw = _random_point(rng, symmetric)
        kw["detuning"] = float(np.clip(kw["detuning"], -0.1, 0.1))
        kw["exchange"] = float(np.clip(kw["exchange"], -0.1, 0.1))
        want = oracles.qutip_steady_state(T, J1, J2, K, **kw)
        got = jaxtls.steady_state(_model(T, J1, J2, K, kw)).matrix()
        np.testing.assert_allclose(got, want, atol=1e-10)


def test_exchange_against_mpmath_near_rank_one():
    # nearly rank-one, slightly asymmetric couplings, detuned, with exchange: 50 digits
    T = np.array([3.0, 0.2])
    J1 = np.array([1.0, 50.0])
    J2 = J1 * (1 + np.array([1e-6, -2e-7]))
    K = np.sqrt(J1 * J2) * (1 - np.array([1e-9, 1e-11]))
    kw = dict(detuning=0.3, exchange=-2.0)
    want = oracles.mp_steady_state(T, J1, J2, K, **kw)
    got = np.asarray(jaxtls.steady_state(_model(T, J1, J2, K, kw)).matrix())
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-13 * np.abs(want).max())


def test_exchange_is_invisible_without_detuning_for_identical_tls():
    # H_x = Omega (|psi+><psi+| - |psi-><psi-|) only rotates the Bell coherence, which needs a
    # detuning (or asymmetric coupling) to be fed.
    m = jaxtls.Model(T=[3.0, 0.1], J=[1.0, 40.0], K=[0.2, 38.0], xi=0.01)
    base = np.asarray(jaxtls.steady_state(m).matrix())
    for om in (-5.0, 0.3, 100.0):
        for solve in (jaxtls.steady_state, jaxtls.closed_form):
            got = solve(m.replace(exchange=om)).matrix()
            np.testing.assert_allclose(got, base, atol=1e-15)
    detuned = m.replace(detuning=0.5)
    a = np.asarray(jaxtls.steady_state(detuned).matrix())
    b = np.asarray(jaxtls.steady_state(detuned.replace(exchange=3.0)).matrix())
    assert abs(a[1, 1] - a[2, 2]) < 1e-15 < abs(b[1, 1] - b[2, 2])  # p2 != p3 only with both
    assert jaxtls.negativity(b) > jaxtls.negativity(a)  # the exchange protects the coherence


def test_exchange_at_the_asymmetric_point_of_physics_md():
    # The asymmetric point quoted in physics.md: N = 0.0566 / 0.0552 / 0.0114 / 1e-4 at
    # Omega = 0 / 1e-2 / 1e-1 / 1 max J (measured there with an independent dense generator);
    # agreement to half a unit of the last quoted digit.
    T, J1, J2 = [30.0, 0.05], np.array([1e-4, 100.0]), np.array([1e-2, 40.0])
    K = np.array([0.0, -np.sqrt(4000.0)])
    quoted = {0.0: 0.0566, 1e-2: 0.0552, 1e-1: 0.0114, 1.0: 1e-4}
    for om, N in quoted.items():
        m = jaxtls.Model(T, (J1 * S, J2 * S), K * S, exchange=om * 100.0 * S)
        got = float(jaxtls.negativity(jaxtls.steady_state(m)))
        assert abs(got - N) <= 5e-5
        rho = oracles.dense_steady_state(T, J1 * S, J2 * S, K * S, exchange=om * 100.0 * S)
        assert got == pytest.approx(oracles.negativity_eig(rho), rel=1e-8, abs=1e-14)


# -- the uniqueness rule ------------------------------------------------------------------
# Non-unique steady states need a state that no bath, no dephasing and no Hamiltonian term
# moves out of (a dark, stationary state). With rank-one couplings along one direction
# (g1, g2) on every bath (J1 = g1^2 w_n, J2 = g2^2 w_n, K = g1 g2 w_n), g1 |+-> - g2 |-+> is
# dark for emission; it is dark for absorption too only if g1 = +-g2 or every T_n = 0, and
# stationary under H (splitting difference `detuning`, exchange Omega) iff
# detuning K + Omega (J2 - J1) = 0; dephasing (xi > 0) moves it. So:
# * identical TLS (K_n = +-J_n, any T): non-unique iff detuning = 0 and xi = 0, whatever Omega;
# * different TLS: non-unique iff every T_n = 0, xi = 0 and detuning K_n = Omega (J1_n - J2_n);
# * a TLS coupled to no bath: non-unique iff Omega = 0 (the exchange couples it).


def _nullity_ratio(T, J1, J2, K, kw):
    sv = np.linalg.svd(oracles.dense_liouvillian(T, J1, J2, K, **kw), compute_uv=False)
    return sv[-2] / sv[0]  # ~eps: two stationary states


RULE_CASES = {
    # name: (T, J1, J2, K, kwargs, unique)
    "identical, exchange, no detuning": ([1, 0.2], [1, 2], [1, 2], [1, 2], dict(exchange=0.7), 0),
    "identical, exchange and detuning": (
        [1, 0.2],
        [1, 2],
        [1, 2],
        [-1, -2],
        dict(exchange=0.7, detuning=0.3),
        1,
    ),
    "rank one, different, T > 0": ([1, 0.2], [1, 4], [4, 16], [2, 8], {}, 1),
    "rank one, different, T = 0": ([0, 0], [1, 4], [4, 16], [2, 8], {}, 0),
    "rank one, T = 0, exchange": ([0, 0], [1, 4], [4, 16], [2, 8], dict(exchange=0.5), 1),
    "rank one, T = 0, on the rule": (
        [0, 0],
        [1, 4],
        [4, 16],
        [2, 8],
        dict(exchange=0.5, detuning=-0.75),
        0,
    ),
    "rank one, T = 0, K < 0, on the rule": (
        [0, 0],
        [1, 4],
        [4, 16],
        [-2, -8],
        dict(exchange=0.5, detuning=0.75),
        0,
    ),
    "rank one, T = 0, off the rule": (
        [0, 0],
        [1, 4],
        [4, 16],
        [2, 8],
        dict(exchange=0.5, detuning=-0.76),
        1,
    ),
    "TLS 2 uncoupled": ([1, 0.2], [1, 4], [0, 0], [0, 0], {}, 0),
    "TLS 2 uncoupled, exchange": ([1, 0.2], [1, 4], [0, 0], [0, 0], dict(exchange=0.5), 1),
    "TLS 2 uncoupled, exchange, xi": (
        [1, 0.2],
        [1, 4],
        [0, 0],
        [0, 0],
        dict(exchange=0.5, xi=0.3),
        1,
    ),
}


@pytest.mark.parametrize("name", list(RULE_CASES))
def test_uniqueness_rule_with_exchange_and_detuning(name):
    T, J1, J2, K, kw, unique = RULE_CASES[name]
    T, J1, J2, K = (np.asarray(x, float) for x in (T, J1, J2, K))
    J1, J2, K = J1 * S, J2 * S, K * S
    kw = {k: v * S if k in ("exchange", "detuning") else v for k, v in kw.items()}
    ratio = _nullity_ratio(T, J1, J2, K, kw)
    assert (ratio > 1e-9) == bool(unique)  # the rule is the oracle's null space
    m = jaxtls.Model(T, (J1, J2), K, **kw)
    assert bool(jaxtls.diagnose(m).unique) == bool(unique)
    if unique:
        want = oracles.dense_steady_state(T, J1, J2, K, **kw)
        np.testing.assert_allclose(jaxtls.steady_state(m).matrix(), want, atol=1e-10)
    else:
        assert np.isnan(np.asarray(jaxtls.steady_state(m, check=False).matrix())).all()
        with pytest.raises(ValueError, match="not unique"):
            jaxtls.steady_state(m)


# -- the other quantities ------------------------------------------------------------------


def test_relaxation_rate_with_exchange_matches_the_dense_spectrum():
    rng = np.random.default_rng(8)
    for symmetric in (True, False):
        for _ in range(5):
            T, J1, J2, K, kw = _random_point(rng, symmetric)
            ev = np.linalg.eigvals(oracles.dense_liouvillian(T, J1, J2, K, **kw))
            rates = np.sort(-ev.real)
            want = rates[1]  # rates[0] ~ 0 is the steady state
            got = float(jaxtls.relaxation_rate(_model(T, J1, J2, K, kw)))
            assert got == pytest.approx(want, rel=1e-7)


def test_heat_currents_with_exchange_balance_and_match_the_dense_dissipators():
    rng = np.random.default_rng(9)
    for symmetric in (True, False):
        T, J1, J2, K, kw = _random_point(rng, symmetric)
        m = _model(T, J1, J2, K, kw)
        q = np.asarray(jaxtls.heat_currents(m))
        assert abs(q.sum()) < 1e-12 * np.abs(q).max()
        rho = oracles.dense_steady_state(T, J1, J2, K, **kw)
        H = np.diag([0.0, 1.0, 1.0, 2.0])  # Delta x number of excitations, Delta = 1
        for n in range(len(T)):
            zero = np.zeros_like(J1)
            one = zero.copy()
            one[n] = 1.0
            # bath n alone: its dissipator's action on the steady state
            Ln = oracles.dense_liouvillian(
                T, J1 * one, J2 * one, K * one
            ) - oracles.dense_liouvillian(T, zero, zero, zero)
            drho = (Ln @ rho.reshape(-1, order="F")).reshape(4, 4, order="F")
            assert q[n] == pytest.approx(np.trace(H @ drho).real, rel=1e-8, abs=1e-15)
