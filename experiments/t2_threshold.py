"""The highest T2 with an entangled steady state (K1 = 0, xi = 0, K2 = J2, T1 free), as a function
of J2/J1 and in the limit J2/J1 -> infinity; the paper: "always separable for T2 greater than a
value of about 0.567 Delta".

Result: T2* = Delta / (2 ln(1 + sqrt 2)) = 0.56729633 Delta, i.e. coth(Delta/2T2*) = sqrt 2, or
exp(-Delta/T2*) = (sqrt 2 - 1)^2 = 3 - 2 sqrt 2.

Analytic form (derived here; see :func:`experiments._common.limit_state`). For J2 >> J1 and
K2 = J2, bath 2 couples |++>, psi+ and |--> strongly and leaves the singlet psi- dark: those
three states are thermal at T2, with weights 1 : x : x^2, x = exp(-Delta/T2). Bath 1 (K1 = 0)
connects psi- to |++> and |--> at rates ~ J1, and only sets the singlet weight by its own detailed
balance, p- = (y p1 + p4)/(1 + y), y = exp(-Delta/T1). The state is entangled iff c^2 > p1 p4 with
c = (p+ - p-)/2, i.e. iff x^2 - 3(1 + y) x + y > 0. The left side grows with y, so the best T1 is
T1 -> infinity (y -> 1; at finite J2/J1, T1 << Delta J2/J1 must hold too, so the optimum sits at
T1 ~ sqrt(J2/J1) Delta), where the condition is x^2 - 6x + 1 > 0: x < 3 - 2 sqrt 2.

Numerics: the reduced problem "maximise -lambda_- over T1 at fixed T2, find the T2 where the
maximum crosses zero", at finite J2/J1, by two independent routes (float64):

1. jaxtls (closed form, eqs. 23-24): log-T1 scan plus golden section for the maximum, bisection
   in T2 for its zero, vectorised over J2/J1 = 1e1 .. 1e16;
2. Newton's method through JAX on :func:`chain_lambda` (the paper's Bell-basis rate picture,
   coded independently of jaxtls): (d lambda_-/d log T1, lambda_-) = (0, 0) in the unknowns
   (log T1, T2), derivatives by ``jax.grad``/``jax.jacfwd``, ``vmap``-ed over J2/J1 = 1e2 ..
   1e24 from a cold start; quadratic convergence.

The two agree to ~1e-15 where both run. The threshold approaches the limit like (J2/J1)^-1/2
(the optimal T1 ~ sqrt(J2/J1) Delta balances the two corrections), so one Richardson step on the
last two Newton values gives the limit to ~1e-12, and a fit T2* + a R^-1/2 + b R^-1 to the
jaxtls values gives it to ~1e-7; both equal the closed form.

Example:
  >>> from jaxtls.experiments import t2_threshold as t2
  >>> round(float(t2.T2_EXACT), 8)
  0.56729633
  >>> u = t2.newton_threshold([1e16], [1e8], [0.5])
  >>> bool(abs(u[0, 1] - t2.T2_EXACT) < 2e-8)
  True
"""

from __future__ import annotations

import time

import numpy as np

from . import _common as cm

NAME = "t2_threshold"
T2_PAPER = 0.567
T2_EXACT = cm.T2_EXACT  # 1/(2 ln(1 + sqrt 2)) = 0.5672963...
NEWTON_RATIOS = 10.0 ** np.arange(2, 25, 2)  # 1e2 .. 1e24


def best(T2, R, n_grid=48, n_iter=40):
    """``(T1_opt, max_T1 -lambda_-)`` at ``(T2, J2/J1 = R)`` (broadcast; J1 = 1, K2 = J2):
    a scan of log T1 on [0.05 Delta, 2 Delta R], then golden section in the best cell."""
    T2, R = np.broadcast_arrays(np.asarray(T2, np.float64), np.asarray(R, np.float64))
    lo, hi = np.log(0.05) + 0 * R, np.log(2 * R)

    def f(s):  # s: (..., k) positions in [0, 1] of log T1 in [lo, hi]
        logt1 = lo[..., None] + s * (hi - lo)[..., None]
        r = R[..., None]
        return -cm.lam(np.exp(logt1), T2[..., None], 1.0, r, 0.0, r)

    s, fmax = cm.grid_golden_max(f, 0.0, 1.0, R.shape, n_grid, n_iter)
    return np.exp(lo + s * (hi - lo)), fmax


def threshold(R, n_iter=45):
    """Highest entangled T2 at J2/J1 = ``R`` (vectorised): bisection of max_T1 -lambda_-."""
    R = np.asarray(R, np.float64)
    return cm.bisect(
        lambda t2: best(t2, R)[1], np.full(R.shape, 0.2), np.full(R.shape, 0.7), n_iter
    )


def chain_lambda(logT1, T2, R):
    """lambda_- from the paper's Bell-basis transition picture (after eq. 17), written in JAX
    independently of jaxtls: K1 = 0, K2 = J2 = R, J1 = 1, xi = 0, Delta = 1.

    With xi = 0 and symmetric coupling the Bell populations obey a classical rate equation on
    the cycle |1> - psi+ - |4> - psi- - |1>: |1> -> psi+- and psi+- -> |4> at g- +- beta1,
    |4> -> psi+- and psi+- -> |1> at g+ +- beta4. Its stationary vector comes from the
    matrix-tree theorem (sums of products of rates, no cancellation at any J2/J1); then
    c = (p+ - p-)/2 and lambda_- = (p1 + p4)/2 - sqrt((p1 - p4)^2 + 4c^2)/2.

    Example:
      >>> from jaxtls.experiments.t2_threshold import chain_lambda
      >>> from jaxtls.experiments import _common as cm
      >>> import numpy as np
      >>> a = float(chain_lambda(np.log(20.0), 0.1, 1000.0))
      >>> b = float(cm.lam(20.0, 0.1, 1.0, 1000.0, 0.0, 1000.0))
      >>> abs(a / b - 1) < 1e-12
      True
    """
    import jax.numpy as jnp

    n1 = 1 / jnp.expm1(jnp.exp(-logT1))
    n2 = 1 / jnp.expm1(1 / T2)
    up_p, up_m = n1 + 2 * R * n2, n1  # g- +- beta1
    dn_p, dn_m = (1 + n1) + 2 * R * (1 + n2), 1 + n1  # g+ +- beta4
    # edges of the cycle: 1->+ a, +->1 b, +->4 c, 4->+ d, 4->- h, -->4 g, -->1 f, 1->- e
    a, b, c, d = up_p, dn_p, up_p, dn_p
    e, f, g, h = up_m, dn_m, up_m, dn_m
    # spanning trees rooted at each state (the cycle minus one edge, oriented to the root)
    p1 = c * h * f + b * h * f + b * d * f + b * d * g
    pp = e * g * d + a * f * h + a * d * f + a * d * g
    p4 = e * g * c + b * e * g + f * a * c + a * c * g
    pm = c * h * e + b * e * h + d * b * e + a * c * h
    s = p1 + pp + p4 + pm
    p1, pp, p4, pm = p1 / s, pp / s, p4 / s, pm / s
    coh = 0.5 * (pp - pm)
    return 0.5 * (p1 + p4) - 0.5 * jnp.sqrt((p1 - p4) ** 2 + 4 * coh * coh)


_NEWTON = None


def _newton_solver(n_iter=30):
    global _NEWTON
    if _NEWTON is None:
        import jax
        import jax.numpy as jnp

        def F(u, r):  # (d lambda/d log T1, lambda): zero at the threshold
            dl = jax.grad(chain_lambda)(u[0], u[1], r)
            return jnp.stack([dl, chain_lambda(u[0], u[1], r)])

        def solve(u0, r):
            def body(_, u):
                (a, b), (c, d) = jax.jacfwd(F)(u, r)
                f0, f1 = F(u, r)
                det = a * d - b * c
                return u - jnp.stack([d * f0 - b * f1, a * f1 - c * f0]) / det

            u = jax.lax.fori_loop(0, n_iter, body, u0)
            return jnp.stack([jnp.exp(u[0]), u[1], jnp.abs(chain_lambda(u[0], u[1], r))])

        _NEWTON = jax.jit(jax.vmap(solve))
    return _NEWTON


def newton_threshold(R, T1_0, T2_0):
    """Newton's method through JAX (``jax.grad``, ``jax.jacfwd``, ``vmap``) on the reduced
    problem at J2/J1 = ``R``: solve ``d lambda_-/d log T1 = 0`` and ``lambda_- = 0`` for
    ``(log T1, T2)`` from ``(T1_0, T2_0)``, i.e. the T2 where the maximum over T1 of -lambda_-
    crosses zero, using :func:`chain_lambda`. Returns ``(n, 3)``: ``T1, T2, |lambda_-|``."""
    R, T1_0, T2_0 = np.broadcast_arrays(*(np.asarray(x, np.float64) for x in (R, T1_0, T2_0)))
    n = R.size
    pad = (0, -(-n // 16) * 16 - n)  # sizes in steps of 16: one compilation serves most calls
    R, T1_0, T2_0 = (np.pad(x.ravel(), pad, mode="edge") for x in (R, T1_0, T2_0))
    u0 = np.stack([np.log(T1_0), T2_0], -1)
    return np.asarray(_newton_solver()(u0, R))[:n]


def limit_minus_lambda(T2):
    """max over T1 of -lambda_- in the limit J2/J1 -> infinity (reached for T1 -> infinity),
    from :func:`experiments._common.limit_state`; zero at T2 = :data:`T2_EXACT`."""
    g, pl, m, e = cm.limit_state(np.inf, T2)
    c = 0.5 * (pl - m)
    return -(0.5 * (g + e) - 0.5 * np.sqrt((g - e) ** 2 + 4 * c * c))


def plot(ratios, t2r, newton, T2s, curves, curve_ratios, out):
    fig, (ax, gx, bx) = cm.figure(ncols=3, figsize=(16, 4.6))
    mx = r"$\mathrm{max}_{T_1}(-\lambda_-)$"
    ax.semilogx(ratios, t2r, "o-", ms=3.5, label=r"jaxtls: max over $T_1$, bisection in $T_2$")
    ax.semilogx(NEWTON_RATIOS, newton[:, 1], "x", ms=8, mew=1.6, color="C3", label="Newton (JAX)")
    ax.axhline(T2_EXACT, color="k", lw=1.0, label=r"$\Delta/[2\ln(1+\sqrt{2})] = 0.567296\,\Delta$")
    ax.axhline(T2_PAPER, color="C2", ls="--", lw=1.0, label=r"paper: about $0.567\,\Delta$")
    ax.set_xlabel(r"$J_2/J_1$  (log scale)")
    ax.set_ylabel(r"highest entangled $T_2$ [$\Delta$]")
    ax.set_ylim(0.3, 0.6)
    ax.set_title(r"$K_1 = 0$, $K_2 = J_2$, $\xi = 0$, best $T_1$")
    ax.legend(loc="lower right")
    gx.loglog(ratios, T2_EXACT - t2r, "o-", ms=3.5, label="jaxtls, bisection")
    gx.loglog(
        NEWTON_RATIOS, T2_EXACT - newton[:, 1], "x", ms=8, mew=1.6, color="C3", label="Newton (JAX)"
    )
    gx.loglog(ratios, 1.0 * ratios**-0.5, color="0.5", ls=":", label=r"$(J_2/J_1)^{-1/2}$")
    gx.set_xlabel(r"$J_2/J_1$  (log scale)")
    gx.set_ylabel(r"$T_2^* - T_2^{\max}$ [$\Delta$]  (log scale)")
    gx.set_title(r"approach to $T_2^* = \Delta/[2\ln(1+\sqrt{2})]$")
    gx.legend(loc="lower left")
    for k, (R, y) in enumerate(zip(curve_ratios, curves, strict=True)):
        bx.plot(T2s, y, color=f"C{k}", label=rf"$J_2/J_1 = 10^{{{np.log10(R):.0f}}}$")
    bx.plot(
        T2s, limit_minus_lambda(T2s), "k--", lw=1.5, label=r"$J_2/J_1 \to \infty$ (closed form)"
    )
    bx.axhline(0, color="0.4", lw=0.8)
    bx.axvline(T2_EXACT, color="k", lw=0.8, ls=":")
    bx.set_xlabel(r"$T_2$ [$\Delta$]")
    bx.set_ylabel(mx)
    bx.set_title("reduced problem: entangled where " + mx + " > 0")
    bx.set_ylim(-0.006, None)
    bx.legend(loc="upper right")
    return cm.save_figure(fig, out, NAME)


def run(out="results", fast=False, progress=True) -> dict:
    """Compute, plot and check the T2 threshold; see the module docstring."""
    t0 = time.perf_counter()
    bar = cm.bar(4, NAME, progress)
    ratios = np.logspace(1, 16, 16 if fast else 31)
    t2r = threshold(ratios)
    T1_at = best(t2r, ratios)[0]
    bar.step("jaxtls: bisection")
    # Newton from a cold start: T1 = sqrt(J2/J1) Delta, T2 = 0.5 Delta
    newton = newton_threshold(NEWTON_RATIOS, np.sqrt(NEWTON_RATIOS), 0.5)
    t2n = newton[:, 1]
    # Richardson on the last two Newton values: T2max(R) = T2* - a R^-1/2 + O(R^-1)
    q = np.sqrt(NEWTON_RATIOS[-1] / NEWTON_RATIOS[-2])
    t2_rich = float(t2n[-1] + (t2n[-1] - t2n[-2]) / (q - 1))
    bar.step("Newton (JAX)")
    sel = ratios >= 1e6
    _b, _a, t2_extrap = np.polyfit(ratios[sel] ** -0.5, t2r[sel], 2)
    T2s = np.linspace(0.3, 0.62, 33 if fast else 97)
    curve_ratios = np.array([1e2, 1e4, 1e6])
    curves = best(T2s[None, :], curve_ratios[:, None])[1]
    bar.step("curves")
    figs = plot(ratios, t2r, newton, T2s, curves, curve_ratios, out)
    bar.step("figure")
    params = {
        "K1": 0.0,
        "K2/J2": 1.0,
        "xi": 0.0,
        "J1": 1.0,
        "bisection": "jaxtls closed form; T1: log scan on [0.05, 2 J2/J1] Delta + golden "
        "section; T2: bisection on [0.2, 0.7], 45 halvings",
        "newton": "chain_lambda (paper's Bell-basis rates); (d lambda/d log T1, lambda) = 0 in "
        "(log T1, T2) from (sqrt(J2/J1), 0.5), jax.grad + jax.jacfwd, 30 steps",
        "richardson": "last two Newton values, error ~ (J2/J1)^-1/2",
        "extrapolation": "T2max = T2* + a R^-1/2 + b R^-1 fitted on bisection results, R >= 1e6",
    }
    data = cm.save_data(
        out,
        NAME,
        params,
        ratios=ratios,
        T2max=t2r,
        T1_at_threshold=T1_at,
        newton_ratios=NEWTON_RATIOS,
        newton_T1_T2_residual=newton,
        T2_grid=T2s,
        curve_ratios=curve_ratios,
        max_minus_lambda=curves,
        max_minus_lambda_limit=limit_minus_lambda(T2s),
        T2_exact=T2_EXACT,
    )
    png = figs[0]
    common = [int(np.argmin(np.abs(np.log(ratios / R)))) for R in NEWTON_RATIOS]
    ok_common = np.abs(np.log(ratios[common] / NEWTON_RATIOS)) < 1e-9
    bisect_vs_newton = float(np.max(np.abs(t2r[common] - t2n)[ok_common]))
    slope_T1 = float(np.polyfit(np.log(ratios[sel]), np.log(T1_at[sel]), 1)[0])
    claims = [
        cm.claim(
            "Sec. IV C 1: the steady state is always separable for T2 greater than about "
            "0.567 Delta (K1 = 0, xi = 0, K2 = J2, any T1 and J2/J1)",
            T2_PAPER,
            round(t2_rich, 9),
            "abs 1e-3 (the paper gives 3 digits)",
            abs(t2_rich - T2_PAPER) < 1e-3,
            png,
            f"limit J2/J1 -> inf: Newton + Richardson {t2_rich:.10f}; Newton at J2/J1 = "
            f"1e{np.log10(NEWTON_RATIOS[-1]):.0f}: {t2n[-1]:.10f}; jaxtls bisection, "
            f"extrapolated: {t2_extrap:.8f}; closed form: {T2_EXACT:.10f}",
        ),
        cm.claim(
            "Closed form (derived here): T2* = Delta/(2 ln(1+sqrt2)) = 0.5672963286 Delta, i.e. "
            "exp(-Delta/T2*) = 3 - 2 sqrt2, against the numerical limit",
            round(T2_EXACT, 10),
            {
                "newton_richardson": t2_rich,
                "newton_richardson - T2*": t2_rich - T2_EXACT,
                "bisection_extrapolated": float(t2_extrap),
                "bisection_extrapolated - T2*": float(t2_extrap - T2_EXACT),
            },
            "abs 1e-9 (Newton + Richardson), abs 1e-6 (extrapolated bisection)",
            bool(abs(t2_rich - T2_EXACT) < 1e-9 and abs(t2_extrap - T2_EXACT) < 1e-6),
            png,
            "limit T1 -> inf of the J2/J1 -> inf boundary x^2 - 3(1+y) x + y = 0, "
            "x = exp(-Delta/T2), y = exp(-Delta/T1)",
        ),
        cm.claim(
            "Sec. IV C 1: entangled states close to that temperature only in the limit of "
            "large J2 (the threshold increases with J2/J1 towards it)",
            "increasing to the limit",
            {"J2/J1": ratios[::3], "T2max": t2r[::3]},
            "strictly increasing and < T2*; jaxtls bisection = Newton on the rate picture "
            "within 1e-9",
            bool(np.all(np.diff(t2r) > 0) and np.all(t2r < T2_EXACT) and bisect_vs_newton < 1e-9),
            png,
            f"max |bisection - Newton| on common J2/J1: {bisect_vs_newton:.1e}; the best T1 at "
            f"the threshold grows like (J2/J1)^{slope_T1:.3f} Delta",
        ),
    ]
    summary = {
        "T2_limit": t2_rich,
        "T2_exact": T2_EXACT,
        "T2_newton_at_max_ratio": float(t2n[-1]),
        "T2_bisection_extrapolated": float(t2_extrap),
        "T2max_vs_ratio": dict(zip(ratios.tolist(), t2r.tolist(), strict=True)),
        "newton": {
            f"{R:g}": {"T1": float(r[0]), "T2": float(r[1]), "residual": float(r[2])}
            for R, r in zip(NEWTON_RATIOS, newton, strict=True)
        },
        "bisection_vs_newton": bisect_vs_newton,
        "T1_opt_exponent": slope_T1,
    }
    return cm.result(NAME, claims, figs, data, summary, t0, params)
