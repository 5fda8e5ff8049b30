"""Multi-start maximisation of the steady-state negativity over a :class:`Space`.

All starts run at once: the guarded loss and its gradient
(:func:`optimize.objectives.loss_and_grad`) are ``jax.vmap``-ed over the starts, and one optax
Adam updates the ``(n_starts, dim)`` array of unconstrained parameters (Adam is elementwise,
so this is exactly one independent Adam per start). The schedule (:func:`learning_rate`) is a
linear warm-up and a cosine decay over ``steps``, then the polish: every start goes back to
the best point it has visited, its Adam moments are cleared, and Adam continues for
``polish_steps`` with a step decaying exponentially from ``lr/20`` to ``1e-5``.

Elite restarts. Starts that begin on the cold separable plateau (every population but that
of ``|++>`` exponentially small) see an exponentially small gradient and stall. At
``n_restarts`` evenly spaced steps of the first 60% of the run, every start outside the
elite (the best ``elite`` fraction by best objective so far) is restarted from an elite
start's best point plus Gaussian noise of width ``sigma`` (in the unconstrained coordinates),
with fresh Adam moments. ``SearchResult.fraction_within_1pct_independent`` reports how many
starts reached the best value on their own, before the first restart.

The run is a compiled ``lax.scan`` executed in chunks of :data:`CHUNK` steps (for the progress
bar); ``steps``, ``polish_steps`` and ``lr`` are traced, so one compilation per space,
objective and number of starts serves every run. Deterministic for a given seed. The engine
(schedule, compiled step, chunked driver) is :mod:`optimize._engine`; this module holds the
front ends, their result types, the status checks and the reporting.

Example:
  >>> from jaxtls import optimize
  >>> r = optimize.maximize_negativity(optimize.paper(), n_starts=32, steps=300, seed=1)
  >>> round(r.negativity, 3), r.traces.shape  # 300 steps and 200 polish steps per start
  (0.039, (32, 500))
"""

from __future__ import annotations

import hashlib
import json
import pickle
import time
from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

import jaxtls
from jaxtls import distributed
from jaxtls.batching import iter_chunks, map_chunks
from jaxtls.progress import ProgressBar

from ._engine import (  # noqa: F401  (CHUNK, FAST_COMPILE*, learning_rate: this module's API)
    CHUNK,
    FAST_COMPILE,
    FAST_COMPILE_MAX_WORK,
    compile_mode,
    compiled_space,
    hyper,
    learning_rate,
    run,
    run_slice,
)
from .constraints import is_lower, measure
from .objectives import check_objective
from .space import Space


class VariantResult(NamedTuple):
    """The best point of one combination of bath dimensionalities ``D``."""

    D: dict
    negativity: float
    params: dict
    model: jaxtls.Model


class SearchResult(NamedTuple):
    """Result of :func:`maximize_negativity` (a PyTree of arrays, dicts and scalars).

    Attributes:
      model: best :class:`jaxtls.Model` (batch shape ``()``).
      negativity: its negativity N.
      state: its steady state (:class:`jaxtls.XState`).
      params: name -> value of every quantity of the space at the best point.
      D: the bath dimensionalities of the best point (``{}`` without geometry).
      start_negativities: ``(n_starts,)`` N at the best point of every start (best variant).
      traces: ``(n_starts, steps + polish_steps)`` objective per step and start (best
        variant; ``-lambda_-`` for the default objective, which is N where positive);
        NaN points show the guard value.
      fraction_within_1pct: fraction of starts whose final N is within 1% of the best.
      variants: one :class:`VariantResult` per ``D`` combination (all reported).
      wall_time: seconds, compilation included.
      settings: the arguments of the run.
      objective: the best value of the objective searched (``settings["objective"]``).
      fraction_within_1pct_independent: fraction of starts that came within 1% of the best
        N on their own, before the first elite restart.
      status: ``"ok"``; ``"not unique"`` when no start reached a point with a unique steady
        state (the state is NaN); ``"infeasible"`` when the best point misses a constraint
        by more than 5% (see ``constraints_achieved``). With ``throw=True`` (the default)
        both raise instead of returning.
      constraints_achieved: ``(kind, bound, achieved)`` per constraint at the best point.
    """

    model: jaxtls.Model
    negativity: float
    state: jaxtls.XState
    params: dict
    D: dict
    start_negativities: np.ndarray
    traces: np.ndarray
    fraction_within_1pct: float
    variants: tuple
    wall_time: float
    settings: dict
    objective: float = float("nan")
    fraction_within_1pct_independent: float = float("nan")
    status: str = "ok"
    constraints_achieved: tuple = ()


def _check_settings(space, n_starts, steps, polish_steps, lr, n_restarts, elite, sigma, kind):
    if not isinstance(space, Space):
        raise ValueError(f"space must be an optimize.Space, got {type(space).__name__}")
    if space.dim == 0:
        raise ValueError(f"space {space.name!r} has no free parameters: nothing to search")
    if int(n_starts) < 1 or int(steps) < 1 or int(polish_steps) < 0:
        raise ValueError(
            f"n_starts and steps must be >= 1 and polish_steps >= 0, got n_starts={n_starts}, "
            f"steps={steps}, polish_steps={polish_steps}"
        )
    if not (np.isfinite(lr) and lr > 0):
        raise ValueError(f"lr must be finite and > 0, got {lr}")
    if int(n_restarts) < 0 or not (0 < elite <= 1) or not (np.isfinite(sigma) and sigma >= 0):
        raise ValueError(
            f"need n_restarts >= 0, 0 < elite <= 1, sigma >= 0; got {n_restarts}, {elite}, {sigma}"
        )
    check_objective(kind)


@partial(jax.jit, static_argnums=0)
def _values_at(space, u, fixed, variant):
    """name -> values and the Model at points ``u`` (one compilation, not many eager ops)."""
    vals = space.values(u, fixed)
    return vals, space.model(vals, variant)


def _float_dict(values: dict) -> dict:
    return {k: float(v) for k, v in values.items()}


def _numpy(tree):
    return jax.tree_util.tree_map(np.asarray, tree)


def _row(tree, j):
    return jax.tree_util.tree_map(lambda x: x[j], tree)


def _reporter(progress, total, label):
    """(update(done, info), write(line), close()) for ``progress`` (None, True, a bar or a
    callable taking one line of text)."""
    if progress is None or progress is False:
        return (lambda *_: None), (lambda _line: None), (lambda: None)
    if progress is True:
        progress = ProgressBar(total, label)
    if hasattr(progress, "update") and hasattr(progress, "write"):
        return progress.update, progress.write, getattr(progress, "close", lambda: None)
    state = {"decile": -1}

    def update(done, info=""):
        decile = int(10 * done / max(total, 1))
        if decile != state["decile"]:
            state["decile"] = decile
            progress(f"{label}: {done}/{total} steps {info}".rstrip())

    return update, progress, (lambda: None)


def maximize_negativity(
    space: Space,
    n_starts: int = 128,
    steps: int = 600,
    seed: int = 0,
    *,
    lr: float = 1.0,
    polish_steps: int = 200,
    restart: bool = True,
    n_restarts: int = 3,
    elite: float = 0.125,
    sigma: float = 0.3,
    objective: str = "negativity",
    progress=None,
    throw: bool = True,
    fast_compile: bool | None = None,
) -> SearchResult:
    """Maximise the steady-state negativity over ``space`` from ``n_starts`` random starts.

    Every combination of bath dimensionalities ``D`` of the space is searched (one run each,
    sharing one compilation) and reported in ``result.variants``; the best one is the result.
    Called identically on every process of a ``jax.distributed`` program
    (:mod:`jaxtls.distributed`), P processes share the work and every process returns the
    whole result, bit for bit the one-process result for the same seed. When the search is
    compiled at XLA level 0 (``fast_compile``, the default for searches up to 300000
    start-steps) and ``n_starts >= P``, process ``p`` advances the contiguous slice
    ``[p * n_starts // P, (p + 1) * n_starts // P)`` of the starts of every variant (uneven
    slices differ by one start); at each restart step the processes exchange every start's
    best point and loss (``8 * (dim + 1)`` bytes per start), each computes the same restart
    on the whole arrays (same key, noise drawn for the whole ``(n_starts, dim)`` shape) and
    keeps its rows, and at the end they gather every start. Otherwise (the fully optimised
    code rounds some rows differently for other batch shapes, by one ulp, which the search
    then amplifies) process ``p`` runs whole variants: ``p, p + P, ...``, or variant
    ``p mod D`` when there are fewer variants ``D`` than processes. Processes called with
    different settings (the space compared whole), or invalid ones on any process, get the
    same ``ValueError``.

    Args:
      space: a :class:`optimize.Space`.
      n_starts: number of simultaneous starts (``jax.vmap``).
      steps: Adam steps of the main phase (warm-up, then cosine decay from ``lr``).
      seed: PRNG seed of the starts and restarts; the result is deterministic per seed.
      lr: peak learning rate in the unconstrained coordinates.
      polish_steps: steps of the polish (from each start's best point, Adam with a step
        decaying from ``lr/20`` to ``1e-5``).
      restart: allow elite restarts (module docstring); ``n_restarts`` of them, evenly
        spaced over the first 60% of ``steps``, keeping the best ``elite`` fraction and
        restarting the others near it with noise ``sigma``.
      objective: ``"negativity"`` (the signed ``-lambda_-``) or ``"margin"``
        (:func:`optimize.objectives.entanglement_margin`, to locate the entanglement
        boundary). The best start is the best by this objective.
      progress: ``None``, ``True`` (a progress bar on stderr), an object with
        ``update(done, info)`` and ``write(line)`` (:class:`optimize.ProgressBar`), or a
        callable taking one line of text.
      throw: raise ``ValueError`` when the search failed (``SearchResult.status``: no point
        with a unique steady state, or a constraint that the best point misses by more than
        5%); ``False`` returns the result with its status instead.
      fast_compile: compile the search at XLA's backend optimisation level 0 (about 2x
        faster to compile, 5-10x slower per step); ``None`` (default) does so for small
        searches (``n_starts x (steps + polish_steps) <= 300000``), the choice is recorded
        in ``result.settings["fast_compile"]``.

    Returns:
      :class:`SearchResult`.

    Raises:
      ValueError: a space without free parameters, settings out of range, or (``throw``)
        a failed search.

    Example:
      >>> from jaxtls import optimize
      >>> r = optimize.maximize_negativity(optimize.paper(), n_starts=32, steps=300, seed=0)
      >>> r.negativity > 0.039, optimize.classify(r.state).regime
      (True, '2/3-1/3')
    """
    n_restarts = n_restarts if restart else 0
    t0, lay = time.perf_counter(), distributed.layout()
    try:
        _check_settings(
            space, n_starts, steps, polish_steps, lr, n_restarts, elite, sigma, objective
        )
        n_starts, steps, polish_steps = int(n_starts), int(steps), int(polish_steps)
        u0 = space.sample(np.random.default_rng([seed, 0]), n_starts)
        # what the processes must agree on besides the arrays: kinds and bounds included
        described = json.dumps(space.spec(), sort_keys=True, default=str) if lay.count > 1 else ""
    except Exception as e:
        _fail_everywhere(lay, _NAME, e)
    h = hyper(steps, polish_steps, lr, n_restarts, elite, sigma, n_starts, objective)
    k_run = np.int64(seed)
    constraints = [[c.kind, float(c.bound)] for c in space.constraints]
    space, fixed = compiled_space(space)
    fixed = {k: jnp.asarray(v, jnp.float64) for k, v in fixed.items()}
    variants = space.variants()
    total = steps + polish_steps
    fast = compile_mode(fast_compile, n_starts * total)
    update, write, close = _reporter(progress, total * len(variants), f"optimize {space.name}")
    runs = {}
    plan = _plan(len(variants), n_starts, lay, fast, (u0, h, fixed, k_run, described, variants))
    err, whole = None, plan[0][1] is None  # whole variants per process (no exchanges)
    try:
        for i, rows in plan:
            var = variants[i]
            dvar = {n: jnp.asarray(D, jnp.int64) for n, D in var.items()}

            def on_chunk(done, carry, i=i):
                best = float(jnp.max(carry.best_N))
                update(i * total + done, f"best N {best:.6g}")

            tv = time.perf_counter()
            args = (space, h, u0, k_run, fixed, dvar)
            on = None if progress is None else on_chunk
            if rows is None:
                carry, traces = run(*args, on_chunk=on, fast=fast)
            else:
                carry, traces = _starts_over_processes(args, i, rows, lay, on, fast)
            c = _numpy(carry._replace(opt_state=None))
            obj = -c.best_loss
            j = int(np.argmax(obj))
            vals, model = _numpy(_values_at(space, jnp.asarray(c.best_u[j]), fixed, dvar))
            first = None
            if objective == "negativity" and not space.constraints:
                first = np.maximum(-c.first_loss, 0.0)
            runs[i] = dict(
                var=var,
                obj=obj,
                N=c.best_N,
                first=first,
                traces=traces,
                state=_row(c.best_state, j),
                summary=VariantResult(var, float(c.best_N[j]), _float_dict(vals), model),
            )
            label = f" D={var}" if var else ""
            write(
                f"[{i + 1}/{len(variants)}] {space.name}{label}: best N = {c.best_N[j]:.6g} "
                f"({time.perf_counter() - tv:.1f} s)"
            )
    except Exception as e:
        if lay.count == 1 or not whole:  # a split search's failures are exchanged already
            raise
        err = f"maximize_negativity: {type(e).__name__}: {e}"
    close()
    if lay.count > 1 and whole:  # one process's failure, not a wait in the gather below
        distributed.check_all(_NAME + ": variants", err)
    runs = _gather_variants(runs, len(variants), [i for i, _ in plan], lay)
    best = runs[int(np.argmax([float(r["obj"].max()) for r in runs]))]
    nbest = best["summary"].negativity

    def frac(x):
        return float(np.mean(x >= 0.99 * nbest)) if (nbest > 0 and x is not None) else 0.0

    status, achieved = _status(best["summary"].model, best["state"], constraints)
    if throw and status != "ok":
        raise ValueError(_failure(space.name, status, achieved))
    return SearchResult(
        model=best["summary"].model,
        negativity=nbest,
        state=best["state"],
        params=best["summary"].params,
        D=best["var"],
        start_negativities=best["N"],
        traces=best["traces"],
        fraction_within_1pct=frac(best["N"]),
        variants=tuple(r["summary"] for r in runs),
        wall_time=time.perf_counter() - t0,
        settings=dict(
            space=space.name,
            n_starts=n_starts,
            steps=steps,
            polish_steps=polish_steps,
            restart_steps=[int(s) for s in np.asarray(h.restart_steps)],
            elite=elite,
            sigma=sigma,
            seed=seed,
            lr=lr,
            objective=objective,
            constraints=constraints,
            fast_compile=fast,
        ),
        objective=float(best["obj"].max()),
        fraction_within_1pct_independent=(
            frac(best["first"]) if best["first"] is not None else float("nan")
        ),
        status=status,
        constraints_achieved=achieved,
    )


def _status(model, state, constraints, rtol=0.05):
    """``(status, ((kind, bound, achieved), ...))`` of a search's best point."""
    if not np.all(np.isfinite(np.asarray(state.populations))):
        return "not unique", ()
    achieved = tuple((kind, bound, float(measure(kind, model))) for kind, bound in constraints)
    if achieved and not float(jaxtls.negativity(state)) > 0:
        return "infeasible", achieved  # no entangled point found that meets them
    for kind, bound, value in achieved:
        ok = value >= bound * (1 - rtol) if is_lower(kind) else value <= bound * (1 + rtol)
        if not ok:  # NaN fails too
            return "infeasible", achieved
    return "ok", achieved


def _failure(name, status, achieved) -> str:
    if status == "not unique":
        return (
            f"optimize {name}: no start reached a point with a unique steady state (every "
            "point searched is NaN): the space holds only TLS coupled identically to every "
            "bath (free kappa, xi, detuning or exchange away from that)"
        )
    missed = "; ".join(f"{k} bound {b:.3g}, best point {v:.3g}" for k, b, v in achieved)
    return (
        f"optimize {name}: the constraints look infeasible in this space ({missed}): the "
        "best point misses them by more than 5%, or is not entangled; relax the bound, widen "
        "the space or add starts"
    )


class GridResult(NamedTuple):
    """Result of :func:`search_grid`: the best point of each grid point's search.

    Attributes:
      u: ``(n_grid, dim)`` best unconstrained point.
      objective: ``(n_grid,)`` its objective.
      values: name -> ``(n_grid,)`` every quantity of the space there.
      negativity: ``(n_grid,)`` its negativity.
      state: :class:`jaxtls.XState` of shape ``(n_grid,)``.
    """

    u: np.ndarray
    objective: np.ndarray
    values: dict
    negativity: np.ndarray
    state: jaxtls.XState


def search_grid(
    space: Space,
    fixed_grid: dict,
    variant_grid: dict | None = None,
    *,
    n_starts: int = 64,
    steps: int = 400,
    polish_steps: int = 100,
    seed: int = 0,
    lr: float = 1.0,
    n_restarts: int = 3,
    elite: float = 0.125,
    sigma: float = 0.3,
    objective: str = "negativity",
    block: int | None = 16,
    u0=None,
    progress=None,
    fast_compile: bool | None = None,
) -> GridResult:
    """Many independent searches at once, one per point of a grid of fixed values.

    Args:
      space: a :class:`optimize.Space`; its fixed quantities are overridden per grid point.
      fixed_grid: name -> ``(n_grid,)`` values of fixed quantities (the others keep their
        value) or of constraint bounds (``"constraint_0"``, ... in the order of
        ``space.constraints``: one compiled search then traces a whole Pareto front).
      variant_grid: bath -> ``(n_grid,)`` dimensionalities ``D`` (geometry spaces).
      objective: as in :func:`maximize_negativity`.
      u0: optional starting points in the unconstrained coordinates, shape
        ``(n_starts, dim)`` (the same for every grid point) or ``(n_grid, n_starts, dim)``
        (warm starts, e.g. near a known optimum); default: uniform in the box.
      block: grid points per compiled call (the last block is padded): one compilation
        serves every grid length (``None``: the whole grid at once).
      fast_compile: as in :func:`maximize_negativity` (the work counted is the whole grid).
      progress: as in :func:`maximize_negativity`.

    Called identically on every process of a ``jax.distributed`` program
    (:mod:`jaxtls.distributed`), process ``p`` searches the blocks ``p, p + P, ...`` and every
    process returns the whole result, equal to one process's (fewer blocks than processes,
    different arguments or invalid ones on any process: a ``ValueError`` on every process).

    Returns:
      :class:`GridResult`.

    Example:
      >>> from jaxtls import optimize
      >>> sp = optimize.paper().replace(kappa_2=optimize.Fixed(1.0))
      >>> g = optimize.search_grid(sp, {"kappa_2": [0.3, 0.45, 0.6, 0.9]}, n_starts=16,
      ...                          steps=100)
      >>> (g.negativity > 0).tolist()  # entanglement needs |kappa_2| > 1/2 + 3/(2 J2/J1)
      [False, False, True, True]
    """
    lay = distributed.layout()
    try:
        compiled, fixed, variant, g, block, n_blocks, u0 = _grid_inputs(
            space,
            fixed_grid,
            variant_grid,
            n_starts,
            steps,
            polish_steps,
            seed,
            block,
            u0,
            (lr, n_restarts, elite, sigma, objective),
        )
        described = json.dumps(space.spec(), sort_keys=True, default=str) if lay.count > 1 else ""
    except Exception as e:
        _fail_everywhere(lay, "optimize.search_grid", e)
    space = compiled
    n_starts, total = int(n_starts), int(steps) + int(polish_steps)
    h = hyper(int(steps), int(polish_steps), lr, n_restarts, elite, sigma, n_starts, objective)
    keys = np.int64(seed) * 1_000_003 + np.arange(g, dtype=np.int64)
    fast = compile_mode(fast_compile, g * n_starts * total)
    update, _, close = _reporter(progress, total * n_blocks, f"grid {space.name} ({g} points)")
    blocks_done = [0]

    def search_block(b):  # one compiled search of `block` grid points (the last one padded)
        i = blocks_done[0]
        blocks_done[0] += 1
        carry, _ = run(
            space,
            h,
            b["u0"],
            b["key"],
            b["fixed"],
            b["variant"],
            grid=True,
            record=False,
            fast=fast,
            on_chunk=None if progress is None else (lambda d, _c: update(i * total + d)),
        )
        return carry._replace(opt_state=None)

    points = dict(u0=u0, key=keys, fixed=fixed, variant=variant)
    if lay.count == 1:
        c = map_chunks(search_block, points, block)
    else:
        c = _blocks_over_processes(search_block, points, block, (h, fast, described))
    close()
    best = np.argmin(c.best_loss, axis=1)
    rows = np.arange(g)
    ub = c.best_u[rows, best]
    vals, _ = _numpy(_values_at(space, jnp.asarray(ub), fixed, variant))
    state = jax.tree_util.tree_map(lambda x: x[rows, best], c.best_state)
    return GridResult(ub, -c.best_loss[rows, best], vals, c.best_N[rows, best], state)


def _grid_inputs(
    space, fixed_grid, variant_grid, n_starts, steps, polish_steps, seed, block, u0, more
):
    """:func:`search_grid`'s arguments checked, and the arrays of its grid points: the
    compiled space, fixed values and variants per point, the grid length, block size, number
    of blocks and ``(g, n_starts, dim)`` starting points."""
    lr, n_restarts, elite, sigma, objective = more
    _check_settings(space, n_starts, steps, polish_steps, lr, n_restarts, elite, sigma, objective)
    space, base = compiled_space(space)
    unknown = [k for k in fixed_grid if k not in base]
    if unknown:
        raise ValueError(
            f"fixed_grid: {unknown} are not fixed quantities or constraint bounds of "
            f"{space.name!r}; those are {sorted(base)}"
        )
    sizes = {np.size(v) for v in fixed_grid.values()} | {
        np.size(v) for v in (variant_grid or {}).values()
    }
    if len(sizes) != 1:
        raise ValueError(f"every grid must have the same length, got lengths {sorted(sizes)}")
    g = sizes.pop()
    block = g if block is None else int(block)
    if block < 1:
        raise ValueError(f"block must be >= 1, got {block}")
    n_blocks = -(-g // block)
    fixed = {k: jnp.full((g,), v, jnp.float64) for k, v in base.items()}
    fixed.update({k: jnp.asarray(v, jnp.float64).reshape(g) for k, v in fixed_grid.items()})
    variant = {n: jnp.asarray(D, jnp.int64).reshape(g) for n, D in (variant_grid or {}).items()}
    n_starts = int(n_starts)
    if u0 is None:
        u0 = space.sample(np.random.default_rng([seed, 1]), g * n_starts)
    u0 = np.asarray(u0, np.float64)
    if u0.shape not in ((n_starts, space.dim), (g, n_starts, space.dim), (g * n_starts, space.dim)):
        raise ValueError(
            f"u0 must have shape ({n_starts}, {space.dim}) or ({g}, {n_starts}, {space.dim}), "
            f"got {u0.shape}"
        )
    u0 = np.broadcast_to(u0.reshape(-1, n_starts, space.dim), (g, n_starts, space.dim))
    return space, fixed, variant, g, block, n_blocks, u0


def _fail_everywhere(lay, name, error):
    """Raise ``error`` (bad input seen on this process). Over several processes the others
    wait for this one in the agreement ``name``: it goes there first, so that every process
    raises the same ``ValueError`` instead of waiting until the barrier's timeout."""
    if lay.count > 1:
        distributed.agree(name, {"invalid": True}, f"{name.split('.')[-1]}: {error}")
    raise error


def _fingerprint(*trees) -> str:
    """sha1 of the arrays and values of ``trees`` (what the processes must agree on)."""
    h = hashlib.sha1()
    for leaf in jax.tree_util.tree_leaves(trees):
        a = np.asarray(leaf)
        h.update(str((a.dtype, a.shape)).encode() + np.ascontiguousarray(a).tobytes())
    return h.hexdigest()


def _blocks_over_processes(search_block, points, block, settings):
    """:func:`search_grid`'s blocks over the processes of a ``jax.distributed`` program:
    process ``p`` searches blocks ``p, p + P, ...`` (each the same compiled search as on one
    process), then every process gathers every block (a few kB per grid point)."""
    lay = distributed.layout()
    g = len(points["key"])
    n_blocks = -(-g // block)
    err = None
    if n_blocks < lay.count:
        err = (
            f"search_grid: {g} grid points make {n_blocks} block(s) of {block}, fewer than "
            f"the {lay.count} processes: pass block <= {max(g // lay.count, 1)}"
        )
    spec = dict(inputs=_fingerprint(points, settings[0]), fast=settings[1], space=settings[2])
    distributed.agree("optimize.search_grid", dict(spec, block=block, grid=g), err)
    parts, err = {}, None
    try:
        mine = distributed.my_items(n_blocks, lay)
        for i, *_, carry in iter_chunks(search_block, points, block, todo=mine):
            parts[i] = carry
    except Exception as e:
        err = f"search_grid: {type(e).__name__}: {e}"
    distributed.check_all("optimize.search_grid: blocks", err)
    for b in distributed.allgather("optimize.search_grid", pickle.dumps(parts)):
        parts.update(pickle.loads(b))
    every = [parts[i] for i in range(n_blocks)]
    return jax.tree_util.tree_map(lambda *x: np.concatenate(x), *every)


_NAME = "optimize.maximize_negativity"  # its agreement's name (the same on every process)


def _plan(n, n_starts, lay, fast, settings):
    """What this process searches of :func:`maximize_negativity`: ``[(variant, rows)]``,
    ``rows`` ``None`` for all the starts of that variant or ``(lo, hi)`` for a slice of them.

    Over P processes of a ``jax.distributed`` program, when the search compiles at XLA level
    0 (``fast``) and has at least P starts, process ``p`` advances the contiguous slice
    ``[p * n_starts // P, (p + 1) * n_starts // P)`` of the starts (sizes differ by at most
    one) of every variant, and the processes exchange every start's best points at each
    restart step (:func:`_starts_over_processes`): balanced for any number of variants.
    Otherwise process ``p`` runs whole variants: ``p, p + P, ...`` when there are at least
    P of them, else variant ``p mod n``. (The fully optimised code rounds some rows
    differently for different batch shapes, in the last bit, then amplified by the search:
    a slice would not give the one-process result there.)"""
    if lay.count == 1:
        return [(i, None) for i in range(n)]
    split = bool(fast) and n_starts >= lay.count
    spec = dict(inputs=_fingerprint(settings[:4]), fast=bool(fast), split=split)
    spec.update(space=settings[4], variants=repr(settings[5]))
    distributed.agree(_NAME, spec)
    if split:
        p, count = lay.index, lay.count
        return [(i, (p * n_starts // count, (p + 1) * n_starts // count)) for i in range(n)]
    if n >= lay.count:
        return [(i, None) for i in distributed.my_items(n, lay)]
    return [(lay.index % n, None)]


def _first(pair):
    return pair[0]


class _PeerError(ValueError):
    """A failure reported by some process during an exchange (raised on every process)."""


def _starts_over_processes(args, v, rows, lay, on_chunk, fast):
    """The final carry (numpy, no optimiser state) and traces of every start of variant
    ``v``, this process having advanced the starts ``rows`` (:func:`optimize._engine.run_slice`):
    at each restart step and at the end, every process sends its slice (its variant, first
    row, and arrays: a few kB at a restart) to every other; one whose run failed sends its
    error instead, at the exchange the others wait in, and every process raises it."""

    def exchange(tree, err=None):
        mine = (v, rows[0], err, None if err else _numpy(tree))
        got = distributed.allgather("optimize.maximize_negativity: starts", pickle.dumps(mine))
        got = [pickle.loads(b) for b in got]
        failed = [(p, e) for p, (_, _, e, _) in enumerate(got) if e]
        if failed:
            p, e = failed[0]
            raise _PeerError(f"process {p} of {lay.count}: {e}")
        parts = [x for _, x in sorted(((lo, x) for w, lo, _, x in got if w == v), key=_first)]
        return jax.tree_util.tree_map(
            lambda *x: np.concatenate(x) if np.ndim(x[0]) else x[0], *parts
        )

    err = out = None
    try:
        carry, traces = run_slice(
            *args, rows, lambda *best: exchange(best), on_chunk=on_chunk, fast=fast
        )
        out = (carry._replace(opt_state=None), traces)
    except _PeerError:
        raise
    except Exception as e:  # the others wait for this process at the next exchange
        err = f"maximize_negativity: {type(e).__name__}: {e}"
    return exchange(out, err)


def _gather_variants(runs, n, mine, lay):
    """Every variant's run, in order, on every process."""
    if len(mine) < n:  # the leaves travel (a Model does not pickle); every run has one form
        form = jax.tree_util.tree_structure(runs[mine[0]])
        leaves = {i: jax.tree_util.tree_leaves(r) for i, r in runs.items()}
        for b in distributed.allgather("optimize.maximize_negativity", pickle.dumps(leaves)):
            for i, got in pickle.loads(b).items():
                runs.setdefault(i, jax.tree_util.tree_unflatten(form, got))
    return [runs[i] for i in range(n)]
