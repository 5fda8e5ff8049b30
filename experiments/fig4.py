"""Fig. 4: negativity versus T1 (T2 = 0.1 Delta, K1 = 0, xi = 0) for the caption's four coupling
sets, the large-J2 approximation eq. (26) dotted, and an inset with the populations of the ground
state |1> = |++> and of the singlet |psi->.

The horizontal axis is theta = (T1/Delta)(J1/J2) of eq. (26), i.e. T1 in units of Delta J2/J1
(the caption's "in units of Delta J1/J2" must be read that way: entanglement ends at
theta ~ 0.157, the T1 max ~ 0.157 Delta J2/J1 of Fig. 2).

The solver's states lie on one flat grid of theta = T1 J1/(Delta J2) for all four sets (one
jitted call). Eq. (26) is also checked as a limit: its distance to the solver's state shrinks
like J1/J2 (at T2 = 0.02 Delta, where the T2 corrections are negligible).

Example:
  >>> from jaxtls.experiments import fig4
  >>> theta, rows, approx = fig4.compute(fast=True)
  >>> rows["N"].shape == (4, theta.size), bool(rows["N"].max() < 0.0394)
  (True, True)
"""

from __future__ import annotations

import time

import numpy as np

from . import _common as cm

NAME = "fig4"
T2 = 0.1
# (legend label as the caption names the line, J2/J1, K2/J2, the caption's line style)
CURVES = [
    (r"$K_2 = J_2 = 100J_1$", 100.0, 1.0, "short-dashed"),
    (r"$K_2 = J_2 = 1000J_1$", 1000.0, 1.0, "solid"),
    (r"$K_2 = 0.95J_2 = 9.5J_1$", 10.0, 0.95, "dash-dotted"),
    (r"$K_2 = 0.95J_2 = 95J_1$", 100.0, 0.95, "dashed"),
]
INSET = (3, 0, 1)  # the caption's inset: 0.95 J2 = 95 J1, J2 = 100 J1, J2 = 1000 J1 (checked
# claim; the figure's inset shows every curve)
LIMIT_RATIOS = np.array([1e4, 1e6, 1e8])  # convergence of the solver to eq. (26)


def compute(fast=False):
    """``(theta, rows, approx)``: the grid, the solver's ``observe`` dict with a leading axis
    over :data:`CURVES`, and eq. (26)'s negativity for kappa = 1 and 0.95."""
    n = 150 if fast else 600
    theta = np.unique(np.concatenate([np.logspace(-4, -1, n), np.linspace(0.1, 0.2, n // 3)]))
    R = np.array([c[1] for c in CURVES])[:, None]
    kappa = np.array([c[2] for c in CURVES])[:, None]
    rows = cm.observe(theta * R, T2, 1.0, R, 0.0, kappa * R)
    approx = {}
    for k in (1.0, 0.95):
        p1, _, p4, c = cm.eq26(theta, k)
        approx[k] = cm.x_negativity(p1, p4, c)
    return theta, rows, approx


def eq26_distance(ratios=LIMIT_RATIOS, T2_low=0.02, kappa=1.0):
    """max over theta in [0.01, 0.2] of the largest entry of |rho_solver - rho_eq26|."""
    theta = np.geomspace(0.01, 0.2, 60)
    R = np.asarray(ratios)[:, None]
    o = cm.observe(theta * R, T2_low, 1.0, R, 0.0, kappa * R)
    p1, p2, p4, c = cm.eq26(theta, kappa)
    diff = [o["p"][..., 0] - p1, o["p"][..., 1] - p2, o["p"][..., 3] - p4, o["c_re"] - c]
    return np.max(np.abs(np.stack(diff)), axis=(0, 2))


def draw(theta, rows, approx):
    """The figure (not saved): N for every curve of :data:`CURVES`, eq. (26) dotted, and the
    inset with the populations of |1> = |++> (upper curves) and of the singlet psi- (lower
    curves) for every curve, with its own legend."""
    fig, ax = cm.figure(figsize=(8.6, 4.9))
    for i, (label, _R, _kappa, style) in enumerate(CURVES):
        ax.plot(theta, rows["N"][i], ls=cm.LINESTYLES[style], label=label)
    colors = [ln.get_color() for ln in ax.lines]
    for k, lab in ((1.0, r"eq. (26), $K_2 = J_2$"), (0.95, r"eq. (26), $K_2 = 0.95J_2$")):
        color = "k" if k == 1 else "0.45"
        ax.plot(theta, approx[k], ls=cm.LINESTYLES["dotted"], color=color, lw=1.3, label=lab)
    ax.axhline(cm.SUP, color=cm.LIMIT_COLOR, lw=0.8)
    ax.text(0.012, cm.SUP + 0.0006, r"$(\sqrt{5}-2)/6$", color="0.3", fontsize=9, ha="left")
    ax.set_xlabel(r"$\theta = T_1J_1/(\Delta J_2)$   ($T_1$ in units of $\Delta J_2/J_1$)")
    ax.set_ylabel(r"negativity $\mathcal{N}$")
    ax.set_ylim(0, 0.0445)
    ax.set_xlim(0, 0.2)
    ax.set_title(r"Fig. 4: $T_2 = 0.1\Delta$, $K_1 = 0$, $\xi = 0$ ($\Delta = 1$)")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0))
    ins = ax.inset_axes([0.5, 0.4, 0.48, 0.47])
    for i, (label, _R, _kappa, style) in enumerate(CURVES):
        kw = dict(ls=cm.LINESTYLES[style], color=colors[i], lw=1.2)
        ins.plot(theta, rows["bell"][i, :, 0], label=label, **kw)
        ins.plot(theta, rows["bell"][i, :, 2], **kw)
    ins.set_xlim(0, 0.2)
    ins.set_ylim(0, 1)
    ins.tick_params(labelsize=8)
    ins.set_xlabel(r"$\theta$", fontsize=8, labelpad=1)
    ins.set_ylabel("population", fontsize=8)
    ins.text(0.198, 0.9, r"ground $|1\rangle = |{+}{+}\rangle$", fontsize=8, ha="right")
    ins.text(0.198, 0.04, r"singlet $|\psi_-\rangle$", fontsize=8, ha="right")
    ins.set_xticks([0, 0.05, 0.1, 0.15, 0.2])
    # legend in the empty band between the two families (ground >= 0.58, singlet <= 0.33)
    ins.legend(
        fontsize=6.5,
        loc="upper right",
        bbox_to_anchor=(0.995, 0.555),
        ncol=2,
        handlelength=2.2,
        columnspacing=0.8,
        borderaxespad=0.2,
    )
    ins.grid(alpha=0.3)
    return fig


def plot(theta, rows, approx, out):
    return cm.save_figure(draw(theta, rows, approx), out, NAME)


def run(out="results", fast=False, progress=True) -> dict:
    """Compute, plot and check Fig. 4; see the module docstring."""
    t0 = time.perf_counter()
    bar = cm.bar(3, NAME, progress)
    theta, rows, approx = compute(fast)
    dist = eq26_distance()
    bar.step("states")
    figs = plot(theta, rows, approx, out)
    bar.step("figure")
    arrays = {"theta": theta, "N": rows["N"], "bell": rows["bell"], "p": rows["p"]}
    arrays.update(c=rows["c_re"], eq26_N_kappa1=approx[1.0], eq26_N_kappa095=approx[0.95])
    arrays.update(limit_ratios=LIMIT_RATIOS, eq26_distance=dist)
    params = {
        "T2": T2,
        "K1": 0.0,
        "xi": 0.0,
        "J1": 1.0,
        "x axis": "theta = T1 J1 / (Delta J2)",
        "arrays": "N, bell (|++>, psi+, psi-, |-->), p (|++>, |+->, |-+>, |-->), c: "
        "leading axis over the curves",
        "curves": [{"label": c[0], "J2/J1": c[1], "K2/J2": c[2], "style": c[3]} for c in CURVES],
        "eq26 limit check": {"T2": 0.02, "theta": [0.01, 0.2], "J2/J1": LIMIT_RATIOS},
    }
    data = cm.save_data(out, NAME, params, **arrays)
    fig = figs[0]

    N, bell = rows["N"], rows["bell"]
    i = int(np.nanargmax(N[1]))
    n_max = float(N[1, i])
    order = [float(np.nanmax(N[j])) for j in range(len(CURVES))]
    sel = theta >= 0.05  # Delta << T1 for both J2/J1 = 100 and 1000
    dev = float(np.nanmax(np.abs(N[1, sel] - approx[1.0][sel])))
    dev95 = float(np.nanmax(np.abs(N[3, sel] - approx[0.95][sel])))
    slope = float(np.polyfit(np.log(LIMIT_RATIOS), np.log(dist), 1)[0])
    two = []
    for j in INSET:
        ent = N[j] > 1e-4
        two.append(float(np.min((bell[j, :, 0] + bell[j, :, 2])[ent])))
    claims = [
        cm.claim(
            "Fig. 4: N grows with J2 (K2 = J2 = 100 J1 < 1000 J1) and stays below "
            "(sqrt5-2)/6 ~ 0.04",
            f"< {cm.SUP:.6f}",
            n_max,
            "N(100 J1) < N(1000 J1) < (sqrt5-2)/6",
            order[0] < n_max < cm.SUP,
            fig,
            f"max N(1000 J1) at T1 = {theta[i]:.3g} Delta J2/J1; max N(100 J1) = "
            f"{order[0]:.4f}; the limit (sqrt5-2)/6 itself: experiment 'maximum'",
        ),
        cm.claim(
            "Fig. 4 / sec. IV C 3: at the maximum the state is close to 2/3 |++> + 1/3 |psi->",
            [2 / 3, 1 / 3],
            [float(bell[1, i, 0]), float(bell[1, i, 2])],
            "abs 0.02 (K2 = J2 = 1000 J1)",
            abs(bell[1, i, 0] - 2 / 3) < 0.02 and abs(bell[1, i, 2] - 1 / 3) < 0.02,
            fig,
        ),
        cm.claim(
            "Fig. 4: eq. (26) (dotted) follows K2 = J2 = 1000 J1 where Delta << T1",
            0.0,
            dev,
            "max |dN| < 1e-3 for T1 >= 0.05 Delta J2/J1",
            dev < 1e-3,
            fig,
        ),
        cm.claim(
            "Fig. 4: eq. (26) (dotted) follows K2 = 0.95 J2 = 95 J1 where Delta << T1",
            0.0,
            dev95,
            "max |dN| < 2e-3 for T1 >= 0.05 Delta J2/J1",
            dev95 < 2e-3,
            fig,
            "J2/J1 = 100 only: eq. (26) is the J2/J1 -> infinity limit",
        ),
        cm.claim(
            "Eq. (26) is the large-J2 limit of the steady state (T2 << Delta << T1)",
            "-> 0 as J1/J2 -> 0",
            {"J2/J1": LIMIT_RATIOS, "max |rho - rho_eq26|": dist},
            "< 1e-5 at J2/J1 = 1e8, decreasing like (J2/J1)^-1 (slope -1 +- 0.1)",
            bool(dist[-1] < 1e-5 and abs(slope + 1) < 0.1),
            fig,
            f"T2 = 0.02 Delta, K2 = J2, theta in [0.01, 0.2]; log-log slope {slope:.3f}",
        ),
        cm.claim(
            "Fig. 4 inset / sec. IV C 3: where N > 0 essentially only the ground state and the "
            "singlet are populated",
            "the two other populations are small",
            min(two),
            "p(|++>) + p(psi-) >= 0.85 wherever N > 1e-4 (inset curves)",
            min(two) >= 0.85,
            fig,
        ),
    ]
    summary = {
        "N_max_K2=J2=1000J1": n_max,
        "theta_at_max": float(theta[i]),
        "eq26_max_dev_1000": dev,
        "eq26_max_dev_95": dev95,
        "eq26_distance_vs_ratio": dict(zip(LIMIT_RATIOS.tolist(), dist.tolist(), strict=True)),
        "N_max_per_curve": dict(zip([c[0] for c in CURVES], order, strict=True)),
    }
    bar.step("claims")
    return cm.result(NAME, claims, figs, data, summary, t0, params)
