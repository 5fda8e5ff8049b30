"""optimize: search the parameter space of :mod:`jaxtls` for the largest steady-state entanglement.

Flat public API:

* search spaces as data: :class:`Space`, :class:`Free`, :class:`Fixed`, ready-made
  :func:`paper`, :func:`geometry`, :func:`ohmic`, :func:`asymmetric`, :func:`get_space`;
* :func:`maximize_negativity` (multi-start, vmapped Adam + polish) -> :class:`SearchResult`;
* :func:`classify` (Bell weights, nearest ideal regime, fidelity) -> :class:`Classification`;
* :func:`geometry_study` (largest N vs bath distance for D = 1, 2, 3, with a plot).

Example:
  >>> import optimize
  >>> r = optimize.maximize_negativity(optimize.paper(), n_starts=8, steps=100, seed=0)
  >>> optimize.classify(r.state).regime
  '2/3-1/3'
"""

import jaxtls  # noqa: F401  (enables float64)

from .constraints import KINDS, Constraint
from .geometry_study import GeometryStudy, geometry_study, plot_geometry_study
from .pareto import ParetoFront, pareto_front, save_front
from .regimes import REGIMES, Classification, classify, fidelity
from .search import SearchResult, VariantResult, maximize_negativity
from .space import SPACES, Fixed, Free, Space, asymmetric, geometry, get_space, ohmic, paper

N_PAPER = (5**0.5 - 2) / 6  # largest negativity of the paper, (sqrt 5 - 2)/6

__all__ = [
    "KINDS",
    "Constraint",
    "ParetoFront",
    "pareto_front",
    "save_front",
    "N_PAPER",
    "REGIMES",
    "SPACES",
    "Classification",
    "Fixed",
    "Free",
    "GeometryStudy",
    "SearchResult",
    "Space",
    "VariantResult",
    "asymmetric",
    "classify",
    "fidelity",
    "geometry",
    "geometry_study",
    "get_space",
    "maximize_negativity",
    "ohmic",
    "paper",
    "plot_geometry_study",
]
