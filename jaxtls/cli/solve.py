"""``jaxtls solve``: the steady state and its entanglement at one parameter point.

Values may carry units (:mod:`jaxtls.units`) once ``--delta`` has a frequency or energy unit.
The TLS couplings are ``J(1)_n`` (``--J``) and ``J(2)_n`` (``--J2``, default: the same), as
``Model.J1``/``Model.J2`` hold them; ``_n`` counts the baths.
"""

from __future__ import annotations

import json

from . import _options

HELP = "steady state and entanglement at one parameter point"


def register(sub):
    """Add ``jaxtls solve`` to the subparsers ``sub``."""
    p = sub.add_parser(
        "solve",
        help=HELP,
        description="Steady state of two TLS coupled to heat baths (units of the splitting). "
        "Values may carry units once --delta has a frequency or energy unit: "
        "--delta 5GHz (cyclic, Delta = h f) or 20ueV; temperatures in K, mK, uK; rates "
        "(J, K, detuning, exchange) in Hz, kHz, MHz, GHz (cyclic: E = h nu) or s^-1 "
        "(angular: E = hbar r). Bare numbers stay in units of Delta. "
        "Example: jaxtls solve --delta 5GHz --T 200mK 10mK --J 1MHz 1GHz --K 0 1GHz",
    )
    _options.allow_negative_values_with_units(p)
    q = dict(nargs="+")
    p.add_argument("--T", required=True, metavar="T", help="bath temperatures T_n", **q)
    p.add_argument(
        "--J",
        required=True,
        metavar="J",
        help="couplings J_n (J(1)_n of TLS 1 if --J2 is given)",
        **q,
    )
    p.add_argument("--J2", metavar="J2", help="couplings J(2)_n of TLS 2 (asymmetric)", **q)
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
    p.set_defaults(func=run)
    return p


def run(args) -> int:
    """Entry point of ``jaxtls solve``."""
    import numpy as np

    import jaxtls
    from jaxtls import units

    delta, f_ghz = units.splitting(args.delta, "--delta")

    def read(name, kind):
        return _options.model_values(getattr(args, name), f"--{name}", kind, f_ghz)

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
        "J(1)": J1,
        "J(2)": J2 or J1,
        "K": K,
        "xi": args.xi,
        "delta": delta,
        "detuning": detuning,
        "exchange": exchange,
    }
    out = {
        "parameters": params,
        "populations": [float(x) for x in rho.populations],
        "bell_weights": dict(
            zip(
                ("|++>", "psi+", "psi-", "|-->"),
                map(float, jaxtls.bell_populations(rho)),
                strict=True,
            )
        ),
        "coherence_rho23": {"re": float(rho.c_re), "im": float(rho.c_im)},
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
            "J(1)_MHz": mhz(J1),
            "J(2)_MHz": mhz(J2 or J1),
            "K_MHz": mhz(K),
            "detuning_MHz": mhz(detuning)[0],
            "exchange_MHz": mhz(exchange)[0],
        }
    if args.json:
        print(json.dumps(out, indent=2))
        return 0
    _print_text(out, params, f_ghz)
    return 0


def _print_text(out, params, f_ghz) -> None:
    def vec(v):
        return " ".join(f"{x:.6g}" for x in v)

    print(f"{'parameters':<18}T {vec(params['T'])}  J(1) {vec(params['J(1)'])}", end="")
    print(f"  J(2) {vec(params['J(2)'])}  K {vec(params['K'])}")
    line = "  ".join(f"{k} {params[k]:.6g}" for k in ("delta", "detuning", "exchange", "xi"))
    print(f"{'':<18}{line}")
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
