"""Heat currents and entropy production (first and second law checks)."""

import numpy as np
from conftest import random_params
from hypothesis import given
from test_properties import models

import jaxtls

_EXCITATIONS = np.diag([0.0, 1.0, 1.0, 2.0])


def _dense_currents(model, rho):
    """Q_n = Tr[Delta N D_n(rho)] from the dense Liouvillian of bath n alone."""
    out = []
    n = model.n_baths
    bare = jaxtls.liouvillian(model.replace(J=(0 * model.J1, 0 * model.J2), K=0 * model.K, xi=0.0))
    for k in range(n):
        mask = np.eye(n)[k]
        single = model.replace(J=(model.J1 * mask, model.J2 * mask), K=model.K * mask, xi=0.0)
        L = np.asarray(jaxtls.liouvillian(single)) - np.asarray(bare)
        d = (L @ np.asarray(jaxtls.density_matrix(rho)).T.reshape(16)).reshape(4, 4).T
        out.append(float(model.delta) * np.trace(_EXCITATIONS @ d).real)
    return np.array(out)


def test_currents_match_dense_liouvillian(rng):
    for sym in (True, False):
        T, J, K, xi = random_params(rng, 5, 3, sym)
        for i in range(5):
            Ji = J[i] if sym else (J[0][i], J[1][i])
            m = jaxtls.Model(T[i], Ji, K[i], xi=xi[i], detuning=0.01, delta=1.3)
            rho = jaxtls.steady_state(m)
            np.testing.assert_allclose(
                jaxtls.heat_currents(m, rho), _dense_currents(m, rho), rtol=1e-9, atol=1e-12
            )


def test_currents_vanish_at_equal_temperatures(rng):
    T, J, K, xi = random_params(rng, 100, 3, symmetric=False)
    T = np.repeat(T[:, :1], 3, -1)
    q = np.asarray(jaxtls.heat_currents(jaxtls.Model(T, J, K, xi=xi)))
    assert np.abs(q).max() < 1e-11 * np.abs(np.asarray(J)).max()


@given(models())  # unique by construction: every drawn example is checked
def test_first_and_second_law(model):
    assert bool(jaxtls.diagnose(model).unique), f"unique by construction: {model}"
    q = np.asarray(jaxtls.heat_currents(model))
    assert np.isfinite(q).all()
    T = np.asarray(model.T)
    # Rounding scale: the energy flux each bath exchanges, ~ J (1 + 2n) delta.
    flux = float(np.max(np.asarray(model.J1) + np.asarray(model.J2)) * (1 + 2 * T.max()))
    assert abs(q.sum()) <= 1e-12 * flux
    sigma = float(jaxtls.entropy_production(model))
    t_min = T[T > 0].min() if (T > 0).any() else 1.0
    assert sigma >= -1e-12 * flux / t_min


def test_heat_flows_from_hot_to_cold_with_two_baths():
    m = jaxtls.Model(T=[3.0, 0.2], J=([1.0, 2.0], [1.5, 0.5]), K=[0.3, 0.4])
    q = np.asarray(jaxtls.heat_currents(m))
    assert q[0] > 0 > q[1]
    assert float(jaxtls.entropy_production(m)) > 0


def _mp_currents(T, J1, J2, K, dps=50):
    """Q_n = Tr[Delta N D_n(rho)] in mpmath, with the 50-digit steady state of the oracle and
    the dissipator of physics.md written out with 4x4 matrices."""
    import mpmath as mp
    import oracles

    rho = oracles.mp_steady_state(T, J1, J2, K, dps=dps, as_mp=True)
    with mp.workdps(dps):
        s1, s2 = mp.zeros(4, 4), mp.zeros(4, 4)
        s1[0, 2] = s1[1, 3] = 1  # |+><-| on TLS 1: |-+> -> |++>, |--> -> |+->
        s2[0, 1] = s2[2, 3] = 1  # on TLS 2: |+-> -> |++>, |--> -> |-+>
        H = mp.diag([0, 1, 1, 2])
        ops = (s1, s2)

        def D(A, B):
            AdB = A.H * B
            return B * rho * A.H - (AdB * rho + rho * AdB) / 2

        out = []
        for t, j1, j2, k in zip(T, J1, J2, K, strict=True):
            n = 1 / mp.expm1(1 / mp.mpf(float(t))) if t > 0 else mp.mpf(0)
            G = [[mp.mpf(float(j1)), mp.mpf(float(k))], [mp.mpf(float(k)), mp.mpf(float(j2))]]
            d = mp.zeros(4, 4)
            for i in range(2):
                for j in range(2):
                    d += G[i][j] * ((1 + n) * D(ops[i], ops[j]) + n * D(ops[i].H, ops[j].H))
            out.append(float(mp.re(sum((H * d)[a, a] for a in range(4)))))
    return np.array(out)


def test_hot_bath_current_keeps_its_accuracy():
    # found by an independent check: at T1 = 1e14 the currents summed to -1.6e-2 (the hot
    # bath's absorption and emission, each ~T, cancel)
    for T1, J in ((1e14, [1e-6, 1.0]), (1e10, [1.0, 1e3])):
        T, K = [T1, 0.1], [0.0, 0.9 * J[1]]
        q = np.asarray(jaxtls.heat_currents(jaxtls.Model(T, J, K)))
        want = _mp_currents(T, J, J, K)
        np.testing.assert_allclose(q, want, rtol=1e-12)
