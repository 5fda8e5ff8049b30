"""Throughput benchmark of the jaxtls core solvers (points per second), against NumPy and QuTiP.

Run from the repository root::

    python benchmarks/bench_core.py [--quick] [--out benchmarks/out/core.json]

It prints a table and writes JSON (default ``benchmarks/out/core.json``). Rows:

  (a) closed form -> negativity         ``negativity(closed_form(m))``
  (b) general solver -> negativity      ``negativity(steady_state(m))``
  (c) grad through the closed form      ``vmap(grad(lambda m: -pt_min_eigenvalue(closed_form(m))))``
  (d) grad through the general solver   the same with ``steady_state``

(gradients of one point, vmapped, with respect to every Model leaf: T, J, K, xi, delta, detuning)

each through the public functions ("matrix" path: what ``closed_form``/``steady_state`` return,
the ``(..., 4, 4)`` matrix in older jaxtls, an ``XState`` since) and, where the installed jaxtls
has it, through ``jaxtls.xstate`` (the matrix-free "xstate" path of older versions). Every
function is jitted, float64, timed after a warm-up call with ``block_until_ready``, best of
several repeats, at batch sizes 1e3 .. 1e6 of random physical two-bath models (symmetric
coupling, so that the closed form applies; dephasing and a small detuning included).

Baselines, in the same run:

* ``numpy_baseline.py``: the same formulas in vectorised NumPy. Before timing, the benchmark
  checks that it agrees with jaxtls to 1e-12 (populations, rho_23, negativity, pt_min_eigenvalue),
  so that the comparison is like for like. The gradient rows are compared with the NumPy
  *forward* pass (NumPy has no derivative).
* QuTiP: ``qutip.steadystate`` of the Lindblad Liouvillian of each model (built from
  ``physics.md``), one point at a time on a small sample; its states are checked against jaxtls.
  Per-point times of the default call and of the fastest of a few standard options are kept;
  the target uses the default call.

Targets (this 2-core CPU), judged at every batch size and reported PASS/FAIL:

  T1  closed form >= 2e7 points/s            T2  closed form >= 2x the NumPy baseline
  T3  general solver within 10x of closed    T4  grad (closed) within 5x of its forward pass
  T5  grad (general) within 5x of forward    T6  closed and general >= 1e4x QuTiP per point
  (T6f, informational: T6 against the fastest QuTiP option instead of the default call)

The exit status is 0 unless the agreement checks fail (or ``--strict`` and a target fails).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import numpy_baseline as nb

import jaxtls

SIZES_FULL = (1_000, 10_000, 100_000, 1_000_000)
SIZES_QUICK = (10_000, 100_000)
AGREE_TOL = 1e-12
QUTIP_TOL = 1e-8
TARGET_RATE = 2e7
FIELDS = ("T", "J1", "J2", "K", "xi", "delta", "detuning")
SOLVERS = {"closed": "closed_form", "general": "general"}
LABELS = {
    "a": "closed form -> negativity",
    "b": "general -> negativity",
    "c": "grad -pt_min (closed)",
    "d": "grad -pt_min (general)",
}


# -- parameters ----------------------------------------------------------------------------
def sample(n: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """``n`` random physical two-bath models with symmetric coupling (J1 = J2).

    T_n uniform in [0, 3 delta] (5% exactly 0), J_n log-uniform in [1e-2, 1e3], K_n = u J_n
    with u uniform in [-1, 1], xi uniform in [0, 0.1], delta uniform in [0.5, 2], detuning
    uniform in [-0.01, 0.01] delta.
    """
    delta = rng.uniform(0.5, 2.0, n)
    T = rng.uniform(0.0, 3.0, (n, 2)) * delta[:, None]
    T[rng.random((n, 2)) < 0.05] = 0.0
    J = 10.0 ** rng.uniform(-2.0, 3.0, (n, 2))
    K = J * rng.uniform(-1.0, 1.0, (n, 2))
    xi = rng.uniform(0.0, 0.1, n)
    detuning = delta * rng.uniform(-0.01, 0.01, n)
    return dict(T=T, J1=J, J2=J, K=K, xi=xi, delta=delta, detuning=detuning)


def to_model(p: dict[str, np.ndarray]) -> jaxtls.Model:
    """A validated, symmetric jaxtls.Model on the default device."""
    return jaxtls.Model(p["T"], p["J1"], p["K"], p["xi"], p["delta"], p["detuning"])


# -- the functions under test --------------------------------------------------------------
def _state_fn(solver: str, path: str):
    if path == "xstate":
        method = SOLVERS[solver]
        return lambda m: jaxtls.xstate(m, method=method, check=False)
    fn = jaxtls.closed_form if solver == "closed" else jaxtls.steady_state
    return lambda m: fn(m, check=False)


def jax_functions(path: str) -> dict[str, object]:
    """The four jitted functions (a)-(d) of one path."""
    out = {}
    for key, solver in (("a", "closed"), ("b", "general")):
        state = _state_fn(solver, path)
        out[key] = jax.jit(lambda m, state=state: jaxtls.negativity(state(m)))
    for key, solver in (("c", "closed"), ("d", "general")):
        state = _state_fn(solver, path)

        def objective(m, state=state):
            return -jaxtls.pt_min_eigenvalue(state(m))

        per_point = jax.vmap(jax.grad(objective))
        # broadcast: scalar leaves (a default exchange) get the batch axis vmap maps over
        out[key] = jax.jit(lambda m, per_point=per_point: per_point(m.broadcast()))
    return out


def numpy_forward(solver: str):
    if solver == "closed":
        return lambda args: nb.negativity(*nb.closed_form(*args))
    return lambda args: nb.negativity(*nb.general(*args, symmetric=True))


# -- timing --------------------------------------------------------------------------------
def time_jax(fn, arg, *, min_repeats: int, budget_s: float, max_repeats: int = 200) -> dict:
    """Compile ahead of time, one warm-up call, then the best of repeated calls.

    Repeats until ``min_repeats`` calls and ``budget_s`` seconds are both reached (at most
    ``3 budget_s`` for the minimum count). A warm-up call slower than ``2 budget_s`` is kept as
    the only measurement (``repeats = 0``), so that pathological rows cannot stall the run.
    """
    t0 = time.perf_counter()
    compiled = fn.lower(arg).compile()
    compile_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    jax.block_until_ready(compiled(arg))
    warm = time.perf_counter() - t0
    best, reps = _repeat(
        lambda: jax.block_until_ready(compiled(arg)), warm, min_repeats, budget_s, max_repeats
    )
    return {"seconds": best, "repeats": reps, "compile_s": compile_s, "warmup_s": warm}


def time_numpy(fn, arg, *, min_repeats: int, budget_s: float, max_repeats: int = 200) -> dict:
    """As :func:`time_jax` for a plain function (no compilation)."""
    t0 = time.perf_counter()
    fn(arg)
    warm = time.perf_counter() - t0
    best, reps = _repeat(lambda: fn(arg), warm, min_repeats, budget_s, max_repeats)
    return {"seconds": best, "repeats": reps, "warmup_s": warm}


def _repeat(call, warm, min_repeats, budget_s, max_repeats):
    if warm > 2 * budget_s:
        return warm, 0
    best, reps, start = np.inf, 0, time.perf_counter()
    while reps < max_repeats:
        elapsed = time.perf_counter() - start
        if elapsed >= budget_s and (reps >= min_repeats or elapsed >= 3 * budget_s):
            break
        t0 = time.perf_counter()
        call()
        best = min(best, time.perf_counter() - t0)
        reps += 1
    return best, reps


# -- agreement (untimed) -------------------------------------------------------------------
def _reduced(rho) -> np.ndarray:
    """(p1, p2, p3, p4, Re rho_23, Im rho_23) of a batch of 4x4 matrices, shape (6, N)."""
    rho = np.asarray(jaxtls.density_matrix(rho))
    d = np.real(np.diagonal(rho, axis1=-2, axis2=-1))
    return np.stack([d[:, 0], d[:, 1], d[:, 2], d[:, 3], rho[:, 1, 2].real, rho[:, 1, 2].imag])


def agreement(params: dict[str, np.ndarray], model: jaxtls.Model) -> dict:
    """Max abs differences between numpy_baseline and jaxtls on one sample."""
    args = tuple(params[f] for f in FIELDS)
    out = {"n_points": int(args[0].shape[0]), "tol": AGREE_TOL}
    states = {}
    np_general = lambda *a: nb.general(*a, symmetric=True)  # noqa: E731
    for solver, np_solve in (("closed", nb.closed_form), ("general", np_general)):
        ref = np.stack(np_solve(*args))
        rho = _state_fn(solver, "matrix")(model)
        got = _reduced(rho)
        neg = np.asarray(jaxtls.negativity(rho))
        ptm = np.asarray(jaxtls.pt_min_eigenvalue(rho))
        d_state = float(np.max(np.abs(got - ref)))
        d_neg = float(np.max(np.abs(neg - nb.negativity(*ref))))
        d_ptm = float(np.max(np.abs(ptm - nb.pt_min_eigenvalue(*ref))))
        n_nan = int(np.sum(np.isnan(ref[0]) | np.isnan(got[0])))
        out[solver] = {
            "max_abs_diff_state": d_state,
            "max_abs_diff_negativity": d_neg,
            "max_abs_diff_pt_min": d_ptm,
            "nan_points": n_nan,
            "entangled_fraction": float(np.mean(neg > 0)),
            "ok": bool(max(d_state, d_neg, d_ptm) <= AGREE_TOL and n_nan == 0),
        }
        states[solver] = got
    out["closed_vs_general_max_abs_diff"] = float(
        np.max(np.abs(states["closed"] - states["general"]))
    )
    out["ok"] = bool(out["closed"]["ok"] and out["general"]["ok"])
    return out


def gradient_check(fns: dict, model: jaxtls.Model) -> dict:
    """Fraction of finite gradient entries of (c) and (d) on one sample."""
    out = {}
    for key in ("c", "d"):
        leaves = jax.tree_util.tree_leaves(fns[key](model))
        finite = np.concatenate([np.isfinite(np.asarray(x)).ravel() for x in leaves])
        out[key] = float(np.mean(finite))
    return out


# -- QuTiP ---------------------------------------------------------------------------------
def qutip_reference(params: dict[str, np.ndarray], n_points: int) -> dict:
    """Per-point time of qutip.steadystate on the Lindblad Liouvillian of ``n_points`` models."""
    try:
        import qutip
    except ImportError:  # pragma: no cover - optional dependency
        return {"available": False}
    s = qutip.Qobj(np.array([[0, 1], [0, 0]], complex))  # |+><-|, |+> = ground = index 0
    sz = qutip.Qobj(np.diag([1.0, -1.0]).astype(complex))
    eye = qutip.qeye(2)
    low = [qutip.tensor(s, eye), qutip.tensor(eye, s)]
    szs = [qutip.tensor(sz, eye), qutip.tensor(eye, sz)]
    zz = 0.5 * (szs[0] - szs[1])

    def liouvillian(T, J1, J2, K, xi, delta, detuning):
        wd, wu = (np.asarray(w) / delta for w in jaxtls.bath_weights(T, delta))
        c_ops = []
        for w, ops in ((wd, low), (wu, [o.dag() for o in low])):
            G = np.array([[J1 @ w, K @ w], [K @ w, J2 @ w]])  # Kossakowski matrix, PSD
            lam, V = np.linalg.eigh(G)
            for k in range(2):
                if lam[k] > 0:
                    c_ops.append(np.sqrt(lam[k]) * (V[0, k] * ops[0] + V[1, k] * ops[1]))
        gamma_phi = xi * 0.5 * (J1 @ wd + J2 @ wd)
        if gamma_phi > 0:
            c_ops.append(np.sqrt(gamma_phi / 2) * zz)
        d1, d2 = delta + detuning / 2, delta - detuning / 2
        H = -(d1 / 2) * szs[0] - (d2 / 2) * szs[1]
        return qutip.liouvillian(H, c_ops)

    options = {
        "default": {},
        "dense_direct": {"sparse": False},
        "dense_eigen": {"method": "eigen", "sparse": False},
    }
    sub = {f: params[f][:n_points] for f in FIELDS}
    rho_j = np.asarray(jaxtls.density_matrix(jaxtls.steady_state(to_model(sub))))
    build_t, times = [], {k: [] for k in options}
    max_diff = 0.0
    for i in range(n_points):
        args = [sub[f][i] for f in FIELDS]
        t0 = time.perf_counter()
        L = liouvillian(*args)
        build_t.append(time.perf_counter() - t0)
        for name, kw in options.items():
            if i == 0:
                qutip.steadystate(L, **kw)  # warm-up
            t0 = time.perf_counter()
            rho = qutip.steadystate(L, **kw)
            times[name].append(time.perf_counter() - t0)
            max_diff = max(max_diff, float(np.max(np.abs(rho.full() - rho_j[i]))))
    med = {k: float(np.median(v)) for k, v in times.items()}
    fastest = min(med, key=med.get)
    return {
        "available": True,
        "version": qutip.__version__,
        "n_points": n_points,
        "median_build_s": float(np.median(build_t)),
        "median_steadystate_s": med,
        "reference_s": med["default"],
        "fastest_option": fastest,
        "fastest_s": med[fastest],
        "max_abs_diff_vs_jaxtls": max_diff,
        "ok": bool(max_diff <= QUTIP_TOL),
    }


# -- targets -------------------------------------------------------------------------------
def evaluate_targets(rate: dict, np_rate: dict, qutip: dict, paths, sizes) -> list[dict]:
    """rate[(path, key, n)], np_rate[(solver, n)] in points/s; qutip: see qutip_reference.

    T6f (against the fastest QuTiP option) is informational: not counted in the verdict.
    """
    specs = [
        ("T1", "closed form >= 2e7 points/s", lambda p, n: (rate[p, "a", n], TARGET_RATE)),
        ("T2", "closed form >= 2x NumPy", lambda p, n: (rate[p, "a", n] / np_rate["closed", n], 2)),
        (
            "T3",
            "general within 10x of closed",
            lambda p, n: (rate[p, "b", n] / rate[p, "a", n], 0.1),
        ),
        (
            "T4",
            "grad (closed) within 5x of fwd",
            lambda p, n: (rate[p, "c", n] / rate[p, "a", n], 0.2),
        ),
        (
            "T5",
            "grad (general) within 5x of fwd",
            lambda p, n: (rate[p, "d", n] / rate[p, "b", n], 0.2),
        ),
    ]
    if qutip.get("available"):
        for tid, desc, q_s in (
            ("T6", "fwd >= 1e4x QuTiP (default)", qutip["reference_s"]),
            ("T6f", f"fwd >= 1e4x QuTiP ({qutip['fastest_option']}) [info]", qutip["fastest_s"]),
        ):
            specs.append(
                (
                    tid,
                    desc,
                    lambda p, n, q_s=q_s: (min(rate[p, "a", n], rate[p, "b", n]) * q_s, 1e4),
                )
            )
    out = []
    for tid, desc, fn in specs:
        for path in paths:
            per = {}
            for n in sizes:
                value, threshold = fn(path, n)
                per[str(n)] = {
                    "value": value,
                    "threshold": threshold,
                    "pass": bool(value >= threshold),
                }
            out.append(
                {
                    "id": tid,
                    "description": desc,
                    "path": path,
                    "informational": tid == "T6f",
                    "per_size": per,
                    "pass": all(v["pass"] for v in per.values()),
                }
            )
    return out


def git_state() -> dict:
    """Commit of the checkout and whether jaxtls/ has uncommitted changes (None without git)."""
    root = Path(__file__).resolve().parent.parent

    def git(*cmd):
        try:
            res = subprocess.run(
                ["git", *cmd], cwd=root, capture_output=True, text=True, timeout=10
            )
        except (OSError, subprocess.SubprocessError):
            return None
        return res.stdout.strip() if res.returncode == 0 else None

    status = git("status", "--porcelain", "--", "jaxtls")
    return {
        "commit": git("rev-parse", "HEAD"),
        "jaxtls_dirty": None if status is None else bool(status),
    }


# -- output --------------------------------------------------------------------------------
def _fmt(x: float) -> str:
    return f"{x:9.3g}"


def print_table(results, np_results, targets, sizes):
    print()
    print(f"{'row':<34}{'path':<8}{'N':>9}{'points/s':>11}{'x NumPy':>9}{'x QuTiP':>10}")
    for r in np_results:
        name = f"numpy {r['solver']} -> negativity"
        print(f"{name:<34}{'numpy':<8}{r['n']:>9}{_fmt(r['points_per_s']):>11}")
    for r in results:
        name = f"({r['row']}) {LABELS[r['row']]}"
        q = _fmt(r["vs_qutip"]) if r["vs_qutip"] is not None else "-"
        print(
            f"{name:<34}{r['path']:<8}{r['n']:>9}{_fmt(r['points_per_s']):>11}"
            f"{r['vs_numpy']:>9.2f}{q:>10}"
        )
    print()
    head = "".join(f"{n:>13}" for n in sizes)
    print(f"{'target':<44}{'path':<8}{head}  verdict")
    for t in targets:
        cells = ""
        for n in sizes:
            c = t["per_size"][str(n)]
            cells += f"{c['value']:>9.3g} {'ok' if c['pass'] else 'NO':<3}"
        verdict = ("pass" if t["pass"] else "fail") if t["informational"] else None
        verdict = verdict or ("PASS" if t["pass"] else "FAIL")
        print(f"{t['id'] + ' ' + t['description']:<44}{t['path']:<8}{cells}  {verdict}")
    print(
        "values: T1 points/s; T2 ratio to NumPy; T3-T5 rate ratio (thresholds 0.1, 0.2); "
        "T6 x QuTiP per point"
    )


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="sizes 1e4, 1e5, fewer repeats (< ~1 min)")
    ap.add_argument("--out", default="benchmarks/out/core.json", help="JSON output path")
    ap.add_argument("--sizes", type=lambda s: [int(float(x)) for x in s.split(",")], default=None)
    ap.add_argument("--paths", default=None, help="comma list of matrix,xstate (default: both)")
    ap.add_argument("--qutip-points", type=int, default=None, help="QuTiP sample size")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--strict", action="store_true", help="exit 1 if a target fails")
    args = ap.parse_args(argv)

    sizes = tuple(args.sizes or (SIZES_QUICK if args.quick else SIZES_FULL))
    min_rep, budget = (3, 0.25) if args.quick else (5, 1.0)
    q_points = args.qutip_points or (5 if args.quick else 20)
    paths = ["matrix"] + (["xstate"] if hasattr(jaxtls, "xstate") else [])
    if args.paths:
        paths = [p for p in args.paths.split(",") if p in paths]
    if not jax.config.jax_enable_x64:
        raise SystemExit("jax_enable_x64 is off: the benchmark needs float64")

    t_start = time.perf_counter()
    rng = np.random.default_rng(args.seed)
    params = sample(max(sizes), rng)
    print(
        f"jaxtls {jaxtls.__version__}, jax {jax.__version__}, numpy {np.__version__}, "
        f"{os.cpu_count()} CPUs, device {jax.devices()[0]}, "
        f"XLA_FLAGS={os.environ.get('XLA_FLAGS')!r}"
    )

    # Agreement with the NumPy baseline (untimed).
    n_check = min(max(sizes), 10_000)
    check_params = {f: params[f][:n_check] for f in FIELDS}
    check_model = to_model(check_params)
    agree = agreement(check_params, check_model)
    fns = {p: jax_functions(p) for p in paths}
    grads_finite = {p: gradient_check(fns[p], check_model) for p in paths}
    print(
        f"agreement with numpy_baseline on {n_check} points (tol {AGREE_TOL:g}): "
        f"closed {agree['closed']['max_abs_diff_state']:.1e}, "
        f"general {agree['general']['max_abs_diff_state']:.1e} -> "
        f"{'OK' if agree['ok'] else 'FAILED'}; finite gradients {grads_finite}"
    )

    q = qutip_reference(params, q_points)
    q_s = q.get("reference_s")
    if q["available"]:
        print(
            f"QuTiP {q['version']} steadystate per point (median of {q_points}): "
            + ", ".join(f"{k} {v * 1e3:.3g} ms" for k, v in q["median_steadystate_s"].items())
            + f"; Liouvillian build {q['median_build_s'] * 1e3:.3g} ms; "
            f"max |rho - jaxtls| {q['max_abs_diff_vs_jaxtls']:.1e}"
        )

    results, np_results, rate, np_rate = [], [], {}, {}
    for n in sizes:
        sub = {f: params[f][:n] for f in FIELDS}
        model = jax.device_put(to_model(sub))
        np_args = tuple(sub[f] for f in FIELDS)
        for solver in ("closed", "general"):
            t = time_numpy(numpy_forward(solver), np_args, min_repeats=min_rep, budget_s=budget)
            np_rate[solver, n] = n / t["seconds"]
            np_results.append({"solver": solver, "n": n, **t, "points_per_s": n / t["seconds"]})
        for path in paths:
            for key, fn in fns[path].items():
                t = time_jax(fn, model, min_repeats=min_rep, budget_s=budget)
                best = t["seconds"]
                rate[path, key, n] = n / best
                solver = "closed" if key in "ac" else "general"
                results.append(
                    {
                        "row": key,
                        "label": LABELS[key],
                        "path": path,
                        "n": n,
                        **t,
                        "points_per_s": n / best,
                        "vs_numpy": (n / best) / np_rate[solver, n],
                        "vs_numpy_note": "forward NumPy" if key in "cd" else "same formula",
                        "vs_qutip": (n / best) * q_s if q_s else None,
                        "vs_qutip_fastest": (n / best) * q["fastest_s"] if q_s else None,
                    }
                )
            print(
                f"  N={n:>8} {path:<7} "
                + " ".join(f"{k}:{rate[path, k, n]:.3g}" for k in fns[path])
                + f"  numpy closed:{np_rate['closed', n]:.3g} general:{np_rate['general', n]:.3g}",
                flush=True,
            )
        del model

    targets = evaluate_targets(rate, np_rate, q, paths, sizes)
    print_table(results, np_results, targets, sizes)
    elapsed = time.perf_counter() - t_start
    print(f"total {elapsed:.0f} s")

    report = {
        "meta": {
            "command": " ".join([Path(sys.argv[0]).as_posix()] + sys.argv[1:]),
            "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "quick": args.quick,
            "sizes": list(sizes),
            "paths": paths,
            "seed": args.seed,
            "min_repeats": min_rep,
            "budget_s_per_measurement": budget,
            "timing": "best of repeats after one warm-up call, block_until_ready, jitted, float64",
            "versions": {
                "jaxtls": jaxtls.__version__,
                "jax": jax.__version__,
                "numpy": np.__version__,
                "python": platform.python_version(),
            },
            "cpu_count": os.cpu_count(),
            "machine": platform.processor() or platform.machine(),
            "device": str(jax.devices()[0]),
            "XLA_FLAGS": os.environ.get("XLA_FLAGS"),
            "git": git_state(),
            "elapsed_s": elapsed,
            "dtype": str(jnp.zeros(()).dtype),
        },
        "agreement": agree,
        "gradients_finite_fraction": grads_finite,
        "qutip": q,
        "numpy": np_results,
        "results": results,
        "targets": targets,
        "all_targets_pass": all(t["pass"] for t in targets if not t["informational"]),
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=1))
    print(f"wrote {out}")
    if not agree["ok"] or (q["available"] and not q["ok"]):
        print("AGREEMENT CHECK FAILED: the timing comparison is not like for like")
        return 1
    if args.strict and not report["all_targets_pass"]:
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
