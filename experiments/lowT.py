"""Sec. IV C 1: with K1 = 0 and xi = 0, entangled steady states exist near T1 = T2 = 0 iff
|K2| > J2/sqrt2 and J2 > J1 [sqrt2 |K2|/J2 - 1]^-1.

Checked against the solver on a grid of (K2/J2, J2/J1) (every point classified, points within
1% of the analytic boundary set aside), and boundary point by boundary point: geometric
bisection in J2/J1 for each K2/J2. "Near T = 0" is tested as in Fig. 3 (:mod:`experiments.fig3`):
lambda_- < 0 along some direction of approach at Boltzmann factors ~ 1e-11.

Example:
  >>> from jaxtls.experiments import lowT
  >>> bool(lowT.numeric_lam(0.9, 5.0) < 0), bool(lowT.numeric_lam(0.9, 2.0) < 0)
  (True, False)
"""

from __future__ import annotations

import time

import numpy as np

from . import _common as cm
from .fig3 import T_LOW, X_RATIOS
from .fig3 import numeric_lam as numeric_lam_k1

NAME = "lowT"


def analytic(kappa, R):
    """The paper's two conditions (K1 = 0, J1 = 1, J2 = R, kappa = K2/J2).

    Example:
      >>> from jaxtls.experiments.lowT import analytic
      >>> analytic([0.7, 0.9, 0.9], [1e6, 2.0, 5.0]).tolist()
      [False, False, True]
    """
    kappa = np.abs(np.asarray(kappa, np.float64))
    with np.errstate(divide="ignore"):
        return (kappa > 2**-0.5) & (np.asarray(R) > 1.0 / (np.sqrt(2) * kappa - 1))


def numeric_lam(kappa, R):
    """min of lambda_- over the directions of approach to T1 = T2 = 0 of Fig. 3 (K1 = 0)."""
    return numeric_lam_k1(0.0, kappa, R)


def run(out="results", fast=False, progress=True) -> dict:
    """Classify a grid, bisect the boundary, plot and check; see the module docstring."""
    t0 = time.perf_counter()
    bar = cm.bar(3, NAME, progress)
    n = 81 if fast else 241
    kap = np.linspace(-1.0, 1.0, 2 * n - 1)
    R = np.logspace(0, 2.5, n)
    KK, RR = np.meshgrid(kap, R, indexing="ij")
    num = numeric_lam(KK, RR) < 0
    ana = analytic(KK, RR)
    # set aside the points on the analytic boundary itself (within 1% in J2/J1)
    with np.errstate(divide="ignore", invalid="ignore"):
        Rb = np.where(np.abs(KK) > 2**-0.5, 1.0 / (np.sqrt(2) * np.abs(KK) - 1), np.inf)
        near = np.abs(np.log(RR / Rb)) < 0.01
    mismatch = (num != ana) & ~near
    bar.step("grid")
    # boundary J2/J1 for each |K2|/J2 > 1/sqrt2, both signs, by geometric bisection
    kb = np.linspace(0.72, 1.0, 29 if fast else 113)
    kb = np.concatenate([-kb[::-1], kb])
    lo, hi = np.full_like(kb, 1.0), np.full_like(kb, 1e4)
    Rnum = cm.bisect(lambda r: numeric_lam(kb, r), lo, hi, 60, log=True)
    Rana = 1.0 / (np.sqrt(2) * np.abs(kb) - 1)
    rel = np.abs(Rnum / Rana - 1)
    bar.step("boundary")

    fig, ax = cm.figure(figsize=(7.6, 4.6))
    ax.contourf(KK, RR, num.astype(float), levels=[0.5, 1.5], colors=["#9ecae1"], alpha=0.8)
    ax.plot([], [], "s", color="#9ecae1", ms=9, label="entangled near $T = 0$ (solver, grid)")
    half = kb.size // 2  # kb = (-k reversed, k): mark every 4th point, mirrored
    pts = np.concatenate([half - 1 - np.arange(0, half, 4), half + np.arange(0, half, 4)])
    ax.plot(kb[pts], Rnum[pts], "o", ms=3.5, color="C0", label=r"solver: root of $\lambda_-$")
    for sgn in (-1, 1):
        kk = sgn * np.linspace(2**-0.5 + 1e-3, 1, 400)
        lab = r"paper: $J_2 = J_1[\sqrt{2}|K_2|/J_2 - 1]^{-1}$" if sgn > 0 else None
        ax.plot(kk, 1 / (np.sqrt(2) * np.abs(kk) - 1), "k--", lw=1.3, label=lab)
        lab = r"$|K_2| = J_2/\sqrt{2}$" if sgn > 0 else None
        ax.axvline(sgn * 2**-0.5, color="0.4", ls=":", lw=1.2, label=lab)
    ax.set_yscale("log")
    ax.set_ylim(1, R[-1])
    ax.set_xlim(-1, 1)
    ax.set_xlabel(r"$K_2/J_2$")
    ax.set_ylabel(r"$J_2/J_1$  (log scale)")
    ax.set_title(r"Sec. IV C 1: low-$T$ entanglement region ($K_1 = 0$, $\xi = 0$)")
    ax.legend(loc="upper center", fontsize=9, framealpha=0.9, frameon=True)
    figs = cm.save_figure(fig, out, NAME)
    bar.step("figure")
    params = {
        "K1": 0.0,
        "xi": 0.0,
        "J1": 1.0,
        "T_low": T_LOW,
        "approach x2/x1 (Boltzmann factors)": [str(r) for r in X_RATIOS],
        "criterion": "min over directions of approach to T = 0 of lambda_- < 0 (as fig3)",
        "grid": {"K2/J2": [-1, 1, kap.size], "J2/J1": [1, 10**2.5, n, "log"]},
    }
    data = cm.save_data(
        out,
        NAME,
        params,
        kappa=kap,
        ratio=R,
        entangled_numeric=num,
        entangled_analytic=ana,
        kappa_boundary=kb,
        ratio_boundary_numeric=Rnum,
        ratio_boundary_analytic=Rana,
    )
    png = figs[0]
    claims = [
        cm.claim(
            "Sec. IV C 1: entanglement near T1 = T2 = 0 (K1 = 0, xi = 0) iff |K2| > J2/sqrt2 "
            "and J2 > J1 [sqrt2|K2|/J2 - 1]^-1 (grid classification)",
            0,
            int(mismatch.sum()),
            "0 mismatches off a 1% band around the boundary",
            int(mismatch.sum()) == 0,
            png,
            f"{num.size} grid points, K2/J2 in [-1, 1], J2/J1 in [1, 316]; "
            f"{int(near.sum())} in the band; {int(num.sum())} entangled",
        ),
        cm.claim(
            "Sec. IV C 1: the boundary J2/J1 = [sqrt2 |K2|/J2 - 1]^-1 (root finding)",
            "analytic",
            float(np.nanmax(rel)),
            "max rel. deviation < 1e-3",
            bool(np.all(np.isfinite(rel)) and np.nanmax(rel) < 1e-3),
            png,
            f"{kb.size} values of |K2|/J2 in [0.72, 1], both signs",
        ),
    ]
    summary = {
        "grid_points": int(num.size),
        "mismatches": int(mismatch.sum()),
        "boundary_max_rel_dev": float(np.nanmax(rel)),
    }
    return cm.result(NAME, claims, figs, data, summary, t0, params)
