"""jaxtls.interop: QuTiP conversions and operators, xarray export (optional dependencies)."""

import importlib.util
import sys

import numpy as np
import pytest

import jaxtls

qutip = pytest.importorskip("qutip")  # a test dependency (the test extra)

HAVE_XARRAY = importlib.util.find_spec("xarray") is not None


def test_to_and_from_qutip_round_trip(rng):
    A = rng.normal(size=(3, 4, 4)) + 1j * rng.normal(size=(3, 4, 4))
    rho = A @ np.conj(np.swapaxes(A, -1, -2))
    q = jaxtls.to_qutip(rho[0])
    assert isinstance(q, qutip.Qobj) and q.dims == [[2, 2], [2, 2]]
    np.testing.assert_array_equal(q.full(), rho[0])
    qs = jaxtls.to_qutip(rho)  # a batch: a list, like mesolve(...).states
    assert isinstance(qs, list) and len(qs) == 3
    np.testing.assert_array_equal(np.asarray(jaxtls.from_qutip(qs)), rho)
    # the basis: |+> = basis(2, 0) is the ground state, TLS 1 first
    ket = qutip.tensor(qutip.basis(2, 1), qutip.basis(2, 0))  # |-+> = |3>
    np.testing.assert_array_equal(np.diag(np.asarray(jaxtls.from_qutip(ket))), [0, 0, 1, 0])
    x = jaxtls.steady_state(jaxtls.Model(T=[20.0, 0.1], J=[1.0, 1000.0], K=[0.0, 1000.0]))
    np.testing.assert_allclose(jaxtls.to_qutip(x).full(), np.asarray(x.matrix()), atol=0)
    with pytest.raises(ValueError, match="two-qubit"):
        jaxtls.from_qutip(qutip.qeye(3))
    with pytest.raises(ValueError, match="4, 4"):
        jaxtls.to_qutip(np.eye(3))


def _points(rng, n):
    T = 10 ** rng.uniform(-1.5, 1.5, (n, 2))
    J1, J2 = 10 ** rng.uniform(-2, 1, (2, n, 2))
    K = rng.uniform(-1, 1, (n, 2)) * np.sqrt(J1 * J2)
    K[0, 1] = np.sqrt(J1[0, 1] * J2[0, 1])  # a rank-one bath
    xi, det, om = rng.uniform(0, 0.5, n), rng.uniform(-0.3, 0.3, n), rng.uniform(-0.3, 0.3, n)
    return jaxtls.Model(T=T, J=(J1, J2), K=K, xi=xi, detuning=det, exchange=om)


@pytest.mark.parametrize("frame", ["lab", "rotating"])
def test_qutip_steadystate_is_the_steady_state(rng, frame):
    model = _points(rng, 5)
    want = np.asarray(jaxtls.steady_state(model).matrix())
    for i in range(5):
        H, c_ops = jaxtls.qutip_operators(model[i], frame=frame)
        got = qutip.steadystate(H, c_ops).full()
        np.testing.assert_allclose(got, want[i], atol=1e-11)
    with pytest.raises(ValueError, match="single-point"):
        jaxtls.qutip_operators(model)


def test_mesolve_with_qutip_operators_is_evolve(rng):
    model = _points(rng, 5)
    t = np.linspace(0.0, 10.0, 6)
    A = rng.normal(size=(4, 4)) + 1j * rng.normal(size=(4, 4))
    rho0 = A @ A.conj().T
    rho0 /= np.trace(rho0)
    got = np.asarray(jaxtls.evolve(model, rho0, t))
    opts = {"atol": 1e-13, "rtol": 1e-11, "nsteps": 100000}
    for i in range(2):
        H, c_ops = jaxtls.qutip_operators(model[i])
        res = qutip.mesolve(H, jaxtls.to_qutip(rho0), t, c_ops, options=opts)
        np.testing.assert_allclose(np.asarray(jaxtls.from_qutip(res.states)), got[i], atol=1e-9)


def test_missing_optional_dependencies_raise_clear_errors(monkeypatch):
    monkeypatch.setitem(sys.modules, "qutip", None)  # makes `import qutip` fail
    with pytest.raises(ImportError, match=r"to_qutip needs .*qutip.*pip install qutip"):
        jaxtls.to_qutip(np.eye(4))
    monkeypatch.setitem(sys.modules, "xarray", None)
    r = jaxtls.SweepResult(np.zeros(2), ("T1",), {"T1": np.array([1.0, 2.0])}, None)
    with pytest.raises(ImportError, match=r"to_xarray needs .*xarray.*jaxtls\[test\]"):
        r.to_xarray()


def test_to_xarray(tmp_path):
    """The conversion's inputs always; the DataArray itself where xarray is installed (it is
    in the test extra, so CI checks both)."""
    grid = jaxtls.SweepResult(
        np.arange(12.0).reshape(3, 2, 2),
        ("T1", "ratio"),
        {"T1": np.r_[1.0, 2, 3], "ratio": np.r_[10.0, 100]},
        None,
    )
    kw = jaxtls.xarray_inputs(grid, out_dims=("which",))
    assert kw["dims"] == ("T1", "ratio", "which") and kw["data"] is grid.values
    np.testing.assert_array_equal(kw["coords"]["T1"], [1.0, 2.0, 3.0])
    assert jaxtls.xarray_inputs(grid)["dims"][-1] == "out_0"
    with pytest.raises(ValueError, match="out_dims"):
        jaxtls.xarray_inputs(grid, out_dims=("a", "b"))
    pts = jaxtls.SweepResult(
        np.array([0.1, 0.2]),
        ("point",),
        {"T1": ("point", np.r_[1.0, 5]), "ratio": ("point", np.r_[3.0, 4])},
        None,
    )
    kw_p = jaxtls.xarray_inputs(pts)
    assert kw_p["dims"] == ("point",) and kw_p["coords"]["ratio"][0] == "point"
    saved = jaxtls.sweep(jaxtls.Grid({"ratio": [10.0, 100.0]}), out=str(tmp_path), progress=None)
    loaded = jaxtls.load_sweep(str(tmp_path))
    kw_s = jaxtls.xarray_inputs(loaded)
    assert kw_s["attrs"]["path"] == str(tmp_path) and kw_s["attrs"]["fn"]
    if not HAVE_XARRAY:
        return
    import xarray as xr

    da = grid.to_xarray(name="N", out_dims=("which",))
    assert isinstance(da, xr.DataArray) and da.name == "N"
    assert da.dims == ("T1", "ratio", "which")
    assert float(da.sel(T1=2.0, ratio=100.0, which=1)) == 7.0
    dp = jaxtls.to_xarray(pts)
    assert dp.dims == ("point",) and list(dp.coords["T1"].values) == [1.0, 5.0]
    ds = loaded.to_xarray()
    np.testing.assert_array_equal(ds.values, saved.values)
    assert ds.attrs["path"] == str(tmp_path)
