"""optimize.geometry_study: largest N versus the distance dbar for D = 1, 2, 3, the threshold
kappa* and the largest distance at which entanglement survives (issue 4, item 4)."""

import math

import numpy as np
import pytest

import jaxtls
from jaxtls import optimize

# Threshold of the paper's box (J2/J1 <= 1e6) from eq. (25) with K_1 = -J_1:
# (1 + r)^2 - (k r - 1)^2 - (k r - 1)(k r + r) = 0  ->  k = 1/2 + 3/(2 r).
KSTAR = 0.5 + 1.5e-6
DBAR = np.array([0.0, 0.5, 1.0, 1.3, 1.7, 2.5, 3.0, np.pi, 6.0])
SETTINGS = dict(n_starts=16, steps=200, polish_steps=50)


@pytest.fixture(scope="module")
def study():
    return optimize.geometry_study(DBAR, **SETTINGS)


def test_threshold_matches_eq_25(study):
    assert study.kappa_threshold == pytest.approx(KSTAR, abs=2e-5)
    # The profile max margin(|kappa_2|) changes sign there, and only there.
    k, m = study.kappa_grid, study.margin
    assert np.all(m[k < KSTAR - 1e-3] < 0) and np.all(m[k > KSTAR + 1e-3] > 0)


def test_largest_distances(study):
    # D = 1: cos(dbar) comes back to +-1 at every multiple of pi, so entanglement survives
    # at any distance (the paper's claim), in windows |dbar - m pi| < arccos(kappa*).
    assert math.isinf(study.dbar_max[1])
    a = math.acos(KSTAR)
    assert study.dbar_entanglement_lost[1] == pytest.approx(a, abs=1e-4)
    assert study.dbar_first_separable[1] <= 1.5  # |cos 1.5| = 0.07: the search finds N = 0
    w = study.windows[1]
    assert w[0][0] == 0.0 and w[1] == pytest.approx((math.pi - a, math.pi + a), abs=1e-4)
    # D = 2, 3: one window from 0; |J_0| and |sin x / x| never come back above 1/2.
    expect = {2: 1.5211, 3: 1.8955}  # J_0(x) = 1/2, sin(x)/x = 1/2
    for D, x in expect.items():
        assert study.dbar_max[D] == pytest.approx(x, abs=1e-3)
        assert study.dbar_entanglement_lost[D] == study.dbar_max[D]
        assert len(study.windows[D]) == 1
        assert abs(float(jaxtls.kappa(study.dbar_max[D], D))) == pytest.approx(
            study.kappa_threshold, abs=1e-9
        )


def test_negativity_versus_distance(study):
    N = study.negativity
    assert N.shape == (3, DBAR.size)
    np.testing.assert_allclose(N[:, 0], N[0, 0])  # dbar = 0: kappa = 1 for every D
    assert N[0, 0] > 0.039 and N[0, 7] > 0.039  # D = 1 at dbar = pi: kappa = -1
    # The search finds N > 0 only where |kappa(dbar, D)| > kappa* ...
    for i, D in enumerate((1, 2, 3)):
        kap = np.abs(np.asarray(jaxtls.kappa(DBAR, D)))
        assert np.all(N[i][kap < study.kappa_threshold] == 0)
        # ... and N > 0 wherever |kappa| is clearly above it.
        assert np.all(N[i][kap > 0.6] > 1e-7)
        # N decreases with |kappa| (N_max depends on dbar only through |kappa|).
        order = np.argsort(kap)
        assert np.all(np.diff(N[i][order]) >= -1e-6)
    # The grid columns agree with the precise boundaries.
    for D in (2, 3):
        assert study.dbar_last_entangled[D] < study.dbar_max[D] < study.dbar_first_separable[D]


def test_plot(study, tmp_path):
    paths = optimize.plot_geometry_study(study, tmp_path / "geo")
    assert [p[-3:] for p in paths] == ["png", "pdf"]
    assert all((tmp_path / p).stat().st_size > 5000 for p in paths)


def test_entangled_windows():
    w = optimize.entangled_windows(1, 0.5, 10.0)
    assert len(w) == 4 and w[0] == pytest.approx((0.0, math.pi / 3), abs=1e-9)
    assert w[-1][1] == 10.0  # cut at the end of the range
    assert optimize.entangled_windows(3, 1.0, 5.0) == []


def test_bad_study_inputs():
    with pytest.raises(ValueError, match="D must be 1, 2 or 3"):
        optimize.geometry_study([0.0, 1.0], dims=(5,))
    with pytest.raises(ValueError, match="dbar must be"):
        optimize.geometry_study([-1.0, 1.0])
    with pytest.raises(ValueError, match="geometry on bath 2"):
        optimize.geometry_study([0.0], space=optimize.paper())
