"""Name the regime of a two-TLS state: Bell weights, nearest ideal state, fidelity.

The ideal states are diagonal in the Bell basis ``(|1> = |++>, |psi+>, |psi->, |4> = |-->)``
and are given by their Bell weights (:data:`REGIMES`). The fidelity is Uhlmann's,
``F(rho, sigma) = (tr sqrt(sqrt(sigma) rho sqrt(sigma)))^2``, computed with numpy (this is a
reporting tool, not a differentiable one).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

import jaxtls

_S = 2**-0.5
# Columns: |1>, |psi+>, |psi->, |4> in the basis |++>, |+->, |-+>, |-->.
BELL = np.array([[1, 0, 0, 0], [0, _S, _S, 0], [0, _S, -_S, 0], [0, 0, 0, 1]], np.float64)

# label -> (regime name, Bell weights). Labels distinguish variants of one regime.
REGIMES = {
    "2/3|++> + 1/3|psi->": ("2/3-1/3", (2 / 3, 0, 1 / 3, 0)),
    "2/3|++> + 1/3|psi+>": ("2/3-1/3", (2 / 3, 1 / 3, 0, 0)),
    "1/2|++> + 1/2|psi->": ("1/2-1/2", (0.5, 0, 0.5, 0)),
    "1/2|++> + 1/2|psi+>": ("1/2-1/2", (0.5, 0.5, 0, 0)),
    "|++>": ("ground", (1, 0, 0, 0)),
    "|-->": ("excited", (0, 0, 0, 1)),
    "|psi->": ("bell", (0, 0, 1, 0)),
    "|psi+>": ("bell", (0, 1, 0, 0)),
    "I/4": ("maximally mixed", (0.25, 0.25, 0.25, 0.25)),
}


class Classification(NamedTuple):
    """Result of :func:`classify`; shapes ``(...)`` for a batch of states.

    Attributes:
      regime: name of the nearest ideal regime ("2/3-1/3", "1/2-1/2", "ground", "excited",
        "bell", "maximally mixed"); a str for one state, an array of str for a batch.
      ideal: label of the nearest ideal state, e.g. ``"2/3|++> + 1/3|psi->"``.
      fidelity: Uhlmann fidelity to it, in ``[0, 1]``.
      bell_weights: ``(..., 4)`` weights of ``|++>, |psi+>, |psi->, |-->``.
      fidelities: label -> fidelity to every ideal state.
    """

    regime: object
    ideal: object
    fidelity: object
    bell_weights: np.ndarray
    fidelities: dict


def _as_matrix(rho) -> np.ndarray:
    if isinstance(rho, jaxtls.XState):
        rho = rho.matrix()
    rho = np.asarray(rho)
    if rho.shape[-2:] != (4, 4):
        raise ValueError(f"expected a (..., 4, 4) density matrix or an XState, got {rho.shape}")
    return rho.astype(np.complex128)


def fidelity(rho, weights) -> np.ndarray:
    """Uhlmann fidelity of ``rho`` (``(..., 4, 4)`` or XState) to the state with Bell weights
    ``weights`` (length 4), shape ``(...)``.

    Example:
      >>> import numpy as np
      >>> round(float(fidelity(np.eye(4) / 4, (1, 0, 0, 0))), 6)
      0.25
    """
    rho = _as_matrix(rho)
    q = np.asarray(weights, np.float64)
    if q.shape != (4,) or np.any(q < 0) or not np.isclose(q.sum(), 1):
        raise ValueError(f"weights must be 4 non-negative numbers summing to 1, got {weights}")
    sq = BELL @ np.diag(np.sqrt(q)) @ BELL.T
    m = sq @ rho @ sq
    m = 0.5 * (m + np.conj(np.swapaxes(m, -1, -2)))
    ev = np.linalg.eigvalsh(m)
    return np.sum(np.sqrt(np.clip(ev, 0, None)), axis=-1) ** 2


def classify(rho) -> Classification:
    """Bell weights, nearest ideal regime and the fidelity to it.

    Args:
      rho: ``(..., 4, 4)`` density matrix (basis |++>, |+->, |-+>, |-->) or a
        :class:`jaxtls.XState`.

    Returns:
      :class:`Classification` (scalars for one state, arrays for a batch). NaN states get
      regime ``"undefined"`` and fidelity NaN.

    Example:
      >>> import jaxtls
      >>> from jaxtls import optimize
      >>> s = jaxtls.steady_state(jaxtls.Model(T=[30.0, 1e-3], J=[1.0, 1e6], K=[0.0, 1e6]))
      >>> c = optimize.classify(s)
      >>> c.regime, c.ideal, c.fidelity > 0.99
      ('2/3-1/3', '2/3|++> + 1/3|psi->', True)
    """
    rho = _as_matrix(rho)
    bad = ~np.all(np.isfinite(rho), axis=(-2, -1))
    rho = np.where(bad[..., None, None], np.eye(4) / 4, rho)
    weights = np.real(np.einsum("ai,...ab,bi->...i", BELL, rho, BELL))
    labels = list(REGIMES)
    fids = np.stack([fidelity(rho, REGIMES[k][1]) for k in labels], axis=-1)
    best = np.argmax(fids, axis=-1)
    ideal = np.asarray(labels, dtype=object)[best]
    regime = np.asarray([REGIMES[k][0] for k in labels], dtype=object)[best]
    fid = np.take_along_axis(fids, best[..., None], axis=-1)[..., 0]
    ideal = np.where(bad, "undefined", ideal)
    regime = np.where(bad, "undefined", regime)
    fid = np.where(bad, np.nan, fid)
    weights = np.where(bad[..., None], np.nan, weights)
    fid_d = {k: np.where(bad, np.nan, fids[..., i]) for i, k in enumerate(labels)}
    if rho.ndim == 2:
        return Classification(
            str(regime), str(ideal), float(fid), weights, {k: float(v) for k, v in fid_d.items()}
        )
    return Classification(regime, ideal, fid, weights, fid_d)


# Lowering operators s_i = |+><-|_i in the basis |++>, |+->, |-+>, |--> (first symbol TLS 1).
_S1 = np.zeros((4, 4))
_S1[0, 2] = _S1[1, 3] = 1.0
_S2 = np.zeros((4, 4))
_S2[0, 1] = _S2[2, 3] = 1.0


def transition_rates(model: jaxtls.Model, initial, final) -> np.ndarray:
    """Golden-rule rates of the jumps ``initial -> final`` (pure states), bath by bath.

    For bath n with coupling matrix ``G_n = [[J^(1)_n, K_n], [K_n, J^(2)_n]]`` the emission
    rate is ``(1 + n_n) v^T G_n v*`` with ``v_i = <final|s_i|initial>`` and the absorption
    rate ``n_n w^T G_n w*`` with ``w_i = <final|s_i^dag|initial>`` (the dissipator of
    ``physics.md``); a reporting tool (numpy, one unbatched model).

    Args:
      model: a :class:`jaxtls.Model` with batch shape ``()``.
      initial, final: 4-vectors in the basis ``|++>, |+->, |-+>, |-->`` (normalised here).

    Returns:
      ``(n_baths, 2)``: columns emission, absorption.

    Example (the paper's 2/3-1/3 regime: bath 1 pumps |++> -> psi- and psi- -> |-->
    equally, bath 2 never touches psi-):
      >>> import jaxtls, numpy as np
      >>> m = jaxtls.Model(T=[30.0, 1e-3], J=[1.0, 1e6], K=[0.0, 1e6])
      >>> psi_m = np.array([0, 1, -1, 0]) / 2**0.5
      >>> up = transition_rates(m, [1, 0, 0, 0], psi_m)
      >>> down = transition_rates(m, psi_m, [0, 0, 0, 1])
      >>> round(float(up[0, 1] / down[0, 1]), 12), float(up[1].sum() + down[1].sum())
      (1.0, 0.0)
    """
    a = np.asarray(initial, np.complex128)
    b = np.asarray(final, np.complex128)
    a, b = a / np.linalg.norm(a), b / np.linalg.norm(b)
    T = np.asarray(model.T, np.float64)
    J1, J2 = np.asarray(model.J1, np.float64), np.asarray(model.J2, np.float64)
    K = np.asarray(model.K, np.float64)
    if T.ndim != 1:
        raise ValueError("transition_rates needs an unbatched model (batch shape ())")
    n = np.asarray(jaxtls.bose(T, np.asarray(model.delta)))
    v = np.array([b.conj() @ _S1 @ a, b.conj() @ _S2 @ a])
    w = np.array([b.conj() @ _S1.T @ a, b.conj() @ _S2.T @ a])
    out = np.zeros((T.size, 2))
    for k in range(T.size):
        G = np.array([[J1[k], K[k]], [K[k], J2[k]]])
        out[k, 0] = (1 + n[k]) * np.real(v @ G @ v.conj())
        out[k, 1] = n[k] * np.real(w @ G @ w.conj())
    return out


def dark_state(model: jaxtls.Model, bath: int) -> np.ndarray:
    """The one-excitation state that bath ``bath`` (1-based) cannot empty into ``|++>``:
    ``x|+-> + y|-+>`` with ``(y, x)`` the eigenvector of the smallest eigenvalue of
    ``G_bath``; a 4-vector in the basis ``|++>, |+->, |-+>, |-->``.

    Example:
      >>> import jaxtls
      >>> d = dark_state(jaxtls.Model(T=[1.0], J=[2.0], K=[2.0]), 1)
      >>> np.round(d * np.sign(d[1]), 6).tolist()  # psi- for K = +J
      [0.0, 0.707107, -0.707107, 0.0]
    """
    k = bath - 1
    J1, J2, K = (float(np.asarray(x)[k]) for x in (model.J1, model.J2, model.K))
    _, vecs = np.linalg.eigh(np.array([[J1, K], [K, J2]]))
    y, x = vecs[:, 0]
    return np.array([0.0, x, y, 0.0])
