"""Shared fixtures and random parameter generators for the jaxtls tests."""

import os

import numpy as np
import pytest
from hypothesis import settings

import jaxtls  # noqa: F401  (enables float64 before any test builds arrays)

settings.register_profile("ci", max_examples=60, deadline=None, derandomize=True)
settings.register_profile("dev", max_examples=30, deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else "dev")


def random_params(rng, n_points, n_baths=2, symmetric=True, log_j=(-3, 3), log_t=(-2, 2)):
    """Random physical parameters (numpy): T, J (or (J1, J2)), K, xi."""
    T = 10 ** rng.uniform(*log_t, (n_points, n_baths))
    J1 = 10 ** rng.uniform(*log_j, (n_points, n_baths))
    J2 = J1 if symmetric else 10 ** rng.uniform(*log_j, (n_points, n_baths))
    K = rng.uniform(-1, 1, (n_points, n_baths)) * np.sqrt(J1 * J2)
    xi = np.where(rng.random(n_points) < 0.5, 0.0, 10 ** rng.uniform(-3, 0, n_points))
    return T, (J1 if symmetric else (J1, J2)), K, xi


@pytest.fixture
def rng():
    return np.random.default_rng(12345)
