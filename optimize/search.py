"""Multi-start maximisation of the steady-state negativity over a :class:`Space`.

All starts run at once: the loss and its gradient are ``jax.vmap``-ed over the starts, and an
optax Adam (warm-up + cosine schedule) updates the ``(n_starts, dim)`` array of unconstrained
parameters (Adam is elementwise, so this is exactly one independent Adam per start). The loss
is the smooth signed ``lambda_-`` of the partial transpose (:func:`jaxtls.pt_min_eigenvalue`,
which keeps a gradient on separable states where the negativity is flat zero). Halfway, the
worse half of the starts is restarted near the better half's best points (starts stuck on
the cold separable plateau, where ``lambda_- -> 0^-`` and the gradient vanishes, get a second
chance); then a polish continues Adam with a small, exponentially decaying step. Each start
keeps the best point it visited. NaN never enters the Adam state: a NaN loss is replaced by a
penalty and a NaN gradient by zero. The whole run is one compiled ``lax.scan``.

Example:
  >>> import optimize
  >>> r = optimize.maximize_negativity(optimize.paper(), n_starts=16, steps=200, seed=1)
  >>> round(r.negativity, 3), r.traces.shape
  (0.039, (16, 400))
"""

from __future__ import annotations

import time
from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

import jaxtls

from .constraints import penalty
from .space import Space

_PENALTY = 1.0  # loss given to NaN points (lambda_- lies in [-1/2, 1])


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
      start_negativities: ``(n_starts,)`` final N of every start (best variant).
      traces: ``(n_starts, steps + polish_steps)`` objective ``-lambda_-`` per step (best
        variant), NaN-guarded.
      fraction_within_1pct: fraction of starts whose final N is within 1% of the best.
      variants: one :class:`VariantResult` per ``D`` combination (all reported).
      wall_time: seconds, compilation included.
      settings: the arguments of the run.
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


def _method(space: Space) -> str:
    return "closed_form" if space.symmetric else "general"


def _lambda(space: Space, fixed, variant, u):
    m = space.model(space.values(u, fixed), variant)
    lam = jaxtls.pt_min_eigenvalue(jaxtls.xstate(m, method=_method(space), check=False))
    if space.constraints:
        lam = lam + penalty(space.constraints, m)
    return lam


def _guarded_loss_and_grad(space, fixed, variant, u):
    loss, g = jax.value_and_grad(lambda x: _lambda(space, fixed, variant, x))(u)
    loss_ok = jnp.isfinite(loss)
    g_ok = loss_ok & jnp.all(jnp.isfinite(g))
    return jnp.where(loss_ok, loss, _PENALTY), jnp.where(g_ok, g, 0.0)


def _schedule(steps, polish_steps, lr):
    """Warm-up + cosine decay from ``lr`` to ``lr/1000`` over ``steps``, then the polish:
    exponential decay from ``lr/20`` to ``1e-5`` over ``polish_steps``."""
    main = optax.warmup_cosine_decay_schedule(
        0.0, lr, max(1, steps // 20), steps, end_value=lr * 1e-3
    )
    if not polish_steps:
        return main
    polish = optax.exponential_decay(lr / 20, polish_steps, 1e-5 / (lr / 20))
    return optax.join_schedules([main, polish], [steps])


def _reset_rows(tree, rows):
    """Zero the rows ``rows`` (bool ``(n_starts,)``) of every per-start leaf of an optax state."""

    def f(x):
        if jnp.ndim(x) >= 1 and x.shape[0] == rows.shape[0]:
            return jnp.where(rows.reshape((-1,) + (1,) * (x.ndim - 1)), 0, x)
        return x

    return jax.tree_util.tree_map(f, tree)


def _run(space, steps, polish_steps, lr, restart, fixed, variant, u0, key):
    """All starts together: Adam over ``steps + polish_steps`` steps on ``(n_starts, dim)``
    (Adam is elementwise, so this is one independent Adam per start). At step
    ``steps // 2`` (when ``restart``) the worse half of the starts is restarted from the
    better half's best points plus Gaussian noise of width 0.3 (fresh Adam moments): starts
    stuck on the separable plateau (both baths cold: ``lambda_- -> 0^-``, no gradient) get a
    second chance. Each start keeps the best point it visited."""
    opt = optax.adam(_schedule(steps, polish_steps, lr))
    lossgrad = jax.vmap(lambda u: _guarded_loss_and_grad(space, fixed, variant, u), in_axes=0)
    n = u0.shape[0]
    n_keep = max(1, n // 2)

    def do_restart(args):
        u, st, bu, bl = args
        order = jnp.argsort(bl)
        rank = jnp.argsort(order)
        worse = rank >= n_keep
        src = order[jnp.arange(n) % n_keep]
        noise = 0.3 * jax.random.normal(key, u.shape, u.dtype)
        fresh = bu[src] + noise
        u = jnp.where(worse[:, None], fresh, u)
        bu = jnp.where(worse[:, None], fresh, bu)
        bl = jnp.where(worse, jnp.inf, bl)
        return u, _reset_rows(st, worse), bu, bl

    def step(carry, i):
        u, st, bu, bl = carry
        loss, g = lossgrad(u)
        better = loss < bl
        bu = jnp.where(better[:, None], u, bu)
        bl = jnp.where(better, loss, bl)
        upd, st = opt.update(g, st, u)
        u = optax.apply_updates(u, upd)
        if restart and n > 1:
            u, st, bu, bl = jax.lax.cond(i == steps // 2, do_restart, lambda a: a, (u, st, bu, bl))
        return (u, st, bu, bl), loss

    init = (u0, opt.init(u0), u0, jnp.full((n,), jnp.inf))
    (u, _, bu, bl), trace = jax.lax.scan(step, init, jnp.arange(steps + polish_steps))
    last, _ = lossgrad(u)
    better = last < bl
    best_u = jnp.where(better[:, None], u, bu)
    return best_u, -jnp.where(better, last, bl), -trace.T


# Jitted _run: u0 (n_starts, dim); fixed and variant are dicts of scalars, traced, so one
# compilation serves every D and every fixed value.
_run_batch = jax.jit(_run, static_argnums=(0, 1, 2, 3, 4))


@partial(jax.jit, static_argnums=(0, 1, 2, 3, 4))
def _run_grid(space, steps, polish_steps, lr, restart, fixed, variant, u0, key):
    """As :func:`_run` with a leading grid axis on every leaf of ``fixed``, ``variant``,
    ``u0`` (``(n_grid, n_starts, dim)``) and ``key``."""
    f = partial(_run, space, steps, polish_steps, lr, restart)
    return jax.vmap(f)(fixed, variant, u0, key)


def _to_float_dict(values: dict) -> dict:
    return {k: float(v) for k, v in values.items()}


def maximize_negativity(
    space: Space,
    n_starts: int = 128,
    steps: int = 600,
    seed: int = 0,
    *,
    lr: float = 1.0,
    polish_steps: int = 200,
    restart: bool = True,
    progress=None,
) -> SearchResult:
    """Maximise the steady-state negativity over ``space`` from ``n_starts`` random starts.

    Every combination of bath dimensionalities ``D`` of the space is searched (each is its
    own compiled run) and reported in ``result.variants``; the best one is the result.

    Args:
      space: a :class:`optimize.Space`.
      n_starts: number of simultaneous starts (``jax.vmap``).
      steps: Adam steps (warm-up then cosine decay from ``lr`` to ``lr * 1e-3``).
      seed: PRNG seed of the starts; the result is deterministic per seed.
      lr: peak learning rate in the unconstrained coordinates.
      polish_steps: steps of the polish phase (Adam continued with a step decaying
        exponentially from ``lr/20`` to ``1e-5``).
      restart: at ``steps // 2`` restart the worse half of the starts near the better
        half's best points (see :func:`_run`).
      progress: optional callable taking one line of text (the CLI prints it on stderr).

    Returns:
      :class:`SearchResult`.

    Example:
      >>> import optimize
      >>> r = optimize.maximize_negativity(optimize.paper(), n_starts=8, steps=100, seed=0)
      >>> r.negativity > 0.03
      True
    """
    if n_starts < 1 or steps < 1 or polish_steps < 0:
        raise ValueError("n_starts and steps must be >= 1 and polish_steps >= 0")
    if space.dim == 0:
        raise ValueError(f"space {space.name!r} has no free parameters: nothing to search")
    t0 = time.perf_counter()
    say = progress or (lambda _msg: None)
    k_start, k_restart = jax.random.split(jax.random.PRNGKey(seed))
    u0 = space.sample(k_start, n_starts)
    fixed = {k: jnp.asarray(v, jnp.float64) for k, v in space.fixed_values().items()}
    results = []
    variants = space.variants()
    for i, var in enumerate(variants):
        dvar = {n: jnp.asarray(D) for n, D in var.items()}
        tv = time.perf_counter()
        u, obj, traces = _run_batch(
            space, steps, polish_steps, float(lr), bool(restart), fixed, dvar, u0, k_restart
        )
        u, traces = np.asarray(u), np.asarray(traces)
        N = np.maximum(np.nan_to_num(np.asarray(obj), nan=0.0), 0.0)
        results.append((var, u, N, traces))
        label = f" D={var}" if var else ""
        say(
            f"[{i + 1}/{len(variants)}] {space.name}{label}: best N = {N.max():.6g} "
            f"({time.perf_counter() - tv:.1f} s)"
        )
    summaries = []
    for var, u, N, _ in results:
        j = int(np.argmax(N))
        vals = _to_float_dict(space.values(u[j], fixed))
        summaries.append(VariantResult(var, float(N[j]), vals, space.model(vals, var)))
    b = int(np.argmax([s.negativity for s in summaries]))
    var, u, N, traces = results[b]
    best = summaries[b]
    state = jaxtls.xstate(best.model, method=_method(space), check=False)
    nbest = best.negativity
    frac = float(np.mean(N >= 0.99 * nbest)) if nbest > 0 else 0.0
    return SearchResult(
        model=best.model,
        negativity=float(jaxtls.negativity(state)),
        state=state,
        params=best.params,
        D=var,
        start_negativities=N,
        traces=traces,
        fraction_within_1pct=frac,
        variants=tuple(summaries),
        wall_time=time.perf_counter() - t0,
        settings=dict(
            space=space.name,
            n_starts=n_starts,
            steps=steps,
            polish_steps=polish_steps,
            restart=restart,
            seed=seed,
            lr=lr,
        ),
    )
