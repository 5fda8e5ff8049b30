"""Golden-rule rates of the two TLS (paper eqs. 21-22, ``physics.md`` "Rates").

Two views of the same numbers:

* :func:`rates` gives the physical rates of the paper, in the units of J (per TLS and cross).
* :func:`bell_channels` gives the rates of the Bell-basis channels |1> <-> |psi+-> <-> |4>,
  each a sum over baths of non-negative terms such as ``(J^(1)_n + J^(2)_n)/2 - K_n``. The
  solvers use them because they stay accurate next to the non-unique manifold (K_n -> J_n on
  every bath), where the differences ``g+ - beta_4`` of the paper's notation cancel to zero.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from .model import Model

Array = jax.Array


def bose(T, delta=1.0) -> Array:
    """Bose factor ``n = 1/(exp(delta/T) - 1)``, 0 at ``T = 0``; broadcasts; float64.

    Example:
      >>> import jaxtls
      >>> round(float(jaxtls.bose(1.0, 1.0)), 12)  # 1/(e - 1)
      0.581976706869
    """
    T = jnp.asarray(T, jnp.float64)
    delta = jnp.asarray(delta, jnp.float64)
    warm = T > 0
    x = jnp.where(warm, delta / jnp.where(warm, T, 1.0), 1.0)
    return jnp.where(warm, 1.0 / jnp.expm1(x), 0.0)


def bath_weights(T, delta) -> tuple[Array, Array]:
    """``(delta (1 + n), delta n)``: emission and absorption weights times ``delta``.

    Multiplying every rate by ``delta`` leaves the steady state unchanged and keeps both
    weights finite for ``delta -> 0`` (they tend to ``T``) and for ``T -> 0`` (``delta, 0``).
    Written with safe branches so that values and gradients are finite at ``T = 0``; the
    first derivatives are closed forms (a custom JVP), exact to rounding also for ``T >> delta``,
    where autodiff of the weights lost ``log10(T/delta)`` digits and gave NaN from
    ``T/delta ~ 1e154`` on.

    Example:
      >>> import jax, jaxtls
      >>> wd, wu = jaxtls.bath_weights(2.0, 1.0)  # 1/(1 - e^-1/2), e^-1/2 of it
      >>> round(float(wd), 6), round(float(wu), 6), round(float(wd - wu), 12)
      (2.541494, 1.541494, 1.0)
      >>> round(float(jax.grad(lambda T: jaxtls.bath_weights(T, 1.0)[0])(1e200)), 12)
      1.0
    """
    T = jnp.asarray(T, jnp.float64)
    delta = jnp.asarray(delta, jnp.float64)
    return _weights(T, delta)


def _delta_over_T(T, delta):
    warm = T > 0
    return warm, jnp.where(warm, delta / jnp.where(warm, T, 1.0), jnp.inf)  # inf at T = 0


@jax.custom_jvp
def _weights(T, delta):
    _, x = _delta_over_T(T, delta)
    # delta/(1 - e^-x) = delta (1 + n); at delta = 0 (x = 0) its limit T.
    pos = x > 0
    wd = jnp.where(pos, delta / -jnp.expm1(-jnp.where(pos, x, 1.0)), T)
    wu = wd * jnp.exp(-x)
    return wd, wu


# (sinh x - x) / x^3 = sum_k x^2k / (2k + 3)!, to float64 accuracy for x < 1 (9 terms)
_SINH_TAIL = [1.0 / float(np.prod(np.arange(1, 2 * k + 4), dtype=np.float64)) for k in range(9)]


@_weights.defjvp
def _weights_jvp(primals, tangents):
    """With ``wd = T f(x)``, ``f(x) = x / (1 - e^-x)``, ``x = delta/T``, ``wu = wd - delta``:
    ``d/dT = (x / (2 sinh(x/2)))^2`` (both weights), ``d wd/d delta = f'(x)``. For ``x < 1``
    ``f'(x) = 1/2 + x P(x^2) (x / (2 sinh(x/2)))^2`` with the series ``P`` of
    ``(sinh x - x)/x^3`` (no cancellation); above, with ``q = e^-x``, ``m = 1 - q``:
    ``f' = (m - x q)/m^2`` and ``d wu/d delta = f' - 1 = q (1 - x - q)/m^2``."""
    (T, delta), (dT, dd) = primals, tangents
    warm, x = _delta_over_T(T, delta)
    finite = warm & jnp.isfinite(x)
    xs = jnp.where(finite, x, 1.0)
    h = 0.5 * xs
    # h / sinh(h): as 2 h e^-h / (1 - e^-2h) above 1 (sinh overflows beyond 710, and with it
    # the second derivative), with its limit 1 at h = 0
    big = h > 1.0
    hb, hs = jnp.where(big, h, 1.0), jnp.where(big | (h == 0), 1.0, h)
    ratio_big = 2.0 * hb * jnp.exp(-hb) / -jnp.expm1(-2.0 * hb)
    ratio = jnp.where(big, ratio_big, jnp.where(h > 0, hs / jnp.sinh(hs), 1.0))
    g_T = jnp.where(finite, ratio * ratio, 0.0)
    series = 0.5 + xs * jnp.polyval(jnp.asarray(_SINH_TAIL[::-1]), xs * xs) * ratio * ratio
    small = xs < 1.0
    xl = jnp.where(small, 1.0, xs)  # not maximum: its derivative at x = 1 is 1/2
    q, m = jnp.exp(-xl), -jnp.expm1(-xl)
    g_d = jnp.where(small, series, (m - xl * q) / (m * m))
    g_u = jnp.where(small, series - 1.0, q * (1.0 - xl - q) / (m * m))
    g_d, g_u = jnp.where(finite, g_d, 1.0), jnp.where(finite, g_u, 0.0)  # T = 0: wd = delta
    d_T = g_T * dT
    return _weights(T, delta), (d_T + g_d * dd, d_T + g_u * dd)


def per_bath(x) -> list[Array]:
    """Split the trailing bath axis into a list of ``(...)`` arrays (the bath count is static).

    Sums over baths are then unrolled adds of contiguous arrays: on CPU, XLA vectorises those
    inside one fused loop, whereas a reduction over a trailing axis of size 2 or 3 runs as a
    slow, unvectorised kernel (measured ~10x slower on 1e6 points).
    """
    return list(jnp.moveaxis(jnp.asarray(x), -1, 0))


def bath_sum(x) -> Array:
    """Sum over the trailing bath axis, unrolled (see :func:`per_bath`)."""
    parts = per_bath(x)
    return sum(parts[1:], start=parts[0])


def bath_all(x) -> Array:
    """Logical and over the trailing bath axis, unrolled (see :func:`per_bath`)."""
    parts = per_bath(x)
    out = parts[0]
    for part in parts[1:]:
        out = out & part
    return out


class Rates(NamedTuple):
    """Physical rates of the paper (eqs. 21-22), in the units of J; shapes ``(...)``.

    Attributes:
      g_down: ``(..., 2)`` downward rates ``g+_i = sum_n J^(i)_n (1 + n_n)``.
      g_up: ``(..., 2)`` upward rates ``g-_i = sum_n J^(i)_n n_n``.
      beta4: ``sum_n K_n (1 + n_n)``.
      beta1: ``sum_n K_n n_n``.
      gamma: mean downward rate ``(g+_1 + g+_2)/2`` (the paper's gamma when symmetric).
      eta: ``(g-_1 + g-_2) / (g+_1 + g+_2)``.
      beta: ``beta4``.
      eta_prime: ``beta1 / beta4`` (NaN where ``beta4 = 0``).
      xi: dephasing in units of ``gamma``.
      gamma_phi: pure-dephasing rate of rho_23, ``xi * gamma``.
      alpha: decay rate of rho_23, ``(g+_1 + g-_1 + g+_2 + g-_2)/2 + gamma_phi`` (real; the
        detuning enters as ``alpha -> alpha + i detuning``).
    """

    g_down: Array
    g_up: Array
    beta4: Array
    beta1: Array
    gamma: Array
    eta: Array
    beta: Array
    eta_prime: Array
    xi: Array
    gamma_phi: Array
    alpha: Array


def rates(model: Model) -> Rates:
    """The paper's rates for ``model`` (batched over leading axes, jit/vmap/grad-safe).

    Example:
      >>> import jaxtls
      >>> r = jaxtls.rates(jaxtls.Model(T=[0.0, 0.0], J=[1.0, 2.0], K=[0.0, 1.0]))
      >>> r.g_down.tolist(), float(r.beta4), float(r.eta)
      ([3.0, 3.0], 1.0, 0.0)
    """
    delta = jnp.asarray(model.delta)[..., None]
    wd, wu = bath_weights(model.T, delta)
    inv = 1.0 / delta  # rates = weights / delta (inf at delta = 0, where the state is I/4)
    J = jnp.stack(jnp.broadcast_arrays(model.J1, model.J2), axis=-2)  # (..., 2, n)
    g_down = bath_sum(J * (wd * inv)[..., None, :])
    g_up = bath_sum(J * (wu * inv)[..., None, :])
    beta4 = bath_sum(model.K * wd * inv)
    beta1 = bath_sum(model.K * wu * inv)
    gamma = 0.5 * jnp.sum(g_down, -1)
    eta = jnp.sum(g_up, -1) / jnp.sum(g_down, -1)
    safe_b = jnp.where(beta4 != 0, beta4, 1.0)
    eta_prime = jnp.where(beta4 != 0, beta1 / safe_b, jnp.nan)
    xi = jnp.asarray(model.xi)
    gamma_phi = xi * gamma
    alpha = 0.5 * (jnp.sum(g_down, -1) + jnp.sum(g_up, -1)) + gamma_phi
    return Rates(g_down, g_up, beta4, beta1, gamma, eta, beta4, eta_prime, xi, gamma_phi, alpha)


class BellChannels(NamedTuple):
    """Bell-basis channel rates, all multiplied by ``delta`` (which leaves the state unchanged).

    With ``S+- = (s_1 +- s_2)/sqrt 2`` the dissipator has Kossakowski matrices
    ``[[a, c], [c, b]]`` (emission, jumps S+, S-) and ``[[a_up, c_up], [c_up, b_up]]``
    (absorption), where per bath ``A = (J1 + J2)/2 + K`` (psi+ channel), ``B = (J1 + J2)/2 - K``
    (psi- channel), ``C = (J1 - J2)/2`` (mixing, zero for symmetric coupling). Shapes ``(...)``.
    """

    a: Array
    b: Array
    c: Array
    a_up: Array
    b_up: Array
    c_up: Array
    gamma_phi: Array  # pure dephasing rate of rho_23 (times delta)
    detuning: Array  # Delta_1 - Delta_2 (times delta)
    exchange: Array  # Omega of H_x = Omega (s1^dag s2 + s2^dag s1) (times delta)


def _split(x):
    """Dekker's split of a float64 into two halves of 26 bits (their products are exact)."""
    t = 134217729.0 * x  # 2**27 + 1
    hi = t - (t - x)
    return hi, x - hi


def _two_product(a, b):
    """``(p, e)`` with ``p + e = a b`` exactly (Dekker, no FMA needed)."""
    p = a * b
    ah, al = _split(a)
    bh, bl = _split(b)
    return p, ((ah * bh - p) + ah * bl + al * bh) + al * bl


def psi_channels(J1, J2, K, symmetric=False):
    """Per-bath psi+ and psi- channel strengths ``A = (J1 + J2)/2 + K``, ``B = (J1 + J2)/2 - K``.

    The smaller of the two (``B`` for ``K > 0``) is computed without cancellation, as
    ``(J1 - J2)^2 / (2 (sqrt J1 + sqrt J2)^2) + (J1 J2 - K^2) / (sqrt(J1 J2) + |K|)`` with the
    exact products of :func:`_two_product`, so it keeps full relative accuracy next to the
    rank-one limit ``|K| -> sqrt(J1 J2)`` also for TLS coupled slightly differently. For
    ``J1 = J2`` the plain difference ``J - |K|`` is already exact and is used.

    ``symmetric=True`` (static: ``J1`` and ``J2`` are the same array) takes ``J +- K``
    directly, which is exact there and avoids the extra work.

    Example:
      >>> import jax.numpy as jnp
      >>> A, B = psi_channels(jnp.array(1.0), jnp.array(4.0), jnp.array(2.0 * (1 - 1e-12)))
      >>> float(A), float(B / (0.5 + 2e-12))  # exact B = (1 - 2)^2/2 + 2e-12
      (4.499999999998, 1.0)
    """
    if symmetric:
        return J1 + K, J1 - K
    mean = 0.5 * (J1 + J2)
    pos = K >= 0
    k = jnp.where(pos, K, -K)  # |K| with derivative +-1 also at K = 0 (jnp.abs gives 0 there)
    plain = mean - k
    # The plain difference loses at most one bit where it is at least half the mean; only
    # below that (|K| -> sqrt(J1 J2) > 0) the subtraction-free form is needed. Its two terms
    # have infinite, cancelling derivatives where J1 J2 = 0 (a TLS not coupled to the bath):
    # they are evaluated on safe inputs only, so gradients stay finite there.
    hard = (plain < 0.5 * mean) & (J1 != J2)
    J1s, J2s, ks = (jnp.where(hard, x, y) for x, y in ((J1, 1.0), (J2, 1.0), (k, 0.0)))
    p, e = _two_product(J1s, J2s)
    q, f = _two_product(ks, ks)
    gap = (p - q) + (e - f)  # J1 J2 - K^2, accurate to its own size
    root = jnp.sqrt(p)
    # (J1 - J2)^2 / (2 (sqrt J1 + sqrt J2)^2) + (J1 J2 - K^2) / (sqrt(J1 J2) + |K|)
    small = 0.5 * (J1s - J2s) ** 2 / (J1s + J2s + 2.0 * root) + gap / (root + ks)
    small = jnp.where(hard, jnp.maximum(small, 0.0), plain)
    big = mean + k
    return jnp.where(pos, big, small), jnp.where(pos, small, big)


def channel_strengths(model: Model) -> tuple[Array, Array, Array]:
    """Per-bath ``(A, B, C)`` of :class:`BellChannels` (psi+, psi-, mixing), ``(..., n_baths)``."""
    A, B = psi_channels(model.J1, model.J2, model.K, model.symmetric)
    return A, B, 0.5 * (model.J1 - model.J2)


def bell_channels(model: Model) -> BellChannels:
    """Channel rates of ``model`` for the solvers (see :class:`BellChannels`).

    Example:
      >>> import jaxtls
      >>> ch = jaxtls.bell_channels(jaxtls.Model(T=[0.0], J=[2.0], K=[2.0]))
      >>> float(ch.a), float(ch.b)  # psi+ bright (2 J), psi- dark
      (4.0, 0.0)
    """
    delta = jnp.asarray(model.delta)
    # Non-negative per-bath terms, each accurate to its own size however close |K_n| is to
    # sqrt(J1_n J2_n) (psi_channels): the sums over baths then have no cancellation. Bath by
    # bath on (...)-shaped slices: the reverse pass of the steady state's implicit VJP
    # (jaxtls.steady_state) runs through here, 3.8x faster than with whole (..., n_baths)
    # arrays reduced at the end (measured, 2e5 points).
    strengths = channel_strengths(model)
    a = b = c = a_up = b_up = c_up = 0.0
    for i in range(model.n_baths):
        wd, wu = bath_weights(model.T[..., i], delta)
        A, B, C = (X[..., i] for X in strengths)
        a, b, c = a + wd * A, b + wd * B, c + wd * C
        a_up, b_up, c_up = a_up + wu * A, b_up + wu * B, c_up + wu * C
    gamma_phi = jnp.asarray(model.xi) * 0.5 * (a + b)
    return BellChannels(
        a, b, c, a_up, b_up, c_up, gamma_phi, delta * model.detuning, delta * model.exchange
    )
