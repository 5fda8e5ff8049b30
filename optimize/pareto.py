"""Pareto fronts: the largest negativity against a bound on its price.

For each bound ``b`` of a constraint kind (:mod:`optimize.constraints`), a constrained search
gives the best negativity ``N(b)``; ``(b, N(b))`` traces the front (relaxation rate: larger is
better, so N decreases with the bound; entropy production: N increases with the allowance).
"""

from __future__ import annotations

import json
import os
from typing import NamedTuple

import numpy as np

from .constraints import Constraint, measure
from .search import maximize_negativity


class ParetoFront(NamedTuple):
    """``bounds``, best ``negativity`` per bound, the ``achieved`` value of the constrained
    quantity at that optimum (units of max J), and the best parameters per bound."""

    kind: str
    space: str
    bounds: np.ndarray
    negativity: np.ndarray
    achieved: np.ndarray
    params: list


def pareto_front(space, kind, bounds, n_starts=64, steps=400, seed=0, progress=None) -> ParetoFront:
    """Constrained searches over ``bounds`` of ``kind`` (see :mod:`optimize.constraints`).

    Example:
      >>> import optimize
      >>> sp = optimize.paper()
      >>> f = optimize.pareto_front(sp, "min_relaxation", [1e-3], n_starts=8, steps=60)
      >>> bool(f.achieved[0] >= 0.9e-3)
      True
    """
    N, got, params = [], [], []
    for b in bounds:
        r = maximize_negativity(
            space.constrain(Constraint(kind, float(b))), n_starts=n_starts, steps=steps, seed=seed
        )
        N.append(r.negativity)
        got.append(float(measure(kind, r.model)))
        params.append(r.params)
        if progress:
            progress(f"{kind} bound {b:.3g}: N = {r.negativity:.5g}, achieved {got[-1]:.3g}")
    return ParetoFront(
        kind, space.name, np.asarray(bounds, float), np.asarray(N), np.asarray(got), params
    )


def save_front(front: ParetoFront, out: str, stem: str | None = None) -> list[str]:
    """Write ``stem.json`` (with the parameters), ``stem.npz`` and the plot (PNG, PDF)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    os.makedirs(out, exist_ok=True)
    stem = os.path.join(out, stem or f"pareto_{front.space}_{front.kind}")
    np.savez(
        stem + ".npz", bounds=front.bounds, negativity=front.negativity, achieved=front.achieved
    )
    with open(stem + ".json", "w") as f:
        json.dump(
            dict(
                kind=front.kind,
                space=front.space,
                bounds=front.bounds.tolist(),
                negativity=front.negativity.tolist(),
                achieved=front.achieved.tolist(),
                params=front.params,
            ),
            f,
            indent=1,
        )
    fig, ax = plt.subplots(figsize=(6.2, 4.2))
    ax.semilogx(front.achieved, front.negativity, "o-", color="C0")
    ax.axhline((5**0.5 - 2) / 6, color="k", ls="--", lw=0.8, label=r"$(\sqrt{5}-2)/6$")
    label = {
        "min_relaxation": r"relaxation rate / max $J$",
        "max_entropy_production": r"entropy production / max $J$",
        "max_heat_current": r"largest heat current / ($\Delta$ max $J$)",
    }[front.kind]
    ax.set_xlabel(label + " at the optimum")
    ax.set_ylabel(r"largest negativity $\mathcal{N}$")
    ax.set_title(f"Price of entanglement ({front.space} space)")
    ax.grid(alpha=0.3)
    ax.legend(frameon=False)
    paths = [stem + ".png", stem + ".pdf"]
    fig.savefig(paths[0], dpi=150, bbox_inches="tight")
    fig.savefig(paths[1], bbox_inches="tight")
    plt.close(fig)
    return paths + [stem + ".json", stem + ".npz"]
