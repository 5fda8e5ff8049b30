"""experiments: regenerate every figure and analytical claim of the paper (``jaxtls reproduce``).

Each experiment is a module with ``run(out, fast=False, progress=True) -> dict`` that computes
with :mod:`jaxtls`, saves its data (``NAME.npz`` + the parameters in ``NAME.json``) and figure
(``NAME.png`` + ``NAME.pdf``) in ``out``, and returns ``{"name", "claims", "figures", "data",
"summary", "wall_time", "parameters"}``; every claim holds the paper's statement and value, the
computed value, the tolerance and agree/disagree. :func:`experiments.report.write` turns a list
of results into ``report.md`` and ``report.json``.

Example:
  >>> from jaxtls import experiments
  >>> list(experiments.EXPERIMENTS)  # doctest: +NORMALIZE_WHITESPACE
  ['fig2', 'fig3', 'fig4', 'lowT', 't2_threshold', 'maximum', 'detuning', 'pareto', 'robustness',
   'ceiling', 'time_to_entanglement', 'strong_coupling']
"""

from __future__ import annotations

from ._common import compilation_cache
from ._registry import EXPERIMENTS, REGISTRY, get, prefetch, run_all, run_experiment

__all__ = [
    "EXPERIMENTS",
    "REGISTRY",
    "compilation_cache",
    "get",
    "prefetch",
    "run_all",
    "run_experiment",
]
