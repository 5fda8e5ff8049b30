"""``jaxtls sweep``: a streamed, resumable grid sweep from the command line.

    jaxtls sweep --axis T_1 0.1 1000 400 log --axis ratio 1 1e6 300 log --axis kappa_2 1 \\
                 --measure negativity --out results/map

Every ``--axis`` is ``NAME LOW HIGH N [log|lin]`` (``N`` values from ``LOW`` to ``HIGH``) or
``NAME VALUE`` (one value), the grammar :data:`jaxtls.cli._options.AXIS_GRAMMAR` that
``jaxtls doe`` shares (a design takes no ``N``); values must be physical (T, J >= 0,
``|kappa| <= 1``, ...); the names are ``jaxtls.batching.AXES``, those of
:func:`jaxtls.two_bath_model` (``T_1 T_2 J_1 J_2 ratio kappa_1 kappa_2 K_1 K_2 xi detuning
delta exchange``; ``_n`` is bath n; ``exchange`` and ``detuning`` take either sign). The grid
is evaluated with :func:`jaxtls.sweep` and streamed to ``--out``; running the same command
again after an interruption resumes after the last finished chunk (checked against the
checksums on disk); another sweep, or damaged files, in ``--out`` is an error unless
``--overwrite``. Reload with ``jaxtls.load_sweep(out)``.
"""

from __future__ import annotations

import functools
import time

import numpy as np

from . import _options

HELP = "grid sweep of a measure, streamed to disk and resumable"

_MEASURES = {
    "negativity": "negativity N of the steady state (NaN where it is not unique)",
    "log_negativity": "log2(1 + 2N)",
    "concurrence": "Wootters concurrence",
    "pt_min_eigenvalue": "smallest eigenvalue of the partial transpose (signed, smooth)",
    "bell_populations": "weights of |++>, psi+, psi-, |--> (4 values per point)",
}


@functools.cache
def measure(name: str, solver: str = "general"):
    """The per-point function ``Model -> array`` of a measure name (one object per name, so
    that repeated sweeps reuse the compiled evaluator).

    Example:
      >>> import jaxtls
      >>> from jaxtls.cli.sweep import measure
      >>> m = jaxtls.two_bath_model({"T_1": 20.0, "ratio": 1e3, "kappa_2": 1.0})
      >>> round(float(measure("negativity")(m)), 4)
      0.0325
    """
    import jaxtls

    if name not in _MEASURES:
        raise ValueError(f"unknown measure {name!r}; known: {', '.join(_MEASURES)}")
    if solver not in ("general", "closed_form"):
        raise ValueError(f"solver must be 'general' or 'closed_form', got {solver!r}")
    of_state = getattr(jaxtls, name)
    solve = jaxtls.closed_form if solver == "closed_form" else jaxtls.steady_state

    def fn(model):
        return of_state(solve(model, check=False))

    fn.__name__ = fn.__qualname__ = f"{name}_{solver}"
    return fn


def axis_values(spec: _options.AxisSpec) -> np.ndarray:
    """The values of a ``jaxtls sweep`` axis (a range needs ``N``)."""
    if spec.n is None:
        if spec.low != spec.high:
            raise ValueError(
                f"--axis {spec.name}: jaxtls sweep needs N for a range: NAME LOW HIGH N [log|lin]"
            )
        return np.array([spec.low])
    if spec.log:
        return np.geomspace(spec.low, spec.high, spec.n)
    return np.linspace(spec.low, spec.high, spec.n)


def register(sub):
    """Add ``jaxtls sweep`` to the subparsers ``sub``."""
    from jaxtls.batching import AXES

    p = sub.add_parser(
        "sweep",
        help=HELP,
        description="Evaluate a measure of the steady state on the cartesian product of the "
        f"given axes (known names: {' '.join(AXES)}), in chunks, sharded over all local "
        "devices, streamed to --out. Run the same command again to resume.",
    )
    _options.add_axis_option(p)
    _options.add_overwrite_option(p, "--out", "another sweep")
    p.add_argument("--measure", default="negativity", choices=tuple(_MEASURES))
    p.add_argument("--solver", default="general", choices=("general", "closed_form"))
    p.add_argument("--out", required=True, help="output folder (values.npy, manifest.json)")
    p.add_argument("--chunk-size", type=int, default=None, help="points per chunk")
    p.add_argument(
        "--memory-mb", type=float, default=256.0, help="memory budget of a chunk (default 256)"
    )
    _options.add_progress_option(p, "no progress bar", aliases=("--quiet",))
    _options.add_processes_option(p)
    p.set_defaults(func=run)
    return p


def run(args) -> int:
    """Entry point of ``jaxtls sweep`` (``args`` from the parser of :func:`register`)."""
    launched = _options.distributed_run(args)
    if launched is not None:
        return launched
    from jaxtls.batching import Grid, sweep

    specs = _options.parse_axes(args.axis)
    axes = {s.name: axis_values(s) for s in specs}
    if args.chunk_size is not None and args.chunk_size < 1:
        raise ValueError(f"--chunk-size must be >= 1, got {args.chunk_size}")
    grid = Grid(axes)
    out = str(_options.out_folder(args.out))
    t0 = time.perf_counter()
    res = sweep(
        grid,
        measure(args.measure, args.solver),
        out=out,
        chunk_size=args.chunk_size,
        memory_budget_mb=args.memory_mb,
        progress=_options.progress(args),
        overwrite=args.overwrite,
        metadata={"command": "jaxtls sweep", "measure": args.measure, "solver": args.solver},
    )
    dt = time.perf_counter() - t0
    shape = "x".join(map(str, res.values.shape))
    print(f"{len(grid)} points ({shape}) done in {dt:.1f} s (finished chunks are not redone)")
    if res.values.ndim == len(axes):
        _print_extremes(res, args.measure)
    print(f"wrote {args.out} (reload: jaxtls.load_sweep({args.out!r}))")
    return 0


def _print_extremes(res, name) -> None:
    finite = positive = 0
    best, best_at = -np.inf, None
    for block, offset in _blocks(res.values):  # streamed: never the whole array at once
        ok = np.isfinite(block)
        finite += int(ok.sum())
        positive += int(np.sum(block[ok] > 0))
        if ok.any():
            i = int(np.argmax(np.where(ok, block, -np.inf)))
            if block[i] > best:
                best, best_at = float(block[i]), offset + i
    total = res.values.size
    print(f"{name}: finite at {finite}/{total} points", end="")
    if name in ("negativity", "log_negativity", "concurrence"):
        print(f", entangled fraction {positive / max(finite, 1):.4f}", end="")
    if best_at is None:
        print()
        return
    idx = np.unravel_index(best_at, res.values.shape)
    where = ", ".join(f"{k}={res.coords[k][i]:.6g}" for k, i in zip(res.dims, idx, strict=True))
    print(f"; max {best:.6g} at {where}")


def _blocks(values, size=2**22):
    flat = values.reshape(-1)
    for start in range(0, flat.size, size):
        yield np.asarray(flat[start : start + size]), start
