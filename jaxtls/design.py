"""Design of experiments: Latin-hypercube and Sobol designs evaluated through the sweep.

A design is a set of named axes with ranges (``Axis(name, low, high, log)``); the unit-cube
samples are mapped to them linearly or logarithmically, evaluated with :func:`jaxtls.sweep`,
and summarised (:func:`summarize`): fraction of entangled points, best points, 1-D and 2-D
marginals of the entangled fraction and of the largest negativity, and the gradient of the
negativity with respect to every design axis at the best points (``jax.grad``).
"""

from __future__ import annotations

import json
import os
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from . import distributed
from .batching import Grid, Points, _fixed, check_axes, check_physical, sweep, two_bath_model
from .measures import negativity, pt_min_eigenvalue
from .steady_state import steady_state

# Joe & Kuo (2008) direction numbers (new-joe-kuo-6.21201), dimensions 2..13: (s, a, m_1..m_s).
_JOE_KUO = [
    (1, 0, (1,)),
    (2, 1, (1, 3)),
    (3, 1, (1, 3, 1)),
    (3, 2, (1, 1, 1)),
    (4, 1, (1, 1, 3, 3)),
    (4, 4, (1, 3, 5, 13)),
    (5, 2, (1, 1, 5, 5, 17)),
    (5, 4, (1, 1, 5, 5, 5)),
    (5, 7, (1, 1, 7, 11, 19)),
    (5, 11, (1, 1, 5, 1, 1)),
    (5, 13, (1, 1, 1, 3, 11)),
    (5, 14, (1, 3, 5, 5, 31)),
]
_BITS = 52


def _directions(dim: int) -> np.ndarray:
    v = np.zeros((dim, _BITS), dtype=np.uint64)
    v[0] = [1 << (_BITS - 1 - i) for i in range(_BITS)]  # first dimension: van der Corput
    for d in range(1, dim):
        s, a, m = _JOE_KUO[d - 1]
        for i in range(_BITS):
            if i < s:
                v[d, i] = m[i] << (_BITS - 1 - i)
            else:
                x = v[d, i - s] ^ (v[d, i - s] >> np.uint64(s))
                for k in range(1, s):
                    if (a >> (s - 1 - k)) & 1:
                        x ^= v[d, i - k]
                v[d, i] = x
    return v


def sobol(n: int, dim: int, seed: int | None = 0) -> np.ndarray:
    """``n`` Sobol points in ``[0, 1)^dim`` (``dim <= 13``), shape ``(n, dim)``.

    Gray-code construction with Joe-Kuo direction numbers; a random digital shift (XOR) from
    ``seed`` (``None``: the plain sequence, starting at 0). Use powers of two for ``n``.

    Example:
      >>> import jaxtls
      >>> jaxtls.sobol(4, 2, seed=None).tolist()
      [[0.0, 0.0], [0.5, 0.5], [0.75, 0.25], [0.25, 0.75]]
    """
    if not 1 <= dim <= len(_JOE_KUO) + 1:
        raise ValueError(f"sobol supports 1 to {len(_JOE_KUO) + 1} dimensions, got {dim}")
    if n < 1:
        raise ValueError(f"n (number of points) must be >= 1, got {n}")
    v = _directions(dim)
    i = np.arange(n, dtype=np.uint64)
    gray = i ^ (i >> np.uint64(1))  # point i is the XOR of the directions of gray(i)'s bits
    x = np.zeros((n, dim), dtype=np.uint64)
    for b in range(max(int(n - 1).bit_length(), 1)):
        on = ((gray >> np.uint64(b)) & np.uint64(1)).astype(bool)
        x[on] ^= v[:, b]
    if seed is not None:
        shift = np.random.default_rng(seed).integers(0, 2**_BITS, dim, dtype=np.uint64)
        x ^= shift
    return x.astype(np.float64) / 2.0**_BITS


def latin_hypercube(n: int, dim: int, seed: int = 0) -> np.ndarray:
    """``n`` Latin-hypercube points in ``[0, 1)^dim``: one point per stratum on every axis.

    Example:
      >>> import numpy as np, jaxtls
      >>> x = jaxtls.latin_hypercube(8, 3, seed=1)
      >>> sorted(np.floor(x[:, 0] * 8).astype(int).tolist())
      [0, 1, 2, 3, 4, 5, 6, 7]
    """
    if n < 1 or dim < 1:
        raise ValueError(f"n and dim must be >= 1, got n={n}, dim={dim}")
    rng = np.random.default_rng(seed)
    strata = np.stack([rng.permutation(n) for _ in range(dim)], -1)
    return (strata + rng.random((n, dim))) / n


class Axis(NamedTuple):
    """A design axis: ``name`` (see ``jaxtls.AXES``), range ``[low, high]``, log or linear."""

    name: str
    low: float
    high: float
    log: bool = False

    def check(self) -> None:
        if not (np.isfinite(self.low) and np.isfinite(self.high)):
            raise ValueError(f"axis {self.name!r}: bounds must be finite")
        if self.low > self.high:
            raise ValueError(f"axis {self.name!r}: low {self.low} > high {self.high}")
        if self.log and self.low <= 0:
            raise ValueError(f"axis {self.name!r}: a log axis needs low > 0, got {self.low}")

    def scale(self, u):
        if self.log:
            return np.exp(np.log(self.low) + u * (np.log(self.high) - np.log(self.low)))
        return self.low + u * (self.high - self.low)


def design_points(axes, n: int, design: str = "sobol", seed: int = 0, fixed=None) -> Points:
    """Map ``n`` points of a ``"sobol"`` or ``"lhs"`` design onto ``axes``; ``fixed`` (a
    mapping of axis name to one value) adds constant columns. Axes are checked like those
    of :func:`jaxtls.sweep`: known names, each once, physical ranges."""
    axes = [Axis(*a) for a in axes]
    fixed = {k: float(v) for k, v in (fixed or {}).items()}
    if not axes:
        raise ValueError(
            "a design needs at least one range axis (--axis NAME LOW HIGH [log|lin]) to vary"
        )
    for a in axes:
        a.check()
    check_axes([a.name for a in axes] + list(fixed))
    for k, v in fixed.items():
        if not np.isfinite(v):
            raise ValueError(f"axis {k!r}: values must be finite, got {v}")
    check_physical(
        Grid({**{a.name: [a.low, a.high] for a in axes}, **{k: [v] for k, v in fixed.items()}})
    )
    if design == "sobol":
        u = sobol(n, len(axes), seed)
    elif design == "lhs":
        u = latin_hypercube(n, len(axes), seed)
    else:
        raise ValueError(f"design must be 'sobol' or 'lhs', got {design!r}")
    cols = {a.name: a.scale(u[:, i]) for i, a in enumerate(axes)}
    return Points({**cols, **{k: np.full(n, v) for k, v in fixed.items()}})


def _n_and_signed(model):
    s = steady_state(model, check=False)
    return jnp.stack([negativity(s), -pt_min_eigenvalue(s)])


class DoeSummary(NamedTuple):
    """Summary of a design run (all plain numpy / floats, saved as ``summary.json``)."""

    n_points: int
    fraction_entangled: float
    fraction_nan: float
    best: list
    sensitivities: list


def summarize(points: Points, values: np.ndarray, n_best: int = 5) -> DoeSummary:
    """Entangled fraction, best points and d N / d axis at the best points."""
    N = values[:, 0]
    finite = np.isfinite(N)
    order = np.argsort(np.where(finite, -N, np.inf))[:n_best]
    names = list(points.values)
    best, sens = [], []
    grad = jax.jit(jax.grad(lambda p: negativity(steady_state(two_bath_model(p), check=False))))
    for i in order:
        p = {k: float(points.values[k][i]) for k in names}
        best.append(dict(p, negativity=float(N[i])))
        g = grad({k: jnp.asarray(v) for k, v in p.items()})
        sens.append({k: float(g[k]) for k in names})
    return DoeSummary(
        len(N),
        float(np.mean(N[finite] > 0)) if finite.any() else 0.0,
        float(np.mean(~finite)),
        best,
        sens,
    )


# axis labels with units (temperatures and energies in units of Delta; J, K, Omega are rates
# in one common unit; xi in units of the mean downward rate gamma)
_SYMBOLS = {
    "T_1": r"$T_1$",
    "T_2": r"$T_2$",
    "J_1": r"$J_1$",
    "J_2": r"$J_2$",
    "ratio": r"$J_2/J_1$",
    "kappa_1": r"$\kappa_1$",
    "kappa_2": r"$\kappa_2$",
    "K_1": r"$K_1$",
    "K_2": r"$K_2$",
    "xi": r"$\xi$",
    "detuning": r"$\Delta_1-\Delta_2$",
    "delta": r"$\Delta$",
    "exchange": r"$\Omega$",
}
_UNITS = {"T_1": r"$\Delta$", "T_2": r"$\Delta$", "detuning": r"$\Delta$", "xi": r"$\gamma$"}
_UNITS.update({"J_1": "rate", "J_2": "rate", "K_1": "rate", "K_2": "rate", "exchange": "rate"})
_NOTES = {"kappa_1": r"$\kappa_1 = K_1/J_1$", "kappa_2": r"$\kappa_2 = K_2/J_2$"}
_N_LABEL = "largest negativity $N$"
_F_LABEL = "entangled fraction"


def axis_label(name: str) -> str:
    """Readable label with units of an axis, e.g. ``$T_1$ [$\\Delta$]``, ``$J_2/J_1$``."""
    label = _NOTES.get(name, _SYMBOLS.get(name, name))
    return label + (f" [{_UNITS[name]}]" if name in _UNITS else "")


def _title(n_points, design, fixed) -> str:
    head = f"{design.capitalize() if design else 'Design'} design, {n_points} points"
    items = [f"{_SYMBOLS.get(k, k)} = {v:g}" for k, v in fixed.items()]
    lines = [", ".join(items[i : i + 7]) for i in range(0, len(items), 7)]
    if lines:
        lines[0] = "fixed: " + lines[0]
        lines[-1] += r"  ($T$, $\Delta_1-\Delta_2$ in units of $\Delta$; $J$, $K$, $\Omega$ rates)"
    return "\n".join([head, *lines])


def plot_marginals(
    points: Points,
    values: np.ndarray,
    axes,
    out: str,
    bins: int = 12,
    fixed=None,
    design: str | None = None,
) -> list:
    """1-D marginals (entangled fraction, largest N per bin of each axis) and 2-D marginals
    (the same per pair of axes, at most 6 pairs) as PNG and PDF, labelled with units, titled
    with the design and the fixed parameters (``fixed``: name -> value; by default the
    constant columns of ``points``)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    axes = [Axis(*a) for a in axes]
    if fixed is None:
        fixed = {
            k: float(v[0])
            for k, v in points.values.items()
            if k not in {a.name for a in axes} and np.all(v == v[0])
        }
    title = _title(len(values), design, fixed)
    N = np.nan_to_num(values[:, 0], nan=0.0)
    coord = {a.name: _unit(a, points.values[a.name]) for a in axes}
    edges = np.linspace(0, 1, bins + 1)
    files = []
    k = len(axes)
    fig, grid = plt.subplots(
        2, k, figsize=(3.3 * k + 0.6, 6.2), squeeze=False, layout="constrained", sharey="row"
    )
    for j, a in enumerate(axes):
        idx = np.clip(np.digitize(coord[a.name], edges) - 1, 0, bins - 1)
        frac = np.array(
            [np.mean(N[idx == b] > 0) if np.any(idx == b) else np.nan for b in range(bins)]
        )
        best = np.array([N[idx == b].max() if np.any(idx == b) else np.nan for b in range(bins)])
        centers = a.scale((edges[:-1] + edges[1:]) / 2)
        for row, (y, label) in enumerate(((frac, _F_LABEL), (best, _N_LABEL))):
            ax = grid[row, j]
            ax.plot(centers, y, "o-", color="C0" if row == 0 else "C3")
            ax.set_xscale("log" if a.log else "linear")
            ax.set_xlabel(axis_label(a.name))
            ax.set_ylim(bottom=0)
            if j == 0:
                ax.set_ylabel(label)
            ax.grid(alpha=0.3)
    grid[0, 0].set_ylim(0, 1.02)
    fig.suptitle(title, fontsize=10)
    files += _save(fig, os.path.join(out, "marginals_1d"))
    if len(axes) >= 2:
        pairs = [(a, b) for i, a in enumerate(axes) for b in axes[i + 1 :]][:6]
        fig, grid = plt.subplots(
            2,
            len(pairs),
            figsize=(3.6 * len(pairs) + 1.2, 6.6),
            squeeze=False,
            layout="constrained",
        )
        n_max = max(float(N.max()), 1e-300)
        for col, (a, b) in enumerate(pairs):
            ia = np.clip(np.digitize(coord[a.name], edges) - 1, 0, bins - 1)
            ib = np.clip(np.digitize(coord[b.name], edges) - 1, 0, bins - 1)
            flat = ia * bins + ib
            count = np.bincount(flat, minlength=bins * bins).reshape(bins, bins)
            hits = np.bincount(flat, weights=(N > 0), minlength=bins * bins).reshape(bins, bins)
            top = np.full(bins * bins, -np.inf)
            np.maximum.at(top, flat, N)
            top = np.where(count > 0, top.reshape(bins, bins), np.nan)
            frac = np.where(count > 0, hits / np.maximum(count, 1), np.nan)
            for row, (z, cmap, vmax) in enumerate(((frac, "viridis", 1), (top, "magma", n_max))):
                ax = grid[row, col]
                im = ax.pcolormesh(
                    a.scale(edges), b.scale(edges), z.T, vmin=0, vmax=vmax, cmap=cmap
                )
                ax.set_xscale("log" if a.log else "linear")
                ax.set_yscale("log" if b.log else "linear")
                ax.set_xlabel(axis_label(a.name))
                ax.set_ylabel(axis_label(b.name))
                if col == len(pairs) - 1:
                    fig.colorbar(im, ax=grid[row].tolist(), label=(_F_LABEL, _N_LABEL)[row])
        fig.suptitle(title + "\n(per bin; white: no point)", fontsize=10)
        files += _save(fig, os.path.join(out, "marginals_2d"))
    return files


def _unit(a: Axis, x):
    if a.log:
        return (np.log(x) - np.log(a.low)) / max(np.log(a.high) - np.log(a.low), 1e-300)
    return (x - a.low) / max(a.high - a.low, 1e-300)


def _save(fig, stem):
    import matplotlib.pyplot as plt

    fig.savefig(stem + ".png", dpi=150, bbox_inches="tight")
    fig.savefig(stem + ".pdf", bbox_inches="tight")
    plt.close(fig)
    return [stem + ".png", stem + ".pdf"]


def run_doe(
    axes,
    n: int = 4096,
    design: str = "sobol",
    seed: int = 0,
    out: str | None = None,
    progress=None,
    plots: bool = True,
    fixed=None,
    overwrite: bool = False,
) -> DoeSummary:
    """Evaluate a design over ``axes`` (negativity and -lambda_-) and summarise it.

    ``fixed`` (axis name -> value) holds parameters other than the builder's defaults. With
    ``out``, the points and values stream to ``out/sweep`` (resumable; another design there
    is a ``ValueError`` unless ``overwrite``) and the summary (``summary.json``, with the
    settings and every fixed parameter) and the marginal plots are written next to it.
    Called identically on every process of a ``jax.distributed`` program
    (:mod:`jaxtls.distributed`), the processes share the design's chunks (``out`` is then
    needed, on a shared filesystem), process 0 writes the summary and plots, and every
    process returns the same summary as a single process would.

    Example:
      >>> import jaxtls
      >>> axes = [("T_1", 0.1, 100, True), ("ratio", 1, 1e4, True), ("kappa_2", 0.5, 1.0)]
      >>> s = jaxtls.run_doe(axes, n=256, seed=0)
      >>> 0 < s.fraction_entangled < 1
      True
    """
    points = design_points(axes, n, design, seed, fixed)
    settings = dict(axes=[list(Axis(*a)) for a in axes], n=n, design=design, seed=seed)
    every_fixed = {**_fixed(two_bath_model, list(points.values)), **(fixed or {})}
    settings["fixed"] = {k: float(v) for k, v in every_fixed.items()}
    result = sweep(
        points,
        _n_and_signed,
        out=None if out is None else os.path.join(out, "sweep"),
        progress=progress,
        overwrite=overwrite,
        metadata=dict(settings, command="jaxtls doe", columns=["negativity", "-lambda_min"]),
    )
    values = np.asarray(result.values)
    summary = summarize(points, values)
    lay, err = distributed.layout(), None
    if out is not None and lay.index == 0:  # over several processes: process 0 writes them
        try:
            with open(os.path.join(out, "summary.json"), "w") as f:
                json.dump(dict(summary._asdict(), settings=settings), f, indent=1)
            if plots:
                plot_marginals(points, values, axes, out, fixed=settings["fixed"], design=design)
        except (OSError, ValueError) as e:
            if lay.count == 1:
                raise
            err = f"{type(e).__name__}: {e}"
    distributed.check_all("jaxtls.run_doe: summary", err)  # then it is there for all
    return summary
