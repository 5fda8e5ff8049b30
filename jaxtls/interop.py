"""Conversions to and from QuTiP and xarray (both optional, imported only when called).

* :func:`to_qutip` / :func:`from_qutip`: density matrices as ``qutip.Qobj`` with dims
  ``[[2, 2], [2, 2]]`` in this project's basis |++>, |+->, |-+>, |--> (TLS 1 first,
  ``|+> = qutip.basis(2, 0)`` the ground state, ``qutip.sigmaz() = +1`` there).
* :func:`qutip_operators`: ``(H, c_ops)`` of the master equation of ``physics.md`` for
  ``qutip.mesolve`` / ``qutip.steadystate``.
* :func:`to_xarray` (also ``SweepResult.to_xarray()``): a sweep as an ``xarray.DataArray``;
  :func:`xarray_inputs` gives what it is built from without needing xarray.
"""

from __future__ import annotations

import json
import os

import jax.numpy as jnp
import numpy as np

from .model import Model
from .steady_state import XState

_EXTRA_HINT = "pip install {pkg} (it is also in the test extra: pip install 'jaxtls[test]')"


def _require(module: str, pkg: str, caller: str):
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as err:
        raise ImportError(
            f"jaxtls.{caller} needs the optional dependency {pkg}, which is not installed: "
            + _EXTRA_HINT.format(pkg=pkg)
        ) from err


# -- QuTiP -----------------------------------------------------------------------------------
_DIMS = [[2, 2], [2, 2]]


def to_qutip(rho):
    """A state (or a batch of states) as ``qutip.Qobj`` with dims ``[[2, 2], [2, 2]]``.

    Args:
      rho: ``(4, 4)`` matrix or a single-point :class:`jaxtls.XState`; a batch
        ``(..., 4, 4)`` (e.g. a trajectory from :func:`jaxtls.evolve`) gives nested lists of
        Qobj (one level per batch axis), like ``mesolve(...).states``.

    Example:
      >>> import jaxtls
      >>> q = jaxtls.to_qutip(jaxtls.product_ground_state())
      >>> q.dims, float(q.tr().real)
      ([[2, 2], [2, 2]], 1.0)
    """
    qutip = _require("qutip", "qutip", "to_qutip")
    if isinstance(rho, XState):
        rho = rho.matrix()
    arr = np.asarray(rho, np.complex128)
    if arr.ndim < 2 or arr.shape[-2:] != (4, 4):
        raise ValueError(f"to_qutip needs states of shape (..., 4, 4), got {arr.shape}")

    def convert(a):
        if a.ndim == 2:
            return qutip.Qobj(a, dims=_DIMS)
        return [convert(x) for x in a]

    return convert(arr)


def from_qutip(qobj):
    """``qutip.Qobj`` (density matrix or ket, two qubits) -> ``(4, 4)`` complex128 array.

    A ket ``|psi>`` gives ``|psi><psi|``; a (nested) list of Qobj, such as
    ``mesolve(...).states``, gives ``(n, ..., 4, 4)``. Dims must be ``[[2, 2], [2, 2]]``
    (ket: ``[[2, 2], [1]]``) or the flat ``[[4], [4]]``; the basis is taken to be this
    project's (|++>, |+->, |-+>, |-->).

    Example:
      >>> import jaxtls, qutip
      >>> ket = qutip.tensor(qutip.basis(2, 0), qutip.basis(2, 1))  # |+->
      >>> rho = jaxtls.from_qutip(ket)
      >>> rho.shape, float(rho[1, 1].real)
      ((4, 4), 1.0)
    """
    if isinstance(qobj, (list, tuple)):
        return jnp.stack([from_qutip(q) for q in qobj])
    arr = np.asarray(qobj.full(), np.complex128)
    dims = [list(d) for d in qobj.dims]
    if arr.shape == (4, 1) and dims[0] in ([2, 2], [4]):
        return jnp.asarray(arr @ arr.conj().T)
    if arr.shape != (4, 4) or dims not in (_DIMS, [[4], [4]]):
        raise ValueError(
            f"from_qutip needs a two-qubit state (dims [[2, 2], [2, 2]] or a ket), got dims "
            f"{qobj.dims}"
        )
    return jnp.asarray(arr)


def _bose_np(T, delta):
    T = np.asarray(T, np.float64)
    with np.errstate(divide="ignore", over="ignore"):
        return np.where(T > 0, 1.0 / np.expm1(delta / np.where(T > 0, T, 1.0)), 0.0)


def qutip_operators(model: Model, *, frame: str = "lab"):
    """``(H, c_ops)`` for ``qutip.mesolve(H, rho0, t, c_ops)``: the master equation of
    ``physics.md`` (that of :func:`jaxtls.liouvillian` and :func:`jaxtls.evolve`).

    * ``H = -(Delta_1/2) sz1 - (Delta_2/2) sz2 + Omega (s1^dag s2 + s2^dag s1)`` with
      ``Delta_{1,2} = delta +- detuning/2``; ``frame="rotating"`` drops the common
      ``-(delta/2)(sz1 + sz2)`` (the frame of ``evolve(..., frame="rotating")``: much cheaper
      for an ODE solver at weak coupling, where ``delta`` >> the rates).
    * Bath n: its Kossakowski matrix ``G_n = [[J1_n, K_n], [K_n, J2_n]] = sum_k g_k v_k v_k^T``
      (eigendecomposition) gives the jump operators ``sqrt(g_k (1 + n_n)) (v_k . s)`` and
      ``sqrt(g_k n_n) (v_k . s)^dag``, ``s = (s1, s2)`` the lowering operators ``|+><-|``.
    * Dephasing: ``sqrt(Gamma_phi/2) Z``, ``Z = (sz1 - sz2)/2``,
      ``Gamma_phi = xi (g+_1 + g+_2)/2``.

    Args:
      model: a single-point :class:`jaxtls.Model` (batch shape ``()``; index a batch first:
        ``model[i]``) with concrete values and ``delta > 0``.
      frame: ``"lab"`` or ``"rotating"``.

    Example:
      >>> import jaxtls, qutip, numpy as np
      >>> m = jaxtls.Model(T=[20.0, 0.1], J=[1.0, 1000.0], K=[0.0, 1000.0])
      >>> H, c_ops = jaxtls.qutip_operators(m)
      >>> rho = qutip.steadystate(H, c_ops).full()
      >>> bool(np.allclose(rho, jaxtls.steady_state(m).matrix(), atol=1e-10))
      True
    """
    qutip = _require("qutip", "qutip", "qutip_operators")
    if frame not in ("lab", "rotating"):
        raise ValueError(f"frame must be 'lab' or 'rotating', got {frame!r}")
    if model.batch_shape != ():
        raise ValueError(
            f"qutip_operators takes a single-point model (batch shape ()), got batch shape "
            f"{model.batch_shape}: index it first, e.g. model[0]"
        )
    m = model.broadcast()
    T, J1, J2, K = (np.asarray(x, np.float64) for x in (m.T, m.J1, m.J2, m.K))
    xi, delta, det, om = (float(x) for x in (m.xi, m.delta, m.detuning, m.exchange))
    if not delta > 0:
        raise ValueError("qutip_operators needs delta > 0 (the rates diverge at delta = 0)")
    id2 = qutip.qeye(2)
    low = qutip.basis(2, 0) * qutip.basis(2, 1).dag()  # |+><-|
    s = (qutip.tensor(low, id2), qutip.tensor(id2, low))
    sz1, sz2 = qutip.tensor(qutip.sigmaz(), id2), qutip.tensor(id2, qutip.sigmaz())
    H = -(det / 4.0) * (sz1 - sz2) + om * (s[0].dag() * s[1] + s[1].dag() * s[0])
    if frame == "lab":
        H = H - (delta / 2.0) * (sz1 + sz2)
    n = _bose_np(T, delta)
    c_ops = []
    for j1, j2, k, nn in zip(J1, J2, K, n, strict=True):
        g, v = np.linalg.eigh(np.array([[j1, k], [k, j2]]))
        for gk, vk in zip(g, v.T, strict=True):
            if gk <= 4 * np.finfo(np.float64).eps * max(g[-1], 0.0) or gk <= 0.0:
                continue  # rank-deficient G_n (K_n^2 = J1_n J2_n): one channel
            C = vk[0] * s[0] + vk[1] * s[1]
            c_ops.append(np.sqrt(gk * (1.0 + nn)) * C)
            if nn > 0:
                c_ops.append(np.sqrt(gk * nn) * C.dag())
    gamma_phi = xi * 0.5 * (np.sum(J1 * (1.0 + n)) + np.sum(J2 * (1.0 + n)))
    if gamma_phi > 0:
        c_ops.append(np.sqrt(gamma_phi / 2.0) * 0.5 * (sz1 - sz2))
    return H, c_ops


# -- xarray ----------------------------------------------------------------------------------
def xarray_inputs(result, *, out_dims=None) -> dict:
    """What :func:`to_xarray` builds its DataArray from: ``data``, ``dims``, ``coords``,
    ``attrs`` (keyword arguments of ``xarray.DataArray``); needs no xarray.

    Args:
      result: a :class:`jaxtls.SweepResult` (from :func:`jaxtls.sweep` or
        :func:`jaxtls.load_sweep`).
      out_dims: names of the trailing axes of the values beyond the sweep's own (the output
        shape of the swept function); default ``out_0, out_1, ...``.

    Example:
      >>> import jaxtls
      >>> r = jaxtls.sweep(jaxtls.Grid({"ratio": [10.0, 100.0], "xi": [0.0]}), progress=None)
      >>> kw = jaxtls.xarray_inputs(r)
      >>> kw["dims"], kw["data"].shape, list(kw["coords"])
      (('ratio', 'xi'), (2, 1), ['ratio', 'xi'])
    """
    values = result.values
    dims = tuple(result.dims)
    n_extra = np.ndim(values) - len(dims)
    if n_extra < 0:
        raise ValueError(f"values of shape {np.shape(values)} have fewer axes than dims {dims}")
    if out_dims is None:
        out_dims = tuple(f"out_{k}" for k in range(n_extra))
    out_dims = tuple(out_dims)
    if len(out_dims) != n_extra:
        raise ValueError(
            f"out_dims names {len(out_dims)} axes but the values have {n_extra} beyond the "
            f"sweep's {dims}"
        )
    coords = {}
    for name, c in result.coords.items():
        if isinstance(c, tuple):  # Points: ("point", values)
            coords[name] = (c[0], np.asarray(c[1]))
        else:
            coords[name] = np.asarray(c)
    attrs = {}
    if result.path is not None:
        attrs["path"] = str(result.path)
        try:
            with open(os.path.join(result.path, "manifest.json")) as f:
                manifest = json.load(f)
            about = manifest.get("about", manifest)  # what the sweep recorded about itself
            builder = about.get("builder", {})
            attrs["fn"] = str(about.get("fn", {}).get("name", ""))
            attrs["builder"] = str(builder.get("name", ""))
            attrs["fixed"] = json.dumps(builder.get("fixed", {}))  # JSON: netCDF-safe attrs
            attrs["metadata"] = json.dumps(about.get("metadata", {}))
        except (OSError, ValueError, AttributeError):
            pass
    return dict(data=values, dims=dims + out_dims, coords=coords, attrs=attrs)


def to_xarray(result, *, name=None, out_dims=None):
    """A sweep as an ``xarray.DataArray`` with the sweep's dims and coordinates.

    Grids give one dimension per axis; ``Points`` the dimension ``point`` with every axis
    as a coordinate along it. Trailing output axes are named by ``out_dims``. The values are
    not copied (a memory map stays one). Also available as ``SweepResult.to_xarray()``.
    xarray is an optional dependency, imported only here.

    Example:
      >>> import jaxtls
      >>> r = jaxtls.sweep(jaxtls.Grid({"ratio": [10.0, 100.0], "xi": [0.0]}), progress=None)
      >>> da = jaxtls.to_xarray(r, name="N")
      >>> da.dims, da.sizes["ratio"]
      (('ratio', 'xi'), 2)
    """
    xr = _require("xarray", "xarray", "to_xarray")
    return xr.DataArray(name=name, **xarray_inputs(result, out_dims=out_dims))
