"""``jaxtls doe``: a space-filling design (Sobol or Latin hypercube) over parameter ranges,
evaluated through the streamed sweep, with a summary and marginal plots
(:func:`jaxtls.run_doe`). The ``--axis`` grammar is that of ``jaxtls sweep`` without ``N``."""

from __future__ import annotations

from . import _options

HELP = "space-filling design over parameter ranges, with a summary and marginal plots"


def register(sub):
    """Add ``jaxtls doe`` to the subparsers ``sub``."""
    from jaxtls.batching import AXES

    p = sub.add_parser(
        "doe",
        help=HELP,
        description="Evaluate the negativity on a Sobol or Latin-hypercube design over the "
        f"given axes (known names: {' '.join(AXES)}); single values are held fixed.",
    )
    _options.add_axis_option(p)
    p.add_argument("--design", choices=("sobol", "lhs"), default="sobol")
    p.add_argument("--n", type=int, default=2**14, help="number of points (default 16384)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default="results/doe", help="output folder (default results/doe)")
    _options.add_overwrite_option(p, "--out/sweep", "another design")
    _options.add_progress_option(p)
    _options.add_processes_option(p)
    p.set_defaults(func=run)
    return p


def run(args) -> int:
    """Entry point of ``jaxtls doe``."""
    launched = _options.distributed_run(args)
    if launched is not None:
        return launched
    import jaxtls

    specs = _options.parse_axes(args.axis)
    for s in specs:
        if s.n is not None:
            raise ValueError(
                f"--axis {s.name}: jaxtls doe draws --n points over the ranges, so an axis "
                "takes no N: NAME LOW HIGH [log|lin] or NAME VALUE"
            )
    axes = [(s.name, s.low, s.high, s.log) for s in specs if s.low != s.high]
    fixed = {s.name: s.low for s in specs if s.low == s.high}
    out = str(_options.out_folder(args.out))
    s = jaxtls.run_doe(
        axes,
        n=args.n,
        design=args.design,
        seed=args.seed,
        out=out,
        progress=_options.progress(args),
        fixed=fixed,
        overwrite=args.overwrite,
    )
    print(
        f"{s.n_points} points, entangled fraction {s.fraction_entangled:.4f}, "
        f"non-unique/invalid {s.fraction_nan:.4f}"
    )
    for b in s.best[:3]:
        print("best: " + ", ".join(f"{k}={v:.6g}" for k, v in b.items()))
    print(f"wrote {args.out}/summary.json, marginals_1d.png/pdf, marginals_2d.png/pdf, sweep/")
    return 0
