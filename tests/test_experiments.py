"""``jaxtls reproduce``: every experiment in --fast mode, its summary checked against the paper's
numbers with stated tolerances, the saved files, the report listing every claim, the CLI, and
the doctests of the ``experiments`` package (not in pytest's testpaths)."""

from __future__ import annotations

import doctest
import importlib
import json
import os
import sys

import numpy as np
import oracles
import pytest

pytest.importorskip("matplotlib")

from jaxtls import experiments  # noqa: E402
from jaxtls.experiments import _common as cm  # noqa: E402
from jaxtls.experiments import report  # noqa: E402

SUP = oracles.NEGATIVITY_MAX  # (sqrt 5 - 2)/6, the tests' own copy
T2_EXACT = 1 / (2 * np.log(1 + np.sqrt(2)))  # 0.5672963..., the paper's "about 0.567"
NAMES = ["fig2", "fig3", "fig4", "lowT", "t2_threshold", "maximum", "detuning", "pareto"]
NAMES_ALL = NAMES + ["robustness"]  # robustness runs once, in tests/test_experiment_robustness.py
NAMES_ALL += ["ceiling", "time_to_entanglement"]  # each in its own tests/test_experiment_*.py
NAMES_ALL += ["strong_coupling"]  # tests/test_experiment_strong_coupling.py


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    out = str(tmp_path_factory.mktemp("reproduce"))
    res = {r["name"]: r for r in experiments.run_all(NAMES, out=out, fast=True, progress=False)}
    return out, res


def summary(results, name):
    return results[1][name]["summary"]


def test_registry():
    assert list(experiments.EXPERIMENTS) == NAMES_ALL
    with pytest.raises(ValueError, match="unknown experiment"):
        experiments.get("nope")
    with pytest.raises(ValueError, match="unknown experiment"):
        experiments.run_all(["fig2", "nope"])


def test_every_experiment_saves_data_and_figures(results):
    out, res = results
    assert list(res) == NAMES
    for name, r in res.items():
        assert r["claims"], name
        for ext in ("png", "pdf", "npz", "json"):
            path = os.path.join(out, f"{name}.{ext}")
            assert os.path.isfile(path) and os.path.getsize(path) > 100, (name, ext)
        side = json.load(open(os.path.join(out, f"{name}.json")))
        assert side["parameters"] and side["arrays"], name
        assert sorted(np.load(os.path.join(out, f"{name}.npz")).files) == side["arrays"]
        for c in r["claims"]:
            assert {"claim", "quoted", "computed", "tolerance", "agree", "figure"} <= set(c)


def test_all_claims_agree(results):
    _, res = results
    bad = [(n, c["claim"], c["computed"]) for n, c in _named_claims(res) if c["agree"] is False]
    assert not bad
    unchecked = [(n, c["note"]) for n, c in _named_claims(res) if c["agree"] is None]
    assert all(n == "maximum" for n, _ in unchecked), unchecked  # only optimize's search


def _named_claims(res):
    return [(n, c) for n, r in res.items() for c in r["claims"]]


def test_fig2(results):
    s = summary(results, "fig2")
    assert s["n_caption_lines"] == 6 and len(s["T2max"]) == 6
    assert max(s["T2max"].values()) < 0.567  # "always separable above about 0.567 Delta"
    solid = list(s["T1max_T2=0"].values())[:3]
    assert solid == sorted(solid)  # the region grows with J2
    # T1 max ~ theta* Delta J2/J1 with theta* from eq. (26): rel 1e-3 at J2/J1 = 5e4
    assert s["theta_star_eq26"] == pytest.approx(0.157298, abs=1e-6)
    assert s["T1max_J1/J2_vs_ratio"]["50000.0"] == pytest.approx(s["theta_star_eq26"], rel=1e-3)
    assert min(s["tangency_T2/T1"]) > 0.9  # tangent to T1 = T2 at low temperature
    # Ohmic: separable above T1max ~ 0.62 Delta/xibar_1, diverging for xibar_1 -> 0
    t1x = np.array(list(s["T1max_vs_xibar_1"].values()))
    assert np.all(np.diff(t1x) > 0) and t1x[-1] > 1e3
    assert s["limit_boundary_max_dev_1e6"] < 1e-5  # J2/J1 -> inf closed form


def test_fig3(results):
    s = summary(results, "fig3")
    assert max(s["max_dev_vs_eq25"].values()) < 1e-3  # the region is that of eq. (25)
    assert max(s["edge_mismatch"].values()) <= 2
    assert s["threshold_ratio_numeric"] == pytest.approx(2.0, rel=1e-3)  # separable below
    area = list(s["area"].values())
    assert area == sorted(area) and area[-1] / area[-2] - 1 < 0.05  # saturated at 1000


def test_fig4(results):
    s = summary(results, "fig4")
    n = s["N_max_per_curve"]
    assert len(n) == 4
    assert 0.03 < s["N_max_K2=J2=1000J1"] < SUP  # grows with J2, below (sqrt5-2)/6
    assert s["eq26_max_dev_1000"] < 1e-3 and s["eq26_max_dev_95"] < 2e-3
    dist = list(s["eq26_distance_vs_ratio"].values())
    assert dist[-1] < 1e-5 and dist == sorted(dist, reverse=True)  # eq. (26) is the limit


def test_lowT(results):
    s = summary(results, "lowT")
    assert s["mismatches"] == 0 and s["grid_points"] > 10_000
    assert s["boundary_max_rel_dev"] < 1e-3


def test_t2_threshold(results):
    s = summary(results, "t2_threshold")
    assert s["T2_limit"] == pytest.approx(0.567, abs=1e-3)  # the paper's value
    assert s["T2_limit"] == pytest.approx(T2_EXACT, abs=1e-9)  # >= 4 significant digits
    assert s["T2_bisection_extrapolated"] == pytest.approx(T2_EXACT, abs=1e-6)
    assert s["bisection_vs_newton"] < 1e-9
    t2 = list(s["T2max_vs_ratio"].values())
    assert t2 == sorted(t2) and t2[-1] < T2_EXACT
    assert s["T1_opt_exponent"] == pytest.approx(0.5, abs=0.01)


def test_maximum(results):
    s = summary(results, "maximum")
    assert s["N_at_max_ratio"] == pytest.approx(SUP, rel=1e-4)
    assert s["N_extrapolated"] == pytest.approx(SUP, rel=1e-6)
    assert s["limit_grid_max"] <= SUP * (1 + 1e-12)
    np.testing.assert_allclose(s["bell_at_max_ratio"], [2 / 3, 0, 1 / 3, 0], atol=1e-4)
    # optimize is part of this repository: a search that did not run (an import error or a
    # crash, which the experiment reports as "skipped: ...") fails here, with its reason
    search = s["search"]
    assert search["status"] == "run", search["status"]
    assert search["regime"] == "2/3-1/3"
    assert 0.03 < search["negativity"] <= SUP * (1 + 1e-9)


def test_detuning(results):
    s = summary(results, "detuning")
    assert 0.1 < s["half_over_scale"] < 10
    assert s["dist_at_max_detuning"] < 1e-3 and s["dist_slope"] == pytest.approx(-1, abs=0.2)
    assert s["closed_vs_general"] < 1e-10


def test_pareto(results):
    s = summary(results, "pareto")
    pr, ar = s["paper_relaxation_rate"], s["asymmetric_relaxation_rate"]
    pe, ae = s["paper_entropy_production"], s["asymmetric_entropy_production"]
    for f in (pr, ar):  # lower bounds on the gap are met, and they cost entanglement
        assert np.all(np.asarray(f["achieved"]) >= 0.98 * np.asarray(f["bounds"]))
        assert np.all(np.diff(f["negativity"]) < 0)
    for f in (pe, ae):  # upper bounds on the entropy production are met
        assert np.all(np.asarray(f["achieved"]) <= 1.02 * np.asarray(f["bounds"]))
        assert np.all(np.diff(f["negativity"]) >= 0)
    assert 0.02 < min(pr["negativity"]) and max(pr["negativity"]) <= SUP
    assert np.all(np.asarray(ar["negativity"]) >= np.asarray(pr["negativity"]) - 1e-4)
    assert max(ae["negativity"]) > 2 * SUP  # the asymmetric space reaches the 1/2-1/2 regime
    # every optimum is a point of its space: recompute its gap and N independently
    import jaxtls

    p = pr["params"][0]
    K = [p[f"kappa_{n}"] * p[f"J_{n}"] for n in (1, 2)]
    m = jaxtls.Model(T=[p["T_1"], p["T_2"]], J=[p["J_1"], p["J_2"]], K=K)
    assert float(jaxtls.relaxation_rate(m)) / p["J_2"] == pytest.approx(pr["achieved"][0], 1e-6)
    assert float(jaxtls.negativity(jaxtls.steady_state(m))) == pytest.approx(
        pr["negativity"][0], 1e-6
    )
    assert "dark" in results[1]["pareto"]["discussion"]


def test_report_lists_every_claim(results):
    out, res = results
    rs = list(res.values())
    md, js = report.write(rs, out, fast=True, total_time=1.0)
    doc = json.load(open(js))
    n = sum(len(r["claims"]) for r in rs)
    assert doc["counts"]["claims"] == n == len(doc["claims"]) >= 30
    text = open(md).read()
    for r in rs:
        for c in r["claims"]:
            assert c["claim"].replace("|", "\\|") in text
        assert f"({r['name']}.png)" in text
        if r.get("discussion"):
            assert r["discussion"].splitlines()[0] in text
    assert sum(text.count(f"| {v} |") for v in ("agree", "DISAGREE", "not checked")) == n


def test_cli(tmp_path, capsys):
    from jaxtls.cli import main

    args = ["reproduce", "lowT", "--fast", "--quiet", "--no-cache", "--out", str(tmp_path)]
    assert main(args) == 0
    assert (tmp_path / "report.md").is_file() and (tmp_path / "report.json").is_file()
    assert (tmp_path / "lowT.png").is_file()
    assert "lowT" in capsys.readouterr().out
    assert main(["reproduce", "--list"]) == 0
    assert "t2_threshold" in capsys.readouterr().out
    assert main(["reproduce", "nope", "--out", str(tmp_path)]) == 2


def test_maximum_without_optimize(monkeypatch):
    import jaxtls
    from jaxtls.experiments import maximum

    # `from jaxtls import optimize` -> ImportError (the attribute hides an imported package)
    monkeypatch.delattr(jaxtls, "optimize", raising=False)
    monkeypatch.setitem(sys.modules, "jaxtls.optimize", None)
    assert maximum.search(fast=True)["status"].startswith("skipped: optimize not available")


def test_closed_forms():
    # the J2/J1 -> infinity limit derived here, and eq. (26)
    assert cm.limit_boundary_T2(1e15) == pytest.approx(T2_EXACT, abs=1e-12)
    assert 1 / cm.limit_boundary_T2(0.01) - 100 == pytest.approx(np.log(3), abs=1e-9)
    w = np.array(cm.limit_state(np.geomspace(0.1, 1e4, 7)[:, None], np.linspace(0.01, 1, 5)))
    np.testing.assert_allclose(w.sum(0), 1.0, atol=1e-14)
    assert cm.limit_negativity(1e12, 1e-3) == pytest.approx(SUP, rel=1e-12)
    p1, p2, p4, c = cm.eq26(1e-12, 1.0)
    assert (p1, abs(c)) == pytest.approx((2 / 3, 1 / 6), abs=1e-9)


@pytest.mark.parametrize(
    "module",
    ["__init__", "_common", "_progress", "report"] + NAMES_ALL,
)
def test_doctests(module, results):  # after the fixture: the compiled functions are reused
    name = "experiments" if module == "__init__" else f"jaxtls.experiments.{module}"
    mod = importlib.import_module(name)
    res = doctest.testmod(mod, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert res.failed == 0
    assert res.attempted > 0


def test_import_and_figures_leave_matplotlib_state_alone(tmp_path):
    # a user's backend and rcParams survive importing the experiments and making a figure; the
    # house style is applied while the figure is drawn (fresh interpreter: nothing imported yet)
    code = f"""
import matplotlib
matplotlib.use("pdf")
matplotlib.rcParams["lines.linewidth"] = 0.7
before = matplotlib.rcParams.copy()
from jaxtls import experiments
from jaxtls.experiments import _common as cm
fig, ax = cm.figure(figsize=(4, 3))
(line,) = ax.plot([0, 1], [0, 1])
assert line.get_linewidth() == cm.STYLE["lines.linewidth"], line.get_linewidth()
cm.save_figure(fig, {str(tmp_path)!r}, "probe")
after = matplotlib.rcParams.copy()
changed = sorted(k for k in before if before[k] != after[k])
assert not changed, changed
assert matplotlib.get_backend().lower() == "pdf", matplotlib.get_backend()
"""
    import subprocess

    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr[-2000:]
    assert (tmp_path / "probe.png").stat().st_size > 1000


@pytest.mark.parametrize("R, kappa", [(5.0, 1.0), (50.0, 1.0), (500.0, 0.72)])
def test_fig2_lines_are_dense_at_their_top(R, kappa):
    # the top of each line (where it turns from the left branch to the right one) is sampled
    # densely: no long chord across it (was ln(3.09/2.03) = 0.42 for K2 = J2 = 50 J1)
    from jaxtls.experiments import fig2

    T1, T2, _ = fig2.boundary(R, kappa, 0.0, n=40)
    top = (T2[:-1] > 0.9 * T2.max()) & (T2[1:] > 0.9 * T2.max())
    assert top.sum() >= 20
    assert np.max(np.abs(np.diff(np.log(T1)))[top]) < 0.1
    assert np.max(np.abs(np.diff(T2))[top]) < 0.02 * T2.max()


def test_fig3_shades_both_signs_of_K2():
    # the K2 < 0 region is computed (not only drawn) and is the mirror image of the K2 > 0 one;
    # the figure shades the regions of both signs
    from matplotlib.collections import PolyCollection

    from jaxtls.experiments import fig3

    k1 = np.clip(np.linspace(-1, 1, 21), -1 + 1e-9, 1 - 1e-9)
    R = np.asarray(fig3.RATIOS)[:, None]
    kn, ka = fig3.boundaries(R, k1)
    kneg = fig3.negative_boundary(R, k1)
    ok = np.isfinite(kneg)
    assert ok.sum() > 100 and np.array_equal(ok, np.isfinite(kn[:, ::-1]))
    np.testing.assert_allclose(kneg[ok], -kn[:, ::-1][ok], atol=1e-9)
    fig = fig3.draw(k1, kn, ka, kneg)
    try:
        lows = [a.get_ylim()[0] for a in fig.axes]
        fills = [c for a in fig.axes for c in a.collections if isinstance(c, PolyCollection)]
        assert min(lows) < -0.9 and max(lows) > 0
        assert len(fills) >= 2 * len(fig3.RATIOS)
        assert any("K_2 < 0" in a.get_title(loc="left") for a in fig.axes)
    finally:
        cm._release(fig)


def test_fig4_inset_has_every_case_and_a_legend():
    # the inset: populations of |1> = |++> and of the singlet for each of the four curves
    from jaxtls.experiments import fig4

    theta, rows, approx = fig4.compute(fast=True)
    fig = fig4.draw(theta, rows, approx)
    try:
        (ins,) = fig.axes[0].child_axes
        assert len(ins.lines) == 2 * len(fig4.CURVES)
        for i in range(len(fig4.CURVES)):
            for j, k in ((2 * i, 0), (2 * i + 1, 2)):
                np.testing.assert_array_equal(ins.lines[j].get_ydata(), rows["bell"][i, :, k])
        leg = ins.get_legend()
        assert leg is not None
        assert [t.get_text() for t in leg.get_texts()] == [c[0] for c in fig4.CURVES]
    finally:
        cm._release(fig)


def _fake_result(name, summary, notes):
    claims = [
        cm.claim(f"claim {name} {i}", 1, 1.0, "abs 0", True, note=n) for i, n in enumerate(notes)
    ]
    return {
        "name": name,
        "claims": claims,
        "figures": [],
        "data": [],
        "summary": summary,
        "wall_time": 0.0,
        "parameters": {},
    }


def test_report_summaries_are_complete_and_notes_keep_their_numbers(tmp_path):
    import re

    # a pareto-like summary, far longer than any excerpt: nested fronts with lists of dicts
    front = {
        "bounds": list(np.linspace(0.1, 1, 30)),
        "negativity": list(np.linspace(0.04, 0.01, 30)),
        "params": [{"T_1": 1.0 + i, "J_2": 100.0, "kappa_2": 0.99} for i in range(30)],
    }
    big = {f"space{k}_kind": front for k in range(4)}
    big["scalar"] = 0.5
    # notes on claims 1, 3, 4, 36: numbers must survive Markdown rendering
    notes = ["first", "", "third", "fourth"] + [""] * 31 + ["the 36th"]
    rs = [_fake_result("one", {"x": 1.0}, notes[:10]), _fake_result("two", big, notes[10:])]
    md, _ = report.write(rs, str(tmp_path), fast=True, total_time=0.0)
    text = open(md).read()
    # every JSON block of the report parses (nothing cut mid-object)
    for block in re.findall(r"```json\n(.*?)```", text, flags=re.S):
        json.loads(block)
    # the complete summary is in its own file, linked from the report
    assert json.load(open(tmp_path / "two_summary.json")) == json.loads(json.dumps(big))
    assert "(two_summary.json)" in text and "(one_summary.json)" in text
    assert "| `scalar` | 0.5 |" in text
    assert "| `space0_kind / params` | list of 30 entries (in the JSON file) |" in text
    # notes: explicit labels, no Markdown ordered list (which renumbers after other blocks)
    notes_part = text.split("## Notes", 1)[1].split("## Experiments", 1)[0]
    assert not re.search(r"^\s*\d+\.\s", notes_part, flags=re.M)
    for i, n in ((1, "first"), (3, "third"), (4, "fourth"), (36, "the 36th")):
        assert f"**Note {i}** " in notes_part and n in notes_part.split(f"**Note {i}** ")[1]
