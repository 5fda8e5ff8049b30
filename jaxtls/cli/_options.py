"""The option helpers that the ``jaxtls`` subcommands share: lists of numbers, values with
units (:mod:`jaxtls.units`), the ``--axis`` grammar of ``jaxtls sweep`` and ``jaxtls doe``,
the ``--out`` folder, ``--overwrite`` and the progress flag (``--no-progress``).

Errors the user can fix are ``ValueError``; :func:`jaxtls.cli.main` prints them on one line
with exit status 2.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import NamedTuple

import numpy as np

# --- numbers and units ---------------------------------------------------------------------


def floats(count="+", metavar=None) -> dict:
    """``add_argument`` keywords of a list of ``count`` floats.

    Example:
      >>> import argparse
      >>> p = argparse.ArgumentParser()
      >>> _ = p.add_argument("--box", **floats(2, ("LO", "HI")))
      >>> p.parse_args(["--box", "-1", "2.5"]).box
      [-1.0, 2.5]
    """
    return dict(nargs=count, type=float, metavar=metavar)


# "-1GHz", "-1e-3" and "-2 MHz" are values, not option names (argparse's default only takes
# plain negative decimals); for parsers with no option that starts with a digit
_NEGATIVE_WITH_UNIT = re.compile(r"^-(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?(\s*\S.*)?$")


def allow_negative_values_with_units(parser) -> None:
    """Let ``parser`` read ``-1GHz``, ``-1e-3``, ``-2 MHz`` as values (no option of it may
    start with a digit)."""
    parser._negative_number_matcher = _NEGATIVE_WITH_UNIT


def model_values(raw, option: str, kind: str, f_ghz):
    """The dimensionless value(s) of an option that may carry units (``kind``:
    ``"temperature"`` or ``"rate"``; see :func:`jaxtls.units.model_value`): a string gives
    one value, a list of tokens (``nargs="+"``) a list, with ``"10", "mK"`` joined; ``None``
    stays ``None``. ``f_ghz``: the splitting in GHz, or ``None`` when ``--delta`` is bare.

    Example:
      >>> model_values(["1", "2"], "--J", "rate", None)
      [1.0, 2.0]
      >>> model_values("5MHz", "--K", "rate", 5.0)
      0.001
    """
    from jaxtls import units

    if raw is None:
        return None
    if isinstance(raw, str):
        return units.model_value(raw.strip(), option, kind, f_ghz)
    return [units.model_value(t, option, kind, f_ghz) for t in units.join_unit_tokens(raw)]


# --- --axis ----------------------------------------------------------------------------------

AXIS_GRAMMAR = "NAME VALUE or NAME LOW HIGH [N] [log|lin]"
AXIS_HELP = (
    f"{AXIS_GRAMMAR}: one value, or a range from LOW to HIGH, spaced linearly (lin, the "
    "default) or logarithmically (log); jaxtls sweep takes N values of a range, jaxtls doe "
    "draws its --n points over the ranges (no N) and holds single values fixed. Names: _n is "
    "bath n (T_1, J_1, K_1, kappa_1 = K_1/J_1). Physical rules: T, J, ratio, xi >= 0; "
    "|kappa| <= 1; |K_n| <= J_n; delta > 0; |detuning| <= delta; exchange any real. Repeat "
    "for every axis; each name once."
)


class AxisSpec(NamedTuple):
    """One ``--axis``: ``name``, ``low`` to ``high`` (equal for one value), ``n`` values
    (``None``: not given) and ``log`` spacing."""

    name: str
    low: float
    high: float
    n: int | None
    log: bool


def add_axis_option(parser) -> None:
    """The repeated ``--axis SPEC`` option (:data:`AXIS_GRAMMAR`)."""
    parser.add_argument(
        "--axis", nargs="+", action="append", required=True, metavar="SPEC", help=AXIS_HELP
    )


def parse_axis(spec) -> AxisSpec:
    """Parse one ``--axis`` of ``jaxtls sweep`` or ``jaxtls doe``: ``NAME VALUE`` or
    ``NAME LOW HIGH [N] [log|lin]`` (:data:`AXIS_GRAMMAR`).

    Example:
      >>> parse_axis(["T_1", "1", "100", "3", "log"])
      AxisSpec(name='T_1', low=1.0, high=100.0, n=3, log=True)
      >>> parse_axis(["kappa_2", "1"])
      AxisSpec(name='kappa_2', low=1.0, high=1.0, n=None, log=False)
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


def parse_axes(raw) -> list[AxisSpec]:
    """Every ``--axis`` of a command, checked as a set (each name once, known names of
    ``jaxtls.batching.AXES``, the former names answered with the new ones)."""
    from jaxtls.batching import check_axes

    specs = [parse_axis(s) for s in raw]
    check_axes([s.name for s in specs])
    return specs


# --- output folder, overwrite, progress ------------------------------------------------------


def out_folder(path, option: str = "--out") -> Path:
    """Create the output folder ``path`` (and its parents); a ``ValueError`` when it exists
    and is not a folder.

    Example:
      >>> import tempfile, os
      >>> d = out_folder(os.path.join(tempfile.mkdtemp(), "a", "b"))
      >>> d.is_dir()
      True
    """
    out = Path(path)
    if out.exists() and not out.is_dir():
        raise ValueError(f"{option} {out} exists and is not a folder")
    out.mkdir(parents=True, exist_ok=True)
    return out


def add_overwrite_option(parser, where: str = "--out", other: str = "another sweep") -> None:
    """``--overwrite``: replace what ``where`` holds (``other``, damaged files) instead of an
    error."""
    parser.add_argument(
        "--overwrite",
        action="store_true",
        help=f"replace what {where} holds ({other}, damaged files) instead of an error",
    )


def add_progress_option(parser, what: str = "no progress bar on stderr", aliases=()) -> None:
    """The one flag that silences the progress bar: ``--no-progress`` (plus ``aliases``, e.g.
    ``--quiet`` of ``jaxtls reproduce``), read with :func:`progress`."""
    names = ", ".join(aliases)
    extra = f" ({names}: the same)" if aliases else ""
    parser.add_argument(
        "--no-progress", *aliases, dest="no_progress", action="store_true", help=what + extra
    )


def progress(args) -> bool:
    """``True`` (a bar on stderr, :mod:`jaxtls.progress`) unless ``--no-progress``."""
    return not getattr(args, "no_progress", False)


# --- several processes (jaxtls.distributed) --------------------------------------------------


def add_processes_option(parser) -> None:
    """``--processes P``: run the command as P local processes of one ``jax.distributed``
    program (:func:`jaxtls.distributed.launch`), read with :func:`distributed_run`."""
    parser.add_argument(
        "--processes",
        type=int,
        default=None,
        metavar="P",
        help="run as P local processes (jax.distributed, coordinator on 127.0.0.1), "
        "each with its share of the chunks; on a cluster start one process per task "
        "(e.g. srun) with JAXTLS_DISTRIBUTED=1 instead",
    )


def _without_processes(argv) -> list:
    argv, kept, skip = list(argv), [], False
    for a in argv:
        if skip:
            skip = False
        elif a == "--processes":
            skip = True
        elif not a.startswith("--processes="):
            kept.append(a)
    return kept


def distributed_run(args):
    """For ``--processes P`` (P > 1) in the launching process: start the P processes with
    this command line (without ``--processes``) and return their exit status; in one of
    them, or with ``JAXTLS_DISTRIBUTED=1`` (a cluster job: JAX finds the coordinator in
    SLURM's, Open MPI's or Kubernetes' environment), start the distributed runtime and
    return ``None`` (the command then runs its share)."""
    import os
    import sys

    from jaxtls import distributed

    p = getattr(args, "processes", None)
    if p is not None and p < 1:
        raise ValueError(f"--processes must be >= 1, got {p}")
    if distributed.launched() or os.environ.get("JAXTLS_DISTRIBUTED") == "1":
        distributed.initialize()
        return None
    if p is None or p == 1:
        return None
    argv = getattr(args, "argv", None) or sys.argv[1:]
    command = [sys.executable, "-m", "jaxtls.cli", *_without_processes(argv)]
    return distributed.launch(command, p, quiet_others=True)
