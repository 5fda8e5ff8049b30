"""Fig. 2: boundary of the entanglement region in the (T1, T2) plane, K1 = 0.

The caption's six lines: solid K2 = J2 with J2/J1 = 5, 10, 50; dashed K2 = 0.72 J2, J2 = 500 J1;
dotted K2 = 0.8 J2, J2 = 150 J1; short-dashed Ohmic xi = 0.01 T1/Delta with K2 = J2 = 50 J1
(xi = 0 elsewhere). We add two thin reference lines: the equilibrium T1 = T2 and the
J2/J1 -> infinity limit of the K2 = J2 boundary, in closed form (derived here, see
:func:`experiments._common.limit_boundary_T2`).

Every boundary point is a root of lambda_- (the smallest eigenvalue of the partial transpose),
found by vectorised bisection to 2^-50 relative width, not read off a grid: the left branch
T2 = f(T1) by bisection in T2 on [0, T1] (T2 = T1 is equilibrium, hence separable) for T1 on a
log grid, and the nearly vertical right branch T1 = g(T2) by geometric bisection in T1 for T2
on a linear grid. Axes as in the paper (T1 horizontal, T2 vertical, units of Delta), T1 on a
log scale because the region extends to T1 ~ 0.16 Delta J2/J1.

Example:
  >>> from jaxtls.experiments import fig2
  >>> T1, T2, t1max = fig2.boundary(50.0, 1.0, 0.0, n=8)
  >>> round(t1max, 3), bool(T2.max() < 0.567)
  (7.998, True)
"""

from __future__ import annotations

import time

import numpy as np

from . import _common as cm

NAME = "fig2"
T2_PAPER = 0.567  # "always separable for T2 greater than a value of about 0.567 Delta"
# (legend label, as the caption names the line; J2/J1; K2/J2; xibar_1 (xi = xibar_1 T1); style)
CURVES = [
    (r"$K_2 = J_2 = 5J_1$", 5.0, 1.0, 0.0, "solid"),
    (r"$K_2 = J_2 = 10J_1$", 10.0, 1.0, 0.0, "solid"),
    (r"$K_2 = J_2 = 50J_1$", 50.0, 1.0, 0.0, "solid"),
    (r"$K_2 = 0.72J_2$, $J_2 = 500J_1$", 500.0, 0.72, 0.0, "dashed"),
    (r"$K_2 = 0.8J_2$, $J_2 = 150J_1$", 150.0, 0.8, 0.0, "dotted"),
    (r"Ohmic $\xi = 0.01T_1/\Delta$, $K_2 = J_2 = 50J_1$", 50.0, 1.0, 0.01, "short-dashed"),
]
COLORS = ["C0", "C1", "C2", "C3", "C4", "C2"]  # the Ohmic line shares its xi = 0 twin's colour


def theta_star(kappa=1.0):
    """T1 J1/(Delta J2) where eq. (26) (T2 -> 0, J2/J1 -> infinity) stops being entangled."""

    def f(th):
        p1, _, p4, c = cm.eq26(th, kappa)
        return p1 * p4 - c * c

    return float(cm.bisect(f, 1e-6, 10.0, 100, log=True))


def _lam(T1, T2, R, kappa, xibar):
    return cm.lam(T1, T2, 1.0, R, 0.0, kappa * R, xibar * np.asarray(T1))


def t1_max(R, kappa=1.0, xibar=0.0, T2=0.0, n_iter=50):
    """Largest entangled T1 at ``T2`` (vectorised over ``R``, ``kappa``, ``xibar``): a log scan
    up to 10 Delta J2/J1 (or 1e4 Delta / xibar) locates the last sign change, bisection refines
    it. NaN where nothing is entangled."""
    R, kappa, xibar = np.broadcast_arrays(*(np.asarray(x, np.float64) for x in (R, kappa, xibar)))
    top = np.minimum(10 * R, np.where(xibar > 0, 1e4 / np.where(xibar > 0, xibar, 1), np.inf))
    u = np.linspace(0, 1, 400)
    scan = np.exp(np.log(1e-2) + u * (np.log(top)[..., None] - np.log(1e-2)))
    ent = _lam(scan, T2, R[..., None], kappa[..., None], xibar[..., None]) < 0
    last = np.where(ent.any(-1), ent.shape[-1] - 1 - np.argmax(ent[..., ::-1], -1), 0)
    last = np.minimum(last, ent.shape[-1] - 2)
    lo = np.take_along_axis(scan, last[..., None], -1)[..., 0]
    hi = np.take_along_axis(scan, last[..., None] + 1, -1)[..., 0]
    t = cm.bisect(lambda t1: _lam(t1, T2, R, kappa, xibar), lo, hi, n_iter, log=True)
    return np.where(ent.any(-1), t, np.nan)


def boundary(R, kappa, xibar, n=80, n_iter=50):
    """One line of Fig. 2: ``(T1, T2, T1max)``, the points ordered along the line from the
    origin, and the largest entangled T1 (at T2 = 0).

    The left branch T2 = f(T1) is sampled on a log grid of T1, refined where f is above 80% of
    its maximum (the top of the line, ``(T1*, T2*)``); the right branch T1 = g(T2) on
    ``T2 = T2* (1 - s^2)``, ``s`` uniform, which is uniform in log T1 near the top (where
    ``g - T1* ~ sqrt(T2* - T2)``): the two branches meet at the top without a gap."""
    t1max = float(t1_max(R, kappa, xibar, 0.0, n_iter))
    if not np.isfinite(t1max):
        return np.zeros(0), np.zeros(0), np.nan

    def left(T1):  # lambda_- < 0 at T2 = 0, > 0 at T2 = T1 (equilibrium)
        return cm.bisect(lambda t2: _lam(T1, t2, R, kappa, xibar), np.zeros_like(T1), T1, n_iter)

    T1 = np.logspace(-2, np.log10(t1max), n)[:-1]
    f = left(T1)
    k = int(np.nanargmax(f))
    # refine the top (f above 80% of its maximum, and a grid cell either side): 2 n points
    top = np.flatnonzero(f >= 0.8 * f[k])
    fine = np.geomspace(T1[max(top[0] - 1, 0)], T1[min(top[-1] + 1, T1.size - 1)], 2 * n)
    T1 = np.unique(np.concatenate([T1, fine]))
    f = left(T1)
    k = int(np.nanargmax(f))
    # right branch T1 = g(T2), from the top down to T2 = 0; entangled at (T1*, T2 < T2*)
    s = np.linspace(0.0, 1.0, n)[1:]
    T2r = f[k] * (1 - s * s)
    lo, hi = np.full_like(T2r, T1[k]), np.full_like(T2r, 4 * t1max)
    g = cm.bisect(lambda t1: _lam(t1, T2r, R, kappa, xibar), lo, hi, n_iter, log=True)
    T1c = np.concatenate([T1[: k + 1], g])
    T2c = np.concatenate([f[: k + 1], T2r])
    good = np.isfinite(T1c) & np.isfinite(T2c)
    return T1c[good], T2c[good], t1max


def plot(curves, out):
    """The figure: the caption's lines, the equilibrium line and the J2/J1 -> inf limit."""
    fig, ax = cm.figure(figsize=(8.6, 4.8))
    for (label, *_r, style), color, (T1c, T2c, _) in zip(CURVES, COLORS, curves, strict=True):
        z = 2.0 if style == "solid" else 2.5  # broken lines on top: visible where they overlap
        ax.plot(T1c, T2c, ls=cm.LINESTYLES[style], color=color, label=label, zorder=z)
    x = np.logspace(-2, np.log10(30), 300)
    ax.plot(
        x,
        cm.limit_boundary_T2(x),
        color=cm.LIMIT_COLOR,
        lw=1.0,
        ls=cm.LINESTYLES["dash-dotted"],
        label=r"$K_2 = J_2$, $J_2/J_1 \to \infty$ (closed form)",
    )
    ax.plot(x, x, color="0.65", lw=0.9, label=r"equilibrium $T_1 = T_2$")
    ax.axhline(T2_PAPER, color=cm.LIMIT_COLOR, lw=0.8, ls=":")
    ax.text(0.0115, T2_PAPER + 0.008, r"$0.567\,\Delta$ (paper)", fontsize=9, color="0.3")
    ax.set_xscale("log")
    ax.set_xlim(1e-2, 30)
    ax.set_ylim(0, 0.62)
    ax.set_xlabel(r"$T_1$ [$\Delta$]  (log scale)")
    ax.set_ylabel(r"$T_2$ [$\Delta$]")
    ax.set_title(r"Fig. 2: entangled below each line ($K_1 = 0$; $\xi = 0$ unless Ohmic)")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return cm.save_figure(fig, out, NAME)


def run(out="results", fast=False, progress=True) -> dict:
    """Compute, plot and check Fig. 2; see the module docstring."""
    t0 = time.perf_counter()
    n = 40 if fast else 160
    bar = cm.bar(len(CURVES) + 1, NAME, progress)
    curves, arrays = [], {}
    for i, (_label, R, kappa, xibar, _style) in enumerate(CURVES):
        T1c, T2c, t1max = boundary(R, kappa, xibar, n=n)
        curves.append((T1c, T2c, t1max))
        arrays[f"curve{i}_T1"], arrays[f"curve{i}_T2"] = T1c, T2c
        bar.step(f"line {i + 1}")
    # T1 max at T2 = 0 versus J2/J1 (growth like Delta J2/J1) and versus xibar_1 (Ohmic)
    ratios = np.array([5.0, 10.0, 50.0, 500.0, 5e3, 5e4])
    t1max_r = t1_max(ratios)
    th_star = theta_star(1.0)
    xibars = np.array([1e-1, 1e-2, 1e-3, 1e-4])
    t1max_xi = t1_max(1e9, 1.0, xibars)
    # approach of the K2 = J2 lines to the J2/J1 -> infinity closed form (left branch)
    T1l = np.array([0.05, 0.2, 1.0, 3.0])
    lim = cm.limit_boundary_T2(T1l)
    big = np.array([50.0, 1e3, 1e6])
    t2_big = cm.bisect(
        lambda t2: _lam(T1l, t2, big[:, None], 1.0, 0.0),
        np.zeros((3, 4)),
        np.broadcast_to(T1l, (3, 4)),
        50,
    )
    bar.step("T1 max, limits")
    figs = plot(curves, out)
    params = {
        "K1": 0.0,
        "J1": 1.0,
        "Delta": 1.0,
        "root finding": "vectorised bisection on sign(lambda_-), 50 halvings",
        "axes": "T1 (log scale), T2 (linear), units of Delta",
        "curves": [
            {"label": c[0], "J2/J1": c[1], "K2/J2": c[2], "xibar_1": c[3], "style": c[4]}
            for c in CURVES
        ],
    }
    arrays.update(
        ratios=ratios,
        t1max_T2_0=t1max_r,
        xibar_1=xibars,
        t1max_vs_xibar_at_ratio_1e9=t1max_xi,
        limit_T1=T1l,
        limit_T2_closed_form=lim,
        limit_T2_numeric=t2_big,
    )
    data = cm.save_data(out, NAME, params, **arrays)
    png = figs[0]

    t2max = [float(np.max(c[1])) for c in curves]
    solid = [curves[i][2] for i in range(3)]
    scaled = t1max_r / ratios
    # tangency at T1, T2 -> 0: 1/T2 - 1/T1 tends to a constant (Boltzmann factors), so
    # T2/T1 -> 1; compare it at the two lowest T1 of each xi = 0 line
    gap = [(1 / c[1][:2] - 1 / c[0][:2]).tolist() for c in curves[:5]]
    gap_change = max(abs(g[1] / g[0] - 1) for g in gap)
    tang = [float(c[1][0] / c[0][0]) for c in curves[:5]]
    # verticality of the right end, K2 = J2 = 50 J1: T1 at T2 = 0.1 against T2 = 0
    T1c, T2c, t1m = curves[2]
    right = T1c > T1c[np.argmax(T2c)]
    t1_at_01 = float(np.interp(0.1, T2c[right][::-1], T1c[right][::-1]))
    ohm = curves[5][2]
    claims = [
        cm.claim(
            "Fig. 2: the region grows with J2 (solid lines, K2 = J2, J2/J1 = 5, 10, 50)",
            "increasing",
            {"T1max": solid, "T2max": t2max[:3]},
            "T1max and T2max strictly increasing",
            bool(np.all(np.diff(solid) > 0) and np.all(np.diff(t2max[:3]) > 0)),
            png,
        ),
        cm.claim(
            "Sec. IV C 1: for xi = 0 the maximum T1 is proportional to Delta J2/J1 "
            "in the large J2 limit (K2 = J2, T2 -> 0)",
            "T1max J1/(Delta J2) -> const",
            {"J2/J1": ratios, "T1max J1/(Delta J2)": scaled},
            f"rel 1e-3 at J2/J1 = 5e4 against theta* = {th_star:.6f} from eq. (26)",
            abs(scaled[-1] / th_star - 1) < 1e-3,
            png,
            "theta* solves p1 p4 = c^2 in eq. (26) with kappa = 1",
        ),
        cm.claim(
            "Fig. 2: the line is tangent to the equilibrium line T1 = T2 for T1, T2 -> 0",
            "T2/T1 -> 1",
            {"T2/T1 at T1 = 0.01": tang, "1/T2 - 1/T1": [g[0] for g in gap]},
            "T2/T1 > 0.9 at T1 = 0.01 Delta and 1/T2 - 1/T1 constant within 5% "
            "between the two lowest T1",
            bool(min(tang) > 0.9 and gap_change < 0.05),
            png,
            "1/T2 - 1/T1 -> const means T1 - T2 = O(T1^2): the temperatures enter only via "
            "Boltzmann factors; the J2/J1 -> inf closed form gives const = ln 3",
        ),
        cm.claim(
            "Fig. 2: the line is essentially vertical at its other end for T2 << Delta",
            0.0,
            abs(t1_at_01 / t1m - 1),
            "rel change of T1 between T2 = 0 and T2 = 0.1 Delta < 1e-3",
            abs(t1_at_01 / t1m - 1) < 1e-3,
            png,
            "K2 = J2 = 50 J1",
        ),
        cm.claim(
            "Sec. IV C 1: always separable for T2 above about 0.567 Delta (every line of Fig. 2 "
            "stays below it)",
            T2_PAPER,
            max(t2max),
            "max T2 on all lines < 0.567",
            max(t2max) < T2_PAPER,
            png,
            "the threshold itself is computed by the experiment t2_threshold",
        ),
        cm.claim(
            "Fig. 2: the Ohmic line (xi = 0.01 T1/Delta) lies inside the xi = 0 line",
            f"< {solid[2]:.4g}",
            ohm,
            "T1max(Ohmic) < T1max(xi = 0), same couplings",
            bool(ohm < solid[2]),
            png,
        ),
        cm.claim(
            "Sec. IV C 1: for xi = xibar_1 T1 the state is separable above a T1 that diverges "
            "for xibar_1 -> 0",
            "T1max finite, -> inf as xibar_1 -> 0",
            {"xibar_1": xibars, "T1max": t1max_xi, "T1max xibar_1": t1max_xi * xibars},
            "T1max finite and increasing as xibar_1 decreases (J2/J1 = 1e9, K2 = J2)",
            bool(np.all(np.isfinite(t1max_xi)) and np.all(np.diff(t1max_xi) > 0)),
            png,
            "T1max ~ 0.61 Delta/xibar_1: entanglement dies once xi = xibar_1 T1 ~ 0.6",
        ),
        cm.claim(
            "Closed form derived here: for J2/J1 -> inf the K2 = J2 line tends to "
            "x^2 - 3(1+y) x + y = 0, x = exp(-Delta/T2), y = exp(-Delta/T1)",
            "(not in the paper)",
            {"T1": T1l, "closed form": lim, "solver J2/J1 = 1e6": t2_big[-1]},
            "abs 1e-5 at J2/J1 = 1e6; lines at J2/J1 = 50, 1e3 below it",
            bool(
                np.max(np.abs(t2_big[-1] - lim)) < 1e-5 and np.all(t2_big[:-1] < lim[None] + 1e-12)
            ),
            png,
            "thin dash-dotted line of the figure; its T1 -> inf limit is the T2 threshold",
        ),
    ]
    summary = {
        "T1max_T2=0": {c[0]: cu[2] for c, cu in zip(CURVES, curves, strict=True)},
        "T2max": dict(zip([c[0] for c in CURVES], t2max, strict=True)),
        "T1max_J1/J2_vs_ratio": dict(zip(ratios.tolist(), scaled.tolist(), strict=True)),
        "theta_star_eq26": th_star,
        "tangency_T2/T1": tang,
        "T1max_vs_xibar_1": dict(zip(xibars.tolist(), t1max_xi.tolist(), strict=True)),
        "limit_boundary_max_dev_1e6": float(np.max(np.abs(t2_big[-1] - lim))),
        "n_caption_lines": len(CURVES),
    }
    return cm.result(NAME, claims, figs, data, summary, t0, params)
