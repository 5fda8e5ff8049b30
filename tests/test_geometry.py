"""Bath geometry: K/J versus distance and dimensionality (sec. IV C 2)."""

import jax
import numpy as np
import pytest
from scipy import special

import jaxtls


def test_kappa_per_dimension_against_scipy():
    d = np.concatenate([[0.0], np.geomspace(1e-6, 200, 4000)])
    np.testing.assert_allclose(jaxtls.kappa(d, 1), np.cos(d), atol=1e-15)
    np.testing.assert_allclose(jaxtls.kappa(d, 2), special.j0(d), atol=1e-14)
    np.testing.assert_allclose(jaxtls.kappa(d, 3), np.sinc(d / np.pi), atol=1e-15)


@pytest.mark.parametrize("D", [1, 2, 3])
def test_kappa_gradient_and_bounds(D):
    d = np.linspace(0, 50, 501)
    g = jax.vmap(jax.grad(lambda x: jaxtls.kappa(x, D)))(d)
    want = {1: -np.sin(d), 2: -special.j1(d), 3: np.gradient(np.sinc(d / np.pi), d)}[D]
    np.testing.assert_allclose(g, want, atol=1e-12 if D < 3 else 2e-2)
    assert np.all(np.abs(np.asarray(jaxtls.kappa(d, D))) <= 1 + 1e-15)


def test_cross_coupling_respects_the_bound():
    K = jaxtls.cross_coupling(2.0, 8.0, np.linspace(0, 30, 301), 2)
    assert np.all(K**2 <= 16.0 * (1 + 1e-15)) and float(K[0]) == 4.0


def test_bad_geometry_is_rejected():
    with pytest.raises(ValueError, match="D \\(bath dimensionality\\) must be 1, 2 or 3"):
        jaxtls.kappa(1.0, 4)
    with pytest.raises(ValueError, match="dbar"):
        jaxtls.kappa(-1.0, 1)
