"""The parameters of two TLS and their heat baths, as a JAX PyTree.

Conventions are those of ``shared/spec/physics.md``: hbar = k_B = 1, energies and temperatures
in the units of the splitting ``delta`` (1 by default), couplings J, K are golden-rule rates at
frequency ``delta``.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

Array = jax.Array

_FIELDS = ("T", "J", "K", "xi", "delta", "detuning", "exchange")
# K_n^2 <= J1_n J2_n is checked with a few ulps of slack so that K = J (or K = sqrt(J1 J2)
# computed in floating point) is accepted.
_KJ_SLACK = 16 * np.finfo(np.float64).eps


def coupling_ok(J1, J2, K):
    """The rule ``K_n^2 <= J^(1)_n J^(2)_n`` (a few ulps of slack), elementwise.

    Written as ``|K| <= sqrt(J1) sqrt(J2)``: squares of couplings overflow above ~1e154 and
    underflow below ~1e-162, the square roots never do. Used by :func:`validate` (eagerly)
    and by the solvers' NaN mask (inside ``jit``): one rule, two error paths.
    """
    return jnp.abs(K) <= jnp.sqrt(J1) * jnp.sqrt(J2) * (1 + 0.5 * _KJ_SLACK)


def _is_concrete(x: Any) -> bool:
    return not isinstance(x, jax.core.Tracer)


def _is_complex(x: Any) -> bool:
    if isinstance(x, (complex, np.complexfloating)):
        return True
    if hasattr(x, "dtype"):  # numpy and jax arrays, tracers included (no value needed)
        return bool(jnp.issubdtype(x.dtype, jnp.complexfloating))
    if isinstance(x, (list, tuple)):
        return any(_is_complex(v) for v in x)
    return False


def _as_f64(x: Any, name: str = "a Model leaf") -> Any:
    # Tracers and placeholder leaves (tree utilities build trees of None/object()) pass through.
    if _is_complex(x):
        raise ValueError(f"{name} must be real (got a complex value)")
    if isinstance(x, (jax.Array, np.ndarray, float, int, list, tuple, np.floating, np.integer)):
        return jnp.asarray(x, dtype=jnp.float64)
    return x


@jax.tree_util.register_pytree_with_keys_class
class Model:
    """Two TLS coupled to ``n_baths`` bosonic heat baths (PyTree; every leaf is an array).

    Args:
      T: bath temperatures, shape ``(..., n_baths)``, ``T >= 0`` (0 means zero temperature).
      J: couplings at frequency ``delta``, shape ``(..., n_baths)`` when both TLS are coupled
        alike (``J^(1)_n = J^(2)_n``, the paper's "symmetric" case), or a tuple
        ``(J_tls1, J_tls2)`` of two such arrays when they are not (only a *tuple* means a
        pair; a list is read as one array). ``J >= 0``.
      K: cross couplings, shape ``(..., n_baths)``, real, ``K_n^2 <= J^(1)_n J^(2)_n``.
      xi: pure-dephasing rate of rho_23 in units of the mean downward rate
        (``Gamma_phi = xi (g+_1 + g+_2) / 2``), shape ``(...)``, ``xi >= 0``.
      delta: TLS splitting Delta (mean of the two), shape ``(...)``, ``delta >= 0``.
      detuning: ``Delta_1 - Delta_2``, shape ``(...)``, small against ``delta``; it only rotates
        rho_23 (the rates stay those at ``delta``), see ``physics.md``. The difference of the
        two TLS's Lamb shifts (the paper's Im alpha) belongs here:
        :func:`jaxtls.model_from_baths` adds it to a bare detuning.
      exchange: the bath-mediated coherent coupling Omega of
        ``H_x = Omega (s_1^dag s_2 + s_2^dag s_1)`` (the paper's beta-tilde summed over the
        baths), shape ``(...)``, real, in the units of J (a second-order quantity, like the
        rates). It splits psi+ from psi- by ``2 Omega`` and matters when the TLS are detuned or
        coupled differently (``physics.md``, "Coherent second-order terms").

    Leading axes of every leaf are batch axes: they broadcast against each other, and a model
    whose leaves share a leading axis goes through ``jax.vmap``. A model built from concrete
    values is validated and raises ``ValueError`` naming the parameter and the rule; inside
    ``jit``/``vmap`` nothing is checked and invalid points give NaN in the solvers.

    Example:
      >>> import jaxtls
      >>> m = jaxtls.Model(T=[20.0, 0.1], J=[1.0, 1000.0], K=[0.0, 1000.0])
      >>> m.n_baths, m.symmetric, m.batch_shape
      (2, True, ())
      >>> asym = jaxtls.Model(T=[2.0, 0.1], J=([1.0, 10.0], [2.0, 5.0]), K=[0.0, 7.0])
      >>> asym.symmetric
      False
    """

    __slots__ = _FIELDS

    def __init__(self, T, J, K, xi=0.0, delta=1.0, detuning=0.0, exchange=0.0):
        if isinstance(J, tuple):
            if len(J) != 2:
                raise ValueError("J given as a tuple must be a pair (J_tls1, J_tls2)")
            J = (_as_f64(J[0], "J[0]"), _as_f64(J[1], "J[1]"))
        else:
            J = _as_f64(J, "J")
        values = dict(T=_as_f64(T, "T"), J=J, K=_as_f64(K, "K"), xi=_as_f64(xi, "xi"))
        values.update(delta=_as_f64(delta, "delta"), detuning=_as_f64(detuning, "detuning"))
        values.update(exchange=_as_f64(exchange, "exchange"))
        for name, value in values.items():
            object.__setattr__(self, name, value)
        if all(_is_concrete(leaf) for leaf in jax.tree_util.tree_leaves(values)):
            validate(self)

    def __setattr__(self, name, value):
        raise AttributeError("Model is immutable; use model.replace(...)")

    # -- PyTree protocol ------------------------------------------------------------------
    def tree_flatten_with_keys(self):
        children = [(jax.tree_util.GetAttrKey(f), getattr(self, f)) for f in _FIELDS]
        return children, None

    @classmethod
    def tree_unflatten(cls, aux, children):
        obj = object.__new__(cls)
        for name, value in zip(_FIELDS, children, strict=True):
            object.__setattr__(obj, name, value)
        return obj

    # -- conveniences ---------------------------------------------------------------------
    @property
    def symmetric(self) -> bool:
        """True when both TLS are coupled alike (J given as one array)."""
        return not isinstance(self.J, tuple)

    @property
    def J1(self) -> Array:
        """Couplings of TLS 1, shape ``(..., n_baths)``."""
        return self.J if self.symmetric else self.J[0]

    @property
    def J2(self) -> Array:
        """Couplings of TLS 2, shape ``(..., n_baths)``."""
        return self.J if self.symmetric else self.J[1]

    @property
    def n_baths(self) -> int:
        return int(jnp.shape(self.T)[-1])

    @property
    def batch_shape(self) -> tuple[int, ...]:
        """Broadcast batch shape of all leaves (bath axis excluded)."""
        shapes = [jnp.shape(x)[:-1] for x in (self.T, self.J1, self.J2, self.K)]
        shapes += [jnp.shape(x) for x in (self.xi, self.delta, self.detuning, self.exchange)]
        return tuple(np.broadcast_shapes(*shapes))

    def replace(self, **changes) -> Model:
        """A copy with some fields replaced (validated again when concrete)."""
        kw = {f: getattr(self, f) for f in _FIELDS}
        kw.update(changes)
        return Model(**kw)

    def broadcast(self) -> Model:
        """The same model with every leaf broadcast to the full batch shape (for ``vmap``)."""
        b, n = self.batch_shape, self.n_baths
        per_bath = lambda x: jnp.broadcast_to(x, b + (n,))  # noqa: E731
        J = per_bath(self.J) if self.symmetric else (per_bath(self.J1), per_bath(self.J2))
        leaves = [per_bath(self.T), J, per_bath(self.K)]
        leaves += [jnp.broadcast_to(x, b) for x in (self.xi, self.delta, self.detuning)]
        leaves.append(jnp.broadcast_to(self.exchange, b))
        return Model.tree_unflatten(None, leaves)

    def __getitem__(self, index) -> Model:
        """Index the batch axes of a broadcast copy: ``model[3]``, ``model[:, 0]``."""
        full = self.broadcast()
        return jax.tree_util.tree_map(lambda x: x[index], full)

    def __repr__(self) -> str:
        parts = ", ".join(f"{f}={_short(getattr(self, f))}" for f in _FIELDS)
        return f"Model({parts})"


def _short(x) -> str:
    if isinstance(x, tuple):
        return "(" + ", ".join(_short(v) for v in x) + ")"
    if isinstance(x, jax.core.Tracer):
        return f"Tracer{tuple(x.shape)}"
    arr = np.asarray(x)
    return np.array2string(arr, precision=6) if arr.size <= 8 else f"array{arr.shape}"


def validate(model: Model) -> None:
    """Raise ``ValueError`` naming the parameter and the rule if ``model`` is not physical.

    Called automatically when a Model is built from concrete values.
    """
    T, J1, J2, K = (np.asarray(x) for x in (model.T, model.J1, model.J2, model.K))
    for name, x in (("T", T), ("J1" if not model.symmetric else "J", J1), ("K", K)):
        if x.ndim < 1:
            raise ValueError(f"{name} must have a trailing bath axis: shape (..., n_baths)")
    if not model.symmetric and J2.ndim < 1:
        raise ValueError("J2 must have a trailing bath axis: shape (..., n_baths)")
    named = [("T", T), ("K", K)]
    named += (
        [("J", J1)] if model.symmetric else [("J[0] (J of TLS 1)", J1), ("J[1] (J of TLS 2)", J2)]
    )
    n = T.shape[-1]
    if n < 1:
        raise ValueError("T must have at least one bath (n_baths >= 1)")
    for name, x in named:
        if x.shape[-1] != n:
            raise ValueError(
                f"{name} has {x.shape[-1]} baths on its last axis but T has {n}: "
                "T, J and K must share the bath axis"
            )
    scalars = [(f, np.asarray(getattr(model, f))) for f in ("xi", "delta", "detuning", "exchange")]
    try:
        _ = model.batch_shape
    except ValueError as err:
        shapes = {name: x.shape for name, x in named + scalars}
        raise ValueError(f"Model leaves do not broadcast to one batch shape: {shapes}") from err
    for param, rule, ok, _ in rules(model):
        ok = np.asarray(ok)
        if not ok.all():
            at = np.argwhere(~np.atleast_1d(ok))[0] if ok.ndim else ()
            where = f" (violated at index {tuple(int(i) for i in at)})" if ok.ndim else ""
            raise ValueError(f"{param} must {rule}{where}")


def _label(model: Model, which: int) -> str:
    if model.symmetric:
        return "J"
    return ("J[0] (J of TLS 1)", "J[1] (J of TLS 2)")[which]


def rules(model: Model) -> list[tuple[str, str, Array, bool]]:
    """The validity rules of a model, as ``(parameter, rule, ok, per_bath)``.

    The one table behind both error paths: :func:`validate` raises ``ValueError`` naming the
    first violated rule (concrete models), and the solvers turn a violation into NaN with
    ``Diagnostics.valid = False`` (inside ``jit``, through :func:`is_valid`). Works on tracers.
    ``ok`` is elementwise: shape ``(..., n_baths)`` where ``per_bath``, else ``(...)``.
    """
    T, J1, J2, K = model.T, model.J1, model.J2, model.K
    couplings = [(_label(model, 0), J1)] + ([] if model.symmetric else [(_label(model, 1), J2)])
    bath = [("T", T), *couplings, ("K", K)]
    point = [(f, getattr(model, f)) for f in ("xi", "delta", "detuning", "exchange")]
    fin = "be finite (got NaN or inf)"
    table = [(n, fin, jnp.isfinite(x), True) for n, x in bath]
    table += [(n, fin, jnp.isfinite(x), False) for n, x in point]
    table += [(n, "be >= 0", x >= 0, True) for n, x in bath[:-1]]
    table += [(n, "be >= 0", x >= 0, False) for n, x in point[:2]]
    kj = (
        "satisfy K_n^2 <= J^(1)_n J^(2)_n (the coupling matrix of each bath is positive "
        "semidefinite)"
    )
    table.append(("K", kj, coupling_ok(J1, J2, K), True))
    small = (
        "be small against delta (|detuning| <= delta): the model treats Delta_1 - Delta_2 as a "
        "perturbation of the common splitting"
    )
    table.append(("detuning", small, jnp.abs(model.detuning) <= model.delta, False))
    return table


def is_valid(model: Model) -> Array:
    """Every rule of :func:`rules` at once, per point, shape ``(...)``; works under ``jit``.

    Example:
      >>> import jaxtls, jax, jax.numpy as jnp
      >>> f = jax.jit(lambda T: jaxtls.is_valid(jaxtls.Model(T=T, J=[1.0, 2.0], K=[0.5, 1.0])))
      >>> bool(f(jnp.array([0.5, 0.1]))), bool(f(jnp.array([-1.0, 0.1])))
      (True, False)
    """
    ok = None
    for _, _, rule_ok, per_bath in rules(model):
        parts = list(jnp.moveaxis(rule_ok, -1, 0)) if per_bath else [rule_ok]
        for part in parts:  # unrolled: a reduction over a 2-3 long trailing axis is slow on CPU
            ok = part if ok is None else ok & part
    return ok
