"""How the distance between the two coupling points to bath 2 limits the entanglement.

For each dimensionality ``D`` of bath 2 and each reduced distance ``dbar`` on a grid, the
largest steady-state negativity over the other parameters of :func:`optimize.geometry`
(``T_1``, ``T_2``, ``J_2/J_1``, ``kappa_1``) is found by the search of
:func:`optimize.maximize_negativity`; the whole ``D x dbar`` grid runs as one vmapped,
compiled computation.
"""

from __future__ import annotations

import time
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

import jaxtls

from .search import _run_grid
from .space import DIMENSIONS, Fixed, Space
from .space import geometry as geometry_space


class GeometryStudy(NamedTuple):
    """Result of :func:`geometry_study`.

    Attributes:
      dbar: ``(n_dbar,)`` grid of reduced distances ``Delta d / v``.
      dims: the dimensionalities studied, e.g. ``(1, 2, 3)``.
      negativity: ``(n_dims, n_dbar)`` largest N found at each point.
      params: name -> ``(n_dims, n_dbar)`` parameters of the best point.
      dbar_last_entangled: D -> largest grid ``dbar`` with ``N > tol`` (``nan`` if none).
      dbar_first_separable: D -> smallest grid ``dbar`` with ``N <= tol`` (``nan`` if none):
        where entanglement is first lost (for D = 1, ``kappa = cos(dbar)`` revives it near
        every multiple of pi, so the last entangled point is the end of the grid).
      dbar_entanglement_lost: D -> largest ``dbar`` still entangled before the first loss,
        resolved to ``step / (n_dbar - 1)`` by the refinement (for D = 2, 3 the largest
        dbar at which entanglement survives: their |kappa| never comes back high enough).
      tol: threshold on N.
      wall_time: seconds.
    """

    dbar: np.ndarray
    dims: tuple
    negativity: np.ndarray
    params: dict
    dbar_last_entangled: dict
    dbar_first_separable: dict
    dbar_entanglement_lost: dict
    tol: float
    wall_time: float


def geometry_study(
    dbar=None,
    dims=DIMENSIONS,
    *,
    space: Space | None = None,
    n_starts: int = 96,
    steps: int = 600,
    polish_steps: int = 200,
    lr: float = 1.0,
    seed: int = 0,
    tol: float = 1e-9,
    refine: bool = True,
) -> GeometryStudy:
    """Largest negativity versus ``dbar`` for each bath dimensionality ``D``.

    Args:
      dbar: grid of reduced distances (default ``linspace(0, 8, 97)``), shape ``(n_dbar,)``.
      dims: dimensionalities to study (subset of ``(1, 2, 3)``).
      space: a space with geometry on bath 2 (default :func:`optimize.geometry`); its
        ``dbar_2`` is set at each grid point.
      n_starts, steps, polish_steps, lr, seed: search settings per grid point.
      tol: ``N > tol`` counts as entangled.
      refine: search a second grid of ``n_dbar`` points between the last entangled and the
        first separable grid point of each ``D`` (``dbar_entanglement_lost``).

    Returns:
      :class:`GeometryStudy`.

    Example:
      >>> import optimize
      >>> g = optimize.geometry_study([0.0, 1.0, 3.0], dims=(3,), n_starts=8, steps=100)
      >>> g.negativity.shape, bool(g.negativity[0, 0] > g.negativity[0, 2])
      ((1, 3), True)
    """
    t0 = time.perf_counter()
    dbar = np.asarray(np.linspace(0.0, 8.0, 97) if dbar is None else dbar, np.float64)
    if dbar.ndim != 1 or dbar.size == 0 or np.any(dbar < 0) or not np.all(np.isfinite(dbar)):
        raise ValueError("dbar must be a non-empty 1-d grid of finite values >= 0")
    dims = tuple(dims)
    for D in dims:
        if D not in DIMENSIONS:
            raise ValueError(f"unknown bath dimensionality D={D!r}; D must be 1, 2 or 3")
    space = geometry_space() if space is None else space
    if 2 not in dict(space.geometry):
        raise ValueError("geometry_study needs a space with geometry on bath 2")
    space = space.replace(dbar_2=Fixed(0.0))
    settings = (space, dims, n_starts, steps, polish_steps, float(lr), seed)
    grid = np.tile(dbar, (len(dims), 1))
    N, params = _grid_search(grid, *settings)
    last, first, lost = {}, {}, {}
    fine = grid.copy()
    for i, D in enumerate(dims):
        ent = N[i] > tol
        last[D] = float(dbar[ent][-1]) if ent.any() else float("nan")
        first[D] = float(dbar[~ent][0]) if (~ent).any() else float("nan")
        j = int(np.argmax(~ent)) if (~ent).any() else 0
        if j > 0:  # refine between the last entangled and the first separable grid point
            fine[i] = np.linspace(dbar[j - 1], dbar[j], dbar.size)
            lost[D] = float(dbar[j - 1])
    if refine and np.any(fine != grid):
        Nf, _ = _grid_search(fine, *settings)  # same shapes: no new compilation
        for i, D in enumerate(dims):
            ent = Nf[i] > tol
            if np.any(fine[i] != grid[i]) and ent.any():
                lost[D] = max(lost[D], float(fine[i][ent][-1]))
    for D in dims:  # never entangled, or never separable on the grid
        lost.setdefault(D, last[D] if np.isnan(first[D]) else float("nan"))
    return GeometryStudy(dbar, dims, N, params, last, first, lost, tol, time.perf_counter() - t0)


def _grid_search(grid, space, dims, n_starts, steps, polish_steps, lr, seed):
    """Best N for each (D, dbar) of ``grid`` (``(n_dims, n_dbar)``), one vmapped run."""
    nd, nx = grid.shape
    n_grid = nd * nx
    fixed = {k: jnp.full((n_grid,), v) for k, v in space.fixed_values().items()}
    fixed["dbar_2"] = jnp.asarray(grid.reshape(-1))
    variant = {2: jnp.asarray(np.repeat(np.asarray(dims), nx))}
    k_start, k_restart = jax.random.split(jax.random.PRNGKey(seed))
    u0 = space.sample(k_start, n_grid * n_starts).reshape(n_grid, n_starts, space.dim)
    keys = jax.random.split(k_restart, n_grid)
    u, obj, _ = _run_grid(space, steps, polish_steps, lr, True, fixed, variant, u0, keys)
    obj = np.nan_to_num(np.asarray(obj), nan=-np.inf)
    best = np.argmax(obj, axis=1)
    ub = np.asarray(u)[np.arange(n_grid), best]
    vals = space.values(ub, fixed)
    state = jaxtls.xstate(space.model(vals, variant), method="closed_form", check=False)
    N = np.nan_to_num(np.asarray(jaxtls.negativity(state)), nan=0.0).reshape(nd, nx)
    return N, {k: np.asarray(v).reshape(nd, nx) for k, v in vals.items()}


def plot_geometry_study(study: GeometryStudy, path_stem) -> list[str]:
    """Plot N_max versus dbar (top) and kappa(dbar, D) (bottom); writes ``<stem>.png`` and
    ``<stem>.pdf`` with the Agg backend and returns the two paths."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax, bx) = plt.subplots(2, 1, figsize=(6.4, 6.4), sharex=True)
    fine = np.linspace(study.dbar.min(), study.dbar.max(), 400)
    for i, D in enumerate(study.dims):
        (line,) = ax.plot(study.dbar, study.negativity[i], "o-", ms=2.5, label=f"D = {D}")
        bx.plot(fine, np.asarray(jaxtls.kappa(fine, D)), color=line.get_color(), label=f"D = {D}")
        if np.isfinite(study.dbar_entanglement_lost[D]):
            ax.axvline(study.dbar_entanglement_lost[D], color=line.get_color(), ls=":", lw=0.8)
    ax.axhline((5**0.5 - 2) / 6, color="k", ls="--", lw=0.8, label="(sqrt5-2)/6")
    ax.set_ylabel("largest negativity N")
    ax.legend(fontsize=8)
    bx.axhline(0, color="k", lw=0.5)
    bx.set_ylabel("kappa_2 = K_2/J_2")
    bx.set_xlabel("dbar = Delta d / v (bath 2)")
    bx.legend(fontsize=8)
    fig.tight_layout()
    paths = [f"{path_stem}.png", f"{path_stem}.pdf"]
    for p in paths:
        fig.savefig(p, dpi=120)
    plt.close(fig)
    return paths
