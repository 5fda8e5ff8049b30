"""Entanglement measures: XState closed forms vs eigenvalue paths of the matrix, gradients, type
dispatch (identical eagerly, under jit and under vmap)."""

import jax
import jax.numpy as jnp
import numpy as np
import oracles
import pytest
from conftest import random_params

import jaxtls

SUP = oracles.NEGATIVITY_MAX  # (sqrt 5 - 2)/6, the tests' own copy


MEASURES = ("negativity", "pt_min_eigenvalue", "concurrence", "log_negativity", "bell_populations")


def random_xstates(rng, n):
    """Random physical states of the steady-state shape (populations and rho_23), PSD, trace 1,
    as an XState."""
    p = rng.dirichlet(np.ones(4), n)
    c = rng.uniform(0, 1, n) * np.sqrt(p[:, 1] * p[:, 2]) * np.exp(2j * np.pi * rng.random(n))
    fields = (p[:, 0], p[:, 1], p[:, 2], p[:, 3], c.real, c.imag)
    return jaxtls.XState(*(jnp.asarray(f) for f in fields))


def random_x_states(rng, n):
    """Random physical X states (PSD, trace 1) with both coherences (dense matrices)."""
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


# The eigen path of concurrence (Wootters: square roots of the eigenvalues of
# sqrt(rho) rho~ sqrt(rho)) loses ~2e-14 (measured) on these states; the others agree to 1e-16.
_TOL = {"concurrence": 1e-13}


@pytest.mark.parametrize("fn", MEASURES)
def test_xstate_fast_path_equals_eigen_path_of_its_matrix(fn, rng):
    x = random_xstates(rng, 2000)
    f = getattr(jaxtls, fn)
    fast, eig = np.asarray(f(x)), np.asarray(f(x.matrix()))
    np.testing.assert_allclose(fast, eig, rtol=0, atol=_TOL.get(fn, 1e-14))
    if fn == "negativity":
        assert (fast > 1e-3).mean() > 0.2 and (fast == 0).mean() > 0.2  # both sides exercised


@pytest.mark.parametrize("fn", MEASURES)
def test_x_closed_forms_match_eigen_paths_on_steady_states(fn, rng):
    T, J, K, xi = random_params(rng, 500, 3, symmetric=False)
    m = jaxtls.Model(T, J, K, xi=xi, detuning=rng.uniform(-0.1, 0.1, 500), exchange=0.2)
    s = jaxtls.steady_state(m)
    f = getattr(jaxtls, fn)
    np.testing.assert_allclose(f(s), f(s.matrix()), rtol=0, atol=_TOL.get(fn, 1e-14))
    conv = jaxtls.XState.from_matrix(s.matrix())  # an X-shaped matrix, converted explicitly
    np.testing.assert_array_equal(np.asarray(f(conv)), np.asarray(f(s)))


@pytest.mark.parametrize("fn", MEASURES + ("pt_eigenvalues", "partial_transpose"))
def test_eager_jit_and_vmap_agree_for_both_types(fn, rng):
    f = getattr(jaxtls, fn)
    x = random_xstates(rng, 8)
    for state in (x, x.matrix(), jnp.asarray(random_states(rng, 8))):
        eager = np.asarray(f(state))
        jitted = np.asarray(jax.jit(f)(state))
        vmapped = np.asarray(jax.vmap(f)(state))
        points = [jax.tree_util.tree_map(lambda a, i=i: a[i], state) for i in range(8)]
        loop = np.stack([np.asarray(f(p)) for p in points])
        assert np.isfinite(eager).all()
        for other in (jitted, vmapped, loop):
            np.testing.assert_allclose(other, eager, rtol=1e-14, atol=1e-15)
    # The type decides, not the values: a non-X matrix under jit is the eigen path (no NaN).
    rho = random_states(rng, 3)
    ev = np.linalg.eigvalsh(np.asarray(jaxtls.partial_transpose(rho)))
    want = -np.minimum(ev, 0).sum(-1)
    np.testing.assert_allclose(jax.jit(jaxtls.negativity)(rho), want, atol=1e-14)
    with pytest.raises(TypeError, match="method"):
        jaxtls.negativity(x, method="x")  # no method= any more


def test_general_states_negativity_and_concurrence(rng):
    rho = random_states(rng, 500)
    N = np.asarray(jaxtls.negativity(rho))  # an array: eigenvalues of the partial transpose
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
    for state in (singlet, jaxtls.XState.from_matrix(singlet)):
        assert float(jaxtls.negativity(state)) == pytest.approx(0.5)
        assert float(jaxtls.concurrence(state)) == pytest.approx(1.0)
        assert float(jaxtls.log_negativity(state)) == pytest.approx(1.0)
    two_thirds = np.diag([2 / 3, 1 / 6, 1 / 6, 0]).astype(complex)
    two_thirds[1, 2] = two_thirds[2, 1] = -1 / 6
    for state in (two_thirds, jaxtls.XState.from_matrix(two_thirds)):
        assert float(jaxtls.negativity(state)) == pytest.approx(SUP, rel=1e-14)
        np.testing.assert_allclose(jaxtls.bell_populations(state), [2 / 3, 0, 1 / 3, 0], atol=1e-15)
    assert float(jaxtls.negativity(np.eye(4) / 4)) == 0.0


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
        grad = jax.grad(lambda r: f(jaxtls.XState.from_matrix(r.astype(complex))))(jnp.real(rho))
        assert np.isfinite(np.asarray(grad)).all()


@pytest.mark.parametrize("solver", ["general", "closed_form"])
def test_solver_state_and_its_matrix_give_the_same_measures(solver, rng):
    n = 300
    J = 10 ** rng.uniform(-2, 3, (n, 2))
    m = jaxtls.Model(10 ** rng.uniform(-2, 2, (n, 2)), J, rng.uniform(-1, 1, (n, 2)) * J)
    state = jaxtls.steady_state(m, solver=solver)
    rho = state.matrix()
    if solver == "closed_form":
        same = jaxtls.closed_form(m)
        for a, b in zip(same.entries, state.entries, strict=True):
            np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    np.testing.assert_array_equal(
        np.asarray(state.populations), np.real(np.diagonal(rho, 0, -2, -1))
    )
    np.testing.assert_array_equal(np.asarray(state.c), np.asarray(rho[..., 1, 2]))
    for fn in MEASURES:
        f = getattr(jaxtls, fn)
        np.testing.assert_allclose(f(state), f(rho), rtol=0, atol=_TOL.get(fn, 1e-14))


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
        jaxtls.steady_state(non_unique, check=False),
        jaxtls.steady_state(non_unique, check=False).matrix(),
    ):
        for f in (
            jaxtls.concurrence,
            jaxtls.negativity,
            jaxtls.log_negativity,
            jaxtls.pt_min_eigenvalue,
        ):
            assert np.isnan(float(f(state))), f.__name__
            assert np.isnan(float(jax.jit(f)(state))), f.__name__
    bad = jax.jit(lambda T: jaxtls.concurrence(jaxtls.steady_state(jaxtls.Model(T, [1.0], [0.5]))))
    assert np.isnan(float(bad(jnp.array([-1.0]))))  # negative temperature inside jit
