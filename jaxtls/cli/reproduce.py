"""``jaxtls reproduce [NAME ...] [--out DIR] [--fast] [--no-progress] [--list]``: regenerate the
paper's figures and claims (:mod:`experiments`), with progress bars on stderr, and write
``report.md`` / ``report.json``.

``--no-progress`` (alias ``--quiet``) silences stderr: the bars, the line naming each
experiment as it starts and the note on the compilation cache.

Exit status: 0 when every claim that was checked agrees, 1 when some disagree, 2 on usage errors
(unknown experiment name).
"""

from __future__ import annotations

import sys
import time

from . import _options

HELP = "regenerate every figure and analytical claim of the paper, with a report"


def register(sub):
    """Add ``jaxtls reproduce`` to the subparsers ``sub`` (imports the experiments'
    registry for their names)."""
    from jaxtls.experiments._registry import EXPERIMENTS

    p = sub.add_parser(
        "reproduce",
        help=HELP,
        description="Run the paper's experiments (all by default, under a minute on 2 CPU "
        "cores; --fast: coarser grids, shorter search) and write, into --out, their data "
        "(npz + json parameters), figures (png + pdf), report.md and report.json: for every "
        "claim the paper's value, ours, the tolerance and agree/disagree. Experiments: "
        + "; ".join(f"{k}: {v[1]}" for k, v in EXPERIMENTS.items())
        + ".",
    )
    p.add_argument("names", nargs="*", metavar="NAME", help="experiments to run (default: all)")
    p.add_argument("--out", default="results", help="output folder (default: results)")
    p.add_argument("--fast", action="store_true", help="coarser grids, shorter searches")
    _options.add_progress_option(
        p,
        "nothing on stderr: no progress bars, no line per experiment",
        aliases=("--quiet",),
    )
    p.add_argument("--list", action="store_true", help="list the experiments and exit")
    p.add_argument(
        "--no-cache",
        action="store_true",
        help="do not use JAX's persistent compilation cache (default: ~/.cache/jaxtls/xla, "
        "or $JAX_COMPILATION_CACHE_DIR)",
    )
    p.set_defaults(func=run)
    return p


def run(args) -> int:
    """Run the selected experiments, print a table, write the report; the exit status."""
    from jaxtls.experiments import report
    from jaxtls.experiments._registry import EXPERIMENTS, prefetch, run_experiment

    if args.list:
        for name, (_, what) in EXPERIMENTS.items():
            print(f"{name:<13} {what}")
        return 0
    names = list(dict.fromkeys(args.names)) or list(EXPERIMENTS)
    bad = [n for n in names if n not in EXPERIMENTS]
    if bad:
        raise ValueError(f"unknown experiment(s) {', '.join(bad)}; known: {', '.join(EXPERIMENTS)}")
    show = _options.progress(args)
    _options.out_folder(args.out)
    out = args.out
    if not args.no_cache:
        from jaxtls.experiments._common import compilation_cache

        where = compilation_cache()
        if show and where:
            print(f"XLA compilation cache: {where} (--no-cache to disable)", file=sys.stderr)
    t0 = time.perf_counter()
    if len(names) > 1:
        prefetch(names, args.fast)  # the optimize search compiles while the others run
    results = []
    for i, name in enumerate(names, 1):
        if show:
            print(f"[{i}/{len(names)}] {name}: {EXPERIMENTS[name][1]}", file=sys.stderr, flush=True)
        results.append(run_experiment(name, out=out, fast=args.fast, progress=show))
    total = time.perf_counter() - t0
    md, js = report.write(results, out, args.fast, total)
    print(f"{'experiment':<13} {'time':>7}  claims")
    for r in results:
        verdicts = [c["agree"] for c in r["claims"]]
        n_ok, n_bad = verdicts.count(True), verdicts.count(False)
        extra = f", {n_bad} DISAGREE" if n_bad else ""
        extra += f", {verdicts.count(None)} not checked" if None in verdicts else ""
        print(f"{r['name']:<13} {r['wall_time']:6.1f}s  {n_ok}/{len(verdicts)} agree{extra}")
    n_bad = sum(c["agree"] is False for r in results for c in r["claims"])
    print(f"total {total:.1f} s; report: {md} (and {js}); {n_bad} claim(s) disagree")
    for r in results:
        for c in r["claims"]:
            if c["agree"] is False:
                print(f"  DISAGREE [{r['name']}] {c['claim']}: computed {c['computed']}")
    return 1 if n_bad else 0
