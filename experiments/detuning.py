"""Detuning Delta_1 - Delta_2: crossover from the correlated steady state (detuning small
against the rates) to the product state of eq. (13) (detuning large against the rates, still
<< Delta), sec. III B. The detuning enters as alpha -> alpha + i delta."""

from __future__ import annotations

import time

import numpy as np

from . import _common as cm

NAME = "detuning"
EPS = 1e-7  # weak coupling: couplings J = EPS * (1, 1000), so all rates are << Delta
POINT = {"T1": 20.0, "T2": 0.1, "J1": 1.0 * EPS, "J2": 1000.0 * EPS, "K1": 0.0, "K2": 1000.0 * EPS}


def product_state(T1, T2, J1, J2):
    """Eq. (13): rho_1 (x) rho_2 with rho_i = diag(g+, g-)/(g+ + g-) (identical TLS)."""
    n1, n2 = 1 / np.expm1(1 / T1), 1 / np.expm1(1 / T2)
    gp, gm = J1 * (1 + n1) + J2 * (1 + n2), J1 * n1 + J2 * n2
    q, r = gp / (gp + gm), gm / (gp + gm)
    return np.array([q * q, q * r, q * r, r * r])


def run(out="results", fast=False, progress=True) -> dict:

    t0 = time.perf_counter()
    lam = cm.lam
    P = POINT
    det = np.logspace(-11, -2, 91 if fast else 361)
    args = (P["T1"], P["T2"], P["J1"], P["J2"], P["K1"], P["K2"], 0.0)
    dz = np.concatenate([det, [0.0]])  # the last point: no detuning
    og = cm.observe(*args, dz, method="general")
    oc = cm.observe(*args, dz, method="closed_form")
    Ng, Nc, N0 = og["N"][:-1], oc["N"][:-1], float(og["N"][-1])
    pops = og["p"][:-1]
    cabs = np.hypot(og["c_re"], og["c_im"])[:-1]
    prod = product_state(P["T1"], P["T2"], P["J1"], P["J2"])
    dist = np.max(np.abs(pops - prod), axis=-1) + cabs
    n1 = 1 / np.expm1(1 / P["T1"])
    gamma = P["J1"] * (1 + n1) + P["J2"] * (1 + 1 / np.expm1(1 / P["T2"]))
    r_up = P["J1"] * n1  # the slow rate |1> -> psi- that sets the singlet's weight
    scale = np.sqrt(2 * gamma * r_up)  # detuning^2/Gamma ~ r_up: psi+/psi- mixing wins
    half = float(
        cm.bisect(
            lambda d: np.maximum(-np.asarray(lam(*args, d, method="general")), 0.0) - N0 / 2,
            1e-11,
            1e-2,
            80,
            log=True,
        )
    )

    fig, (ax, bx) = cm.figure(ncols=2, figsize=(10, 4.2))
    ax.semilogx(det, Ng, label="general solver")
    ax.semilogx(det, Nc, ls="--", label="closed form, α → α + iδ")
    ax.axvline(half, color="0.5", ls=":", lw=1)
    ax.axvline(scale, color="0.3", ls="-.", lw=1, label=r"$\sqrt{2\gamma\, J_1 n_1}$")
    ax.set_xlabel(r"detuning $\Delta_1-\Delta_2$ [$\Delta$]  (log scale)")
    ax.set_ylabel(r"negativity $\mathcal{N}$")
    ax.set_title("N vs detuning")
    ax.legend(loc="lower left")
    bx.loglog(det, dist)
    bx.axvline(gamma, color="0.5", ls=":", lw=1, label=r"$\gamma$ (emission rate)")
    bx.set_xlabel(r"detuning $\Delta_1-\Delta_2$ [$\Delta$]  (log scale)")
    bx.set_ylabel(r"max$|p_k - p_k^{(13)}| + |\rho_{23}|$")
    bx.set_title("distance to the product state of eq. (13)")
    bx.legend(loc="lower left")
    fig.suptitle(
        rf"$T_1 = {P['T1']:g}\Delta$, $T_2 = {P['T2']:g}\Delta$, "
        rf"$K_2 = J_2 = 1000 J_1 = 10^{{-4}}\Delta$, $K_1 = 0$, $\xi = 0$",
        fontsize=11,
    )
    figs = cm.save_figure(fig, out, NAME)
    params = dict(P, xi=0.0, detuning="log grid 1e-11 .. 1e-2 Delta")
    data = cm.save_data(
        out,
        NAME,
        params,
        detuning=det,
        N_general=Ng,
        N_closed=Nc,
        populations=pops,
        abs_c=cabs,
        product_state=prod,
        distance=dist,
    )
    png = figs[0]
    small = det <= 1e-3 * scale
    large = det >= 1e-3
    last = det >= 1e-3
    slope = float(np.polyfit(np.log(det[last]), np.log(dist[last]), 1)[0])
    claims = [
        cm.claim(
            "Sec. III B: detuning small against the rates keeps the correlated state",
            N0,
            float(Ng[small][-1]),
            "rel 1e-4 for detuning <= 1e-3 sqrt(2 gamma J1 n1)",
            bool(np.all(np.abs(Ng[small] / N0 - 1) < 1e-4)),
            png,
        ),
        cm.claim(
            "Sec. III B / eq. (13): Delta_1 != Delta_2 (detuning >> rates) gives the "
            "uncorrelated product state",
            0.0,
            float(dist[-1]),
            "N = 0 for detuning >= 10 gamma; distance < 1e-3 at 100 gamma, falling like 1/detuning",
            bool(dist[-1] < 1e-3 and np.all(Ng[large] == 0) and -1.2 < slope < -0.8),
            png,
            f"log-log slope of the distance over the last decade: {slope:.3f} "
            "(|rho_23| ~ rates/detuning, populations converge faster)",
        ),
        cm.claim(
            "Crossover where detuning^2 / Gamma ~ slow rate J1 n1 (our estimate)",
            "O(1)",
            half / scale,
            "0.1 < detuning(N0/2) / sqrt(2 gamma J1 n1) < 10",
            bool(0.1 < half / scale < 10),
            png,
            f"detuning at N0/2 = {half:.3g} Delta",
        ),
        cm.claim(
            "Closed form with alpha -> alpha + i delta equals the general solver",
            0.0,
            float(np.max(np.abs(Ng - Nc))),
            "max |dN| < 1e-10",
            bool(np.max(np.abs(Ng - Nc)) < 1e-10),
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
    }
    return cm.result(NAME, claims, figs, data, summary, t0, params)
