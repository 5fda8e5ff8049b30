"""Sweep benchmarks (issue 6): chunking overhead, peak memory of 1e7/1e8-point sweeps, devices.

    python benchmarks/bench_sweep.py [--quick] [--out benchmarks/out/sweep.json]

1. Throughput of ``jaxtls.sweep`` against ONE direct jitted, vmapped call on the same points,
   in the same process: a list of points in memory and streamed to disk, a grid streamed to
   disk; and against one direct call that maps the points in the sweep's vectorised steps
   (``lax.map(..., batch_size)``: what chunking, storage and bookkeeping alone cost). The
   variants run interleaved, ``--reps`` times, and the best wall and CPU time (all threads;
   less sensitive to other jobs on the machine) of each is kept. Target: overhead < 15 %.
   Every run must equal the direct vmapped call bit for bit.
2. Resident memory of streamed grid sweeps of 1e7 and 1e8 points (1e6 with ``--quick``), each in
   a fresh process: peak (VmHWM), anonymous and file-backed resident memory after the sweep,
   against the same process after import and compilation of the same chunk shape. The stated
   bound: the sweep's ``memory_budget_mb`` (256 MB by default; the two chunks in flight) plus
   XLA's temporaries for one vectorised step, whatever the number of points.
3. Points/s on 1 and 2 emulated host devices (XLA_FLAGS=--xla_force_host_platform_device_count,
   fresh process each, best of 3): sharding over a 1-D mesh with ``jax.sharding``. The emulated
   devices share this machine's cores, so this measures what sharding costs or gains here.

Every solve is the closed form (the cheapest per point): the worst case for the overhead.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

_CHILD = r"""
import json, os, sys, tempfile, time
import numpy as np, jax, jaxtls

def status():
    with open("/proc/self/status") as f:
        rows = [line.split() for line in f]
    keep = ("VmHWM:", "VmRSS:", "RssAnon:", "RssFile:")
    return {r[0][:-1]: int(r[1]) / 1024 for r in rows if r[0] in keep}

def fn(m):
    return jaxtls.negativity(jaxtls.closed_form(m, check=False))

mode, n, reps = sys.argv[1], int(float(sys.argv[2])), int(sys.argv[3])
chunk = int(sys.argv[4]) if sys.argv[4] != "auto" else None
side = 1000
axes = {"T_1": np.geomspace(0.1, 1e3, side), "ratio": np.geomspace(1, 1e6, n // side)}
grid = jaxtls.Grid(axes)
# compile the chunk shape outside the measurement: the first 4e6 points of the same grid
# (a default chunk is smaller than that, and a smaller grid is one chunk of its own size)
warm = jaxtls.Grid(dict(axes, ratio=axes["ratio"][:4000]))
jaxtls.sweep(warm, fn, chunk_size=chunk, progress=None)
base = status()
times = []
with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_TMP")) as d:
    for _ in range(reps):
        for f in os.listdir(d):
            os.remove(os.path.join(d, f))
        t = time.perf_counter()
        r = jaxtls.sweep(grid, fn, out=d if mode == "disk" else None, chunk_size=chunk,
                         progress=None)
        times.append(time.perf_counter() - t)
    after = status()  # the result is still held (a read-only memory map when on disk)
    ok = bool(np.isfinite(np.asarray(r.values[::97, ::89])).all())
    del r
    if mode == "disk":
        with open(os.path.join(d, "manifest.json")) as f:
            chunk = json.load(f)["chunk_size"]
dt = min(times)
res = dict(points=len(grid), chunk_size=chunk or "auto", seconds=dt, points_per_s=len(grid) / dt,
           devices=len(jax.devices()), finite=ok, result_mb=8 * len(grid) / 2**20,
           baseline=base, after=after,
           growth={k: after[k] - base[k] for k in base})
print(json.dumps(res))
"""


def child(mode, n, chunk=None, devices=None, reps=1):
    """One run in a fresh process: on the default platform, or (``devices`` given) on that
    many emulated host devices, which exist only on the CPU platform."""
    env = dict(os.environ)
    if devices is not None:
        env["JAX_PLATFORMS"] = "cpu"
        env["XLA_FLAGS"] = f"--xla_force_host_platform_device_count={devices}"
    out = subprocess.run(
        [sys.executable, "-c", _CHILD, mode, str(n), str(reps), str(chunk or "auto")],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def _interleaved(fns, reps):
    """Best wall and CPU (all threads) seconds of each function, the runs interleaved so that
    a change of load on the machine hits every variant alike."""
    for f in fns.values():
        f()  # warm up: compile, allocate
    wall = {k: [] for k in fns}
    cpu = {k: [] for k in fns}
    for _ in range(reps):
        for k, f in fns.items():
            c, t = time.process_time(), time.perf_counter()
            f()
            wall[k].append(time.perf_counter() - t)
            cpu[k].append(time.process_time() - c)
    return {k: min(v) for k, v in wall.items()}, {k: min(v) for k, v in cpu.items()}


def overhead(n, chunk, reps):
    import jax
    import numpy as np

    import jaxtls

    def fn(m):
        return jaxtls.negativity(jaxtls.closed_form(m, check=False))

    rng = np.random.default_rng(0)
    pts = jaxtls.Points(
        {
            "T_1": 10 ** rng.uniform(-1, 3, n),
            "T_2": 10 ** rng.uniform(-2, 0, n),
            "ratio": 10 ** rng.uniform(0, 6, n),
            "kappa_2": rng.uniform(0.5, 1, n),
        }
    )
    side = 1000
    grid = jaxtls.Grid(
        {"T_1": np.geomspace(0.1, 1e3, side), "ratio": np.geomspace(1, 1e6, n // side)}
    )

    def one(p):
        return fn(jaxtls.two_bath_model(p))

    step = getattr(jaxtls.batching, "CPU_BATCH", 2**15)
    direct = jax.jit(jax.vmap(one))  # the baseline: one vmapped call on every point
    blocked = jax.jit(lambda p: jax.lax.map(one, p, batch_size=step))  # same, in cached steps
    args = {k: jax.numpy.asarray(v) for k, v in pts.values.items()}
    grid_args = {k: jax.numpy.asarray(v) for k, v in grid.chunk(0, len(grid)).items()}
    ref, grid_ref = np.asarray(direct(args)), np.asarray(direct(grid_args))
    tmp = tempfile.mkdtemp(dir=os.environ.get("BENCH_TMP"))

    def disk(space):
        for f in os.listdir(tmp):
            os.remove(os.path.join(tmp, f))
        return jaxtls.sweep(space, fn, out=tmp, chunk_size=chunk, progress=None)

    fns = {
        "direct": lambda: np.asarray(direct(args)),
        "direct_blocked": lambda: np.asarray(blocked(args)),
        "points_memory": lambda: jaxtls.sweep(pts, fn, chunk_size=chunk, progress=None),
        "points_disk": lambda: disk(pts),
        "grid_direct": lambda: np.asarray(direct(grid_args)),
        "grid_disk": lambda: disk(grid),
    }
    wall, cpu = _interleaved(fns, reps)
    same = {
        "direct_blocked": np.array_equal(np.asarray(blocked(args)), ref),
        "points_memory": np.array_equal(fns["points_memory"]().values, ref),
        "points_disk": np.array_equal(np.asarray(disk(pts).values), ref),
        "grid_disk": np.array_equal(np.asarray(disk(grid).values).reshape(-1), grid_ref),
    }
    shutil.rmtree(tmp)
    vs = {  # each sweep against the direct call on the same points, vmapped and blocked
        "points_memory": ("direct", "direct_blocked"),
        "points_disk": ("direct", "direct_blocked"),
        "grid_disk": ("grid_direct", None),
        "direct_blocked": ("direct", None),
    }
    ratio = lambda t, k, b: None if b is None else t[k] / t[b] - 1  # noqa: E731
    return dict(
        points=n,
        chunk_size=chunk or "auto",
        batch_size=step,
        reps=reps,
        direct_points_per_s=n / wall["direct"],
        sweep_points_per_s=n / wall["points_memory"],
        wall_s=wall,
        cpu_s=cpu,
        overhead_wall={k: ratio(wall, k, b) for k, (b, _) in vs.items()},
        overhead_cpu={k: ratio(cpu, k, b) for k, (b, _) in vs.items()},
        overhead_wall_vs_blocked={k: ratio(wall, k, b) for k, (_, b) in vs.items()},
        overhead_cpu_vs_blocked={k: ratio(cpu, k, b) for k, (_, b) in vs.items()},
        identical_to_direct={k: bool(v) for k, v in same.items()},
        target_overhead=0.15,
    )


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="1e6-point runs (about 30 s)")
    p.add_argument("--chunk", type=int, default=None, help="points per chunk (default: sweep's)")
    p.add_argument("--reps", type=int, default=5, help="interleaved repetitions (default 5)")
    p.add_argument("--out", default="benchmarks/out/sweep.json")
    args = p.parse_args(argv)
    chunk = args.chunk
    sizes = [10**6] if args.quick else [10**7, 10**8]
    t0, load0 = time.perf_counter(), os.getloadavg()
    # whole multiples of the vectorised step (2**15): the direct call in steps has no
    # remainder (lax.map compiles a remainder separately, and its bits may differ)
    res = {"overhead": overhead(2**20 if args.quick else 125 * 2**15, chunk, args.reps)}
    res["memory"] = {f"{n:.0e}": child("disk", n, chunk) for n in sizes}
    n_dev = 10**6 if args.quick else 4 * 10**6
    res["devices"] = {str(d): child("memory", n_dev, chunk, d, reps=3) for d in (1, 2)}
    d1, d2 = res["devices"]["1"], res["devices"]["2"]
    res["devices"]["speedup_2_over_1"] = d2["points_per_s"] / d1["points_per_s"]
    res["cpu_count"] = os.cpu_count()
    res["wall_s"] = time.perf_counter() - t0
    res["loadavg_1min_start_end"] = [load0[0], os.getloadavg()[0]]  # other jobs on the machine

    o = res["overhead"]
    print(
        f"sweep vs one direct jitted call ({o['points']:.0e} points, chunks: {chunk or 'auto'}, "
        f"steps of {o['batch_size']}); extra time, wall | CPU (target < 15%):"
    )
    print(f"  direct vmapped call {o['direct_points_per_s']:.3e} pts/s")
    for key, label in (
        ("direct_blocked", "direct call in steps (lax.map)"),
        ("points_memory", "sweep, points, in memory"),
        ("points_disk", "sweep, points, streamed to disk"),
        ("grid_disk", "sweep, grid, streamed to disk"),
    ):
        line = f"    {label:<34}{100 * o['overhead_wall'][key]:+6.1f}% | "
        line += f"{100 * o['overhead_cpu'][key]:+6.1f}%"
        if o["overhead_wall_vs_blocked"][key] is not None:
            line += (
                f"   (vs the direct call in steps: {100 * o['overhead_wall_vs_blocked'][key]:+.1f}%"
            )
            line += f" | {100 * o['overhead_cpu_vs_blocked'][key]:+.1f}%)"
        print(line)
    print(f"  bit for bit equal to the direct vmapped call: {o['identical_to_direct']}")
    for key, m in res["memory"].items():
        g = m["growth"]
        print(
            f"streamed grid sweep of {key} points: {m['points_per_s']:.3e} pts/s, peak RSS "
            f"{m['after']['VmHWM']:.0f} MB = {m['baseline']['VmHWM']:.0f} MB after import+compile "
            f"{g['VmHWM']:+.0f} MB (anon {g['RssAnon']:+.0f}, file {g['RssFile']:+.0f}); "
            f"results {m['result_mb']:.0f} MB on disk"
        )
    print(
        f"1 device {d1['points_per_s']:.3e} pts/s, 2 emulated devices "
        f"{d2['points_per_s']:.3e} pts/s (x{res['devices']['speedup_2_over_1']:.2f}, "
        f"{res['cpu_count']} cores)"
    )
    la = res["loadavg_1min_start_end"]
    print(f"load average (1 min) at start and end: {la[0]:.1f} {la[1]:.1f}")
    os.makedirs(os.path.dirname(args.out) or ".", exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(res, f, indent=1)
    print(f"wrote {args.out} in {res['wall_s']:.0f} s")


if __name__ == "__main__":
    main()
