"""Sweeps over millions of parameter points: chunked, sharded, streamed to disk, resumable.

A sweep evaluates ``fn(model) -> array`` (written for ONE point; it is vmapped) over a
:class:`Grid` (cartesian product of named axes) or :class:`Points` (a list of points). Named
axes become a :class:`jaxtls.Model` through a builder; the default, :func:`two_bath_model`,
knows ``T_1 T_2 J_1 J_2 ratio kappa_1 kappa_2 K_1 K_2 xi detuning delta exchange``.

Names: an underscore index ``_n`` is a BATH (``T_1``, ``J_1``, ``K_1``, ``kappa_1``, as the
``optimize`` spaces and the paper's ``J_n`` write them); a parenthesised superscript ``(i)`` is
a TLS (``J(1)_n``, ``J(2)_n``; ``Model.J1``/``Model.J2`` hold ``J^(1)``, ``J^(2)``); and
``kappa_n`` always means ``K_n / sqrt(J^(1)_n J^(2)_n)``, which is ``K_n / J_n`` for the
symmetric default builder. (The axes were once named ``T1 T2 J1 J2 kappa1 kappa2 K1 K2``:
those names are a ``ValueError`` that gives the new one.)

Work: the points are generated chunk by chunk from the axes (never all at once). Each chunk
is split over all local devices (``jax.sharding``: a 1-D mesh, ``shard_map``), and each device
maps ``fn`` over its share in vmapped steps of ``batch_size`` points (``lax.map``; 1024 on CPU,
so that XLA's temporaries stay small whatever the chunk size; the whole share on
accelerators). Chunks are padded to whole steps, so every point goes through the same
compiled step: for a given step, results do not depend on the chunking or the device count
(another step is another program: functions whose compiled code depends on the batch shape,
e.g. through ``eigvals``, then agree to rounding only).

Memory: a chunk's results are written with a positioned write into their rows of
``values.npy`` (no memory map is held while sweeping, so the resident set does not grow with
the output). Two chunks are in flight (the next one computes while the last is stored), each
held in about three copies of its inputs and outputs (numpy, padded, on the device):
``chunk_size`` defaults to ``memory_budget_mb / (6 * (8 * n_axes + result bytes))``, so that
the host memory of a sweep stays within ``memory_budget_mb`` plus XLA's temporaries for one
step (about 1 kB per point of the step), whatever the number of points. A Grid is never
materialised; a :class:`Points` space is held by the caller.

Resuming: a json manifest, replaced atomically after every chunk once the chunk's rows are
synced to disk, records what the sweep is (function name and fingerprint of its jaxpr, builder
and its fixed values, axes, dtype, shape, chunking, versions, creation time) and the finished
chunks with the crc32 of their bytes. A killed sweep started again with the same space,
function and ``out`` resumes after its last finished chunk, on any number of devices, after
checking the finished chunks against their checksums (a damaged one is recomputed, said on
stderr). Another sweep in the same ``out``, or damaged or inconsistent files, are a one-line
``ValueError`` unless ``overwrite=True``; :func:`load_sweep` verifies every chunk.

Several processes (:mod:`jaxtls.distributed`): called identically on every process of a
``jax.distributed`` program, a sweep checks that the processes agree, process 0 opens
``out`` (and holds its lock), process ``p`` evaluates the unfinished chunks ``p, p + P, ...``
(each sharded over its local devices) into the shared ``values.npy`` and records them in its
own journal, and process 0 merges the journals into the manifest at the end (a later run,
with any number of processes, merges what a killed one left). The result equals a single
process's bit for bit: the default chunks are at most ``n / P`` points, compiled with the
step one process would take (recorded in the manifest, and kept on resuming).
"""

from __future__ import annotations

import datetime
import functools
import glob
import hashlib
import inspect
import json
import os
import secrets
import socket
import sys
import time
import zlib
from collections.abc import Callable, Mapping
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from . import distributed
from .blocks import BLOCK, _Layout
from .measures import negativity
from .model import Model
from .progress import progress_bar
from .steady_state import steady_state

Array = jax.Array

AXES = (
    "T_1",
    "T_2",
    "J_1",
    "J_2",
    "ratio",
    "kappa_1",
    "kappa_2",
    "K_1",
    "K_2",
    "xi",
    "detuning",
    "delta",
    "exchange",
)
_DEFAULTS = {"T_1": 1.0, "T_2": 0.1, "J_1": 1.0, "J_2": 1.0, "kappa_1": 0.0, "kappa_2": 0.0}
_DEFAULTS.update(xi=0.0, detuning=0.0, delta=1.0, exchange=0.0)
# the axes' former names (bath-indexed without the underscore, clashing with Model.J1 = TLS 1)
_RENAMED = {f"{q}{n}": f"{q}_{n}" for q in ("T", "J", "K", "kappa") for n in (1, 2)}


def _renamed(names) -> None:
    for name in names:
        if name in _RENAMED:
            new = _RENAMED[name]
            raise ValueError(f"axis {name!r} is now {new!r} (bath {new[-1]})")


def two_bath_model(p: Mapping[str, Array]) -> Model:
    """Symmetric two-bath Model from named values (missing ones take defaults).

    ============  ==========================================================  =======
    axis          quantity                                                    default
    ============  ==========================================================  =======
    ``T_1, T_2``  temperatures of baths 1, 2 (units of Delta)                 1, 0.1
    ``J_1, J_2``  couplings ``J_n`` of both TLS to bath n (rates)             1, 1
    ``ratio``     ``J_2 = ratio * J_1`` (instead of ``J_2``)                  --
    ``kappa_n``   ``K_n = kappa_n J_n`` (``|kappa_n| <= 1``), n = 1, 2        0
    ``K_1, K_2``  cross couplings ``K_n`` directly (instead of ``kappa_n``)   --
    ``xi``        pure dephasing of rho_23 (units of the mean downward rate)  0
    ``detuning``  ``Delta_1 - Delta_2``, either sign, ``|detuning| <= delta``  0
    ``delta``     the splitting Delta                                         1
    ``exchange``  Omega of ``H_x = Omega (s1^dag s2 + s2^dag s1)``, either    0
                  sign, a rate in the units of J
    ============  ==========================================================  =======

    Example:
      >>> import jaxtls
      >>> m = jaxtls.two_bath_model({"T_1": 20.0, "ratio": 1e3, "kappa_2": 1.0})
      >>> m.J.tolist(), m.K.tolist()
      ([1.0, 1000.0], [0.0, 1000.0])
    """
    _renamed(p)
    v = {k: jnp.asarray(p[k], jnp.float64) if k in p else _DEFAULTS.get(k) for k in AXES}
    J1 = v["J_1"]
    J2 = v["ratio"] * J1 if "ratio" in p else v["J_2"]
    K1 = v["K_1"] if "K_1" in p else v["kappa_1"] * J1
    K2 = v["K_2"] if "K_2" in p else v["kappa_2"] * J2
    stack = lambda a, b: jnp.stack(jnp.broadcast_arrays(a, b), -1)  # noqa: E731
    return Model(
        stack(v["T_1"], v["T_2"]),
        stack(J1, J2),
        stack(K1, K2),
        xi=v["xi"],
        delta=v["delta"],
        detuning=v["detuning"],
        exchange=v["exchange"],
    )


def check_axes(names, builder=two_bath_model) -> None:
    """Raise ``ValueError`` for an axis given twice, or unknown or conflicting axis names of the
    default builder."""
    names = list(names)
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise ValueError(f"axis {twice[0]!r} is given twice: give every axis once")
    if builder is not two_bath_model:
        return
    _renamed(names)
    unknown = [n for n in names if n not in AXES]
    if unknown:
        raise ValueError(f"unknown axis name(s) {unknown}; known axes: {', '.join(AXES)}")
    for a, b in (("J_2", "ratio"), ("K_1", "kappa_1"), ("K_2", "kappa_2")):
        if a in names and b in names:
            raise ValueError(f"axes {a!r} and {b!r} set the same quantity: give one of them")


# rules of the default builder's axes: (test on the values, the rule in words)
_RULES = {
    "T_1": (lambda x: x >= 0, "temperatures must be >= 0"),
    "T_2": (lambda x: x >= 0, "temperatures must be >= 0"),
    "J_1": (lambda x: x >= 0, "couplings must be >= 0"),
    "J_2": (lambda x: x >= 0, "couplings must be >= 0"),
    "ratio": (lambda x: x >= 0, "J_2 = ratio J_1 needs ratio >= 0"),
    "kappa_1": (lambda x: np.abs(x) <= 1, "K_n = kappa_n J_n needs |kappa_n| <= 1"),
    "kappa_2": (lambda x: np.abs(x) <= 1, "K_n = kappa_n J_n needs |kappa_n| <= 1"),
    "xi": (lambda x: x >= 0, "the dephasing must be >= 0"),
    "delta": (lambda x: x > 0, "the splitting must be > 0"),
}
_SLACK = 1 + 16 * np.finfo(np.float64).eps  # as jaxtls.Model: K = J computed in floats is fine


def check_physical(space) -> None:
    """Raise ``ValueError`` naming the axis and the rule if a point of ``space`` (a Grid or
    Points of the default builder's axes) is unphysical: T >= 0, J >= 0, ratio >= 0,
    ``|kappa| <= 1``, ``|K_n| <= J_n``, xi >= 0, delta > 0, ``|detuning| <= delta``; the
    exchange takes any real value. A Grid is checked on the corners of its axes' ranges (the
    rules are monotone, so that is every point), a Points space point by point."""
    if isinstance(space, Grid):
        ext = {k: np.unique([np.min(v), np.max(v)]) for k, v in space.axes.items()}
        pts = Grid(ext).chunk(0, len(Grid(ext)))
    else:
        pts = {k: np.asarray(v, np.float64) for k, v in space.values.items()}
    n = len(next(iter(pts.values())))

    def get(k):
        return pts[k] if k in pts else np.full(n, _DEFAULTS[k])

    def fail(name, rule, x, ok):
        bad = np.asarray(x)[~np.asarray(ok)]
        worst = bad[np.argmax(np.abs(bad))]
        raise ValueError(f"axis {name!r}: {rule}, got {worst:g}")

    for name, (test, rule) in _RULES.items():
        if name in pts and not np.all(test(pts[name])):
            fail(name, rule, pts[name], test(pts[name]))
    J1 = get("J_1")
    J2 = pts["ratio"] * J1 if "ratio" in pts else get("J_2")
    for k, J in (("1", J1), ("2", J2)):
        if "K_" + k in pts:
            ok = np.abs(pts["K_" + k]) <= J * _SLACK
            if not np.all(ok):
                fail(
                    "K_" + k,
                    f"|K_{k}| <= J_{k} (the coupling matrix is positive)",
                    pts["K_" + k],
                    ok,
                )
    if "detuning" in pts or "delta" in pts:
        det, delta = get("detuning"), get("delta")
        ok = np.abs(det) <= delta
        if not np.all(ok):
            name = "detuning" if "detuning" in pts else "delta"
            rule = f"|detuning| <= delta (delta = {delta[~ok][0]:g} there)"
            fail(name, rule, (det if name == "detuning" else delta), ok)


class Grid(NamedTuple):
    """Cartesian product of named 1-D axes, e.g. ``Grid({"T_1": t1, "T_2": t2})``."""

    axes: dict

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(len(v) for v in self.axes.values())

    def __len__(self) -> int:
        return int(np.prod(self.shape))

    def chunk(self, start: int, stop: int) -> dict:
        idx = np.unravel_index(np.arange(start, stop), self.shape)
        return {
            k: np.asarray(v, np.float64)[i]
            for (k, v), i in zip(self.axes.items(), idx, strict=True)
        }


class Points(NamedTuple):
    """A list of points: named 1-D arrays of equal length, e.g. a space-filling design."""

    values: dict

    @property
    def shape(self) -> tuple[int, ...]:
        return (len(next(iter(self.values.values()))),)

    def __len__(self) -> int:
        return self.shape[0]

    def chunk(self, start: int, stop: int) -> dict:
        return {k: np.asarray(v, np.float64)[start:stop] for k, v in self.values.items()}


def _validate_space(space) -> None:
    items = space.axes if isinstance(space, Grid) else space.values
    if not items:
        raise ValueError("the sweep space has no axis")
    lengths = set()
    for name, v in items.items():
        a = np.asarray(v, np.float64)
        if a.ndim != 1 or a.size == 0:
            raise ValueError(f"axis {name!r} must be a non-empty 1-D array, got shape {a.shape}")
        if not np.all(np.isfinite(a)):
            raise ValueError(f"axis {name!r} has non-finite values")
        lengths.add(a.size)
    if isinstance(space, Points) and len(lengths) > 1:
        raise ValueError(f"Points axes must have equal lengths, got {sorted(lengths)}")


class SweepResult(NamedTuple):
    """Values ``(*space.shape, *out_shape)`` (a read-only memory map when saved), the axis
    names (``dims``) and coordinates, as xarray's ``DataArray(values, coords, dims)`` wants."""

    values: np.ndarray
    dims: tuple
    coords: dict
    path: str | None

    def to_xarray(self, *, name=None, out_dims=None):
        """This result as an ``xarray.DataArray`` (xarray optional): see
        :func:`jaxtls.to_xarray`."""
        from .interop import to_xarray

        return to_xarray(self, name=name, out_dims=out_dims)


def default_fn(model: Model) -> Array:
    """Negativity of the steady state (general solver), NaN where it is not unique."""
    return negativity(steady_state(model, check=False))


@functools.lru_cache(maxsize=32)
def _signature(fn, builder, names):
    """Output shape/dtype of ``fn(builder(point))`` and a fingerprint of what it computes: the
    sha1 of its jaxpr and of the constants it closes over. Cached per function object, as
    ``jax.jit`` caches its traces (a function reading a global that changes is not retraced)."""
    probe = {k: jax.ShapeDtypeStruct((), jnp.float64) for k in names}
    closed, out = jax.make_jaxpr(lambda p: fn(builder(p)), return_shape=True)(probe)
    h = hashlib.sha1(str(closed.jaxpr).encode())
    for c in closed.consts:
        h.update(np.ascontiguousarray(np.asarray(c)).tobytes())
    return out, h.hexdigest()


# Points per vectorised step on CPU: XLA's temporaries (tens of float64 arrays per point) stay
# in the caches whatever the chunk size: jaxtls.blocks.BLOCK. (Measured, CPU time per point of
# the default fn over 2**17 points, 2-core Xeon with 2 MB L2 per core: steps of 256 / 1024 /
# 4096 / 2**15 points 76 / 70 / 78 / 145-151 ns; on a 2-core AMD EPYC one vmap over 2**18
# points ran 2-2.5x slower than the same points in steps.)
CPU_BATCH = BLOCK


def _steps(batch_size, devices):
    if batch_size is None:
        return CPU_BATCH if all(d.platform == "cpu" for d in devices) else 0
    if int(batch_size) != batch_size or batch_size < 0:
        raise ValueError(f"batch_size must be an integer >= 0, got {batch_size!r}")
    return int(batch_size)


_LANES = 8  # shares and steps are whole multiples of a SIMD width: no scalar loop tails


def _batch(size, n_dev, step):
    """Compiled batch for chunks of ``size`` points: a multiple of the device count and of the
    per-device step (``step = 0``: one vmap over the device's share). Returns (batch, step).
    Every point then goes through the same compiled loop body, which keeps results
    independent of the chunking (a ragged remainder can be compiled differently)."""
    local = -(-size // n_dev)
    local += (-local) % _LANES
    step = min(step, local) if step else local
    step += (-step) % _LANES
    return (local + (-local) % step) * n_dev, step


@functools.lru_cache(maxsize=32)
def _evaluator(fn, builder, devices, step):
    """Jitted, sharded evaluation of a chunk, cached so that repeated sweeps of the same ``fn``
    do not recompile (pass the same function object, not a new lambda, to benefit). Each
    device maps ``fn`` over its share of the chunk in vmapped steps of ``step`` points."""

    def share(chunk):  # one device's share of a chunk
        return jax.lax.map(lambda p: fn(builder(p)), chunk, batch_size=step)

    if len(devices) == 1:
        return jax.jit(share), lambda x: jax.device_put(x, devices[0])
    mesh = Mesh(np.array(devices), ("batch",))
    spec = PartitionSpec("batch")
    sharding = NamedSharding(mesh, spec)
    # check_vma=False: the shares are independent (no collectives), and the varying-axes
    # check rejects a lax.cond whose branches differ in it (steady_state's rescaling)
    sharded = jax.shard_map(share, mesh=mesh, in_specs=(spec,), out_specs=spec, check_vma=False)
    return jax.jit(
        sharded, in_shardings=sharding, out_shardings=sharding
    ), lambda x: jax.device_put(x, sharding)


def iter_chunks(fn, inputs, chunk_size, *, n=None, padded=None, todo=None, overlap=False):
    """Evaluate ``fn`` chunk by chunk: yields ``(i, start, stop, result)`` per chunk ``i``
    (rows ``start:stop``), ``result`` trimmed to ``stop - start`` rows, as numpy.

    ``inputs`` is a PyTree of arrays with a leading axis of ``n`` points, or a function
    ``(start, stop) -> PyTree`` that makes a chunk's points on demand (then ``n`` is needed).
    Every chunk is padded to ``padded`` rows (default ``chunk_size``) by repeating its last
    point, so that every point goes through the same compiled code (a ragged last chunk
    would be another program, and could round differently). With ``overlap=True`` (for a
    pointwise ``fn``, when ``n >= padded``) a short last chunk is instead the last ``padded``
    points, overlapping the chunk before (no padding copy; the overlap computed twice, kept
    once). ``todo`` lists the chunks to run (default all). The next chunk is dispatched
    before this one is copied to the host, so that (with JAX's asynchronous dispatch) it
    computes while the caller uses this one.
    """
    if callable(inputs):
        if n is None:
            raise ValueError("iter_chunks: pass n, the number of points, with a chunk function")
        get = inputs
    else:
        inputs = jax.tree_util.tree_map(np.asarray, inputs)
        sizes = {np.shape(x)[0] for x in jax.tree_util.tree_leaves(inputs)}
        if n is None and len(sizes) != 1:
            raise ValueError(f"iter_chunks: inputs need one leading length, got {sorted(sizes)}")
        n = sizes.pop() if n is None else n

        def get(start, stop):
            return jax.tree_util.tree_map(lambda x: x[start:stop], inputs)

    chunk_size = int(chunk_size)
    padded = chunk_size if padded is None else int(padded)
    if not 1 <= chunk_size <= padded:
        raise ValueError(f"need 1 <= chunk_size <= padded, got {chunk_size} and {padded}")
    todo = list(range(-(-n // chunk_size)) if todo is None else todo)

    def submit(i):
        start, stop = i * chunk_size, min((i + 1) * chunk_size, n)
        if overlap and n >= padded:
            lo = min(start, n - padded)
            return i, start, stop, start - lo, fn(get(lo, lo + padded))
        extra = padded - (stop - start)

        def pad(x):
            x = np.asarray(x)
            return np.concatenate([x, np.repeat(x[-1:], extra, axis=0)]) if extra else x

        return i, start, stop, 0, fn(jax.tree_util.tree_map(pad, get(start, stop)))

    pending = submit(todo[0]) if todo else None
    for pos in range(len(todo)):
        i, start, stop, off, result = pending
        pending = submit(todo[pos + 1]) if pos + 1 < len(todo) else None
        keep = slice(off, off + stop - start)
        yield (
            i,
            start,
            stop,
            jax.tree_util.tree_map(lambda x, k=keep: _per_point(x, padded)[k], result),
        )


def _per_point(x, padded):
    """A chunk's result leaf as numpy, checked to have one row per point of the chunk."""
    x = np.asarray(x)
    if x.shape[:1] != (padded,):
        raise ValueError(
            f"chunked evaluation: fn must return one row per point (a leading axis of "
            f"{padded} for a chunk of {padded} points), got shape {x.shape}"
        )
    return x


def map_chunks(fn, inputs, chunk_size, *, padded=None, overlap=False):
    """``fn`` over the points of ``inputs`` (a PyTree of arrays with a leading axis of points),
    in chunks of ``chunk_size`` points padded to whole chunks, or with ``overlap=True`` the
    last chunk overlapping the one before (:func:`iter_chunks`): one compiled shape for every
    point and any number of points. Returns ``fn``'s PyTree of results, one row per point
    (numpy; each chunk written into the preallocated result as it arrives).

    Example:
      >>> import numpy as np, jax
      >>> from jaxtls.batching import map_chunks
      >>> f = jax.jit(lambda p: {"s": p["x"] + p["y"]})
      >>> map_chunks(f, {"x": np.arange(5.0), "y": np.ones(5)}, 4)["s"].tolist()
      [1.0, 2.0, 3.0, 4.0, 5.0]
    """
    n = max((np.shape(x)[0] for x in jax.tree_util.tree_leaves(inputs)), default=0)
    out = None
    for _, start, stop, r in iter_chunks(fn, inputs, chunk_size, padded=padded, overlap=overlap):
        if out is None:
            out = jax.tree_util.tree_map(lambda x: np.empty((n,) + x.shape[1:], x.dtype), r)
        rows = slice(start, stop)
        jax.tree_util.tree_map(lambda o, x, k=rows: o.__setitem__(k, x), out, r)
    if out is None:
        raise ValueError("map_chunks: no points")
    return out


def map_model_chunks(fn, model: Model, chunk_size: int):
    """``fn`` (pointwise, e.g. a jitted solver) over a concrete Model's batch in chunks of
    ``chunk_size`` points: one compiled shape for any batch, memory bounded by the chunk.

    Leaves with no batch axes (e.g. ``J=[1.0, 100.0]``) are passed whole; batched ones as
    numpy views of the flattened batch, chunk by chunk (a leaf broadcast along only some batch
    axes is expanded first), the last chunk overlapping the one before
    (:func:`map_chunks` with ``overlap=True``). Returns ``fn``'s PyTree with the model's batch
    shape as leading axes, as device arrays (moved leaf by leaf: one host copy alive at a
    time). Values equal one call of ``fn`` on the whole batch to rounding (XLA's rounding
    depends on the array shape).

    Example:
      >>> import jax, numpy as np, jaxtls
      >>> from jaxtls.batching import map_model_chunks
      >>> m = jaxtls.Model(T=np.linspace(1, 20, 10).reshape(5, 2, 1), J=[1.0], K=[0.5])
      >>> f = jax.jit(lambda m: jaxtls.negativity(jaxtls.steady_state(m)))
      >>> bool(np.allclose(map_model_chunks(f, m, 4), f(m), rtol=1e-15))
      True
    """
    shape = model.batch_shape
    lay = _Layout.of(model, int(np.prod(shape)), xp=np)
    out = map_chunks(lambda b: fn(lay.merge(b, lay.shared)), lay.batched, chunk_size, overlap=True)
    parts, out_def = jax.tree_util.tree_flatten(out)
    del out  # one host copy alive at a time, not the whole result
    for i, x in enumerate(parts):
        parts[i] = jax.device_put(x.reshape(shape + x.shape[1:]))
    return out_def.unflatten(parts)


def _chunk_size(requested, budget_mb, n, n_dev, per_point_bytes):
    size = requested or max(1, int(budget_mb * 2**20 // per_point_bytes))
    size = min(size, n + (-n) % n_dev)
    return max(n_dev, size + (-size) % n_dev)


def sweep(
    space,
    fn: Callable[[Model], Array] = default_fn,
    *,
    builder: Callable[[Mapping[str, Array]], Model] = two_bath_model,
    out: str | None = None,
    chunk_size: int | None = None,
    memory_budget_mb: float = 256.0,
    devices=None,
    batch_size: int | None = None,
    progress=True,
    overwrite: bool = False,
    verify: bool = True,
    metadata: Mapping | None = None,
) -> SweepResult:
    """Evaluate ``fn`` over every point of ``space`` in chunks, optionally streaming to ``out``.

    Args:
      space: a :class:`Grid` or :class:`Points`.
      fn: function of a single-point Model returning an array (default: negativity).
      builder: named values -> Model (default :func:`two_bath_model`).
      out: folder for ``values.npy``, ``coords.npz`` and ``manifest.json``; ``None`` keeps
        results in memory. A folder holding an unfinished sweep of the same space and ``fn``
        is resumed (its chunk size is kept); a folder holding another sweep, or damaged files,
        is a ``ValueError`` unless ``overwrite``.
      chunk_size: points per chunk, the unit of storage, resumption and progress (rounded to
        a multiple of the device count); by default sized so that the chunks in flight use
        about ``memory_budget_mb`` of host memory. A resumed sweep keeps the chunk size it was
        started with (another explicit ``chunk_size`` is a ``ValueError``).
      devices: devices to shard each chunk over (default: all local devices).
      batch_size: points per vectorised step within a device's share of a chunk (default:
        ``CPU_BATCH`` on CPU, which bounds XLA's temporaries; the whole share on
        accelerators; 0: the whole share). Results do not depend on it.
      progress: the progress bar, one update per chunk (:mod:`jaxtls.progress`): ``True``
        (stderr, the default), ``None`` (silent), a stream, a bar object or a callable.
      overwrite: replace whatever ``out`` holds (another sweep, damaged files) and start afresh.
      verify: on resuming, check the finished chunks on disk against the checksums (crc32)
        of the manifest and recompute those that fail, saying so on stderr (``False``: trust
        them, e.g. for results too large to read back).
      metadata: JSON-able mapping recorded in the manifest (e.g. the measure's name); it is
        not part of what identifies the sweep.

    Over several processes (``jax.distributed`` started, :mod:`jaxtls.distributed`), call it
    with the same arguments on every process: they share the chunks, ``out`` (required, on a
    shared filesystem) receives one result, and every process returns it; disagreeing
    processes, an ``out`` another run holds, or fewer chunks than processes raise the same
    ``ValueError`` on every process.

    Returns:
      :class:`SweepResult` with values of shape ``(*space.shape, *fn_output_shape)``.

    Example:
      >>> import numpy as np, jaxtls
      >>> axes = {"T_1": np.geomspace(1, 100, 4), "ratio": [10.0, 100.0], "kappa_2": [1.0]}
      >>> grid = jaxtls.Grid(axes)
      >>> r = jaxtls.sweep(grid, progress=None)
      >>> r.values.shape, r.dims
      ((4, 2, 1), ('T_1', 'ratio', 'kappa_2'))
    """
    lay = distributed.layout()
    try:
        prep = _prepare(space, fn, builder, out, chunk_size, memory_budget_mb, devices, batch_size)
        prep.check(lay, overwrite, verify, metadata)
    except ValueError as err:
        if lay.count == 1:
            raise
        distributed.agree("jaxtls.sweep", {}, str(err))  # the error, on every process
    if lay.count > 1:
        distributed.agree("jaxtls.sweep", prep.spec)
    names, devices, n, out_spec = prep.names, prep.devices, prep.n, prep.out_spec
    about = dict(
        fn=dict(name=_name(fn), fingerprint=prep.fn_sha1),
        builder=dict(name=_name(builder), fixed=_fixed(builder, names)),
        metadata=_jsonable(dict(metadata or {})),
        step=prep.step,
    )
    args = (out, n, out_spec, space, names, prep.size, prep.fn_sha1, about, chunk_size, overwrite)
    if lay.count == 1:
        store = _Store(*args)
        if verify:
            store.verify()
    else:
        store = _open_distributed(lay, verify, args)
    try:
        return _run(store, space, fn, builder, prep, batch_size, progress, lay)
    finally:
        store.close()


class _Prepared(NamedTuple):
    """What every process works out alone from the arguments of :func:`sweep`."""

    names: tuple
    devices: list
    n: int
    out_spec: jax.ShapeDtypeStruct
    fn_sha1: str
    size: int  # the chunk size of a new sweep
    step: int  # per-device vmapped step of a new sweep
    spec: dict  # what the processes of a distributed sweep must agree on

    def check(self, lay, overwrite, verify, metadata):
        if lay.count == 1:
            return
        if self.spec["out"] is None:
            raise ValueError(
                f"a sweep over {lay.count} processes needs out= (a folder on a filesystem "
                "that every process shares): the processes write their chunks there"
            )
        n_chunks = -(-self.n // self.size)
        if n_chunks < lay.count:
            raise ValueError(
                f"the work cannot be divided over {lay.count} processes: {self.n} points make "
                f"{n_chunks} chunk(s) of {self.size}; give chunk_size <= "
                f"{max(self.n // lay.count, 1)}, or run on at most {n_chunks} processes"
            )
        self.spec.update(overwrite=bool(overwrite), verify=bool(verify))
        self.spec["metadata"] = _jsonable(dict(metadata or {}))


def _prepare(space, fn, builder, out, chunk_size, memory_budget_mb, devices, batch_size):
    if not isinstance(space, (Grid, Points)):
        raise ValueError("space must be a jaxtls.Grid or jaxtls.Points")
    _validate_space(space)
    names = tuple((space.axes if isinstance(space, Grid) else space.values).keys())
    check_axes(names, builder)
    if builder is two_bath_model:
        check_physical(space)
    devices = list(devices or jax.local_devices())
    n = len(space)
    out_spec, fn_sha1 = _signature(fn, builder, names)
    step = _steps(batch_size, devices)
    # inputs and outputs of the two chunks in flight, about three copies each (numpy chunk,
    # padded, on device), plus XLA's temporaries when a whole share is one vmapped step
    io_bytes = 8 * len(names) + out_spec.dtype.itemsize * int(np.prod(out_spec.shape))
    per_point_bytes = 6 * io_bytes + (0 if step else 1024)
    size = _chunk_size(chunk_size, memory_budget_mb, n, len(devices), per_point_bytes)
    # the step one process would take: a sweep over P processes (whose default chunks are
    # at most n / P) compiles the same program, so its values equal a single process's
    step = _batch(size, len(devices), step)[1]
    count = distributed.layout().count
    if chunk_size is None and count > 1:
        size = min(size, _chunk_size(-(-n // count), memory_budget_mb, n, len(devices), 1))
    arrays = _items(space)
    spec = dict(
        kind=type(space).__name__,
        names=list(names),
        shape=list(space.shape),
        coords_sha1=_coords_sha1(arrays, names),
        fn=_name(fn),
        fn_sha1=fn_sha1,
        builder=_name(builder),
        fixed=_fixed(builder, names),
        out=None if out is None else os.path.abspath(out),
        chunk_size=size,
        step=step,
        local_devices=len(devices),
    )
    return _Prepared(names, devices, n, out_spec, fn_sha1, size, step, spec)


def _open_distributed(lay, verify, args):
    """Process 0 opens (or resumes) the store and holds its lock; then every process joins
    it; an error anywhere is raised on every process."""
    store, err, token = None, None, secrets.token_hex(8)
    try:
        if lay.index == 0:
            try:
                store = _Store(*args)
                if verify:
                    store.verify()
                store.start_run(token, lay)
            except ValueError as e:
                err = str(e)
        distributed.check_all("jaxtls.sweep: opening out", err)
        token = distributed.broadcast("jaxtls.sweep: token", token.encode()).decode()
        if lay.index > 0:
            try:
                store = _Store(*args, join=token)
            except ValueError as e:
                err = str(e)
        distributed.check_all("jaxtls.sweep: joining out", err)
    except BaseException:
        if store is not None:
            store.close()
        raise
    store.use_journal(token, lay)
    return store


def _padded(size, n_dev, step):
    """The compiled batch of chunks of ``size`` points: whole steps on every device."""
    return -(-size // (n_dev * step)) * n_dev * step


def _run(store, space, fn, builder, prep, batch_size, progress, lay):
    """Evaluate this process's unfinished chunks into ``store``; the whole result."""
    n, devices = prep.n, prep.devices
    size = store.chunk_size  # a resumed sweep keeps its chunk boundaries
    if batch_size is None and getattr(store, "manifest", {}).get("step"):
        step = store.manifest["step"]  # and its compiled program
    else:
        step = _batch(size, len(devices), _steps(batch_size, devices))[1]
    batch = _padded(size, len(devices), step)  # compiled shape: every chunk padded to it
    evaluate, place = _evaluator(fn, builder, tuple(devices), step)
    n_chunks = -(-n // size)
    todo = [i for i in range(n_chunks) if i not in store.done]
    todo = [todo[k] for k in distributed.my_items(len(todo), lay)]

    def rows(i):
        return min((i + 1) * size, n) - i * size

    done = sum(rows(i) for i in store.done)
    if lay.index > 0 and progress is True:
        progress = None  # one bar, process 0's (its own chunks)
    total = n if lay.count == 1 else done + sum(rows(i) for i in todo)
    bar = progress_bar(progress, total, "sweep", unit="points")
    t0, resumed, err = time.perf_counter(), done, None

    def run(chunk):  # the last chunk comes padded: one compiled shape for all chunks
        return evaluate({k: place(v) for k, v in chunk.items()})

    try:  # the next chunk is dispatched (asynchronously) before this one is stored
        for i, start, stop, vals in iter_chunks(
            run, space.chunk, size, n=n, padded=batch, todo=todo
        ):
            store.write(i, start, vals)
            done += stop - start
            rate = (done - resumed) / max(time.perf_counter() - t0, 1e-9)
            bar.update(done, f"{rate:,.0f} pts/s")
    except Exception as e:
        if lay.count == 1:
            raise
        err = f"{type(e).__name__}: {e}"
    bar.close()
    if lay.count > 1:
        distributed.check_all("jaxtls.sweep: chunks", err)
        if lay.index == 0:
            store.merge()
        distributed.barrier("jaxtls.sweep: merged")
    out_spec = prep.out_spec
    shaped = store.values().reshape(space.shape + tuple(out_spec.shape))
    dims = prep.names if isinstance(space, Grid) else ("point",)
    return SweepResult(shaped, dims, _coords(space), store.out)


def _coords(space) -> dict:
    if isinstance(space, Grid):
        return {k: np.asarray(v, np.float64) for k, v in space.axes.items()}
    return {k: ("point", np.asarray(v, np.float64)) for k, v in space.values.items()}


def _write_json(path, obj) -> None:
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(obj, f, indent=1)
    os.replace(tmp, path)


_FORMAT = "jaxtls-sweep/2"
_KEYS = ("format", "kind", "names", "shape", "out_shape", "dtype", "coords_sha1", "fn_sha1")
_KEYS += ("chunk_size", "done", "checksums")


def _name(obj) -> str:
    if isinstance(obj, functools.partial):
        return _name(obj.func)
    return f"{getattr(obj, '__module__', None) or '?'}.{getattr(obj, '__qualname__', repr(obj))}"


def _jsonable(x):
    if isinstance(x, Mapping):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, (bool, int, float, str)) or x is None:
        return x
    if isinstance(x, (np.generic, np.ndarray, jax.Array)) and np.size(x) == 1:
        return np.asarray(x).item()
    return repr(x)


def _fixed(builder, names) -> dict:
    """The values a builder takes for what the axes leave open: the default builder's
    defaults (those not replaced by an axis), or a custom builder's keyword defaults."""
    if builder is two_bath_model:
        replaced = {"J_2": "ratio", "kappa_1": "K_1", "kappa_2": "K_2"}
        return {
            k: v for k, v in _DEFAULTS.items() if k not in names and replaced.get(k) not in names
        }
    fixed = {}
    try:
        params = list(inspect.signature(builder).parameters.values())[1:]
        fixed = {p.name: p.default for p in params if p.default is not inspect.Parameter.empty}
    except (TypeError, ValueError):
        pass
    if isinstance(builder, functools.partial):
        fixed.update(builder.keywords)
    return _jsonable(fixed)


def _versions() -> dict:
    from . import __version__

    return {"jaxtls": __version__, "jax": jax.__version__, "numpy": np.__version__}


def _read_manifest(mpath, hint) -> dict:
    """The manifest at ``mpath``, checked for its keys and the consistency of its chunks."""
    try:
        with open(mpath) as f:
            m = json.load(f)
    except json.JSONDecodeError as err:
        raise ValueError(f"{mpath} is broken (not valid JSON: {err}); {hint}") from None
    except (OSError, UnicodeDecodeError) as err:
        raise ValueError(f"{mpath} cannot be read ({err}); {hint}") from None
    if not isinstance(m, dict) or m.get("format") != _FORMAT:
        raise ValueError(
            f"{mpath} is not a manifest of this jaxtls (format {_FORMAT}, with checksums; "
            f"an older jaxtls wrote none); {hint}"
        )
    missing = [k for k in _KEYS if k not in m]
    if missing:
        raise ValueError(f"{mpath} is broken (it lacks {', '.join(missing)}); {hint}")
    n, cs = int(np.prod(m["shape"])), m["chunk_size"]
    if not isinstance(cs, int) or cs < 1:
        raise ValueError(f"{mpath} is broken (chunk_size {cs!r}); {hint}")
    n_chunks = -(-n // cs)
    for i in m["done"]:
        if not isinstance(i, int) or not 0 <= i < n_chunks:
            raise ValueError(
                f"{mpath} is inconsistent: it lists chunk {i!r}, but chunks of {cs} points "
                f"give chunks 0-{n_chunks - 1}; {hint}"
            )
    for key, entry in m["checksums"].items():
        i = int(key)
        rows = [i * cs, min((i + 1) * cs, n)]
        if not isinstance(entry, list) or entry[:2] != rows:
            raise ValueError(
                f"{mpath} is inconsistent: chunk {i} was written as rows "
                f"{_rows(*entry[:2]) if isinstance(entry, list) else '?'}, but chunk_size {cs} "
                f"puts it at rows {_rows(*rows)} (was the chunk size edited?); {hint}"
            )
    return m


def _rows(start, stop) -> str:
    return f"{start}-{stop - 1}"


def _open_values(vpath, dtype, shape, hint) -> int:
    """Check that ``vpath`` is a complete ``.npy`` of ``dtype`` and ``shape``; its header size."""
    try:
        with open(vpath, "rb") as f:
            version = np.lib.format.read_magic(f)
            read = (
                np.lib.format.read_array_header_1_0
                if version == (1, 0)
                else np.lib.format.read_array_header_2_0
            )
            got_shape, fortran, got_dtype = read(f)
            offset = f.tell()
    except FileNotFoundError:
        raise ValueError(f"{vpath} is missing; {hint}") from None
    except (OSError, ValueError) as err:
        msg = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise ValueError(f"{vpath} is not a readable .npy file ({msg}); {hint}") from None
    if got_dtype != dtype or tuple(got_shape) != tuple(shape) or fortran:
        raise ValueError(
            f"{vpath} holds {got_dtype.name} values of shape {tuple(got_shape)}, but this sweep "
            f"has {dtype.name} values of shape {tuple(shape)}; {hint}"
        )
    need = offset + dtype.itemsize * int(np.prod(shape))
    size = os.path.getsize(vpath)
    if size < need:
        raise ValueError(f"{vpath} is truncated ({size} of {need} bytes); {hint}")
    return offset


def _crc(vpath, offset, row_bytes, start, stop) -> str:
    with open(vpath, "rb") as f:
        f.seek(offset + start * row_bytes)
        return f"{zlib.crc32(f.read((stop - start) * row_bytes)):08x}"


def _coords_sha1(arrays, names) -> str:
    digest = hashlib.sha1()
    for k in names:
        digest.update(k.encode() + b"\0" + np.asarray(arrays[k], np.float64).tobytes())
    return digest.hexdigest()


try:
    import fcntl
except ImportError:  # not POSIX: no lock
    fcntl = None


def _lock(out):
    """An exclusive ``flock`` on ``out/.lock`` (released when its holder ends, even by
    SIGKILL), or ``ValueError`` naming the holder when another run holds ``out``."""
    path = os.path.join(out, ".lock")
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    if fcntl is None:
        return fd
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.pread(fd, 300, 0).decode(errors="replace").strip() or "unknown"
        os.close(fd)
        raise ValueError(
            f"{out} is held by another run that is still going ({holder}): wait for it to "
            "end, or choose another out"
        ) from None
    except OSError as err:  # a filesystem without flock (some NFS mounts): run unlocked
        print(f"jaxtls sweep: cannot lock {path} ({err}); running without a lock", file=sys.stderr)
        return fd
    os.ftruncate(fd, 0)
    now = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    os.pwrite(fd, f"pid {os.getpid()} on {socket.gethostname()} since {now}".encode(), 0)
    return fd


def _journals(out) -> list:
    return sorted(glob.glob(os.path.join(out, "journal", "p*.jsonl")))


def _read_journals(out, n, cs) -> dict:
    """The chunks recorded in ``out/journal/`` (by the processes of a distributed sweep,
    one line per chunk once its rows are synced): chunk -> [start, stop, crc]. A line cut
    short by a kill, or naming rows that are not a chunk, is skipped (that chunk is redone)."""
    found = {}
    for path in _journals(out):
        with open(path, errors="replace") as f:
            for line in f:
                try:
                    i, start, stop, crc = json.loads(line)
                except (ValueError, TypeError):
                    continue
                if isinstance(i, int) and [start, stop] == [i * cs, min((i + 1) * cs, n)]:
                    found[i] = [start, stop, crc]
    return found


class _Store:
    """Where the results go: a numpy array in memory (``out=None``), or ``out/values.npy``
    written chunk by chunk with positioned writes, ``out/coords.npz`` (the axes or points,
    written once) and ``out/manifest.json`` (what the sweep is, and the finished chunks with
    the crc32 of their bytes, replaced atomically after every chunk, once the chunk's rows are
    written and synced). The run holds ``out/.lock`` (:func:`_lock`) while it sweeps.

    In a distributed sweep, process 0 opens the store as above (and holds the lock); the
    others ``join`` it (``join`` = the run's token, which they must find in the manifest:
    ``out`` is then one folder shared by all). Every process writes its chunks' rows into
    ``values.npy`` and records them in its own journal, ``out/journal/p<index>-<token>.jsonl``
    (a line per chunk, appended once the rows are synced); process 0 merges the journals into
    the manifest at the end (:meth:`merge`), and so does any later run of the same sweep
    that finds journals left by a killed one."""

    def __init__(
        self, out, n, out_spec, space, names, size, fn_sha1, about, requested, overwrite,
        join=None,
    ):  # fmt: skip
        shape, dtype = (n,) + tuple(out_spec.shape), np.dtype(out_spec.dtype)
        self.chunk_size, self.done, self.out, self.n = size, set(), out, n
        self.journal, self._lock = None, None
        if out is None:
            self._mem = np.empty(shape, dtype)
            return
        self.mpath, self.vpath = os.path.join(out, "manifest.json"), os.path.join(out, "values.npy")
        self._hint = (
            f"pass overwrite=True (jaxtls sweep/doe --overwrite) to start {out} afresh, or "
            "choose another out"
        )
        self._dtype, self._row_bytes = dtype, dtype.itemsize * int(np.prod(out_spec.shape))
        if join is not None:
            self._join(join, shape)
            return
        os.makedirs(out, exist_ok=True)
        self._lock = _lock(out)
        try:
            self._open(space, names, shape, out_spec, fn_sha1, about, size, requested, overwrite)
        except BaseException:
            self.close()
            raise

    def _open(self, space, names, shape, out_spec, fn_sha1, about, size, requested, overwrite):
        out, dtype = self.out, self._dtype
        arrays = {k: np.asarray(v, np.float64) for k, v in _items(space).items()}
        spec = {
            "format": _FORMAT,
            "kind": type(space).__name__,
            "names": list(names),
            "shape": list(space.shape),
            "out_shape": list(out_spec.shape),
            "dtype": dtype.str,
            "coords_sha1": _coords_sha1(arrays, names),
            "fn_sha1": fn_sha1,
        }
        self.manifest = None if overwrite else self._resume(spec, shape, requested)
        if self.manifest is None:
            for path in _journals(out):  # a former sweep's: not this one's chunks
                os.remove(path)
            axes = {
                k: {"n": int(a.size), "min": float(a.min()), "max": float(a.max())}
                for k, a in arrays.items()
            }
            self.manifest = dict(
                spec,
                **about,
                axes=axes,
                chunk_size=size,
                chunk_size_requested=requested,
                versions=_versions(),
                created=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
                done=[],
                checksums={},
            )
            _write_json(self.mpath, self.manifest)  # first: values without a manifest are alien
            np.savez(os.path.join(out, "coords.npz"), **arrays)
            header = np.lib.format.open_memmap(self.vpath, mode="w+", dtype=dtype, shape=shape)
            del header  # a sparse file with its .npy header; rows are written chunk by chunk
        self.chunk_size, self.done = self.manifest["chunk_size"], set(self.manifest["done"])
        self._offset = _open_values(self.vpath, dtype, shape, self._hint)
        self.merge()  # rows that a killed distributed run journaled (checked by verify)

    def _join(self, token, shape):
        """Open the store process 0 opened for the run ``token`` (processes 1..)."""
        try:
            with open(self.mpath) as f:
                self.manifest = json.load(f)
        except (OSError, ValueError) as err:
            self.manifest = {"_error": str(err)}
        if self.manifest.get("run", {}).get("token") != token:
            raise ValueError(
                f"{self.out} is not the folder process 0 prepared ({self.mpath}: "
                f"{self.manifest.get('_error', 'another run')}): out must be on a filesystem "
                "that every process shares, at the same path"
            )
        self.chunk_size, self.done = self.manifest["chunk_size"], set(self.manifest["done"])
        self._offset = _open_values(self.vpath, self._dtype, shape, self._hint)

    def start_run(self, token, lay):
        """Process 0: record the distributed run's token and layout in the manifest."""
        if self.out is None:
            return
        self.manifest["run"] = {"token": token, "processes": lay.count}
        _write_json(self.mpath, self.manifest)

    def use_journal(self, token, lay):
        """From now on, record finished chunks in this process's journal."""
        if self.out is None:
            return
        os.makedirs(os.path.join(self.out, "journal"), exist_ok=True)
        name = f"p{lay.index:05d}-{token}.jsonl"
        self.journal = os.path.join(self.out, "journal", name)

    def merge(self):
        """Move the chunks recorded in ``out/journal/`` into the manifest (process 0, or a
        single process), then delete the journals."""
        if self.out is None:
            return
        found = _read_journals(self.out, self.n, self.chunk_size)
        listed = set(self.manifest["done"])
        for i, entry in sorted(found.items()):
            self.done.add(i)
            if i not in listed:
                self.manifest["done"].append(i)
            self.manifest["checksums"][str(i)] = entry
        if found or _journals(self.out):
            _write_json(self.mpath, self.manifest)
            for path in _journals(self.out):
                os.remove(path)

    def close(self):
        """Release ``out``'s lock."""
        if self._lock is not None:
            os.close(self._lock)
            self._lock = None

    def _resume(self, spec, shape, requested):
        """The manifest of the same sweep in ``out`` to resume, or None to start afresh;
        ``ValueError`` when ``out`` holds anything else."""
        has_m, has_v = os.path.exists(self.mpath), os.path.exists(self.vpath)
        if not has_m:
            if has_v:
                raise ValueError(
                    f"{self.vpath} has no manifest.json next to it (lost, or not a jaxtls "
                    f"sweep); {self._hint}"
                )
            return None
        m = _read_manifest(self.mpath, self._hint)
        differ = [k for k in spec if m.get(k) != spec[k]]
        if differ:
            what = []
            if {"kind", "names", "shape", "coords_sha1"} & set(differ):
                what.append("axes or points")
            if {"fn_sha1", "out_shape", "dtype"} & set(differ):
                what.append(f"function (it has {m.get('fn', {}).get('name', '?')})")
            raise ValueError(
                f"{self.out} holds another sweep (other {' and '.join(what)}); {self._hint}"
            )
        if not m["done"] and not _read_journals(
            self.out, int(np.prod(m["shape"])), m["chunk_size"]
        ):
            return None  # nothing finished, nothing to lose: start afresh
        cs = m["chunk_size"]
        if requested is not None and requested not in (cs, m.get("chunk_size_requested")):
            raise ValueError(
                f"{self.out} was written in chunks of {cs} points; pass chunk_size={cs} (or "
                f"none) to resume it, or overwrite=True to restart"
            )
        _open_values(self.vpath, self._dtype, shape, self._hint)
        return m

    def verify(self):
        """Check the finished chunks on disk against their checksums; failures are redone."""
        if self.out is None:
            return
        bad = []
        for i in sorted(self.done):
            start, stop = i * self.chunk_size, min((i + 1) * self.chunk_size, self.n)
            entry = self.manifest["checksums"].get(str(i))
            if entry is None:
                why = "is listed as finished but has no checksum"
            elif _crc(self.vpath, self._offset, self._row_bytes, start, stop) != entry[2]:
                why = "fails its checksum (its bytes changed on disk)"
            else:
                continue
            bad.append(i)
            print(
                f"jaxtls sweep: chunk {i} (rows {_rows(start, stop)}) of {self.vpath} {why}; "
                "recomputing it",
                file=sys.stderr,
            )
        if bad:
            self.done -= set(bad)
            self.manifest["done"] = [i for i in self.manifest["done"] if i not in bad]
            for i in bad:
                self.manifest["checksums"].pop(str(i), None)
            _write_json(self.mpath, self.manifest)

    def write(self, i, start, rows):
        if self.out is None:
            self._mem[start : start + len(rows)] = rows
            return
        data = np.ascontiguousarray(rows, dtype=self._dtype).tobytes()
        with open(self.vpath, "r+b") as f:
            f.seek(self._offset + start * self._row_bytes)
            f.write(data)
            f.flush()
            os.fsync(f.fileno())  # the manifest may only list rows that are on disk
        entry = [start, start + len(rows), f"{zlib.crc32(data):08x}"]
        self.done.add(i)
        if self.journal is not None:  # a distributed sweep: this process's own record
            with open(self.journal, "a") as f:
                f.write(json.dumps([i, *entry]) + "\n")
                f.flush()
                os.fsync(f.fileno())
            return
        self.manifest["done"].append(i)
        self.manifest["checksums"][str(i)] = entry
        _write_json(self.mpath, self.manifest)

    def values(self):
        if self.out is None:
            return self._mem
        return np.load(self.vpath, mmap_mode="r")


def _items(space) -> dict:
    return space.axes if isinstance(space, Grid) else space.values


def load_sweep(path: str, verify: bool = True) -> SweepResult:
    """Reload a sweep written with ``out=path`` (values as a read-only memory map).

    With ``verify`` (the default) every chunk is checked against the crc32 the manifest
    recorded when it was written, and the coordinates against their fingerprint (this reads
    the whole file once; ``verify=False`` skips it for huge results). Damaged, incomplete or
    inconsistent files are a one-line ``ValueError`` naming the file (and the chunk).

    Example:
      >>> import numpy as np, jaxtls, tempfile
      >>> d = tempfile.mkdtemp()
      >>> _ = jaxtls.sweep(jaxtls.Grid({"T_1": [1.0, 2.0]}), out=d, progress=None)
      >>> jaxtls.load_sweep(d).values.shape
      (2,)
    """
    mpath, vpath = os.path.join(path, "manifest.json"), os.path.join(path, "values.npy")
    hint = "rerun the sweep with overwrite=True (jaxtls sweep --overwrite) to recompute it"
    if not os.path.exists(mpath):
        raise ValueError(f"{mpath} not found: {path} holds no jaxtls sweep")
    manifest = _read_manifest(mpath, hint)
    n, cs = int(np.prod(manifest["shape"])), manifest["chunk_size"]
    n_chunks = -(-n // cs)
    done = set(manifest["done"])
    if len(done) < n_chunks:
        raise ValueError(
            f"sweep in {path} is incomplete ({len(done)}/{n_chunks} chunks); run it again "
            "to finish it"
        )
    dtype, shape = np.dtype(manifest["dtype"]), (n,) + tuple(manifest["out_shape"])
    offset = _open_values(vpath, dtype, shape, hint)
    if verify:
        row_bytes = dtype.itemsize * int(np.prod(manifest["out_shape"]))
        for i in range(n_chunks):
            start, stop = i * cs, min((i + 1) * cs, n)
            entry = manifest["checksums"].get(str(i))
            if entry is None or _crc(vpath, offset, row_bytes, start, stop) != entry[2]:
                why = "has no checksum" if entry is None else "fails its checksum"
                raise ValueError(
                    f"{vpath}: chunk {i} (rows {_rows(start, stop)}) {why} (changed after the "
                    "sweep wrote it): run the sweep again to recompute it, or "
                    "load_sweep(..., verify=False) to read it as it is"
                )
    values = np.load(vpath, mmap_mode="r")
    values = values.reshape(tuple(manifest["shape"]) + tuple(manifest["out_shape"]))
    cpath = os.path.join(path, "coords.npz")
    try:
        with np.load(cpath) as saved:
            arrays = {k: saved[k] for k in manifest["names"]}
    except (OSError, KeyError, ValueError) as err:
        raise ValueError(f"{cpath} cannot be read ({err}); {hint}") from None
    if verify and _coords_sha1(arrays, manifest["names"]) != manifest["coords_sha1"]:
        raise ValueError(f"{cpath} does not match the manifest's coordinates; {hint}")
    if manifest["kind"] == "Grid":
        return SweepResult(values, tuple(manifest["names"]), arrays, path)
    return SweepResult(values, ("point",), {k: ("point", v) for k, v in arrays.items()}, path)
