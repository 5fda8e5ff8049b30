"""The price of entanglement: constrained searches, Pareto fronts, the asymmetric optimum."""

import jax.numpy as jnp
import mpmath as mp
import numpy as np
import oracles
import pytest

import jaxtls
from jaxtls import optimize

SUP = oracles.NEGATIVITY_MAX  # (sqrt 5 - 2)/6, the tests' own copy

# The asymmetric optimum found by `jaxtls optimize --space asymmetric` (benchmarks/bench_optimize).
ASYM = dict(
    T=[999.0058934840264, 0.008203565006098984],
    J1=[1.0, 865936.9169215197],
    J2=[0.8661309071200003, 999999.0847608986],
    kappa=[-0.9999999980727842, -0.9999999999809909],
)


# The fronts below use the settings of the pareto experiment's fast run (experiments/pareto.py:
# 16 starts, 150 steps, its bounds): in one pytest session the experiment, the CLI test and
# these share the compiled searches and the memoised unconstrained optimum.
FRONT = dict(n_starts=16, steps=150)


def test_relaxation_constraint_is_met_and_costs_entanglement():
    fronts = optimize.pareto_front(optimize.paper(), "min_relaxation", [1e-3, 1e-2, 1e-1], **FRONT)
    assert np.all(fronts.achieved >= 0.95 * fronts.bounds)
    assert np.all(np.diff(fronts.negativity) < 0) and fronts.negativity[-1] > 0
    assert fronts.negativity[0] <= SUP


@pytest.fixture(scope="module")
def entropy_front():
    """One front of the entropy-production bound, shared by the two tests that judge it."""
    return optimize.pareto_front(optimize.paper(), "max_entropy_production", [1e-4, 1e-2], **FRONT)


def test_entropy_production_constraint(entropy_front):
    f = entropy_front
    assert f.achieved[0] <= 1.05e-4 and f.negativity[0] > 0


def test_detuning_tolerance_constraint_is_met_and_recomputed_independently():
    bounds = [1e-2, 1e-1]
    f = optimize.pareto_front(optimize.paper(), "min_detuning_tolerance", bounds, **FRONT)
    assert np.all(f.achieved >= 0.95 * np.array(bounds))
    assert SUP >= f.negativity[0] >= f.negativity[1] > 0
    # the tolerance at the optimum, from a dense scan of the detuning (not the bisection)
    m = f.model[1]
    m = m.replace(J=m.J * 1e-9, K=m.K * 1e-9)  # rates << Delta: the same state
    jmax = float(jnp.max(m.J))
    N0 = float(jaxtls.negativity(jaxtls.steady_state(m)))
    dets = np.linspace(0, 2 * bounds[1], 4001) * jmax
    N = np.asarray(jaxtls.negativity(jaxtls.steady_state(m.replace(detuning=jnp.asarray(dets)))))
    first = dets[np.argmax(N <= 0.5 * N0)] / jmax
    assert first >= 0.95 * bounds[1]


@pytest.mark.parametrize(
    "c, match",
    [
        (optimize.Constraint("speed", 1.0), "kind"),
        (optimize.Constraint("min_relaxation", -1.0), "bound"),
    ],
)
def test_bad_constraints(c, match):
    with pytest.raises(ValueError, match=match):
        optimize.paper().constrain(c)


def test_asymmetric_optimum_verified_in_high_precision():
    J1, J2 = np.array(ASYM["J1"]), np.array(ASYM["J2"])
    K = np.array(ASYM["kappa"]) * np.sqrt(J1 * J2)
    model = jaxtls.Model(ASYM["T"], (J1, J2), K)
    rho = np.asarray(jaxtls.steady_state(model).matrix())
    with mp.workdps(50):
        exact = oracles.mp_steady_state(ASYM["T"], J1, J2, K, dps=50)
    np.testing.assert_allclose(rho, exact, rtol=0, atol=1e-9)
    N = float(jaxtls.negativity(rho))
    assert N == pytest.approx(oracles.negativity_eig(exact), abs=1e-9)
    # It beats the paper's symmetric optimum by 2.6x and tends to the 1/2-1/2 mixture of |++>
    # and psi+, whose negativity is (sqrt 2 - 1)/4 = 0.1036.
    assert 2.5 * SUP < N < (np.sqrt(2) - 1) / 4
    weights = np.asarray(jaxtls.bell_populations(rho))
    np.testing.assert_allclose(weights, [0.5, 0.5, 0.0, 0.0], atol=2e-3)
    assert optimize.classify(rho).regime == "1/2-1/2"


def test_constraint_bound_is_traced_one_compilation_serves_every_bound():
    from jaxtls.optimize import _engine

    sp = optimize.paper()
    # compilations, not results: 8 starts, the layout of the constrained search of
    # tests/test_optimize_cli.py::test_cli_max_heat_current_constraint (compiled once for both)
    kw = dict(n_starts=8, steps=20, polish_steps=0, throw=False)
    optimize.maximize_negativity(sp.constrain(optimize.Constraint("max_heat_current", 1e-4)), **kw)
    sizes = {k: f._cache_size() for k, f in _engine.ADVANCE.items()}
    r = optimize.maximize_negativity(
        sp.constrain(optimize.Constraint("max_heat_current", 2e-2)), **kw
    )
    assert {k: f._cache_size() for k, f in _engine.ADVANCE.items()} == sizes
    assert r.settings["constraints"] == [["max_heat_current", 2e-2]]


def test_runtime_bound_equals_static_bound():
    # the penalty read from `fixed` (traced) is the penalty of the constraint's own bound
    from jaxtls.optimize.objectives import space_objective

    sp = optimize.paper()
    u = sp.sample(np.random.default_rng(0), 16)
    c = sp.constrain(optimize.Constraint("min_relaxation", 1e4))
    placeholder = sp.constrain(optimize.Constraint("min_relaxation", 1.0))
    fixed = {**sp.fixed_values(), "constraint_0": 1e4}
    np.testing.assert_array_equal(
        np.asarray(space_objective(c, u)), np.asarray(space_objective(placeholder, u, fixed))
    )
    assert np.any(np.asarray(space_objective(c, u)) != np.asarray(space_objective(sp, u)))


def test_pareto_front_is_monotone_and_consistent(entropy_front):
    f = entropy_front
    assert np.all(np.diff(f.negativity) >= 0)  # a looser bound can only help
    assert np.all(f.achieved <= 1.01 * f.bounds)
    np.testing.assert_allclose(f.achieved, f.entropy_production)
    N = np.asarray(jaxtls.negativity(jaxtls.steady_state(f.model)))
    np.testing.assert_allclose(N, f.negativity, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(f.bell.sum(-1), 1.0, atol=1e-12)


@pytest.mark.parametrize(
    "kind, bounds, match",
    [
        ("speed", [1e-3], "kind"),
        ("min_relaxation", [0.0], "bound"),
        ("min_relaxation", [], "non-empty"),
    ],
)
def test_pareto_front_bad_input(kind, bounds, match):
    with pytest.raises(ValueError, match=match):
        optimize.pareto_front(optimize.paper(), kind, bounds, n_starts=2, steps=2)


def test_search_grid_warm_start_shape_is_checked():
    sp = optimize.paper()
    with pytest.raises(ValueError, match="u0 must have shape"):
        optimize.search_grid(
            sp.replace(J_2=optimize.Fixed(10.0)),
            {"J_2": [10.0, 20.0]},
            n_starts=4,
            steps=2,
            u0=np.zeros((3, 4)),
        )


def test_detuning_tolerance_penalty_is_full_on_separable_points():
    # found by an adversarial check: the NaN tolerance of separable points counted as inf (no
    # penalty), so a constrained search escaped to N = 0 and reported status "ok"
    from jaxtls.optimize.constraints import measure, penalty
    from jaxtls.optimize.search import _status

    separable = jaxtls.Model(T=[0.7, 0.4], J=[1.0, 3.0], K=[0.3, 1.0])
    assert float(measure("min_detuning_tolerance", separable)) == 0.0
    c = [optimize.Constraint("min_detuning_tolerance", 0.05)]
    assert float(penalty(c, separable)) > 1e3
    state = jaxtls.steady_state(separable)
    status, achieved = _status(separable, state, [("min_detuning_tolerance", 0.05)])
    assert status == "infeasible" and achieved[0][2] == 0.0
