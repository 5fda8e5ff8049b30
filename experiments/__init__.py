"""experiments: regenerate every figure and analytical claim of the paper (``jaxtls reproduce``).

Each experiment is a module with ``run(out, fast=False, progress=True) -> dict`` that saves its
data (``NAME.npz`` + ``NAME.json`` with the parameters) and figure (``NAME.png``/``.pdf``) in
``out`` and returns ``{"name", "claims", "figures", "data", "summary", "wall_time",
"parameters"}``; every claim holds the paper's value, ours, the tolerance and agree/disagree.

Example:
  >>> import experiments
  >>> list(experiments.EXPERIMENTS)[:3]
  ['fig4', 'fig2', 'maximum']
"""

from __future__ import annotations

from ._registry import EXPERIMENTS, REGISTRY, get, run_all, run_experiment

__all__ = ["EXPERIMENTS", "REGISTRY", "get", "run_all", "run_experiment"]
