"""``jaxtls optimize``: search a space for the largest steady-state negativity.

Writes ``<out>/optimize_<space>.json`` (best parameters, N, regime, fidelity, every D
variant, the space, settings, timings) and ``<out>/optimize_<space>_convergence.png``; a
progress bar goes to stderr (one line per 10% when stderr is not a terminal).

Example (shell)::

    jaxtls optimize --space paper --starts 128 --steps 600 --seed 0 --out results/
    jaxtls optimize --space paper --min-relaxation 1e-2        # constrained search
    jaxtls optimize --space asymmetric --pareto min_relaxation 1e-4 1e-3 1e-2   # a front
    jaxtls optimize --space paper --detuning 1e-3 --exchange-range -1 1   # detuned, free Omega

The signed rates ``exchange`` (Omega of ``H_x = Omega (s1^dag s2 + s2^dag s1)``) and
``detuning`` (``Delta_1 - Delta_2``) are 0 unless given: ``--NAME VALUE`` fixes one,
``--NAME-range LO HI`` frees it in a linear box (either sign). Both are in the units of the
J's, i.e. of ``J_1 = 1`` in the ready-made spaces (the Model a space builds has J_1 = 1e-9
Delta, so ``|detuning| <= 1e9``).
"""

from __future__ import annotations

import json
import sys
import time

from . import _options

HELP = "maximise the steady-state negativity over a search space"


def register(sub):
    """Add ``jaxtls optimize`` to the subparsers ``sub`` (imports :mod:`optimize` for the
    names of its spaces).

    Example:
      >>> import argparse
      >>> p = argparse.ArgumentParser(); _ = register(p.add_subparsers(dest="command"))
      >>> p.parse_args(["optimize", "--space", "ohmic", "--starts", "8"]).starts
      8
    """
    from jaxtls.optimize.space import SPACES

    p = sub.add_parser(
        "optimize",
        help=HELP,
        description="Multi-start (vmapped Adam, elite restarts, polish) maximisation of the "
        "steady-state negativity; writes JSON and a convergence plot.",
    )
    p.add_argument("--space", default="paper", choices=sorted(SPACES), help="search space")
    p.add_argument("--starts", type=int, default=128, help="number of starts (default 128)")
    p.add_argument("--steps", type=int, default=600, help="Adam steps (default 600)")
    p.add_argument("--polish-steps", type=int, default=200, help="polish steps (default 200)")
    p.add_argument("--seed", type=int, default=0, help="PRNG seed (default 0)")
    p.add_argument("--out", default="results", help="output folder (default results/)")
    p.add_argument(
        "--min-relaxation",
        type=float,
        default=None,
        metavar="R",
        help="constraint: relaxation rate (Liouvillian gap) >= R max J",
    )
    p.add_argument(
        "--max-entropy-production",
        type=float,
        default=None,
        metavar="S",
        help="constraint: entropy production <= S max J",
    )
    p.add_argument(
        "--max-heat-current",
        type=float,
        default=None,
        metavar="Q",
        help="constraint: largest |heat current| <= Q Delta max J",
    )
    p.add_argument(
        "--min-detuning-tolerance",
        type=float,
        default=None,
        metavar="D",
        help="constraint: the detuning change that halves N >= D max J",
    )
    p.add_argument(
        "--pareto",
        nargs="+",
        default=None,
        metavar=("KIND", "BOUND"),
        help="trace a Pareto front instead: KIND (min_relaxation, max_entropy_production, "
        "max_heat_current, min_detuning_tolerance) and its bounds; writes "
        "pareto_<space>_<KIND>.json/.npz/.png/.pdf",
    )
    for name, what in (
        ("exchange", "the exchange Omega of H_x = Omega (s1^dag s2 + s2^dag s1)"),
        ("detuning", "the detuning Delta_1 - Delta_2 (|detuning| <= 1e9 J_1)"),
    ):
        g = p.add_mutually_exclusive_group()
        g.add_argument(
            f"--{name}",
            type=float,
            default=None,
            metavar="VALUE",
            help=f"fix {what} at VALUE (units of J, i.e. of J_1 = 1; default 0)",
        )
        g.add_argument(
            f"--{name}-range",
            **_options.floats(2, ("LO", "HI")),
            default=None,
            help=f"free {what} in the linear box [LO, HI] (units of J; either sign)",
        )
    _options.add_progress_option(p, "no progress bar")
    p.set_defaults(func=run)
    return p


def signed_rates(args) -> dict:
    """``--exchange``/``--exchange-range``, ``--detuning``/``--detuning-range`` -> the
    changes to a :class:`optimize.Space` (``Fixed`` or linear ``Free``; none when not given).

    Example:
      >>> import argparse
      >>> signed_rates(argparse.Namespace(exchange=0.1, detuning_range=[-0.5, 0.5]))
      {'exchange': Fixed(value=0.1), 'detuning': Free(lo=-0.5, hi=0.5, scale='linear')}
    """
    from jaxtls.optimize.space import Fixed, Free

    changes = {}
    for name in ("exchange", "detuning"):
        value = getattr(args, name, None)
        box = getattr(args, f"{name}_range", None)
        if value is not None:
            changes[name] = Fixed(value)
        elif box is not None:
            changes[name] = Free(box[0], box[1])
    return changes


def _say(msg: str) -> None:
    print(f"jaxtls optimize: {msg}", file=sys.stderr, flush=True)


def run(args) -> int:
    """Run the search described by ``args`` and write JSON + PNG; returns 0."""
    import jax
    import numpy as np

    import jaxtls
    from jaxtls.optimize.constraints import Constraint, measure
    from jaxtls.optimize.plots import plot_convergence
    from jaxtls.optimize.regimes import classify
    from jaxtls.optimize.search import maximize_negativity
    from jaxtls.optimize.space import get_space
    from jaxtls.progress import ProgressBar

    if args.starts < 1:
        raise ValueError(f"--starts must be >= 1, got {args.starts}")
    if args.steps < 1:
        raise ValueError(f"--steps must be >= 1, got {args.steps}")
    if args.polish_steps < 0:
        raise ValueError(f"--polish-steps must be >= 0, got {args.polish_steps}")
    space = get_space(args.space)
    changes = signed_rates(args)
    if changes:
        space = space.replace(**changes)
    constraints = []
    if args.min_relaxation is not None:
        constraints.append(Constraint("min_relaxation", args.min_relaxation))
    if args.max_entropy_production is not None:
        constraints.append(Constraint("max_entropy_production", args.max_entropy_production))
    if getattr(args, "max_heat_current", None) is not None:
        constraints.append(Constraint("max_heat_current", args.max_heat_current))
    if getattr(args, "min_detuning_tolerance", None) is not None:
        constraints.append(Constraint("min_detuning_tolerance", args.min_detuning_tolerance))
    if constraints:
        space = space.constrain(*constraints)
    out = _options.out_folder(args.out)
    if getattr(args, "pareto", None):
        return _pareto(args, space, out)
    _say(f"space {space.name}: {space.dim} free parameters {list(space.free_names)}")
    t0 = time.perf_counter()
    total = (args.steps + args.polish_steps) * len(space.variants())
    bar = ProgressBar(total, "optimize") if _options.progress(args) else None
    r = maximize_negativity(
        space,
        args.starts,
        args.steps,
        args.seed,
        polish_steps=args.polish_steps,
        progress=bar if bar is not None else _say,
    )
    cls = classify(r.state)
    n_paper = jaxtls.N_PAPER
    doc = {
        "space": space.name,
        "negativity": r.negativity,
        "log_negativity": float(jaxtls.log_negativity(r.state)),
        "N_paper": n_paper,
        "beats_N_paper": bool(r.negativity > n_paper),
        "params": r.params,
        "constraints": {
            c.kind: {"bound": c.bound, "achieved": float(measure(c.kind, r.model))}
            for c in space.constraints
        },
        "D": {str(k): v for k, v in r.D.items()},
        "regime": cls.regime,
        "ideal_state": cls.ideal,
        "fidelity": cls.fidelity,
        "bell_weights": dict(
            zip(("|++>", "psi+", "psi-", "|-->"), map(float, cls.bell_weights), strict=True)
        ),
        "state": {
            "populations": [float(x) for x in np.asarray(r.state.populations)],
            "rho23": [float(r.state.c_re), float(r.state.c_im)],
        },
        "variants": [
            {
                "D": {str(k): d for k, d in v.D.items()},
                "negativity": v.negativity,
                "params": v.params,
            }
            for v in r.variants
        ],
        "fraction_within_1pct": r.fraction_within_1pct,
        "fraction_within_1pct_independent": _finite_or_none(r.fraction_within_1pct_independent),
        "wall_time_s": r.wall_time,
        "settings": r.settings,
        "space_spec": space.spec(),
        "versions": {"jaxtls": jaxtls.__version__, "jax": jax.__version__},
    }
    json_path = out / f"optimize_{space.name}.json"
    json_path.write_text(json.dumps(doc, indent=2))
    png_path = out / f"optimize_{space.name}_convergence.png"
    plot_convergence(r, png_path)
    _say(
        f"best N = {r.negativity:.6g}, regime {cls.regime} ({cls.ideal}, fidelity "
        f"{cls.fidelity:.4f}), {time.perf_counter() - t0:.1f} s"
    )
    print(json_path)
    print(png_path)
    return 0


def _pareto(args, space, out) -> int:
    """``--pareto KIND BOUND ...``: one front, saved with :func:`optimize.save_front`."""
    from jaxtls.optimize.constraints import Constraint
    from jaxtls.optimize.pareto import pareto_front, save_front

    kind, *bounds = args.pareto
    if not bounds:
        raise ValueError("--pareto needs a kind and at least one bound, e.g. min_relaxation 1e-3")
    try:
        values = [float(b) for b in bounds]
    except ValueError as err:
        raise ValueError(f"--pareto: bounds must be numbers, got {bounds}") from err
    for b in values:
        Constraint(kind, b).check()
    _say(f"space {space.name}: {space.dim} free parameters, front of {kind} at {values}")
    t0 = time.perf_counter()
    front = pareto_front(
        space,
        kind,
        values,
        args.starts,
        args.steps,
        args.seed,
        polish_steps=args.polish_steps,
        progress=_say if _options.progress(args) else None,
    )
    paths = save_front(front, str(out))
    for b, n, a in zip(front.bounds, front.negativity, front.achieved, strict=True):
        _say(f"{kind} bound {b:.3g}: N = {n:.6g} (achieved {a:.3g})")
    _say(f"{time.perf_counter() - t0:.1f} s")
    print("\n".join(paths))
    return 0


def _finite_or_none(x):
    return float(x) if x == x else None
