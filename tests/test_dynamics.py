"""jaxtls.dynamics: exact time evolution against QuTiP's mesolve and the steady state.

Every model here is built in the asymmetric form (J as a pair) with the same bath count, so
that each jitted function compiles once for the whole file.
"""

import jax
import jax.numpy as jnp
import numpy as np
import oracles
import pytest
import scipy.linalg

import jaxtls

qutip = pytest.importorskip("qutip")  # a test dependency (the test extra)

NP, NT = 4, 6  # points and times of every evolve call here: one compile for the file
MESOLVE = {"atol": 1e-13, "rtol": 1e-11, "nsteps": 1_000_000}


def _model(T, J1, J2, K, xi=0.0, delta=1.0, detuning=0.0, exchange=0.0):
    return jaxtls.Model(
        T=T, J=(J1, J2), K=K, xi=xi, delta=delta, detuning=detuning, exchange=exchange
    )


def _random_points(rng, n, scale=0.1):
    """Random asymmetric points with dephasing, detuning and exchange (numpy)."""
    T = 10 ** rng.uniform(-1.5, 1.5, (n, 2))
    J1 = scale * 10 ** rng.uniform(-1, 1, (n, 2))
    J2 = scale * 10 ** rng.uniform(-1, 1, (n, 2))
    K = rng.uniform(-1, 1, (n, 2)) * np.sqrt(J1 * J2)
    xi = rng.uniform(0, 0.5, n)
    det = scale * rng.uniform(-1, 1, n)
    om = scale * rng.uniform(-1, 1, n)
    return T, J1, J2, K, xi, det, om


def _random_state(rng, shape=()):
    A = rng.normal(size=shape + (4, 4)) + 1j * rng.normal(size=shape + (4, 4))
    rho = A @ np.conj(np.swapaxes(A, -1, -2))
    return rho / np.trace(rho, axis1=-2, axis2=-1)[..., None, None]


def _qutip_reference(T, J1, J2, K, xi, det, om, delta=1.0, lab=True):
    """H and c_ops built here, independently of jaxtls.qutip_operators: bath n as the
    Cholesky vectors of G_n (tests/oracles._bath_vectors), not its eigenvectors."""
    id2 = qutip.qeye(2)
    low = qutip.basis(2, 0) * qutip.basis(2, 1).dag()  # |+><-|, |+> = basis(2, 0) ground
    s1, s2 = qutip.tensor(low, id2), qutip.tensor(id2, low)
    sz1, sz2 = qutip.tensor(qutip.sigmaz(), id2), qutip.tensor(id2, qutip.sigmaz())
    d1, d2 = delta + det / 2, delta - det / 2
    H = -(d1 / 2) * sz1 - (d2 / 2) * sz2 + om * (s1.dag() * s2 + s2.dag() * s1)
    if not lab:
        H = H + (delta / 2) * (sz1 + sz2)
    n = oracles.bose(np.asarray(T), delta)
    c_ops = []
    for j1, j2, k, nn in zip(J1, J2, K, n, strict=True):
        for v0, v1 in oracles._bath_vectors(j1, j2, k):
            C = v0 * s1 + v1 * s2
            c_ops += [np.sqrt(1 + nn) * C, np.sqrt(nn) * C.dag()]
    gphi = xi * (np.sum(J1 * (1 + n)) + np.sum(J2 * (1 + n))) / 2
    c_ops.append(np.sqrt(gphi / 2) * (sz1 - sz2) / 2)
    return H, c_ops


def test_matches_mesolve_lab_frame(rng):
    pts = _random_points(rng, NP)
    rho0 = _random_state(rng, (NP,))
    t = np.linspace(0.0, 40.0, NT)
    model = _model(*pts[:4], xi=pts[4], detuning=pts[5], exchange=pts[6])
    got = np.asarray(jaxtls.evolve(model, rho0, t))
    assert got.shape == (4, 6, 4, 4)
    worst = 0.0
    for i in range(4):
        H, c_ops = _qutip_reference(*(p[i] for p in pts))
        res = qutip.mesolve(
            H, qutip.Qobj(rho0[i], dims=[[2, 2], [2, 2]]), t, c_ops, options=MESOLVE
        )
        want = np.array([s.full() for s in res.states])
        worst = max(worst, np.abs(got[i] - want).max())
    assert worst < 1e-9, worst


def test_weak_coupling_rotating_frame_matches_mesolve(rng):
    """Rates 1e-4 of Delta: QuTiP in the rotating frame (its lab frame would need ~1e5
    Bohr periods of steps); jaxtls in both frames (the frames differ only by exact phases)."""
    pts = _random_points(rng, NP, scale=1e-4)
    model = _model(*pts[:4], xi=pts[4], detuning=pts[5], exchange=pts[6])
    rho0 = _random_state(rng, (NP,))
    t = np.linspace(0.0, 3e4, NT)
    rot = np.asarray(jaxtls.evolve(model, rho0, t, frame="rotating"))
    for i in range(2):
        H, c_ops = _qutip_reference(*(p[i] for p in pts), lab=False)
        q0 = qutip.Qobj(rho0[i], dims=[[2, 2], [2, 2]])
        res = qutip.mesolve(H, q0, t, c_ops, options=MESOLVE)
        want = np.array([s.full() for s in res.states])
        assert np.abs(rot[i] - want).max() < 1e-9
    lab = np.asarray(jaxtls.evolve(model, rho0, t))
    m = np.array([0, 1, 1, 2])
    phase = np.exp(-1j * (m[:, None] - m[None, :]) * t[:, None, None])  # delta = 1
    np.testing.assert_allclose(lab, rot * phase, rtol=0, atol=1e-15)


def test_delta_drops_out_of_the_rotating_frame(rng):
    """Same rates and T/delta: the rotating-frame state is the same at delta = 1 and 1e8
    (nothing of the size delta t enters the exponential)."""
    pts = _random_points(rng, NP, scale=1e-3)
    rho0 = _random_state(rng, (NP,))
    t = np.geomspace(1.0, 1e4, NT)
    a = _model(*pts[:4], xi=pts[4], detuning=pts[5], exchange=pts[6], delta=np.ones(NP))
    b = a.replace(T=1e8 * pts[0], delta=1e8 * np.ones(NP))
    ra = np.asarray(jaxtls.evolve(a, rho0, t, frame="rotating"))
    rb = np.asarray(jaxtls.evolve(b, rho0, t, frame="rotating"))
    np.testing.assert_allclose(rb, ra, rtol=0, atol=1e-14)
    lab_b = jaxtls.evolve(b, rho0, t)  # delta t = 1e12 rad: exact phases, same entanglement
    np.testing.assert_allclose(
        jaxtls.negativity(lab_b),
        jaxtls.negativity(ra),
        atol=1e-14,  # matrices: eigen path
    )


def test_lab_frame_is_exp_of_the_dense_liouvillian(rng):
    pts = _random_points(rng, NP, scale=0.3)
    rho0 = _random_state(rng, (NP,))
    t = np.linspace(0.0, 5.0, NT)
    model = _model(*pts[:4], xi=pts[4], detuning=pts[5], exchange=pts[6])
    L = np.asarray(jaxtls.liouvillian(model))
    got = np.asarray(jaxtls.evolve(model, rho0, t))
    for i in range(NP):
        for k, tk in enumerate(t):
            v = scipy.linalg.expm(L[i] * tk) @ rho0[i].reshape(-1, order="F")
            np.testing.assert_allclose(got[i, k], v.reshape(4, 4, order="F"), atol=1e-13)
    # L = -i[H0, .] + L_I, and the two commute
    LI = np.asarray(jaxtls.rotating_liouvillian(model))
    L0 = L - LI
    assert (
        np.abs(L0 - np.einsum("...i,ij->...ij", np.diagonal(L0, 0, -2, -1), np.eye(16))).max() == 0
    )
    assert np.abs(L0 @ LI - LI @ L0).max() < 1e-14


def test_long_times_give_the_steady_state(rng):
    """Including stiff points (rates 1e-3 .. 1e3 on one model) and t = 1e9 / smallest rate."""
    pts = list(_random_points(rng, NP, scale=1.0))
    pts[1][:2] *= 10 ** rng.uniform(-3, 3, (2, 2))
    pts[3][:] = rng.uniform(-1, 1, (NP, 2)) * np.sqrt(pts[1] * pts[2])
    model = _model(*pts[:4], xi=pts[4], detuning=pts[5], exchange=pts[6])
    rmin = np.minimum(pts[1].min(1), pts[2].min(1)).min()
    t = np.geomspace(1e4, 1e9, NT) / rmin
    ss = np.asarray(jaxtls.steady_state(model).matrix())
    rho0 = _random_state(rng, (NP,))
    got = np.asarray(jaxtls.evolve(model, rho0, t))
    err = np.abs(got - ss[:, None]).max(axis=(-2, -1))
    assert err.max() < 1e-12, err
    x = jaxtls.evolve(model, jaxtls.product_ground_state(as_xstate=True), t)
    np.testing.assert_allclose(np.asarray(x.matrix())[:, -1], ss, atol=1e-12)


def test_trajectory_is_a_state(rng):
    """Trace 1, Hermitian, positive semidefinite at every time."""
    pts = _random_points(rng, NP, scale=1.0)
    model = _model(*pts[:4], xi=pts[4], detuning=pts[5], exchange=pts[6])
    rho0 = _random_state(rng, (NP,))
    t = np.concatenate([[0.0], np.geomspace(1e-3, 1e3, 4 * NT - 1)]).reshape(4, NT)
    rho = np.concatenate([np.asarray(jaxtls.evolve(model, rho0, tk)) for tk in t], axis=1)
    np.testing.assert_allclose(np.trace(rho, axis1=-2, axis2=-1), 1.0, rtol=0, atol=1e-14)
    np.testing.assert_allclose(rho, np.conj(np.swapaxes(rho, -1, -2)), rtol=0, atol=1e-14)
    assert np.linalg.eigvalsh(rho).min() > -1e-14


def test_initial_states_and_xstate_path(rng):
    pts = _random_points(rng, NP)
    model = _model(*pts[:4], xi=pts[4], detuning=pts[5], exchange=pts[6])
    t = np.geomspace(0.1, 1e3, NT)
    g = jaxtls.product_ground_state()
    assert g.shape == (4, 4) and float(g[0, 0].real) == 1.0
    full = np.asarray(jaxtls.evolve(model, g, t))
    x = jaxtls.evolve(model, jaxtls.product_ground_state(as_xstate=True), t)
    assert x.p1.shape == (NP, NT)
    np.testing.assert_allclose(np.asarray(x.matrix()), full, rtol=0, atol=1e-15)
    # the measures take both trajectories
    np.testing.assert_allclose(jaxtls.negativity(x), jaxtls.negativity(full), atol=1e-15)
    np.testing.assert_allclose(
        jaxtls.negativity_trajectory(model, g, t), jaxtls.negativity(x), atol=1e-15
    )
    # thermal state: stationary when every bath is at T; T = 0 is the ground state
    Ts = np.array([0.3, 2.0, 0.0, 5.0])
    eq = model.replace(T=np.repeat(Ts[:, None], 2, axis=1))
    th = np.asarray(jaxtls.thermal_state(eq, Ts))
    np.testing.assert_allclose(th, np.asarray(jaxtls.steady_state(eq).matrix()), atol=1e-14)
    after = np.asarray(jaxtls.evolve(eq, th, t))
    np.testing.assert_allclose(after, np.broadcast_to(th[:, None], after.shape), atol=1e-14)
    np.testing.assert_allclose(th[2], g, atol=0)
    p = np.exp(np.array([1.0, 0.0, 0.0, -1.0]) / 0.3)  # exp(-E/T), E = -delta, 0, 0, delta
    np.testing.assert_allclose(np.diag(th[0]).real, p / p.sum(), rtol=1e-14)


def test_jit_vmap_and_broadcasting(rng):
    pts = _random_points(rng, NP)
    model = _model(*pts[:4], xi=pts[4], detuning=pts[5], exchange=pts[6])
    rho0 = _random_state(rng)
    t = jnp.geomspace(0.1, 1e3, NT)
    want = np.asarray(jaxtls.evolve(model, rho0, t))
    assert want.shape == (NP, NT, 4, 4)  # one rho0 broadcast against the batch
    jitted = jax.jit(lambda m, r, t: jaxtls.evolve(m, r, t))
    np.testing.assert_allclose(np.asarray(jitted(model, rho0, t)), want, rtol=0, atol=1e-15)
    mapped = jax.vmap(lambda m: jaxtls.evolve(m, rho0, t))(model.broadcast())
    np.testing.assert_allclose(np.asarray(mapped), want, rtol=0, atol=1e-15)
    assert jaxtls.evolve(model, np.stack([rho0] * NP), t).shape == (NP, NT, 4, 4)
    with pytest.raises(ValueError, match="1-D"):
        jaxtls.evolve(model, rho0, 1.0)
    with pytest.raises(ValueError, match="frame"):
        jaxtls.evolve(model, rho0, t, frame="interaction")
    for bad in (jnp.eye(3), np.zeros((2, 4, 3))):  # the shape named, whichever entry point
        with pytest.raises(ValueError, match=r"rho0 must have shape \(\.\.\., 4, 4\)"):
            jaxtls.time_to_fraction(model, bad, t_max=1.0)
        with pytest.raises(ValueError, match=r"rho0 must have shape"):
            jaxtls.negativity_trajectory(model, bad, t)


def test_gradients_match_finite_differences(rng):
    """d/d(leaf) of a smooth scalar of the trajectory (the signed lambda_- of the X-state
    path, and a coherence of the general path) against central differences."""
    pts = _random_points(rng, 1, scale=1.0)
    p = [np.asarray(x[0], np.float64) for x in pts]
    rho0 = _random_state(rng)
    t = jnp.array([0.3, 2.0])

    @jax.jit
    def f(T, J1, J2, K, xi, det, om, tt):
        m = _model(T, J1, J2, K, xi=xi, detuning=det, exchange=om)
        x = jaxtls.evolve(m, jaxtls.product_ground_state(as_xstate=True), tt)
        r = jaxtls.evolve(m, rho0, tt)
        return jnp.sum(jaxtls.pt_min_eigenvalue(x)) + jnp.sum(jnp.real(r[..., 0, 1]))

    args = p + [t]
    grads = jax.jit(jax.grad(f, argnums=tuple(range(8))))(*args)
    for k, (a, gr) in enumerate(zip(args, grads, strict=True)):
        a = np.asarray(a, np.float64)
        fd = np.zeros_like(a)
        for idx in np.ndindex(a.shape):
            h = 1e-6 * max(abs(float(a[idx])), 1e-2)
            up, dn = a.copy(), a.copy()
            up[idx] += h
            dn[idx] -= h
            fu = f(*[up if j == k else args[j] for j in range(8)])
            fl = f(*[dn if j == k else args[j] for j in range(8)])
            fd[idx] = (float(fu) - float(fl)) / (2 * h)
        np.testing.assert_allclose(np.asarray(gr), fd, rtol=1e-5, atol=1e-8, err_msg=f"arg {k}")


def test_time_to_fraction():
    """Paper-like points: the level is reached at t*, not before; NaN for a separable steady
    state; implicit-function gradient against central differences."""
    T = np.array([[20.0, 0.1], [20.0, 0.1], [30.0, 0.05]])
    J1 = np.array([[1.0, 1000.0], [1.0, 1000.0], [1.0, 1e4]])
    K = np.array([[0.0, 1000.0], [0.0, 0.0], [0.0, 0.95e4]])
    model = _model(T, J1, J1, K, exchange=np.array([0.0, 0.0, 30.0]))
    t_star = np.asarray(jaxtls.time_to_fraction(model, fraction=0.9, t_max=1.0))
    assert np.isnan(t_star[1]) and np.all(np.isfinite(t_star[[0, 2]]))
    n_ss = np.asarray(jaxtls.negativity(jaxtls.steady_state(model)))
    g = jaxtls.product_ground_state(as_xstate=True)
    at = np.asarray(jaxtls.negativity(jaxtls.evolve(model, g, jnp.asarray(t_star[[0, 2]]))))
    np.testing.assert_allclose(at[[0, 2], [0, 1]], 0.9 * n_ss[[0, 2]], rtol=1e-9)
    fine = np.linspace(0.0, np.nanmax(t_star), 500)
    before = np.asarray(jaxtls.negativity(jaxtls.evolve(model, g, fine)))
    for i in (0, 2):
        assert np.all(before[i][fine < t_star[i] * (1 - 1e-12)] < 0.9 * n_ss[i])

    def f(T1):  # the T of bath 1 of every point
        return jaxtls.time_to_fraction(model.replace(T=T.at[:, 0].set(T1)), t_max=1.0)

    T = jnp.asarray(T)
    grad = np.asarray(jax.jacfwd(f)(T[:, 0]))
    assert grad[0, 2] == grad[2, 0] == 0.0 and np.all(grad[1] == 0.0)  # NaN point: 0
    h = 1e-4 * T[:, 0]
    fd = [
        (f(T[:, 0].at[i].add(h[i]))[i] - f(T[:, 0].at[i].add(-h[i]))[i]) / (2 * h[i])
        for i in (0, 2)
    ]
    np.testing.assert_allclose(grad[[0, 2], [0, 2]], np.asarray(fd), rtol=1e-5)
