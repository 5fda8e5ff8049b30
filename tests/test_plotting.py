"""jaxtls.plot_state: a figure of one state, without pyplot side effects."""

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.figure import Figure

import jaxtls


@pytest.fixture(scope="module")
def entangled():
    return jaxtls.steady_state(jaxtls.Model(T=[30.0, 0.05], J=[1.0, 1e5], K=[0.0, 1e5]))


def test_plot_state_bars_labels_and_title(entangled, tmp_path):
    before, rc = plt.get_fignums(), dict(matplotlib.rcParams)
    fig = jaxtls.plot_state(entangled)
    assert isinstance(fig, Figure) and plt.get_fignums() == before
    assert dict(matplotlib.rcParams) == rc
    ax_b, ax_s = fig.axes
    assert len(ax_b.patches) == 4 and len(ax_s.patches) == 4
    labels = [t.get_text() for t in ax_b.get_xticklabels()]
    assert labels == [r"$|{+}{+}\rangle$", r"$\psi_+$", r"$\psi_-$", r"$|{-}{-}\rangle$"]
    heights = [p.get_height() for p in ax_b.patches]
    np.testing.assert_allclose(heights, np.asarray(jaxtls.bell_populations(entangled)), atol=1e-12)
    n = float(jaxtls.negativity(entangled))
    assert ax_s.get_title() == f"partial transpose: N = {n:.4g}"
    ev = [p.get_height() for p in ax_s.patches]
    assert min(ev) == pytest.approx(-n, abs=1e-12)
    colors = [p.get_facecolor() for p in ax_s.patches]
    assert colors[0] != colors[1]  # the negative eigenvalue is highlighted
    assert all(c == colors[1] for c in colors[1:])
    assert ax_b.get_ylabel() and ax_s.get_ylabel()
    fig.savefig(tmp_path / "state.png")


def test_plot_state_into_given_axes(entangled):
    fig = Figure()
    axes = fig.subplots(1, 2)
    separable = jaxtls.steady_state(jaxtls.Model(T=[1.0], J=[1.0], K=[0.0]))
    assert jaxtls.plot_state(separable, ax=axes) is fig
    assert "N = 0" in axes[1].get_title()  # separable: no red bar
    assert len({tuple(p.get_facecolor()) for p in axes[1].patches}) == 1
    with pytest.raises(TypeError, match="two panels"):
        jaxtls.plot_state(entangled, ax=axes[0])
