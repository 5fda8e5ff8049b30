"""optimize.space: bijections, search spaces as data (free, fixed, tied), and bad spaces."""

import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import jaxtls
from jaxtls import optimize
from jaxtls.optimize import Fixed, Free, Space, Tied
from jaxtls.optimize.space import U_MAX, from_box, to_box

BOUNDS = [
    Free(1e-3, 1e3, "log"),
    Free(-1.0, 1.0),
    Free(0.0, 8.0),
    Free(1.0, 1e6, "log"),
    Free(1e-2, 1e2, "log"),
]


# -- bijections --------------------------------------------------------------------------
@pytest.mark.parametrize("bound", BOUNDS)
def test_bijection_respects_bounds_and_is_monotone(bound):
    u = jnp.concatenate([jnp.linspace(-1e4, 1e4, 4001), jnp.array([-jnp.inf, jnp.inf])])
    x = np.asarray(to_box(u, bound))
    assert np.all(np.isfinite(x))
    assert np.all(x >= bound.lo) and np.all(x <= bound.hi)
    assert np.all(np.diff(x[:-2]) >= 0)
    if bound == Free(-1.0, 1.0):  # kappa is approached, never reached
        assert np.all(np.abs(x) < 1)
        assert 1 - x.max() < 1e-12  # ... but closely (the paper's optimum sits at K_2 -> J_2)


@pytest.mark.parametrize("bound", BOUNDS)
def test_bijection_gradient_finite_everywhere(bound):
    u = jnp.concatenate([jnp.linspace(-1e3, 1e3, 2001), jnp.array([-U_MAX, U_MAX, 0.0])])
    g = np.asarray(jax.vmap(jax.grad(lambda v: to_box(v, bound)))(u))
    assert np.all(np.isfinite(g)) and np.all(g >= 0)
    assert np.all(g[np.abs(np.asarray(u)) < 20] > 0)  # strictly increasing inside


@given(t=st.floats(1e-9, 1 - 1e-9), which=st.integers(0, len(BOUNDS) - 1))
def test_bijection_round_trip(t, which):
    bound = BOUNDS[which]
    if bound.scale == "log":
        x = bound.lo * (bound.hi / bound.lo) ** t
    else:
        x = bound.lo + (bound.hi - bound.lo) * t
    back = float(to_box(from_box(x, bound), bound))
    assert back == pytest.approx(x, rel=1e-9, abs=1e-12)


@given(u=st.floats(-25.0, 25.0), which=st.integers(0, len(BOUNDS) - 1))
def test_bijection_round_trip_from_unconstrained(u, which):
    bound = BOUNDS[which]
    assert float(from_box(to_box(u, bound), bound)) == pytest.approx(u, rel=1e-6, abs=1e-6)


def test_out_of_box_values_saturate():
    b = Free(-1.0, 1.0)
    u = np.asarray(from_box(jnp.array([-5.0, -1.0, 1.0, 5.0]), b))
    assert np.all(np.isfinite(u))
    x = np.asarray(to_box(u, b))
    assert np.all((x > -1) & (x < 1))


# -- spaces ------------------------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(optimize.SPACES))
def test_ready_made_spaces_round_trip_and_build_models(name):
    sp = optimize.get_space(name)
    u = sp.sample(1, 64)
    assert u.shape == (64, sp.dim)
    vals = sp.values(u)
    for k, b in sp.bounds.items():
        if isinstance(b, Free):
            v = np.asarray(vals[k])
            assert np.all((v >= b.lo) & (v <= b.hi)), k
    np.testing.assert_allclose(np.asarray(sp.to_unconstrained(vals)), u, rtol=1e-8, atol=1e-8)
    m = sp.model({k: v[0] for k, v in vals.items()})  # concrete: validated by jaxtls.Model
    assert m.n_baths == 2 and m.symmetric == (name != "asymmetric")
    batch = sp.model(vals)
    assert batch.batch_shape == (64,)
    assert json.loads(json.dumps(sp.spec()))["name"] == name


def test_starts_from_a_jax_key_round_trip():
    # sample() also takes a JAX PRNG key (the compiled sampler); values and back
    sp = optimize.asymmetric()
    u = sp.sample(jax.random.PRNGKey(1), 50)
    assert u.shape == (50, sp.dim)
    vals = sp.values(u)
    np.testing.assert_allclose(np.asarray(sp.to_unconstrained(vals)), u, rtol=1e-8, atol=1e-8)
    m = sp.model({k: v[0] for k, v in vals.items()})  # concrete: validated by jaxtls.Model
    assert not m.symmetric and m.n_baths == 2


def test_paper_space_is_the_papers():
    sp = optimize.paper()
    assert sp.symmetric and sp.n_baths == 2 and not sp.ohmic
    b = sp.bounds
    assert b["J_1"] == Fixed(1.0) and b["xi"] == Fixed(0.0)
    assert b["J_2"] == Free(1.0, 1e6, "log")
    assert b["T_1"] == b["T_2"] == Free(1e-3, 1e3, "log")
    assert b["kappa_1"] == b["kappa_2"] == Free(-1.0, 1.0)


def test_ohmic_xi_is_tied_to_the_temperatures():
    sp = optimize.ohmic(xibar_1=0.01, xibar_2=0.5)
    vals = sp.values(sp.sample(0, 5))
    m = sp.model(vals)
    expect = 0.01 * np.asarray(vals["T_1"]) + 0.5 * np.asarray(vals["T_2"])
    np.testing.assert_allclose(np.asarray(m.xi), expect, rtol=1e-14)


def test_free_xi_and_three_baths():
    p = {"xi": Free(0.0, 2.0)}
    for n in (1, 2, 3):
        p.update({f"T_{n}": Free(0.01, 10.0, "log"), f"J_{n}": 1.0 * n, f"kappa_{n}": (-1, 1)})
    sp = Space("three", p, n_baths=3)
    assert "xi" in sp.free_names and sp.dim == 7
    m = sp.model(sp.values(jnp.zeros(sp.dim)))
    assert m.n_baths == 3 and float(m.xi) == pytest.approx(1.0)


def test_tied_quantities():
    # Asymmetric space with both TLS coupled alike to bath 1 and kappa_1 = -kappa_2.
    sp = optimize.asymmetric().replace(**{"J(2)_1": Tied("J(1)_1"), "kappa_1": Tied("kappa_2", -1)})
    assert "J(2)_1" not in sp.free_names and "kappa_1" not in sp.free_names
    assert sp.tied_names == ("J(2)_1", "kappa_1")
    vals = sp.values(sp.sample(3, 7))
    np.testing.assert_array_equal(np.asarray(vals["J(2)_1"]), 1.0)
    np.testing.assert_array_equal(np.asarray(vals["kappa_1"]), -np.asarray(vals["kappa_2"]))
    assert sp.spec()["params"]["kappa_1"] == {"tied": ["kappa_2", -1.0]}
    # Ties follow overridden fixed values (e.g. traced values inside a grid search).
    v2 = sp.values(jnp.zeros(sp.dim), fixed={**sp.fixed_values(), "J(1)_1": 3.0})
    assert float(v2["J(2)_1"]) == 3.0
    # Bath 1 then couples both TLS alike (K_1 = kappa_1 J(1)_1 exactly).
    m = sp.model(vals)
    np.testing.assert_array_equal(np.asarray(m.J1[:, 0]), np.asarray(m.J2[:, 0]))


def test_geometry_space_variants():
    sp = optimize.geometry(dims=(1, 3))
    assert sp.variants() == [{2: 1}, {2: 3}]
    vals = sp.values(jnp.zeros((1, sp.dim)))
    k = [float(sp.model(vals, {2: D}).K[0, 1] / sp.model(vals, {2: D}).J[0, 1]) for D in (1, 3)]
    d = float(vals["dbar_2"][0])
    assert k == pytest.approx([np.cos(d), np.sin(d) / d], rel=1e-12)


# -- bad spaces --------------------------------------------------------------------------
def _paper_with(**changes):
    p = dict(optimize.paper().params)
    p.update(changes)
    return p


@pytest.mark.parametrize(
    "params, match",
    [
        (_paper_with(T_1=Free(1.0, 1.0, "log")), "empty bounds"),
        (_paper_with(T_1=()), "empty bounds"),
        (_paper_with(kappa_1=(0.5,)), "bounds must be"),
        (_paper_with(T_1=Free(10.0, 1.0, "log")), r"lower bound 10 > upper bound 1"),
        (_paper_with(kappa_1=(0.5, -0.5)), "lower bound"),
        (_paper_with(kappa_1=Free(-2.0, 1.0)), r"kappa = K/sqrt\(J1 J2\) must lie in \[-1, 1\]"),
        (_paper_with(kappa_2=Fixed(1.5)), "kappa"),
        (_paper_with(T_1=Free(0.0, 1.0, "log")), "log-scale box needs lo > 0"),
        (_paper_with(J_2=Free(-1.0, 1.0)), "must be >= 0"),
        (_paper_with(T_2=-1.0), "must be >= 0"),
        (_paper_with(T_1=Free(0.0, np.inf)), "finite"),
        (_paper_with(T_1=Free(1.0, 2.0, "cubic")), "scale must be"),
        (_paper_with(bogus=1.0), "unknown parameters"),
        ({"T_1": 1.0}, "missing parameters"),
        (_paper_with(T_1="hot"), "expected Free, Fixed, Tied or a number"),
        (_paper_with(T_1=Tied("T_1")), "tied to itself"),
        (_paper_with(T_1=Tied("T_9")), "unknown quantity"),
        (_paper_with(T_1=Tied("T_2"), T_2=Tied("T_1")), "tied itself"),
        (_paper_with(kappa_1=Tied("kappa_2", 2.0)), "kappa"),
        (_paper_with(T_1=Tied("T_2", -1.0)), "must be >= 0"),
    ],
)
def test_bad_spaces_raise_clear_errors(params, match):
    with pytest.raises(ValueError, match=match):
        Space("bad", params)


@pytest.mark.parametrize("dims", [(1, 4), (0,), ("3",), ()])
def test_unknown_or_missing_D_raises(dims):
    p = dict(optimize.geometry().params)
    with pytest.raises(ValueError, match="D must be 1, 2 or 3|empty set of dimensionalities"):
        Space("bad", p, geometry={2: dims})


def test_other_bad_inputs():
    for dims in ((5,), (0,)):
        with pytest.raises(ValueError, match="D must be 1, 2 or 3"):
            optimize.geometry(dims=dims)
    with pytest.raises(ValueError, match="bath 3 does not exist"):
        Space("bad", dict(optimize.geometry().params), geometry={3: (1,), 2: (1,)})
    with pytest.raises(ValueError, match="n_baths must be >= 1"):
        Space("bad", {}, n_baths=0)
    with pytest.raises(ValueError, match="unknown space 'nope'"):
        optimize.get_space("nope")
    with pytest.raises(ValueError, match=r"u must have shape \(\.\.\., 5\)"):
        optimize.paper().values(jnp.zeros(3))


# -- exchange and detuning (optional signed rates, units of J) ----------------------------
def _detuned(exchange, detuning=1.0):
    """J_1 = 0.01, J_2 = 1, K_2 = 0.999 J_2, T_2 = 1e-3: a detuning of J_2 kills N."""
    p = {"T_1": Free(0.1, 100.0, "log"), "J_1": 0.01, "kappa_1": 0.0, "T_2": 1e-3}
    p.update(J_2=1.0, kappa_2=0.999, detuning=detuning, exchange=exchange)
    return Space("detuned", p)


def test_exchange_and_detuning_default_to_zero_and_leave_spaces_unchanged():
    for name in sorted(optimize.SPACES):
        sp = optimize.get_space(name)
        assert "exchange" not in sp.required_names() and "detuning" not in sp.spec()["params"]
        assert sp.bounds["exchange"] == sp.bounds["detuning"] == Fixed(0.0)
        m = sp.model(sp.values(sp.sample(0, 3)))
        assert np.all(np.asarray(m.exchange) == 0) and np.all(np.asarray(m.detuning) == 0)
    sp = optimize.paper().replace(exchange=Fixed(0.0))
    assert sp.required_names()[-1] == "exchange" and sp.free_names == optimize.paper().free_names


def test_exchange_and_detuning_free_fixed_tied_round_trip():
    sp = optimize.asymmetric().replace(exchange=Free(-1.0, 1.0), detuning=Fixed(-0.25))
    assert sp.free_names[-1] == "exchange" and sp.dim == optimize.asymmetric().dim + 1
    u = sp.sample(2, 16)
    vals = sp.values(u)
    assert np.all(np.abs(np.asarray(vals["exchange"])) < 1) and np.any(vals["exchange"] < 0)
    np.testing.assert_allclose(np.asarray(sp.to_unconstrained(vals)), u, rtol=1e-8, atol=1e-8)
    m = sp.model(vals)  # rates in units of Delta: one unit of the space is RATE_UNIT
    unit = optimize.space.RATE_UNIT
    np.testing.assert_array_equal(np.asarray(m.exchange), np.asarray(vals["exchange"]) * unit)
    np.testing.assert_array_equal(np.asarray(m.detuning), -0.25 * unit)
    np.testing.assert_array_equal(np.asarray(m.J1[..., 0]), unit)  # J(1)_1 = 1
    spec = json.loads(json.dumps(sp.spec()))["params"]
    assert spec["exchange"] == {"free": [-1.0, 1.0, "linear"]} and spec["detuning"] == {
        "fixed": -0.25
    }
    # exchange tied to J_2 (a rate like it), detuning tied to the exchange
    tied = optimize.paper().replace(
        J_2=Free(1.0, 10.0, "log"), exchange=Tied("J_2", -0.3), detuning=Free(-1.0, 1.0)
    )
    tied = tied.replace(kappa_1=Tied("detuning", 0.5))
    vals = tied.values(tied.sample(4, 8))
    np.testing.assert_allclose(np.asarray(vals["exchange"]), -0.3 * np.asarray(vals["J_2"]))
    np.testing.assert_allclose(np.asarray(vals["kappa_1"]), 0.5 * np.asarray(vals["detuning"]))
    m = tied.model(vals)
    np.testing.assert_allclose(np.asarray(m.exchange), -0.3 * np.asarray(m.J[:, 1]))
    assert tied.spec()["params"]["exchange"] == {"tied": ["J_2", -0.3]}
    assert tied.tied_names == ("kappa_1", "exchange")


@pytest.mark.parametrize(
    "changes, match",
    [
        ({"detuning": Free(-2e9, 1.0)}, r"detuning: \|detuning\| RATE_UNIT <= delta"),
        ({"detuning": Fixed(1.5e9)}, r"\|detuning\| <= 1e\+09"),
        ({"detuning": Tied("J_2", 1e4)}, r"\|detuning\| <= 1e\+09"),  # J_2 up to 1e6
        ({"exchange": Free(0.1, 1.0, "log")}, "exchange: a signed quantity takes a linear box"),
        ({"detuning": Free(1e-3, 0.1, "log")}, "detuning: a signed quantity"),
        ({"exchange": Free(1.0, -1.0)}, "lower bound"),
        ({"exchange": Free(0.0, np.inf)}, "finite"),
        ({"detuning": Tied("exchange")}, "unknown quantity"),  # exchange left out
    ],
)
def test_bad_exchange_or_detuning_raise(changes, match):
    with pytest.raises(ValueError, match=match):
        optimize.paper().replace(**changes)


def test_free_exchange_restores_the_entanglement_a_detuning_destroys():
    # Direct check on the test point first: at T_1 = 4.5 N is 0.0223 without detuning, 0 at
    # detuning = J_2, and an exchange of 3 J_2 brings it back to 0.016.
    def N(det, ex):
        m = jaxtls_model(4.5, det, ex)
        return float(jaxtls.negativity(jaxtls.steady_state(m)))

    assert N(0.0, 0.0) > 0.022 and N(1.0, 0.0) == 0.0 and N(1.0, 3.0) > 0.016
    assert N(1.0, -3.0) == pytest.approx(N(1.0, 3.0), rel=1e-12)  # N is even in Omega
    run = dict(n_starts=8, steps=150, seed=0, polish_steps=50)
    fixed = optimize.maximize_negativity(_detuned(Fixed(0.0)), **run)
    free = optimize.maximize_negativity(_detuned(Free(-3.0, 3.0)), **run)
    assert fixed.negativity < 1e-9 and free.negativity > 0.0163
    assert abs(free.params["exchange"]) > 2.9  # at the edge of its box: N grows with |Omega|
    assert float(free.model.detuning) == 1.0 * optimize.space.RATE_UNIT  # units of Delta
    assert float(jaxtls.negativity(jaxtls.steady_state(free.model))) == pytest.approx(
        free.negativity, rel=1e-9
    )


def jaxtls_model(T1, detuning, exchange):
    return jaxtls.Model(
        T=[T1, 1e-3], J=[0.01, 1.0], K=[0.0, 0.999], detuning=detuning, exchange=exchange
    )
