"""Cache-sized blocks inside ``jit``: a pointwise function over a large batch, and its gradient.

XLA on CPU compiles a batched steady state into dozens of loops, each streaming over the
whole batch; past ~1e4 points their intermediates fall out of cache, and the reverse pass,
with several times more loops, suffers most. :func:`blocked` runs the same function over
blocks of :data:`BLOCK` points (``lax.map``) so that each block's intermediates stay in
cache, and for a scalar per point it differentiates block by block: a point's output depends
on that point's inputs only, so the Jacobian is diagonal in the batch index and each block's
gradient is the gradient of its sum, computed while the block is in cache.

Measured (CPU time per point, 131072 points, 2 shared cores, one run; ``benchmarks/limit.py``
reports the same rows): ``grad`` of ``sum(negativity(steady_state(m)))`` over every model
leaf 801 ns plain, 233 ns blocked (forward 140 -> 84 ns); for the closed form 923 -> 260 ns
(forward 107 -> 74 ns).

This is the in-``jit`` counterpart of :func:`jaxtls.batching.map_chunks` (host-level chunks,
which bound memory; blocks bound the working set of one compiled loop).
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
from jax.custom_derivatives import SymbolicZero

from .model import Model

#: Points per block: the intermediates of a steady state and its gradient (a few hundred
#: bytes per point each) fit in the 2 MB L2 of one core (measured: 512, 1024 and 2048 within
#: 10% of each other, 4096 slower).
BLOCK = 1024
#: Batches of fewer than this many blocks run ``fn`` directly: below, the last block's unused
#: points cost more than the cache saves (measured: even at 8192 points, slower below).
MIN_BLOCKS = 8


def blocked(fn, *, block: int = BLOCK, min_blocks: int = MIN_BLOCKS):
    """``fn`` over a batch of models in blocks of ``block`` points inside ``jit``, with the
    gradient taken block by block when ``fn`` returns one number per point.

    ``fn`` must be pointwise (each point's outputs depend on that point's inputs only), as
    every jaxtls solver and measure is. Batches of fewer than ``min_blocks`` blocks run ``fn``
    directly; larger ones call ``fn`` on flat blocks of ``block`` points with every leaf
    broadcast (the last block ends at the last point, overlapping the one before: no
    padding, and the inputs are not copied). What cannot be detected: a ``fn``
    that is not pointwise (e.g. normalising by the batch mean) sees one block as its batch,
    and returns wrong values and derivatives silently. An output
    without one leading row per point (a scalar, a batch axis that is not the first, an
    outer product) is a ``ValueError``. ``check=True`` inside ``fn`` raises as under
    ``jit``, but the batch index in its message is the point's index within its block.
    ``fn`` may close over traced values (a parameter outside the model): their derivative is
    exact too (a forward pass per block for their tangents).

    Cost: with blocks from two on, the forward pass was slower than ``jax.jit(fn)`` just above
    two blocks (measured, negativity of the general steady state, CPU time per point: 151 vs
    74 ns at 2049 points, 166 vs 105 at 3000), even at 8192 and faster from ~1e5 (133 vs
    178 at 1e5, 3 baths); hence ``min_blocks = 8``. The gradient is where blocks pay.

    Args:
      fn: ``Model -> PyTree`` of arrays with the model's batch shape as leading axes, e.g.
        ``lambda m: jaxtls.negativity(jaxtls.steady_state(m))``.
      block: points per block (static).
      min_blocks: batches of fewer blocks than this run ``fn`` directly (static).

    Returns:
      A function ``Model -> fn(model)``, with the values of ``jax.jit(fn)(model)`` up to
      rounding: each block runs the same per-point arithmetic (leaves shared by the batch,
      e.g. ``J=[1.0, 100.0]``, broadcast inside the block as ``jit`` does), but XLA may fuse
      the whole-batch program differently. Measured: bit for bit on 303 points in blocks of
      64 (both solvers) and for the general solver on 2e4 points; the closed form's
      negativity on 9000 / 2e4 points differs at 0.2% of the points by up to 1.4e-14 /
      4.4e-14 relative (the negativity is a difference: ulps of the entries). Works
      under ``jit``, ``vmap``, ``grad``, ``jvp`` and higher orders (``jax.hessian``: plain
      autodiff within 1e-12).
      For an array output of shape ``batch_shape`` (one number per point) the derivative is
      a custom JVP whose rule computes each block's gradient in cache (reverse mode by its
      transpose: one cheap product per leaf); other outputs are differentiated through the
      blocks with each block recomputed in the reverse pass (``jax.checkpoint``).

    Example:
      >>> import jax, jax.numpy as jnp, numpy as np, jaxtls
      >>> T = np.stack([np.linspace(5.0, 40.0, 9000), np.full(9000, 0.1)], axis=-1)
      >>> m = jaxtls.Model(T=T, J=[1.0, 1000.0], K=[0.0, 1000.0])
      >>> f = lambda m: jaxtls.negativity(jaxtls.closed_form(m))
      >>> bool(jnp.all(jaxtls.blocked(f)(m) == jax.jit(f)(m)))
      True
      >>> g = jax.grad(lambda m: jnp.sum(jaxtls.blocked(f)(m)))(m)
      >>> g.T.shape
      (9000, 2)
    """
    block, min_blocks = int(block), int(min_blocks)
    if block < 1:
        raise ValueError(f"blocked: block must be >= 1, got {block}")
    if min_blocks < 1:
        raise ValueError(f"blocked: min_blocks must be >= 1, got {min_blocks}")

    @functools.wraps(fn)
    def run(model: Model):
        if not isinstance(model, Model):
            raise TypeError(f"blocked: expected a jaxtls.Model, got {type(model).__name__}")
        shape = model.batch_shape
        n = int(np.prod(shape))
        if n < min_blocks * block:
            return fn(model)
        lay = _Layout.of(model, n)
        out = _run_blocks(fn, lay, n, block)
        return jax.tree_util.tree_map(lambda x: x.reshape(shape + x.shape[1:]), out)

    return run


class _Layout:
    """A model's leaves split into the batched ones, flattened to ``(n, ...)`` (a reshape, no
    copy), and the shared ones (no batch axes: broadcast inside each block, in cache)."""

    def __init__(self, treedef, is_batched, tails, batched, shared):
        self.treedef, self.is_batched, self.tails = treedef, is_batched, tails
        self.batched, self.shared = batched, shared  # the differentiable inputs

    @classmethod
    def of(cls, model: Model, n: int, xp=jnp):
        """``xp``: ``jnp`` inside ``jit``; ``np`` for concrete leaves kept on the host (views:
        :func:`jaxtls.batching.map_model_chunks`)."""
        k = len(model.batch_shape)
        leaves, treedef = jax.tree_util.tree_flatten(model)
        full = jax.tree_util.tree_leaves(jax.eval_shape(lambda m: m.broadcast(), model))
        is_batched, tails, batched, shared = [], [], [], []
        for x, f in zip(leaves, full, strict=True):
            x, tail = xp.asarray(x), f.shape[k:]
            tails.append(tail)
            is_batched.append(x.ndim != len(tail))  # else one value for every point
            if is_batched[-1]:  # (partly broadcast leaves are rare: materialised)
                x = xp.broadcast_to(x, f.shape) if x.shape != f.shape else x
                batched.append(xp.reshape(x, (n,) + tail))
            else:
                shared.append(x)
        return cls(treedef, is_batched, tails, batched, shared)

    def merge(self, batched, shared):
        """The Model of these batched and shared leaves (each list in the model's order)."""
        b, s = iter(batched), iter(shared)
        leaves = [next(b) if is_batched else next(s) for is_batched in self.is_batched]
        return jax.tree_util.tree_unflatten(self.treedef, leaves)

    def model(self, batched, shared, start, block):
        """The block of ``block`` points from ``start`` (a traced index) as a Model, every
        leaf broadcast to ``(block, ...)``."""
        tails = [t for t, b in zip(self.tails, self.is_batched, strict=True) if not b]
        return self.merge(
            [jax.lax.dynamic_slice_in_dim(x, start, block) for x in batched],
            [jnp.broadcast_to(x, (block,) + t) for x, t in zip(shared, tails, strict=True)],
        )


def _starts(n, block):
    """First point of each block; the last block ends at the last point (it overlaps the one
    before when ``block`` does not divide ``n``: no padding, no copy of the inputs)."""
    return jnp.minimum(jnp.arange(-(-n // block)) * block, n - block)


def _assemble(tree, n, block):
    """``(n_blocks, block, ...)`` block outputs -> ``(n, ...)`` (the overlap taken once)."""
    r = n - (-(-n // block) - 1) * block  # points of the last block not in the one before

    def f(y):
        if r == block:
            return y.reshape((n,) + y.shape[2:])
        head = y[:-1].reshape((-1,) + y.shape[2:])
        return jnp.concatenate([head, y[-1, block - r :]])

    return jax.tree_util.tree_map(f, tree)


def _map_blocks(body, n, block):
    """``body(start)`` over every block, assembled to one row per point."""
    return _assemble(jax.lax.map(body, _starts(n, block)), n, block)


def _run_blocks(fn, lay, n, block):
    batched, shared = lay.batched, lay.shared
    probe = lay.model(batched, shared, 0, block)
    out = _checked_shapes(fn, probe, block)
    if isinstance(out, jax.ShapeDtypeStruct) and out.shape == (block,):
        if jnp.issubdtype(out.dtype, jnp.floating):
            # closed-over values that may carry a tangent (a parameter of fn outside the
            # model) become explicit arguments: a custom JVP cannot differentiate a closure
            conv, consts = jax.closure_convert(fn, probe)
            return _pointwise(conv, lay, n, block)(batched, shared, consts)
    body = jax.checkpoint(lambda b, s, start: fn(lay.model(b, s, start, block)))
    return _map_blocks(lambda start: body(batched, shared, start), n, block)


def _checked_shapes(fn, probe, block):
    """``fn``'s output shapes on one block, after checking that every output leaf has one
    leading axis per point (traced at two batch sizes: an axis that is not the batch's, or a
    reduction over it, cannot pass both)."""

    def shapes(size):
        return jax.eval_shape(
            fn,
            jax.tree_util.tree_map(
                lambda x: jax.ShapeDtypeStruct((size,) + x.shape[1:], x.dtype), probe
            ),
        )

    out, wide = shapes(block), shapes(block + 1)
    leaves, structure = jax.tree_util.tree_leaves, jax.tree_util.tree_structure
    ok = structure(out) == structure(wide) and all(
        a.shape[:1] == (block,) and b.shape == (block + 1,) + a.shape[1:]
        for a, b in zip(leaves(out), leaves(wide), strict=True)
    )
    if not ok:
        got = jax.tree_util.tree_map(lambda x: x.shape, out)
        raise ValueError(
            "blocked: fn must return arrays whose leading axis is the batch (one row per "
            f"point); on a block of {block} points it returned shapes {got}"
        )
    return out


def _pointwise(fn, lay, n, block):
    """``fn(model, *consts)`` (one number per point) over blocks, with the block-by-block
    derivative; the (rare) tangents of ``consts`` by a forward pass over the blocks."""

    def at(b, s, start):
        return lay.model(b, s, start, block)

    @jax.custom_jvp
    def f(batched, shared, consts):
        return _map_blocks(lambda i: fn(at(batched, shared, i), *consts), n, block)

    @functools.partial(f.defjvp, symbolic_zeros=True)
    def f_jvp(primals, tangents):
        (batched, shared, consts), (db, ds, dconsts) = primals, tangents

        def value_grad(start):  # the block's values and the gradient of their sum with
            # respect to its (broadcast) leaves: one row per point for every leaf
            def total(leaves):
                values = fn(jax.tree_util.tree_unflatten(lay.treedef, leaves), *consts)
                return jnp.sum(values), values

            leaves = jax.tree_util.tree_leaves(at(batched, shared, start))
            return jax.grad(total, has_aux=True)(leaves)

        grads, value = _map_blocks(value_grad, n, block)
        dvalue = jnp.zeros_like(value)
        d_b, d_s = iter(db), iter(ds)
        for g, is_batched in zip(grads, lay.is_batched, strict=True):
            d = next(d_b) if is_batched else next(d_s)
            if not _is_zero(d) and d.dtype != jax.dtypes.float0:
                dvalue = dvalue + _point_dot(g, jnp.broadcast_to(d, g.shape))
        leaves = jax.tree_util.tree_leaves
        if not all(_is_zero(d) for d in leaves(dconsts, is_leaf=_is_zero)):
            dc = [
                jnp.zeros(c.shape, c.dtype) if _is_zero(d) else d
                for c, d in zip(leaves(consts), leaves(dconsts, is_leaf=_is_zero), strict=True)
            ]
            dc = jax.tree_util.tree_unflatten(jax.tree_util.tree_structure(consts), dc)

            def jvp(start):
                m = at(batched, shared, start)
                return jax.jvp(lambda c: fn(m, *c), (consts,), (dc,))[1]

            dvalue = dvalue + _map_blocks(jvp, n, block)
        return value, dvalue

    return f


def _is_zero(x):
    return isinstance(x, SymbolicZero)


def _point_dot(g, d):
    """Per point, the sum of ``g * d`` over the trailing axes (unrolled: a reduction over a
    trailing axis of 2-3 baths is a slow, unvectorised kernel on CPU)."""
    prod = (g * d).reshape(g.shape[0], -1)
    cols = [prod[:, i] for i in range(prod.shape[1])]
    return functools.reduce(jnp.add, cols)
