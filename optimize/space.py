"""Search spaces as data: which Model quantities are free, fixed or tied, and their bounds.

A :class:`Space` names every scalar it needs (``n`` is the 1-based bath index):

* ``T_n``: temperature of bath n (units of Delta).
* ``J_n`` (symmetric spaces, ``J^(1)_n = J^(2)_n``) or ``J(1)_n``, ``J(2)_n`` (asymmetric).
* ``kappa_n = K_n / sqrt(J^(1)_n J^(2)_n)`` in ``[-1, 1]``, or, for a bath with geometry,
  ``dbar_n >= 0`` and a dimensionality ``D`` in ``{1, 2, 3}``:
  ``kappa_n = jaxtls.kappa(dbar_n, D)`` (``cos``, ``J_0``, ``sin x / x``).
* ``xi`` (free or fixed), or for Ohmic dephasing ``xibar_n`` (``xi = sum_n xibar_n T_n``).
* optional, both ``Fixed(0.0)`` when left out: ``exchange`` (the coherent exchange Omega of
  ``H_x = Omega (s_1^dag s_2 + s_2^dag s_1)``) and ``detuning`` (``Delta_1 - Delta_2``).
  Both are signed rates in the units of the J's (like :class:`jaxtls.Model`'s leaves of the
  same names), so in the ready-made spaces, which fix ``J_1 = 1`` (or ``J(1)_1 = 1``), they
  are in units of ``J_1``. They take a linear box (``Free(-1, 1)``), never a log scale.
  A space that leaves them out has exactly the names, values and spec it had without them.

Each is :class:`Free` (a box ``[lo, hi]``, linear or log scale), :class:`Fixed`, or
:class:`Tied` to another quantity (``value = factor * value(to)``). Free quantities are
reached from unconstrained reals ``u`` by a smooth bijection onto the open box,
``x = lo + (hi - lo) s(u)`` (log scale: the same on ``log x``) with
``s(u) = sigmoid(U tanh(u / U))``, ``U = 30``: ``s`` stays in ``[9e-14, 1 - 9e-14]``, so a
kappa box ``[-1, 1]`` is approached but never reached (``K = +-J`` on every bath would make
the steady state non-unique), and gradients are finite for every finite ``u``.

Only ratios of rates matter (the steady state is unchanged when every J is scaled), so the
ready-made spaces fix ``J_1 = 1``; and since the bath labels can be swapped, ``J_2/J_1 >= 1``
loses nothing when both temperature and kappa boxes are the same. A space that sets a
``detuning`` or an ``exchange`` builds its Model with the rates in units of Delta, one unit of
the space = ``RATE_UNIT = 1e-9`` Delta (J, K, detuning and exchange alike; temperatures stay
in units of Delta): every rate of the ready-made boxes (J_2 <= 1e6) is then <= 1e-3 Delta,
inside the weak-coupling limit, and the Model's rule ``|detuning| <= delta`` allows detunings
up to 1e9 J_1. Spaces without them build ``J_1 = 1`` as before (the state and every
constraint, all per max J, depend on ratios only).

Example:
  >>> from jaxtls import optimize
  >>> sp = optimize.paper()
  >>> sp.free_names
  ('T_1', 'kappa_1', 'T_2', 'J_2', 'kappa_2')
  >>> u = sp.to_unconstrained({'T_1': 30.0, 'T_2': 0.01, 'J_2': 1e4, 'kappa_1': 0.0,
  ...                          'kappa_2': 0.99})
  >>> round(float(sp.values(u)['J_2']), 6)
  10000.0
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

import jaxtls

U_MAX = 30.0  # saturation of the unconstrained coordinate (see module docstring)
DIMENSIONS = (1, 2, 3)
_NONNEGATIVE = ("T", "J", "J(1)", "J(2)", "dbar", "xi", "xibar")
OPTIONAL = ("detuning", "exchange")  # optional scalars, Fixed(0.0) when left out
DELTA = 1.0  # the splitting of every Model a Space builds (|detuning| <= DELTA)
RATE_UNIT = 1e-9  # one unit of a space's rates (J, K, detuning, exchange), in units of DELTA


class Free(NamedTuple):
    """A free scalar in the box ``[lo, hi]``; ``scale`` is ``"linear"`` or ``"log"``.

    Example:
      >>> Free(1e-3, 1e3, "log").scale
      'log'
    """

    lo: float
    hi: float
    scale: str = "linear"


class Fixed(NamedTuple):
    """A scalar held at ``value``.

    Example:
      >>> Fixed(1.0).value
      1.0
    """

    value: float


class Tied(NamedTuple):
    """A scalar equal to ``factor`` times another quantity ``to`` (free or fixed).

    Example (both TLS coupled alike to bath 1 in an asymmetric space):
      >>> from jaxtls import optimize
      >>> sp = optimize.asymmetric().replace(**{"J(2)_1": Tied("J(1)_1")})
      >>> "J(2)_1" in sp.free_names, float(sp.values(sp.sample(None, 1))["J(2)_1"][0])
      (False, 1.0)
    """

    to: str
    factor: float = 1.0


def _s(u):
    return jax.nn.sigmoid(U_MAX * jnp.tanh(u / U_MAX))


_T_LO, _T_HI = float(jax.nn.sigmoid(-U_MAX)), float(jax.nn.sigmoid(U_MAX))


def _s_inv(t):
    t = jnp.clip(t, _T_LO, _T_HI)
    logit = jnp.log(t) - jnp.log1p(-t)
    return U_MAX * jnp.arctanh(jnp.clip(logit / U_MAX, -1 + 1e-15, 1 - 1e-15))


def to_box(u, bound: Free):
    """Unconstrained ``u`` (any shape) -> value in the open box of ``bound`` (same shape).

    Smooth, strictly increasing, finite with a finite gradient for every finite ``u``;
    ``+-inf`` map to the (saturated) ends, never outside ``[lo, hi]``.

    Example:
      >>> from jaxtls.optimize.space import Free, to_box
      >>> round(float(to_box(0.0, Free(1e-3, 1e3, "log"))), 12)  # the log-midpoint
      1.0
    """
    t = _s(jnp.asarray(u, jnp.float64))
    if bound.scale == "log":
        a, b = np.log(bound.lo), np.log(bound.hi)
        return jnp.clip(jnp.exp(a + (b - a) * t), bound.lo, bound.hi)
    return bound.lo + (bound.hi - bound.lo) * t


def from_box(x, bound: Free):
    """Inverse of :func:`to_box` (values on or outside the box map to the saturated ends).

    Example:
      >>> from jaxtls.optimize.space import Free, from_box, to_box
      >>> b = Free(-1.0, 1.0)
      >>> round(float(to_box(from_box(0.3, b), b)), 12)
      0.3
    """
    x = jnp.asarray(x, jnp.float64)
    if bound.scale == "log":
        a, b = np.log(bound.lo), np.log(bound.hi)
        t = (jnp.log(x) - a) / (b - a)
    else:
        t = (x - bound.lo) / (bound.hi - bound.lo)
    return _s_inv(t)


def _normalise(key, b):
    if isinstance(b, (bool, np.bool_)):
        raise ValueError(f"{key}: expected Free, Fixed, Tied or a number, got {b!r}")
    if isinstance(b, (int, float, np.floating, np.integer)):
        return Fixed(float(b))
    if isinstance(b, Free):
        return Free(float(b.lo), float(b.hi), str(b.scale))
    if isinstance(b, Fixed):
        return Fixed(float(b.value))
    if isinstance(b, Tied):
        return Tied(str(b.to), float(b.factor))
    if isinstance(b, (tuple, list)):
        if len(b) not in (2, 3):
            raise ValueError(
                f"{key}: bounds must be (lo, hi) or (lo, hi, scale), got {tuple(b)!r}"
                + (" (empty bounds)" if len(b) == 0 else "")
            )
        return Free(float(b[0]), float(b[1]), *(str(s) for s in b[2:]))
    raise ValueError(f"{key}: expected Free, Fixed, Tied or a number, got {b!r}")


@dataclass(frozen=True)
class Space:
    """A search space over :class:`jaxtls.Model` (hashable; usable as a static jit argument).

    Args:
      name: a label.
      params: mapping name -> :class:`Free` | :class:`Fixed` | :class:`Tied` | float (a
        float means Fixed; a pair ``(lo, hi)`` or triple ``(lo, hi, scale)`` means Free);
        the names required follow from the other arguments (module docstring). ``xi`` may
        be left out (it is then ``Fixed(0)``), and so may the signed rates ``exchange`` and
        ``detuning`` (units of J; then ``Fixed(0)`` and not listed among the names).
      n_baths: number of baths.
      symmetric: ``J^(1)_n = J^(2)_n`` (names ``J_n``) or not (names ``J(1)_n``, ``J(2)_n``).
      ohmic: dephasing tied to the temperatures, ``xi = sum_n xibar_n T_n``.
      geometry: mapping bath index (1-based) -> tuple of dimensionalities ``D`` to search;
        that bath uses ``dbar_n`` instead of ``kappa_n``. Each combination of ``D`` is
        searched separately (:meth:`variants`).
      constraints: :class:`optimize.Constraint` s added to the objective as penalties.

    Raises:
      ValueError: missing or unknown names, empty or reversed bounds, non-positive bounds on
        a log scale, kappa bounds outside ``[-1, 1]``, negative temperatures, couplings,
        ``dbar`` or ``xi``, a log scale on ``exchange`` or ``detuning``, ``|detuning| > 1e9``
        (``> delta`` once in units of Delta), unknown ``D``, ties to unknown or tied
        quantities.

    Example:
      >>> from jaxtls.optimize import Space, Free, Fixed
      >>> sp = Space("mine", {"T_1": Free(0.01, 100, "log"), "J_1": 1.0, "kappa_1": Fixed(0.0)},
      ...            n_baths=1)
      >>> sp.dim
      1
    """

    name: str = field(compare=False)  # a label: spaces differing only by name are equal
    params: tuple
    n_baths: int = 2
    symmetric: bool = True
    ohmic: bool = False
    geometry: tuple = ()
    constraints: tuple = ()

    def __init__(
        self, name, params, n_baths=2, symmetric=True, ohmic=False, geometry=None, constraints=()
    ):
        if isinstance(params, Mapping):
            params = tuple(params.items())
        try:
            geometry = tuple(sorted((int(k), tuple(v)) for k, v in dict(geometry or {}).items()))
        except (TypeError, ValueError) as err:
            raise ValueError(
                f"geometry must map a bath index to a tuple of dimensionalities D, got {geometry!r}"
            ) from err
        norm = tuple((str(key), _normalise(key, b)) for key, b in params)
        object.__setattr__(self, "name", str(name))
        object.__setattr__(self, "params", norm)
        object.__setattr__(self, "n_baths", int(n_baths))
        object.__setattr__(self, "symmetric", bool(symmetric))
        object.__setattr__(self, "ohmic", bool(ohmic))
        object.__setattr__(self, "geometry", geometry)
        object.__setattr__(self, "constraints", tuple(constraints))
        self._check()

    # -- validation -----------------------------------------------------------------------
    def required_names(self) -> tuple[str, ...]:
        """The names this space must define, in canonical order (the optional ``detuning``
        and ``exchange`` come last, and only when the space gives them)."""
        geo = dict(self.geometry)
        names = []
        for n in range(1, self.n_baths + 1):
            names.append(f"T_{n}")
            names += [f"J_{n}"] if self.symmetric else [f"J(1)_{n}", f"J(2)_{n}"]
            names.append(f"dbar_{n}" if n in geo else f"kappa_{n}")
        if self.ohmic:
            names += [f"xibar_{n}" for n in range(1, self.n_baths + 1)]
        else:
            names.append("xi")
        given = {k for k, _ in self.params}
        names += [k for k in OPTIONAL if k in given]
        return tuple(names)

    def _check(self):
        if self.n_baths < 1:
            raise ValueError(f"n_baths must be >= 1, got {self.n_baths}")
        for n, Ds in self.geometry:
            if not 1 <= n <= self.n_baths:
                raise ValueError(f"geometry: bath {n} does not exist (n_baths={self.n_baths})")
            if len(Ds) == 0:
                raise ValueError(f"geometry: bath {n} has an empty set of dimensionalities D")
            for D in Ds:
                if D not in DIMENSIONS:
                    raise ValueError(
                        f"geometry: unknown bath dimensionality D={D!r} for bath {n}; "
                        "D must be 1, 2 or 3"
                    )
        given = dict(self.params)
        if len(given) != len(self.params):
            raise ValueError("a parameter is given twice")
        need = self.required_names()
        if "xi" not in given and not self.ohmic:
            given = {**given, "xi": Fixed(0.0)}
            object.__setattr__(self, "params", self.params + (("xi", Fixed(0.0)),))
        missing = [k for k in need if k not in given]
        unknown = [k for k in given if k not in need]
        if missing:
            raise ValueError(f"space {self.name!r}: missing parameters {missing}")
        if unknown:
            raise ValueError(
                f"space {self.name!r}: unknown parameters {unknown}; expected names {list(need)}"
                f" (optional: {', '.join(OPTIONAL)})"
            )
        for key, b in self.params:
            if isinstance(b, Free):
                vals = (b.lo, b.hi)
            elif isinstance(b, Fixed):
                vals = (b.value,)
            else:
                vals = _tied_range(key, b, given)
            if not all(np.isfinite(v) for v in vals):
                raise ValueError(f"{key}: bounds must be finite, got {vals}")
            if isinstance(b, Free):
                if b.scale not in ("linear", "log"):
                    raise ValueError(f"{key}: scale must be 'linear' or 'log', got {b.scale!r}")
                if b.lo > b.hi:
                    raise ValueError(f"{key}: lower bound {b.lo:g} > upper bound {b.hi:g}")
                if b.lo == b.hi:
                    raise ValueError(
                        f"{key}: empty bounds [{b.lo:g}, {b.hi:g}]; use Fixed({b.lo:g}) instead"
                    )
                if b.scale == "log" and b.lo <= 0:
                    raise ValueError(f"{key}: a log-scale box needs lo > 0, got {b.lo:g}")
            kind = key.split("_")[0]
            lo, hi = min(vals), max(vals)
            if kind == "kappa" and (lo < -1 or hi > 1):
                raise ValueError(f"{key}: kappa = K/sqrt(J1 J2) must lie in [-1, 1], got {vals}")
            if kind in _NONNEGATIVE and lo < 0:
                raise ValueError(f"{key}: must be >= 0, got {vals}")
            if key in OPTIONAL and isinstance(b, Free) and b.scale == "log":
                raise ValueError(
                    f"{key}: a signed quantity takes a linear box, not a log scale "
                    f"(got Free({b.lo:g}, {b.hi:g}, 'log'))"
                )
            if key == "detuning" and max(-lo, hi) * RATE_UNIT > DELTA:
                raise ValueError(
                    f"detuning: |detuning| RATE_UNIT <= delta, i.e. |detuning| <= "
                    f"{DELTA / RATE_UNIT:g} (units of J_1; Delta_1 - Delta_2 must be small "
                    f"against the splitting), got {vals}"
                )
        order = {k: i for i, k in enumerate(need)}  # canonical order: equal spaces compare equal
        object.__setattr__(self, "params", tuple(sorted(self.params, key=lambda kb: order[kb[0]])))

    # -- structure ------------------------------------------------------------------------
    @property
    def bounds(self) -> dict:
        """name -> :class:`Free` | :class:`Fixed` | :class:`Tied` (the optional ``exchange``
        and ``detuning`` as ``Fixed(0.0)`` when the space leaves them out)."""
        return {k: Fixed(0.0) for k in OPTIONAL} | dict(self.params)

    @property
    def free_names(self) -> tuple[str, ...]:
        """Names of the free quantities, in the order of the unconstrained vector."""
        b = self.bounds
        return tuple(k for k in self.required_names() if isinstance(b[k], Free))

    @property
    def tied_names(self) -> tuple[str, ...]:
        """Names of the tied quantities (Ohmic ``xi`` is not listed: it is not a parameter)."""
        b = self.bounds
        return tuple(k for k in self.required_names() if isinstance(b[k], Tied))

    @property
    def dim(self) -> int:
        """Length of the unconstrained vector ``u``."""
        return len(self.free_names)

    def fixed_values(self) -> dict:
        """name -> value of every fixed quantity (pass a modified copy to :meth:`values`)."""
        return {k: b.value for k, b in self.params if isinstance(b, Fixed)}

    def variants(self) -> list[dict]:
        """Every combination of bath dimensionalities, e.g. ``[{2: 1}, {2: 2}, {2: 3}]``."""
        if not self.geometry:
            return [{}]
        baths = [n for n, _ in self.geometry]
        combos = itertools.product(*(d for _, d in self.geometry))
        return [dict(zip(baths, c, strict=True)) for c in combos]

    def _copy(self, params, constraints) -> Space:
        return Space(
            self.name,
            params,
            self.n_baths,
            self.symmetric,
            self.ohmic,
            dict(self.geometry),
            constraints,
        )

    def replace(self, **changes) -> Space:
        """A copy with some parameters replaced: ``space.replace(J_2=Fixed(10.0))``.

        Names such as ``J(1)_2`` are not identifiers: pass them as ``**{"J(1)_2": ...}``.
        """
        params = dict(self.params)
        params.update(changes)
        return self._copy(params, self.constraints)

    def constrain(self, *constraints) -> Space:
        """A copy with more constraints, e.g. ``Constraint("min_relaxation", 1e-3)``."""
        for c in constraints:
            c.check()
        return self._copy(dict(self.params), tuple(self.constraints) + tuple(constraints))

    def spec(self) -> dict:
        """The space as plain JSON-able data (what the CLI writes next to its results).

        Example:
          >>> from jaxtls import optimize
          >>> optimize.paper().spec()["params"]["J_2"]
          {'free': [1.0, 1000000.0, 'log']}
        """

        def one(b):
            if isinstance(b, Free):
                return {"free": [b.lo, b.hi, b.scale]}
            if isinstance(b, Fixed):
                return {"fixed": b.value}
            return {"tied": [b.to, b.factor]}

        return {
            "name": self.name,
            "n_baths": self.n_baths,
            "symmetric": self.symmetric,
            "ohmic": self.ohmic,
            "geometry": {str(n): list(Ds) for n, Ds in self.geometry},
            "params": {k: one(self.bounds[k]) for k in self.required_names()},
            "constraints": [[c.kind, c.bound] for c in self.constraints],
        }

    # -- maps -----------------------------------------------------------------------------
    def values(self, u, fixed: Mapping | None = None) -> dict:
        """Unconstrained ``u`` of shape ``(..., dim)`` -> name -> value of shape ``(...)``.

        ``fixed`` overrides the values of fixed quantities (traced values are fine: one
        compilation then serves every value).
        """
        u = jnp.asarray(u, jnp.float64)
        if u.shape[-1:] != (self.dim,):
            raise ValueError(f"u must have shape (..., {self.dim}), got {u.shape}")
        fixed = self.fixed_values() if fixed is None else fixed
        leaves = [u] + jax.tree_util.tree_leaves(fixed)
        if not any(isinstance(x, jax.core.Tracer) for x in leaves):
            fixed = {k: jnp.asarray(v, jnp.float64) for k, v in fixed.items()}
            return _values_jit(self, u, fixed)  # one compilation, not many eager operations
        return self._values(u, fixed)

    def _values(self, u, fixed):
        out = {}
        b = self.bounds
        free = self.free_names
        for k in self.required_names():
            if k in free:
                out[k] = to_box(u[..., free.index(k)], b[k])
            elif isinstance(b[k], Fixed):
                out[k] = jnp.broadcast_to(jnp.asarray(fixed[k], jnp.float64), u.shape[:-1])
        for k in self.tied_names:
            out[k] = b[k].factor * out[b[k].to]
        return {k: out[k] for k in self.required_names()}

    def to_unconstrained(self, values: Mapping) -> jax.Array:
        """name -> value (free names only are read) -> ``u`` of shape ``(..., dim)``."""
        if not self.free_names:
            return jnp.zeros((0,))
        vals = {k: jnp.asarray(values[k], jnp.float64) for k in self.free_names}
        if any(isinstance(x, jax.core.Tracer) for x in vals.values()):
            return self._to_unconstrained(vals)
        return _to_u_jit(self, vals)

    def _to_unconstrained(self, vals):
        b = self.bounds
        return jnp.stack([from_box(vals[k], b[k]) for k in self.free_names], axis=-1)

    def model(self, values: Mapping, variant: Mapping | None = None) -> jaxtls.Model:
        """name -> value (shapes ``(...)``) -> :class:`jaxtls.Model` with batch shape ``(...)``.

        ``variant`` maps a geometry bath to its ``D`` (default: the first ``D`` listed); a
        ``D`` may be a traced integer.
        """
        geo = dict(self.geometry)
        variant = {n: Ds[0] for n, Ds in geo.items()} | dict(variant or {})
        T, J1, J2, K = [], [], [], []
        for n in range(1, self.n_baths + 1):
            T.append(values[f"T_{n}"])
            if self.symmetric:
                j1 = j2 = values[f"J_{n}"]
            else:
                j1, j2 = values[f"J(1)_{n}"], values[f"J(2)_{n}"]
            J1.append(j1)
            J2.append(j2)
            if n in geo:
                kap = _kappa_any(values[f"dbar_{n}"], variant[n])
            else:
                kap = values[f"kappa_{n}"]
            K.append(kap * jnp.sqrt(j1 * j2))
        if self.ohmic:
            xi = sum(values[f"xibar_{n}"] * T[n - 1] for n in range(1, self.n_baths + 1))
        else:
            xi = values["xi"]
        st = lambda xs: jnp.stack(jnp.broadcast_arrays(*xs), axis=-1)  # noqa: E731
        # with a detuning or exchange: rates in units of Delta, one unit = RATE_UNIT
        unit = RATE_UNIT if self.weak_coupling_units else 1.0
        rate = lambda xs: st(xs) * unit  # noqa: E731
        J = rate(J1) if self.symmetric else (rate(J1), rate(J2))
        extra = {k: values[k] * unit for k in OPTIONAL if k in values}  # else the Model's 0.0
        return jaxtls.Model(st(T), J, rate(K), xi=xi, **extra)

    @property
    def weak_coupling_units(self) -> bool:
        """True when the space sets a detuning or an exchange: its Model has rates in units
        of Delta, one unit of the space being ``RATE_UNIT``."""
        return any(k in dict(self.params) for k in OPTIONAL)

    def sample(self, key, n: int) -> jax.Array:
        """``n`` random starts, shape ``(n, dim)``: uniform in the box (log-uniform on log
        scales), kept 2% away from its faces.

        ``key``: an int seed or a ``numpy.random.Generator`` (numpy's generator: no
        compilation), a JAX PRNG key, or ``None`` (every start at the box centre).
        """
        if key is None:
            return jnp.zeros((n, self.dim))
        if isinstance(key, (int, np.integer, np.random.Generator)):
            rng = np.random.default_rng(key)
            t = rng.uniform(0.02, 0.98, (int(n), self.dim))
            logit = np.log(t) - np.log1p(-t)
            return jnp.asarray(U_MAX * np.arctanh(logit / U_MAX))
        return _sample(key, int(n), self.dim)


@partial(jax.jit, static_argnums=0)
def _values_jit(space, u, fixed):
    return space._values(u, fixed)


@partial(jax.jit, static_argnums=0)
def _to_u_jit(space, vals):
    return space._to_unconstrained(vals)


@partial(jax.jit, static_argnums=(1, 2))
def _sample(key, n, dim):
    return _s_inv(jax.random.uniform(key, (n, dim), jnp.float64, 0.02, 0.98))


def _tied_range(key, b: Tied, given) -> tuple:
    if b.to == key:
        raise ValueError(f"{key}: a quantity cannot be tied to itself")
    if b.to not in given:
        raise ValueError(f"{key}: tied to unknown quantity {b.to!r}")
    src = given[b.to]
    if isinstance(src, Tied):
        raise ValueError(f"{key}: tied to {b.to!r}, which is tied itself; tie to its source")
    if not np.isfinite(b.factor):
        raise ValueError(f"{key}: tie factor must be finite, got {b.factor}")
    vals = (src.lo, src.hi) if isinstance(src, Free) else (src.value,)
    return tuple(b.factor * v for v in vals)


def _kappa_any(dbar, D):
    """``jaxtls.kappa(dbar, D)`` for a Python or a traced integer ``D`` (one compilation
    serves every dimensionality)."""
    if isinstance(D, (int, np.integer)):
        return jaxtls.kappa(dbar, int(D))
    D = jnp.asarray(D)
    k1, k2, k3 = (jaxtls.kappa(dbar, d) for d in DIMENSIONS)
    return jnp.where(D == 1, k1, jnp.where(D == 2, k2, k3))


def paper() -> Space:
    """The paper's space: two baths, symmetric, ``J_1 = 1`` fixed, ``J_2/J_1`` in
    ``[1, 1e6]``, ``T_n`` in ``[1e-3, 1e3]`` (log), ``kappa_1``, ``kappa_2`` free, ``xi = 0``.

    Example:
      >>> from jaxtls import optimize
      >>> optimize.paper().dim
      5
    """
    return Space(
        "paper",
        {
            "T_1": Free(1e-3, 1e3, "log"),
            "J_1": Fixed(1.0),
            "kappa_1": Free(-1.0, 1.0),
            "T_2": Free(1e-3, 1e3, "log"),
            "J_2": Free(1.0, 1e6, "log"),
            "kappa_2": Free(-1.0, 1.0),
            "xi": Fixed(0.0),
        },
    )


def geometry(dbar_max: float = 8.0, dims=DIMENSIONS) -> Space:
    """The paper space with bath 2 given by its geometry: ``D`` in ``dims`` and
    ``dbar_2`` in ``[0, dbar_max]`` instead of ``kappa_2``.

    Example:
      >>> from jaxtls import optimize
      >>> optimize.geometry().variants()
      [{2: 1}, {2: 2}, {2: 3}]
    """
    p = dict(paper().params)
    del p["kappa_2"]
    p["dbar_2"] = Free(0.0, float(dbar_max))
    return Space("geometry", p, geometry={2: tuple(dims)})


def ohmic(xibar_1: float = 0.01, xibar_2: float = 0.0) -> Space:
    """The paper space with Ohmic dephasing ``xi = xibar_1 T_1 + xibar_2 T_2`` (Fig. 2 of the
    paper uses ``xi = 0.01 T_1``).

    Example:
      >>> from jaxtls import optimize
      >>> optimize.ohmic().spec()["params"]["xibar_1"]
      {'fixed': 0.01}
    """
    p = dict(paper().params)
    del p["xi"]
    p.update(xibar_1=Fixed(xibar_1), xibar_2=Fixed(xibar_2))
    return Space("ohmic", p, ohmic=True)


def asymmetric() -> Space:
    """Two baths, ``J^(1)_n != J^(2)_n``: ``J(1)_1 = 1`` fixed, ``J(2)_1`` in ``[1e-2, 1e2]``,
    ``J(i)_2`` in ``[1, 1e6]`` (log), ``T_n`` in ``[1e-3, 1e3]``, ``kappa_n`` free, ``xi = 0``.
    Contains the paper space (``J(2)_1 = 1``, ``J(1)_2 = J(2)_2``).

    Example:
      >>> from jaxtls import optimize
      >>> optimize.asymmetric().free_names
      ('T_1', 'J(2)_1', 'kappa_1', 'T_2', 'J(1)_2', 'J(2)_2', 'kappa_2')
    """
    return Space(
        "asymmetric",
        {
            "T_1": Free(1e-3, 1e3, "log"),
            "J(1)_1": Fixed(1.0),
            "J(2)_1": Free(1e-2, 1e2, "log"),
            "kappa_1": Free(-1.0, 1.0),
            "T_2": Free(1e-3, 1e3, "log"),
            "J(1)_2": Free(1.0, 1e6, "log"),
            "J(2)_2": Free(1.0, 1e6, "log"),
            "kappa_2": Free(-1.0, 1.0),
            "xi": Fixed(0.0),
        },
        symmetric=False,
    )


SPACES = {"paper": paper, "geometry": geometry, "ohmic": ohmic, "asymmetric": asymmetric}


def get_space(name: str) -> Space:
    """A ready-made space by name (``paper``, ``geometry``, ``ohmic``, ``asymmetric``).

    Example:
      >>> from jaxtls import optimize
      >>> optimize.get_space("ohmic").ohmic
      True
    """
    if name not in SPACES:
        raise ValueError(f"unknown space {name!r}; choose from {sorted(SPACES)}")
    return SPACES[name]()
