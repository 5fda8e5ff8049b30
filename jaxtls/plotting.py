"""A picture of one two-qubit state: Bell-basis weights and partial-transpose spectrum.

Matplotlib's object API only (``matplotlib.figure.Figure``): no pyplot figure manager, no
change to ``rcParams`` or to pyplot's current figure.
"""

from __future__ import annotations

import numpy as np

from .steady_state import XState

#: The project's figure style (one copy: the experiments and optimize's plots extend it),
#: applied with ``matplotlib.rc_context`` while a figure is drawn, never to the global rcParams.
HOUSE_STYLE = {
    "savefig.dpi": 160,
    "font.size": 11,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.labelsize": 13,
    "axes.titlesize": 12,
    "xtick.labelsize": 11,
    "ytick.labelsize": 11,
    "legend.fontsize": 10,
    "legend.frameon": False,
    "lines.linewidth": 2.0,
}

BELL_LABELS = (r"$|{+}{+}\rangle$", r"$\psi_+$", r"$\psi_-$", r"$|{-}{-}\rangle$")
_BAR = "#4c72b0"
_NEG = "#c44e52"
_POS = "#8c8c8c"


def _bell_weights(rho):
    p = np.real(np.diag(rho))
    re = np.real(rho[1, 2])
    mean = 0.5 * (p[1] + p[2])
    return np.array([p[0], mean + re, mean - re, p[3]])


def _pt_spectrum(rho):
    pt = rho.reshape(2, 2, 2, 2).transpose(0, 3, 2, 1).reshape(4, 4)
    return np.linalg.eigvalsh(0.5 * (pt + pt.conj().T))


def plot_state(rho, ax=None):
    """Bar charts of a state: its Bell-basis weights and its partial-transpose eigenvalues.

    Left: the weights of |++>, psi+, psi-, |--> (``jaxtls.bell_populations``). Right: the
    four eigenvalues of the partial transpose (ascending), a negative one in red (the state
    is entangled), with the negativity ``N`` (sum of the negative eigenvalues' magnitudes) in
    the title. Every bar is labelled with its value.

    Args:
      rho: one state, ``(4, 4)`` (any two-qubit density matrix) or a single-point
        :class:`jaxtls.XState`.
      ax: ``None`` (a new ``matplotlib.figure.Figure`` with two panels, not registered with
        pyplot: save it with ``fig.savefig``) or a pair of Axes ``(ax_bell, ax_spectrum)``
        to draw into.

    Returns:
      The ``Figure`` drawn into.

    Example:
      >>> import jaxtls
      >>> rho = jaxtls.steady_state(jaxtls.Model(T=[30.0, 0.05], J=[1.0, 1e5], K=[0.0, 1e5]))
      >>> fig = jaxtls.plot_state(rho)
      >>> [a.get_title() for a in fig.axes]
      ['Bell-basis weights', 'partial transpose: N = 0.03824']
    """
    if isinstance(rho, XState):
        rho = rho.matrix()
    rho = np.asarray(rho, np.complex128)
    if rho.shape != (4, 4):
        raise ValueError(f"plot_state draws one state of shape (4, 4), got {rho.shape}")
    if ax is None:
        from matplotlib.figure import Figure

        fig = Figure(figsize=(8.0, 3.4), layout="constrained")
        ax_b, ax_s = fig.subplots(1, 2)
    else:
        try:
            ax_b, ax_s = ax
        except (TypeError, ValueError):
            raise TypeError(
                "plot_state draws two panels: pass ax=(ax_bell, ax_spectrum), e.g. "
                "fig.subplots(1, 2)"
            ) from None
        fig = ax_b.figure
    w = _bell_weights(rho)
    ev = _pt_spectrum(rho)
    neg = float(np.sum(np.maximum(-ev, 0.0)))
    x = np.arange(4)

    bars = ax_b.bar(x, w, color=_BAR, width=0.6)
    ax_b.bar_label(bars, labels=[f"{v:.3g}" for v in w], padding=2, fontsize=8)
    ax_b.set_xticks(x, BELL_LABELS)
    ax_b.set_ylim(0.0, max(1.0, float(w.max())) * 1.12)
    ax_b.set_ylabel("weight")
    ax_b.set_title("Bell-basis weights")

    colors = [_NEG if v < 0 else _POS for v in ev]
    bars = ax_s.bar(x, ev, color=colors, width=0.6)
    ax_s.bar_label(bars, labels=[f"{v:.3g}" for v in ev], padding=2, fontsize=8)
    ax_s.axhline(0.0, color="black", linewidth=0.8)
    ax_s.set_xticks(x, [rf"$\lambda_{k + 1}$" for k in range(4)])
    lo, hi = min(float(ev.min()), 0.0), max(float(ev.max()), 0.0)
    pad = 0.15 * max(hi - lo, 1e-12)
    ax_s.set_ylim(lo - pad, hi + pad)
    ax_s.set_ylabel(r"eigenvalue of $\rho^{\Gamma}$")
    ax_s.set_title(f"partial transpose: N = {neg:.4g}", color=_NEG if neg > 0 else "black")
    return fig
