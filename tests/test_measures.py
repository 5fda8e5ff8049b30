"""Entanglement measures: X-state closed forms vs eigenvalue paths, gradients, method choice."""

import jax
import jax.numpy as jnp
import numpy as np
import oracles
import pytest

import jaxtls

SUP = oracles.NEGATIVITY_MAX  # (sqrt 5 - 2)/6, the tests' own copy


def random_x_states(rng, n):
    """Random physical X states (PSD, trace 1) with both coherences."""
    p = rng.dirichlet(np.ones(4), n)
    c = rng.uniform(0, 1, n) * np.sqrt(p[:, 1] * p[:, 2]) * np.exp(2j * np.pi * rng.random(n))
    d = rng.uniform(0, 1, n) * np.sqrt(p[:, 0] * p[:, 3]) * np.exp(2j * np.pi * rng.random(n))
    rho = np.zeros((n, 4, 4), complex)
    rho[:, range(4), range(4)] = p
    rho[:, 1, 2], rho[:, 2, 1], rho[:, 0, 3], rho[:, 3, 0] = c, c.conj(), d, d.conj()
    return rho


def random_states(rng, n):
    """Random full-rank mixed states (Ginibre)."""
    g = rng.normal(size=(n, 4, 4)) + 1j * rng.normal(size=(n, 4, 4))
    rho = g @ np.conj(np.swapaxes(g, -1, -2))
    return rho / np.trace(rho, axis1=-2, axis2=-1)[:, None, None]


def test_partial_transpose_moves_coherences_between_blocks():
    rho = random_x_states(np.random.default_rng(0), 1)[0]
    pt = np.asarray(jaxtls.partial_transpose(rho))
    assert pt[0, 3] == rho[1, 2] and pt[1, 2] == rho[0, 3]
    np.testing.assert_allclose(jaxtls.partial_transpose(pt), rho)


@pytest.mark.parametrize("fn", ["negativity", "pt_min_eigenvalue", "concurrence", "log_negativity"])
def test_x_closed_forms_match_eigen_paths(fn, rng):
    rho = random_x_states(rng, 2000)
    f = getattr(jaxtls, fn)
    np.testing.assert_allclose(f(rho, method="x"), f(rho, method="eig"), atol=1e-12)


def test_general_states_negativity_and_concurrence(rng):
    rho = random_states(rng, 500)
    N = np.asarray(jaxtls.negativity(rho))  # auto -> eig (not X-shaped)
    ev = np.linalg.eigvalsh(np.asarray(jaxtls.partial_transpose(rho)))
    np.testing.assert_allclose(N, -np.minimum(ev, 0).sum(-1), atol=1e-13)
    # Pure two-qubit states: C = 2 |a00 a11 - a01 a10| and N = C/2.
    psi = rng.normal(size=(200, 4)) + 1j * rng.normal(size=(200, 4))
    psi /= np.linalg.norm(psi, axis=-1, keepdims=True)
    pure = psi[:, :, None] * psi[:, None, :].conj()
    C_pure = 2 * np.abs(psi[:, 0] * psi[:, 3] - psi[:, 1] * psi[:, 2])
    np.testing.assert_allclose(jaxtls.concurrence(pure), C_pure, atol=1e-6)
    np.testing.assert_allclose(jaxtls.negativity(pure), C_pure / 2, atol=1e-10)


def test_known_states():
    singlet = np.zeros((4, 4))
    singlet[1:3, 1:3] = [[0.5, -0.5], [-0.5, 0.5]]
    for method in ("x", "eig"):
        assert float(jaxtls.negativity(singlet, method=method)) == pytest.approx(0.5)
        assert float(jaxtls.concurrence(singlet, method=method)) == pytest.approx(1.0)
        assert float(jaxtls.log_negativity(singlet, method=method)) == pytest.approx(1.0)
    two_thirds = np.diag([2 / 3, 1 / 6, 1 / 6, 0]).astype(complex)
    two_thirds[1, 2] = two_thirds[2, 1] = -1 / 6
    assert float(jaxtls.negativity(two_thirds)) == pytest.approx(SUP, rel=1e-14)
    np.testing.assert_allclose(
        jaxtls.bell_populations(two_thirds), [2 / 3, 0, 1 / 3, 0], atol=1e-15
    )
    assert float(jaxtls.negativity(np.eye(4) / 4)) == 0.0


def test_auto_method_eager_and_under_jit(rng):
    rho = random_states(rng, 3)
    eig = jaxtls.negativity(rho, method="eig")
    np.testing.assert_allclose(jaxtls.negativity(rho), eig)
    # Under jit, "auto" cannot branch: a non-X state gives NaN, never a wrong number.
    assert np.isnan(np.asarray(jax.jit(jaxtls.negativity)(rho))).all()
    x = random_x_states(rng, 3)
    np.testing.assert_allclose(
        jax.jit(jaxtls.negativity)(x), jaxtls.negativity(x, method="eig"), atol=1e-12
    )
    with pytest.raises(ValueError, match="method"):
        jaxtls.negativity(x, method="svd")


def test_bell_populations_are_bell_basis_diagonal(rng):
    rho = random_states(rng, 50)
    s = 1 / np.sqrt(2)
    B = np.array([[1, 0, 0, 0], [0, s, s, 0], [0, s, -s, 0], [0, 0, 0, 1]])
    want = np.real(np.einsum("ki,nij,kj->nk", B, rho, B))
    np.testing.assert_allclose(jaxtls.bell_populations(rho), want, atol=1e-15)


@pytest.mark.parametrize("fn", ["negativity", "pt_min_eigenvalue", "concurrence", "log_negativity"])
def test_x_path_gradients_finite_at_degenerate_states(fn):
    f = getattr(jaxtls, fn)
    for rho in (jnp.eye(4, dtype=complex) / 4, jnp.diag(jnp.array([1.0, 0, 0, 0], complex))):
        grad = jax.grad(lambda r: f(r.astype(complex), method="x"))(jnp.real(rho))
        assert np.isfinite(np.asarray(grad)).all()


@pytest.mark.parametrize("method", ["general", "closed_form"])
def test_xstate_path_equals_matrix_path(method, rng):
    n = 300
    J = 10 ** rng.uniform(-2, 3, (n, 2))
    m = jaxtls.Model(10 ** rng.uniform(-2, 2, (n, 2)), J, rng.uniform(-1, 1, (n, 2)) * J)
    state = jaxtls.xstate(m, method=method)
    rho = state.matrix()
    solver = jaxtls.steady_state if method == "general" else jaxtls.closed_form
    np.testing.assert_array_equal(np.asarray(rho), np.asarray(solver(m)))
    np.testing.assert_array_equal(
        np.asarray(state.populations), np.real(np.diagonal(rho, 0, -2, -1))
    )
    for fn in (
        "negativity",
        "log_negativity",
        "concurrence",
        "pt_min_eigenvalue",
        "bell_populations",
    ):
        f = getattr(jaxtls, fn)
        np.testing.assert_allclose(f(state), f(rho), rtol=0, atol=1e-15)
    np.testing.assert_allclose(
        jaxtls.negativity(state, method="eig"), jaxtls.negativity(rho), atol=1e-13
    )
    with pytest.raises(ValueError, match="method"):
        jaxtls.xstate(m, method="dense")


def test_gradients_finite_at_nearly_pure_ground_state_with_underflowing_populations():
    import jax

    def f(p):
        state = jaxtls.XState(1 - 2 * p, p, p, p * p, -0.5 * p, 0.0 * p)
        return (
            jaxtls.pt_min_eigenvalue(state) + jaxtls.negativity(state) + jaxtls.concurrence(state)
        )

    for p in (1e-3, 1e-100, 1e-164, 1e-200, 1e-310, 0.0):
        g = jax.grad(f)(p)
        assert np.isfinite(float(g)), p


def test_every_measure_is_nan_on_invalid_and_non_unique_points():
    # found by an independent check: concurrence gave 0.0 (a plausible number) there
    non_unique = jaxtls.Model(T=[1.0, 0.1], J=[1.0, 2.0], K=[1.0, 2.0])
    for state in (
        jaxtls.xstate(non_unique, check=False),
        jaxtls.steady_state(non_unique, check=False),
    ):
        for f in (
            jaxtls.concurrence,
            jaxtls.negativity,
            jaxtls.log_negativity,
            jaxtls.pt_min_eigenvalue,
        ):
            assert np.isnan(float(f(state))), f.__name__
            assert np.isnan(float(jax.jit(f)(state))), f.__name__
    bad = jax.jit(lambda T: jaxtls.concurrence(jaxtls.xstate(jaxtls.Model(T, [1.0], [0.5]))))
    assert np.isnan(float(bad(jnp.array([-1.0]))))  # negative temperature inside jit
