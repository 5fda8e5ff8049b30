"""optimize: search the parameter space of :mod:`jaxtls` for the largest steady-state entanglement.

Flat public API:

* search spaces as data: :class:`Space` with :class:`Free`, :class:`Fixed`, :class:`Tied`
  quantities; ready-made :func:`paper`, :func:`geometry`, :func:`ohmic`, :func:`asymmetric`,
  :func:`get_space`;
* objectives: :func:`signed_negativity` (``-lambda_-``), :func:`entanglement_margin`;
* :func:`maximize_negativity` (multi-start, vmapped Adam, elite restarts, polish) ->
  :class:`SearchResult`; :func:`search_grid` (one search per point of a grid, vmapped);
* :func:`classify` (Bell weights, nearest ideal regime, fidelity) -> :class:`Classification`;
* :func:`geometry_study` (largest N vs bath distance for D = 1, 2, 3, the threshold
  :func:`kappa_threshold` and the largest distance with entanglement, with a plot);
* constraints on the search (:class:`Constraint`) and Pareto fronts (:func:`pareto_front`);
* :func:`convergence_figure` / :func:`plot_convergence` (the convergence plot of a search);
* :class:`ProgressBar` (:class:`jaxtls.progress.ProgressBar`, the project's one bar).

Example:
  >>> from jaxtls import optimize
  >>> r = optimize.maximize_negativity(optimize.paper(), n_starts=32, steps=300, seed=0)
  >>> optimize.classify(r.state).regime
  '2/3-1/3'
"""

import jaxtls  # noqa: F401  (enables float64)
from jaxtls.progress import ProgressBar

from .constraints import KINDS, Constraint
from .geometry_study import (
    GeometryStudy,
    entangled_windows,
    geometry_study,
    kappa_threshold,
    plot_geometry_study,
)
from .objectives import OBJECTIVES, entanglement_margin, signed_negativity
from .pareto import ParetoFront, pareto_front, save_front
from .plots import convergence_figure, plot_convergence
from .regimes import REGIMES, Classification, classify, fidelity
from .search import (
    GridResult,
    SearchResult,
    VariantResult,
    learning_rate,
    maximize_negativity,
    search_grid,
)
from .space import (
    SPACES,
    Fixed,
    Free,
    Space,
    Tied,
    asymmetric,
    from_box,
    geometry,
    get_space,
    ohmic,
    paper,
    to_box,
)

N_PAPER = jaxtls.N_PAPER  # largest negativity of the paper, (sqrt 5 - 2)/6
N_HALF_HALF = (2**0.5 - 1) / 4  # negativity of (|++><++| + |psi+-><psi+-|)/2

__all__ = [
    "KINDS",
    "N_HALF_HALF",
    "N_PAPER",
    "OBJECTIVES",
    "REGIMES",
    "SPACES",
    "Classification",
    "Constraint",
    "Fixed",
    "Free",
    "GeometryStudy",
    "GridResult",
    "ParetoFront",
    "ProgressBar",
    "SearchResult",
    "Space",
    "Tied",
    "VariantResult",
    "asymmetric",
    "classify",
    "convergence_figure",
    "entangled_windows",
    "entanglement_margin",
    "fidelity",
    "from_box",
    "geometry",
    "geometry_study",
    "get_space",
    "kappa_threshold",
    "learning_rate",
    "maximize_negativity",
    "ohmic",
    "paper",
    "pareto_front",
    "plot_convergence",
    "plot_geometry_study",
    "save_front",
    "search_grid",
    "signed_negativity",
    "to_box",
]
