"""The compiled search engine behind :func:`optimize.maximize_negativity` and
:func:`optimize.search_grid`: the schedule and hyper-parameters, one advance step (a
``lax.scan`` of Adam steps with elite restarts and the polish), compiled once per batch
layout, and the chunked driver :func:`run`.

Batch layouts: ``grid=False`` advances ``(n_starts, dim)`` starts of one search;
``grid=True`` ``vmap``-s that over a leading axis of independent searches, each with its own
fixed values, variant and restart seed. One jit table (:data:`ADVANCE`, keyed by the compile
mode) serves both; the layout is a static argument.

Over several processes, :func:`run_slice` advances a slice of one search's starts (its own
jit table, :data:`ADVANCE_SLICE`): the chunks stop at the restart steps, where the driver
exchanges every start's best points and applies the restart (:data:`RESTART_SLICE`, the
same plan and noise as the one-process run) to its rows. At XLA level 0 a slice gives the
bits of the same rows of the whole batch; with full optimisation XLA vectorises differently
for other batch shapes and some rows differ by one ulp (measured: 20 of 63 rows of batches
of 3 against one batch of 64 on this CPU), so the front end splits starts only at level 0.

The scan runs in chunks of :data:`CHUNK` steps (for the progress bar); ``steps``,
``polish_steps`` and ``lr`` are traced (:class:`Hyper`), so one compilation per space,
objective, layout and number of starts serves every run. Deterministic for a given seed.
"""

from __future__ import annotations

from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

import jaxtls

from .constraints import bound_values, placeholders
from .objectives import OBJECTIVES, loss_grad_state
from .space import Space

CHUNK = 50  # steps per compiled call (progress granularity)
# XLA's backend optimisation level 0 compiles the objective's gradient ~2x faster (4 s instead
# of 6-8 s on a 2-core CPU) for a ~5-10x slower step: the right trade for small searches,
# whose wall time is mostly compilation. With ``fast_compile=None`` (the default of the front
# ends, documented there and recorded in the result's settings) searches up to this many
# start-steps use it; ``True``/``False`` choose explicitly.
FAST_COMPILE_MAX_WORK = 300_000
FAST_COMPILE = {"xla_backend_optimization_level": 0}


class Hyper(NamedTuple):
    """Traced settings of a run (changing them needs no new compilation)."""

    steps: jax.Array
    polish_steps: jax.Array
    lr: jax.Array
    restart_steps: jax.Array  # (n_restarts,) int; the shape is static
    n_elite: jax.Array
    sigma: jax.Array
    kind: jax.Array  # index into OBJECTIVES


class Carry(NamedTuple):
    u: jax.Array  # (n, dim) current points
    opt_state: optax.OptState
    best_u: jax.Array  # (n, dim) best point of each start
    best_loss: jax.Array  # (n,)
    best_state: jaxtls.XState  # (n,) steady state at best_u
    best_N: jax.Array  # (n,) its negativity
    first_loss: jax.Array  # (n,) best loss before the first restart
    step: jax.Array  # () int
    key: jax.Array  # () int seed of the restart noise


@jax.jit
def learning_rate(count, steps, polish_steps, lr):
    """The step size at step ``count``: warm-up (first 5%), cosine decay from ``lr`` to
    ``lr/1000`` over ``steps``, then exponential decay from ``lr/20`` to ``1e-5`` over
    ``polish_steps``. Every argument may be traced.

    Example:
      >>> [round(float(learning_rate(c, 100, 10, 1.0)), 6) for c in (0, 5, 100, 110)]
      [0.0, 1.0, 0.05, 1e-05]
    """
    t = jnp.asarray(count, jnp.float64)
    steps = jnp.asarray(steps, jnp.float64)
    warm = jnp.maximum(1.0, jnp.floor(steps / 20))
    x = jnp.clip((t - warm) / jnp.maximum(steps - warm, 1.0), 0.0, 1.0)
    main = jnp.where(
        t < warm, lr * t / warm, lr * (1e-3 + (1 - 1e-3) * 0.5 * (1 + jnp.cos(jnp.pi * x)))
    )
    start = lr / 20.0
    tp = jnp.clip((t - steps) / jnp.maximum(jnp.asarray(polish_steps, jnp.float64), 1.0), 0, 1)
    polish = start * (1e-5 / start) ** tp
    return jnp.where(t < steps, main, polish)


def hyper(steps, polish_steps, lr, n_restarts, elite, sigma, n_starts, kind) -> Hyper:
    """The traced settings: ``n_restarts`` restart steps evenly spaced over the first 60% of
    ``steps`` (none for a single start), the elite count, the objective's index."""
    r = sorted({int(round(steps * 0.6 * j / n_restarts)) for j in range(1, n_restarts + 1)})
    r = [s for s in r if 0 < s < steps] if n_starts > 1 else []
    i64 = jnp.int64
    return Hyper(
        jnp.asarray(steps, i64),
        jnp.asarray(polish_steps, i64),
        jnp.asarray(lr, jnp.float64),
        jnp.asarray(r, dtype=i64).reshape(-1),
        jnp.asarray(max(1, min(n_starts, int(round(elite * n_starts)))), i64),
        jnp.asarray(sigma, jnp.float64),
        jnp.asarray(OBJECTIVES.index(kind), i64),
    )


def compile_mode(fast_compile, work) -> bool:
    """The compile mode: explicit, or level 0 for searches of at most FAST_COMPILE_MAX_WORK."""
    return bool(work <= FAST_COMPILE_MAX_WORK) if fast_compile is None else bool(fast_compile)


def compiled_space(space: Space) -> tuple[Space, dict]:
    """The space the search compiles for (constraint bounds replaced by placeholders) and the
    run-time values of its fixed quantities and constraint bounds."""
    fixed = {**space.fixed_values(), **bound_values(space.constraints)}
    if space.constraints:
        space = space._copy(dict(space.params), placeholders(space.constraints))
    return space, fixed


def _optimizer(h: Hyper):
    return optax.adam(lambda c: learning_rate(c, h.steps, h.polish_steps, h.lr))


def _init(h: Hyper, u0, key) -> Carry:
    # Exact dtypes (no weak types): the carry's type must not change between chunks, or the
    # second chunk would compile again.
    n = u0.shape[0]
    inf = jnp.full((n,), jnp.inf, dtype=jnp.float64)
    nan = jnp.full((n,), jnp.nan, dtype=jnp.float64)
    state = jaxtls.XState(*([nan] * 6))
    zero = jnp.zeros((n,), jnp.float64)
    step = jnp.zeros((), jnp.int64)
    key = jnp.asarray(key, jnp.int64)
    return Carry(u0, _optimizer(h).init(u0), u0, inf, state, zero, inf, step, key)


def _reset_rows(tree, rows):
    """Zero the rows ``rows`` (bool ``(n,)``) of every per-start leaf of an optax state."""
    n = rows.shape[0]

    def f(x):
        if jnp.ndim(x) >= 1 and x.shape[0] == n:
            return jnp.where(rows.reshape((-1,) + (1,) * (x.ndim - 1)), jnp.zeros_like(x), x)
        return x

    return jax.tree_util.tree_map(f, tree)


def _restart_plan(h: Hyper, best_u, best_loss, key, step):
    """The elite restart of every start, from the best points and losses of all of them:
    which starts restart (bool ``(n,)``) and their fresh points ``(n, dim)`` (an elite
    start's best point plus noise drawn for the whole ``(n, dim)`` shape)."""
    n = best_loss.shape[0]
    order = jnp.argsort(best_loss)
    rank = jnp.argsort(order)
    worse = rank >= h.n_elite
    src = order[jnp.arange(n) % h.n_elite]
    key = jax.random.fold_in(jax.random.PRNGKey(key), step)
    noise = h.sigma * jax.random.normal(key, best_u.shape)
    fresh = best_u[src] + noise
    return worse, fresh


def _apply_restart(c: Carry, worse, fresh) -> Carry:
    """Restart the rows ``worse`` of ``c`` at ``fresh``, with fresh Adam moments."""
    w = worse[:, None]
    return c._replace(
        u=jnp.where(w, fresh, c.u),
        opt_state=_reset_rows(c.opt_state, worse),
        best_u=jnp.where(w, fresh, c.best_u),
        best_loss=jnp.where(worse, jnp.inf, c.best_loss),
    )


def _advance(space, length, record, h: Hyper, carry: Carry, fixed, variant, stop=None):
    """``length`` steps of the search from ``carry`` (steps past the end are no-ops).

    With ``stop`` (a slice of the starts, :func:`run_slice`): no restart inside the scan
    (the driver restarts on every start's best points between calls) and the steps from
    ``stop`` on are skipped, not computed (the call's traces there are zeros)."""
    opt = _optimizer(h)
    lossgrad = jax.vmap(lambda u: loss_grad_state(space, u, fixed, variant, h.kind))
    n = carry.u.shape[0]
    total = h.steps + h.polish_steps
    first_restart = jnp.min(jnp.append(h.restart_steps, total))
    limit = total if stop is None else jnp.minimum(total, stop)

    def restart(c: Carry) -> Carry:
        return _apply_restart(c, *_restart_plan(h, c.best_u, c.best_loss, c.key, c.step))

    def polish(c: Carry) -> Carry:
        return c._replace(u=c.best_u, opt_state=_reset_rows(c.opt_state, jnp.ones(n, bool)))

    def step(c: Carry, _):
        active = c.step < limit
        loss, g, state, N = lossgrad(c.u)
        state = jaxtls.XState(*tuple(state)[:6])  # the entries; no diagnostics in the carry
        better = active & (loss < c.best_loss)
        best_u = jnp.where(better[:, None], c.u, c.best_u)
        best_loss = jnp.where(better, loss, c.best_loss)
        best_state = jax.tree_util.tree_map(
            lambda new, old: jnp.where(better, new, old), state, c.best_state
        )
        best_N = jnp.where(better, N, c.best_N)
        early = active & (c.step < first_restart)
        first = jnp.where(early, jnp.minimum(c.first_loss, loss), c.first_loss)
        upd, st = opt.update(g, c.opt_state, c.u)
        u = jnp.where(active, optax.apply_updates(c.u, upd), c.u)
        st = jax.tree_util.tree_map(lambda new, old: jnp.where(active, new, old), st, c.opt_state)
        s = c.step + active.astype(c.step.dtype)
        c = Carry(u, st, best_u, best_loss, best_state, best_N, first, s, c.key)
        if stop is None:
            c = jax.lax.cond(active & jnp.any(s == h.restart_steps), restart, lambda c: c, c)
        c = jax.lax.cond(active & (s == h.steps) & (h.polish_steps > 0), polish, lambda c: c, c)
        return c, (loss if record else None)

    if stop is None:
        return jax.lax.scan(step, carry, None, length=length)

    def skip(c, _):
        return c, (jnp.zeros(n, jnp.float64) if record else None)

    return jax.lax.scan(
        lambda c, x: jax.lax.cond(c.step < limit, step, skip, c, x), carry, None, length=length
    )


def _init_layout(grid, h, u0, key):
    return jax.vmap(_init, in_axes=(None, 0, 0))(h, u0, key) if grid else _init(h, u0, key)


def _advance_layout(space, length, record, grid, h, carry, fixed, variant):
    """:func:`_advance` for one search (``grid=False``) or vmapped over a leading axis of
    searches (``grid=True``: carry, fixed values and variant per search, ``h`` shared)."""
    f = partial(_advance, space, length, record, h)
    return jax.vmap(f)(carry, fixed, variant) if grid else f(carry, fixed, variant)


def _restart_slice(h: Hyper, c: Carry, best_u, best_loss, lo):
    """The elite restart of the rows ``lo : lo + len(c.u)`` of a search, from the best points
    and losses of all its starts (every process computes the same plan and keeps its rows)."""
    worse, fresh = _restart_plan(h, best_u, best_loss, c.key, c.step)
    m = c.u.shape[0]
    rows = partial(jax.lax.dynamic_slice_in_dim, start_index=lo, slice_size=m)
    return _apply_restart(c, rows(worse), rows(fresh))


INIT = jax.jit(_init_layout, static_argnums=0)
_STATIC = (0, 1, 2, 3)  # space, length, record, grid
ADVANCE = {  # compile mode (XLA level 0 or not) -> the jitted advance step
    True: jax.jit(_advance_layout, static_argnums=_STATIC, compiler_options=FAST_COMPILE),
    False: jax.jit(_advance_layout, static_argnums=_STATIC),
}
ADVANCE_SLICE = {  # the same for a slice of the starts (run_slice): space, length, record
    True: jax.jit(_advance, static_argnums=(0, 1, 2), compiler_options=FAST_COMPILE),
    False: jax.jit(_advance, static_argnums=(0, 1, 2)),
}
RESTART_SLICE = {
    True: jax.jit(_restart_slice, compiler_options=FAST_COMPILE),
    False: jax.jit(_restart_slice),
}


def run(space, h, u0, key, fixed, variant, *, grid=False, record=True, on_chunk=None, fast=None):
    """Drive the chunked scan to the end; returns the final carry and the traces
    ``(..., n_starts, total)`` of the objective (``None`` unless ``record``).

    This is a sequential fold (every chunk of steps continues the carry of the one before),
    not a map over independent points: its chunks exist for the progress callback
    ``on_chunk(done, carry)``, not to bound memory or compiled shapes."""
    total = int(h.steps) + int(h.polish_steps)
    if fast is None:
        fast = compile_mode(None, int(np.prod(u0.shape[:-1])) * total)
    carry = INIT(grid, h, u0, key)
    adv = partial(ADVANCE[fast], space, CHUNK, record, grid, h)
    chunks, done = [], 0
    while done < total:
        carry, tr = adv(carry, fixed, variant)
        done = min(done + CHUNK, total)
        if record:
            chunks.append(tr)
        if on_chunk is not None:
            on_chunk(done, carry)
    traces = None
    if record:
        tr = -np.concatenate([np.asarray(t) for t in chunks], axis=-2)[..., :total, :]
        traces = np.swapaxes(tr, -1, -2)
    return carry, traces


def run_slice(
    space, h, u0, key, fixed, variant, rows, exchange, *, record=True, on_chunk=None, fast=None
):
    """:func:`run` (``grid=False``) for the starts ``rows = (lo, hi)`` of a search of
    ``u0.shape[0]`` starts, the others advanced elsewhere (other processes): the chunks stop
    at every restart step, where ``exchange(best_u, best_loss)`` of this slice returns those
    of every start and the restart is computed on the whole arrays (the same plan and noise
    everywhere) and applied to this slice's rows. Returns this slice's final carry and
    traces ``(hi - lo, total)``, bit for bit those rows of :func:`run` on every start.

    Steps are per start (vmapped) between restarts, so a slice computes the same bits as the
    whole batch; the restart is the only coupling (and, after the run, the choice of the
    best start)."""
    lo, hi = (int(r) for r in rows)
    total = int(h.steps) + int(h.polish_steps)
    if fast is None:
        fast = compile_mode(None, int(u0.shape[0]) * total)
    carry = INIT(False, h, u0[lo:hi], key)
    adv = partial(ADVANCE_SLICE[fast], space, CHUNK, record, h)
    chunks, done = [], 0
    restarts = [int(s) for s in np.asarray(h.restart_steps)]
    for stop in [*restarts, total]:  # sorted, each in 0 < stop < steps
        while done < stop:
            carry, tr = adv(carry, fixed, variant, np.int64(stop))
            chunks.append((tr, min(CHUNK, stop - done)))
            done = min(done + CHUNK, stop)
            if on_chunk is not None:
                on_chunk(done, carry)
        if stop < total:
            best_u, best_loss = exchange(carry.best_u, carry.best_loss)
            carry = RESTART_SLICE[fast](h, carry, best_u, best_loss, np.int64(lo))
    traces = None
    if record:
        tr = -np.concatenate([np.asarray(t)[:k] for t, k in chunks], axis=0)
        traces = np.ascontiguousarray(tr.T)
    return carry, traces
