"""Tests of the optimize package: spaces, bijections, search, regimes, geometry study, CLI."""

import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import jaxtls
import optimize
from optimize import Free, Space
from optimize.space import from_box, to_box

N_PAPER = (5**0.5 - 2) / 6
# One set of search settings for every paper-space run here, so that jit compiles once.
PAPER_RUN = dict(n_starts=64, steps=300, polish_steps=100)


# -- bijections --------------------------------------------------------------------------
@pytest.mark.parametrize(
    "bound", [Free(1e-3, 1e3, "log"), Free(-1.0, 1.0), Free(0.0, 8.0), Free(1.0, 1e6, "log")]
)
def test_bijection_respects_bounds(bound):
    u = jnp.concatenate([jnp.linspace(-1e4, 1e4, 2001), jnp.array([-jnp.inf, jnp.inf])])
    x = np.asarray(to_box(u, bound))
    assert np.all(np.isfinite(x))
    assert np.all(x >= bound.lo) and np.all(x <= bound.hi)
    if bound == Free(-1.0, 1.0):  # kappa is approached, never reached
        assert np.all(np.abs(x) < 1)


@given(t=st.floats(0.0, 1.0), which=st.integers(0, 2))
def test_bijection_round_trip(t, which):
    bound = [Free(1e-3, 1e3, "log"), Free(-1.0, 1.0), Free(1.0, 1e6, "log")][which]
    t = min(max(t, 1e-9), 1 - 1e-9)
    if bound.scale == "log":
        x = bound.lo * (bound.hi / bound.lo) ** t
    else:
        x = bound.lo + (bound.hi - bound.lo) * t
    back = float(to_box(from_box(x, bound), bound))
    assert back == pytest.approx(x, rel=1e-9, abs=1e-12)


def test_space_values_round_trip():
    sp = optimize.asymmetric()
    u = sp.sample(jax.random.PRNGKey(1), 50)
    vals = sp.values(u)
    u2 = sp.to_unconstrained(vals)
    np.testing.assert_allclose(np.asarray(u2), np.asarray(u), rtol=1e-8, atol=1e-8)
    m = sp.model({k: v[0] for k, v in vals.items()})  # concrete: validated by jaxtls.Model
    assert not m.symmetric and m.n_baths == 2


# -- gradients ---------------------------------------------------------------------------
# A nearly pure |++> (both baths cold, p2, p3 ~ 1e-164) in the asymmetric space: there the raw
# gradient of jaxtls.pt_min_eigenvalue is NaN ((p2 p3)/high^2 underflows to 0/0, a jaxtls
# core limitation); the search keeps the finite loss and uses a zero gradient.
U_UNDERFLOW = [-2.5608, -1.4261, 1.2420, -4.5003, 0.7727, -1.1633, 0.2186]


def _probe_points(d):
    rng = np.random.default_rng(0)
    corners = np.array([[s * 1e3] * d for s in (-1, 1)] + [[s * 30.0] * d for s in (-1, 1)])
    mixed = rng.choice([-1e3, 1e3, -30.0, 30.0, 0.0], size=(20, d))
    return jnp.asarray(np.concatenate([corners, mixed, rng.normal(0, 2, (40, d))]))


@pytest.mark.parametrize("name", ["paper", "asymmetric", "ohmic"])
def test_gradients_finite_at_bounds_and_on_separable_states(name):
    from optimize.search import _guarded_loss_and_grad, _lambda

    sp = optimize.get_space(name)
    fixed = {k: jnp.asarray(v) for k, v in sp.fixed_values().items()}

    @jax.jit
    @jax.vmap
    def both(u):
        raw = jax.value_and_grad(lambda x: _lambda(sp, fixed, {}, x))(u)
        return raw, _guarded_loss_and_grad(sp, fixed, {}, u)

    u = _probe_points(sp.dim)
    if name == "asymmetric":
        u = jnp.concatenate([u, jnp.asarray([U_UNDERFLOW])])
    (vals, grads), (gl, gg) = jax.tree_util.tree_map(np.asarray, both(u))
    # What the optimiser sees is always finite; a finite loss is kept as it is.
    assert np.all(np.isfinite(gl)) and np.all(np.isfinite(gg))
    ok = np.isfinite(vals)
    assert ok.mean() > 0.9
    np.testing.assert_array_equal(gl[ok], vals[ok])
    raw_ok = np.all(np.isfinite(grads), axis=-1)
    if name == "asymmetric":
        assert ok[-1] and not raw_ok[-1]  # the underflow point: finite loss, NaN raw gradient
        assert np.mean(raw_ok[ok]) > 0.9  # such points are rare
        assert np.all(gg[ok & ~raw_ok] == 0)
    else:
        assert np.all(raw_ok[ok])  # raw gradients are finite wherever the loss is
    # Separable interior points (lambda_- > 0, N = 0) still have a gradient (at saturated
    # corners, |u| >> 30, it is exactly 0, never NaN).
    interior = np.zeros(len(vals), bool)
    interior[64 - 40 : 64] = True
    sep = ok & (vals > 0) & interior & raw_ok
    assert sep.sum() >= 5
    # (A few may sit on the cold plateau where every population but p1 underflows: there the
    # gradient underflows to exactly 0 too.)
    assert np.mean(np.linalg.norm(gg[sep], axis=-1) > 0) > 0.9


def test_nan_never_enters_the_search():
    # Every point NaN (J_1 = NaN passed as a fixed value at run time): the loss is the
    # penalty, gradients are zero, and the points stay finite. Same compiled program as
    # the paper-space runs below.
    from optimize.search import _run_batch

    sp = optimize.paper()
    u0 = sp.sample(jax.random.PRNGKey(0), PAPER_RUN["n_starts"])
    fixed = {"J_1": jnp.asarray(np.nan, jnp.float64), "xi": jnp.asarray(0.0, jnp.float64)}
    u, obj, tr = _run_batch(
        sp,
        PAPER_RUN["steps"],
        PAPER_RUN["polish_steps"],
        1.0,
        True,
        fixed,
        {},
        u0,
        jax.random.PRNGKey(1),
    )
    assert np.all(np.isfinite(np.asarray(u)))
    assert np.all(np.asarray(obj) == -1.0) and np.all(np.asarray(tr) == -1.0)


# -- best attainable value in the paper box (independent of the search) ------------------
def _box_best():
    """Dense vectorised grid on the closed form, then zooming grids around the best point.
    Coordinates: log10 T1, log10 T2, log10 J2, kappa1, a2 with kappa2 = 1 - 10^a2 (K2 > 0
    suffices: N is even under K -> -K on every bath)."""
    f = jax.jit(
        lambda p: jaxtls.negativity(
            jaxtls.xstate(
                jaxtls.Model(
                    jnp.stack([10 ** p[..., 0], 10 ** p[..., 1]], -1),
                    jnp.stack([jnp.ones_like(p[..., 2]), 10 ** p[..., 2]], -1),
                    jnp.stack([p[..., 3], (1 - 10 ** p[..., 4]) * 10 ** p[..., 2]], -1),
                ),
                method="closed_form",
                check=False,
            )
        )
    )
    lo = np.array([-3, -3, 0, -1, -14.0])
    hi = np.array([3, 3, 6, 1, 0.30103])  # 1 - 10^0.30103 = -1
    axes = [np.linspace(a, b, n) for a, b, n in zip(lo, hi, (25, 7, 13, 21, 29), strict=True)]
    pts = np.stack(np.meshgrid(*axes, indexing="ij"), -1).reshape(-1, 5)
    N = np.nan_to_num(np.asarray(f(jnp.asarray(pts))))
    best, nbest = pts[np.argmax(N)], N.max()
    width = (hi - lo) / 8
    for _ in range(12):
        axes = [
            np.clip(np.linspace(c - w, c + w, 7), a, b)
            for c, w, a, b in zip(best, width, lo, hi, strict=True)
        ]
        pts = np.stack(np.meshgrid(*axes, indexing="ij"), -1).reshape(-1, 5)
        N = np.nan_to_num(np.asarray(f(jnp.asarray(pts))))
        if N.max() > nbest:
            best, nbest = pts[np.argmax(N)], N.max()
        width = width / 2
    return float(nbest), best


@pytest.fixture(scope="module")
def box_best():
    return _box_best()


@pytest.fixture(scope="module")
def paper_results():
    return [optimize.maximize_negativity(optimize.paper(), seed=s, **PAPER_RUN) for s in range(5)]


def test_box_best_value(box_best):
    nbest, p = box_best
    assert 0.039 < nbest < N_PAPER  # below the paper's supremum, reached only as J2/J1 -> inf
    assert p[2] == pytest.approx(6.0)  # at J2/J1 = 1e6, the edge of the box


def test_paper_search_finds_two_thirds_regime(paper_results, box_best):
    nbest = box_best[0]
    for r in paper_results:
        c = optimize.classify(r.state)
        assert c.regime == "2/3-1/3"
        assert c.fidelity >= 0.99
        assert r.negativity >= 0.995 * nbest
        assert r.negativity <= nbest * (1 + 1e-6)  # never above the best in the box
        assert 0 < r.fraction_within_1pct <= 1
        assert r.traces.shape == (PAPER_RUN["n_starts"], 400)
        assert np.isfinite(r.traces).all()


def test_search_is_deterministic_per_seed(paper_results):
    again = optimize.maximize_negativity(optimize.paper(), seed=0, **PAPER_RUN)
    assert again.negativity == paper_results[0].negativity
    np.testing.assert_array_equal(again.start_negativities, paper_results[0].start_negativities)


# -- regimes -----------------------------------------------------------------------------
def _bell_diag(w):
    B = optimize.regimes.BELL
    return B @ np.diag(w) @ B.T


@pytest.mark.parametrize(
    "w, regime",
    [
        ((1, 0, 0, 0), "ground"),
        ((0.25,) * 4, "maximally mixed"),
        ((0, 0, 1, 0), "bell"),
        ((2 / 3, 0, 1 / 3, 0), "2/3-1/3"),
        ((2 / 3, 1 / 3, 0, 0), "2/3-1/3"),
        ((0.5, 0.5, 0, 0), "1/2-1/2"),
    ],
)
def test_classify_ideal_states(w, regime):
    c = optimize.classify(_bell_diag(w))
    assert c.regime == regime
    assert c.fidelity == pytest.approx(1.0, abs=1e-9)
    np.testing.assert_allclose(c.bell_weights, w, atol=1e-12)


def test_classify_batch_and_xstate():
    m = jaxtls.Model(
        T=[[30.0, 1e-3], [0.05, 0.05]], J=[[1.0, 1e6], [1.0, 1.0]], K=[[0, 1e6], [0, 0]]
    )
    c = optimize.classify(jaxtls.xstate(m))
    assert list(c.regime) == ["2/3-1/3", "ground"]
    assert c.fidelity.shape == (2,)


def test_classify_rejects_bad_shape():
    with pytest.raises(ValueError, match="4, 4"):
        optimize.classify(np.eye(3))


# -- bad spaces --------------------------------------------------------------------------
def _paper_with(**changes):
    p = dict(optimize.paper().params)
    p.update(changes)
    return p


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(params=_paper_with(T_1=Free(1.0, 1.0, "log"))), "empty bounds"),
        (dict(params=_paper_with(T_1=())), "empty bounds"),
        (dict(params=_paper_with(T_1=Free(10.0, 1.0, "log"))), "lower bound"),
        (dict(params=_paper_with(kappa_1=Free(-2.0, 1.0))), "kappa"),
        (dict(params=_paper_with(T_1=Free(0.0, 1.0, "log"))), "log-scale"),
        (dict(params=_paper_with(J_2=Free(-1.0, 1.0))), ">= 0"),
        (dict(params=_paper_with(bogus=1.0)), "unknown parameters"),
        (dict(params={"T_1": 1.0}), "missing parameters"),
        (dict(params=_paper_with(T_1=Free(1.0, 2.0, "cubic"))), "scale"),
    ],
)
def test_bad_spaces_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        Space("bad", **kwargs)


def test_unknown_D_raises():
    p = dict(optimize.geometry().params)
    with pytest.raises(ValueError, match="D must be 1, 2 or 3"):
        Space("bad", p, geometry={2: (1, 4)})
    with pytest.raises(ValueError, match="D must be 1, 2 or 3"):
        optimize.geometry(dims=(0,))
    with pytest.raises(ValueError, match="D must be 1, 2 or 3"):
        optimize.geometry_study([0.0, 1.0], dims=(5,))
    with pytest.raises(ValueError, match="unknown space"):
        optimize.get_space("nope")


# -- asymmetric space and geometry -------------------------------------------------------
def test_asymmetric_winner_matches_liouvillian():
    r = optimize.maximize_negativity(optimize.asymmetric(), n_starts=64, steps=300, seed=0)
    rho = np.asarray(r.state.matrix())
    rho_l = np.asarray(jaxtls.liouvillian_steady_state(r.model))
    np.testing.assert_allclose(rho, rho_l, atol=1e-9)
    assert float(jaxtls.negativity(rho_l, method="eig")) == pytest.approx(r.negativity, rel=1e-7)
    # The paper space is a subset, so the asymmetric optimum is at least as large.
    assert r.negativity > 0.039


def test_geometry_search_reports_every_D():
    r = optimize.maximize_negativity(optimize.geometry(), seed=0, **PAPER_RUN)
    assert [v.D for v in r.variants] == [{2: 1}, {2: 2}, {2: 3}]
    for v in r.variants:  # dbar -> 0 gives kappa -> 1 for every D
        assert v.negativity > 0.039


def test_geometry_study_small(tmp_path):
    g = optimize.geometry_study([0.0, 1.0, 1.5, 3.0, np.pi], n_starts=16, steps=200)
    assert g.negativity.shape == (3, 5)
    assert np.all(g.negativity[:, 0] > 0.039)
    assert g.negativity[2, 3] == 0.0  # D = 3: |sin x / x| too small at x = 3
    assert g.negativity[0, 4] > 0.035  # D = 1: revival at dbar = pi (kappa = -1)
    assert g.dbar_first_separable[1] <= 1.5
    for D in (1, 2, 3):  # refined boundary between the last entangled and first separable
        assert g.dbar_last_entangled[D] <= g.dbar_entanglement_lost[D] or D == 1
        assert 0.0 < g.dbar_entanglement_lost[D] < g.dbar_first_separable[D]
    paths = optimize.plot_geometry_study(g, tmp_path / "geo")
    assert all((tmp_path / p).stat().st_size > 1000 for p in paths)


# -- CLI ---------------------------------------------------------------------------------
def test_cli_writes_json_and_png(tmp_path, capsys):
    from jaxtls.cli import main

    rc = main(
        [
            "optimize",
            "--space",
            "paper",
            "--starts",
            "64",
            "--steps",
            "300",
            "--polish-steps",
            "100",
            "--seed",
            "3",
            "--out",
            str(tmp_path),
        ]
    )
    assert rc == 0
    doc = json.loads((tmp_path / "optimize_paper.json").read_text())
    assert doc["regime"] == "2/3-1/3" and doc["fidelity"] >= 0.99
    assert doc["negativity"] > 0.039 and doc["settings"]["seed"] == 3
    assert set(doc["params"]) >= {"T_1", "T_2", "J_2", "kappa_1", "kappa_2"}
    assert (tmp_path / "optimize_paper_convergence.png").stat().st_size > 1000
    assert "best N" in capsys.readouterr().err


def test_cli_user_error_is_one_line(tmp_path, capsys):
    from jaxtls.cli import main

    rc = main(["optimize", "--starts", "0", "--out", str(tmp_path)])
    assert rc == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--starts" in err[0]
