"""Sweep benchmarks (issue 6): chunking overhead, peak memory of a 1e7-point sweep, devices.

    python benchmarks/bench_sweep.py [--quick] [--out benchmarks/out/sweep.json]

1. Throughput of ``jaxtls.sweep`` (in memory and streamed to disk) against ONE direct jitted,
   vmapped call on the same points, in the same run; target: overhead < 15 %.
2. Peak resident memory (VmHWM) of a streamed 1e7-point sweep in a fresh process, against the
   same process's peak after importing and compiling only (the baseline).
3. Points/s on 1 and 2 emulated host devices (XLA_FLAGS=--xla_force_host_platform_device_count=2;
   both share the same 2 cores here, so this checks that sharding works and costs little,
   not a speed-up).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

_CHILD = r"""
import os, sys, json, time, tempfile
os.environ.setdefault("XLA_FLAGS", "")
import numpy as np, jax, jax.numpy as jnp, jaxtls

def peak_mb():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM"):
            return int(line.split()[1]) / 1024

mode, n = sys.argv[1], int(float(sys.argv[2]))
side = int(round(n ** 0.5))
grid = jaxtls.Grid({"T1": np.geomspace(0.1, 1e3, side), "ratio": np.geomspace(1, 1e6, n // side)})
fn = lambda m: jaxtls.negativity(jaxtls.xstate(m, method="closed_form", check=False))
small = jaxtls.Grid({"T1": [1.0, 2.0], "ratio": [10.0]})
jaxtls.sweep(small, fn, chunk_size=2**18, progress=None)  # compile outside the measurement
base = peak_mb()
t = time.perf_counter()
with tempfile.TemporaryDirectory() as d:
    r = jaxtls.sweep(grid, fn, out=d if mode == "disk" else None, chunk_size=2**18, progress=None)
    ok = bool(np.isfinite(np.asarray(r.values[:3])).all())
dt = time.perf_counter() - t
res = dict(points=len(grid), seconds=dt, points_per_s=len(grid) / dt, devices=len(jax.devices()))
print(json.dumps(dict(res, baseline_peak_mb=base, peak_mb=peak_mb(), finite=ok)))
"""


def child(mode, n, devices=1):
    env = dict(os.environ, JAX_PLATFORMS="cpu")
    if devices > 1:
        env["XLA_FLAGS"] = f"--xla_force_host_platform_device_count={devices}"
    out = subprocess.run(
        [sys.executable, "-c", _CHILD, mode, str(n)],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def overhead(n):
    import jax
    import numpy as np

    import jaxtls

    rng = np.random.default_rng(0)
    pts = jaxtls.Points(
        {
            "T1": 10 ** rng.uniform(-1, 3, n),
            "T2": 10 ** rng.uniform(-2, 0, n),
            "ratio": 10 ** rng.uniform(0, 6, n),
            "kappa2": rng.uniform(0.5, 1, n),
        }
    )

    def fn(m):
        return jaxtls.negativity(jaxtls.xstate(m, method="closed_form", check=False))

    direct = jax.jit(jax.vmap(lambda p: fn(jaxtls.two_bath_model(p))))
    args = {k: jax.numpy.asarray(v) for k, v in pts.values.items()}
    ref = np.asarray(direct(args))

    def best(f, reps=3):
        f()
        times = []
        for _ in range(reps):
            t = time.perf_counter()
            f()
            times.append(time.perf_counter() - t)
        return min(times)

    t_direct = best(lambda: np.asarray(direct(args)))
    chunk = None  # sized by the default memory budget
    t_mem = best(lambda: jaxtls.sweep(pts, fn, chunk_size=chunk, progress=None))
    with tempfile.TemporaryDirectory() as d:

        def disk():
            for f in os.listdir(d):
                os.remove(os.path.join(d, f))
            return jaxtls.sweep(pts, fn, out=d, chunk_size=chunk, progress=None)

        t_disk = best(disk)
        same = bool(np.array_equal(np.asarray(disk().values), ref))
    return dict(
        points=n,
        chunk_size=chunk,
        direct_s=t_direct,
        sweep_memory_s=t_mem,
        sweep_disk_s=t_disk,
        overhead_memory=t_mem / t_direct - 1,
        overhead_disk=t_disk / t_direct - 1,
        identical_to_direct=same,
        target_overhead=0.15,
    )


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="1e6-point memory run instead of 1e7")
    p.add_argument("--out", default="benchmarks/out/sweep.json")
    args = p.parse_args(argv)
    n_big = 10**6 if args.quick else 10**7
    res = {"overhead": overhead(4 * 10**6 if not args.quick else 10**6)}
    res["memory"] = child("disk", n_big)
    res["devices"] = {str(d): child("memory", 2 * 10**6, d) for d in (1, 2)}
    o, mem = res["overhead"], res["memory"]
    print(f"sweep vs direct vmapped call ({o['points']:.0e} points, default chunking):")
    print(
        f"  direct {o['points'] / o['direct_s']:.3e} pts/s | sweep in memory overhead "
        f"{100 * o['overhead_memory']:+.1f}% | streamed to disk {100 * o['overhead_disk']:+.1f}% "
        f"(target < 15%) | identical: {o['identical_to_direct']}"
    )
    print(
        f"streamed sweep of {mem['points']:.1e} points: {mem['points_per_s']:.3e} pts/s, peak RSS "
        f"{mem['peak_mb']:.0f} MB (after import+compile {mem['baseline_peak_mb']:.0f} MB, "
        f"results on disk {8 * mem['points'] / 2**20:.0f} MB)"
    )
    for d, r in res["devices"].items():
        print(f"{d} device(s): {r['points_per_s']:.3e} pts/s (devices seen: {r['devices']})")
    os.makedirs(os.path.dirname(args.out) or ".", exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(res, f, indent=1)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
