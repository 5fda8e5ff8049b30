"""``jaxtls sweep``: a streamed, resumable grid sweep from the command line.

    jaxtls sweep --axis T1 0.1 1000 400 log --axis ratio 1 1e6 300 log --axis kappa2 1 \\
                 --measure negativity --out results/map

Every ``--axis`` is ``NAME LOW HIGH N [log|lin]`` (``N`` values from ``LOW`` to ``HIGH``) or
``NAME VALUE`` (one value); the names are ``jaxtls.batching.AXES``, those of
:func:`jaxtls.two_bath_model` (``T1 T2 J1 J2 ratio kappa1 kappa2 K1 K2 xi detuning delta
exchange``; ``exchange`` and ``detuning`` take either sign). The grid is evaluated with
:func:`jaxtls.sweep` and streamed to ``--out``; running the same command again after an
interruption resumes after the last finished chunk. Reload with ``jaxtls.load_sweep(out)``.

The plugin protocol is that of :mod:`jaxtls.cli`: :func:`register` adds the ``sweep``
subparser and sets ``func``; errors the user can fix are ``ValueError``.
"""

from __future__ import annotations

import functools
import sys
import time

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


def parse_axis(spec) -> tuple[str, np.ndarray]:
    """``[NAME, LOW, HIGH, N, (log|lin)]`` or ``[NAME, VALUE]`` -> (name, values).

    Example:
      >>> parse_axis(["T1", "1", "100", "3", "log"])[1].tolist()
      [1.0, 10.0, 100.0]
    """
    usage = "--axis takes NAME LOW HIGH N [log|lin] or NAME VALUE"
    if len(spec) not in (2, 4, 5) or (len(spec) == 5 and spec[4] not in ("log", "lin")):
        raise ValueError(f"{usage}, got {' '.join(spec)}")
    name = spec[0]
    try:
        nums = [float(x) for x in spec[1:3]]
        count = int(spec[3]) if len(spec) >= 4 else 1
    except ValueError as err:
        raise ValueError(f"--axis {name}: {usage}, got {' '.join(spec[1:])}") from err
    if len(spec) == 2:
        return name, np.array(nums[:1])
    low, high = nums
    if not (np.isfinite(low) and np.isfinite(high)):
        raise ValueError(f"--axis {name}: bounds must be finite, got {low} {high}")
    if low > high:
        raise ValueError(f"--axis {name}: low {low:g} > high {high:g}")
    if count < 1:
        raise ValueError(f"--axis {name}: N must be >= 1, got {count}")
    if len(spec) == 5 and spec[4] == "log":
        if low <= 0:
            raise ValueError(f"--axis {name}: a log axis needs low > 0, got {low:g}")
        return name, np.geomspace(low, high, count)
    return name, np.linspace(low, high, count)


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
        help="NAME LOW HIGH N [log|lin], or NAME VALUE (repeat for every axis)",
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
    from .batching import Grid, sweep

    axes = dict(parse_axis(s) for s in args.axis)
    if len(axes) != len(args.axis):
        raise ValueError("each axis name may be given once")
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
