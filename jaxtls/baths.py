r"""Heat baths described by their spectral densities, and the Model they give.

A :class:`Bath` is one bosonic heat bath (eq. 20 of the paper): temperature ``T``, a spectral
shape, the transverse couplings ``g1``, ``g2`` of the two TLS, a geometry (dimensionality ``D``
and travel time ``delay = d / v`` between the two coupling points) and a longitudinal strength
``gz``. :func:`model_from_baths` turns a sequence of baths into a :class:`jaxtls.Model`: the
golden-rule rates at ``delta``, the difference of the two Lamb shifts (added to the detuning)
and the bath-mediated exchange ``Omega``, both principal-value integrals over the spectra.

Normalisation
-------------
With ``w_i = sum_q k^(i)_q (a_q^dag + a_q)`` (eq. 20) the spectral densities are

    J_ij(omega) = 2 pi sum_q k^(i)_q k^(j)_q delta(omega - omega_q)        (omega > 0),
    J^(i)(omega) = J_ii(omega) = g_i^2 S(omega),
    K(omega) = J_12(omega) = g1 g2 S(omega) kappa_D(omega d/v),
    S(omega) = omega_c (omega/omega_c)^s F(omega/omega_c),   F(x) = exp(-x) | 1/(1 + x^2),

so ``J^(i)(Delta)`` and ``K(Delta)`` ARE the paper's eq. 21 ``J^(i)_n`` and ``K_n`` (the 2 pi of the
golden rule is inside J): the rates of ``physics.md`` are ``g+_i = sum_n J^(i)_n(Delta) (1 + n_n)``.
``g`` is dimensionless (the Ohmic J(omega) = g^2 omega at omega << omega_c); ``kappa_D`` is
:func:`jaxtls.kappa` (cos, J_0, sin x / x for D = 1, 2, 3; 1 for ``D=None``: one common point).

Derivation of the coherent terms (signs of ``physics.md``)
----------------------------------------------------------
``H_int = sum_i B_i (s_i + s_i^dag)``, ``B_i = w_i`` Hermitian, ``s_i = |+><-|`` lowers the energy
by ``Delta_i`` (``H_i = -(Delta_i/2) sigma_z``, ``|+>`` ground). The bath correlation
``<B_i(t) B_j(0)> = int_0^inf (dw/2pi) J_ij(w) [(1 + n(w)) e^{-iwt} + n(w) e^{iwt}]`` has the
Fourier transform ``C_ij(w) = J_ij(w) (1 + n(w))`` on the whole real axis (J odd,
n(-w) = -1 - n(w)); its one-sided transform is ``Gamma_ij(w) = C_ij(w)/2 + i S_ij(w)``,
``S_ij(w) = P int (dw'/2pi) C_ij(w')/(w - w')``. The (secular) second-order generator contains
``H_LS = sum_{w=+-Delta} S_ij(w) A_i^dag(w) A_j(w)`` with ``A_i(Delta) = s_i``,
``A_i(-Delta) = s_i^dag``:

* ``i = j``: ``S_ii(Delta) s_i^dag s_i + S_ii(-Delta) s_i s_i^dag``
  ``= const - (1/2) dDelta_i sigma_z^(i)``, i.e. ``Delta_i -> Delta_i + dDelta_i`` with (folding
  w' < 0 onto w' > 0)

      dDelta_i = S_ii(Delta) - S_ii(-Delta)
               = P int_0^inf (dw/2pi) J^(i)(w) coth(w/2T) 2 Delta/(Delta^2 - w^2).

  (T = 0 check: the excited state couples to |ground, 1_q> at energy w - Delta, the ground state
  to |excited, 1_q> at w + Delta; second-order perturbation theory gives the same sum.)
  ``Model.detuning = bare_detuning + dDelta_1 - dDelta_2``: a positive ``dDelta_1 - dDelta_2``
  raises TLS 1's splitting. The paper's Im alpha (eq. 15) evaluates, for these baths, to
  ``-(dDelta_1 - dDelta_2)``: it is the same integral with ``w^2 - Delta^2`` in the denominator,
  and the paper's "alpha + i delta" uses the opposite sign of the detuning (see tests/oracles.py).
  A common shift renormalises Delta and is dropped.
* ``i != j`` (``s_1 s_2^dag = s_2^dag s_1``): ``Omega (s_1^dag s_2 + s_2^dag s_1)`` with

      Omega = S_12(Delta) + S_12(-Delta) = P int_0^inf (dw/2pi) K(w) 2 w/(Delta^2 - w^2),

  temperature independent (the n(w) terms cancel) and equal to the paper's beta-tilde (after
  eq. 16) evaluated for eq. 20: ``sum_q k1 k2 [1/(Delta - w_q) - 1/(Delta + w_q)]``.
* Longitudinal coupling ``v_1 sigma_z^(1) + v_2 sigma_z^(2)``: only ``v_1 - v_2`` dephases rho_23,
  at rate ``Gamma_phi = 2 C_{v1-v2}(w -> 0) = lim_{w->0} L(w) coth(w/2T)`` with ``L = gz^2 S`` the
  spectral density of ``v_1 - v_2`` (sec. IV A; ``gz = l_1 - l_2`` for longitudinal strengths
  ``l_i`` at one point, and also for distant points, since kappa_D(0) = 1). So
  ``Gamma_phi = 2 gz^2 T`` for s = 1 and 0 for s > 1 (the paper's xi = xibar T), and
  ``Model.xi = Gamma_phi / ((g+_1 + g+_2)/2)``.

When the exchange and the Lamb-shift difference vanish
------------------------------------------------------
* Lamb-shift difference: ``dDelta_1 - dDelta_2 = sum_n (g1_n^2 - g2_n^2) I_L,n`` vanishes whenever
  ``|g1_n| = |g2_n|`` on every bath (any geometry: it depends on J^(i) only), or by compensation.
* Exchange: ``Omega_n = g1 g2 I_X,n``, ``I_X = P int (dw/2pi) S kappa_D 2w/(Delta^2 - w^2)``
  ``= -(1/pi) int_0^inf (S/w) kappa_D dw``
  ``+ (Delta^2/pi) P int_0^inf (S/w) kappa_D/(Delta^2 - w^2) dw``.
  It does NOT vanish for a local bath (``D=None``, kappa = 1) or any bath at d = 0: the first
  term, ``-(1/pi) int S/w`` (``-omega_c/pi`` for Ohmic exponential), makes it negative and growing
  with the cutoff. For D = 1 (kappa = cos(w tau), tau = d/v) and a flat band it tends to
  ``+(g1 g2 S(Delta)/2) sin(Delta tau)`` (the first term becomes
  ``-(1/pi) omega_c/(1 + omega_c^2 tau^2)`` for Ohmic exponential, i.e. -> 0): the exchange
  (nearly) vanishes at ``Delta tau = m pi``, where K/J = cos(Delta tau) = +-1 (collective
  coupling); the zeros move by O(1/(omega_c tau^2)) at finite cutoff (tested near 2 pi). D = 2, 3
  give decaying oscillations. It vanishes exactly only when ``g1 g2 = 0``.

Numerics
--------
Both integrals are ``(1/2pi) P int_0^inf h(w) 2 Delta/(Delta^2 - w^2) dw`` with ``h = S coth`` or
``S kappa w/Delta``. With ``phi(w) = h(w) 2 Delta/(Delta + w)``, the pole is removed exactly:
``P int_0^{2 Delta} phi/(Delta - w) = int_0^{2 Delta} [phi(w) - phi(Delta)]/(Delta - w)`` (the PV of
``1/(Delta - w)`` over ``[0, 2 Delta]`` is 0). The remaining smooth integrand is integrated with
composite Gauss-Legendre rules (16 and 24 nodes per panel) on panels whose ends are the union of a
geometric grid (from ``1e-13 min(Delta, omega_c, T)`` up to ``w_max``: resolves T, omega_c,
w^s), a uniform grid of 96 panels over ``[0, w_max]`` (resolves the oscillations of kappa_D), and
Delta, 2 Delta. Exponential cutoff: ``w_max = max(2 Delta, (50 + 5 s) omega_c)``, the rest is
below 1e-18. Drude-Lorentz: ``w_max = 8 max(Delta, omega_c, T)`` plus the tail mapped by
``w = w_max/t^2`` on geometric panels in t. The 24-node result is returned; its difference from
the 16-node one is the error estimate. Where the estimate exceeds ``RTOL = 1e-10`` times the
largest rate or term of the point, that output is NaN and ``BathTerms.ok`` is False.

Oscillating geometry: the accuracy holds while ``delay * w_max / 96 <= PHASE_MAX = 12`` rad (e.g.
``omega_c d/v <= 20.9`` for an Ohmic exponential bath, ``Delta d/v <= 576`` when
``2 Delta > w_max``); beyond, the exchange is NaN.

Limits (ValueError at the user-facing layer): ``T >= 0``, ``omega_c > 0``, ``delay >= 0``, all
finite; ``kind='ohmic'`` needs ``s = 1``; ``kind='power'``: ``1 <= s <= 6`` (exponential),
``1 <= s <= 1.5`` (Drude-Lorentz, whose tail w^(s-3) of the exchange must stay integrable on the
mapped grid); the Drude-Lorentz cutoff only with ``D=None`` (its algebraic tail times an
oscillating kappa_D is not integrable to 1e-10 on a fixed grid). Sub-Ohmic baths (s < 1) are not
supported: their dephasing rate diverges (L(w)/tanh(w/2T) -> inf).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from .geometry import kappa
from .model import Model

Array = jax.Array

KINDS = ("ohmic", "power")
CUTOFFS = ("exponential", "drude")
BATH_DIMENSIONS = (None, 1, 2, 3)
#: largest exponent s allowed, per cutoff
S_MAX = {"exponential": 6.0, "drude": 1.5}
#: accuracy target of the principal-value integrals (relative to the largest rate or term)
RTOL = 1e-10
#: largest phase of kappa_D's oscillation across one uniform panel (radians)
PHASE_MAX = 12.0

_LEAVES = ("T", "g1", "g2", "s", "omega_c", "delay", "gz")
_N_GEO, _N_LIN, _N_TAIL = 64, 96, 24
_X_LO, _W_LO = np.polynomial.legendre.leggauss(16)
_X_HI, _W_HI = np.polynomial.legendre.leggauss(24)
_X = np.concatenate([_X_LO, _X_HI])
_N_LO = _X_LO.size


def _is_concrete(x: Any) -> bool:
    return not isinstance(x, jax.core.Tracer)


def _as_f64(x: Any) -> Any:
    if isinstance(x, (jax.Array, np.ndarray, float, int, list, tuple, np.floating, np.integer)):
        return jnp.asarray(x, dtype=jnp.float64)
    return x


@jax.tree_util.register_pytree_with_keys_class
class Bath:
    """One bosonic heat bath given by its spectral density (PyTree).

    Leaves (float64 arrays of any broadcastable batch shape ``(...)``, no bath axis):
      T: temperature, ``>= 0``.
      g1, g2: transverse couplings of TLS 1 and 2 (real, any sign; ``g2`` defaults to ``g1``):
        ``J^(i)(w) = g_i^2 S(w)``, ``K(w) = g1 g2 S(w) kappa_D(w delay)``.
      s: exponent of ``S(w) = omega_c (w/omega_c)^s F(w/omega_c)`` (1 for ``kind='ohmic'``).
      omega_c: cutoff frequency, ``> 0``.
      delay: ``d / v``, travel time of the field between the two coupling points, ``>= 0``
        (``dbar = Delta * delay``); must be 0 for ``D=None``.
      gz: strength of the longitudinal coupling ``v_1 - v_2`` (its spectral density is
        ``gz^2 S(w)``); gives the dephasing ``Gamma_phi = 2 gz^2 T`` when s = 1.
    Static (not leaves): ``kind`` ('ohmic' | 'power'), ``cutoff`` ('exponential' | 'drude'),
    ``D`` (None | 1 | 2 | 3).

    Energies in the units of ``delta`` used by :func:`model_from_baths`. Built from concrete
    values it is validated (``ValueError`` naming the parameter and the rule); under
    ``jit``/``vmap`` nothing is checked.

    Example:
      >>> import jaxtls
      >>> b = jaxtls.Bath(T=0.5, g1=0.01, g2=0.02, omega_c=10.0, D=1, delay=0.3)
      >>> round(float(b.J1(1.0)), 12)  # g1^2 * 1 * exp(-0.1)
      9.0483742e-05
      >>> b.kind, b.cutoff, b.D
      ('ohmic', 'exponential', 1)
    """

    __slots__ = _LEAVES + ("kind", "cutoff", "D")

    def __init__(
        self,
        T,
        g1,
        g2=None,
        *,
        kind: str = "ohmic",
        cutoff: str = "exponential",
        D: int | None = None,
        s=1.0,
        omega_c=10.0,
        delay=0.0,
        gz=0.0,
    ):
        values = dict(T=T, g1=g1, g2=g1 if g2 is None else g2, s=s, omega_c=omega_c)
        values.update(delay=delay, gz=gz)
        for name in _LEAVES:
            object.__setattr__(self, name, _as_f64(values[name]))
        object.__setattr__(self, "kind", kind)
        object.__setattr__(self, "cutoff", cutoff)
        object.__setattr__(self, "D", D)
        _check_static(kind, cutoff, D)
        if all(_is_concrete(getattr(self, n)) for n in _LEAVES):
            _validate(self)

    def __setattr__(self, name, value):
        raise AttributeError("Bath is immutable; use bath.replace(...)")

    def tree_flatten_with_keys(self):
        children = [(jax.tree_util.GetAttrKey(n), getattr(self, n)) for n in _LEAVES]
        return children, (self.kind, self.cutoff, self.D)

    @classmethod
    def tree_unflatten(cls, aux, children):
        obj = object.__new__(cls)
        for name, value in zip(_LEAVES, children, strict=True):
            object.__setattr__(obj, name, value)
        for name, value in zip(("kind", "cutoff", "D"), aux, strict=True):
            object.__setattr__(obj, name, value)
        return obj

    def replace(self, **changes) -> Bath:
        """A copy with some fields replaced (validated again when concrete)."""
        kw = {n: getattr(self, n) for n in _LEAVES + ("kind", "cutoff", "D")}
        kw.update(changes)
        T, g1 = kw.pop("T"), kw.pop("g1")
        return Bath(T, g1, **kw)

    @property
    def batch_shape(self) -> tuple[int, ...]:
        """Broadcast batch shape of the leaves."""
        return tuple(np.broadcast_shapes(*(jnp.shape(getattr(self, n)) for n in _LEAVES)))

    def broadcast(self) -> Bath:
        """The same bath with every leaf broadcast to the full batch shape (for ``vmap``)."""
        b = self.batch_shape
        leaves = [jnp.broadcast_to(getattr(self, n), b) for n in _LEAVES]
        return Bath.tree_unflatten((self.kind, self.cutoff, self.D), leaves)

    def S(self, omega) -> Array:
        """Unit-coupling spectral density ``S(omega)``, shape ``broadcast(batch, omega)``."""
        return _shape(self, jnp.asarray(omega, jnp.float64))

    def J1(self, omega) -> Array:
        """``J^(1)(omega) = g1^2 S(omega)`` (the golden-rule rate of TLS 1 at T = 0)."""
        return self.g1**2 * self.S(omega)

    def J2(self, omega) -> Array:
        """``J^(2)(omega) = g2^2 S(omega)``."""
        return self.g2**2 * self.S(omega)

    def K(self, omega) -> Array:
        """``K(omega) = g1 g2 S(omega) kappa_D(omega delay)``."""
        omega = jnp.asarray(omega, jnp.float64)
        return self.g1 * self.g2 * self.S(omega) * _kappa(self, omega)

    def __repr__(self) -> str:
        leaves = ", ".join(f"{n}={np.asarray(getattr(self, n))!r}" for n in _LEAVES)
        return f"Bath({leaves}, kind={self.kind!r}, cutoff={self.cutoff!r}, D={self.D!r})"


def _check_static(kind, cutoff, D) -> None:
    if kind not in KINDS:
        raise ValueError(f"kind (spectral shape) must be one of {KINDS}, got {kind!r}")
    if cutoff not in CUTOFFS:
        raise ValueError(f"cutoff must be one of {CUTOFFS}, got {cutoff!r}")
    if D not in BATH_DIMENSIONS or isinstance(D, bool):
        raise ValueError(f"D (bath dimensionality) must be None, 1, 2 or 3, got {D!r}")
    if cutoff == "drude" and D is not None:
        raise ValueError(
            "cutoff='drude' requires D=None: the algebraic tail of a Drude-Lorentz spectrum "
            "times an oscillating kappa_D is not integrable to the documented accuracy"
        )


def _validate(b: Bath) -> None:
    vals = {n: np.asarray(getattr(b, n)) for n in _LEAVES}
    try:
        _ = b.batch_shape
    except ValueError as err:
        shapes = {n: v.shape for n, v in vals.items()}
        raise ValueError(f"Bath leaves do not broadcast to one batch shape: {shapes}") from err
    for n, v in vals.items():
        if not np.all(np.isfinite(v)):
            raise ValueError(f"{n} must be finite (got NaN or inf)")
    for n in ("T", "delay"):
        if np.any(vals[n] < 0):
            raise ValueError(f"{n} must be >= 0 (got min {vals[n].min():g})")
    if np.any(vals["omega_c"] <= 0):
        raise ValueError(f"omega_c (cutoff frequency) must be > 0 (got {vals['omega_c'].min():g})")
    s = vals["s"]
    if b.kind == "ohmic" and np.any(s != 1.0):
        raise ValueError("s must be 1 for kind='ohmic' (use kind='power' for s > 1)")
    smax = S_MAX[b.cutoff]
    if np.any(s < 1.0) or np.any(s > smax):
        raise ValueError(
            f"s must satisfy 1 <= s <= {smax:g} for cutoff={b.cutoff!r} "
            f"(got range [{s.min():g}, {s.max():g}]; sub-Ohmic s < 1 is not supported)"
        )
    if b.D is None and np.any(vals["delay"] != 0):
        raise ValueError("delay must be 0 for D=None (one common coupling point); give D")


def _shape(b: Bath, w) -> Array:
    """S(w) = omega_c x^s F(x), x = w/omega_c, for w >= 0 (0 at w = 0; safe gradients)."""
    x = w / b.omega_c
    pos = x > 0
    xs = jnp.where(pos, x, 1.0)
    power = jnp.where(pos, jnp.exp(b.s * jnp.log(xs)), 0.0)
    F = jnp.exp(-x) if b.cutoff == "exponential" else 1.0 / (1.0 + x * x)
    return b.omega_c * power * F


def _kappa(b: Bath, w) -> Array:
    if b.D is None:
        return jnp.ones_like(w * b.delay)
    return kappa(w * b.delay, b.D)


def _coth(b: Bath, w) -> Array:
    """coth(w/2T) = 1 + 2 n(w), 1 at T = 0, for w > 0 (stable for w/T large or small)."""
    warm = b.T > 0
    x = w / jnp.where(warm, b.T, 1.0)
    e = jnp.exp(-x)
    return jnp.where(warm, 1.0 + 2.0 * e / -jnp.expm1(-x), 1.0)


def _gauss(fun, a, b):
    """Composite Gauss-Legendre of ``fun`` on panels [a, b] (..., M): (24-node, |24 - 16|)."""
    mid, half = 0.5 * (b + a), 0.5 * (b - a)
    u = mid[..., None] + half[..., None] * _X  # (..., M, 40)
    vals = fun(u)  # tuple of (..., M, 40)
    out = []
    for v in vals:
        lo = jnp.sum(jnp.sum(v[..., :_N_LO] * _W_LO, -1) * half, -1)
        hi = jnp.sum(jnp.sum(v[..., _N_LO:] * _W_HI, -1) * half, -1)
        out.append((hi, jnp.abs(hi - lo)))
    return out


def pv_integrals(bath: Bath, delta=1.0):
    """The two principal-value integrals of one bath, per unit coupling.

    Returns ``(I_L, err_L, I_X, err_X, w_max)``, each of shape ``broadcast(bath batch, delta)``:
    ``I_L = P int_0^inf (dw/2pi) S(w) coth(w/2T) 2 delta/(delta^2 - w^2)`` (Lamb shift of a TLS
    per ``g^2``) and ``I_X = P int_0^inf (dw/2pi) S(w) kappa_D(w delay) 2 w/(delta^2 - w^2)``
    (exchange per ``g1 g2``), their error estimates, and the upper end ``w_max`` of the
    panel grid. No NaN masking here (see :func:`bath_terms`).

    Example:
      >>> import jaxtls
      >>> I_L, e_L, I_X, e_X, _ = jaxtls.pv_integrals(jaxtls.Bath(T=0.0, g1=1.0, omega_c=5.0))
      >>> bool(I_L < 0 and I_X < 0 and e_L < 1e-12 and e_X < 1e-12)
      True
    """
    D = jnp.asarray(delta, jnp.float64)
    b = bath
    T, wc, s = jnp.broadcast_arrays(b.T, b.omega_c, b.s)
    shp = np.broadcast_shapes(jnp.shape(D), b.batch_shape)
    T, wc, s, D = (jnp.broadcast_to(x, shp) for x in (T, wc, s, D))
    if b.cutoff == "exponential":
        w_max = jnp.maximum(2.0 * D, (50.0 + 5.0 * s) * wc)
    else:
        w_max = 8.0 * jnp.maximum(jnp.maximum(D, wc), T)
    # (a temperature below 1e-280 Delta acts as T = 0: the grid would start subnormal)
    w_lo = 1e-13 * jnp.minimum(jnp.minimum(D, wc), jnp.where(T > 1e-280 * D, T, D))
    k = np.arange(1, _N_GEO) / _N_GEO
    geo = w_lo[..., None] * (w_max / w_lo)[..., None] ** k
    lin = w_max[..., None] * (np.arange(1, _N_LIN) / _N_LIN)
    pts = jax.lax.stop_gradient(jnp.concatenate([geo, lin], -1))
    # Interior panel ends: each point is placed affinely inside its region [w_lo, Delta],
    # [Delta, 2 Delta] or [2 Delta, w_max], so that its tangent is a smooth function of the
    # region ends. The integral is then a reparametrisation of one fixed rule and its
    # derivatives are exact (moving the grid points themselves, with ties at Delta or 2 Delta,
    # would break the telescoping of the boundary terms).
    R = jnp.stack([w_lo, D, 2.0 * D, w_max], -1)[..., None, :]
    Rs = jax.lax.stop_gradient(R)
    r = jnp.clip(jnp.sum(pts[..., None] > Rs[..., 1:3], -1), 0, 2)  # region index 0, 1, 2
    a_r = jnp.take_along_axis(R, r[..., None], -1)[..., 0]
    b_r = jnp.take_along_axis(R, r[..., None] + 1, -1)[..., 0]
    a_s, b_s = jax.lax.stop_gradient(a_r), jax.lax.stop_gradient(b_r)
    frac = jnp.clip((pts - a_s) / jnp.where(b_s > a_s, b_s - a_s, 1.0), 0.0, 1.0)
    inner = jnp.concatenate([a_r + (b_r - a_r) * frac, D[..., None], 2.0 * D[..., None]], -1)
    order = jnp.argsort(jax.lax.stop_gradient(inner), -1)
    inner = jnp.take_along_axis(inner, order, -1)
    ends = jnp.concatenate([w_lo[..., None], inner, w_max[..., None]], -1)
    a, c = ends[..., :-1], ends[..., 1:]

    Dn = D[..., None, None]  # against (..., M, n)
    sub = lambda x: x[..., None, None]  # noqa: E731

    def phis(u, with_sub=True):
        bb = Bath.tree_unflatten(
            (b.kind, b.cutoff, b.D), [sub(jnp.broadcast_to(getattr(b, n), shp)) for n in _LEAVES]
        )
        Su = _shape(bb, u)
        phi_l = Su * _coth(bb, u) * 2.0 * Dn / (Dn + u)
        phi_x = Su * _kappa(bb, u) * 2.0 * u / (Dn + u)
        return phi_l, phi_x

    uD = D[..., None, None]
    pl_D, px_D = (x[..., 0, 0] for x in phis(uD))

    def integrand(u):
        pl, px = phis(u)
        inside = u < 2.0 * Dn
        # a node exactly at Delta only occurs on a zero-width panel (weight 0): keep it finite
        at = u == Dn
        den = jnp.where(at, 1.0, Dn - u)
        fl = jnp.where(at, 0.0, pl - jnp.where(inside, pl_D[..., None, None], 0.0)) / den
        fx = jnp.where(at, 0.0, px - jnp.where(inside, px_D[..., None, None], 0.0)) / den
        return fl, fx

    (I_l, e_l), (I_x, e_x) = _gauss(integrand, a, c)
    # [0, w_lo]: one-point rule (the integrand is bounded there for s >= 1)
    f0l, f0x = (x[..., 0, 0] for x in integrand(w_lo[..., None, None]))
    I_l, I_x = I_l + w_lo * f0l, I_x + w_lo * f0x
    if b.cutoff == "drude":
        # tail [w_max, inf): w = w_max / t^2, dw = 2 w_max / t^3 dt
        t_ends = 1e-12 ** (1.0 - np.arange(_N_TAIL + 1) / _N_TAIL)
        ta = jnp.broadcast_to(t_ends[:-1], shp + (_N_TAIL,))
        tc = jnp.broadcast_to(t_ends[1:], shp + (_N_TAIL,))
        W = w_max[..., None, None]

        def tail(t):
            u = W / (t * t)
            pl, px = phis(u)
            jac = 2.0 * W / (t * t * t) / (Dn - u)
            return pl * jac, px * jac

        (tl, tel), (tx, tex) = _gauss(tail, ta, tc)
        I_l, I_x, e_l, e_x = I_l + tl, I_x + tx, e_l + tel, e_x + tex
    inv = 1.0 / (2.0 * np.pi)
    return I_l * inv, e_l * inv, I_x * inv, e_x * inv, w_max


class BathTerms(NamedTuple):
    """Everything :func:`bath_terms` derives from the baths (shapes: batch ``(...)``,
    per-bath fields ``(..., n_baths)``).

    J1, J2, K: rates at ``delta`` per bath (eq. 21). lamb: ``dDelta_1 - dDelta_2`` per bath.
    exchange: Omega per bath. lamb_error, exchange_error: their quadrature error estimates.
    gamma_phi: the dephasing rate of rho_23 (summed). lamb_ok, exchange_ok: per-bath accuracy
    flags; ok: every flag of the point. Failed outputs are NaN in ``lamb``/``exchange``.
    """

    J1: Array
    J2: Array
    K: Array
    lamb: Array
    exchange: Array
    lamb_error: Array
    exchange_error: Array
    gamma_phi: Array
    lamb_ok: Array
    exchange_ok: Array
    ok: Array


def _as_list(baths) -> list[Bath]:
    if isinstance(baths, Bath):
        return [baths]
    baths = list(baths)
    if not baths or not all(isinstance(b, Bath) for b in baths):
        raise ValueError("baths must be a Bath or a non-empty sequence of Bath objects")
    return baths


def bath_terms(baths: Bath | Sequence[Bath], delta=1.0) -> BathTerms:
    """Rates, Lamb-shift differences, exchange and dephasing of a sequence of baths.

    Traceable (jit, vmap, grad); inaccurate integrals give NaN with ``ok = False``.

    Example:
      >>> import jaxtls
      >>> t = jaxtls.bath_terms([jaxtls.Bath(T=2.0, g1=0.01, g2=0.02, gz=0.001)])
      >>> t.J1.shape, bool(t.ok), bool(t.lamb[0] < 0)  # TLS 2 coupled more: shifted more
      ((1,), True, True)
    """
    return _bath_terms(_as_list(baths), _checked_delta(delta))


def _checked_delta(delta):
    """``delta`` as float64; concrete values must be finite and > 0 (a ValueError naming it)."""
    if not isinstance(delta, jax.core.Tracer):
        d = np.asarray(delta, dtype=np.float64)
        if not np.all(np.isfinite(d)) or np.any(d <= 0):
            raise ValueError(f"delta (the TLS splitting) must be finite and > 0, got {delta}")
    return jnp.asarray(delta, jnp.float64)


@jax.jit
def _bath_terms(bl: list[Bath], delta) -> BathTerms:
    cols = {k: [] for k in ("J1", "J2", "K", "lamb", "exch", "el", "ex", "rate")}
    gamma_phi = 0.0
    for b in bl:
        I_l, e_l, I_x, e_x, w_max = pv_integrals(b, delta)
        cols["J1"].append(b.J1(delta))
        cols["J2"].append(b.J2(delta))
        cols["K"].append(b.K(delta))
        dg = (b.g1 - b.g2) * (b.g1 + b.g2)  # exactly 0 for g1 = g2 (no FMA residue)
        gg = b.g1 * b.g2
        cols["lamb"].append(dg * I_l)
        cols["el"].append(jnp.abs(dg) * e_l)
        cols["exch"].append(gg * I_x)
        phase = b.delay * w_max / _N_LIN
        cols["ex"].append(jnp.where(phase <= PHASE_MAX, jnp.abs(gg) * e_x, jnp.inf))
        warm = b.T > 0
        x = delta / jnp.where(warm, b.T, 1.0)
        up = jnp.where(warm, 1.0 / -jnp.expm1(-x), 1.0)  # 1 + n
        cols["rate"].append(jnp.maximum(cols["J1"][-1], cols["J2"][-1]) * up)
        ohmic = (b.s == 1.0) if b.kind == "power" else True
        gamma_phi = gamma_phi + jnp.where(ohmic, 2.0 * b.gz**2 * b.T, 0.0)
    st = {k: jnp.stack(jnp.broadcast_arrays(*v), -1) for k, v in cols.items()}
    scale = jnp.max(
        jnp.stack(jnp.broadcast_arrays(st["rate"], jnp.abs(st["lamb"]), jnp.abs(st["exch"])), -1),
        axis=(-1, -2),
    )[..., None]
    lamb_ok = st["el"] <= RTOL * scale
    exch_ok = st["ex"] <= RTOL * scale
    ok = jnp.all(lamb_ok & exch_ok, -1)
    return BathTerms(
        J1=st["J1"],
        J2=st["J2"],
        K=st["K"],
        lamb=jnp.where(lamb_ok, st["lamb"], jnp.nan),
        exchange=jnp.where(exch_ok, st["exch"], jnp.nan),
        lamb_error=st["el"],
        exchange_error=st["ex"],
        gamma_phi=jnp.asarray(gamma_phi, jnp.float64),
        lamb_ok=lamb_ok,
        exchange_ok=exch_ok,
        ok=ok,
    )


def model_from_baths(
    baths: Bath | Sequence[Bath], delta=1.0, bare_detuning=0.0, *, return_terms: bool = False
):
    """The :class:`jaxtls.Model` of two TLS coupled to ``baths`` (a Bath or a sequence of them).

    Bath n becomes bath n of the Model (trailing axis, in the order given); batch axes of the
    baths' leaves broadcast. Fields:
      T: ``(..., n)`` the bath temperatures.
      J: always the tuple form ``(J1, J2)``, each ``(..., n)``: ``J^(i)_n = g_i^2 S_n(delta)``
        (a tuple also when g1 = g2, so that jit and eager give the same structure).
      K: ``(..., n)``: ``g1 g2 S_n(delta) kappa_D(delta delay_n)``.
      detuning: ``bare_detuning + sum_n (dDelta_1 - dDelta_2)_n`` (Lamb shifts, see module doc).
      exchange: ``sum_n Omega_n``. xi: ``Gamma_phi / ((g+_1 + g+_2)/2)`` (0 when Gamma_phi = 0).
      delta: ``delta``.

    Concrete inputs are validated: an integral outside the documented accuracy raises
    ``ValueError`` here; under ``jit``/``vmap`` it is NaN (use :func:`bath_terms` for the
    flags). ``return_terms=True`` returns ``(model, BathTerms)``.

    Example:
      >>> import jaxtls
      >>> hot = jaxtls.Bath(T=5.0, g1=0.005, g2=0.001, omega_c=20.0)
      >>> cold = jaxtls.Bath(T=0.05, g1=0.01, g2=0.03, omega_c=20.0, D=1, delay=0.2)
      >>> m = jaxtls.model_from_baths([hot, cold])
      >>> m.n_baths, m.symmetric, bool(m.exchange < 0)
      (2, False, True)
      >>> rho = jaxtls.steady_state(m)
      >>> rho.matrix().shape, bool(rho.diagnostics.unique)
      ((4, 4), True)
    """
    bl = _as_list(baths)
    terms = bath_terms(bl, delta)
    T = jnp.stack(jnp.broadcast_arrays(*[b.T for b in bl]), -1)
    T, J1, J2, K = jnp.broadcast_arrays(T, terms.J1, terms.J2, terms.K)
    delta = jnp.asarray(delta, jnp.float64)
    bare = jnp.asarray(bare_detuning, jnp.float64)
    warm = T > 0
    x = delta[..., None] / jnp.where(warm, T, 1.0)
    up = jnp.where(warm, 1.0 / -jnp.expm1(-x), 1.0)
    gplus = 0.5 * jnp.sum((J1 + J2) * up, -1)
    gp = terms.gamma_phi
    xi = jnp.where(gp == 0, 0.0, gp / jnp.where(gplus > 0, gplus, jnp.nan))
    detuning = bare + jnp.sum(terms.lamb, -1)
    exchange = jnp.sum(terms.exchange, -1)
    leaves = [T, (J1, J2), K, xi, delta, detuning, exchange]
    concrete = all(_is_concrete(x) for x in jax.tree_util.tree_leaves(leaves))
    if concrete:
        _raise_if_bad(terms, bl, xi)
        model = Model(
            T=T, J=(J1, J2), K=K, xi=xi, delta=delta, detuning=detuning, exchange=exchange
        )
    else:
        model = Model.tree_unflatten(None, leaves)
    return (model, terms) if return_terms else model


def _raise_if_bad(terms: BathTerms, bl, xi) -> None:
    for name, flag, err in (
        ("Lamb-shift difference", terms.lamb_ok, terms.lamb_error),
        ("exchange", terms.exchange_ok, terms.exchange_error),
    ):
        bad = ~np.asarray(flag)
        if np.any(bad):
            idx = tuple(int(i) for i in np.argwhere(bad)[0])
            raise ValueError(
                f"{name} of bath {idx[-1]} (at index {idx}) is outside the documented accuracy "
                f"(error estimate {float(np.asarray(err)[idx]):.3g} > RTOL={RTOL:g} x the largest "
                "rate; for an oscillating kappa_D, delay * w_max / 96 must be <= PHASE_MAX)"
            )
    if not np.all(np.isfinite(np.asarray(xi))):
        raise ValueError(
            "xi is undefined: a longitudinal dephasing (gz != 0) without any transverse rate "
            "(all g1, g2 zero at delta)"
        )
