"""jaxtls.detuning_tolerance: definition, accuracy, batching, gradients and its mechanism."""

from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxtls
from jaxtls.optimize._engine import FAST_COMPILE

# The gradient tests' programs (the tolerance's grid, bisection and Newton step, each over the
# steady state) take about a minute to compile at full XLA optimisation on a CPU: they compile
# at backend level 0, the same arithmetic (the optimizer's fast_compile).
_fast_jit = partial(jax.jit, compiler_options=FAST_COMPILE)

S = 1e-6  # rates small against Delta (the tolerance scales with them)


def _N(model, detuning):
    """Negativity at one detuning (a float) or many (an array: one batched call)."""
    state = jaxtls.steady_state(model.replace(detuning=jnp.asarray(detuning)), check=False)
    return np.asarray(jaxtls.negativity(state))


POINTS = {
    "fig4": jaxtls.Model(T=[20.0, 0.1], J=[S, 1e3 * S], K=[0.0, 1e3 * S]),
    "detuned, exchange": jaxtls.Model(
        T=[20.0, 0.1], J=[S, 1e3 * S], K=[0.0, 1e3 * S], detuning=300 * S, exchange=-2e3 * S
    ),
    "asymmetric": jaxtls.Model(
        T=[30.0, 0.05], J=([1e-4 * S, 100 * S], [1e-2 * S, 40 * S]), K=[0.0, -np.sqrt(4e3) * S]
    ),
}


@pytest.mark.parametrize("name", list(POINTS))
@pytest.mark.parametrize("fraction", [0.5, 0.9])
def test_tolerance_is_the_nearest_crossing(name, fraction):
    m = POINTS[name]
    t = float(jaxtls.detuning_tolerance(m, fraction))
    det0, N0 = float(m.detuning), float(_N(m, float(m.detuning)))
    assert np.isfinite(t) and t > 0
    hits = _N(m, det0 + np.array([t, -t])) / N0
    assert np.min(np.abs(hits - fraction)) < 1e-6  # N = fraction N0 at one side
    # and nowhere closer: a fine scan of both sides stays above the fraction
    x = t * np.linspace(0.001, 0.999, 2000)
    assert np.min(_N(m, det0 + np.concatenate([x, -x])) / N0) > fraction


def test_nan_where_separable_inf_where_never_reached():
    separable = jaxtls.Model(T=[0.7, 0.4], J=[S, 3 * S], K=[0.3 * S, S])
    assert float(jaxtls.negativity(jaxtls.steady_state(separable))) == 0.0
    assert np.isnan(float(jaxtls.detuning_tolerance(separable)))
    # an exchange 1e12 times the rates puts the fall beyond the searched range: inf
    shielded = POINTS["fig4"].replace(exchange=1e12 * 1e3 * S)
    assert float(jaxtls.detuning_tolerance(shielded)) == np.inf


def test_scale_free_batched_and_jitted():
    m = POINTS["fig4"]
    t = float(jaxtls.detuning_tolerance(m))
    big = jaxtls.Model(T=[20.0, 0.1], J=[1.0, 1e3], K=[0.0, 1e3])  # rates >> Delta: same state
    assert float(jaxtls.detuning_tolerance(big)) == pytest.approx(t / S, rel=1e-9)
    T1 = jnp.array([5.0, 20.0, 80.0])
    batch = jaxtls.Model(T=jnp.stack([T1, jnp.full(3, 0.1)], -1), J=m.J, K=m.K)
    got = np.asarray(jax.jit(jaxtls.detuning_tolerance)(batch))
    loop = [float(jaxtls.detuning_tolerance(batch[i])) for i in range(3)]
    np.testing.assert_allclose(got, loop, rtol=1e-12)
    assert got.shape == (3,) and got[1] == pytest.approx(t, rel=1e-12)
    # found by an independent check: at rates x 2^-990 the tolerance (~1e-305) came out 0
    # (its scale factor ~1e293 divided out under jit); scales are exact powers of 2 now
    s = 2.0 ** np.array([-1000.0, -990.0, 900.0])
    far = jaxtls.Model(
        T=[20.0, 0.1], J=np.asarray(m.J) * s[:, None], K=np.asarray(m.K) * s[:, None]
    )
    np.testing.assert_allclose(np.asarray(jaxtls.detuning_tolerance(far)) / s, t, rtol=1e-9)


def test_gradient_matches_finite_differences():
    m = POINTS["detuned, exchange"]
    f = _fast_jit(jaxtls.detuning_tolerance)
    g = _fast_jit(jax.grad(jaxtls.detuning_tolerance))(m)
    for leaf, path, step in [("T", (0,), 1e-5), ("K", (0,), 1e-3 * S), ("J", (0,), 1e-5 * S)]:
        base = np.asarray(getattr(m, leaf))
        plus, minus = base.copy(), base.copy()
        plus[path] += step
        minus[path] -= step
        fd = (float(f(m.replace(**{leaf: plus}))) - float(f(m.replace(**{leaf: minus})))) / (
            2 * step
        )
        assert float(getattr(g, leaf)[path]) == pytest.approx(fd, rel=1e-4)
    for leaf, step in [("exchange", 1e-3 * S), ("detuning", 1e-3 * S), ("xi", 1e-4)]:
        x = float(getattr(m, leaf))
        fd = (
            (float(f(m.replace(**{leaf: x + step}))) - float(f(m.replace(**{leaf: x - step}))))
            / (2 * step)
            if leaf != "xi"
            else (float(f(m.replace(xi=step))) - float(f(m))) / step
        )
        assert float(getattr(g, leaf)) == pytest.approx(fd, rel=1e-3)


def test_exchange_widens_the_tolerance_as_the_rate_picture_says():
    # Identical TLS at zero detuning: the detuning acts mainly through the psi+/psi- mixing
    # d^2 g_u / (2 (g_u g_v + 4 Omega^2)), so tol(Omega) = tol(0) sqrt(1 + 4 Omega^2/(g_u g_v)),
    # up to the detuning's Im rho_23, a relative correction of order gap / alpha.
    for ratio in (1e3, 1e5):
        m = jaxtls.Model(T=[20.0, 0.1], J=[S, ratio * S], K=[0.0, ratio * S], xi=1e-4)
        r = jaxtls.rates(m)
        g_v = float(r.alpha)
        g_u = g_v - float(r.gamma_phi)
        small = float(jaxtls.relaxation_rate(m)) / g_v
        t0 = float(jaxtls.detuning_tolerance(m))
        for om in (0.3, 3.0, 30.0):
            om = om * g_v
            want = t0 * np.sqrt(1 + 4 * om**2 / (g_u * g_v))
            got = float(jaxtls.detuning_tolerance(m.replace(exchange=om)))
            assert abs(got / want - 1) < small  # 3.7e-2 at J2/J1 = 1e3, 4.7e-4 at 1e5


def test_without_exchange_the_tolerance_is_the_geometric_mean_of_gap_and_bright_rate():
    # Next to the non-unique manifold the entanglement is lost once the detuning's mixing
    # d^2 / (2 alpha) competes with the dark channel's rate (the gap): tol ~ sqrt(gap alpha).
    rng = np.random.default_rng(0)
    ratios = []
    while len(ratios) < 8:
        r = 10 ** rng.uniform(1, 6)
        T = [10 ** rng.uniform(0.3, np.log10(r) - 0.5), 10 ** rng.uniform(-2.5, -1)]
        kappa = rng.choice([1, -1]) * (1 - 10 ** rng.uniform(-6, -1))
        m = jaxtls.Model(T=T, J=[S, r * S], K=[rng.uniform(-0.5, 0.5) * S, kappa * r * S])
        if float(jaxtls.negativity(jaxtls.steady_state(m))) < 1e-3:
            continue
        gap = float(jaxtls.relaxation_rate(m))
        ratios.append(
            float(jaxtls.detuning_tolerance(m)) / np.sqrt(gap * float(jaxtls.rates(m).alpha))
        )
    assert 0.5 < min(ratios) and max(ratios) < 2.0, ratios


def test_bad_fraction():
    with pytest.raises(ValueError, match="fraction"):
        jaxtls.detuning_tolerance(POINTS["fig4"], 1.0)


def test_gradient_at_the_symmetric_kink_is_the_mean_of_both_sides():
    # found by an adversarial check: at detuning = exchange = 0 N(d, W) = N(-d, -W), so the
    # tolerance has a kink; grad took the + side (-1) where the central difference is 0
    m = POINTS["asymmetric"]

    # the gradient with respect to the two leaves asserted on only: the same derivatives,
    # and the program compiles in half the time of the whole model's gradient (28 vs 63 s)
    def tol(detuning, exchange):
        return jaxtls.detuning_tolerance(m.replace(detuning=detuning, exchange=exchange))

    grads = _fast_jit(jax.grad(tol, argnums=(0, 1)))(m.detuning, m.exchange)
    g = dict(zip(("detuning", "exchange"), grads, strict=True))
    assert float(m.detuning) == float(m.exchange) == 0.0  # the kink: the model's own values
    h = 1e-3 * S
    for leaf in ("detuning", "exchange"):
        fd = float(jaxtls.detuning_tolerance(m.replace(**{leaf: h})))
        fd -= float(jaxtls.detuning_tolerance(m.replace(**{leaf: -h})))
        assert abs(float(g[leaf])) < 1e-6 and abs(fd / (2 * h)) < 1e-3
