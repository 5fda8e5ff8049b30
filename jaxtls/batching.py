"""Sweeps over millions of parameter points: chunked, sharded, streamed to disk, resumable.

A sweep evaluates ``fn(model) -> array`` (written for ONE point; it is vmapped) over a
:class:`Grid` (cartesian product of named axes) or :class:`Points` (a list of points). Named
axes become a :class:`jaxtls.Model` through a builder; the default, :func:`two_bath_model`,
knows ``T1 T2 J1 J2 ratio kappa1 kappa2 K1 K2 xi detuning delta``.

Memory: the points are generated chunk by chunk from the axes (never all at once), each chunk
is evaluated on all local devices (``jax.sharding``, batch axis split over a 1-D mesh), and its
result is written into a ``.npy`` file opened as a memory map; the host holds one chunk of
inputs and outputs at a time (about ``chunk_size * (8 * n_axes + result bytes)``, plus XLA's
temporaries, about 1 kB per point for the general solver). A json manifest, replaced
atomically after every chunk, records the finished chunks: a killed sweep started again with
the same arguments and ``out`` resumes after the last finished chunk.

Multi-host: start every process with ``jax.distributed.initialize()`` and give each its own
``out`` and its slice of the points (``Points`` built from ``np.array_split``); within a host
the chunk is sharded over that host's devices.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import sys
import time
from collections.abc import Callable, Mapping
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from .measures import negativity
from .model import Model
from .steady_state import xstate

Array = jax.Array

AXES = ("T1", "T2", "J1", "J2", "ratio", "kappa1", "kappa2", "K1", "K2", "xi", "detuning", "delta")
_DEFAULTS = dict(T1=1.0, T2=0.1, J1=1.0, J2=1.0, kappa1=0.0, kappa2=0.0, xi=0.0, detuning=0.0)
_DEFAULTS["delta"] = 1.0


def two_bath_model(p: Mapping[str, Array]) -> Model:
    """Symmetric two-bath Model from named values (missing ones take defaults).

    ``ratio`` sets ``J2 = ratio * J1``; ``kappa_n`` sets ``K_n = kappa_n J_n`` (or give ``K_n``).
    Defaults: ``T1=1, T2=0.1, J1=1, J2=1, kappa=0, xi=0, detuning=0, delta=1``.

    Example:
      >>> import jaxtls
      >>> m = jaxtls.two_bath_model({"T1": 20.0, "ratio": 1e3, "kappa2": 1.0})
      >>> m.J.tolist(), m.K.tolist()
      ([1.0, 1000.0], [0.0, 1000.0])
    """
    v = {k: jnp.asarray(p[k], jnp.float64) if k in p else _DEFAULTS.get(k) for k in AXES}
    J1 = v["J1"]
    J2 = v["ratio"] * J1 if "ratio" in p else v["J2"]
    K1 = v["K1"] if "K1" in p else v["kappa1"] * J1
    K2 = v["K2"] if "K2" in p else v["kappa2"] * J2
    stack = lambda a, b: jnp.stack(jnp.broadcast_arrays(a, b), -1)  # noqa: E731
    return Model(
        stack(v["T1"], v["T2"]),
        stack(J1, J2),
        stack(K1, K2),
        xi=v["xi"],
        delta=v["delta"],
        detuning=v["detuning"],
    )


def check_axes(names, builder=two_bath_model) -> None:
    """Raise ``ValueError`` for unknown or conflicting axis names of the default builder."""
    if builder is not two_bath_model:
        return
    unknown = [n for n in names if n not in AXES]
    if unknown:
        raise ValueError(f"unknown axis name(s) {unknown}; known axes: {', '.join(AXES)}")
    for a, b in (("J2", "ratio"), ("K1", "kappa1"), ("K2", "kappa2")):
        if a in names and b in names:
            raise ValueError(f"axes {a!r} and {b!r} set the same quantity: give one of them")


class Grid(NamedTuple):
    """Cartesian product of named 1-D axes, e.g. ``Grid({"T1": t1, "T2": t2})``."""

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


def default_fn(model: Model) -> Array:
    """Negativity of the steady state (general solver), NaN where it is not unique."""
    return negativity(xstate(model, check=False))


def _progress(done, total, t0, stream=sys.stderr):
    if stream is None:
        return
    frac = done / max(total, 1)
    bar = "#" * int(30 * frac)
    rate = done / max(time.perf_counter() - t0, 1e-9)
    stream.write(f"\rsweep [{bar:<30}] {done}/{total} points, {rate:,.0f} pts/s")
    if done >= total:
        stream.write("\n")
    stream.flush()


@functools.lru_cache(maxsize=32)
def _out_spec(fn, builder, names):
    one = {k: jax.ShapeDtypeStruct((), jnp.float64) for k in names}
    return jax.eval_shape(lambda p: fn(builder(p)), one)


@functools.lru_cache(maxsize=32)
def _evaluator(fn, builder, devices):
    """Jitted, vmapped (and sharded) evaluation, cached so that repeated sweeps of the same
    ``fn`` do not recompile (pass the same function object, not a new lambda, to benefit)."""
    per_point = jax.vmap(lambda p: fn(builder(p)))
    if len(devices) == 1:
        return jax.jit(per_point), lambda x: jax.device_put(x, devices[0])
    mesh = Mesh(np.array(devices), ("batch",))
    sharding = NamedSharding(mesh, PartitionSpec("batch"))
    return jax.jit(
        per_point, in_shardings=sharding, out_shardings=sharding
    ), lambda x: jax.device_put(x, sharding)


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
    progress=sys.stderr,
) -> SweepResult:
    """Evaluate ``fn`` over every point of ``space`` in chunks, optionally streaming to ``out``.

    Args:
      space: a :class:`Grid` or :class:`Points`.
      fn: function of a single-point Model returning an array (default: negativity).
      builder: named values -> Model (default :func:`two_bath_model`).
      out: folder for ``values.npy`` and ``manifest.json``; ``None`` keeps results in memory.
      chunk_size: points per chunk (rounded to a multiple of the device count); by default
        sized so that a chunk uses about ``memory_budget_mb``.
      devices: devices to shard each chunk over (default: all local devices).
      progress: stream for the progress bar, or ``None``.

    Returns:
      :class:`SweepResult` with values of shape ``(*space.shape, *fn_output_shape)``.

    Example:
      >>> import numpy as np, jaxtls
      >>> axes = {"T1": np.geomspace(1, 100, 4), "ratio": [10.0, 100.0], "kappa2": [1.0]}
      >>> grid = jaxtls.Grid(axes)
      >>> r = jaxtls.sweep(grid, progress=None)
      >>> r.values.shape, r.dims
      ((4, 2, 1), ('T1', 'ratio', 'kappa2'))
    """
    if not isinstance(space, (Grid, Points)):
        raise ValueError("space must be a jaxtls.Grid or jaxtls.Points")
    _validate_space(space)
    names = tuple((space.axes if isinstance(space, Grid) else space.values).keys())
    check_axes(names, builder)
    devices = list(devices or jax.local_devices())
    n = len(space)
    probe = space.chunk(0, 1)
    out_spec = jax.eval_shape(
        lambda p: fn(builder(p)), {k: jnp.asarray(v[0]) for k, v in probe.items()}
    )
    per_point_bytes = 8 * len(names) + out_spec.dtype.itemsize * int(np.prod(out_spec.shape)) + 1024
    size = _chunk_size(chunk_size, memory_budget_mb, n, len(devices), per_point_bytes)
    evaluate, place = _evaluator(fn, builder, tuple(devices))
    values, manifest, mpath = _storage(out, n, out_spec, space, names, size)
    n_chunks = -(-n // size)
    todo = [i for i in range(n_chunks) if i not in manifest["done"]]
    t0 = time.perf_counter()

    def submit(i):  # dispatch is asynchronous: the next chunk runs while this one is stored
        start, stop = i * size, min((i + 1) * size, n)
        chunk = space.chunk(start, stop)
        pad = size - (stop - start)  # pad the last chunk: one compiled shape for all chunks
        if pad:
            chunk = {k: np.pad(v, (0, pad), mode="edge") for k, v in chunk.items()}
        chunk = {k: place(v) for k, v in chunk.items()}
        return i, start, stop, evaluate(chunk)

    pending = submit(todo[0]) if todo else None
    for pos in range(len(todo)):
        i, start, stop, result = pending
        pending = submit(todo[pos + 1]) if pos + 1 < len(todo) else None
        values[start:stop] = np.asarray(result)[: stop - start]
        if mpath:
            values.flush()
            manifest["done"].append(i)
            _write_json(mpath, manifest)
        _progress(stop, n, t0, progress)
    shaped = values.reshape(space.shape + tuple(out_spec.shape))
    coords = _coords(space)
    return SweepResult(shaped, names if isinstance(space, Grid) else ("point",), coords, out)


def _coords(space) -> dict:
    if isinstance(space, Grid):
        return {k: np.asarray(v, np.float64) for k, v in space.axes.items()}
    return {k: ("point", np.asarray(v, np.float64)) for k, v in space.values.items()}


def _write_json(path, obj) -> None:
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(obj, f, indent=1)
    os.replace(tmp, path)


def _storage(out, n, out_spec, space, names, size):
    if out is None:
        return np.empty((n,) + tuple(out_spec.shape), out_spec.dtype), {"done": []}, None
    os.makedirs(out, exist_ok=True)
    mpath, vpath = os.path.join(out, "manifest.json"), os.path.join(out, "values.npy")
    spec = {
        "kind": type(space).__name__,
        "names": list(names),
        "shape": list(space.shape),
        "out_shape": list(out_spec.shape),
        "dtype": str(out_spec.dtype),
        "chunk_size": size,
    }
    if isinstance(space, Grid):
        spec["coords"] = {k: np.asarray(v, np.float64).tolist() for k, v in space.axes.items()}
    else:  # the points themselves go to points.npz; the manifest keeps their fingerprint
        pts = {k: np.asarray(v, np.float64) for k, v in space.values.items()}
        digest = hashlib.sha1(b"".join(pts[k].tobytes() for k in names)).hexdigest()
        spec["points_sha1"] = digest
    if os.path.exists(mpath) and os.path.exists(vpath):
        with open(mpath) as f:
            manifest = json.load(f)
        if {k: manifest.get(k) for k in spec} == spec:
            return np.load(vpath, mmap_mode="r+"), manifest, mpath
    if isinstance(space, Points):
        np.savez(os.path.join(out, "points.npz"), **pts)
    values = np.lib.format.open_memmap(
        vpath, mode="w+", dtype=out_spec.dtype, shape=(n,) + tuple(out_spec.shape)
    )
    manifest = dict(spec, done=[])
    _write_json(mpath, manifest)
    return values, manifest, mpath


def load_sweep(path: str) -> SweepResult:
    """Reload a sweep written with ``out=path`` (values as a read-only memory map).

    Example:
      >>> import numpy as np, jaxtls, tempfile
      >>> d = tempfile.mkdtemp()
      >>> _ = jaxtls.sweep(jaxtls.Grid({"T1": [1.0, 2.0]}), out=d, progress=None)
      >>> jaxtls.load_sweep(d).values.shape
      (2,)
    """
    with open(os.path.join(path, "manifest.json")) as f:
        manifest = json.load(f)
    n_chunks = -(-int(np.prod(manifest["shape"])) // manifest["chunk_size"])
    if len(manifest["done"]) < n_chunks:
        raise ValueError(
            f"sweep in {path} is incomplete ({len(manifest['done'])}/{n_chunks} chunks)"
        )
    values = np.load(os.path.join(path, "values.npy"), mmap_mode="r")
    values = values.reshape(tuple(manifest["shape"]) + tuple(manifest["out_shape"]))
    if manifest["kind"] == "Grid":
        coords = {k: np.asarray(v) for k, v in manifest["coords"].items()}
        dims = tuple(manifest["names"])
    else:
        with np.load(os.path.join(path, "points.npz")) as pts:
            coords = {k: ("point", pts[k]) for k in manifest["names"]}
        dims = ("point",)
    return SweepResult(values, dims, coords, path)
