"""The registry of experiments: name -> (module, one-line description), in the report's order
(the issue's order: the figures, then the analytical claims)."""

from __future__ import annotations

import importlib

EXPERIMENTS = {
    "fig2": ("fig2", "Fig. 2: entanglement boundary in the (T1, T2) plane, the caption's lines"),
    "fig3": ("fig3", "Fig. 3: (K1/J1, K2/J2) region near T = 0 against eq. (25)"),
    "fig4": ("fig4", "Fig. 4: N vs T1 in units of Delta J2/J1, eq. (26), inset populations"),
    "lowT": ("lowT", "low-T conditions |K2| > J2/sqrt2, J2 > J1 [sqrt2|K2|/J2 - 1]^-1"),
    "t2_threshold": ("t2_threshold", "highest entangled T2 (paper: about 0.567 Delta)"),
    "maximum": ("maximum", "largest N -> (sqrt5-2)/6, the 2/3-1/3 state, optimize's search"),
    "detuning": ("detuning", "N vs detuning: correlated state -> product state of eq. (13)"),
    "pareto": ("pareto", "beyond the paper: largest N vs relaxation rate and entropy production"),
    "robustness": (
        "robustness",
        "beyond the paper: detuning tolerance, exchange, consistent baths",
    ),
    "ceiling": (
        "ceiling",
        "beyond the paper: the supremum of N and C over 2-4 baths, any coupling",
    ),
    "time_to_entanglement": (
        "time_to_entanglement",
        "beyond the paper: N(t) from product states, t_90 vs 1/relaxation_rate",
    ),
    "strong_coupling": (
        "strong_coupling",
        "beyond the paper: finite coupling by HEOM, N vs lambda -> the weak-coupling value",
    ),
}
REGISTRY = EXPERIMENTS


def get(name: str):
    """The ``run(out, fast=False, progress=True) -> dict`` function of experiment ``name``."""
    if name not in EXPERIMENTS:
        raise ValueError(f"unknown experiment {name!r}; known: {', '.join(EXPERIMENTS)}")
    return importlib.import_module(f"jaxtls.experiments.{EXPERIMENTS[name][0]}").run


def run_experiment(name: str, out: str = "results", fast: bool = False, progress: bool = True):
    """Run one experiment; returns its result dict (claims, figures, data, summary, ...)."""
    return get(name)(out=out, fast=fast, progress=progress)


def prefetch(names=None, fast: bool = False) -> None:
    """Start the slow, independent parts of the experiments ``names`` in the background (those
    whose module has ``prefetch(fast)``: the ``optimize`` search of ``maximum``), so that they
    overlap the others on a multi-core CPU. Their ``run`` collects the results."""
    for name in names or EXPERIMENTS:
        module = importlib.import_module(f"jaxtls.experiments.{EXPERIMENTS[name][0]}")
        if hasattr(module, "prefetch"):
            module.prefetch(fast)


def run_all(names=None, out="results", fast=False, progress=True) -> list[dict]:
    """Run the experiments ``names`` (all by default, in registry order); their results."""
    names = list(names or EXPERIMENTS)
    for name in names:
        get(name)  # unknown names fail before anything starts
    if len(names) > 1:
        prefetch(names, fast)
    return [run_experiment(n, out, fast, progress) for n in names]
