"""Sweeps: chunked = unchunked, resume, sharding, reload, errors."""

import json
import os
import subprocess
import sys
import textwrap

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxtls

GRID = jaxtls.Grid(
    {"T_1": np.geomspace(0.5, 50, 7), "ratio": [3.0, 30.0, 300.0], "kappa_2": [0.8, 1.0]}
)


def test_chunked_equals_unchunked_bit_for_bit():
    whole = jaxtls.sweep(GRID, chunk_size=len(GRID), progress=None)
    chunked = jaxtls.sweep(GRID, chunk_size=5, progress=None)
    assert whole.values.shape == (7, 3, 2) and whole.dims == ("T_1", "ratio", "kappa_2")
    np.testing.assert_array_equal(whole.values, chunked.values)
    # and equal to a direct evaluation of the same points
    T1, ratio, k2 = np.meshgrid(*GRID.axes.values(), indexing="ij")
    m = jaxtls.two_bath_model({"T_1": T1, "ratio": ratio, "kappa_2": k2})
    np.testing.assert_allclose(whole.values, jaxtls.negativity(jaxtls.steady_state(m)), atol=1e-15)


def test_user_function_with_vector_output_and_points():
    pts = jaxtls.Points({"T_1": [1.0, 2.0, 4.0], "T_2": [0.1, 0.2, 0.3]})
    r = jaxtls.sweep(
        pts,
        lambda m: jaxtls.bell_populations(jaxtls.steady_state(m, check=False)),
        chunk_size=2,
        progress=None,
    )
    assert r.values.shape == (3, 4) and r.dims == ("point",)
    np.testing.assert_allclose(r.values.sum(-1), 1.0, atol=1e-14)


def test_streamed_sweep_reloads_and_resumes(tmp_path, monkeypatch):
    import jaxtls.batching as batching

    out = str(tmp_path / "s")
    ref = jaxtls.sweep(GRID, chunk_size=8, progress=None)
    write = batching._write_json

    def killed_after_two_chunks(path, manifest):
        write(path, manifest)
        if len(manifest["done"]) == 2:
            raise KeyboardInterrupt

    monkeypatch.setattr(batching, "_write_json", killed_after_two_chunks)
    with pytest.raises(KeyboardInterrupt):
        jaxtls.sweep(GRID, out=out, chunk_size=8, progress=None)
    monkeypatch.setattr(batching, "_write_json", write)
    with open(os.path.join(out, "manifest.json")) as f:
        assert json.load(f)["done"] == [0, 1]
    with pytest.raises(ValueError, match="incomplete"):
        jaxtls.load_sweep(out)
    # Mark the finished chunks so that recomputing them would show, then resume.
    vals = np.load(os.path.join(out, "values.npy"), mmap_mode="r+")
    vals[:16] = -1.0
    vals.flush()
    done = jaxtls.sweep(GRID, out=out, chunk_size=8, progress=None, verify=False)
    flat, want = done.values.reshape(-1), ref.values.reshape(-1)
    assert np.all(flat[:16] == -1.0)
    np.testing.assert_array_equal(flat[16:], want[16:])
    back = jaxtls.load_sweep(out, verify=False)
    assert back.dims == tuple(GRID.axes) and back.values.shape == (7, 3, 2)
    np.testing.assert_array_equal(back.coords["ratio"], [3.0, 30.0, 300.0])
    # A different space in the same folder is an error; with overwrite=True it starts afresh.
    with pytest.raises(ValueError, match="another sweep"):
        jaxtls.sweep(jaxtls.Grid({"T_1": [1.0, 2.0]}), out=out, progress=None)
    other = jaxtls.sweep(jaxtls.Grid({"T_1": [1.0, 2.0]}), out=out, progress=None, overwrite=True)
    assert other.values.shape == (2,) and np.all(other.values >= 0)


def test_points_sweep_saves_its_points(tmp_path):
    pts = jaxtls.Points(
        {"T_1": np.linspace(1, 5, 9), "ratio": np.full(9, 50.0), "kappa_2": np.ones(9)}
    )
    jaxtls.sweep(pts, out=str(tmp_path), chunk_size=4, progress=None)
    back = jaxtls.load_sweep(str(tmp_path))
    np.testing.assert_array_equal(back.coords["T_1"][1], pts.values["T_1"])
    assert back.values.shape == (9,)


@pytest.mark.parametrize(
    "space, match",
    [
        (jaxtls.Grid({"T3": [1.0]}), "unknown axis name"),
        (jaxtls.Grid({"J_2": [1.0], "ratio": [2.0]}), "same quantity"),
        (jaxtls.Grid({"T_1": []}), "non-empty"),
        (jaxtls.Grid({"T_1": [1.0, np.nan]}), "non-finite"),
        (jaxtls.Points({"T_1": [1.0, 2.0], "T_2": [1.0]}), "equal lengths"),
        (jaxtls.Grid({}), "no axis"),
    ],
)
def test_bad_spaces_are_rejected(space, match):
    with pytest.raises(ValueError, match=match):
        jaxtls.sweep(space, progress=None)


def test_sharded_equals_unsharded_on_two_emulated_devices(tmp_path):
    code = textwrap.dedent(
        """
        import os, sys
        os.environ["XLA_FLAGS"] = "--xla_force_host_platform_device_count=2"
        import jax, numpy as np, jaxtls
        assert len(jax.devices()) == 2
        grid = jaxtls.Grid({"T_1": np.geomspace(0.5, 50, 7), "ratio": [3.0, 30.0, 300.0]})
        a = jaxtls.sweep(grid, chunk_size=6, progress=None).values
        b = jaxtls.sweep(grid, chunk_size=6, devices=jax.devices()[:1], progress=None).values
        out = sys.argv[1]
        np.save(os.path.join(out, "a.npy"), a); np.save(os.path.join(out, "b.npy"), b)
        """
    )
    subprocess.run(
        [sys.executable, "-c", code, str(tmp_path)],
        check=True,
        env={**os.environ, "JAX_PLATFORMS": "cpu"},
    )
    np.testing.assert_array_equal(np.load(tmp_path / "a.npy"), np.load(tmp_path / "b.npy"))


def test_builder_defaults_and_jit():
    m = jaxtls.two_bath_model({"T_1": jnp.array([1.0, 2.0])})
    full = m.broadcast()
    assert m.batch_shape == (2,) and full.J.shape == (2, 2) and float(full.T[1, 1]) == 0.1


def test_exchange_axis_restores_a_detuned_point_and_equals_a_vmapped_call():
    # J1 = 0.01, J2 = 1, K2 = 0.999 J2, T2 = 1e-3: a detuning of J2 kills N, the exchange
    # (a rate in the units of J, either sign) brings it back; without detuning it is inert.
    base = {"J_1": [0.01], "ratio": [100.0], "kappa_2": [0.999], "T_2": [1e-3]}
    ex = np.array([-3.0, -1.0, 0.0, 1.0, 3.0])
    grid = jaxtls.Grid({"T_1": [4.5], **base, "detuning": [0.0, 1.0], "exchange": ex})
    r = jaxtls.sweep(grid, chunk_size=3, progress=None)
    v = r.values.reshape(2, 5)
    assert r.dims[-1] == "exchange" and r.values.shape[-2:] == (2, 5)
    np.testing.assert_allclose(v[0], v[0, 2], rtol=1e-12)  # detuning 0: no effect
    assert v[1, 2] == 0.0 and v[1, 4] > 0.016 and v[1, 3] > 0.003
    np.testing.assert_allclose(v[1], v[1, ::-1], rtol=1e-12)  # even in the exchange
    # = one direct vmapped call on the same points
    det, om = np.meshgrid([0.0, 1.0], ex, indexing="ij")
    p = {k: np.full(det.shape, x[0]) for k, x in base.items()}
    m = jaxtls.two_bath_model(
        {**p, "T_1": np.full(det.shape, 4.5), "detuning": det, "exchange": om}
    )
    np.testing.assert_array_equal(np.asarray(m.exchange), om)
    direct = jax.vmap(jax.vmap(jaxtls.batching.default_fn))(m.broadcast())
    np.testing.assert_allclose(v, np.asarray(direct), rtol=1e-13, atol=1e-16)


# --- a result on disk is verified, self-describing and never replaced silently (issue 13) ---

SMALL = jaxtls.Grid({"T_1": np.geomspace(0.5, 50, 6), "ratio": [3.0, 300.0], "kappa_2": [1.0]})


def _manifest(out):
    with open(os.path.join(out, "manifest.json")) as f:
        return json.load(f)


def _put_manifest(out, m):
    with open(os.path.join(out, "manifest.json"), "w") as f:
        json.dump(m, f)


def _stopped_after(out, k, monkeypatch, space=SMALL, chunk_size=4):
    """Start a streamed sweep of ``space`` into ``out`` and stop it after ``k`` chunks."""
    import jaxtls.batching as batching

    write = batching._write_json

    def stop(path, manifest):
        write(path, manifest)
        if len(manifest["done"]) == k:
            raise KeyboardInterrupt

    monkeypatch.setattr(batching, "_write_json", stop)
    with pytest.raises(KeyboardInterrupt):
        jaxtls.sweep(space, out=out, chunk_size=chunk_size, progress=None)
    monkeypatch.setattr(batching, "_write_json", write)


def test_changed_bytes_of_a_finished_chunk_are_recomputed_or_reported(tmp_path, capsys):
    out = str(tmp_path / "s")
    ref = jaxtls.sweep(SMALL, progress=None).values.reshape(-1)
    jaxtls.sweep(SMALL, out=out, chunk_size=4, progress=None)
    vals = np.load(os.path.join(out, "values.npy"), mmap_mode="r+")
    vals.reshape(-1)[5] = 0.123  # one value of chunk 1 (rows 4-7)
    vals.flush()
    del vals
    with pytest.raises(ValueError, match=r"chunk 1 \(rows 4-7\).*checksum"):
        jaxtls.load_sweep(out)
    assert jaxtls.load_sweep(out, verify=False).values.reshape(-1)[5] == 0.123
    capsys.readouterr()
    again = jaxtls.sweep(SMALL, out=out, chunk_size=4, progress=None)
    assert "chunk 1" in capsys.readouterr().err  # said so on stderr
    np.testing.assert_array_equal(again.values.reshape(-1), ref)
    np.testing.assert_array_equal(jaxtls.load_sweep(out).values.reshape(-1), ref)


def test_manifest_listing_undone_chunks_is_not_trusted(tmp_path, monkeypatch, capsys):
    out = str(tmp_path / "s")
    ref = jaxtls.sweep(SMALL, progress=None).values.reshape(-1)
    _stopped_after(out, 1, monkeypatch)
    m = _manifest(out)
    m["done"] = [0, 1, 2]  # chunks 1 and 2 were never written (zeros on disk)
    _put_manifest(out, m)
    with pytest.raises(ValueError, match="chunk 1"):
        jaxtls.load_sweep(out)
    res = jaxtls.sweep(SMALL, out=out, chunk_size=4, progress=None)
    assert "chunk 1" in capsys.readouterr().err
    np.testing.assert_array_equal(res.values.reshape(-1), ref)


def test_edited_chunk_size_is_an_error(tmp_path):
    out = str(tmp_path / "s")
    jaxtls.sweep(SMALL, out=out, chunk_size=4, progress=None)
    m = _manifest(out)
    m["chunk_size"] = 3
    _put_manifest(out, m)
    with pytest.raises(ValueError, match="chunk"):
        jaxtls.load_sweep(out)
    with pytest.raises(ValueError, match="manifest.json"):
        jaxtls.sweep(SMALL, out=out, chunk_size=4, progress=None)
    res = jaxtls.sweep(SMALL, out=out, chunk_size=4, progress=None, overwrite=True)
    np.testing.assert_array_equal(res.values, jaxtls.sweep(SMALL, progress=None).values)


def test_requested_chunk_size_other_than_the_stored_one_is_an_error(tmp_path, monkeypatch):
    out = str(tmp_path / "s")
    _stopped_after(out, 1, monkeypatch)
    with pytest.raises(ValueError, match="chunks of 4"):
        jaxtls.sweep(SMALL, out=out, chunk_size=5, progress=None)
    jaxtls.sweep(SMALL, out=out, progress=None)  # None: the stored chunk size is kept
    assert _manifest(out)["chunk_size"] == 4


def test_values_rewritten_as_float32_are_an_error(tmp_path):
    out = str(tmp_path / "s")
    res = jaxtls.sweep(SMALL, out=out, chunk_size=4, progress=None)
    np.save(os.path.join(out, "values.npy"), np.asarray(res.values, np.float32))
    for call in (
        lambda: jaxtls.load_sweep(out),
        lambda: jaxtls.sweep(SMALL, out=out, chunk_size=4, progress=None),
    ):
        with pytest.raises(ValueError, match="values.npy.*float32.*float64"):
            call()
    again = jaxtls.sweep(SMALL, out=out, chunk_size=4, progress=None, overwrite=True)
    assert again.values.dtype == np.float64 and jaxtls.load_sweep(out).values.dtype == np.float64


@pytest.mark.parametrize("damage", ["broken_json", "truncated", "no_manifest"])
def test_broken_files_are_one_line_errors(tmp_path, damage):
    out = str(tmp_path / "s")
    jaxtls.sweep(SMALL, out=out, chunk_size=4, progress=None)
    if damage == "broken_json":
        with open(os.path.join(out, "manifest.json"), "r+") as f:
            f.truncate(40)
        name = "manifest.json"
    elif damage == "truncated":
        with open(os.path.join(out, "values.npy"), "r+") as f:
            f.truncate(200)
        name = "values.npy"
    else:
        os.remove(os.path.join(out, "manifest.json"))
        name = "manifest.json"
    for call in (
        lambda: jaxtls.load_sweep(out),
        lambda: jaxtls.sweep(SMALL, out=out, chunk_size=4, progress=None),
    ):
        with pytest.raises(ValueError) as err:
            call()
        msg = str(err.value)
        assert name in msg and "\n" not in msg, msg
    if damage != "no_manifest" or True:
        res = jaxtls.sweep(SMALL, out=out, chunk_size=4, progress=None, overwrite=True)
        np.testing.assert_array_equal(jaxtls.load_sweep(out).values, res.values)


def test_another_sweep_into_an_existing_out_needs_overwrite(tmp_path):
    out = str(tmp_path / "s")
    jaxtls.sweep(SMALL, out=out, progress=None)
    other = jaxtls.Grid({"T_1": [1.0, 2.0]})
    with pytest.raises(ValueError, match="another sweep.*overwrite=True"):
        jaxtls.sweep(other, out=out, progress=None)
    conc = lambda m: jaxtls.concurrence(jaxtls.steady_state(m, check=False))  # noqa: E731
    with pytest.raises(ValueError, match="another sweep.*function"):
        jaxtls.sweep(SMALL, conc, out=out, progress=None)
    assert jaxtls.load_sweep(out).values.shape == (6, 2, 1)  # untouched
    res = jaxtls.sweep(other, out=out, progress=None, overwrite=True)
    assert res.values.shape == (2,) and jaxtls.load_sweep(out).values.shape == (2,)


def test_manifest_is_self_describing(tmp_path):
    out = str(tmp_path / "s")
    jaxtls.sweep(SMALL, out=out, chunk_size=4, progress=None, metadata={"note": "x"})
    m = _manifest(out)
    assert m["fn"]["name"] == "jaxtls.batching.default_fn" and len(m["fn"]["fingerprint"]) == 40
    assert m["builder"]["name"] == "jaxtls.batching.two_bath_model"
    fixed = m["builder"]["fixed"]
    assert fixed["T_2"] == 0.1 and fixed["J_1"] == 1.0 and fixed["delta"] == 1.0
    assert "J_2" not in fixed and "kappa_2" not in fixed and "T_1" not in fixed  # set by axes
    assert m["axes"]["T_1"] == {"n": 6, "min": 0.5, "max": 50.0}
    assert m["dtype"] == "<f8" and m["shape"] == [6, 2, 1] and m["chunk_size"] == 4
    assert m["versions"]["jax"] == jax.__version__ and m["versions"]["jaxtls"]
    assert m["created"].startswith("20") and m["metadata"] == {"note": "x"}
    assert sorted(map(int, m["checksums"])) == m["done"] == [0, 1, 2]


# -- the chunked evaluator (batching.map_chunks / iter_chunks) ------------------------------
def test_map_chunks_pads_to_whole_chunks_and_trims():
    from jaxtls.batching import map_chunks

    seen = []

    def fn(p):  # a PyTree in, a PyTree out; records the shapes it is called with
        seen.append((p["x"].shape, p["y"].shape))
        return {"s": p["x"] + p["y"][:, 0], "last": jnp.broadcast_to(p["x"][-1], p["x"].shape)}

    x, y = np.arange(10.0), np.arange(20.0).reshape(10, 2)
    out = map_chunks(fn, {"x": x, "y": y}, 4)
    assert seen == [((4,), (4, 2))] * 3  # 10 points: three whole chunks of 4
    np.testing.assert_array_equal(out["s"], x + y[:, 0])
    assert isinstance(out["s"], np.ndarray) and out["s"].shape == (10,)
    # the last chunk is padded by repeating its last point (9), the padding cut off
    np.testing.assert_array_equal(out["last"], [3.0] * 4 + [7.0] * 4 + [9.0] * 2)
    # every number of points goes through the one compiled shape
    f = jax.jit(lambda p: jnp.sin(p) * 2)
    shapes = []
    for n in (1, 5, 8, 13):
        t = np.linspace(0, 1, n)
        r = map_chunks(lambda p: (shapes.append(p.shape), f(p))[1], t, 8)
        np.testing.assert_allclose(r, np.sin(t) * 2, rtol=1e-15)
    assert set(shapes) == {(8,)} and f._cache_size() == 1
    with pytest.raises(ValueError, match="chunk_size"):
        map_chunks(f, x, 0)
    with pytest.raises(ValueError, match="no points"):
        map_chunks(f, np.zeros(0), 4)
    with pytest.raises(ValueError, match="one leading length"):
        map_chunks(fn, {"x": x, "y": y[:3]}, 4)


def test_map_chunks_overlap_takes_the_last_chunk_from_the_last_points():
    from jaxtls.batching import iter_chunks, map_chunks

    seen = []

    def fn(p):  # the first point of each chunk, broadcast: shows which points it was given
        seen.append(p.copy())
        return {"first": np.broadcast_to(p[:1], p.shape), "x2": 2 * p}

    x = np.arange(10.0)
    out = map_chunks(fn, x, 4, overlap=True)
    np.testing.assert_array_equal([c[0] for c in seen], [0.0, 4.0, 6.0])  # last: points 6-9
    assert all(c.shape == (4,) for c in seen)  # no padding, no ragged chunk
    np.testing.assert_array_equal(out["x2"], 2 * x)
    np.testing.assert_array_equal(out["first"], [0.0] * 4 + [4.0] * 4 + [6.0] * 2)  # kept once
    # fewer points than a chunk: padded as without overlap; padded > chunk_size windows
    np.testing.assert_array_equal(map_chunks(lambda p: p + 1, x[:3], 4, overlap=True), x[:3] + 1)
    with pytest.raises(ValueError, match="one row per point"):  # not pointwise: refused
        map_chunks(lambda p: p[:1], x, 4, overlap=True)
    with pytest.raises(ValueError, match="one row per point"):
        map_chunks(lambda p: p[:1], x, 4)
    got = list(iter_chunks(lambda c: c * 10, x, 3, padded=5, overlap=True))
    assert [(i, a, b) for i, a, b, _ in got] == [(0, 0, 3), (1, 3, 6), (2, 6, 9), (3, 9, 10)]
    np.testing.assert_array_equal(np.concatenate([r for *_, r in got]), 10 * x)


def test_iter_chunks_lazy_inputs_selected_chunks_and_padding():
    from jaxtls.batching import iter_chunks

    def make(start, stop):  # points made on demand, as a sweep's Grid.chunk
        return {"i": np.arange(start, stop, dtype=np.float64)}

    got = list(iter_chunks(lambda c: c["i"] * 10, make, 3, n=8, padded=5, todo=[2, 0]))
    assert [(i, a, b) for i, a, b, _ in got] == [(2, 6, 8), (0, 0, 3)]
    np.testing.assert_array_equal(got[0][3], [60.0, 70.0])
    np.testing.assert_array_equal(got[1][3], [0.0, 10.0, 20.0])
    with pytest.raises(ValueError, match="pass n"):
        next(iter_chunks(lambda c: c, make, 3))
    with pytest.raises(ValueError, match="chunk_size <= padded"):
        next(iter_chunks(lambda c: c, make, 3, n=8, padded=2))
