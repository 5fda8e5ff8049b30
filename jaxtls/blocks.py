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


def blocked(fn, *, block: int = BLOCK):
    """``fn`` over a batch of models in blocks of ``block`` points inside ``jit``, with the
    gradient taken block by block when ``fn`` returns one number per point.

    ``fn`` must be pointwise (each point's outputs depend on that point's inputs only), as
    every jaxtls solver and measure is. Batches smaller than two blocks run ``fn`` directly;
    larger ones call ``fn`` on a flat batch of ``block`` points with every leaf broadcast
    (the last block padded by repeating the last point). What cannot be detected: a ``fn``
    that is not pointwise (e.g. normalising by the batch mean) sees one block, padding
    included, as its batch, and returns wrong values and derivatives silently. An output
    without one leading row per point (a scalar, a batch axis that is not the first, an
    outer product) is a ``ValueError``. ``check=True`` inside ``fn`` raises as under
    ``jit``, but the batch index in its message is the point's index within its block.
    ``fn`` may close over traced values (a parameter outside the model): their derivative is
    exact too (a forward pass per block for their tangents).

    Cost: the forward pass alone gains only past ~1e5 points, and just above two blocks it
    is slower than ``jax.jit(fn)`` (measured, negativity of the general steady state, CPU time
    per point: 151 vs 74 ns at 2049 points, 166 vs 105 at 3000, 106 vs 100 at 2e4, 133 vs 178
    at 1e5 with 3 baths); the gradient is where blocks pay.

    Args:
      fn: ``Model -> PyTree`` of arrays with the model's batch shape as leading axes, e.g.
        ``lambda m: jaxtls.negativity(jaxtls.steady_state(m))``.
      block: points per block (static).

    Returns:
      A function ``Model -> fn(model)``, the values of ``jax.jit(fn)(model.broadcast())``
      (the same compiled per-point arithmetic: bit for bit in the tests, on ragged batches
      too; XLA may in principle round a vector loop's tail differently, by an ulp). Against
      ``jax.jit(fn)(model)`` with leaves shared by the whole batch (``J=[1.0, 100.0]``) the
      values may differ by an ulp (measured: 4e-16 relative), as ``jax.jit(fn)`` itself does
      between the model and its broadcast copy. Works under ``jit``, ``vmap``, ``grad``,
      ``jvp`` and higher orders (``jax.hessian``: plain autodiff within 1e-12).
      For an array output of shape ``batch_shape`` (one number per point) the derivative is
      a custom JVP whose rule computes each block's gradient in cache (reverse mode by its
      transpose: one cheap product per leaf); other outputs are differentiated through the
      blocks with each block recomputed in the reverse pass (``jax.checkpoint``).

    Example:
      >>> import jax, jax.numpy as jnp, numpy as np, jaxtls
      >>> T = np.stack([np.linspace(5.0, 40.0, 3000), np.full(3000, 0.1)], axis=-1)
      >>> m = jaxtls.Model(T=T, J=[1.0, 1000.0], K=[0.0, 1000.0])
      >>> f = lambda m: jaxtls.negativity(jaxtls.closed_form(m))
      >>> bool(jnp.all(jaxtls.blocked(f)(m) == jax.jit(f)(m.broadcast())))
      True
      >>> g = jax.grad(lambda m: jnp.sum(jaxtls.blocked(f)(m)))(m)
      >>> g.T.shape
      (3000, 2)
    """
    block = int(block)
    if block < 1:
        raise ValueError(f"blocked: block must be >= 1, got {block}")

    @functools.wraps(fn)
    def run(model: Model):
        if not isinstance(model, Model):
            raise TypeError(f"blocked: expected a jaxtls.Model, got {type(model).__name__}")
        shape = model.batch_shape
        n = int(np.prod(shape))
        if n < 2 * block:
            return fn(model)
        flat = _flatten(model.broadcast(), len(shape), n)
        out = _run_blocks(fn, flat, n, block)
        return jax.tree_util.tree_map(lambda x: x.reshape(shape + x.shape[1:]), out)

    return run


def _flatten(model, k, n):
    """The batch axes of every leaf (the first ``k``) flattened into one of ``n`` points."""
    return jax.tree_util.tree_map(lambda x: jnp.reshape(x, (n,) + x.shape[k:]), model)


def _blocks(tree, n, block, first=False):
    """Leading axis ``n`` -> ``(n_blocks, block)``, the last block padded with its last point
    (every block runs the same compiled code; the padding's outputs are cut off); with
    ``first``, only the first block (``n >= block``)."""
    pad = -n % block

    def f(x):
        if first:
            return x[:block]
        if pad:
            x = jnp.concatenate([x, jnp.repeat(x[-1:], pad, axis=0)])
        return x.reshape((-1, block) + x.shape[1:])

    return jax.tree_util.tree_map(f, tree)


def _unblocks(tree, n):
    return jax.tree_util.tree_map(lambda x: x.reshape((-1,) + x.shape[2:])[:n], tree)


def _run_blocks(fn, flat, n, block):
    out = _checked_shapes(fn, flat, n, block)
    if isinstance(out, jax.ShapeDtypeStruct) and out.shape == (block,):
        if jnp.issubdtype(out.dtype, jnp.floating):
            # closed-over values that may carry a tangent (a parameter of fn outside the
            # model) become explicit arguments: a custom JVP cannot differentiate a closure
            conv, consts = jax.closure_convert(fn, _blocks(flat, n, block, first=True))
            return _pointwise(conv, n, block)(flat, consts)
    return _unblocks(jax.lax.map(jax.checkpoint(fn), _blocks(flat, n, block)), n)


def _checked_shapes(fn, flat, n, block):
    """``fn``'s output shapes on one block, after checking that every output leaf has one
    leading axis per point (traced at two batch sizes: an axis that is not the batch's, or a
    reduction over it, cannot pass both)."""

    def shapes(size):
        probe = jax.tree_util.tree_map(
            lambda x: jax.ShapeDtypeStruct((size,) + x.shape[1:], x.dtype), flat
        )
        return jax.eval_shape(fn, probe)

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


def _pointwise(fn, n, block):
    """``fn(flat, *consts)`` (one number per point) over blocks, with the block-by-block
    derivative; the (rare) tangents of ``consts`` by a forward pass over the blocks."""

    @jax.custom_jvp
    def f(flat, consts):
        return _unblocks(jax.lax.map(lambda b: fn(b, *consts), _blocks(flat, n, block)), n)

    @functools.partial(f.defjvp, symbolic_zeros=True)
    def f_jvp(primals, tangents):
        (flat, consts), (dflat, dconsts) = primals, tangents

        def value_grad(b):  # the block's values and the gradient of their sum
            values = fn(b, *consts)
            return jnp.sum(values), values

        value_grad = jax.grad(value_grad, has_aux=True)
        grad, value = _unblocks(jax.lax.map(value_grad, _blocks(flat, n, block)), n)
        dvalue = jnp.zeros_like(value)
        leaves = jax.tree_util.tree_leaves
        for g, d in zip(leaves(grad), leaves(dflat, is_leaf=_is_zero), strict=True):
            if not _is_zero(d) and d.dtype != jax.dtypes.float0:
                dvalue = dvalue + _point_dot(g, d)
        if not all(_is_zero(d) for d in leaves(dconsts, is_leaf=_is_zero)):
            dc = [
                jnp.zeros(c.shape, c.dtype) if _is_zero(d) else d
                for c, d in zip(leaves(consts), leaves(dconsts, is_leaf=_is_zero), strict=True)
            ]
            dc = jax.tree_util.tree_unflatten(jax.tree_util.tree_structure(consts), dc)

            def jvp(b):
                return jax.jvp(lambda c: fn(b, *c), (consts,), (dc,))[1]

            dvalue = dvalue + _unblocks(jax.lax.map(jvp, _blocks(flat, n, block)), n)
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
