"""Sweeps at scale (issue 6), beyond tests/test_batching.py: a SIGKILLed sweep resumes without
redoing a chunk, a sweep resumes on another number of devices, a changed function is not taken
for a finished sweep, the resident memory of a streamed sweep does not grow with its output,
custom builders, the progress bar, chunk sizing and ``jaxtls sweep``."""

import argparse
import io
import json
import os
import re
import signal
import subprocess
import sys
import textwrap

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxtls
from jaxtls import batching
from jaxtls.batching import Grid, Points, load_sweep, sweep, two_bath_model
from jaxtls.cli import _options
from jaxtls.cli import sweep as sweep_cli

GRID_SRC = 'Grid({"T_1": np.geomspace(0.5, 50, 9), "ratio": [3., 30., 300.], "kappa_2": [.8, 1.]})'
GRID = eval(GRID_SRC)  # 54 points; the same text builds it in the child processes
ENV = {**os.environ, "JAX_PLATFORMS": "cpu"}
CHILD_HEAD = """
import os, signal, sys
import numpy as np, jaxtls
from jaxtls.batching import Grid, Points, sweep

class Chunks:  # a progress object that counts finished chunks (and can die after k of them)
    def __init__(self, kill_after=None):
        self.n, self.kill_after = 0, kill_after
    def update(self, done, info=""):
        self.n += 1
        if self.n == self.kill_after:
            os.kill(os.getpid(), signal.SIGKILL)
"""


class Chunks:
    """Progress object (jaxtls.progress: one ``update`` per finished chunk) counting the
    chunks a sweep computes; raises after ``stop_after``."""

    def __init__(self, stop_after=None):
        self.n, self.stop_after = 0, stop_after

    def update(self, done, info=""):
        self.n += 1
        if self.n == self.stop_after:
            raise KeyboardInterrupt


def child(code, *args, devices=1):
    env = dict(ENV)
    if devices > 1:  # must be set before jax is imported in the child
        env["XLA_FLAGS"] = f"--xla_force_host_platform_device_count={devices}"
    src = CHILD_HEAD + f"grid = {GRID_SRC}\n" + textwrap.dedent(code)
    return subprocess.run(
        [sys.executable, "-c", src, *map(str, args)], env=env, capture_output=True, text=True
    )


def poison(out, rows):
    vals = np.load(os.path.join(out, "values.npy"), mmap_mode="r+")
    vals[:rows] = -1.0
    vals.flush()
    del vals


def test_sigkilled_sweep_resumes_without_recomputing(tmp_path):
    out = str(tmp_path / "s")
    proc = child("sweep(grid, out=sys.argv[1], chunk_size=8, progress=Chunks(kill_after=3))", out)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    with open(os.path.join(out, "manifest.json")) as f:
        assert json.load(f)["done"] == [0, 1, 2]
    with pytest.raises(ValueError, match="incomplete"):
        load_sweep(out)
    poison(out, 24)  # recomputing a finished chunk would overwrite these rows
    counter = Chunks()
    done = sweep(GRID, out=out, chunk_size=8, progress=counter, verify=False)
    assert counter.n == 7 - 3  # 54 points in chunks of 8: only the 4 missing chunks ran
    flat = np.asarray(done.values).reshape(-1)
    ref = sweep(GRID, progress=None).values.reshape(-1)
    assert np.all(flat[:24] == -1.0)
    np.testing.assert_array_equal(flat[24:], ref[24:])
    np.testing.assert_array_equal(load_sweep(out, verify=False).values.reshape(-1)[24:], ref[24:])
    with pytest.raises(ValueError, match="chunk 0"):  # the poisoned rows fail their checksums
        load_sweep(out)


def test_resume_on_two_devices_and_sharded_points(tmp_path):
    out = str(tmp_path / "s")
    with pytest.raises(KeyboardInterrupt):  # one device here: chunks of 7, stopped after 2
        sweep(GRID, out=out, chunk_size=7, progress=Chunks(stop_after=2))
    poison(out, 14)
    code = """
        import jax
        assert len(jax.devices()) == 2
        counter = Chunks()
        sweep(grid, out=sys.argv[1], chunk_size=7, progress=counter, verify=False)  # 7: not 2k
        pts = Points({"T_1": np.geomspace(0.3, 40, 13), "ratio": np.geomspace(2, 900, 13)})
        a = sweep(pts, chunk_size=5, progress=None).values
        b = sweep(pts, chunk_size=5, devices=jax.devices()[:1], progress=None).values
        np.save(os.path.join(sys.argv[2], "a.npy"), a)
        np.save(os.path.join(sys.argv[2], "b.npy"), b)
        print(counter.n)
        """
    proc = child(code, out, tmp_path, devices=2)
    assert proc.returncode == 0, proc.stderr
    assert int(proc.stdout.split()[-1]) == 8 - 2  # resumed: the 6 missing chunks of 7 points
    flat = load_sweep(out, verify=False).values.reshape(-1)
    assert np.all(flat[:14] == -1.0)
    np.testing.assert_array_equal(flat[14:], sweep(GRID, progress=None).values.reshape(-1)[14:])
    np.testing.assert_array_equal(np.load(tmp_path / "a.npy"), np.load(tmp_path / "b.npy"))


def concurrence(model):
    return jaxtls.concurrence(jaxtls.steady_state(model, check=False))


def lambda_min(model):
    return jaxtls.pt_min_eigenvalue(jaxtls.steady_state(model, check=False))


def asymmetric_builder(p, scale=2.0):
    """A user builder with its own axis names: TLS 2 couples ``scale`` times as strongly to
    bath 2 as TLS 1 does (``r``: J_2/J_1 of TLS 1; ``hot``: T_1)."""
    one = jnp.ones_like(p["r"])
    J1, J2 = jnp.stack([one, p["r"]], -1), jnp.stack([one, scale * p["r"]], -1)
    K = jnp.stack([0 * one, p["r"]], -1)
    return jaxtls.Model(jnp.stack([p["hot"], 0.1 * one], -1), (J1, J2), K)


def test_changed_function_or_builder_is_not_taken_for_a_finished_sweep(tmp_path):
    out = str(tmp_path / "s")
    sweep(GRID, out=out, progress=None)  # negativity
    with pytest.raises(ValueError, match="another sweep"):
        sweep(GRID, concurrence, out=out, progress=None)
    again = Chunks()
    conc = sweep(GRID, concurrence, out=out, progress=again, overwrite=True)
    assert again.n == 1  # recomputed (one chunk), not read back as the negativity
    np.testing.assert_array_equal(conc.values, sweep(GRID, concurrence, progress=None).values)
    same = Chunks()
    sweep(GRID, concurrence, out=out, progress=same)
    assert same.n == 0  # same space and function: finished, nothing to do
    pts = Points({"hot": [1.0, 10.0, 100.0], "r": [10.0, 100.0, 1000.0]})
    first = sweep(pts, lambda_min, builder=asymmetric_builder, out=out, progress=None, overwrite=1)
    first = np.array(first.values)  # a copy: the file is about to be rewritten
    wrapped = Chunks()  # a new function object computing the same thing: still finished
    sweep(pts, lambda_min, builder=lambda p: asymmetric_builder(p), out=out, progress=wrapped)
    assert wrapped.n == 0
    changed = Chunks()
    b3 = lambda p: asymmetric_builder(p, 3.0)  # noqa: E731
    with pytest.raises(ValueError, match="another sweep"):
        sweep(pts, lambda_min, builder=b3, out=out, progress=changed)
    other = sweep(pts, lambda_min, builder=b3, out=out, progress=changed, overwrite=True)
    assert changed.n == 1 and not np.array_equal(np.asarray(other.values), first)


def test_custom_builder_with_own_axis_names():
    pts = Points({"hot": [1.0, 10.0, 100.0], "r": [10.0, 100.0, 1000.0]})
    r = sweep(pts, lambda_min, builder=asymmetric_builder, chunk_size=2, progress=None)
    for i in range(3):
        m = asymmetric_builder({k: np.asarray(v[i]) for k, v in pts.values.items()})
        assert r.values[i] == pytest.approx(float(lambda_min(m)), rel=1e-12, abs=1e-15)
    assert r.dims == ("point",) and r.coords["r"][0] == "point"
    with pytest.raises(ValueError, match="known axes: T_1, T_2, J_1, J_2, ratio"):
        sweep(pts, lambda_min, progress=None)  # the default builder does not know 'hot'


@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="needs Linux /proc")
def test_streamed_sweep_keeps_resident_memory_flat(tmp_path):
    code = """
        def status():
            with open("/proc/self/status") as f:
                rows = [line.split() for line in f]
            return {r[0][:-1]: int(r[1]) / 1024 for r in rows if r[0] in ("RssFile:", "VmHWM:")}
        fn = lambda m: jaxtls.negativity(jaxtls.closed_form(m, check=False))
        cs = 2**17
        sweep(Grid({"T_1": np.ones(cs), "ratio": [1.0]}), fn, chunk_size=cs, progress=None)
        before = status()
        big = Grid({"T_1": np.geomspace(0.1, 1e3, 1000), "ratio": np.geomspace(1, 1e6, 4000)})
        res = sweep(big, fn, out=sys.argv[1], chunk_size=cs, progress=None)
        after = status()  # while the result (a memory map of 30 MB) is still held
        ok = bool(np.isfinite(res.values[::997, ::13]).all())
        print(after["RssFile"] - before["RssFile"], after["VmHWM"] - before["VmHWM"], ok)
        """
    proc = child(code, tmp_path / "big")
    assert proc.returncode == 0, proc.stderr
    file_mb, peak_mb, ok = proc.stdout.split()
    assert ok == "True"
    assert float(file_mb) < 8  # the 30 MB of results are on disk, not mapped in
    assert float(peak_mb) < 128  # bounded by the chunk (2**17 points), not by 4e6 points


def closed_form_negativity(model):
    return jaxtls.negativity(jaxtls.closed_form(model, check=False))


@pytest.mark.parametrize("fn", [batching.default_fn, closed_form_negativity])
def test_any_chunking_and_step_equals_one_vmapped_call_bit_for_bit(fn):
    rng = np.random.default_rng(3)
    n = 999
    values = {"T_1": 10 ** rng.uniform(-1, 3, n), "T_2": 10 ** rng.uniform(-2, 0, n)}
    values.update(ratio=10 ** rng.uniform(0, 6, n), kappa_2=rng.uniform(0.5, 1, n))
    direct = jax.jit(jax.vmap(lambda p: fn(two_bath_model(p))))(values)
    for chunk, step in ((None, None), (100, 16), (37, 8), (999, 0)):
        got = sweep(Points(values), fn, chunk_size=chunk, batch_size=step, progress=None)
        np.testing.assert_array_equal(got.values, direct, err_msg=f"chunk {chunk}, step {step}")
    with pytest.raises(ValueError, match="batch_size must be an integer >= 0"):
        sweep(Points(values), fn, batch_size=-1, progress=None)


def test_compiled_batch_covers_chunk_devices_and_steps():
    for size, n_dev, step in ((5, 1, 2**15), (1000, 2, 64), (2**20, 4, 2**15), (7, 2, 0)):
        batch, used = batching._batch(size, n_dev, step)
        assert batch >= size and batch % n_dev == 0 and used % 8 == 0
        assert (batch // n_dev) % used == 0 and (not step or used <= max(step, 8))
    assert batching._batch(2**20, 1, 2**15) == (2**20, 2**15)  # no padding when it divides


def test_progress_bar():
    grid = Grid({"T_1": [1.0, 2.0, 3.0], "ratio": [10.0, 20.0]})
    stream = io.StringIO()  # not a terminal: a line per 10% (here per chunk), no redrawing
    sweep(grid, chunk_size=4, progress=stream)
    text = stream.getvalue()
    assert "\r" not in text and text.count("\n") == 2
    assert text.splitlines()[-1].startswith("sweep [" + "#" * 30 + "] 100% 6/6 points ")
    assert "pts/s" in text
    tty = io.StringIO()
    tty.isatty = lambda: True  # a terminal: one line per chunk, redrawn in place, then ended
    sweep(grid, chunk_size=4, progress=tty)
    assert tty.getvalue().count("\r") == 2 and tty.getvalue().endswith("\n")
    lines = []
    sweep(grid, chunk_size=4, progress=lines.append)  # a callable takes the lines
    assert len(lines) == 2 and "6/6 points" in lines[-1]


def test_chunk_size_rounding():
    size = batching._chunk_size
    assert size(None, 1.0, 10**6, 1, 1024) == 1024  # 1 MB budget at 1 kB per point
    assert size(None, 1.0, 10**6, 3, 1000) % 3 == 0
    assert size(5, 256.0, 100, 2, 1024) == 6  # rounded up to the device count
    assert size(10**6, 256.0, 7, 4, 1024) == 8  # never above the space (rounded)
    assert size(1, 256.0, 1, 4, 1024) == 4


def test_two_bath_builder_mapping():
    m = two_bath_model(
        {"T_1": 3.0, "T_2": 0.2, "J_1": 2.0, "ratio": 5.0, "kappa_1": 0.5, "K_2": 7.0}
    )
    np.testing.assert_array_equal(m.T, [3.0, 0.2])
    np.testing.assert_array_equal(m.J, [2.0, 10.0])
    np.testing.assert_array_equal(m.K, [1.0, 7.0])
    m = two_bath_model({"xi": 0.3, "detuning": 1e-3, "delta": 2.0})
    assert (float(m.xi), float(m.detuning), float(m.delta)) == (0.3, 1e-3, 2.0)
    assert float(m.exchange) == 0.0  # the default
    assert float(two_bath_model({"exchange": -0.7}).exchange) == -0.7
    assert "exchange" in batching.AXES


def test_sweep_cli_exchange_axis(tmp_path, capsys):
    out = str(tmp_path / "ex")
    argv = ["sweep", "--axis", "T_1", "4.5", "--axis", "J_1", "0.01", "--axis", "ratio", "100"]
    argv += ["--axis", "kappa_2", "0.999", "--axis", "T_2", "1e-3", "--axis", "detuning", "1"]
    assert cli([*argv, "--axis", "exchange", "-3", "3", "3", "--out", out, "--quiet"]) == 0
    assert "3 points (1x1x1x1x1x1x3)" in capsys.readouterr().out
    res = load_sweep(out)
    assert res.dims[-1] == "exchange"
    np.testing.assert_array_equal(res.coords["exchange"], [-3.0, 0.0, 3.0])
    v = res.values.reshape(3)
    assert v[1] == 0.0 and v[0] == pytest.approx(v[2], rel=1e-12) and v[2] > 0.016


def cli(argv):
    parser = argparse.ArgumentParser(prog="jaxtls")
    sweep_cli.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.func(args)


def test_sweep_cli_streams_resumes_and_reloads(tmp_path, capsys):
    out = str(tmp_path / "map")
    argv = ["sweep", "--axis", "T_1", "1", "100", "5", "log", "--axis", "ratio", "1e3"]
    argv += ["--axis", "kappa_2", "0.9", "1", "2", "--out", out, "--quiet"]
    assert cli(argv) == 0
    text = capsys.readouterr().out
    assert "10 points (5x1x2)" in text and "entangled fraction" in text
    res = load_sweep(out)
    assert res.dims == ("T_1", "ratio", "kappa_2") and res.values.shape == (5, 1, 2)
    np.testing.assert_allclose(res.coords["T_1"], np.geomspace(1, 100, 5))
    np.testing.assert_array_equal(res.coords["kappa_2"], [0.9, 1.0])
    want = sweep(Grid({k: res.coords[k] for k in res.dims}), progress=None).values
    np.testing.assert_array_equal(res.values, want)
    with pytest.raises(ValueError, match="another sweep"):  # another measure in the same out
        cli(argv + ["--measure", "bell_populations"])
    assert cli(argv + ["--measure", "bell_populations", "--overwrite"]) == 0
    assert load_sweep(out).values.shape == (5, 1, 2, 4)


@pytest.mark.parametrize(
    "axis, match",
    [
        (["T_1", "1", "100"], "jaxtls sweep needs N"),
        (["T_1", "1", "100", "4", "log2"], "NAME VALUE or NAME LOW HIGH \\[N\\] \\[log\\|lin\\]"),
        (["T_1", "a", "100", "4"], "NAME VALUE or NAME LOW HIGH"),
        (["T_1", "100", "1", "4"], "low 100 > high 1"),
        (["T_1", "0", "1", "4", "log"], "log axis needs low > 0"),
        (["T_1", "1", "2", "0"], "N must be >= 1"),
        (["T_1", "1", "inf", "3"], "finite"),
        (["T3", "1", "2", "3"], "unknown axis name.*known axes: T_1, T_2"),
        (["T_1", "-1", "1", "3"], "axis 'T_1'.*>= 0"),
        (["kappa_2", "0", "2", "3"], "axis 'kappa_2'.*<= 1"),
    ],
)
def test_sweep_cli_errors(tmp_path, axis, match):
    with pytest.raises(ValueError, match=match):
        cli(["sweep", "--axis", *axis, "--out", str(tmp_path), "--quiet"])


@pytest.mark.parametrize(
    "old, new",
    [("T1", "T_1"), ("T2", "T_2"), ("J1", "J_1"), ("J2", "J_2")]
    + [("kappa1", "kappa_1"), ("kappa2", "kappa_2"), ("K1", "K_1"), ("K2", "K_2")],
)
def test_former_axis_names_say_the_new_one(tmp_path, old, new):
    bath = new[-1]
    msg = f"axis '{old}' is now '{new}' (bath {bath})"
    with pytest.raises(ValueError, match=re.escape(msg)):
        sweep(Grid({old: [0.5]}), progress=None)
    with pytest.raises(ValueError, match=re.escape(msg)):
        two_bath_model({old: 0.5})
    with pytest.raises(ValueError, match=re.escape(msg)):
        cli(["sweep", "--axis", old, "0.5", "--out", str(tmp_path), "--no-progress"])


def test_sweep_cli_no_progress_and_its_alias(tmp_path, capsys):
    for flag in ("--no-progress", "--quiet", None):
        out = str(tmp_path / str(flag))
        argv = ["sweep", "--axis", "T_1", "1", "2", "2", "--out", out]
        assert cli(argv + ([flag] if flag else [])) == 0
        err = capsys.readouterr().err
        assert ("sweep [" in err) == (flag is None), flag


def test_sweep_cli_duplicate_axis(tmp_path):
    with pytest.raises(ValueError, match="'T_1' is given twice"):
        cli(["sweep", "--axis", "T_1", "1", "--axis", "T_1", "2", "--out", str(tmp_path)])


@pytest.mark.parametrize(
    "space, match",
    [
        (Grid({"T_1": [-1.0, 1.0]}), "axis 'T_1': temperatures must be >= 0, got -1"),
        (Grid({"J_1": [-0.5, 1.0]}), "axis 'J_1': couplings must be >= 0"),
        (Grid({"ratio": [-2.0]}), "axis 'ratio'.*>= 0"),
        (Grid({"kappa_2": np.linspace(0, 2, 5)}), "axis 'kappa_2'.*\\|kappa_n\\| <= 1, got 2"),
        (Grid({"xi": [-0.1]}), "axis 'xi'.*>= 0"),
        (Grid({"delta": [0.0]}), "axis 'delta'.*> 0"),
        (Grid({"detuning": [-1.5, 0.0]}), "axis 'detuning'.*\\|detuning\\| <= delta"),
        (Grid({"detuning": [0.5], "delta": [0.4, 1.0]}), "axis 'detuning'"),
        (Grid({"K_2": [0.0, 3.0], "ratio": [2.0, 5.0]}), "axis 'K_2'.*\\|K_2\\| <= J_2"),
        (Grid({"K_1": [1.5]}), "axis 'K_1'.*\\|K_1\\| <= J_1"),
        (Points({"K_2": [0.5, 2.0], "J_2": [1.0, 1.0]}), "axis 'K_2'"),
    ],
)
def test_unphysical_axes_are_rejected_naming_the_axis_and_the_rule(space, match):
    with pytest.raises(ValueError, match=match):
        sweep(space, progress=None)


def test_physical_edges_are_accepted():
    ok = Grid({"T_1": [0.0, 1.0], "kappa_2": [-1.0, 1.0], "exchange": [-5.0, 5.0]})
    assert sweep(ok, progress=None).values.shape == (2, 2, 2)
    pts = Points({"K_2": [0.5, 2.0], "J_2": [1.0, 2.0], "detuning": [1.0, -1.0]})
    assert sweep(pts, progress=None).values.shape == (2,)


def test_cli_sweep_and_doe_share_one_axis_grammar_and_axes():
    from jaxtls import cli as jcli

    assert not hasattr(jcli, "_AXES")  # no stale copy of batching.AXES
    assert _options.parse_axis(["T_1", "2"]) == ("T_1", 2.0, 2.0, None, False)
    assert _options.parse_axis(["T_1", "1", "100", "3", "log"]) == ("T_1", 1.0, 100.0, 3, True)
    assert _options.parse_axis(["T_1", "1", "100", "log"]) == ("T_1", 1.0, 100.0, None, True)
    parser = jcli.build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    for name in ("sweep", "doe"):
        p = sub.choices[name]
        assert " ".join(batching.AXES) in " ".join(p.description.split()), name
        axis_help = next(a.help for a in p._actions if a.dest == "axis")
        assert _options.AXIS_GRAMMAR in axis_help, name
        assert any(a.dest == "overwrite" for a in p._actions), name


def test_sweep_cli_errors_on_disk_are_one_line_with_status_2(tmp_path, capsys):
    from jaxtls.cli import main

    out = str(tmp_path / "m")
    argv = ["sweep", "--axis", "T_1", "1", "10", "3", "--out", out, "--quiet"]
    assert main(argv) == 0
    with open(os.path.join(out, "manifest.json"), "w") as f:
        f.write("{not json")
    capsys.readouterr()
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "manifest.json" in err and "--overwrite" in err and err.count("\n") == 1
    assert main([*argv, "--overwrite"]) == 0
    assert main(["sweep", "--axis", "T_1", "1", "10", "4", "--out", out, "--quiet"]) == 2
    assert "another sweep" in capsys.readouterr().err
    m = json.load(open(os.path.join(out, "manifest.json")))
    assert m["metadata"]["measure"] == "negativity" and m["metadata"]["solver"] == "general"


def relaxation(model):
    return jaxtls.relaxation_rate(model)


def test_what_bit_for_bit_means_for_an_eigvals_function():
    """The README's claim, narrowed: at a fixed step (batch_size) the chunk size and the
    padding never change a result bit; across steps a function whose compiled code depends on
    the batch shape (relaxation_rate: eigvals) agrees to rounding only."""
    rng = np.random.default_rng(5)
    n = 203
    pts = Points({"T_1": 10 ** rng.uniform(-1, 2, n), "ratio": 10 ** rng.uniform(0, 4, n)})
    ref = sweep(pts, relaxation, batch_size=16, progress=None).values
    for chunk in (None, 17, 64, 203):
        got = sweep(pts, relaxation, chunk_size=chunk, batch_size=16, progress=None).values
        np.testing.assert_array_equal(got, ref, err_msg=f"chunk {chunk}")
    for step in (8, 64, 0):
        got = sweep(pts, relaxation, chunk_size=50, batch_size=step, progress=None).values
        np.testing.assert_allclose(got, ref, rtol=1e-11, err_msg=f"step {step}")
