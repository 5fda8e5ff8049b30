"""Pareto fronts: the largest negativity against a bound on its price.

For each bound ``b`` of a constraint kind (:mod:`optimize.constraints`), a constrained search
gives the best negativity ``N(b)``; ``(b, N(b))`` traces the front (relaxation rate: larger is
better, so N decreases with the bound; entropy production: N increases with the allowance).
All bounds are searched at once by :func:`optimize.search_grid` (the bound is a traced value,
so one compilation serves the whole front), half of the starts near the unconstrained optimum;
the front is then the envelope of every optimum found: for each bound, the largest N among all
optima that meet it (so it is monotone in the bound).
"""

from __future__ import annotations

import functools
import json
import os
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

import jaxtls

from .constraints import Constraint, bound_name, is_lower, measure
from .search import maximize_negativity, search_grid

_LABELS = {
    "min_relaxation": r"relaxation rate / max $J$",
    "max_entropy_production": r"entropy production / max $J$",
    "max_heat_current": r"largest heat current / ($\Delta$ max $J$)",
    "min_detuning_tolerance": r"detuning tolerance (N halved) / max $J$",
}


class ParetoFront(NamedTuple):
    """One front; every array has shape ``(n_bounds,)`` (bell ``(n_bounds, 4)``).

    Attributes:
      kind: the constraint kind; space: the space's name.
      bounds: the bounds (units of max J).
      negativity: the largest N found under each bound.
      achieved: the constrained quantity at that optimum (units of max J).
      relaxation_rate: Liouvillian gap / max J at the optimum.
      entropy_production: entropy production / max J at the optimum.
      bell: Bell populations ``(|++>, psi+, psi-, |-->)`` at the optimum.
      params: one dict per bound, name -> value of every quantity of the space.
      model: the optimal :class:`jaxtls.Model` of every bound (batch shape ``(n_bounds,)``).
    """

    kind: str
    space: str
    bounds: np.ndarray
    negativity: np.ndarray
    achieved: np.ndarray
    relaxation_rate: np.ndarray
    entropy_production: np.ndarray
    bell: np.ndarray
    params: list
    model: jaxtls.Model


def pareto_front(
    space,
    kind,
    bounds,
    n_starts=64,
    steps=400,
    seed=0,
    *,
    polish_steps=100,
    warm=(),
    progress=None,
    reuse: bool = True,
) -> ParetoFront:
    """Largest negativity under each of ``bounds`` of constraint ``kind``.

    Args:
      space: a :class:`optimize.Space` (its own constraints, if any, stay in force).
      kind: one of :data:`optimize.constraints.KINDS` (``"min_relaxation"``,
        ``"max_entropy_production"``, ``"max_heat_current"``, ``"min_detuning_tolerance"``).
      bounds: ``(n_bounds,)`` bounds in units of the largest coupling (each > 0).
      n_starts, steps, seed, polish_steps: as in :func:`optimize.maximize_negativity`
        (``n_starts`` per bound; every bound runs the same starts).
      warm: extra starting points, a list of name -> value dicts of this space's quantities
        (e.g. the optima of a front in a smaller space): each starts a quarter of the starts
        (with noise), so the front is at least as good as theirs where they are feasible.
      progress: as in :func:`optimize.maximize_negativity`.
      reuse: take the unconstrained optimum (half the starts begin near it) from the
        memo of :func:`optimize.pareto.unconstrained_optimum` when this space and these
        settings were searched before in this process; ``False`` searches afresh.

    Returns:
      :class:`ParetoFront`.

    Raises:
      ValueError: unknown ``kind`` or a bound that is not finite and > 0.

    Example:
      >>> from jaxtls import optimize
      >>> f = optimize.pareto_front(optimize.paper(), "min_relaxation", [1e-3, 1e-2, 1e-1],
      ...                           n_starts=16, steps=150)
      >>> bool(f.achieved[0] >= 0.95e-3), bool(f.negativity[0] > f.negativity[1])
      (True, True)
    """
    bounds = np.atleast_1d(np.asarray(bounds, dtype=np.float64))
    if bounds.ndim != 1 or bounds.size == 0:
        raise ValueError(f"bounds must be a non-empty 1-D list, got shape {bounds.shape}")
    for b in bounds:
        Constraint(kind, float(b)).check()
    cspace = space.constrain(Constraint(kind, float(bounds[0])))
    name = bound_name(len(space.constraints))
    g = len(bounds)
    u0 = _warm_starts(space, n_starts, steps, seed, polish_steps, warm, reuse)
    cands = []  # per D combination: one optimum per bound
    for var in space.variants():
        res = search_grid(
            cspace,
            {name: bounds},
            {n: np.full(g, D) for n, D in var.items()} or None,
            n_starts=n_starts,
            steps=steps,
            polish_steps=polish_steps,
            seed=seed,
            block=None,
            u0=u0,
            progress=progress,
        )
        cands.append((res, {n: np.full(g, D) for n, D in var.items()}))
    cat = lambda *x: np.concatenate([np.asarray(y) for y in x])  # noqa: E731
    res = jax.tree_util.tree_map(cat, *[c[0] for c in cands])
    var = jax.tree_util.tree_map(cat, *[c[1] for c in cands])
    achieved = np.asarray(measure(kind, _model(cspace, res.values, var)), np.float64)
    pick = _envelope(kind, bounds, achieved, np.asarray(res.negativity), res.objective)
    take = lambda x: np.asarray(x)[pick]  # noqa: E731
    values = {k: take(v) for k, v in res.values.items()}
    model = _model(cspace, values, {n: take(D) for n, D in var.items()})
    f = lambda x: np.asarray(x, dtype=np.float64)  # noqa: E731
    return ParetoFront(
        kind=kind,
        space=space.name,
        bounds=bounds,
        negativity=take(res.negativity),
        achieved=achieved[pick],
        relaxation_rate=f(measure("min_relaxation", model)),
        entropy_production=f(measure("max_entropy_production", model)),
        bell=f(jaxtls.bell_populations(jax.tree_util.tree_map(take, res.state))),
        params=[{k: float(v[i]) for k, v in values.items()} for i in range(g)],
        model=model,
    )


def _model(space, values, variant):
    return space.model(
        {k: jnp.asarray(v) for k, v in values.items()},
        {n: jnp.asarray(D) for n, D in variant.items()},
    )


@functools.lru_cache(maxsize=16)
def unconstrained_optimum(space, n_starts, steps, seed, polish_steps) -> tuple:
    """The unconstrained optimum's parameters, ``((name, value), ...)``, MEMOISED per process.

    A search is deterministic for a seed, so fronts of several constraint kinds on one space
    (and experiments that need the same optimum) share one search. The memo is explicit:
    ``pareto_front(..., reuse=False)`` bypasses it, ``unconstrained_optimum.cache_clear()``
    empties it.
    """
    r = maximize_negativity(space, n_starts, steps, seed, polish_steps=polish_steps)
    return tuple(r.params.items())


_optimum = unconstrained_optimum  # the name experiments used


def _warm_starts(space, n_starts, steps, seed, polish_steps, warm=(), reuse=True):
    """Starting points: near the unconstrained optimum, near each of ``warm``, and the rest
    uniform in the box (a constrained search started only from random points may settle on
    the separable plateau that the penalty pushes it to, e.g. equal temperatures for a small
    entropy production)."""
    rng = np.random.default_rng([seed, 2])
    u0 = np.array(space.sample(rng, n_starts))
    find = unconstrained_optimum if reuse else unconstrained_optimum.__wrapped__
    centres = [dict(find(space, n_starts, steps, seed, polish_steps)), *warm]
    share = max(1, n_starts // (2 if len(centres) == 1 else 4))
    for i, c in enumerate(centres):
        rows = slice(i * share, min((i + 1) * share, n_starts))
        n = rows.stop - rows.start
        if n <= 0:
            break
        # points on the edge of the box map to +-inf: keep them finite
        u = np.clip(
            np.nan_to_num(np.asarray(space.to_unconstrained(c)), posinf=20, neginf=-20), -20, 20
        )
        u0[rows] = u + 0.3 * rng.standard_normal((n, space.dim))
    return u0


def _envelope(kind, bounds, achieved, N, objective, rtol=0.01):
    """Index of the answer for each bound: the largest N among all optima found (for any
    bound) that meet this bound to ``rtol``; the bound's own optimum if none does. A point
    found for a tighter bound also meets a looser one, so the front is monotone."""
    g = len(bounds)
    own = np.arange(len(N)) % g
    out = []
    for i, b in enumerate(bounds):
        ok = achieved >= b * (1 - rtol) if is_lower(kind) else achieved <= b * (1 + rtol)
        ok &= np.isfinite(N)
        if ok.any():
            out.append(int(np.flatnonzero(ok)[np.argmax(N[ok])]))
        else:
            mine = np.flatnonzero(own == i)
            out.append(int(mine[np.argmax(objective[mine])]))
    return np.asarray(out)


def save_front(front: ParetoFront, out: str, stem: str | None = None) -> list[str]:
    """Write ``stem.json`` (with the parameters), ``stem.npz`` and the plot (PNG, PDF)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    os.makedirs(out, exist_ok=True)
    stem = os.path.join(out, stem or f"pareto_{front.space}_{front.kind}")
    arrays = {k: getattr(front, k) for k in _ARRAYS}
    np.savez(stem + ".npz", **arrays)
    with open(stem + ".json", "w") as fh:
        doc = dict(kind=front.kind, space=front.space, params=front.params)
        doc.update({k: v.tolist() for k, v in arrays.items()})
        json.dump(doc, fh, indent=1)
    fig, ax = plt.subplots(figsize=(6.2, 4.2))
    ax.semilogx(front.achieved, front.negativity, "o-", color="C0")
    ax.axhline(jaxtls.N_PAPER, color="k", ls="--", lw=0.8, label=r"$(\sqrt{5}-2)/6$")
    ax.set_xlabel(_LABELS[front.kind] + " at the optimum")
    ax.set_ylabel(r"largest negativity $\mathcal{N}$")
    ax.set_title(f"Price of entanglement ({front.space} space)")
    ax.grid(alpha=0.3)
    ax.legend(frameon=False)
    paths = [stem + ".png", stem + ".pdf"]
    fig.savefig(paths[0], dpi=150, bbox_inches="tight")
    fig.savefig(paths[1], bbox_inches="tight")
    plt.close(fig)
    return paths + [stem + ".json", stem + ".npz"]


_ARRAYS = (
    "bounds",
    "negativity",
    "achieved",
    "relaxation_rate",
    "entropy_production",
    "bell",
)
