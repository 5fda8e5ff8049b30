"""The ``jaxtls`` command line: ``jaxtls solve | sweep | doe | optimize | reproduce``.

One module per subcommand (:mod:`jaxtls.cli.solve`, ``sweep``, ``doe``, ``optimize``,
``reproduce``), each with ``HELP`` (its one-line summary), ``register(subparsers)`` (adds its
parser, sets ``func``) and ``run(args) -> int``; the options they share are in
:mod:`jaxtls.cli._options`. :func:`main` builds only the parser of the command it is given
(``optimize`` and ``experiments`` are imported by their own commands, so ``jaxtls solve``
starts fast). Errors the user can fix are raised as ``ValueError`` and printed on one line,
without a traceback, with exit status 2.
"""

from __future__ import annotations

import argparse
import importlib
import sys

# name -> module of every subcommand, in the order of ``jaxtls --help``
COMMANDS = {
    "solve": "jaxtls.cli.solve",
    "sweep": "jaxtls.cli.sweep",
    "doe": "jaxtls.cli.doe",
    "optimize": "jaxtls.cli.optimize",
    "reproduce": "jaxtls.cli.reproduce",
}
_NEEDS = {"optimize": "optimize", "reproduce": "experiments"}  # packages beyond jaxtls


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The ``jaxtls`` parser: every subcommand in full, or only ``command`` in full (the others
    listed by their one-line help)."""
    parser = argparse.ArgumentParser(
        prog="jaxtls",
        description="Non-equilibrium steady states of two TLS and their entanglement.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    for name, module_name in COMMANDS.items():
        module = importlib.import_module(module_name)
        if command is not None and name != command:
            sub.add_parser(name, help=module.HELP)
            continue
        try:
            module.register(sub)  # imports its package before it adds a parser
        except ModuleNotFoundError as err:
            package = _NEEDS.get(name)
            if package is None or err.name is None or not err.name.startswith(package):
                raise
            stub = sub.add_parser(name, help=f"{module.HELP} (needs the {package} package)")
            stub.set_defaults(func=_missing(package))
    return parser


def _missing(package):
    def run(args):
        raise ValueError(f"this command needs the {package} package, which is not installed")

    return run


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
    """Run ``jaxtls ARGV`` (default: ``sys.argv[1:]``); the exit status."""
    argv = sys.argv[1:] if argv is None else list(argv)
    command = argv[0] if argv and argv[0] in COMMANDS else None
    args = build_parser(command).parse_args(argv)
    args.argv = argv  # the command line, for --processes (jaxtls.cli._options.distributed_run)
    try:
        return int(args.func(args) or 0)
    except (ValueError, FileNotFoundError, KeyError) as err:
        msg = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        if isinstance(err, ValueError):
            msg = command_line_message(msg, args.command)
        print(f"jaxtls {args.command}: error: {msg}", file=sys.stderr)
        return 2


__all__ = ["COMMANDS", "build_parser", "command_line_message", "main"]
