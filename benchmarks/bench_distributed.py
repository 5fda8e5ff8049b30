"""Distributed sweeps (issue 14): scaling from 1 to 2 local processes, coordination costs.

    python benchmarks/bench_distributed.py [--quick] [--out benchmarks/out/distributed.json]

1. Scaling: the same streamed grid sweep (general solver -> negativity) run as 1 and as 2
   processes of one ``jax.distributed`` program (``python -m jaxtls.distributed -n P``, one
   CPU device each), best of ``--reps``. Each process first compiles the chunk shape on a
   warm-up sweep; the timed part is ``jaxtls.sweep`` itself, from the first agreement check
   to the merged manifest (process 0's clock). The ratio t(1)/t(2) cannot exceed 2 on this
   2-core machine (less when other jobs share the cores). Both results must be equal bit
   for bit.
2. Per-chunk overhead: a sweep of tiny chunks (8 points) of a trivial function, in one
   process (the manifest is rewritten after each chunk) and over 2 processes (one fsync'd
   journal line per chunk, no message to the coordinator), as seconds per chunk; and the
   bytes a chunk adds to the journal and to the manifest.
3. The coordinator's rates over 2 processes: barriers/s, 1-key broadcasts/s, and atomic
   counter increments/s (what a dynamic chunk scheduler would cost per chunk), from which
   the cost at 1000 processes is estimated in benchmarks/README.md.
4. A search of one variant (``optimize.paper()``, 128 starts, 600 + 200 steps, 3 restarts,
   XLA level 0) on 1 and 2 processes, the starts split over the processes: the second of
   two searches in each process (the first compiles), best of ``--reps`` seeds, process
   0's clock; both results must be equal bit for bit (``--search-only`` runs just this).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile

_WORKER = r"""
import json, os, sys, time
import numpy as np, jax
import jaxtls
from jaxtls import distributed
lay = distributed.initialize()
mode, out, n, reps = sys.argv[1], sys.argv[2], int(float(sys.argv[3])), int(sys.argv[4])
res = {}

fn = jaxtls.batching.default_fn  # the general solver -> negativity (the sweep's default)

def trivial(m):
    return m.T[..., 0]

def grid(n):
    side = 256
    axes = {"T_1": np.geomspace(0.1, 1e3, side), "ratio": np.geomspace(1, 1e6, n // side)}
    return jaxtls.Grid(axes)

if mode == "scaling":
    chunk = 2**17
    jaxtls.sweep(grid(2 * chunk * lay.count), fn, chunk_size=chunk, progress=None,
                 out=os.path.join(out, "warm"), overwrite=True)  # compile the chunk shape
    times, cpu = [], []
    for r in range(reps):
        distributed.barrier("start")
        t0, c0 = time.perf_counter(), time.process_time()
        jaxtls.sweep(grid(n), fn, chunk_size=chunk, progress=None,
                     out=os.path.join(out, "run"), overwrite=True)
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)  # this process's CPU time (all its threads)
    res = dict(best_s=min(times), times=times, cpu_s=cpu, points=n, chunk=chunk,
               loadavg=os.getloadavg()[0])
elif mode == "chunks":
    g = jaxtls.Grid({"T_1": np.linspace(1, 2, n), "ratio": [30.0]})
    jaxtls.sweep(g, trivial, chunk_size=8, progress=None, out=os.path.join(out, "w"),
                 overwrite=True)
    distributed.barrier("start")
    t0 = time.perf_counter()
    jaxtls.sweep(g, trivial, chunk_size=8, progress=None, out=os.path.join(out, "c"),
                 overwrite=True)
    dt = time.perf_counter() - t0
    chunks = -(-n // 8)
    m = os.path.getsize(os.path.join(out, "c", "manifest.json"))
    res = dict(seconds=dt, chunks=chunks, s_per_chunk_per_process=dt * lay.count / chunks,
               manifest_bytes=m)
elif mode == "coordinator":
    client = distributed._client()
    k = 2000
    distributed.barrier("start")
    t0 = time.perf_counter()
    for i in range(k):
        client.key_value_increment("bench/counter", 1)
    inc = k / (time.perf_counter() - t0)
    t0 = time.perf_counter()
    for i in range(200):
        distributed.barrier("b")
    bar = 200 / (time.perf_counter() - t0)
    t0 = time.perf_counter()
    for i in range(200):
        distributed.broadcast("x", b"0123456789abcdef")
    bc = 200 / (time.perf_counter() - t0)
    res = dict(increments_per_s=inc, barriers_per_s=bar, broadcasts_per_s=bc)
elif mode == "search":
    from jaxtls import optimize
    kw = dict(n_starts=n, steps=600, polish_steps=200, throw=False)
    optimize.maximize_negativity(optimize.paper(), seed=0, **kw)  # compiles the slice shape
    times, starts = [], []
    for r in range(reps):
        distributed.barrier("start")
        t0 = time.perf_counter()
        found = optimize.maximize_negativity(optimize.paper(), seed=1 + r, **kw)
        times.append(time.perf_counter() - t0)
        starts.append(found.start_negativities.tolist())
    res = dict(best_s=min(times), times=times, n_starts=n, starts=starts,
               fast_compile=found.settings["fast_compile"], loadavg=os.getloadavg()[0])
with open(os.path.join(out, f"{mode}_p{lay.index}.json"), "w") as f:
    json.dump(res, f)
"""


def run(mode, processes, n, reps, tmp):
    out = os.path.join(tmp, f"{mode}{processes}")
    os.makedirs(out, exist_ok=True)
    script = os.path.join(tmp, "worker.py")
    with open(script, "w") as f:
        f.write(_WORKER)
    cmd = [sys.executable, "-m", "jaxtls.distributed", "-n", str(processes), "--timeout", "900"]
    cmd += ["--", sys.executable, script, mode, out, str(n), str(reps)]
    env = {**os.environ, "JAX_PLATFORMS": "cpu"}
    env.pop("XLA_FLAGS", None)
    subprocess.run(cmd, env=env, check=True)
    with open(os.path.join(out, f"{mode}_p0.json")) as f:
        return json.load(f), out


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="2**20 points instead of 2**23")
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--out", default="benchmarks/out/distributed.json")
    p.add_argument("--search-only", action="store_true", help="only the search (4.)")
    args = p.parse_args()
    import numpy as np

    import jaxtls

    n = 2**20 if args.quick else 2**23
    report = {"points": n, "cpus": os.cpu_count(), "jax": __import__("jax").__version__}
    with tempfile.TemporaryDirectory() as tmp:
        s1, _ = run("search", 1, 128, args.reps, tmp)
        s2, _ = run("search", 2, 128, args.reps, tmp)
        same = s1["starts"] == s2["starts"]  # every start's N, every seed: bit for bit
        report["search"] = dict(one=s1, two=s2, ratio=s1["best_s"] / s2["best_s"], bit_for_bit=same)
        s = report["search"]
        print(
            f"search (paper, 128 starts split over the processes, 800 steps): 1 process "
            f"{s1['best_s']:.2f} s, 2 processes {s2['best_s']:.2f} s: ratio {s['ratio']:.2f}; "
            f"bit for bit {s['bit_for_bit']}"
        )
        if args.search_only:  # into the report of a full run, if there is one
            if os.path.exists(args.out):
                with open(args.out) as f:
                    report = {**json.load(f), "search": report["search"]}
            _write(report, args.out)
            return
        r1, o1 = run("scaling", 1, n, args.reps, tmp)
        r2, o2 = run("scaling", 2, n, args.reps, tmp)
        same = np.array_equal(
            jaxtls.load_sweep(os.path.join(o1, "run")).values,
            jaxtls.load_sweep(os.path.join(o2, "run")).values,
            equal_nan=True,
        )
        report["scaling"] = dict(
            one=r1, two=r2, ratio=r1["best_s"] / r2["best_s"], bit_for_bit=bool(same)
        )
        c1, _ = run("chunks", 1, 4096, 1, tmp)
        c2, oc = run("chunks", 2, 4096, 1, tmp)
        line = len(json.dumps([511, 4088, 4096, "0123abcd"]) + "\n")
        report["per_chunk"] = dict(one=c1, two=c2, journal_bytes_per_chunk=line)
        k, _ = run("coordinator", 2, 0, 1, tmp)
        report["coordinator"] = k
    s = report["scaling"]
    print(
        f"scaling: 1 process {s['one']['best_s']:.2f} s, 2 processes {s['two']['best_s']:.2f} s "
        f"for {n} points: ratio {s['ratio']:.2f} (at most 2 on 2 cores); bit for bit "
        f"{s['bit_for_bit']}"
    )
    pc = report["per_chunk"]
    ms1 = 1e3 * pc["one"]["s_per_chunk_per_process"]
    ms2 = 1e3 * pc["two"]["s_per_chunk_per_process"]
    print(
        f"per chunk (8 points, trivial fn): 1 process {ms1:.2f} ms (manifest rewrite), "
        f"2 processes {ms2:.2f} ms "
        f"per process (journal line of {line} B + fsync); manifest {pc['two']['manifest_bytes']} B "
        f"for {pc['two']['chunks']} chunks"
    )
    print(
        "coordinator (2 processes): "
        + ", ".join(f"{k} {v:,.0f}" for k, v in report["coordinator"].items())
    )
    _write(report, args.out)


def _write(report, out):
    os.makedirs(os.path.dirname(out) or ".", exist_ok=True)
    with open(out, "w") as f:
        json.dump(report, f, indent=1)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
