"""The registry of experiments (a submodule, so that it imports even where an old editable
install sees ``experiments`` as a namespace package)."""

from __future__ import annotations

import importlib

# name -> (module, one-line description); the order is that of the report
EXPERIMENTS = {
    "fig4": ("fig4", "Fig. 4: N vs T1 in units of Delta J1/J2, eq. (26), inset populations"),
    "fig2": ("fig2", "Fig. 2: entanglement boundary in the (T1, T2) plane, all caption curves"),
    "maximum": ("maximum", "largest N -> (sqrt5-2)/6 and the 2/3-1/3 state"),
    "detuning": ("detuning", "N vs detuning: correlated state -> product state of eq. (13)"),
    "lowT": ("lowT", "low-T conditions |K2| > J2/sqrt2, J2 > J1 [sqrt2|K2|/J2 - 1]^-1"),
    "fig3": ("fig3", "Fig. 3: (K1/J1, K2/J2) region near T = 0 vs eq. (25)"),
    "t2_threshold": ("t2_threshold", "highest entangled T2 (paper: about 0.567 Delta)"),
}


def get(name: str):
    """The ``run`` function of experiment ``name``."""
    if name not in EXPERIMENTS:
        raise ValueError(f"unknown experiment {name!r}; known: {', '.join(EXPERIMENTS)}")
    return importlib.import_module(f"experiments.{EXPERIMENTS[name][0]}").run


def run_all(names=None, out="results", fast=False, progress=True) -> list[dict]:
    """Run the experiments ``names`` (all by default) and return their results."""
    return [get(n)(out=out, fast=fast, progress=progress) for n in (names or EXPERIMENTS)]


def run_experiment(name: str, out: str = "results", fast: bool = False, progress: bool = True):
    """Run one experiment; returns its result dict (claims, figures, data, summary, ...)."""
    return get(name)(out=out, fast=fast, progress=progress)


REGISTRY = EXPERIMENTS
