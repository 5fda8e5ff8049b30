"""Shared plumbing of the experiments: house style, saving data (npz + json sidecar) and figures
(PNG + PDF), claims, and vectorised physics helpers on top of :mod:`jaxtls`.

Every experiment works with the paper's two-bath, symmetric model (``J^(1)_n = J^(2)_n``),
``Delta = 1``, and calls :func:`observe` / :func:`lam`, which evaluate whole arrays of parameter
points with one jitted function per solver method. Inputs are broadcast, flattened, padded and
cut into chunks of :data:`CHUNK` points, so that a single compilation per method serves every
experiment of a run (compiling is the main cost on a CPU; a chunk takes ~0.3 ms).

Example:
  >>> from jaxtls.experiments import _common as cm
  >>> out = cm.observe(T1=20.0, T2=0.1, J1=1.0, J2=1000.0, K1=0.0, K2=1000.0)
  >>> round(float(out["N"]), 4), out["bell"].shape
  (0.0325, (4,))
  >>> float(cm.lam([20.0, 0.1], 0.1, 1.0, 1000.0, 0.0, 1000.0)[1]) > 0  # equilibrium: separable
  True
"""

from __future__ import annotations

import json
import os
import sys
import time

import matplotlib
import numpy as np
from matplotlib.figure import Figure

import jaxtls  # switches JAX to float64 before anything here is traced
from jaxtls.batching import map_chunks
from jaxtls.plotting import HOUSE_STYLE

from ._progress import Progress, bar  # noqa: F401  (re-exported for the experiments)

SUP = jaxtls.N_PAPER  # the paper's largest negativity, (sqrt 5 - 2)/6 = 0.0393447...
T2_EXACT = 1 / (2 * np.log(1 + np.sqrt(2)))  # highest entangled T2 (derived in t2_threshold)

# ------------------------------------------------------------------------------------------
# House style: one look for every figure (talk-ready: large labels, units, light grid). It is
# applied with ``matplotlib.rc_context`` while a figure is drawn, never to the global rcParams,
# and the figures are plain ``matplotlib.figure.Figure`` objects (no pyplot, no backend switch):
# importing the experiments, or making their figures, leaves the user's matplotlib state alone.

STYLE = {
    **HOUSE_STYLE,
    "figure.figsize": (6.4, 4.4),
    "figure.dpi": 110,
    "axes.prop_cycle": matplotlib.cycler(color=matplotlib.colormaps["tab10"].colors),
}
# the paper's line styles, named as in its captions
LINESTYLES = {
    "solid": "-",
    "dashed": (0, (6, 3)),
    "dotted": (0, (1, 1.6)),
    "short-dashed": (0, (2.5, 2)),
    "dash-dotted": (0, (6, 2, 1.5, 2)),
}
LIMIT_COLOR = "0.35"  # analytic limits and reference values


def style():
    """The house style as a context manager (``matplotlib.rc_context(STYLE)``): rcParams are
    restored on exit."""
    return matplotlib.rc_context(STYLE)


_STYLED: list = []  # (figure, its style context) of figures not yet saved, oldest first
_FIGURE_KW = ("figsize", "dpi", "facecolor", "edgecolor", "layout")


def figure(**kw):
    """A new ``(fig, ax)`` in the house style (constrained layout); ``kw`` as for
    ``plt.subplots`` (``figsize``, ``ncols``, ``sharex``, ...).

    The style is active (``matplotlib.rc_context``) from here until :func:`save_figure` of this
    figure, which restores the caller's rcParams; the figure is a plain
    ``matplotlib.figure.Figure`` (no pyplot state, no backend switch).
    """
    kw.setdefault("layout", "constrained")
    ctx = style()
    ctx.__enter__()
    try:
        fig = Figure(**{k: kw.pop(k) for k in _FIGURE_KW if k in kw})
        axes = fig.subplots(**kw)
    except BaseException:
        ctx.__exit__(*sys.exc_info())
        raise
    _STYLED.append((fig, ctx))
    return fig, axes


def _release(fig) -> None:
    """Leave the style context of ``fig`` (and of any figure opened after it, unsaved)."""
    for i, (f, _) in enumerate(_STYLED):
        if f is fig:
            while len(_STYLED) > i:
                _STYLED.pop()[1].__exit__(None, None, None)
            return


def save_figure(fig, out, name) -> list[str]:
    """Write ``name.png`` and ``name.pdf`` into ``out``; returns ``[png, pdf]``. Ends the house
    style opened by :func:`figure` for ``fig``."""
    try:
        os.makedirs(out, exist_ok=True)
        paths = [os.path.join(out, f"{name}.{ext}") for ext in ("png", "pdf")]
        fig.savefig(paths[0], bbox_inches="tight")
        fig.savefig(paths[1], bbox_inches="tight")
    finally:
        _release(fig)
    return paths


def save_data(out, name, params: dict, **arrays) -> list[str]:
    """Write the arrays to ``name.npz`` and the parameters that produced them, with the array
    names, to the sidecar ``name.json``; returns ``[npz, json]``."""
    os.makedirs(out, exist_ok=True)
    npz, side = os.path.join(out, f"{name}.npz"), os.path.join(out, f"{name}.json")
    np.savez(npz, **{k: np.asarray(v) for k, v in arrays.items()})
    with open(side, "w") as f:
        doc = {"experiment": name, "parameters": _plain(params), "arrays": sorted(arrays)}
        json.dump(doc, f, indent=1, default=str)
    return [npz, side]


def claim(text, quoted, computed, tolerance, agree, figure=None, note="") -> dict:
    """One line of the report: the paper's statement, its value, ours, the tolerance, and
    whether they agree (``None``: not checked, e.g. an optional part that could not run)."""
    return {
        "claim": text,
        "quoted": _plain(quoted),
        "computed": _plain(computed),
        "tolerance": tolerance,
        "agree": None if agree is None else bool(agree),
        "figure": figure,
        "note": note,
    }


def result(name, claims, figures, data, summary, t0, params=None) -> dict:
    """The dict every experiment's ``run`` returns."""
    return {
        "name": name,
        "claims": claims,
        "figures": figures,
        "data": data,
        "summary": _plain(summary),
        "wall_time": round(time.perf_counter() - t0, 3),
        "parameters": _plain(params or {}),
    }


def _plain(x):
    """JSON-friendly copy (numpy scalars and arrays to Python, dict keys to str)."""
    if isinstance(x, dict):
        return {str(k): _plain(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_plain(v) for v in x]
    if isinstance(x, np.ndarray):
        return _plain(x.tolist())
    if isinstance(x, (np.floating, np.integer, np.bool_)):
        return x.item()
    if isinstance(x, float) and not np.isfinite(x):
        return str(x)
    return x


def stderr_if(show: bool):
    """``sys.stderr`` when ``show``, else ``None`` (silent progress)."""
    return sys.stderr if show else None


def compilation_cache(path=None, min_seconds=0.3) -> str | None:
    """Turn on JAX's persistent compilation cache (compiling dominates a reproduction on a CPU;
    a second run, or a notebook after the tests, then reuses the executables). Leaves an
    existing setting (``JAX_COMPILATION_CACHE_DIR`` or the jax config) alone; otherwise uses
    ``path``, by default ``$XDG_CACHE_HOME/jaxtls/xla`` (``~/.cache/jaxtls/xla``). Returns the
    folder in use (``None`` if it cannot be created)."""
    import jax

    current = jax.config.jax_compilation_cache_dir
    if current:
        return current
    if path is None:
        base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        path = os.path.join(base, "jaxtls", "xla")
    try:
        os.makedirs(path, exist_ok=True)
    except OSError:
        return None
    jax.config.update("jax_compilation_cache_dir", str(path))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", float(min_seconds))
    return str(path)


# ------------------------------------------------------------------------------------------
# Vectorised evaluation of the two-bath model (jitted once per padded size and method).

_ARGS = ("T1", "T2", "J1", "J2", "K1", "K2", "xi", "det", "exchange")
CHUNK = 1024  # every evaluation runs in chunks of this many points: one compilation per method
_JITTED: dict = {}


def two_bath(T1, T2, J1, J2, K1, K2, xi=0.0, det=0.0, exchange=0.0):
    """The paper's two-bath :class:`jaxtls.Model` (symmetric coupling, Delta = 1); all
    arguments broadcast, ``det`` is ``Delta_1 - Delta_2``, ``exchange`` the Omega of
    ``H_x = Omega (s1^dag s2 + s2^dag s1)`` (a rate in the units of J, either sign).
    :func:`jaxtls.two_bath_model` builds it, every leaf broadcast to the common shape."""
    import jax.numpy as jnp

    args = (T1, T2, J1, J2, K1, K2, xi, det, exchange)
    a = jnp.broadcast_arrays(*(jnp.asarray(x, jnp.float64) for x in args))
    names = ("T_1", "T_2", "J_1", "J_2", "K_1", "K_2", "xi", "detuning", "exchange")
    return jaxtls.two_bath_model(dict(zip(names, a, strict=True)))


def _compiled(solver: str):
    if solver not in _JITTED:
        import jax

        def full(*args):
            s = jaxtls.steady_state(two_bath(*args), solver=solver, check=False)
            return {
                "lam": jaxtls.pt_min_eigenvalue(s),
                "N": jaxtls.negativity(s),
                "p": s.populations,
                "c_re": s.c_re,
                "c_im": s.c_im,
                "bell": jaxtls.bell_populations(s),
            }

        _JITTED[solver] = jax.jit(full)
    return _JITTED[solver]


def _evaluate(solver, args):
    arrs = np.broadcast_arrays(*(np.asarray(a, np.float64) for a in args))
    shape, n = arrs[0].shape, arrs[0].size
    if n == 0:
        raise ValueError("empty parameter arrays")
    fn = _compiled(solver)
    out = map_chunks(lambda a: fn(*a), [a.ravel() for a in arrs], CHUNK)
    return {k: v.reshape(shape + v.shape[1:]) for k, v in out.items()}


def observe(T1, T2, J1, J2, K1, K2, xi=0.0, det=0.0, solver="closed_form", exchange=0.0) -> dict:
    """Steady state and measures at broadcast parameter points (numpy in, numpy out).

    Returns a dict of arrays of the broadcast shape ``S``: ``lam`` (signed lambda_-), ``N``
    (negativity), ``p`` (``S + (4,)`` populations of |++>, |+->, |-+>, |-->), ``c_re``,
    ``c_im`` (rho_23) and ``bell`` (``S + (4,)`` weights of |++>, psi+, psi-, |-->). NaN marks
    invalid or non-unique points. ``solver``: ``"closed_form"`` (eqs. 23-24) or ``"general"``;
    ``exchange``: the Omega of :func:`two_bath` (default 0).

    Example:
      >>> from jaxtls.experiments._common import observe
      >>> observe([1.0, 2.0], 0.0, 1.0, 10.0, 0.0, 10.0)["N"].shape
      (2,)
    """
    return _evaluate(solver, (T1, T2, J1, J2, K1, K2, xi, det, exchange))


def lam(T1, T2, J1, J2, K1, K2, xi=0.0, det=0.0, solver="closed_form", exchange=0.0) -> np.ndarray:
    """Signed smallest partial-transpose eigenvalue lambda_- (negative iff entangled) at
    broadcast parameter points; the cheap sign function of every root finding here.

    Example:
      >>> from jaxtls.experiments._common import lam
      >>> bool(lam(20.0, 0.1, 1.0, 1000.0, 0.0, 1000.0) < 0)
      True
    """
    return _evaluate(solver, (T1, T2, J1, J2, K1, K2, xi, det, exchange))["lam"]


# ------------------------------------------------------------------------------------------
# Vectorised root finding and maximisation (numpy drivers around the jitted evaluations).


def bisect(f, lo, hi, n_iter=60, log=False):
    """Vectorised bisection for the sign change of ``f`` between ``lo`` and ``hi`` (arrays).

    ``f`` maps an array of abscissae to an array of values. The bracket keeps the end whose
    sign is that of ``f(lo)``; ``log=True`` bisects geometrically (``lo, hi > 0``). Points
    without a sign change (or with NaN ends) come back as NaN. Returns the midpoint of the
    final bracket (width ``(hi - lo) 2**-n_iter``, or that ratio in log).

    Example:
      >>> from jaxtls.experiments._common import bisect
      >>> round(float(bisect(lambda x: x * x - 2, 0.0, 2.0)), 12)
      1.414213562373
    """
    lo, hi = (np.array(x, np.float64) for x in np.broadcast_arrays(lo, hi))
    flo, fhi = np.asarray(f(lo)), np.asarray(f(hi))
    ok = (np.sign(flo) * np.sign(fhi) < 0) & np.isfinite(flo) & np.isfinite(fhi)
    s_lo = np.sign(flo)
    for _ in range(n_iter):
        mid = np.sqrt(lo * hi) if log else 0.5 * (lo + hi)
        same = np.sign(np.asarray(f(mid))) == s_lo
        lo, hi = np.where(same, mid, lo), np.where(same, hi, mid)
    mid = np.sqrt(lo * hi) if log else 0.5 * (lo + hi)
    return np.where(ok, mid, np.nan)


def golden_max(f, lo, hi, n_iter=60):
    """Vectorised golden-section maximisation of a unimodal ``f`` on ``[lo, hi]`` (arrays);
    one evaluation of ``f`` per iteration. Returns ``(x_best, f(x_best))``.

    Example:
      >>> from jaxtls.experiments._common import golden_max
      >>> x, fx = golden_max(lambda x: 1 - (x - 0.3) ** 2, 0.0, 1.0)
      >>> round(float(x), 6), round(float(fx), 12)
      (0.3, 1.0)
    """
    g = (np.sqrt(5) - 1) / 2
    a, b = (np.array(x, np.float64) for x in np.broadcast_arrays(lo, hi))
    c, d = b - g * (b - a), a + g * (b - a)
    fc, fd = np.asarray(f(c)), np.asarray(f(d))
    for _ in range(n_iter):
        left = fc > fd
        a, b = np.where(left, a, c), np.where(left, d, b)
        c_new = np.where(left, b - g * (b - a), d)
        d_new = np.where(left, c, a + g * (b - a))
        fnew = np.asarray(f(np.where(left, c_new, d_new)))
        fc, fd = np.where(left, fnew, fd), np.where(left, fc, fnew)
        c, d = c_new, d_new
    x = 0.5 * (a + b)
    return x, np.asarray(f(x))


def grid_golden_max(f, lo, hi, shape=(), n_grid=64, n_iter=50):
    """Global-then-local maximisation of ``f`` on ``[lo, hi]`` (scalars) for a batch of shape
    ``shape``: ``f`` takes abscissae of shape ``shape + (k,)`` and returns values of that shape.
    A scan of ``n_grid`` points, then golden section in the best cell. Returns ``(x_best,
    f_best)`` of shape ``shape``.

    Example:
      >>> import numpy as np
      >>> from jaxtls.experiments._common import grid_golden_max
      >>> c = np.array([0.2, 0.7])
      >>> x, fx = grid_golden_max(lambda x: -np.abs(x - c[:, None]) ** 1.5, 0.0, 1.0, (2,))
      >>> np.round(x, 6).tolist()
      [0.2, 0.7]
    """
    g = np.broadcast_to(np.linspace(lo, hi, n_grid), tuple(shape) + (n_grid,))
    vals = np.asarray(f(g))
    vals = np.where(np.isfinite(vals), vals, -np.inf)
    k = np.argmax(vals, axis=-1)
    step = (hi - lo) / (n_grid - 1)
    a, b = lo + step * np.maximum(k - 1, 0), lo + step * np.minimum(k + 1, n_grid - 1)
    return golden_max(lambda x: f(x[..., None])[..., 0], a, b, n_iter)


# ------------------------------------------------------------------------------------------
# Closed forms: the paper's eq. (26), and the J2/J1 -> infinity limit derived here.


def eq26(theta, kappa):
    """The paper's large-J2/J1 state, eq. (26): ``(p1, p2 = p3, p4, c)``; ``theta = T1 J1 /
    (Delta J2)``, ``kappa = K2/J2`` (valid for ``T2 << Delta << T1``).

    Example:
      >>> from jaxtls.experiments._common import eq26, x_negativity
      >>> p1, p2, p4, c = eq26(1e-9, 1.0)  # theta -> 0, kappa = 1: the 2/3-1/3 state
      >>> round(float(p1), 6), round(float(x_negativity(p1, p4, c)), 6)
      (0.666667, 0.039345)
    """
    theta = np.asarray(theta, np.float64)
    gap = (1 - np.abs(kappa)) * (1 + np.abs(kappa))  # 1 - kappa^2, expanded: no cancellation
    sigma = 1.0 / (gap + theta * (6 + theta * (12 + 8 * theta)))  # [(1 + 2 theta)^3 - kappa^2]^-1
    p1 = sigma * (gap + theta * (4 + theta * (5 + 2 * theta)))  # (1+theta)^2 (1+2 theta) - kappa^2
    p2 = sigma * theta * (1 + theta) * (1 + 2 * theta)
    p4 = sigma * theta**2 * (1 + 2 * theta)
    c = -sigma * kappa * theta
    return p1, p2, p4, c


def x_negativity(p1, p4, c):
    """Negativity of an X state with ``p2 = p3`` from ``p1, p4`` and ``|rho_23| = |c|``."""
    lam_minus = 0.5 * (p1 + p4) - 0.5 * np.sqrt((p1 - p4) ** 2 + 4 * np.abs(c) ** 2)
    return np.maximum(-lam_minus, 0.0)


def limit_state(T1, T2):
    """Steady state for ``K1 = 0, K2 = J2, xi = 0`` in the limit ``J2/J1 -> infinity`` at fixed
    temperatures (derived here). Returns the Bell weights ``(p_gg, p_plus, p_minus, p_ee)``.

    Bath 2 drives only |++> <-> psi+ <-> |--> (K2 = J2 leaves the singlet psi- dark), fast,
    and thermalises those three states at T2: weights ``1 : x : x^2`` with
    ``x = exp(-Delta/T2)``. Bath 1 (K1 = 0) couples psi- to |++> and |--> at rates ~ J1, so
    slowly that it only sets the singlet weight, by detailed balance of its own rates:
    ``p_minus = (y p_gg + p_ee)/(1 + y)``, ``y = exp(-Delta/T1)``. The result is independent of
    how small J1/J2 is, as long as ``T1 << Delta J2/J1`` (``theta -> 0``).

    Example:
      >>> from jaxtls.experiments._common import limit_state
      >>> [round(float(w), 6) for w in limit_state(1e12, 1e-3)]  # T2 -> 0, T1 -> infinity
      [0.666667, 0.0, 0.333333, 0.0]
    """
    x = np.exp(-1.0 / np.asarray(T2, np.float64))
    y = np.exp(-1.0 / np.asarray(T1, np.float64))
    g, pl, e = 1.0, x, x * x
    m = (y * g + e) / (1 + y)
    s = g + pl + e + m
    return g / s, pl / s, m / s, e / s


def limit_negativity(T1, T2):
    """Negativity of :func:`limit_state` (``p2 = p3 = (p+ + p-)/2``, ``c = (p+ - p-)/2``)."""
    g, pl, m, e = limit_state(T1, T2)
    return x_negativity(g, e, 0.5 * (pl - m))


def limit_boundary_T2(T1):
    """The entanglement boundary ``T2(T1)`` of :func:`limit_state` (``J2/J1 -> infinity``,
    ``K2 = J2``): entangled iff ``x^2 - 3(1 + y) x + y > 0`` with ``x = exp(-Delta/T2)``,
    ``y = exp(-Delta/T1)``, i.e. below the smaller root ``x``. Tends to
    ``1/(2 ln(1 + sqrt 2))`` for ``T1 -> infinity`` and to ``1/T2 = 1/T1 + ln 3`` for
    ``T1 -> 0`` (tangent to ``T1 = T2``).

    Example:
      >>> from jaxtls.experiments._common import limit_boundary_T2, T2_EXACT
      >>> bool(abs(limit_boundary_T2(1e15) - T2_EXACT) < 1e-12)
      True
    """
    y = np.exp(-1.0 / np.asarray(T1, np.float64))
    b = 3 * (1 + y)
    x = 2 * y / (b + np.sqrt(b * b - 4 * y))  # smaller root, written without cancellation
    with np.errstate(divide="ignore"):
        return np.where(x > 0, -1.0 / np.log(np.where(x > 0, x, 0.5)), 0.0)
