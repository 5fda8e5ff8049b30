"""Detuning Delta_1 - Delta_2, sec. III B: the crossover from the correlated (here entangled)
steady state, for a detuning small against the rates, to the product state of eq. (13),
rho = rho_1 (x) rho_2, for a detuning large against the rates (still << Delta).

The detuning only rotates rho_23 (alpha -> alpha + i delta, end of sec. III B); jaxtls's general
solver and its closed form (with that substitution) are both evaluated on one log grid of
detunings, at the Fig. 4-like point T1 = 20 Delta, T2 = 0.1 Delta, K1 = 0, K2 = J2 = 1000 J1,
with weak couplings (J2 = 1e-4 Delta) so that every rate is << Delta.

Example:
  >>> from jaxtls.experiments import detuning
  >>> [round(float(p), 6) for p in detuning.product_state(20.0, 0.1, 1e-7, 1e-4)]
  [0.962762, 0.018443, 0.018443, 0.000353]
"""

from __future__ import annotations

import time

import numpy as np

from . import _common as cm

NAME = "detuning"
EPS = 1e-7  # weak coupling: J = EPS * (1, 1000), so all rates are << Delta
POINT = {"T1": 20.0, "T2": 0.1, "J1": 1.0 * EPS, "J2": 1000.0 * EPS, "K1": 0.0, "K2": 1000.0 * EPS}


def product_state(T1, T2, J1, J2):
    """Eq. (13): the populations of rho_1 (x) rho_2, rho_i = diag(g+, g-)/(g+ + g-) (identical
    TLS, symmetric coupling), in the order |++>, |+->, |-+>, |-->."""
    n1, n2 = 1 / np.expm1(1 / T1), 1 / np.expm1(1 / T2)
    gp, gm = J1 * (1 + n1) + J2 * (1 + n2), J1 * n1 + J2 * n2
    q, r = gp / (gp + gm), gm / (gp + gm)
    return np.array([q * q, q * r, q * r, r * r])


def rates(P=POINT):
    """``(gamma, r_up, scale)``: the emission rate g+, the slow upward rate J1 n1 that feeds the
    singlet, and ``sqrt(2 gamma r_up)``, our estimate of the crossover detuning (the psi+/psi-
    mixing rate detuning^2/(2 gamma) competes with r_up)."""
    n1, n2 = 1 / np.expm1(1 / P["T1"]), 1 / np.expm1(1 / P["T2"])
    gamma = P["J1"] * (1 + n1) + P["J2"] * (1 + n2)
    r_up = P["J1"] * n1
    return gamma, r_up, np.sqrt(2 * gamma * r_up)


def plot(det, Ng, Nc, dist, cabs, half, gamma, scale, out):
    fig, (ax, bx) = cm.figure(ncols=2, figsize=(11.5, 4.5))
    ax.semilogx(det, Ng, label="general solver")
    ax.semilogx(det, Nc, ls=(0, (4, 3)), label=r"closed form, $\alpha \to \alpha + i\delta$")
    ax.axvline(scale, color="0.3", ls="-.", lw=1, label=r"$\sqrt{2\gamma J_1 n_1}$ (estimate)")
    ax.axvline(gamma, color="0.5", ls=":", lw=1.2, label=r"$\gamma$ (emission rate)")
    ax.set_xlabel(r"detuning $\delta = \Delta_1-\Delta_2$ [$\Delta$]  (log scale)")
    ax.set_ylabel(r"negativity $\mathcal{N}$")
    ax.set_title(r"correlated state $\to$ product state")
    ax.legend(loc="lower left")
    bx.loglog(det, dist, label=r"$\mathrm{max}_k|p_k - p_k^{(13)}| + |\rho_{23}|$")
    bx.loglog(det, cabs, ls=(0, (4, 3)), label=r"$|\rho_{23}|$")
    bx.axvline(gamma, color="0.5", ls=":", lw=1.2, label=r"$\gamma$")
    bx.set_xlabel(r"detuning $\delta = \Delta_1-\Delta_2$ [$\Delta$]  (log scale)")
    bx.set_ylabel("distance to eq. (13)")
    bx.set_title(r"distance to the product state $\rho_1 \otimes \rho_2$ of eq. (13)")
    bx.legend(loc="lower left")
    fig.suptitle(
        rf"$T_1 = {POINT['T1']:g}\Delta$, $T_2 = {POINT['T2']:g}\Delta$, "
        r"$K_2 = J_2 = 1000J_1 = 10^{-4}\Delta$, $K_1 = 0$, $\xi = 0$",
        fontsize=12,
    )
    return cm.save_figure(fig, out, NAME)


def run(out="results", fast=False, progress=True) -> dict:
    """Compute, plot and check the detuning crossover; see the module docstring."""
    t0 = time.perf_counter()
    bar = cm.bar(3, NAME, progress)
    P = POINT
    det = np.logspace(-11, -2, 91 if fast else 361)
    args = (P["T1"], P["T2"], P["J1"], P["J2"], P["K1"], P["K2"], 0.0)
    dz = np.concatenate([det, [0.0]])  # the last point: no detuning
    og = cm.observe(*args, dz, solver="general")
    oc = cm.observe(*args, dz, solver="closed_form")
    Ng, Nc, N0 = og["N"][:-1], oc["N"][:-1], float(og["N"][-1])
    cabs = np.hypot(og["c_re"], og["c_im"])[:-1]
    prod = product_state(P["T1"], P["T2"], P["J1"], P["J2"])
    dist = np.max(np.abs(og["p"][:-1] - prod), axis=-1) + cabs
    gamma, r_up, scale = rates(P)
    half = float(
        cm.bisect(
            lambda d: np.maximum(-cm.lam(*args, d, solver="general"), 0.0) - N0 / 2,
            1e-11,
            1e-2,
            80,
            log=True,
        )
    )
    bar.step("states")
    figs = plot(det, Ng, Nc, dist, cabs, half, gamma, scale, out)
    bar.step("figure")
    params = dict(P, xi=0.0, detuning="log grid 1e-11 .. 1e-2 Delta", Delta=1.0)
    data = cm.save_data(
        out,
        NAME,
        params,
        detuning=det,
        N_general=Ng,
        N_closed=Nc,
        populations=og["p"][:-1],
        abs_c=cabs,
        product_state=prod,
        distance=dist,
    )
    png = figs[0]
    small = det <= 1e-3 * scale
    large = det >= 10 * gamma
    last = det >= 1e-3
    slope = float(np.polyfit(np.log(det[last]), np.log(dist[last]), 1)[0])
    agree_solvers = float(np.max(np.abs(Ng - Nc)))
    claims = [
        cm.claim(
            "Sec. III B: a detuning small against the rates keeps the correlated (entangled) state",
            N0,
            float(Ng[small][-1]),
            "rel 1e-4 for detuning <= 1e-3 sqrt(2 gamma J1 n1)",
            bool(np.all(np.abs(Ng[small] / N0 - 1) < 1e-4)),
            png,
            f"N without detuning: {N0:.6f}",
        ),
        cm.claim(
            "Sec. III B, eq. (13): for Delta_1 != Delta_2 (detuning >> rates) the steady "
            "state is the uncorrelated product rho_1 (x) rho_2",
            0.0,
            float(dist[-1]),
            "N = 0 for detuning >= 10 gamma; distance < 1e-3 at 100 gamma, falling like 1/detuning",
            bool(dist[-1] < 1e-3 and np.all(Ng[large] == 0) and -1.2 < slope < -0.8),
            png,
            f"log-log slope of the distance over the last decade: {slope:.3f} "
            "(|rho_23| ~ rates/detuning; the populations converge faster)",
        ),
        cm.claim(
            "Crossover where detuning^2/(2 gamma) ~ the slow rate J1 n1 (our estimate, not in "
            "the paper)",
            "O(1)",
            half / scale,
            "0.1 < detuning(N0/2) / sqrt(2 gamma J1 n1) < 10",
            bool(0.1 < half / scale < 10),
            png,
            f"detuning at N0/2 = {half:.3g} Delta; gamma = {gamma:.3g} Delta",
        ),
        cm.claim(
            "End of sec. III B: the detuning enters only as alpha -> alpha + i delta "
            "(closed form = general solver)",
            0.0,
            agree_solvers,
            "max |dN| < 1e-10",
            agree_solvers < 1e-10,
            png,
        ),
    ]
    summary = {
        "N0": N0,
        "detuning_half": half,
        "half_over_scale": half / scale,
        "gamma": gamma,
        "dist_at_max_detuning": float(dist[-1]),
        "dist_slope": slope,
        "closed_vs_general": agree_solvers,
    }
    bar.step("claims")
    return cm.result(NAME, claims, figs, data, summary, t0, params)
