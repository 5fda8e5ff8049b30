"""Sweeps, designs, search grids and searches (variants, or one variant's starts) over 2
local processes of one ``jax.distributed`` program (coordinator on 127.0.0.1 at a free port,
JAX's CPU runtime), each compared bit for bit with the same call in one process; a
distributed sweep killed mid-run resumes in one process without recomputing its journaled
chunks; bad input (processes that disagree, an ``out`` another run holds, too little work
for the processes) is an error on every process."""

import fcntl
import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import jaxtls
from jaxtls import distributed
from jaxtls.batching import Grid, load_sweep, sweep
from jaxtls.cli.sweep import measure

ENV = {**os.environ, "JAX_PLATFORMS": "cpu", "JAXTLS_BARRIER_TIMEOUT_S": "300"}
ENV.pop("XLA_FLAGS", None)  # one device per process
AXES = {"T_1": np.geomspace(0.5, 50, 6), "ratio": np.geomspace(3, 300, 3), "kappa_2": [1.0]}
DOE_AXES = [("T_1", 0.1, 100, True), ("ratio", 1, 1e4, True), ("kappa_2", 0.5, 1.0)]
GRID = dict(n_starts=4, steps=20, polish_steps=10, block=1, seed=3)
SEARCH = dict(n_starts=5, steps=20, polish_steps=10, seed=2, throw=False)  # restarts 4, 8, 12
HEAD = """
import os, signal, sys, json, fcntl
import numpy as np
import jaxtls
from jaxtls import distributed
lay = distributed.initialize()  # before optimize is imported: it makes arrays
from jaxtls import optimize
out = sys.argv[1]
def record(name, obj):
    with open(os.path.join(out, f"{name}_p{lay.index}.json"), "w") as f:
        json.dump(obj, f)
"""


def start(tmp_path, body, timeout=600):  # generous: the suite runs on loaded machines
    """Start ``HEAD + body`` as 2 processes (python -m jaxtls.distributed)."""
    script = tmp_path / "script.py"
    script.write_text(HEAD + textwrap.dedent(body))
    cmd = [sys.executable, "-m", "jaxtls.distributed", "-n", "2", "--timeout", str(timeout)]
    cmd += ["--", "nice", "-n", "10", sys.executable, str(script), str(tmp_path)]
    pipe = subprocess.PIPE
    return subprocess.Popen(cmd, env=ENV, stdout=pipe, stderr=pipe, text=True)


def finish(proc, timeout=630):
    """``proc``'s exit status and output (as ``subprocess.run`` returns them)."""
    out, err = proc.communicate(timeout=timeout)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def launch(tmp_path, body, timeout=600):
    """Run ``HEAD + body`` as 2 processes; its result."""
    return finish(start(tmp_path, body, timeout), timeout + 30)


def read(tmp_path, name):
    return [json.loads((tmp_path / f"{name}_p{i}.json").read_text()) for i in range(2)]


def test_cli_sweep_over_two_processes_equals_one_process_bit_for_bit(tmp_path):
    out = tmp_path / "map"
    cmd = [sys.executable, "-m", "jaxtls.cli", "sweep", "--axis", "T_1", "0.5", "50", "6", "log"]
    cmd += ["--axis", "ratio", "3", "300", "3", "log", "--axis", "kappa_2", "1"]
    cmd += ["--out", str(out), "--chunk-size", "4", "--no-progress", "--processes", "2"]
    proc = subprocess.run(cmd, env=ENV, capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stderr
    assert "18 points" in proc.stdout  # process 0's report (the other's stdout is muted)
    got = load_sweep(str(out))  # checks every chunk's crc32
    ref = sweep(Grid(AXES), measure("negativity"), chunk_size=4, progress=None)
    np.testing.assert_array_equal(got.values, ref.values)  # bit for bit, NaN included
    assert np.isfinite(ref.values).any() and (ref.values > 0).any()
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["run"]["processes"] == 2 and sorted(manifest["done"]) == list(range(5))
    assert not os.listdir(out / "journal")  # merged into the manifest


def test_doe_search_grid_and_bad_input_over_two_processes(tmp_path):
    held = tmp_path / "held"
    held.mkdir()
    body = f"""
    s = jaxtls.run_doe({DOE_AXES!r}, n=64, seed=1, out=os.path.join(out, "doe"), plots=False)
    record("doe", s._asdict())
    sp = optimize.paper().replace(kappa_2=optimize.Fixed(1.0))
    g = optimize.search_grid(sp, {{"kappa_2": [0.6, 0.9]}}, **{GRID!r})
    np.savez(os.path.join(out, f"grid_p{{lay.index}}.npz"), u=g.u, N=g.negativity,
             obj=g.objective, **g.values)
    # each variant's 5 starts split 2 + 3 over the processes, exchanged at the restarts
    plan = optimize.search._plan(2, 5, lay, True, ((), (), (), (), "x", ()))
    r = optimize.maximize_negativity(optimize.geometry(dims=(1, 3)), **{SEARCH!r})
    np.savez(os.path.join(out, f"search_p{{lay.index}}.npz"), N=r.negativity, D=r.D[2],
             starts=r.start_negativities, traces=r.traces, obj=r.objective, plan=json.dumps(plan),
             first=r.fraction_within_1pct_independent,
             variants=[v.negativity for v in r.variants], **r.params)
    errors = {{}}
    def attempt(name, f):
        try:
            f()
            errors[name] = None
        except ValueError as e:
            errors[name] = str(e)
    grid = jaxtls.Grid({{"T_1": [1.0, 2.0 + lay.index], "ratio": [30.0]}})  # differs
    attempt("mismatch", lambda: jaxtls.sweep(grid, out=os.path.join(out, "m"), progress=None))
    one = jaxtls.Grid({{"T_1": [1.0], "ratio": [30.0]}})  # 1 point for 2 processes
    attempt("divide", lambda: jaxtls.sweep(one, out=os.path.join(out, "d"), progress=None))
    attempt("no_out", lambda: jaxtls.sweep(one, progress=None))
    two = jaxtls.Grid({{"T_1": [1.0, 2.0], "ratio": [30.0]}})
    attempt("held", lambda: jaxtls.sweep(two, out=os.path.join(out, "held"), progress=None))
    attempt("starts", lambda: optimize.maximize_negativity(optimize.paper(), 4 + lay.index))
    # found by an adversarial check: bad settings on one process left the other waiting
    # (barrier timeout), and constraints of another kind (same bound) passed as agreed
    attempt("invalid", lambda: optimize.maximize_negativity(optimize.paper(), 4, 10 * lay.index))
    c = optimize.Constraint(["min_relaxation", "max_heat_current"][lay.index], 1e-3)
    attempt("kind", lambda: optimize.maximize_negativity(optimize.paper().constrain(c), 4))
    attempt("grid_block", lambda: optimize.search_grid(sp, {{"kappa_2": [1.0]}}, block=lay.index))
    record("errors", errors)
    """
    fd = os.open(held / ".lock", os.O_RDWR | os.O_CREAT)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # another run holds out
    try:
        proc = start(tmp_path, body)
        # meanwhile, the same calls in this process (one process: the references)
        from jaxtls import optimize

        ref = jaxtls.run_doe(DOE_AXES, n=64, seed=1, out=str(tmp_path / "ref"), plots=False)
        sp = optimize.paper().replace(kappa_2=optimize.Fixed(1.0))
        g = optimize.search_grid(sp, {"kappa_2": [0.6, 0.9]}, **GRID)
        r = optimize.maximize_negativity(optimize.geometry(dims=(1, 3)), **SEARCH)
        proc = finish(proc)
    finally:
        os.close(fd)
    assert proc.returncode == 0, proc.stderr[-3000:]
    # the design: the same summary and values as one process
    ref_d = json.loads(json.dumps(ref._asdict()))
    for got in read(tmp_path, "doe"):
        assert got == ref_d
    np.testing.assert_array_equal(
        load_sweep(str(tmp_path / "doe" / "sweep")).values,
        load_sweep(str(tmp_path / "ref" / "sweep")).values,
    )
    assert (tmp_path / "doe" / "summary.json").exists()
    # the search grid: one search per grid point, blocks split over the processes
    for i in range(2):
        with np.load(tmp_path / f"grid_p{i}.npz") as z:
            np.testing.assert_array_equal(z["u"], g.u)
            np.testing.assert_array_equal(z["N"], g.negativity)
            np.testing.assert_array_equal(z["obj"], g.objective)
    assert g.negativity[1] > 0  # kappa_2 = 0.9 is entangled (a search that did something)
    # a search of two variants (bath dimensionalities D = 1, 3), the 5 starts of each split
    # over the processes (rows 0-1 and 2-4) between the restarts
    assert r.settings["restart_steps"] == [4, 8, 12] and r.settings["fast_compile"]
    want = dict(N=r.negativity, D=r.D[2], starts=r.start_negativities, traces=r.traces)
    want.update(obj=r.objective, first=r.fraction_within_1pct_independent, **r.params)
    want["variants"] = [v.negativity for v in r.variants]
    for i in range(2):
        with np.load(tmp_path / f"search_p{i}.npz") as z:
            assert json.loads(str(z["plan"])) == [[v, [[0, 2], [2, 5]][i]] for v in range(2)]
            for k, v in want.items():
                np.testing.assert_array_equal(z[k], v, err_msg=k)  # bit for bit
    assert len(set(want["variants"])) == 2  # two different searches were gathered
    assert r.traces.shape == (5, 30) and np.isfinite(r.traces).all() and r.negativity > 0
    # bad input: the same clear error on every process, nothing written as a result
    errors = read(tmp_path, "errors")
    assert errors[0] == errors[1]
    e = errors[0]
    assert "coords_sha1" in e["mismatch"] and "same arguments" in e["mismatch"]
    assert "cannot be divided over 2 processes" in e["divide"]
    assert "needs out=" in e["no_out"]
    assert "held by another run" in e["held"]
    assert "maximize_negativity" in e["starts"] and "same arguments" in e["starts"]
    assert e["invalid"].startswith("process 0 of 2") and "steps must be >= 1" in e["invalid"]
    assert "max_heat_current" in e["kind"] and "same arguments" in e["kind"]
    assert e["grid_block"].startswith("process 0 of 2") and "block must be >= 1" in e["grid_block"]
    for name in ("m", "d"):
        assert not (tmp_path / name / "manifest.json").exists()
    assert not (held / "manifest.json").exists()


def test_killed_process_resumes_with_one_process_without_recomputing(tmp_path):
    body = """
    class Die:  # process 1 dies (SIGKILL) after storing 2 chunks
        n = 0
        def update(self, done, info=""):
            self.n += 1
            if self.n == 2 and lay.index == 1:
                os.kill(os.getpid(), signal.SIGKILL)
        def close(self):
            pass
    grid = jaxtls.Grid({"T_1": np.geomspace(0.5, 50, 6), "ratio": np.geomspace(3, 300, 3),
                        "kappa_2": [1.]})
    jaxtls.sweep(grid, out=os.path.join(out, "s"), chunk_size=2, progress=Die())
    """
    proc = launch(tmp_path, body, timeout=300)
    assert proc.returncode != 0  # process 1 was killed, process 0 stopped by the launcher
    out = tmp_path / "s"
    journaled = sum(len(p.read_text().splitlines()) for p in (out / "journal").glob("*.jsonl"))
    assert 2 <= journaled < 9  # 9 chunks of 2 points; process 1 got 2 of its 4 done
    with pytest.raises(ValueError, match="incomplete"):
        load_sweep(str(out))

    class Count:
        n = 0

        def update(self, done, info=""):
            Count.n += 1

    got = sweep(Grid(AXES), out=str(out), chunk_size=2, progress=Count())  # P = 1
    assert Count.n == 9 - journaled  # the journaled chunks were not recomputed
    ref = sweep(Grid(AXES), chunk_size=2, progress=None)
    np.testing.assert_array_equal(load_sweep(str(out)).values, ref.values)
    np.testing.assert_array_equal(got.values, ref.values)
    assert not list((out / "journal").glob("*.jsonl"))


def test_layout_items_and_launcher_errors():
    assert distributed.layout() == distributed.Layout(0, 1)  # no runtime in this process
    items = [distributed.my_items(10, distributed.Layout(p, 3)) for p in range(3)]
    assert sorted(sum(items, [])) == list(range(10)) and items[0] == [0, 3, 6, 9]
    with pytest.raises(ValueError, match="processes must be an integer >= 1"):
        distributed.launch(["true"], 0)
    assert distributed.launch([sys.executable, "-c", "import sys; sys.exit(3)"], 2) == 3


def test_out_held_by_a_running_sweep_is_an_error_and_the_lock_ends_with_its_holder(tmp_path):
    out = tmp_path / "s"
    out.mkdir()
    fd = os.open(out / ".lock", os.O_RDWR | os.O_CREAT)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    two = Grid({"T_1": [1.0, 2.0], "ratio": [30.0], "kappa_2": [1.0]})
    with pytest.raises(ValueError, match="held by another run that is still going"):
        sweep(two, out=str(out), progress=None)
    assert not (out / "manifest.json").exists()  # nothing that could pass for a result
    os.close(fd)  # the holder ends: the lock goes with it
    assert (sweep(two, out=str(out), progress=None).values > 0).all()
    fd = os.open(out / ".lock", os.O_RDWR)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # the sweep released it on returning
    os.close(fd)
