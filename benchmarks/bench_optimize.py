"""Benchmark of the optimize package: issue 4, item 3 in full, and the studies of items 4-5.

1. The best negativity attainable in the paper's box (J2/J1 <= 1e6, T in [1e-3, 1e3] Delta),
   independently of the search: dense vectorised closed-form grid + Nelder-Mead (scipy).
2. The paper-space search (default settings) from 5 seeds, each timed in this process (the
   first one includes compilation): N, gap to the box best, regime, fidelity, fractions.
   Item 3 passes when every seed ends in the 2/3-1/3 regime with fidelity >= 0.99, N within
   0.5% of the box best, in under 60 s.
3. The geometry study (largest N versus dbar for D = 1, 2, 3; the threshold kappa*; the
   largest distance with entanglement) with its plot.
4. The asymmetric search, the winner cross-checked with the dense Liouvillian and QuTiP, and
   the transition rates that explain why it beats (sqrt 5 - 2)/6.

Writes ``benchmarks/out/bench_optimize.json`` and ``benchmarks/out/geometry_study.{png,pdf}``.

Usage::

    python benchmarks/bench_optimize.py [--seeds 5] [--starts 128] [--steps 600]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

import jaxtls
from jaxtls import optimize
from jaxtls.optimize.regimes import dark_state, transition_rates

OUT = Path(__file__).resolve().parent / "out"
# log10 T1, log10 T2, log10 (J2/J1), a1, a2 with kappa_n = 1 - 10^a_n (a2 = -17: kappa_2 = 1).
LO = np.array([-3.0, -3.0, 0.0, -16.0, -17.0])
HI = np.array([3.0, 3.0, 6.0, np.log10(2.0), np.log10(2.0)])


@jax.jit
def _box_negativity(p):
    T = 10.0 ** p[..., :2]
    r = 10.0 ** p[..., 2]
    k1, k2 = 1 - 10.0 ** p[..., 3], 1 - 10.0 ** p[..., 4]
    m = jaxtls.Model(T, jnp.stack([jnp.ones_like(r), r], -1), jnp.stack([k1, k2 * r], -1))
    return jnp.nan_to_num(jaxtls.negativity(jaxtls.closed_form(m, check=False)))


def box_best() -> dict:
    """Dense grid (1.4 million points) and Nelder-Mead from the 5 best grid points."""
    from scipy.optimize import minimize

    axes = [np.linspace(a, b, n) for a, b, n in zip(LO, HI, (25, 13, 13, 18, 19), strict=True)]
    pts = np.stack(np.meshgrid(*axes, indexing="ij"), -1).reshape(-1, 5)
    N = np.asarray(_box_negativity(jnp.asarray(pts)))
    best, where = float(N.max()), pts[np.argmax(N)]
    grid_best = best
    for i in np.argsort(N)[::-1][:5]:
        r = minimize(
            lambda x: -float(_box_negativity(jnp.asarray(x))),
            pts[i],
            method="Nelder-Mead",
            bounds=list(zip(LO, HI, strict=True)),
            options=dict(xatol=1e-10, fatol=1e-16, maxfev=4000),
        )
        if -r.fun > best:
            best, where = float(-r.fun), r.x
    point = dict(
        T_1=10 ** where[0],
        T_2=10 ** where[1],
        J2_over_J1=10 ** where[2],
        one_minus_kappa_1=10 ** where[3],
        one_minus_kappa_2=10 ** where[4] if where[4] > -16.9 else 0.0,
    )
    return dict(negativity=best, grid_negativity=grid_best, n_grid=len(pts), point=point)


def rate_table(model, states: dict, pairs) -> dict:
    """name -> per-bath (emission, absorption) rates of the jumps in ``pairs``."""
    out = {}
    for a, b in pairs:
        r = transition_rates(model, states[a], states[b])
        out[f"{a} -> {b}"] = {f"bath {k + 1}": r[k].tolist() for k in range(r.shape[0])}
    return out


def paper_runs(args, nbest) -> dict:
    runs = []
    for seed in range(args.seeds):
        t = time.perf_counter()
        r = optimize.maximize_negativity(
            optimize.paper(), n_starts=args.starts, steps=args.steps, seed=seed
        )
        wall = time.perf_counter() - t
        c = optimize.classify(r.state)
        gap = 1 - r.negativity / nbest
        runs.append(
            dict(
                seed=seed,
                wall_s=wall,
                negativity=r.negativity,
                rel_gap_to_box_best=gap,
                regime=c.regime,
                ideal=c.ideal,
                fidelity=c.fidelity,
                fraction_within_1pct=r.fraction_within_1pct,
                fraction_within_1pct_independent=r.fraction_within_1pct_independent,
                params=r.params,
            )
        )
        print(
            f"seed {seed}: N = {r.negativity:.10f} (gap {gap:.2e}), {c.regime} "
            f"F = {c.fidelity:.5f}, within 1%: {r.fraction_within_1pct:.3f} "
            f"(independently {r.fraction_within_1pct_independent:.3f}), {wall:.2f} s"
        )
    ok = [
        r["regime"] == "2/3-1/3"
        and r["fidelity"] >= 0.99
        and r["rel_gap_to_box_best"] <= 5e-3
        and r["wall_s"] < 60
        for r in runs
    ]
    best = max(runs, key=lambda r: r["negativity"])
    p = best["params"]
    model = jaxtls.Model(
        [p["T_1"], p["T_2"]],
        [p["J_1"], p["J_2"]],
        [p["kappa_1"] * p["J_1"], p["kappa_2"] * p["J_2"]],
    )
    s = np.sign(p["kappa_2"])
    states = {
        "|++>": [1, 0, 0, 0],
        "dark (psi-+)": [0, 1, -s, 0],
        "bright (psi+-)": [0, 1, s, 0],
        "|-->": [0, 0, 0, 1],
    }
    pairs = [("|++>", "dark (psi-+)"), ("dark (psi-+)", "|++>"), ("dark (psi-+)", "|-->")]
    pairs += [("|-->", "bright (psi+-)"), ("bright (psi+-)", "|++>")]
    return dict(
        settings=dict(n_starts=args.starts, steps=args.steps, polish_steps=200),
        runs=runs,
        first_seed_wall_s=runs[0]["wall_s"],
        total_wall_s=sum(r["wall_s"] for r in runs),
        item3_pass=all(ok),
        rates_at_best=rate_table(model, states, pairs),
    )


def geometry(args) -> dict:
    t = time.perf_counter()
    g = optimize.geometry_study(n_starts=32, steps=400, seed=0)
    paths = optimize.plot_geometry_study(g, OUT / "geometry_study")
    wall = time.perf_counter() - t

    def finite(x):
        return x if np.isfinite(x) else str(x)

    doc = dict(
        wall_s=wall,
        kappa_threshold=g.kappa_threshold,
        kappa_threshold_eq25=0.5 + 1.5e-6,
        dbar_max={str(k): finite(v) for k, v in g.dbar_max.items()},
        dbar_entanglement_lost={str(k): v for k, v in g.dbar_entanglement_lost.items()},
        windows={str(k): v for k, v in g.windows.items()},
        dbar_last_entangled={str(k): v for k, v in g.dbar_last_entangled.items()},
        dbar_first_separable={str(k): v for k, v in g.dbar_first_separable.items()},
        dbar=g.dbar.tolist(),
        negativity={str(D): g.negativity[i].tolist() for i, D in enumerate(g.dims)},
        kappa_grid=g.kappa_grid.tolist(),
        margin=g.margin.tolist(),
        plots=[str(p) for p in paths],
    )
    print(
        f"geometry: kappa* = {g.kappa_threshold:.8f}, largest distance {g.dbar_max}, {wall:.1f} s"
    )
    return doc


def asymmetric(args) -> dict:
    t = time.perf_counter()
    r = optimize.maximize_negativity(
        optimize.asymmetric(), n_starts=args.starts, steps=args.steps, seed=0
    )
    wall = time.perf_counter() - t
    c = optimize.classify(r.state)
    p = r.params
    T = np.array([p["T_1"], p["T_2"]])
    J1 = np.array([p["J(1)_1"], p["J(1)_2"]])
    J2 = np.array([p["J(2)_1"], p["J(2)_2"]])
    K = np.array([p["kappa_1"], p["kappa_2"]]) * np.sqrt(J1 * J2)
    model = jaxtls.Model(T, (J1, J2), K)
    rho = np.asarray(jaxtls.density_matrix(jaxtls.steady_state(model)))
    rho_l = np.asarray(jaxtls.density_matrix(jaxtls.liouvillian_steady_state(model)))
    checks = dict(liouvillian_max_abs_diff=float(np.abs(rho_l - rho).max()))
    try:
        sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
        import oracles

        rho_q = oracles.qutip_steady_state(T, J1, J2, K)
        checks.update(
            qutip_max_abs_diff=float(np.abs(rho_q - rho).max()),
            qutip_negativity=float(oracles.negativity_eig(rho_q)),
        )
    except Exception as err:  # QuTiP is a test dependency only
        checks["qutip"] = f"not run: {type(err).__name__}: {err}"
    d = dark_state(model, 2)
    states = {
        "|++>": [1, 0, 0, 0],
        "dark_2": d,
        "bright_2": [0, d[2], -d[1], 0],
        "|-->": [0, 0, 0, 1],
    }
    pairs = [("|++>", "dark_2"), ("dark_2", "|++>"), ("dark_2", "|-->")]
    pairs += [("|++>", "bright_2"), ("bright_2", "|++>"), ("|-->", "dark_2")]
    conc = 2 * abs(d[1] * d[2])
    doc = dict(
        wall_s=wall,
        negativity=r.negativity,
        N_paper=optimize.N_PAPER,
        beats_paper=bool(r.negativity > optimize.N_PAPER),
        ratio_to_paper=r.negativity / optimize.N_PAPER,
        N_half_half_limit=optimize.N_HALF_HALF,
        params=p,
        ratios={
            "J(2)_1/J(1)_1": p["J(2)_1"] / p["J(1)_1"],
            "J(1)_2/J(2)_2": p["J(1)_2"] / p["J(2)_2"],
        },
        regime=c.regime,
        ideal=c.ideal,
        fidelity=c.fidelity,
        bell_weights=[float(x) for x in c.bell_weights],
        populations=[float(x) for x in np.asarray(r.state.populations)],
        rho23=[float(r.state.c_re), float(r.state.c_im)],
        dark_state_of_bath_2=[float(x) for x in d],
        dark_state_concurrence=conc,
        rates=rate_table(model, states, pairs),
        cross_checks=checks,
        fraction_within_1pct=r.fraction_within_1pct,
    )
    print(
        f"asymmetric: N = {r.negativity:.6f} = {doc['ratio_to_paper']:.3f} x paper "
        f"({c.ideal}, F = {c.fidelity:.4f}), {wall:.1f} s; checks {checks}"
    )
    return doc


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--starts", type=int, default=128)
    ap.add_argument("--steps", type=int, default=600)
    args = ap.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    doc = {
        "cpu_count": os.cpu_count(),
        "load_average_at_start": list(os.getloadavg()),
        "jax": jax.__version__,
        "devices": str(jax.devices()),
    }
    t = time.perf_counter()
    doc["box_best"] = box_best()
    doc["box_best"]["time_s"] = time.perf_counter() - t
    nbest = doc["box_best"]["negativity"]
    print(f"best N in the paper box (grid + Nelder-Mead): {nbest:.12f}")
    doc["paper"] = paper_runs(args, nbest)
    print(f"item 3 passes: {doc['paper']['item3_pass']}")
    doc["geometry_study"] = geometry(args)
    doc["asymmetric"] = asymmetric(args)
    doc["load_average_at_end"] = list(os.getloadavg())
    (OUT / "bench_optimize.json").write_text(json.dumps(doc, indent=2))
    print(OUT / "bench_optimize.json")


if __name__ == "__main__":
    main()
