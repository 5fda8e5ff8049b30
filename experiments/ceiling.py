"""Beyond the paper: the ceiling of the stationary entanglement of two independent TLS.

Question (issue 15): is ``(sqrt 2 - 1)/4 = 0.10355`` (the state ``(1/2)|++><++| + (1/2)
|psi><psi|`` with a maximally entangled ``psi``) the supremum of the stationary negativity in
the weak-coupling limit, over any number of baths, any couplings, dephasing, detuning and
exchange? And ``1/2`` that of the concurrence? Answer in three parts, each labelled with how
much is known.

**1. Symmetric coupling: a theorem** (``J^(1)_n = J^(2)_n``, any number of baths, any
``K_n``, dephasing, detuning, exchange): ``N <= (sqrt 5 - 2)/6`` and ``C <= 1/3``. Proof, in
the Bell-basis rate equations of :mod:`jaxtls.steady_state` with ``c = c_up = 0``. Write
``g = P1``, ``e = P4``, ``R_A = a + a_up``, ``R_B = b + b_up`` (the decay rates of ``P+``,
``P-``), ``alpha = (a_up g + a e)/R_A``, ``beta = (b_up g + b e)/R_B``. Each bath obeys
local detailed balance (``a_up/a`` is a mean of ``x_n = exp(-Delta/T_n)`` in ``[0, 1)``), so
``alpha``, ``beta`` are means of ``g`` and ``e`` with weight ``<= 1/2`` on ``g``: both lie in
``[e, (g + e)/2]``, once ``g >= e`` (true: ``e = (a_up P+ + b_up P-)/(a + b) <= x_max
max(P+-)`` and ``P+-`` are means of ``g``, ``e``). The Bell coherence ``u + i v`` is driven
only by ``detuning (P- - P+)/2``; eliminating it gives ``v = k (P- - P+)`` and a transfer
``m = gamma_phi/2 + m_D`` between psi+ and psi- with ``m_D = detuning k``,
``k = detuning g_u / (2 (g_u g_v + 4 Omega^2))``, hence ``k^2 <= m_D / (2 g_u) = m_D/(R_A +
R_B)``. The populations then solve ``P+ = alpha - m w / R_A``, ``P- = beta + m w / R_B`` with
``w = P+ - P- = (alpha - beta)/(1 + y)``, ``y = m (1/R_A + 1/R_B) >= 4 m/(R_A + R_B) >=
4 k^2``. Since ``rho_23 = (P+ - P-)/2 - i v``: ``4 |rho_23|^2 = w^2 (1 + 4 k^2) <= (alpha -
beta)^2 (1 + y)/(1 + y)^2 <= ((g - e)/2)^2``, and positivity adds ``2 |rho_23| <= p2 + p3 =
1 - g - e``. So ``-lambda_- = (sqrt((g - e)^2 + 4|rho_23|^2) - g - e)/2`` is at most
``(sqrt(G^2 + X^2) - G)/2 - e`` with ``G = g - e``, ``X = min(G/2, 1 - G)``: largest at
``e = 0``, ``G = 2/3``, i.e. ``N <= (sqrt 5 - 2)/6`` (the paper's 2/3-1/3 state), and
``C = 2(|rho_23| - sqrt(g e)) <= X <= 1/3``. Only a supremum: reached in the limit
``x_hot -> 1``, ``x_cold -> 0``, ``J_2/J_1 -> infinity`` (the paper's regime).

**2. Asymmetric coupling: (sqrt 2 - 1)/4 is approached** (a construction, measured).
:func:`limit_model`: bath 1 hot and rank-one along ``(g1, g2) = (1, 1 + eps)``, bath 2 cold,
rank-one along the mirrored ``(g2, g1)`` and ``ratio`` times stronger. The single-excitation
state ``psi ~ g2 |+-> - g1 |-+>`` is dark for bath 2 and, for bath 1, has no absorption
channel to ``|-->`` (amplitude ``g1 psi_2 + g2 psi_3 = 0``) while it exchanges population
with ``|++>`` at a rate ``~ (g2^2 - g1^2)^2``: the hot bath equalises ``psi`` with ``|++>``
(not with the mean of ``|++>`` and ``|-->`` as for a Bell state), and bath 2 drains the rest.
The state tends to ``(1/2)|++> + (1/2)|psi>``, and ``psi`` to a Bell state as ``eps -> 0``:
N -> ``(sqrt 2 - 1)/4``, C -> 1/2 (limits ``ratio -> infinity``, ``T_1 -> infinity``,
``T_2 -> 0``, ``eps -> 0``; the gap closes like ``eps^2``).

**3. Asymmetric coupling: (sqrt 2 - 1)/4 as the supremum is a conjecture.** Let ``rho_1``
be the single-excitation block (|+->, |-+>), eigenvalues ``lambda_1 >= lambda_2``. *If* a
stationary state obeys ``lambda_1 <= p1 + p4`` (condition (*)), then ``N <= (sqrt 2 - 1)/4``
and ``C <= 1/2`` (proved: with ``s = p1 + p4``, ``|rho_23| <= (lambda_1 - lambda_2)/2``,
``-lambda_- <= (sqrt(s^2 + lambda_1^2) - s)/2`` with ``lambda_1 <= min(s, 1 - s)``, largest
at ``s = 1/2``; ``C <= lambda_1 <= 1/2``). For the top eigenvector ``phi`` of ``rho_1``,
Hamiltonian terms (detuning, exchange) leave ``<phi|rho|phi>`` unchanged and dephasing only
lowers it; a rank-one bath channel ``L = a s1 + b s2`` contributes ``F (n g - (1 + n)
lambda_1) + U ((1 + n) e - n lambda_1)``, ``F = |<++|L|phi>|^2``, ``U = |<phi|L|-->|^2``:
for Bell ``phi`` (``F = U``) this closes to ``lambda_1 <= g + e``, for ``F != U`` it does
not. And (*) is *false*: it holds at every random point (ratio up to 0.998, tending to 1 at
product states with one TLS cold and one at infinite temperature), but the asymmetric
searches end at entangled points where ``lambda_1 / (p1 + p4)`` exceeds 1 (measured: 1.0007
at N = 0.091, confirmed by the dense Liouvillian; reported in the claims). So no proof of the
asymmetric ceiling is given here: it rests on the searches (2-4 baths, dephasing, detuning
and exchange free, all below it) and on the construction of part 2, which shows it cannot be
lowered. The stronger ``lambda_1 <= p1`` fails as well (2% at hot separable points).

Searches: :func:`ceiling_space` builds spaces with 2, 3, 4 baths, symmetric or asymmetric,
with ``xi`` in ``[0, 1]`` and the detuning and exchange in ``+-1e6 J_1`` free (weak-coupling
units, :data:`optimize.space.RATE_UNIT`); :func:`optimize.search_grid` runs one search per
seed (one compilation per space). Half of each seed's starts begin at ``xi = detuning =
exchange = 0`` (N is even in the detuning and the exchange, so those stay at 0: these starts
search the extras-free subspace), half anywhere in the box. The best points are checked
against the dense Liouvillian's null vector (:func:`jaxtls.liouvillian_steady_state`).

Example:
  >>> from jaxtls.experiments import ceiling
  >>> import jaxtls
  >>> round(float(jaxtls.negativity(jaxtls.steady_state(ceiling.limit_model(0.01)))), 4)
  0.1035
  >>> ceiling.ceiling_space(3, symmetric=False).n_baths
  3
"""

from __future__ import annotations

import time

import numpy as np

import jaxtls

from . import _common as cm

NAME = "ceiling"
N_SYM = jaxtls.N_PAPER  # (sqrt 5 - 2)/6: the symmetric theorem
N_ASYM = (np.sqrt(2.0) - 1) / 4  # (sqrt 2 - 1)/4: the asymmetric conjecture
C_SYM, C_ASYM = 1 / 3, 1 / 2
BATHS = (2, 3, 4)
BOX = 1e6  # detuning and exchange boxes, units of J_1 (= max J of the J boxes)
EXTRAS = ("xi", "detuning", "exchange")


def ceiling_space(n_baths: int, symmetric: bool, extras: bool = True, box: float = BOX):
    """Search space with ``n_baths`` baths: ``T_n`` in ``[1e-3, 1e3]``, ``J_1 = 1`` (or
    ``J(1)_1 = 1``) fixed, every other coupling in ``[1e-2, 1e6]`` (log), ``kappa_n`` in
    ``[-1, 1]``; with ``extras``, ``xi`` in ``[0, 1]`` and the detuning and the exchange in
    ``[-box, box]`` (units of the fixed coupling). The two-bath asymmetric space without
    extras contains ``optimize.asymmetric()``.

    Example:
      >>> from jaxtls.experiments.ceiling import ceiling_space
      >>> ceiling_space(2, symmetric=True).free_names
      ('T_1', 'kappa_1', 'T_2', 'J_2', 'kappa_2', 'xi', 'detuning', 'exchange')
    """
    from jaxtls.optimize import Fixed, Free, Space

    if int(n_baths) < 1:
        raise ValueError(f"n_baths must be >= 1, got {n_baths}")
    if not (np.isfinite(box) and box > 0):
        raise ValueError(f"box must be finite and > 0, got {box}")
    p = {}
    for n in range(1, int(n_baths) + 1):
        p[f"T_{n}"] = Free(1e-3, 1e3, "log")
        names = [f"J_{n}"] if symmetric else [f"J(1)_{n}", f"J(2)_{n}"]
        for k in names:
            p[k] = Fixed(1.0) if k in ("J_1", "J(1)_1") else Free(1e-2, 1e6, "log")
        p[f"kappa_{n}"] = Free(-1.0, 1.0)
    if extras:
        p.update(xi=Free(0.0, 1.0), detuning=Free(-box, box), exchange=Free(-box, box))
    kind = "symmetric" if symmetric else "asymmetric"
    return Space(f"ceiling {n_baths} baths {kind}", p, n_baths=int(n_baths), symmetric=symmetric)


def limit_model(eps, ratio=1e8, T1=1e4, T2=1e-2) -> jaxtls.Model:
    """The construction of part 2 (module docstring): bath 1 (``T1``) rank-one along
    ``(1, 1 + eps)``, bath 2 (``T2``) rank-one along ``(1 + eps, 1)`` and ``ratio`` times
    stronger. N -> (sqrt 2 - 1)/4 as ``eps -> 0``, ``ratio, T1 -> infinity``, ``T2 -> 0``
    (``T1 << ratio`` needed).

    Example:
      >>> from jaxtls.experiments.ceiling import limit_model
      >>> limit_model(0.1).J1.tolist()
      [1.0, 121000000.00000003]
    """
    g = 1.0 + float(eps)
    J1 = np.array([1.0, ratio * g * g])
    J2 = np.array([g * g, ratio])
    return jaxtls.Model(T=[T1, T2], J=(J1, J2), K=np.array([g, ratio * g]))


def single_excitation(rho):
    """``(lambda_1, lambda_2, p1, p4)`` of ``(..., 4, 4)`` states: the eigenvalues of the
    single-excitation block (|+->, |-+>) and the populations of |++>, |-->.

    Example:
      >>> import jaxtls
      >>> l1, l2, p1, p4 = single_excitation(jaxtls.thermal_state(1.0, 1e9))  # ~ I/4
      >>> round(float(l1), 6), round(float(p1 + p4), 6)
      (0.25, 0.5)
    """
    r = np.asarray(rho)
    p = np.real(np.diagonal(r, axis1=-2, axis2=-1))
    mid, half = 0.5 * (p[..., 1] + p[..., 2]), 0.5 * (p[..., 1] - p[..., 2])
    root = np.sqrt(half**2 + np.abs(r[..., 1, 2]) ** 2)
    return mid + root, mid - root, p[..., 0], p[..., 3]


def _settings(fast):
    if fast:
        return dict(
            baths=(2,),
            symmetric=(True,),
            seeds=1,
            n_starts=48,
            steps=400,
            polish=100,
            n_random=4_000,
            eps=(0.1, 0.01),
        )
    return dict(
        baths=BATHS,
        symmetric=(True, False),
        seeds=4,
        n_starts=96,
        steps=700,
        polish=150,
        n_random=200_000,
        eps=(0.3, 0.1, 0.03, 0.01, 0.003),
    )


def _starts(space, seeds, n_starts):
    """``(seeds, n_starts, dim)`` starts; the first half of each seed's at zero extras."""
    from jaxtls.optimize.space import from_box

    u0 = np.stack([np.asarray(space.sample(s, n_starts)) for s in range(seeds)])
    names, b = space.free_names, space.bounds
    for k in EXTRAS:
        if k in names:
            u0[:, : n_starts // 2, names.index(k)] = float(from_box(0.0, b[k]))
    return u0


def search(n_baths, symmetric, st) -> dict:
    """One :func:`optimize.search_grid` over seeds in :func:`ceiling_space`; per seed the best
    N, C, Bell weights, single-excitation eigenvalues and parameters."""
    from jaxtls import optimize

    sp = ceiling_space(n_baths, symmetric)
    one = "J_1" if symmetric else "J(1)_1"
    g = optimize.search_grid(
        sp,
        {one: np.ones(st["seeds"])},
        n_starts=st["n_starts"],
        steps=st["steps"],
        polish_steps=st["polish"],
        u0=_starts(sp, st["seeds"], st["n_starts"]),
        block=None,
    )
    rho = np.asarray(jaxtls.density_matrix(g.state))
    l1, l2, p1, p4 = single_excitation(rho)
    ratio = l1 / (p1 + p4)
    i, j = int(np.nanargmax(g.negativity)), int(np.nanargmax(ratio))
    seeds = [{k: float(v[s]) for k, v in g.values.items()} for s in range(len(ratio))]
    out = dict(
        N=np.asarray(g.negativity),
        C=np.asarray(jaxtls.concurrence(g.state)),
        bell=np.asarray(jaxtls.bell_populations(g.state)),
        lambda1=l1,
        ratio=ratio,
        params=seeds[i],
        seed_params=seeds,
    )
    # independent check of the best point and of the largest lambda_1 / (p1 + p4)
    for tag, k in (("", i), ("worst_", j)):
        dense = np.asarray(jaxtls.liouvillian_steady_state(sp.model(seeds[k])))
        out[f"{tag}dense_rel"] = float(np.max(np.abs(dense - rho[k])) / np.max(np.abs(rho[k])))
        out[f"{tag}N_dense"] = float(jaxtls.negativity(dense))
        out[f"{tag}C_dense"] = float(jaxtls.concurrence(dense))
        d1, _, d_p1, d_p4 = single_excitation(dense)
        out[f"{tag}ratio_dense"] = float(d1 / (d_p1 + d_p4))
    return out


CHUNK = 2048  # points per compiled call of :func:`evaluate` (one compilation per bath count)
_JIT: dict = {}


def _measures(x):
    """N, C and the single-excitation ratios of the Models in the rows of ``x``."""
    m = jaxtls.Model(
        x["T"], (x["J1"], x["J2"]), x["K"], xi=x["xi"], detuning=x["det"], exchange=x["ex"]
    )
    st = jaxtls.steady_state(m, check=False)
    rho = jaxtls.density_matrix(st)
    import jax.numpy as jnp

    p = jnp.real(jnp.diagonal(rho, axis1=-2, axis2=-1))
    mid, half = 0.5 * (p[..., 1] + p[..., 2]), 0.5 * (p[..., 1] - p[..., 2])
    l1 = mid + jnp.sqrt(half**2 + jnp.abs(rho[..., 1, 2]) ** 2)
    return dict(
        N=jaxtls.negativity(st),
        C=jaxtls.concurrence(st),
        ratio=l1 / (p[..., 0] + p[..., 3]),
        ratio_p1=l1 / p[..., 0],
        bell=jaxtls.bell_populations(st),
    )


def evaluate(T, J1, J2, K, xi=0.0, det=0.0, ex=0.0) -> dict:
    """:func:`_measures` over rows (leading axis: points; ``(n, n_baths)`` for T, J1, J2, K),
    in padded chunks of :data:`CHUNK` (one compilation per bath count)."""
    import jax

    if "f" not in _JIT:
        _JIT["f"] = jax.jit(_measures)
    T = np.atleast_2d(np.asarray(T, np.float64))
    n = T.shape[0]
    col = lambda v: np.broadcast_to(np.asarray(v, np.float64), (n,))  # noqa: E731
    x = dict(
        T=T,
        J1=np.asarray(J1, np.float64).reshape(T.shape),
        J2=np.asarray(J2, np.float64).reshape(T.shape),
        K=np.asarray(K, np.float64).reshape(T.shape),
        xi=col(xi),
        det=col(det),
        ex=col(ex),
    )
    from jaxtls.batching import map_chunks

    return map_chunks(_JIT["f"], x, CHUNK)


def random_points(n_baths, n, seed=0, symmetric=False):
    """Steady states at ``n`` random points (log-uniform T in [1e-3, 1e3], couplings in
    [1e-3, 1e3], kappa uniform with 30% near +-1, half with dephasing, detuning, exchange):
    :func:`evaluate`'s dict (``ratio = lambda_1 / (p1 + p4)``, conjecture (*): <= 1;
    ``ratio_p1 = lambda_1 / p1``, the stronger bound, which fails)."""
    rng = np.random.default_rng([seed, n_baths, int(symmetric)])
    sh = (n, n_baths)
    T = 10 ** rng.uniform(-3, 3, sh)
    J1 = 10 ** rng.uniform(-3, 3, sh)
    J2 = J1 if symmetric else 10 ** rng.uniform(-3, 3, sh)
    kap = rng.uniform(-1, 1, sh)
    near = rng.uniform(size=sh) < 0.3
    kap = np.where(near, np.sign(kap) * (1 - 10 ** rng.uniform(-8, -1, sh)), kap)
    jm = np.maximum(J1.max(1), J2.max(1))

    def some(scale):
        on = rng.uniform(size=n) < 0.5
        return np.where(on, scale * 10 ** rng.uniform(-4, 0, n), 0.0)

    xi = some(1.0)
    det, ex = some(jm) * rng.choice([-1, 1], n), some(jm) * rng.choice([-1, 1], n)
    s = 1e-9  # rates in units of Delta, far inside weak coupling (only ratios matter)
    return evaluate(T, J1 * s, J2 * s, kap * np.sqrt(J1 * J2) * s, xi, det * s, ex * s)


def _approach(eps):
    """N, C and Bell weights of :func:`limit_model` at each ``eps`` (one batched call)."""
    ms = [limit_model(e) for e in eps]
    st = lambda f: np.stack([np.asarray(f(m)) for m in ms])  # noqa: E731
    r = evaluate(st(lambda m: m.T), st(lambda m: m.J1), st(lambda m: m.J2), st(lambda m: m.K))
    return [
        dict(eps=float(e), N=float(r["N"][i]), C=float(r["C"][i]), bell=r["bell"][i].tolist())
        for i, e in enumerate(eps)
    ]


def _plot(searches, approach, rand, out):
    fig, axes = cm.figure(ncols=3, figsize=(15, 4.4))
    ax = axes[0]
    for (nb, sym), r in searches.items():
        x = nb + (-0.08 if sym else 0.08) + np.linspace(-0.04, 0.04, len(r["N"]))
        ax.plot(
            x,
            r["N"],
            "o" if sym else "s",
            color="C0" if sym else "C3",
            ms=5,
            label=("symmetric" if sym else "asymmetric")
            if nb == min(BATHS) or nb == min(n for n, s in searches if s == sym)
            else None,
        )
    ax.axhline(N_SYM, color="C0", ls=":", lw=1, label=r"$(\sqrt{5}-2)/6$ (theorem)")
    ax.axhline(N_ASYM, color="C3", ls="-.", lw=1, label=r"$(\sqrt{2}-1)/4$ (conjecture)")
    ax.set_xticks(sorted({nb for nb, _ in searches}))
    ax.set_xlabel("number of baths (one marker per seed)")
    ax.set_ylabel(r"best negativity $\mathcal{N}$ found")
    ax.set_title(r"searches with $\xi$, detuning, exchange free")
    ax.set_ylim(0, 0.115)
    ax.legend(fontsize=8, loc="lower right")
    ax = axes[1]
    labels = [r"$|{+}{+}\rangle$", r"$\psi_+$", r"$\psi_-$", r"$|{-}{-}\rangle$"]
    keys = list(searches)
    w = 0.8 / max(len(keys), 1)
    for j, key in enumerate(keys):
        r = searches[key]
        b = r["bell"][int(np.nanargmax(r["N"]))]
        ax.bar(
            np.arange(4) + (j - len(keys) / 2 + 0.5) * w,
            b,
            w,
            label=f"{key[0]} baths, {'sym.' if key[1] else 'asym.'}",
        )
    ax.set_xticks(range(4), labels)
    ax.set_ylabel("Bell weight of the best state")
    ax.set_title("the best states: 2/3-1/3 and 1/2-1/2")
    ax.legend(fontsize=7)
    ax = axes[2]
    e = np.array([a["eps"] for a in approach])
    ax.loglog(
        e,
        N_ASYM - np.array([a["N"] for a in approach]),
        "s-",
        color="C3",
        label=r"$(\sqrt{2}-1)/4 - \mathcal{N}$",
    )
    ax.loglog(
        e, C_ASYM - np.array([a["C"] for a in approach]), "^--", color="C2", label=r"$1/2 - C$"
    )
    ax.set_xlabel(r"$\epsilon$ of limit_model ($J^{(2)}_1/J^{(1)}_1 = (1+\epsilon)^2$)")
    ax.set_ylabel("distance to the ceiling")
    ax.set_title(
        "approach; random points: max "
        + r"$\lambda_1/(p_1+p_4)$"
        + f" = {max(v['ratio_max'] for v in rand.values()):.4f}",
        fontsize=10,
    )
    ax.legend(fontsize=8)
    return cm.save_figure(fig, out, NAME)


def _bound_claim(text, group, bounds, tolerance, agree, fig, label):
    """The claim that no search of ``group`` exceeds ``bounds = (N, C)``: ``agree(best N,
    best C)`` decides; the note lists each bath count's margin in N."""
    best = max(float(np.nanmax(v["N"])) for v in group.values())
    bestC = max(float(np.nanmax(v["C"])) for v in group.values())
    margins = ", ".join(
        f"{k[0]} baths {bounds[0] - np.nanmax(v['N']):.2e}" for k, v in group.items()
    )
    return cm.claim(
        text, list(bounds), [best, bestC], tolerance, agree(best, bestC), fig, label + margins
    )


def _claims(searches, approach, rand, fig):
    sym = {k: v for k, v in searches.items() if k[1]}
    asym = {k: v for k, v in searches.items() if not k[1]}
    claims = []
    if sym:
        claims.append(
            _bound_claim(
                "(proved here) symmetric coupling, any number of baths, dephasing, detuning, "
                "exchange: N <= (sqrt5-2)/6 and C <= 1/3; no search exceeds them",
                sym,
                (N_SYM, C_SYM),
                "best <= bound; best N within 1e-3 of it",
                lambda n, c: n <= N_SYM + 1e-12 and c <= C_SYM + 1e-12 and n > N_SYM - 1e-3,
                fig,
                "margins (bound - best): N ",
            )
        )
    if asym:
        claims.append(
            _bound_claim(
                "(conjectured, tested) asymmetric coupling, 2-4 baths, dephasing, detuning and "
                "exchange free: no search exceeds N = (sqrt2-1)/4 or C = 1/2",
                asym,
                (N_ASYM, C_ASYM),
                "best <= bound",
                lambda n, c: n <= N_ASYM and c <= C_ASYM,
                fig,
                "margins (bound - best N): ",
            )
        )
    per = {k[0]: float(np.nanmax(v["N"])) for k, v in asym.items()}
    if len(per) > 1:
        claims.append(
            cm.claim(
                "(measured here) best N per bath count, asymmetric searches in the same boxes "
                "(more baths can combine a weak hot bath with a strong cold one beyond the "
                "two-bath box's J ratio of 1e6, and get closer to the ceiling)",
                "reported",
                {str(k): v for k, v in per.items()},
                "",
                None,
                fig,
            )
        )
    last = approach[-1]
    claims.append(
        cm.claim(
            "(constructed here) the asymmetric ceiling is approached: ceiling.limit_model "
            "tends to (1/2)|++> + (1/2)|psi>, N -> (sqrt2-1)/4, C -> 1/2",
            [N_ASYM, C_ASYM],
            [last["N"], last["C"]],
            f"within 2e-4 at eps = {last['eps']:g}",
            abs(N_ASYM - last["N"]) < 2e-4
            and abs(C_ASYM - last["C"]) < 2e-3
            and last["N"] <= N_ASYM,
            fig,
            note="N along eps: " + ", ".join(f"{a['eps']:g}: {a['N']:.6f}" for a in approach),
        )
    )
    r_rand = max(v["ratio_max"] for v in rand.values())
    worst = max(searches.items(), key=lambda kv: float(np.nanmax(kv[1]["ratio"])))
    r_search, w = float(np.nanmax(worst[1]["ratio"])), worst[1]
    n_pts = sum(v["n"] for v in rand.values())
    claims.append(
        cm.claim(
            "(tested) the sufficient condition (*) lambda_1(rho_1) <= p1 + p4 of the "
            "asymmetric ceiling: largest lambda_1 / (p1 + p4) at random points and at the "
            "search end points (above 1: (*) is false, the ceiling stays a conjecture)",
            "reported",
            {"random points": r_rand, "search end points": r_search},
            "",
            None,
            fig,
            note=f"{n_pts} random points with 2-4 baths; largest search ratio at "
            f"{worst[0][0]} baths {'sym.' if worst[0][1] else 'asym.'} (N = "
            f"{w['N'][int(np.nanargmax(w['ratio']))]:.4f}; dense Liouvillian there: ratio "
            f"{w['worst_ratio_dense']:.6f}, N {w['worst_N_dense']:.4f}); max lambda_1 / p1 at the "
            f"random points {max(v['ratio_p1_max'] for v in rand.values()):.4f} "
            "(lambda_1 <= p1 fails too); random max N "
            + ", ".join(f"{k}: {v['N_max']:.4f}" for k, v in rand.items()),
        )
    )
    rel = max(max(v["dense_rel"], v["worst_dense_rel"]) for v in searches.values())
    claims.append(
        cm.claim(
            "(checked) the best points (and those of largest lambda_1 / (p1 + p4)) agree with "
            "the dense Liouvillian's null vector",
            "max |rho - rho_dense| / max |rho|",
            rel,
            "< 1e-8",
            rel < 1e-8,
            fig,
        )
    )
    return claims


def run(out="results", fast=False, progress=True) -> dict:
    t0 = time.perf_counter()
    st = _settings(fast)
    keys = [(nb, s) for s in st["symmetric"] for nb in st["baths"]]
    bar = cm.bar(len(keys) + 3, NAME, progress)
    searches, times = {}, {}
    for key in keys:
        ts = time.perf_counter()
        searches[key] = search(*key, st)
        times[f"{key[0]} baths {'symmetric' if key[1] else 'asymmetric'}"] = round(
            time.perf_counter() - ts, 1
        )
        bar.step(f"{key[0]} baths {'sym' if key[1] else 'asym'}")
    rand = {}
    for nb in st["baths"] if fast else BATHS:
        a = random_points(nb, st["n_random"])
        b = random_points(nb, st["n_random"] // 4, symmetric=True)
        rand[f"{nb} baths"] = dict(
            n=int(st["n_random"] + st["n_random"] // 4),
            N_max=float(np.nanmax(a["N"])),
            C_max=float(np.nanmax(a["C"])),
            ratio_max=float(max(np.nanmax(a["ratio"]), np.nanmax(b["ratio"]))),
            ratio_p1_max=float(np.nanmax(a["ratio_p1"])),
            N_sym_max=float(np.nanmax(b["N"])),
            C_sym_max=float(np.nanmax(b["C"])),
        )
    bar.step("random points")
    approach = _approach(st["eps"])
    bar.step("limit family")
    figs = _plot(searches, approach, rand, out)
    bar.step("plot")
    arrays = {}
    summary = {"searches": {}, "random": rand, "approach": approach, "search_seconds": times}
    for (nb, sym), r in searches.items():
        key = f"{nb}_baths_{'sym' if sym else 'asym'}"
        for f in ("N", "C", "bell", "lambda1", "ratio"):
            arrays[f"{key}_{f}"] = r[f]
        summary["searches"][key] = {
            k: r[k]
            for k in (
                "params",
                "dense_rel",
                "N_dense",
                "C_dense",
                "seed_params",
                "worst_ratio_dense",
                "worst_N_dense",
            )
        } | dict(
            ratio_per_seed=r["ratio"],
            C_per_seed=r["C"],
            best_N=float(np.nanmax(r["N"])),
            best_C=float(np.nanmax(r["C"])),
            N_per_seed=r["N"],
            bell_best=r["bell"][int(np.nanargmax(r["N"]))],
        )
    arrays["approach_eps"] = np.array([a["eps"] for a in approach])
    arrays["approach_N"] = np.array([a["N"] for a in approach])
    arrays["approach_C"] = np.array([a["C"] for a in approach])
    params = dict(
        st, box=BOX, ceilings=dict(N_sym=N_SYM, N_asym=N_ASYM, C_sym=C_SYM, C_asym=C_ASYM)
    )
    data = cm.save_data(out, NAME, params, **arrays)
    res = cm.result(
        NAME, _claims(searches, approach, rand, figs[0]), figs, data, summary, t0, params
    )
    res["discussion"] = __doc__.split("Searches:")[0].split("\n\n", 1)[1].strip()
    return res
