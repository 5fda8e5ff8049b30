"""The ``jaxtls`` command line: ``jaxtls solve``, plus the subcommands of the other packages.

Each package that adds a subcommand exposes ``register(subparsers)`` in its ``cli`` module
(``optimize.cli``, ``experiments.cli``); ``register`` adds its parser and sets
``func=callable(args) -> int`` with ``parser.set_defaults``. Errors the user can fix are
raised as ``ValueError`` and printed on one line, without a traceback, with exit status 2.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys

_PLUGINS = ("jaxtls.sweep_cli", "experiments.cli", "optimize.cli")


def _floats(name):
    return dict(nargs="+", type=float, metavar=name.upper())


def _solve_parser(sub):
    import re

    p = sub.add_parser(
        "solve",
        help="steady state and entanglement at one parameter point",
        description="Steady state of two TLS coupled to heat baths (units of the splitting). "
        "Values may carry units once --delta has a frequency or energy unit: "
        "--delta 5GHz (cyclic, Delta = h f) or 20ueV; temperatures in K, mK, uK; rates "
        "(J, K, detuning, exchange) in Hz, kHz, MHz, GHz (cyclic: E = h nu) or s^-1 "
        "(angular: E = hbar r). Bare numbers stay in units of Delta. "
        "Example: jaxtls solve --delta 5GHz --T 200mK 10mK --J 1MHz 1GHz --K 0 1GHz",
    )
    # Let "-1GHz", "-1e-3" and "-2 MHz" be values, not option names (argparse's default only
    # takes plain negative decimals); no option of this parser starts with a digit.
    p._negative_number_matcher = re.compile(r"^-(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?(\s*\S.*)?$")
    q = dict(nargs="+")
    p.add_argument("--T", required=True, metavar="T", help="bath temperatures T_n", **q)
    p.add_argument(
        "--J", required=True, metavar="J", help="couplings J_n (of TLS 1 if --J2 is given)", **q
    )
    p.add_argument("--J2", metavar="J2", help="couplings J^(2)_n of TLS 2 (asymmetric)", **q)
    p.add_argument("--K", required=True, metavar="K", help="cross couplings K_n", **q)
    p.add_argument("--xi", type=float, default=0.0, help="dephasing in units of gamma (default 0)")
    p.add_argument(
        "--delta", default="1", help="splitting Delta (default 1; with a unit, e.g. 5GHz)"
    )
    p.add_argument("--detuning", default="0", help="Delta_1 - Delta_2 (default 0)")
    p.add_argument(
        "--exchange",
        default="0",
        metavar="OMEGA",
        help="coherent exchange Omega of H_x = Omega (s1^dag s2 + s2^dag s1), a rate like J "
        "(default 0)",
    )
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=_solve)


def _solve(args) -> int:
    import numpy as np

    import jaxtls
    from jaxtls import units

    delta, f_ghz = units.splitting(args.delta, "--delta")

    def read(name, kind):
        raw = getattr(args, name)
        if raw is None:
            return None
        if isinstance(raw, str):
            return units.model_value(raw.strip(), f"--{name}", kind, f_ghz)
        return [units.model_value(t, f"--{name}", kind, f_ghz) for t in units.join_unit_tokens(raw)]

    T = read("T", "temperature")
    J1, J2, K = (read(name, "rate") for name in ("J", "J2", "K"))
    detuning, exchange = read("detuning", "rate"), read("exchange", "rate")
    n = len(T)
    for name, vals in (("J", J1), ("K", K), ("J2", J2)):
        if vals is not None and len(vals) != n:
            raise ValueError(f"--{name} needs one value per bath ({n} from --T), got {len(vals)}")
    J = J1 if J2 is None else (J1, J2)
    model = jaxtls.Model(T, J, K, xi=args.xi, delta=delta, detuning=detuning, exchange=exchange)
    rho = jaxtls.steady_state(model)
    N = float(jaxtls.negativity(rho))
    params = {
        "T": T,
        "J1": J1,
        "J2": J2 or J1,
        "K": K,
        "xi": args.xi,
        "delta": delta,
        "detuning": detuning,
        "exchange": exchange,
    }
    out = {
        "parameters": params,
        "populations": [float(x) for x in np.real(np.diag(np.asarray(rho)))],
        "bell_weights": dict(
            zip(
                ("|++>", "psi+", "psi-", "|-->"),
                map(float, jaxtls.bell_populations(rho)),
                strict=True,
            )
        ),
        "coherence_rho23": {"re": float(rho[1, 2].real), "im": float(rho[1, 2].imag)},
        "negativity": N,
        "log_negativity": float(jaxtls.log_negativity(rho)),
        "concurrence": float(jaxtls.concurrence(rho)),
        "pt_min_eigenvalue": float(jaxtls.pt_min_eigenvalue(rho)),
        "entangled": N > 0,
    }
    if f_ghz is not None:  # the same point in laboratory units (cyclic MHz for the rates)

        def mhz(x):
            return [float(v) for v in np.atleast_1d(units.from_dimensionless(x, "MHz", f_ghz))]

        out["physical"] = {
            "delta_GHz": f_ghz,
            "delta_over_kB_K": float(units.temperature_scale(f_ghz)),
            "T_K": [float(v) for v in units.from_dimensionless(np.asarray(T), "K", f_ghz)],
            "J1_MHz": mhz(J1),
            "J2_MHz": mhz(J2 or J1),
            "K_MHz": mhz(K),
            "detuning_MHz": mhz(detuning)[0],
            "exchange_MHz": mhz(exchange)[0],
        }
    if args.json:
        print(json.dumps(out, indent=2))
        return 0
    line = "  ".join(f"{k} {params[k]:.6g}" for k in ("delta", "detuning", "exchange", "xi"))
    print(f"{'parameters':<18}{line}")
    if f_ghz is not None:
        ph = out["physical"]
        print(
            f"{'units':<18}Delta = h x {f_ghz:.6g} GHz = k_B x {ph['delta_over_kB_K']:.6g} K"
            " (values above and below in units of Delta)"
        )
    p = out["populations"]
    print("populations       |++> {:.6g}  |+-> {:.6g}  |-+> {:.6g}  |--> {:.6g}".format(*p))
    print("bell weights      " + "  ".join(f"{k} {v:.6g}" for k, v in out["bell_weights"].items()))
    c = out["coherence_rho23"]
    print(f"rho_23            {c['re']:.6g} {c['im']:+.6g}i")
    for key in ("negativity", "log_negativity", "concurrence", "pt_min_eigenvalue"):
        print(f"{key:<18}{out[key]:.6g}")
    print(f"{'entangled':<18}" + ("yes" if out["entangled"] else "no"))
    return 0


def _doe_parser(sub):
    from .batching import AXES
    from .sweep_cli import AXIS_HELP

    p = sub.add_parser(
        "doe",
        help="space-filling design over parameter ranges, with a summary and marginal plots",
        description="Evaluate the negativity on a Sobol or Latin-hypercube design over the "
        f"given axes (known names: {' '.join(AXES)}); single values are held fixed.",
    )
    p.add_argument(
        "--axis", nargs="+", action="append", required=True, metavar="SPEC", help=AXIS_HELP
    )
    p.add_argument("--design", choices=("sobol", "lhs"), default="sobol")
    p.add_argument("--n", type=int, default=2**14, help="number of points (default 16384)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default="results/doe", help="output folder (default results/doe)")
    p.add_argument(
        "--overwrite",
        action="store_true",
        help="replace what --out/sweep holds (another design, damaged files) instead of an error",
    )
    p.set_defaults(func=_doe)


def _doe(args) -> int:
    import sys

    import jaxtls
    from jaxtls.batching import check_axes
    from jaxtls.sweep_cli import parse_axis

    specs = [parse_axis(s) for s in args.axis]
    check_axes([s.name for s in specs])
    for s in specs:
        if s.n is not None:
            raise ValueError(
                f"--axis {s.name}: jaxtls doe draws --n points over the ranges, so an axis "
                "takes no N: NAME LOW HIGH [log|lin] or NAME VALUE"
            )
    axes = [(s.name, s.low, s.high, s.log) for s in specs if s.low != s.high]
    fixed = {s.name: s.low for s in specs if s.low == s.high}
    os.makedirs(args.out, exist_ok=True)
    s = jaxtls.run_doe(
        axes,
        n=args.n,
        design=args.design,
        seed=args.seed,
        out=args.out,
        progress=sys.stderr,
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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="jaxtls",
        description="Non-equilibrium steady states of two TLS and their entanglement.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    _solve_parser(sub)
    _doe_parser(sub)
    for name in _PLUGINS:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as err:
            if err.name and name.startswith(err.name):
                continue  # that part is not installed
            raise
        module.register(sub)
    return parser


def command_line_message(msg: str, command: str = "") -> str:
    """The library's error text with its advice for Python callers rewritten for the command
    line: no ``check=False`` (not an option here), and baths numbered from 1, in the order of
    the values given to ``--T``, ``--J``, ``--K`` (the library's index of the bath axis counts
    from 0); ``jaxtls solve`` names ``--J``/``--J2`` for the couplings of TLS 1/2.

    Example:
      >>> command_line_message("K must ...; violated at index (1,)")
      'K must ...; violated on bath 2'
      >>> command_line_message("violated at index (3, 0)")
      'violated on bath 1 at batch index (3,)'
    """
    import re

    msg = re.sub(r"\s*Pass check=False to get NaN for such points instead of this error\.", "", msg)

    def bath(m):  # an index whose last entry is the bath axis
        idx = [int(i) for i in re.findall(r"-?\d+", m[1])]
        where = f" at batch index {tuple(idx[:-1])}" if idx[:-1] else ""
        return f"violated on bath {idx[-1] + 1}{where}"

    msg = re.sub(r"violated at index (\([\d, ]*\))", bath, msg)
    msg = re.sub(r"\bof bath (\d+) \(at index", lambda m: f"of bath {int(m[1]) + 1} (at index", msg)
    if command == "solve":
        msg = msg.replace("J[0] (J of TLS 1)", "--J (J of TLS 1)")
        msg = msg.replace("J[1] (J of TLS 2)", "--J2 (J of TLS 2)")
    return msg


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except (ValueError, FileNotFoundError, KeyError) as err:
        msg = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        if isinstance(err, ValueError):
            msg = command_line_message(msg, args.command)
        print(f"jaxtls {args.command}: error: {msg}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
