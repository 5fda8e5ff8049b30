"""``jaxtls sweep``: a streamed, resumable grid sweep from the command line.

    jaxtls sweep --axis T1 0.1 1000 400 log --axis ratio 1 1e6 300 log --axis kappa2 1 \\
                 --measure negativity --out results/map

Every ``--axis`` is ``NAME LOW HIGH N [log|lin]`` (``N`` values from ``LOW`` to ``HIGH``) or
``NAME VALUE`` (one value), the grammar :data:`AXIS_GRAMMAR` that ``jaxtls doe`` shares
(:func:`parse_axis`; a design takes no ``N``); values must be physical (T, J >= 0,
``|kappa| <= 1``, ...); the names are ``jaxtls.batching.AXES``, those of
:func:`jaxtls.two_bath_model` (``T1 T2 J1 J2 ratio kappa1 kappa2 K1 K2 xi detuning delta
exchange``; ``exchange`` and ``detuning`` take either sign). The grid is evaluated with
:func:`jaxtls.sweep` and streamed to ``--out``; running the same command again after an
interruption resumes after the last finished chunk (checked against the checksums on disk);
another sweep, or damaged files, in ``--out`` is an error unless ``--overwrite``. Reload with
``jaxtls.load_sweep(out)``.

The plugin protocol is that of :mod:`jaxtls.cli`: :func:`register` adds the ``sweep``
subparser and sets ``func``; errors the user can fix are ``ValueError``.
"""

from __future__ import annotations

import functools
import sys
import time
from typing import NamedTuple

import numpy as np

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
      >>> from jaxtls.sweep_cli import measure
      >>> m = jaxtls.two_bath_model({"T1": 20.0, "ratio": 1e3, "kappa2": 1.0})
      >>> round(float(measure("negativity")(m)), 4)
      0.0325
    """
    import jaxtls

    if name not in _MEASURES:
        raise ValueError(f"unknown measure {name!r}; known: {', '.join(_MEASURES)}")
    if solver not in ("general", "closed_form"):
        raise ValueError(f"solver must be 'general' or 'closed_form', got {solver!r}")
    of_state = getattr(jaxtls, name)

    def fn(model):
        return of_state(jaxtls.xstate(model, method=solver, check=False))

    fn.__name__ = fn.__qualname__ = f"{name}_{solver}"
    return fn


AXIS_GRAMMAR = "NAME VALUE or NAME LOW HIGH [N] [log|lin]"
AXIS_HELP = (
    f"{AXIS_GRAMMAR}: one value, or a range from LOW to HIGH, spaced linearly (lin, the "
    "default) or logarithmically (log); jaxtls sweep takes N values of a range, jaxtls doe "
    "draws its --n points over the ranges (no N) and holds single values fixed. Physical "
    "rules: T, J, ratio, xi >= 0; |kappa| <= 1; |K_n| <= J_n; delta > 0; |detuning| <= "
    "delta; exchange any real. Repeat for every axis; each name once."
)


class AxisSpec(NamedTuple):
    """One ``--axis``: ``name``, ``low`` to ``high`` (equal for one value), ``n`` values
    (``None``: not given) and ``log`` spacing."""

    name: str
    low: float
    high: float
    n: int | None
    log: bool


def parse_axis(spec) -> AxisSpec:
    """Parse one ``--axis`` of ``jaxtls sweep`` or ``jaxtls doe``: ``NAME VALUE`` or
    ``NAME LOW HIGH [N] [log|lin]`` (:data:`AXIS_GRAMMAR`).

    Example:
      >>> parse_axis(["T1", "1", "100", "3", "log"])
      AxisSpec(name='T1', low=1.0, high=100.0, n=3, log=True)
      >>> parse_axis(["kappa2", "1"])
      AxisSpec(name='kappa2', low=1.0, high=1.0, n=None, log=False)
    """
    spec = list(spec)
    usage = f"--axis takes {AXIS_GRAMMAR}, got {' '.join(spec)}"
    scale = spec.pop() if len(spec) >= 4 and spec[-1] in ("log", "lin") else None
    if len(spec) not in (2, 3, 4):
        raise ValueError(usage)
    name = spec[0]
    try:
        nums = [float(x) for x in spec[1:3]]
        count = int(spec[3]) if len(spec) == 4 else None
    except ValueError:
        raise ValueError(usage) from None
    if len(spec) == 2:
        if scale is not None:
            raise ValueError(usage)
        nums.append(nums[0])
    low, high = nums
    if not (np.isfinite(low) and np.isfinite(high)):
        raise ValueError(f"--axis {name}: values must be finite, got {low:g} {high:g}")
    if low > high:
        raise ValueError(f"--axis {name}: low {low:g} > high {high:g}")
    if count is not None and count < 1:
        raise ValueError(f"--axis {name}: N must be >= 1, got {count}")
    if scale == "log" and low <= 0:
        raise ValueError(f"--axis {name}: a log axis needs low > 0, got {low:g}")
    return AxisSpec(name, low, high, count, scale == "log")


def axis_values(spec: AxisSpec) -> np.ndarray:
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


def register(subparsers) -> None:
    """Add ``jaxtls sweep`` to the ``jaxtls`` command line."""
    from .batching import AXES

    p = subparsers.add_parser(
        "sweep",
        help="grid sweep of a measure, streamed to disk and resumable",
        description="Evaluate a measure of the steady state on the cartesian product of the "
        f"given axes (known names: {' '.join(AXES)}), in chunks, sharded over all local "
        "devices, streamed to --out. Run the same command again to resume.",
    )
    p.add_argument(
        "--axis",
        nargs="+",
        action="append",
        required=True,
        metavar="SPEC",
        help=AXIS_HELP,
    )
    p.add_argument(
        "--overwrite",
        action="store_true",
        help="replace what --out holds (another sweep, damaged files) instead of an error",
    )
    p.add_argument("--measure", default="negativity", choices=tuple(_MEASURES))
    p.add_argument("--solver", default="general", choices=("general", "closed_form"))
    p.add_argument("--out", required=True, help="output folder (values.npy, manifest.json)")
    p.add_argument("--chunk-size", type=int, default=None, help="points per chunk")
    p.add_argument(
        "--memory-mb", type=float, default=256.0, help="memory budget of a chunk (default 256)"
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def run(args) -> int:
    """Entry point of ``jaxtls sweep`` (``args`` from the parser of :func:`register`)."""
    from .batching import Grid, check_axes, sweep

    specs = [parse_axis(s) for s in args.axis]
    check_axes([s.name for s in specs])
    axes = {s.name: axis_values(s) for s in specs}
    if args.chunk_size is not None and args.chunk_size < 1:
        raise ValueError(f"--chunk-size must be >= 1, got {args.chunk_size}")
    grid = Grid(axes)
    t0 = time.perf_counter()
    res = sweep(
        grid,
        measure(args.measure, args.solver),
        out=args.out,
        chunk_size=args.chunk_size,
        memory_budget_mb=args.memory_mb,
        progress=None if args.quiet else sys.stderr,
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
