"""Figures of :mod:`optimize` that are not the CLI's business: the convergence plot of a
search (:func:`convergence_figure`, :func:`plot_convergence`), written by ``jaxtls optimize``."""

from __future__ import annotations

import jaxtls
from jaxtls.plotting import HOUSE_STYLE

# the look of the experiments' figures (experiments/_common.py STYLE), applied with
# matplotlib.rc_context only while the figure is drawn (the caller's rcParams stay as they are)
PLOT_STYLE = {**HOUSE_STYLE, "figure.figsize": (7.6, 4.6)}


def convergence_figure(result):
    """The convergence figure of :func:`plot_convergence` (a ``matplotlib.figure.Figure``, no
    pyplot): objective of every start versus step (grey), the best so far, the paper's
    ``(sqrt 5 - 2)/6``, and the phases (elite restarts, polish)."""
    import matplotlib
    import numpy as np
    from matplotlib.figure import Figure

    tr = np.asarray(result.traces)
    s = result.settings
    with matplotlib.rc_context(PLOT_STYLE):
        fig = Figure(layout="constrained")
        ax = fig.subplots()
        steps = np.arange(1, tr.shape[1] + 1)
        for i, row in enumerate(tr):
            label = f"each of the {tr.shape[0]} starts" if i == 0 else None
            ax.plot(steps, row, color="0.7", lw=0.5, label=label)
        best = np.max(np.maximum.accumulate(tr, axis=1), axis=0)
        ax.plot(steps, best, color="C3", label="best so far")
        ax.axhline(jaxtls.N_PAPER, color="k", ls="--", lw=1.0, label=r"$(\sqrt{5}-2)/6$")
        for i, r in enumerate(s.get("restart_steps", [])):
            ax.axvline(r, color="C2", ls=":", lw=1.0, label="elite restarts" if i == 0 else None)
        ax.axvline(s["steps"], color="C0", ls=":", lw=1.0, label="polish starts")
        top = float(np.nanmax(best))
        ax.set_xlim(1, steps[-1])
        ax.set_ylim(min(-0.05, float(np.nanmin(best))), max(0.05, 1.1 * top))
        ax.set_xlabel("optimizer step")
        ax.set_ylabel(r"$-\lambda_{\min}(\rho^{\Gamma})$  ($= \mathcal{N}$ when $> 0$)")
        ax.set_title(
            f"jaxtls optimize, space '{s['space']}': {s['n_starts']} starts, seed {s['seed']}\n"
            rf"best $\mathcal{{N}} = {result.negativity:.6f}$"
        )
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return fig


def plot_convergence(result, path) -> None:
    """Write :func:`convergence_figure` to ``path`` (PNG; matplotlib's state is left alone)."""
    import matplotlib

    fig = convergence_figure(result)
    with matplotlib.rc_context(PLOT_STYLE):
        fig.savefig(path, bbox_inches="tight")
