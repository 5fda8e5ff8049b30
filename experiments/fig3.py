"""Fig. 3: region of (K1/J1, K2/J2), K2 > 0, with entangled steady states near T1 = T2 = 0,
for J2/J1 = 2.4, 2.7, 3, 5, 10, 100, 1000, overlaid with the paper's analytic condition (25);
and, in a second panel, the region for K2 < 0, its mirror image under (K1, K2) -> (-K1, -K2)
(eq. 25 is invariant; computed here independently and checked).

Numerically, "near T = 0" means: some direction of approach to T1 = T2 = 0 gives lambda_- < 0.
The directions are fixed ratios x2/x1 of the Boltzmann factors x_n = exp(-Delta/T_n) (0, 1e-3,
0.1, 1, 10, 1e3, inf), probed at max(x1, x2) = exp(-Delta/0.04) ~ 1e-11, where lambda_- has
the sign of its lowest order in the x_n (the expansion behind eq. 25). The lower edge of the
region, K2/J2 as a function of K1/J1, is found by vectorised bisection of K2/J2 on [0, 1] for
all J2/J1 and K1/J1 at once, for the solver and for eq. (25); their largest distance is the
reported disagreement.

Example:
  >>> from jaxtls.experiments import fig3
  >>> kn, ka = fig3.boundaries(10.0, 0.0)
  >>> round(float(kn), 6), round(float(ka), 6)  # K1 = 0: (1 + J1/J2)/sqrt 2
  (0.777817, 0.777817)
"""

from __future__ import annotations

import time

import numpy as np

from . import _common as cm

NAME = "fig3"
RATIOS = (2.4, 2.7, 3.0, 5.0, 10.0, 100.0, 1000.0)
T_LOW = 0.04
SHADE = "#1f4e79"  # the entangled regions, stacked (darker where entangled for more J2/J1)
# directions of approach to T1 = T2 = 0: Boltzmann-factor ratios x2/x1 (0 and inf included)
X_RATIOS = (0.0, 1e-3, 1e-1, 1.0, 10.0, 1e3, np.inf)


def _temps(r):
    x = np.exp(-1 / T_LOW)
    x1, x2 = (x, x * r) if r <= 1 else (x / r, x)
    t = [0.0 if v == 0 else -1 / np.log(v) for v in (x1, x2)]
    return t


_T = np.array([_temps(r) for r in X_RATIOS])  # (directions, 2)


def numeric_lam(k1, k2, R):
    """min of lambda_- over the directions of approach to T = 0 (J1 = 1, J2 = R); broadcasts.

    Example:
      >>> from jaxtls.experiments.fig3 import numeric_lam
      >>> bool(numeric_lam(0.0, 0.99, 10.0) < 0), bool(numeric_lam(0.0, 0.6, 10.0) < 0)
      (True, False)
    """
    k1, k2, R = np.broadcast_arrays(*(np.asarray(x, np.float64) for x in (k1, k2, R)))
    T1, T2 = (_T[:, i].reshape((-1,) + (1,) * k1.ndim) for i in (0, 1))
    return np.min(cm.lam(T1, T2, 1.0, R, k1, k2 * R), axis=0)


def eq25(k1, k2, R):
    """Left side of eq. (25) with J1 = 1, J2 = R, K1 = k1, K2 = k2 R (negative: entangled).

    Example:
      >>> from jaxtls.experiments.fig3 import eq25
      >>> bool(eq25(0.0, 0.99, 10.0) < 0), bool(eq25(0.0, 0.6, 10.0) < 0)
      (True, False)
    """
    s = k1 + R * k2
    return (1 + R) ** 2 - s**2 - np.abs(s) * np.abs(R * k2 - k1 * R)


def boundaries(R, k1, n_iter=50):
    """Lower edge K2/J2 of the region, numerical and eq. (25), by bisection of K2/J2 on
    [0, 1] (NaN where no K2 gives entanglement); ``R`` and ``k1`` broadcast."""
    R, k1 = np.broadcast_arrays(np.asarray(R, np.float64), np.asarray(k1, np.float64))
    lo, hi = np.zeros_like(k1), np.ones_like(k1)
    kn = cm.bisect(lambda k2: numeric_lam(k1, k2, R), lo, hi, n_iter)
    ka = cm.bisect(lambda k2: eq25(k1, k2, R), lo, hi, n_iter)
    return kn, ka


def negative_boundary(R, k1, n_iter=50):
    """Upper edge K2/J2 of the region for K2 < 0, numerical, by bisection of K2/J2 on [-1, 0]
    (NaN where no K2 < 0 gives entanglement). Eq. (25) is unchanged by (K1, K2) -> (-K1, -K2),
    so this is ``-boundaries(R, -k1)``; computed independently here to check it."""
    R, k1 = np.broadcast_arrays(np.asarray(R, np.float64), np.asarray(k1, np.float64))
    lo, hi = -np.ones_like(k1), np.zeros_like(k1)
    return cm.bisect(lambda k2: numeric_lam(k1, k2, R), lo, hi, n_iter)


def threshold(fun, k1, lo=1.5, hi=3.0):
    """Smallest J2/J1 with an entangled point (at K2 = J2, the top of the region)."""
    return float(cm.bisect(lambda R: np.min(fun(k1, 1.0, R)), lo, hi, 50, log=True))


def draw(k1, kn, ka, kneg):
    """The figure (not saved): the K2 > 0 region of the paper (top) and its mirror image for
    K2 < 0 (bottom), each region shaded (nested: a point is entangled for every J2/J1 whose line
    lies below it, above it for K2 < 0; the more lines, the darker)."""
    from matplotlib.patches import Patch

    fig, (ax, bx) = cm.figure(nrows=2, sharex=True, figsize=(8.6, 7.6))
    for i, R in enumerate(RATIOS):
        c = f"C{i}"
        ok, okn = np.isfinite(kn[i]), np.isfinite(kneg[i])
        ax.fill_between(k1, kn[i], 1.0, where=ok, color=SHADE, alpha=0.07, lw=0)
        bx.fill_between(k1, -1.0, kneg[i], where=okn, color=SHADE, alpha=0.07, lw=0)
        ax.plot(k1, kn[i], color=c, label=rf"$J_2/J_1 = {R:g}$")
        bx.plot(k1, kneg[i], color=c)
    dash = dict(color="k", ls=(0, (3, 3)), lw=0.9)
    for i in range(len(RATIOS)):
        ax.plot(k1, ka[i], **dash, label="eq. (25)" if i == 0 else None)
        bx.plot(-k1, -ka[i], **dash)  # eq. (25) is even under (K1, K2) -> (-K1, -K2)
    ax.set_ylim(0.45, 1.0)
    bx.set_ylim(-1.0, -0.45)
    bx.set_xlim(-1, 1)
    bx.set_xlabel(r"$K_1/J_1$")
    for a in (ax, bx):
        a.set_ylabel(r"$K_2/J_2$")
    ax.set_title(
        r"$K_2 > 0$ (the paper's Fig. 3): entangled above each line", fontsize=11, loc="left"
    )
    bx.set_title(
        r"$K_2 < 0$: mirror image $(K_1, K_2) \to (-K_1, -K_2)$ (computed): entangled below",
        fontsize=11,
        loc="left",
    )
    fig.suptitle(
        r"Fig. 3: entangled steady states near $T_1, T_2 \to 0$ ($\xi = 0$, two baths)",
        fontsize=12,
    )
    handles, labels = ax.get_legend_handles_labels()
    handles.append(Patch(color=SHADE, alpha=0.25, lw=0))
    labels.append("entangled (shaded;\ndarker: already at\nsmaller $J_2/J_1$)")
    fig.legend(handles, labels, loc="outside right center")
    return fig


def plot(k1, kn, ka, kneg, out):
    return cm.save_figure(draw(k1, kn, ka, kneg), out, NAME)


def run(out="results", fast=False, progress=True) -> dict:
    """Compute, plot and check Fig. 3; see the module docstring."""
    t0 = time.perf_counter()
    bar = cm.bar(3, NAME, progress)
    k1 = np.clip(np.linspace(-1, 1, 101 if fast else 401), -1 + 1e-9, 1 - 1e-9)
    R = np.asarray(RATIOS)[:, None]
    kn, ka = boundaries(R, k1)  # (ratios, k1)
    kneg = negative_boundary(R, k1)  # K2 < 0: the mirror image of kn (checked below)
    bar.step("boundaries")
    kt = np.clip(np.linspace(-1, 1, 1001 if fast else 4001), -1 + 1e-9, 1 - 1e-9)
    R_num = threshold(numeric_lam, kt)
    R_ana = threshold(eq25, kt)
    bar.step("threshold J2/J1")
    figs = plot(k1, kn, ka, kneg, out)
    bar.step("figure")
    params = {
        "ratios J2/J1": list(RATIOS),
        "J1": 1.0,
        "xi": 0.0,
        "T_low": T_LOW,
        "approach x2/x1 (Boltzmann factors)": [str(r) for r in X_RATIOS],
        "criterion": "min over directions of lambda_- < 0; bisection in K2/J2 on [0, 1] "
        "(K2 > 0) and on [-1, 0] (K2 < 0)",
    }
    data = cm.save_data(
        out,
        NAME,
        params,
        k1=k1,
        ratios=np.asarray(RATIOS),
        k2_numeric=kn,
        k2_eq25=ka,
        k2_numeric_negative=kneg,
        threshold_numeric=R_num,
        threshold_eq25=R_ana,
    )
    png = figs[0]
    dev, only = {}, {}
    for i, Ri in enumerate(RATIOS):
        both = np.isfinite(kn[i]) & np.isfinite(ka[i])
        dev[Ri] = float(np.max(np.abs(kn[i] - ka[i])[both])) if both.any() else 0.0
        only[Ri] = int(np.sum(np.isfinite(kn[i]) != np.isfinite(ka[i])))
    worst = max(dev.values())
    dk = k1[1] - k1[0]
    area = {
        Ri: float(np.sum(1 - np.nan_to_num(kn[i], nan=1.0)) * dk) for i, Ri in enumerate(RATIOS)
    }
    a = list(area.values())
    mirror = -kn[:, ::-1]  # k1 is symmetric: column j of the reversed array is at -k1[j]
    both = np.isfinite(kneg) & np.isfinite(mirror)
    mirror_dev = float(np.max(np.abs(kneg - mirror)[both]))
    mirror_only = int(np.sum(np.isfinite(kneg) != np.isfinite(mirror)))
    claims = [
        cm.claim(
            "Eq. (25): entangled states near T1 = T2 = 0 iff (J1+J2)^2 - (K1+K2)^2 "
            "- |K1+K2| |K2 - K1 J2/J1| < 0 (Fig. 3 region, numerical vs analytic)",
            0.0,
            worst,
            "max |d(K2/J2)| < 1e-3 on the edge; <= 2 edge K1 points per J2/J1 where only one "
            "side finds entanglement",
            worst < 1e-3 and max(only.values()) <= 2,
            png,
            "max |d(K2/J2)| per J2/J1: "
            + ", ".join(f"{Ri:g}: {dev[Ri]:.1e} ({only[Ri]} edge pts)" for Ri in RATIOS),
        ),
        cm.claim(
            "Fig. 3: below a particular J2/J1 the state is separable near T = 0",
            "exists (no value quoted; smallest curve drawn: 2.4)",
            {"numeric": R_num, "eq25": R_ana},
            "threshold < 2.4 and numeric = eq. (25) within rel 1e-3",
            R_num < 2.4 and abs(R_num / R_ana - 1) < 1e-3,
            png,
            "eq. (25) gives J2/J1 = 2, approached for K1 -> J1, K2 -> J2",
        ),
        cm.claim(
            "Fig. 3: the region grows with J2 to an asymptotic size practically reached "
            "for J2 = 1000 J1",
            "increasing, saturated",
            a,
            "area increasing; area(1000)/area(100) - 1 < 5%",
            bool(np.all(np.diff(a) > 0) and a[-1] / a[-2] - 1 < 0.05),
            png,
            "area of the region in the (K1/J1, K2/J2) square, K2 > 0 (the same for K2 < 0)",
        ),
        cm.claim(
            "Sec. IV C 2: condition (25) is unchanged if the signs of both K1 and K2 are "
            "changed: the region for K2 < 0 is the mirror image of Fig. 3's",
            "(K1, K2) -> (-K1, -K2)",
            {"max |d(K2/J2)|": mirror_dev, "edge points": mirror_only},
            "max |K2_edge(K1) + K2_edge(-K1)|/J2 < 1e-9 (solver, both signs); <= 2 edge points "
            "per figure where only one side finds entanglement",
            mirror_dev < 1e-9 and mirror_only <= 2 * len(RATIOS),
            png,
            "bottom panel of the figure, computed by bisection of K2/J2 on [-1, 0]",
        ),
    ]
    summary = {
        "max_dev_mirror_K2<0": mirror_dev,
        "max_dev_vs_eq25": dev,
        "edge_mismatch": only,
        "area": area,
        "threshold_ratio_numeric": R_num,
        "threshold_ratio_eq25": R_ana,
    }
    return cm.result(NAME, claims, figs, data, summary, t0, params)
