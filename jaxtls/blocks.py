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

from .model import Model

#: Points per block: the intermediates of a steady state and its gradient (a few hundred
#: bytes per point each) fit in the 2 MB L2 of one core (measured: 512, 1024 and 2048 within
#: 10% of each other, 4096 slower).
BLOCK = 1024


def blocked(fn, *, block: int = BLOCK):
    """``fn`` over a batch of models in blocks of ``block`` points inside ``jit``, with the
    gradient taken block by block when ``fn`` returns one number per point.

    ``fn`` must be pointwise (each point's outputs depend on that point's inputs only), as
    every jaxtls solver and measure is. Batches smaller than two blocks run ``fn`` directly.

    Args:
      fn: ``Model -> PyTree`` of arrays with the model's batch shape as leading axes, e.g.
        ``lambda m: jaxtls.negativity(jaxtls.steady_state(m))``.
      block: points per block (static).

    Returns:
      A function ``Model -> fn(model)``, the values of ``jax.jit(fn)`` (the same compiled
      per-point arithmetic: bit for bit in the tests, on ragged batches too; XLA may in
      principle round a vector loop's tail differently, by an ulp), working under ``jit``,
      ``vmap``, ``grad`` and ``jvp``.
      For an array output of shape ``batch_shape`` (one number per point) the derivative is
      a custom JVP whose rule computes each block's gradient in cache (reverse mode by its
      transpose: one cheap product per leaf); other outputs are differentiated through the
      blocks with each block recomputed in the reverse pass (``jax.checkpoint``).

    Example:
      >>> import jax, jax.numpy as jnp, numpy as np, jaxtls
      >>> T = np.stack([np.linspace(5.0, 40.0, 3000), np.full(3000, 0.1)], axis=-1)
      >>> m = jaxtls.Model(T=T, J=[1.0, 1000.0], K=[0.0, 1000.0])
      >>> f = lambda m: jaxtls.negativity(jaxtls.closed_form(m))
      >>> bool(jnp.all(jaxtls.blocked(f)(m) == jax.jit(f)(m)))
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


def _blocks(tree, n, block):
    """Leading axis ``n`` -> ``(n_blocks, block)``, the last block padded with its last point
    (every block runs the same compiled code; the padding's outputs are cut off)."""
    pad = -n % block

    def f(x):
        if pad:
            x = jnp.concatenate([x, jnp.repeat(x[-1:], pad, axis=0)])
        return x.reshape((-1, block) + x.shape[1:])

    return jax.tree_util.tree_map(f, tree)


def _unblocks(tree, n):
    return jax.tree_util.tree_map(lambda x: x.reshape((-1,) + x.shape[2:])[:n], tree)


def _run_blocks(fn, flat, n, block):
    probe = jax.tree_util.tree_map(
        lambda x: jax.ShapeDtypeStruct((block,) + x.shape[1:], x.dtype), flat
    )
    out = jax.eval_shape(fn, probe)
    scalar = isinstance(out, jax.ShapeDtypeStruct) and out.shape == (block,)
    if scalar and jnp.issubdtype(out.dtype, jnp.floating):
        return _pointwise(fn, n, block)(flat)
    return _unblocks(jax.lax.map(jax.checkpoint(fn), _blocks(flat, n, block)), n)


def _pointwise(fn, n, block):
    """``fn`` (one number per point) over blocks, with the block-by-block derivative."""

    @jax.custom_jvp
    def f(flat):
        return _unblocks(jax.lax.map(fn, _blocks(flat, n, block)), n)

    @f.defjvp
    def f_jvp(primals, tangents):
        (flat,), (dflat,) = primals, tangents

        def value_grad(b):  # the block's values and the gradient of their sum
            values = fn(b)
            return jnp.sum(values), values

        value_grad = jax.grad(value_grad, has_aux=True)
        grad, value = _unblocks(jax.lax.map(value_grad, _blocks(flat, n, block)), n)
        dvalue = jnp.zeros_like(value)
        leaves = jax.tree_util.tree_leaves
        for g, d in zip(leaves(grad), leaves(dflat), strict=True):
            if d.dtype != jax.dtypes.float0:
                dvalue = dvalue + _point_dot(g, d)
        return value, dvalue

    return f


def _point_dot(g, d):
    """Per point, the sum of ``g * d`` over the trailing axes (unrolled: a reduction over a
    trailing axis of 2-3 baths is a slow, unvectorised kernel on CPU)."""
    prod = (g * d).reshape(g.shape[0], -1)
    cols = [prod[:, i] for i in range(prod.shape[1])]
    return functools.reduce(jnp.add, cols)
