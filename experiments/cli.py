"""``jaxtls reproduce [NAME ...] [--out DIR] [--fast]``: regenerate the paper's figures and
claims, and write ``report.md`` / ``report.json``."""

from __future__ import annotations

import sys
import time


def register(subparsers) -> None:
    from ._registry import EXPERIMENTS

    p = subparsers.add_parser(
        "reproduce",
        help="regenerate every figure and analytical claim of the paper, with a report",
        description="Run the experiments (all by default): "
        + "; ".join(f"{k}: {v[1]}" for k, v in EXPERIMENTS.items())
        + ". Writes data (npz + json), figures (png + pdf), report.md and report.json.",
    )
    p.add_argument("names", nargs="*", metavar="NAME", help="experiments to run (default: all)")
    p.add_argument("--out", default="results", help="output folder (default results/)")
    p.add_argument("--fast", action="store_true", help="coarser grids (well under a minute)")
    p.add_argument("--quiet", action="store_true", help="no progress on stderr")
    p.set_defaults(func=run)


def run(args) -> int:
    from . import report
    from ._registry import EXPERIMENTS, get

    names = args.names or list(EXPERIMENTS)
    bad = [n for n in names if n not in EXPERIMENTS]
    if bad:
        raise ValueError(f"unknown experiment(s) {', '.join(bad)}; known: {', '.join(EXPERIMENTS)}")
    t0 = time.perf_counter()
    results = []
    for name in names:
        if not args.quiet:
            print(f"[reproduce] {name}: {EXPERIMENTS[name][1]}", file=sys.stderr, flush=True)
        r = get(name)(out=args.out, fast=args.fast, progress=not args.quiet)
        results.append(r)
        ok = sum(c["agree"] is True for c in r["claims"])
        print(f"{name:<13} {r['wall_time']:6.1f} s  {ok}/{len(r['claims'])} claims agree")
    total = time.perf_counter() - t0
    md, js = report.write(results, args.out, args.fast, total)
    n_bad = sum(c["agree"] is False for r in results for c in r["claims"])
    print(f"total {total:.1f} s; wrote {md} and {js}; {n_bad} claim(s) disagree")
    return 0
