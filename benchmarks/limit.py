"""How near the limit is jaxtls? Closed form -> negativity against the same loop in C.

Run from the repository root::

    python benchmarks/limit.py [--quick] [--out benchmarks/out/limit.json]

In one run, on random two-bath models (``bench_core.sample``, detuning = exchange = 0):

* jaxtls, the public natural path: ``negativity(closed_form(Model(T, J, K, xi, delta)))`` and
  the same with ``steady_state``, jitted with the Model built inside ``jit`` from arrays, and
  eager (the public functions called on a concrete Model, their own checks included);
* the limit: the same closed form and negativity as one vectorised C loop over the points
  (``limit_kernel.c``, compiled here with the system gcc, loaded with ctypes, OpenMP over the
  cores; exp/expm1 from glibc's libmvec), checked against jaxtls to 1e-12 (relative) before
  anything is timed (rho_23 relative to its condition number, see :func:`agreement`); also
  built with ``-ffast-math`` and with scalar libm, and run on 1 thread;
* the memory-traffic ceiling: a compiled pass reading the same inputs and writing one double
  per point (72 bytes per point), in points/s and GB/s;
* the reverse-mode gradient cost: ``jax.grad`` of the sum of the negativity with respect to
  T, J, K and xi over its forward pass, for both solvers.

Every function is warmed up (compilation excluded) and then timed in interleaved rounds (each
round gives every function a time slice, in rotated order; best of all calls, wall and CPU
time, ``block_until_ready``), so that ratios are taken under the same load: the machine may be
shared with other jobs, and the load average is recorded. Without gcc the C rows are reported
as unavailable (not an error). The exit status is 1 only when an available C build disagrees
with jaxtls.
"""

from __future__ import annotations

import os

# Idle OpenMP threads must sleep, not spin against XLA's threads (read when libgomp loads).
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import argparse  # noqa: E402
import ctypes  # noqa: E402
import datetime  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_core  # noqa: E402

import jaxtls  # noqa: E402

HERE = Path(__file__).resolve().parent
KERNEL = HERE / "limit_kernel.c"
SIZES = (100_000, 1_000_000, 4_000_000)
GRAD_SIZES = (10_000, 100_000, 1_000_000)
QUICK_SIZES, QUICK_GRAD_SIZES = (100_000, 1_000_000), (10_000, 100_000)
AGREE_RTOL = 1e-12
AGREE_POINTS = 20_000
BYTES_PER_POINT = 8 * (2 + 2 + 2 + 1 + 1) + 8  # T, J, K (2 baths), xi, delta in; N out
SHARED_NOTE = (
    "The machine may be shared with other jobs: wall times vary with the load (several-fold "
    "under heavy load), CPU times (all threads) much less; the ratios are taken from "
    "interleaved rounds, under the same load, and per CPU-second."
)
#: C builds: name -> (gcc flags, what they mean). "c" is the baseline of the ratios.
BUILDS = {
    "c": (
        "-O3 -march=native -fno-math-errno -fopenmp -DJT_LIBMVEC",
        "IEEE semantics (no fast-math), vector exp/expm1 from glibc libmvec",
    ),
    "c_fastmath": (
        "-O3 -march=native -ffast-math -fopenmp",
        "-ffast-math: reassociation, no NaN/inf semantics (the NaN masks of invalid points "
        "are compiled out), libmvec",
    ),
    "c_libm": (
        "-O3 -march=native -fno-math-errno -fopenmp",
        "IEEE semantics, scalar exp/expm1 from libm",
    ),
}


# -- the C kernels -------------------------------------------------------------------------
class CKernel:
    """ctypes wrapper of one build of ``limit_kernel.c``."""

    def __init__(self, path: Path):
        lib = ctypes.CDLL(str(path))
        ptr = ctypes.POINTER(ctypes.c_double)
        args5 = [ctypes.c_long] + [ptr] * 6
        lib.jt_negativity.argtypes = args5 + [ctypes.c_int]
        lib.jt_stream.argtypes = args5 + [ctypes.c_int]
        lib.jt_state.argtypes = args5 + [ptr]
        lib.jt_max_threads.restype = ctypes.c_int
        for f in (lib.jt_negativity, lib.jt_stream, lib.jt_state):
            f.restype = None
        self.lib = lib
        self.max_threads = int(lib.jt_max_threads())

    @staticmethod
    def _ptrs(*arrays):
        return [a.ctypes.data_as(ctypes.POINTER(ctypes.c_double)) for a in arrays]

    def negativity(self, inputs, out, threads: int) -> np.ndarray:
        self.lib.jt_negativity(len(out), *self._ptrs(*inputs, out), threads)
        return out

    def stream(self, inputs, out, threads: int) -> np.ndarray:
        self.lib.jt_stream(len(out), *self._ptrs(*inputs, out), threads)
        return out

    def state(self, inputs) -> tuple[np.ndarray, np.ndarray]:
        """Negativity (n,) and state (n, 6) = (p1, p2, p3, p4, Re rho_23, Im rho_23)."""
        n = len(inputs[-1])
        out, state = np.empty(n), np.empty((6, n))
        self.lib.jt_state(n, *self._ptrs(*inputs, out, state))
        return out, state.T


def compiler() -> str | None:
    """The C compiler: ``$CC`` or ``gcc`` on the path (None when there is none)."""
    return shutil.which(os.environ.get("CC", "gcc"))


def build_kernels(build_dir: Path, names=None) -> dict:
    """Compile the builds of :data:`BUILDS` into ``build_dir``.

    Returns ``{"available": bool, "compiler": ..., "builds": {name: info}}``, where each info
    has ``flags``, ``note``, ``ok`` and, when it compiled, ``kernel`` (a :class:`CKernel`) or
    else ``error``. Without a compiler ``available`` is False and ``reason`` says why.
    """
    cc = compiler()
    if cc is None:
        return {"available": False, "reason": "no C compiler (gcc) on the path", "builds": {}}
    version = subprocess.run([cc, "--version"], capture_output=True, text=True).stdout
    out = {"available": True, "compiler": cc, "version": version.splitlines()[0], "builds": {}}
    for name in names or BUILDS:
        flags, note = BUILDS[name]
        lib = build_dir / f"limit_{name}.so"
        cmd = [cc, *flags.split(), "-shared", "-fPIC", "-o", str(lib), str(KERNEL), "-lm"]
        res = subprocess.run(cmd, capture_output=True, text=True)
        info = {"flags": flags, "note": note, "ok": res.returncode == 0}
        if info["ok"]:
            try:
                info["kernel"] = CKernel(lib)
            except OSError as exc:  # e.g. libgomp missing at load time
                info.update(ok=False, error=str(exc))
        else:
            info["error"] = res.stderr.strip()[-2000:]
        out["builds"][name] = info
    out["available"] = any(b["ok"] for b in out["builds"].values())
    if not out["available"]:
        out["reason"] = "no build of limit_kernel.c compiled and loaded"
    return out


def c_inputs(p: dict[str, np.ndarray]) -> tuple[np.ndarray, ...]:
    """(T, J, K, xi, delta) as C-contiguous float64 arrays (the kernel's layout)."""
    return tuple(np.ascontiguousarray(p[f], np.float64) for f in ("T", "J1", "K", "xi", "delta"))


# -- jaxtls ---------------------------------------------------------------------------------
SOLVERS = {"closed": jaxtls.closed_form, "general": jaxtls.steady_state}


def _negativity(solver: str):
    solve = SOLVERS[solver]

    def neg(T, J, K, xi, delta):
        return jaxtls.negativity(solve(jaxtls.Model(T, J, K, xi, delta)))

    return neg


def jax_functions():
    """Jitted forward, eager forward, and (forward-of-sum, gradient) pairs per solver."""
    fns = {}
    for solver in ("closed", "general"):
        neg = _negativity(solver)

        def total(T, J, K, xi, delta, neg=neg):
            return jnp.sum(neg(T, J, K, xi, delta))

        per_model = jaxtls.blocked(lambda m, s=SOLVERS[solver]: jaxtls.negativity(s(m)))

        def blocked_neg(T, J, K, xi, delta, f=per_model):
            return f(jaxtls.Model(T, J, K, xi, delta))

        def blocked_total(*a, f=blocked_neg):
            return jnp.sum(f(*a))

        fns[solver] = {
            "jit": jax.jit(neg),
            "eager": neg,  # Model built outside jit: the public functions' own path
            "sum": jax.jit(total),
            "grad": jax.jit(jax.grad(total, argnums=(0, 1, 2, 3))),
            # jaxtls.blocked: the same function in cache-sized blocks, gradient block by block
            "blocked": jax.jit(blocked_neg),
            "blocked_sum": jax.jit(blocked_total),
            "blocked_grad": jax.jit(jax.grad(blocked_total, argnums=(0, 1, 2, 3))),
        }
    return fns


def jax_inputs(p: dict[str, np.ndarray]):
    return tuple(jax.device_put(x) for x in c_inputs(p))


def sample(n: int, seed: int) -> dict[str, np.ndarray]:
    """``bench_core.sample`` (symmetric two-bath models), with no detuning."""
    p = bench_core.sample(n, np.random.default_rng(seed))
    p["detuning"] = np.zeros(n)
    return p


# -- agreement (untimed) --------------------------------------------------------------------
def _max(x) -> float:
    return float(np.max(x)) if np.size(x) else 0.0


def agreement(kernel: CKernel, p: dict[str, np.ndarray], rtol: float = AGREE_RTOL) -> dict:
    """The C loop against jaxtls (``closed_form``, its density matrix and negativity) on ``p``.

    State entries are compared relative to themselves, rho_23 relative to itself over the
    condition number ``kappa = (wd_1 wu_2 + wu_1 wd_2) / |wd_1 wu_2 - wu_1 wd_2|`` of the
    temperature contrast it is proportional to (``Y`` of ``_closed``): at nearly equal
    temperatures the last bits of exp/expm1 (XLA's and glibc's differ) are amplified by
    ``kappa`` in either program (``max_rel_diff_state`` is the raw value). The negativity is
    compared relative to the scale of its block, ``max(p1, p4, |rho_23|)``: it is the
    difference ``p1 p4 - |rho_23|^2`` over that scale, whose own relative error is unbounded
    where it crosses zero. Both the timed loop and the checked loop (which also writes the
    state) are compared.
    """
    inputs = c_inputs(p)
    state = jaxtls.closed_form(jaxtls.Model(*jax_inputs(p)), check=False)
    rho = np.asarray(jaxtls.density_matrix(state))
    ref_neg = np.asarray(jaxtls.negativity(state))
    d = np.real(np.diagonal(rho, axis1=-2, axis2=-1))
    ref = np.stack([d[:, 0], d[:, 1], d[:, 2], d[:, 3], rho[:, 1, 2].real, rho[:, 1, 2].imag], 1)
    neg, got = kernel.state(inputs)
    timed = kernel.negativity(inputs, np.empty(len(neg)), kernel.max_threads)
    fin = ~(np.isnan(ref_neg) | np.isnan(neg) | np.isnan(timed))
    wd, wu = (np.asarray(w) for w in jaxtls.bath_weights(p["T"], p["delta"][:, None]))
    a, b = wd[:, 0] * wu[:, 1], wu[:, 0] * wd[:, 1]
    kappa = np.where(a != b, (a + b) / np.where(a != b, np.abs(a - b), 1.0), np.inf)
    cond = np.ones_like(ref)
    cond[:, 4:] = np.maximum(kappa, 1.0)[:, None]
    scale_b = np.where(ref != 0, np.abs(ref), 1.0)
    rel = np.abs(got - ref) / scale_b
    scale = np.maximum(np.maximum(np.abs(ref[:, 0]), np.abs(ref[:, 3])), np.abs(ref[:, 4]))

    def neg_diff(x):
        return _max(np.abs(x[fin] - ref_neg[fin]) / scale[fin])

    out = {
        "n_points": len(neg),
        "rtol": rtol,
        "max_rel_diff_state": _max(rel[fin]),
        "max_rel_diff_state_over_condition": _max((rel / cond)[fin]),
        "fraction_entries_raw_rel_above_rtol": float(np.mean(rel[fin] > rtol)),
        "max_diff_negativity_over_block_scale": neg_diff(neg),
        "max_diff_negativity_over_block_scale_timed": neg_diff(timed),
        "nan_mismatch": int(np.sum(np.isnan(neg) != np.isnan(ref_neg)))
        + int(np.sum(np.isnan(timed) != np.isnan(ref_neg))),
        "nan_points": int(np.sum(np.isnan(ref_neg))),
        "entangled_fraction": float(np.mean(ref_neg[fin] > 0)) if fin.any() else 0.0,
        "timed_equals_checked": bool(np.array_equal(timed, neg, equal_nan=True)),
    }
    worst = max(
        out["max_rel_diff_state_over_condition"],
        out["max_diff_negativity_over_block_scale"],
        out["max_diff_negativity_over_block_scale_timed"],
    )
    out["ok"] = bool(worst <= rtol and out["nan_mismatch"] == 0)
    return out


def invalid_agreement(kernel: CKernel) -> dict:
    """NaN on the same invalid and non-unique points as jaxtls, and the same number on points
    of extreme scale (the rescaling of ``_normalised``), jaxtls's Model built inside jit."""
    # valid; T < 0; K > J; NaN; non-unique (K = J, xi = 0); rates of 1e-150 and 1e150
    T = np.array([[1.0, 0.1], [-1, 0.1], [1, 0.1], [1, np.nan], [1, 0.1], [20, 0.1], [20, 0.1]])
    J = np.array([[1.0, 2.0], [1, 2], [1, 2], [1, 2], [1, 2], [1e-150, 3e-147], [1e150, 3e153]])
    K = np.array([[0.5, 1.0], [0.5, 1], [1.5, 1], [0.5, 1], [1, 2], [0, 3e-147], [0, 3e153]])
    xi, delta = np.array([0.1, 0.1, 0.1, 0.1, 0.0, 0.01, 0.01]), np.ones(7)
    neg, _ = kernel.state((T, J, K, xi, delta))
    ref = np.asarray(jax.jit(_negativity("closed"))(T, J, K, xi, delta))
    ok = np.allclose(neg, ref, rtol=AGREE_RTOL, atol=0, equal_nan=True)
    return {"c": neg.tolist(), "jaxtls": ref.tolist(), "ok": bool(ok)}


# -- timing ---------------------------------------------------------------------------------
def interleaved(
    thunks: dict, *, min_rounds: int, budget_s: float, slice_s: float = 0.05, max_rounds: int = 200
) -> dict:
    """Best (and median) seconds of each thunk over interleaved rounds.

    Wall time (``best_s``, per call) and the process's CPU time, all threads (``best_cpu_s``:
    what a call costs in core-seconds, nearly free of the waits that other jobs on the machine
    impose; a multithreaded call counts every thread) are both kept. CPU time is taken per
    slice (its mean per call): the minimum over single calls of a few ms is biased low on
    this VM (measured, closed form at 1e4 points: 51 ns per point against a mean of 78 ns,
    equal to the wall time, over 3000 calls).

    Each thunk is called once first (warm-up: compilation, first touch of the outputs). Then
    every round gives each thunk, in an order rotated from round to round, a slice of at least
    ``slice_s`` seconds (a fast thunk is called several times in its slice, so that it gets as
    many samples as the load allows), until ``min_rounds`` rounds and ``budget_s`` seconds are
    both reached; at most ``max_rounds`` rounds, and no new round after ``10 budget_s`` once
    2 rounds are done (slow rows).
    """
    warm = {}
    for k, thunk in thunks.items():
        t0 = time.perf_counter()
        thunk()
        warm[k] = time.perf_counter() - t0
    calls = {k: int(min(100, max(1, np.ceil(slice_s / max(w, 1e-6))))) for k, w in warm.items()}
    names = list(thunks)
    times, cpu = {k: [] for k in names}, {k: [] for k in names}
    start, r = time.perf_counter(), 0
    while r < max_rounds:
        elapsed = time.perf_counter() - start
        if (elapsed >= budget_s and r >= min_rounds) or (elapsed >= 10 * budget_s and r >= 2):
            break
        order = names[r % len(names) :] + names[: r % len(names)]
        for k in order:
            c0 = time.process_time()
            for _ in range(calls[k]):
                t0 = time.perf_counter()
                thunks[k]()
                times[k].append(time.perf_counter() - t0)
            cpu[k].append((time.process_time() - c0) / calls[k])  # the slice's mean
        r += 1
    return {
        k: {
            "best_s": min(v),
            "median_s": float(np.median(v)),
            "best_cpu_s": min(cpu[k]),
            "median_cpu_s": float(np.median(cpu[k])),
            "rounds": r,
            "calls": len(v),
        }
        for k, v in times.items()
    }


def forward_rows(n: int, p, fns, kernels: dict, threads: int, rounds: int, budget: float):
    """Points/s of every forward row at ``n`` points (one interleaved measurement)."""
    args = jax_inputs(p)
    model = jaxtls.Model(*args)  # concrete: validated once, outside the timing
    inputs = c_inputs(p)
    out = np.empty(n)
    thunks = {}
    for solver in ("closed", "general"):
        f = fns[solver]
        thunks[f"jaxtls_{solver}_jit"] = lambda f=f: jax.block_until_ready(f["jit"](*args))
        thunks[f"jaxtls_{solver}_blocked"] = lambda f=f: jax.block_until_ready(f["blocked"](*args))
        thunks[f"jaxtls_{solver}_eager"] = lambda s=SOLVERS[solver]: jax.block_until_ready(
            jaxtls.negativity(s(model))
        )
    for name, k in kernels.items():
        thunks[name] = lambda k=k: k.negativity(inputs, out, threads)
        if name == "c":
            thunks["c_1thread"] = lambda k=k: k.negativity(inputs, out, 1)
            thunks["ceiling"] = lambda k=k: k.stream(inputs, out, threads)
            thunks["ceiling_1thread"] = lambda k=k: k.stream(inputs, out, 1)
    t = interleaved(thunks, min_rounds=rounds, budget_s=budget)
    rows = {}
    for k, v in t.items():
        rows[k] = {**v, "points_per_s": n / v["best_s"]}
        rows[k]["points_per_cpu_s"] = n / max(v["best_cpu_s"], 1e-9)
    for k in ("ceiling", "ceiling_1thread"):
        if k in rows:
            rows[k]["GB_per_s"] = BYTES_PER_POINT * rows[k]["points_per_s"] / 1e9
    ratios = {}
    for solver in ("closed", "general"):
        for mode in ("jit", "blocked", "eager"):
            key = f"jaxtls_{solver}_{mode}"
            for base in ("c", "ceiling"):
                if base in rows:
                    ratios[f"{key}/{base}"] = rows[key]["points_per_s"] / rows[base]["points_per_s"]
            if "c" in rows:  # per core-second: how much work, whatever the threads and load
                ratios[f"{key}/c per cpu-second"] = (
                    rows[key]["points_per_cpu_s"] / rows["c"]["points_per_cpu_s"]
                )
    ratios["general_jit/closed_jit"] = (
        rows["jaxtls_general_jit"]["points_per_s"] / rows["jaxtls_closed_jit"]["points_per_s"]
    )
    return {"n": n, "rows": rows, "ratios": ratios}


def gradient_rows(n: int, p, fns, rounds: int, budget: float) -> dict:
    """Reverse-mode gradient (T, J, K, xi) over forward time of the sum of the negativity."""
    args = jax_inputs(p)
    thunks = {}
    for solver in ("closed", "general"):
        f = fns[solver]
        thunks[f"{solver}_forward"] = lambda f=f: jax.block_until_ready(f["sum"](*args))
        thunks[f"{solver}_grad"] = lambda f=f: jax.block_until_ready(f["grad"](*args))
        for k in ("blocked_sum", "blocked_grad"):
            thunks[f"{solver}_{k}"] = lambda f=f, k=k: jax.block_until_ready(f[k](*args))
    t = interleaved(thunks, min_rounds=rounds, budget_s=budget)
    out = {"n": n, "rows": t}
    for solver in ("closed", "general"):
        g = fns[solver]["grad"](*args)
        finite = np.concatenate([np.isfinite(np.asarray(x)).ravel() for x in g])
        out[solver] = {
            "grad_over_forward": t[f"{solver}_grad"]["best_s"] / t[f"{solver}_forward"]["best_s"],
            "grad_over_forward_cpu": t[f"{solver}_grad"]["best_cpu_s"]
            / t[f"{solver}_forward"]["best_cpu_s"],
            "grad_points_per_s": n / t[f"{solver}_grad"]["best_s"],
            # jaxtls.blocked: its gradient over the plain forward pass (what a user's forward
            # call costs) and over its own (blocked) forward pass, CPU time
            "blocked_grad_over_forward_cpu": t[f"{solver}_blocked_grad"]["best_cpu_s"]
            / t[f"{solver}_forward"]["best_cpu_s"],
            "blocked_grad_over_blocked_forward_cpu": t[f"{solver}_blocked_grad"]["best_cpu_s"]
            / t[f"{solver}_blocked_sum"]["best_cpu_s"],
            "finite_fraction": float(np.mean(finite)),
        }
    return out


# -- the run --------------------------------------------------------------------------------
def search_step_rows(budget: float, n_starts: int = 128) -> dict:
    """The optimizer's step: ``vmap`` over ``n_starts`` of the loss and its gradient
    (``optimize.objectives.loss_and_grad``), with the steady state's implicit derivative (as
    shipped) and with autodiff through the solver's elimination instead (the solvers' inner
    functions without the custom JVP), against the forward objective; three spaces."""
    import importlib

    from jaxtls import optimize
    from jaxtls.optimize._engine import compiled_space
    from jaxtls.optimize.objectives import loss_and_grad, space_objective

    ss = importlib.import_module("jaxtls.steady_state")
    shipped = dict(ss._impls)
    plain = {"general": ss._make(ss._general), "closed_form": ss._make(ss._closed)}
    out = {}
    for name in ("paper", "geometry", "asymmetric"):
        sp0 = optimize.get_space(name)
        sp, fixed = compiled_space(sp0)
        fixed = {k: jnp.asarray(v) for k, v in fixed.items()}
        var = {k: jnp.asarray(D, jnp.int64) for k, D in sp.variants()[0].items()}
        u = jnp.asarray(sp0.sample(np.random.default_rng(0), n_starts))
        fwd = jax.jit(jax.vmap(lambda x, sp=sp, f=fixed, v=var: space_objective(sp, x, f, v)))
        thunks = {"forward": lambda f=fwd, u=u: jax.block_until_ready(f(u))}
        for label, impls in (("implicit", shipped), ("autodiff", plain)):
            ss._impls.update(impls)  # read when the step is traced (its first call)
            step = jax.jit(jax.vmap(lambda x, sp=sp, f=fixed, v=var: loss_and_grad(sp, x, f, v)))
            jax.block_until_ready(step(u))
            thunks[label] = lambda s=step, u=u: jax.block_until_ready(s(u))
        ss._impls.update(shipped)
        t = interleaved(thunks, min_rounds=5, budget_s=budget / 3)
        cpu = {k: v["best_cpu_s"] for k, v in t.items()}
        out[name] = {
            "n_starts": n_starts,
            "us_per_call_cpu": {k: 1e6 * v for k, v in cpu.items()},
            "step_over_forward": cpu["implicit"] / cpu["forward"],
            "autodiff_over_forward": cpu["autodiff"] / cpu["forward"],
            "speedup": cpu["autodiff"] / cpu["implicit"],
        }
    return out


def machine_info() -> dict:
    dev = jax.devices()[0]
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu_count": os.cpu_count(),
        "cpu_affinity": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "cpu": cpu,
        "device": str(dev),
        "platform": dev.platform,
        "device_kind": getattr(dev, "device_kind", None),
        "jax": jax.__version__,
        "jaxlib": getattr(jax.lib, "__version__", None) if hasattr(jax, "lib") else None,
        "jaxtls": jaxtls.__version__,
        "jaxtls_path": str(Path(jaxtls.__file__).parent),
        "numpy": np.__version__,
        "python": platform.python_version(),
        "XLA_FLAGS": os.environ.get("XLA_FLAGS"),
        "JAX_PLATFORMS": os.environ.get("JAX_PLATFORMS"),
        "OMP_WAIT_POLICY": os.environ.get("OMP_WAIT_POLICY"),
    }


def _load() -> list[float]:
    try:
        return list(os.getloadavg())
    except OSError:
        return []


def print_forward(res: dict) -> None:
    rows, n = res["rows"], res["n"]
    rounds = min(r["rounds"] for r in rows.values())
    print(f"\nN = {n:,}: best of {rounds} interleaved rounds: points/s (wall), points/CPU-s")
    for k, v in rows.items():
        extra = f"  {v['GB_per_s']:.3g} GB/s" if "GB_per_s" in v else ""
        print(f"  {k:<24}{v['points_per_s']:>11.3g}{v['points_per_cpu_s']:>11.3g}{extra}")
    for k, v in res["ratios"].items():
        print(f"  ratio {k:<32}{v:>9.3g}")


def markdown(report: dict) -> str:
    """The README tables of one run (``--markdown JSON`` prints them without running)."""
    meta = report["meta"]
    lines = [
        f"{meta['date']}, checkout at {(meta['git']['commit'] or '?')[:7]}, jaxtls from "
        f"{meta['machine']['jaxtls_path']}, jax {meta['machine']['jax']}, "
        f"{meta['machine']['device']}, load average "
        f"{meta['load_average_start_end'][0][:1]} -> {meta['load_average_start_end'][1][:1]}",
        "",
        "| N | row | points/s (wall) | points per CPU-s | / C (wall) | / C (CPU-s) "
        "| / ceiling (wall) |",
        "|---|---|---|---|---|---|---|",
    ]
    for f in report["forward"]:
        rows, r = f["rows"], f["ratios"]
        for k, v in rows.items():
            c_wall = r.get(f"{k}/c", "")
            c_cpu = r.get(f"{k}/c per cpu-second", "")
            ceil = r.get(f"{k}/ceiling", "")
            cells = [f"{x:.2g}" if x != "" else "" for x in (c_wall, c_cpu, ceil)]
            name = k + (f" ({v['GB_per_s']:.3g} GB/s)" if "GB_per_s" in v else "")
            lines.append(
                f"| {f['n']:.0e} | {name} | {v['points_per_s']:.2e} | "
                f"{v['points_per_cpu_s']:.2e} | " + " | ".join(cells) + " |"
            )
    lines += [
        "",
        "| N | solver | grad/forward (wall, CPU) | blocked grad/forward (CPU) "
        "| blocked grad/blocked forward (CPU) | ns per point: forward, grad, blocked grad (CPU) |",
        "|---|---|---|---|---|---|",
    ]
    for g in report["gradients"]:
        for solver in ("closed", "general"):
            rows = g["rows"]
            fw, gr = rows[f"{solver}_forward"], rows[f"{solver}_grad"]
            wall, cpu = gr["best_s"] / fw["best_s"], gr["best_cpu_s"] / fw["best_cpu_s"]
            s = g[solver]
            ns = [rows[f"{solver}_{k}"]["best_cpu_s"] / g["n"] * 1e9 for k in ("forward", "grad")]
            ns.append(rows[f"{solver}_blocked_grad"]["best_cpu_s"] / g["n"] * 1e9)
            lines.append(
                f"| {g['n']:.0e} | {solver} | {wall:.2g}, {cpu:.2g} | "
                f"{s['blocked_grad_over_forward_cpu']:.2g} | "
                f"{s['blocked_grad_over_blocked_forward_cpu']:.2g} | "
                + ", ".join(f"{x:.0f}" for x in ns)
                + " |"
            )
    lines += [
        "",
        "| space (128 starts) | forward, step, step by autodiff (us per call, CPU) "
        "| step/forward | speed-up of the implicit derivative |",
        "|---|---|---|---|",
    ]
    for name, r in report.get("search_steps", {}).items():
        us = r["us_per_call_cpu"]
        lines.append(
            f"| {name} | {us['forward']:.0f}, {us['implicit']:.0f}, {us['autodiff']:.0f} | "
            f"{r['step_over_forward']:.2g} | {r['speedup']:.2g} |"
        )
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="N = 1e5, 1e6; gradients 1e4, 1e5")
    ap.add_argument("--out", default="benchmarks/out/limit.json", help="JSON output path")
    num_list = lambda s: [int(float(x)) for x in s.split(",")]  # noqa: E731
    ap.add_argument("--sizes", type=num_list, default=None, help="forward sizes, e.g. 1e5,1e6")
    ap.add_argument("--grad-sizes", type=num_list, default=None, help="gradient sizes")
    ap.add_argument("--threads", type=int, default=None, help="C threads (default: all cores)")
    ap.add_argument("--rounds", type=int, default=None, help="minimum interleaved rounds")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--markdown", metavar="JSON", help="print the tables of a run and exit")
    args = ap.parse_args(argv)
    if args.markdown:
        print(markdown(json.loads(Path(args.markdown).read_text())))
        return 0
    if hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(line_buffering=True)  # progress lines also in a log file
    if not jax.config.jax_enable_x64:
        raise SystemExit("jax_enable_x64 is off: the benchmark needs float64")
    sizes = args.sizes or (QUICK_SIZES if args.quick else SIZES)
    grad_sizes = args.grad_sizes or (QUICK_GRAD_SIZES if args.quick else GRAD_SIZES)
    rounds = args.rounds or (3 if args.quick else 7)
    budget = 0.5 if args.quick else 2.0
    t_start, load0 = time.perf_counter(), _load()
    info = machine_info()
    threads = args.threads or info["cpu_affinity"] or os.cpu_count()
    print(
        f"jax {info['jax']} on {info['device']}; {info['cpu_count']} CPUs ({info['cpu']}); "
        f"load {load0}\n{SHARED_NOTE}"
    )

    with tempfile.TemporaryDirectory(prefix="jaxtls-limit-") as tmp:
        built = build_kernels(Path(tmp))
        p_check = sample(AGREE_POINTS, args.seed + 1)
        c_report = {k: v for k, v in built.items() if k != "builds"}
        c_report["builds"], kernels = {}, {}
        for name, b in built["builds"].items():
            entry = {k: v for k, v in b.items() if k != "kernel"}
            if b["ok"]:
                entry["threads_max"] = b["kernel"].max_threads
                entry["agreement"] = agreement(b["kernel"], p_check)
                entry["invalid_points"] = invalid_agreement(b["kernel"])
                if entry["agreement"]["ok"] and entry["invalid_points"]["ok"]:
                    kernels[name] = b["kernel"]
            c_report["builds"][name] = entry
        if built["available"]:
            for name, e in c_report["builds"].items():
                a = e.get("agreement", {})
                print(
                    f"C build {name}: {e['flags']}: "
                    + (
                        f"agrees with jaxtls on {a['n_points']} points: {a['ok']} (state "
                        f"{a['max_rel_diff_state_over_condition']:.2g} rel/condition, raw "
                        f"{a['max_rel_diff_state']:.2g}; negativity "
                        f"{a['max_diff_negativity_over_block_scale_timed']:.2g})"
                        if a
                        else f"failed: {e.get('error', '')[:200]}"
                    )
                )
        else:
            print(f"C baseline unavailable: {built['reason']}")

        fns = jax_functions()
        p_all = sample(max(sizes + grad_sizes), args.seed)
        forward, gradients = [], []
        for n in sizes:
            p = {k: v[:n] for k, v in p_all.items()}
            forward.append(forward_rows(n, p, fns, kernels, threads, rounds, budget))
            print_forward(forward[-1])
        for n in grad_sizes:
            p = {k: v[:n] for k, v in p_all.items()}
            gradients.append(gradient_rows(n, p, fns, max(3, rounds - 2), budget))
            g = gradients[-1]
            print(
                f"N = {n:,}: grad/forward (wall; CPU) closed "
                f"{g['closed']['grad_over_forward']:.3g}; "
                f"{g['closed']['grad_over_forward_cpu']:.3g}, general "
                f"{g['general']['grad_over_forward']:.3g}; "
                f"{g['general']['grad_over_forward_cpu']:.3g}; blocked grad/forward (CPU) "
                f"closed {g['closed']['blocked_grad_over_forward_cpu']:.3g}, general "
                f"{g['general']['blocked_grad_over_forward_cpu']:.3g} (finite gradients "
                f"{g['closed']['finite_fraction']:.3g}, {g['general']['finite_fraction']:.3g})"
            )

    steps = search_step_rows(budget)
    for name, r in steps.items():
        print(
            f"search step, {name} ({r['n_starts']} starts): loss+grad / forward "
            f"{r['step_over_forward']:.3g} (autodiff through the elimination "
            f"{r['autodiff_over_forward']:.3g}): implicit derivative x{r['speedup']:.3g}"
        )
    elapsed = time.perf_counter() - t_start
    report = {
        "meta": {
            "command": " ".join([Path(sys.argv[0]).as_posix()] + sys.argv[1:]),
            "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "machine": info,
            "git": bench_core.git_state(),
            "load_average_start_end": [load0, _load()],
            "shared_machine_note": SHARED_NOTE,
            "timing": "warm-up call excluded (compilation), then interleaved rounds, best of "
            "rounds, block_until_ready; C calls are synchronous",
            "min_rounds": rounds,
            "budget_s_per_size": budget,
            "c_threads": threads,
            "bytes_per_point": BYTES_PER_POINT,
            "bytes_per_point_note": "T, J, K (2 baths), xi, delta read and the negativity "
            "written, as float64 (write-allocate can add 8 more bytes of traffic)",
            "sample": "bench_core.sample with detuning = 0 (symmetric two-bath models)",
            "seed": args.seed,
            "elapsed_s": elapsed,
        },
        "c": c_report,
        "forward": forward,
        "gradients": gradients,
        "search_steps": steps,
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=1))
    print(f"total {elapsed:.0f} s; wrote {out}")
    bad = [k for k, e in c_report["builds"].items() if e["ok"] and k not in kernels]
    if bad:
        print(f"C BUILD DISAGREES WITH JAXTLS: {bad} (not timed)")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
