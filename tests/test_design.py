"""Design of experiments: Sobol and LHS designs, the DOE summary and its CLI."""

import json
import os

import numpy as np
import pytest
from scipy.stats import qmc

import jaxtls
from jaxtls.cli import main


def test_sobol_matches_scipy_and_is_stratified():
    x = jaxtls.sobol(1024, 13, seed=None)
    np.testing.assert_array_equal(x, qmc.Sobol(13, scramble=False).random(1024))
    shifted = jaxtls.sobol(256, 5, seed=3)
    assert shifted.min() >= 0 and shifted.max() < 1
    for d in range(5):  # a digital shift keeps the one-point-per-stratum property
        assert sorted(np.floor(shifted[:, d] * 256).astype(int)) == list(range(256))
    np.testing.assert_array_equal(shifted, jaxtls.sobol(256, 5, seed=3))
    with pytest.raises(ValueError, match="dimensions"):
        jaxtls.sobol(8, 20)


def test_latin_hypercube_strata_and_determinism():
    x = jaxtls.latin_hypercube(100, 4, seed=7)
    for d in range(4):
        assert sorted(np.floor(x[:, d] * 100).astype(int)) == list(range(100))
    np.testing.assert_array_equal(x, jaxtls.latin_hypercube(100, 4, seed=7))
    assert not np.array_equal(x, jaxtls.latin_hypercube(100, 4, seed=8))


def test_design_points_respect_ranges_and_scales():
    pts = jaxtls.design_points([("T_1", 0.1, 100.0, True), ("kappa_2", -1.0, 1.0)], 512, "lhs", 0)
    t1 = pts.values["T_1"]
    assert t1.min() >= 0.1 and t1.max() <= 100.0
    # log axis: uniform in log10, so about half the points below sqrt(0.1*100) = sqrt(10)
    assert abs(np.mean(t1 < np.sqrt(10.0)) - 0.5) < 0.01


@pytest.mark.parametrize(
    "axes, match",
    [
        ([("T_1", 2.0, 1.0)], "low 2.0 > high 1.0"),
        ([("T_1", 0.0, 1.0, True)], "log axis needs low > 0"),
        ([("foo", 0.0, 1.0)], "unknown axis"),
        ([], "at least one range axis"),
        ([("T_1", 0.0, np.inf)], "finite"),
    ],
)
def test_bad_designs(axes, match):
    with pytest.raises(ValueError, match=match):
        jaxtls.design_points(axes, 8)


def test_doe_summary_and_sensitivities(tmp_path):
    axes = [("T_1", 0.1, 100.0, True), ("ratio", 1.0, 1e4, True), ("kappa_2", 0.5, 1.0)]
    s = jaxtls.run_doe(axes, n=1024, seed=1, out=str(tmp_path))
    assert 0.05 < s.fraction_entangled < 0.6 and s.fraction_nan == 0.0
    best = s.best[0]
    m = jaxtls.two_bath_model({k: best[k] for k in ("T_1", "ratio", "kappa_2")})
    assert best["negativity"] == pytest.approx(float(jaxtls.negativity(jaxtls.steady_state(m))))
    # Near the best point the negativity grows with kappa_2 (K_2 -> J_2 helps, paper sec. IV C).
    assert s.sensitivities[0]["kappa_2"] > 0
    h = 1e-6
    up = jaxtls.two_bath_model(
        {"T_1": best["T_1"], "ratio": best["ratio"], "kappa_2": best["kappa_2"] - h}
    )
    fd = (best["negativity"] - float(jaxtls.negativity(jaxtls.steady_state(up)))) / h
    assert s.sensitivities[0]["kappa_2"] == pytest.approx(fd, rel=1e-3)
    saved = json.loads((tmp_path / "summary.json").read_text())
    assert saved["settings"]["n"] == 1024 and len(saved["best"]) == 5
    for name in ("marginals_1d.png", "marginals_1d.pdf", "marginals_2d.png"):
        assert (tmp_path / name).stat().st_size > 1000


def test_doe_cli(tmp_path, capsys):
    argv = [
        "doe",
        "--axis",
        "T_1",
        "0.5",
        "50",
        "log",
        "--axis",
        "kappa_2",
        "0.6",
        "1",
        "--n",
        "256",
        "--out",
        str(tmp_path),
    ]
    assert main(argv) == 0
    assert "entangled fraction" in capsys.readouterr().out
    assert main(["doe", "--axis", "T_1", "1", "--n", "8", "--out", str(tmp_path)]) == 2
    assert "NAME LOW HIGH" in capsys.readouterr().err


def test_marginal_figures_are_labelled_and_include_2d_max_negativity(tmp_path, monkeypatch):
    import jaxtls.design as design

    figs = {}
    save = design._save

    def keep(fig, stem):
        figs[os.path.basename(stem)] = {
            "title": fig._suptitle.get_text() if fig._suptitle else "",
            "xlabels": [a.get_xlabel() for a in fig.axes],
            "ylabels": [a.get_ylabel() for a in fig.axes],
            "n_axes": len(fig.axes),
        }
        return save(fig, stem)

    monkeypatch.setattr(design, "_save", keep)
    axes = [("T_1", 0.5, 50.0, True), ("ratio", 10.0, 1e4, True), ("kappa_2", 0.6, 1.0)]
    jaxtls.run_doe(axes, n=256, seed=0, out=str(tmp_path), fixed={"T_2": 0.05})
    one, two = figs["marginals_1d"], figs["marginals_2d"]
    for f in (one, two):
        assert "$T_1$ [$\\Delta$]" in f["xlabels"] and "$J_2/J_1$" in f["xlabels"]
        assert "T_1" not in f["xlabels"] and "ratio" not in f["xlabels"]
        assert "$T_2$ = 0.05" in f["title"] and "$J_1$ = 1" in f["title"]
        assert "sobol" in f["title"].lower() and "256 points" in f["title"]
    assert "largest negativity $N$" in one["ylabels"]
    # 2-D: 3 pairs of the entangled fraction and 3 of the largest N, plus two colour bars
    assert two["n_axes"] == 3 + 3 + 2
    assert {"entangled fraction", "largest negativity $N$"} <= set(two["ylabels"])
    for name in ("marginals_1d.png", "marginals_2d.png"):
        assert (tmp_path / name).stat().st_size > 1000
