"""How the distance between the two coupling points to bath 2 limits the entanglement.

The geometry of bath 2 enters the model only through ``kappa_2 = kappa(dbar, D)``
(``cos``, ``J_0``, ``sin x / x`` for D = 1, 2, 3). So the study has two parts:

1. The largest negativity N as a function of ``dbar`` for each D: at each grid point
   ``kappa_2 = kappa(dbar, D)`` is fixed and the other quantities of
   :func:`optimize.geometry` (``T_1``, ``T_2``, ``J_2/J_1``, ``kappa_1``) are searched; the
   whole ``D x dbar`` grid is one vmapped compiled search (:func:`optimize.search_grid`).
2. Where entanglement is lost. Near the edge of the entangled region N is tiny (below
   ``1e-6`` for ``|kappa_2| < 0.6`` in the paper's box, and ``~1e-100`` where the margin
   below is largest), far below what a search resolves, so the edge is found instead from
   the entanglement margin
   ``log(|rho_23|^2/(p1 p4))`` (positive iff entangled, of order one near the edge): its
   maximum over the other quantities, as a function of ``|kappa_2|``, crosses zero at the
   threshold ``kappa*`` (:func:`kappa_threshold`), found by nested grids and linear
   interpolation. Then entanglement is possible exactly where ``|kappa(dbar, D)| > kappa*``.
   For D = 2 and 3 this holds up to a finite distance (``|J_0|`` and ``|sin x/x|`` decay);
   for D = 1, ``|cos dbar|`` returns to 1 at every multiple of pi, so entanglement survives
   at arbitrarily large distances (in windows ``|dbar - m pi| < arccos kappa*``), as the
   paper says.

For the paper's box (``J_2/J_1 <= 1e6``, ``T`` in ``[1e-3, 1e3]``) the threshold is
``kappa* = 1/2 + 3 J_1/(2 J_2)`` (from eq. 25 with ``K_1 = -J_1``; the paper's ``1/sqrt 2``
assumes ``K_1 = 0``).
"""

from __future__ import annotations

import math
import time
from functools import partial
from typing import NamedTuple

import jax
import numpy as np

import jaxtls

from .search import search_grid
from .space import DIMENSIONS, Fixed, Space
from .space import geometry as geometry_space


class GeometryStudy(NamedTuple):
    """Result of :func:`geometry_study`.

    Attributes:
      dbar: ``(n_dbar,)`` grid of reduced distances ``Delta d / v``.
      dims: the dimensionalities studied, e.g. ``(1, 2, 3)``.
      negativity: ``(n_dims, n_dbar)`` largest N found at each point.
      params: name -> ``(n_dims, n_dbar)`` parameters of the best point.
      kappa_threshold: ``kappa*``, the smallest ``|kappa_2|`` with entanglement in the space.
      kappa_grid, margin: the profile ``max margin(|kappa_2|)`` used to find it (1-d arrays).
      dbar_max: D -> largest distance at which entanglement survives (``inf`` for D = 1).
      dbar_entanglement_lost: D -> smallest ``dbar`` where entanglement is lost (the first
        root of ``|kappa(dbar, D)| = kappa*``).
      windows: D -> list of ``(start, end)`` intervals of ``dbar`` (within the studied range,
        extended to ``dbar_max`` for D = 2, 3) where entanglement is possible.
      dbar_last_entangled: D -> largest grid ``dbar`` with ``N > tol`` (``nan`` if none).
      dbar_first_separable: D -> smallest grid ``dbar`` with ``N <= tol`` (``nan`` if none).
      tol: threshold on N for the grid columns above.
      wall_time: seconds.
    """

    dbar: np.ndarray
    dims: tuple
    negativity: np.ndarray
    params: dict
    kappa_threshold: float
    kappa_grid: np.ndarray
    margin: np.ndarray
    dbar_max: dict
    dbar_entanglement_lost: dict
    windows: dict
    dbar_last_entangled: dict
    dbar_first_separable: dict
    tol: float
    wall_time: float


def _kappa_space(space: Space) -> Space:
    """The same space with ``kappa_2`` (fixed) in place of the geometry of bath 2."""
    p = dict(space.params)
    p.pop("dbar_2", None)
    p["kappa_2"] = Fixed(1.0)
    geo = {n: Ds for n, Ds in space.geometry if n != 2}
    return Space(
        space.name,
        p,
        space.n_baths,
        space.symmetric,
        space.ohmic,
        geo,
        space.constraints,
    )


def kappa_threshold(
    space: Space | None = None,
    *,
    n_grid: int = 16,
    rounds: int = 3,
    n_starts: int = 32,
    steps: int = 400,
    polish_steps: int = 100,
    seed: int = 0,
    progress=None,
):
    """The smallest ``|kappa_2|`` for which the space has an entangled steady state.

    ``F(k) = max margin`` at ``kappa_2 = k`` (over every other free quantity) is found on a
    grid of ``n_grid`` values of ``k`` in ``[0, 1]``, then on ``rounds - 1`` finer grids in
    the bracket of its first sign change; ``kappa*`` is the linear interpolation of the zero
    in the last bracket. ``F`` is even in ``k`` when ``kappa_1`` is free in ``[-1, 1]``
    (``K -> -K`` on every bath leaves N unchanged).

    Args:
      space: a geometry space (its bath 2 geometry is replaced by a fixed ``kappa_2``) or a
        space with ``kappa_2``; default :func:`optimize.geometry`.

    Returns:
      ``(kappa_star, kappa_grid, margin)``: the threshold (``nan`` if nothing is entangled,
      0 if everything is) and the sampled profile (sorted by ``k``).

    Example:
      >>> from jaxtls import optimize
      >>> k, _, _ = optimize.kappa_threshold(n_grid=8, rounds=2, n_starts=16, steps=200)
      >>> abs(k - 0.5) < 0.01  # 1/2 + 3/(2 * 1e6) in the paper's box
      True
    """
    space = geometry_space() if space is None else space
    ks = _kappa_space(space) if "dbar_2" in space.bounds else space
    if "kappa_2" not in ks.bounds:
        raise ValueError("kappa_threshold needs a space with bath 2 (kappa_2 or dbar_2)")
    ks = ks.replace(kappa_2=Fixed(1.0))
    lo, hi = 0.0, 1.0
    grid_all, marg_all = [], []
    for r in range(max(1, rounds)):
        grid = np.linspace(lo, hi, n_grid)
        m = search_grid(
            ks,
            {"kappa_2": grid},
            n_starts=n_starts,
            steps=steps,
            polish_steps=polish_steps,
            seed=seed + r,
            objective="margin",
            progress=progress,
        ).objective
        grid_all.append(grid)
        marg_all.append(m)
        pos = np.flatnonzero(m > 0)
        if pos.size == 0:
            lo = hi = float("nan")
            break
        i = int(pos[0])
        if i == 0:
            if r == 0:
                lo = hi = 0.0
                break
            lo, hi = grid[0], grid[0]
            break
        lo, hi = float(grid[i - 1]), float(grid[i])
        m_lo, m_hi = float(m[i - 1]), float(m[i])
    if np.isnan(lo):
        kstar = float("nan")
    elif lo == hi:
        kstar = float(lo)
    else:
        kstar = lo + (hi - lo) * (0.0 - m_lo) / (m_hi - m_lo)
    kg = np.concatenate(grid_all)
    mg = np.concatenate(marg_all)
    order = np.argsort(kg, kind="stable")
    return float(kstar), kg[order], mg[order]


def _envelope_end(D: int, kstar: float) -> float:
    """A distance beyond which ``|kappa(dbar, D)| < kstar`` for sure (``inf`` for D = 1)."""
    if D == 1 or kstar <= 0:
        return math.inf
    if D == 2:  # |J_0(x)| <= sqrt(2/(pi x)) for x > 0
        return 2.0 / (math.pi * kstar**2)
    return 1.0 / kstar  # |sin x / x| <= 1/x


@partial(jax.jit, static_argnums=1)
def _kappa(x, D):
    return jaxtls.kappa(x, D)


def _abs_kappa(x, D):
    return np.abs(np.asarray(_kappa(x, D)))


def entangled_windows(D: int, kstar: float, dbar_end: float, n: int = 20001) -> list:
    """Intervals of ``dbar`` in ``[0, dbar_end]`` where ``|kappa(dbar, D)| > kstar``.

    Edges are located on a grid of ``n`` points, then by 60 vectorised bisections.

    Example:
      >>> [tuple(round(x, 4) for x in w) for w in entangled_windows(1, 0.5, 4.0)]
      [(0.0, 1.0472), (2.0944, 4.0)]
    """
    x = np.linspace(0.0, float(dbar_end), n)
    inside = _abs_kappa(x, D) > kstar
    edges = np.flatnonzero(inside[1:] != inside[:-1])
    a, b = x[edges], x[edges + 1]
    for _ in range(60):  # bisection on every edge at once
        m = 0.5 * (a + b)
        same = (_abs_kappa(m, D) > kstar) == inside[edges]
        a, b = np.where(same, m, a), np.where(same, b, m)
    cuts = 0.5 * (a + b)
    bounds = ([0.0] if inside[0] else []) + cuts.tolist() + ([x[-1]] if inside[-1] else [])
    return [(float(s), float(e)) for s, e in zip(bounds[::2], bounds[1::2], strict=True)]


def geometry_study(
    dbar=None,
    dims=DIMENSIONS,
    *,
    space: Space | None = None,
    n_starts: int = 32,
    steps: int = 400,
    polish_steps: int = 100,
    seed: int = 0,
    tol: float = 1e-9,
    threshold: bool = True,
    progress=None,
) -> GeometryStudy:
    """Largest negativity versus ``dbar`` for each bath dimensionality ``D``, and the largest
    distance at which entanglement survives.

    Args:
      dbar: grid of reduced distances (default ``linspace(0, 8, 81)``), shape ``(n_dbar,)``.
      dims: dimensionalities to study (subset of ``(1, 2, 3)``).
      space: a space with geometry on bath 2 (default :func:`optimize.geometry`); its
        ``dbar_2`` is set at each grid point.
      n_starts, steps, polish_steps, seed: search settings per grid point.
      tol: ``N > tol`` counts as entangled in the grid columns of the result.
      threshold: compute ``kappa*`` and the distances derived from it (else they are NaN).
      progress: as in :func:`optimize.maximize_negativity`.

    Returns:
      :class:`GeometryStudy`.

    Example:
      >>> from jaxtls import optimize
      >>> g = optimize.geometry_study([0.0, 1.0, 3.0], dims=(3,), n_starts=16, steps=100,
      ...                             threshold=False)
      >>> g.negativity.shape, bool(g.negativity[0, 0] > g.negativity[0, 2])
      ((1, 3), True)
    """
    t0 = time.perf_counter()
    dbar = np.asarray(np.linspace(0.0, 8.0, 81) if dbar is None else dbar, np.float64)
    if dbar.ndim != 1 or dbar.size == 0 or np.any(dbar < 0) or not np.all(np.isfinite(dbar)):
        raise ValueError("dbar must be a non-empty 1-d grid of finite values >= 0")
    dims = tuple(dims)
    if not dims:
        raise ValueError("dims must name at least one dimensionality D")
    for D in dims:
        if D not in DIMENSIONS:
            raise ValueError(f"unknown bath dimensionality D={D!r}; D must be 1, 2 or 3")
    space = geometry_space() if space is None else space
    if 2 not in dict(space.geometry):
        raise ValueError("geometry_study needs a space with geometry on bath 2")
    settings = dict(
        n_starts=n_starts, steps=steps, polish_steps=polish_steps, seed=seed, progress=progress
    )
    # N depends on the geometry of bath 2 only through kappa_2 = kappa(dbar, D): each
    # (D, dbar) point is a search at that fixed kappa_2 (the same compiled program as the
    # threshold's, one block of grid points at a time).
    ks = _kappa_space(space)
    nd, nx = len(dims), dbar.size
    kap = np.concatenate([np.asarray(_kappa(dbar, D)) for D in dims])
    res = search_grid(ks, {"kappa_2": kap}, **settings)
    N = res.negativity.reshape(nd, nx)
    params = {k: np.asarray(v).reshape(nd, nx) for k, v in res.values.items()}
    params["dbar_2"] = np.tile(dbar, (nd, 1))
    params["D"] = np.repeat(np.asarray(dims), nx).reshape(nd, nx)

    last, first = {}, {}
    for i, D in enumerate(dims):
        ent = N[i] > tol
        last[D] = float(dbar[ent][-1]) if ent.any() else float("nan")
        first[D] = float(dbar[~ent][0]) if (~ent).any() else float("nan")

    nan = float("nan")
    kstar, kg, mg = (nan, np.zeros(0), np.zeros(0))
    if threshold:
        kstar, kg, mg = kappa_threshold(space, **settings)
    dmax, lost, windows = {}, {}, {}
    for D in dims:
        if not np.isfinite(kstar):
            dmax[D], lost[D], windows[D] = nan, nan, []
            continue
        env = _envelope_end(D, kstar)
        end = float(dbar.max()) if math.isinf(env) else max(float(dbar.max()), env)
        windows[D] = entangled_windows(D, kstar, end) if kstar > 0 else [(0.0, end)]
        if D == 1 and kstar < 1:
            dmax[D] = math.inf
        else:
            dmax[D] = windows[D][-1][1] if windows[D] else nan
        starts_at_zero = windows[D] and windows[D][0][0] == 0.0
        lost[D] = windows[D][0][1] if starts_at_zero else nan
    return GeometryStudy(
        dbar,
        dims,
        N,
        params,
        kstar,
        kg,
        mg,
        dmax,
        lost,
        windows,
        last,
        first,
        tol,
        time.perf_counter() - t0,
    )


def plot_geometry_study(study: GeometryStudy, path_stem) -> list[str]:
    """Plot N_max versus dbar (top) and kappa(dbar, D) with the threshold (bottom); writes
    ``<stem>.png`` and ``<stem>.pdf`` with the Agg backend and returns the two paths."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax, bx) = plt.subplots(2, 1, figsize=(6.4, 6.6), sharex=True)
    fine = np.linspace(study.dbar.min(), study.dbar.max(), 600)
    k = study.kappa_threshold
    for i, D in enumerate(study.dims):
        (line,) = ax.plot(study.dbar, study.negativity[i], "o-", ms=2.5, label=f"D = {D}")
        c = line.get_color()
        bx.plot(fine, np.asarray(jaxtls.kappa(fine, D)), color=c, label=f"D = {D}")
        lost = study.dbar_entanglement_lost.get(D, float("nan"))
        if np.isfinite(lost) and lost <= study.dbar.max():
            for a in (ax, bx):
                a.axvline(lost, color=c, ls=":", lw=0.9)
    ax.axhline(jaxtls.N_PAPER, color="k", ls="--", lw=0.8, label="(sqrt5-2)/6")
    ax.set_ylabel("largest negativity N")
    ax.set_title("Entanglement vs distance of the coupling points to bath 2")
    ax.legend(fontsize=8)
    bx.axhline(0, color="k", lw=0.5)
    if np.isfinite(k):
        for s in (1, -1):
            bx.axhline(s * k, color="0.4", ls="--", lw=0.8)
        bx.fill_between(fine, -k, k, color="0.9", label=f"|kappa_2| < kappa* = {k:.6f}: separable")
    bx.set_ylabel("kappa_2 = K_2/J_2")
    bx.set_xlabel("dbar = Delta d / v (bath 2)")
    bx.legend(fontsize=7, loc="upper right")
    fig.tight_layout()
    paths = [f"{path_stem}.png", f"{path_stem}.pdf"]
    for p in paths:
        fig.savefig(p, dpi=120)
    plt.close(fig)
    return paths
