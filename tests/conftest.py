"""Shared fixtures and random parameter generators for the jaxtls tests."""

import os
from pathlib import Path

# JAX's persistent compilation cache for the whole session, set before anything compiles (jax
# reads it once): compiling dominates the suite on a CPU, and the cache is keyed on the program
# (HLO and options), so the same program built by another function object, test, CLI
# subprocess, notebook kernel or distributed process (they inherit the environment) compiles
# once. An existing JAX_COMPILATION_CACHE_DIR is kept; nothing tested depends on compiling.
_CACHE = os.environ.setdefault(
    "JAX_COMPILATION_CACHE_DIR", str(Path(__file__).parents[1] / ".pytest_cache" / "jax-cache")
)
os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0.1")

import jax  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from hypothesis import settings  # noqa: E402

for _name, _kind in [
    ("jax_compilation_cache_dir", str),  # also where jax was imported before this file
    ("jax_persistent_cache_min_compile_time_secs", float),
]:
    jax.config.update(_name, _kind(os.environ[_name.upper()]))

import jaxtls  # noqa: E402, F401  (enables float64 before any test builds arrays)

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


def run_fast_once(module, tmp_path_factory):
    """``(result, out)``: one ``--fast`` run of the experiment ``module`` into a fresh folder
    (the experiment tests' module-scoped fixtures; each file runs its experiment once)."""
    out = str(tmp_path_factory.mktemp(module.NAME))
    return module.run(out=out, fast=True, progress=False), out


def assert_checked_claims_agree(result, at_least):
    """At least ``at_least`` of the run's claims are checked, and every checked one agrees."""
    checked = [c for c in result["claims"] if c["agree"] is not None]
    assert len(checked) >= at_least, [c["claim"] for c in checked]
    bad = [(c["claim"], c["computed"], c["note"]) for c in checked if not c["agree"]]
    assert not bad, bad


def assert_files_exist(result):
    """Every figure and data file the run lists is there and not empty."""
    for path in result["figures"] + result["data"]:
        assert os.path.isfile(path) and os.path.getsize(path) > 0, path
