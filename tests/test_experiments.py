"""``jaxtls reproduce``: every experiment in --fast mode, its numbers against the paper's, and
the report listing every claim."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

pytest.importorskip("matplotlib")

import experiments  # noqa: E402
from experiments import report  # noqa: E402

SUP = (np.sqrt(5) - 2) / 6
T2_EXACT = 1 / (2 * np.log(1 + np.sqrt(2)))  # 0.5672963..., the paper's "about 0.567"


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    out = str(tmp_path_factory.mktemp("reproduce"))
    res = {r["name"]: r for r in experiments.run_all(out=out, fast=True, progress=False)}
    return out, res


def test_registry_names():
    assert list(experiments.EXPERIMENTS) == [
        "fig4",
        "fig2",
        "maximum",
        "detuning",
        "lowT",
        "fig3",
        "t2_threshold",
    ]
    with pytest.raises(ValueError, match="unknown experiment"):
        experiments.get("nope")


def test_every_experiment_saves_data_and_figures(results):
    out, res = results
    for name, r in res.items():
        assert r["claims"], name
        for ext in ("png", "pdf", "npz", "json"):
            assert os.path.isfile(os.path.join(out, f"{name}.{ext}")), (name, ext)
        side = json.load(open(os.path.join(out, f"{name}.json")))
        assert side["parameters"] and side["arrays"], name
        for c in r["claims"]:
            assert {"claim", "quoted", "computed", "tolerance", "agree"} <= set(c)


def test_all_claims_agree(results):
    _, res = results
    bad = [
        (n, c["claim"], c["computed"])
        for n, r in res.items()
        for c in r["claims"]
        if c["agree"] is False
    ]
    assert not bad


def test_fig4_numbers(results):
    s = results[1]["fig4"]["summary"]
    # N below the supremum, 2/3-1/3 populations, eq. (26) within 1e-3 for T1 >= 0.05 Delta J2/J1
    assert 0.030 < s["N_max_K2=J2=1000J1"] < SUP
    assert s["eq26_max_dev_1000"] < 1e-3


def test_fig2_numbers(results):
    s = results[1]["fig2"]["summary"]
    assert len(s["T2max"]) == 6  # the six lines of the caption
    assert max(s["T2max"].values()) < 0.567
    # T1 max / (J2/J1) -> theta* of eq. (26) (0.1573) within 2% at J2/J1 = 5000
    assert s["T1max_J1/J2_vs_ratio"]["5000.0"] == pytest.approx(s["theta_star_eq26"], rel=0.02)
    assert s["theta_star_eq26"] == pytest.approx(0.157298, abs=1e-5)


def test_maximum_numbers(results):
    s = results[1]["maximum"]["summary"]
    assert s["N_at_1e8"] == pytest.approx(SUP, rel=1e-3)
    assert s["N_extrapolated"] == pytest.approx(SUP, rel=1e-5)
    np.testing.assert_allclose(s["bell_at_1e8"], [2 / 3, 0, 1 / 3, 0], atol=2e-3)
    search = s["search"]
    assert search["status"] == "run" or search["status"].startswith("not run")
    if search["status"] == "run":
        assert search["negativity"] <= SUP * (1 + 1e-9)


def test_detuning_numbers(results):
    s = results[1]["detuning"]["summary"]
    assert 0.1 < s["half_over_scale"] < 10
    assert s["dist_at_max_detuning"] < 1e-3


def test_lowT_and_fig3_numbers(results):
    lo = results[1]["lowT"]["summary"]
    assert lo["mismatches"] == 0 and lo["boundary_max_rel_dev"] < 1e-3
    f3 = results[1]["fig3"]["summary"]
    assert max(f3["max_dev_vs_eq25"].values()) < 1e-3
    assert f3["threshold_ratio_numeric"] == pytest.approx(2.0, rel=1e-3)


def test_t2_threshold(results):
    s = results[1]["t2_threshold"]["summary"]
    assert s["T2_limit"] == pytest.approx(T2_EXACT, abs=1e-6)  # >= 4 significant digits
    assert s["T2_limit"] == pytest.approx(0.567, abs=1e-3)  # the paper's value


def test_report_lists_every_claim(results):
    out, res = results
    rs = list(res.values())
    md, js = report.write(rs, out, fast=True, total_time=1.0)
    doc = json.load(open(js))
    n = sum(len(r["claims"]) for r in rs)
    assert doc["counts"]["claims"] == n == len(doc["claims"])
    text = open(md).read()
    for r in rs:
        for c in r["claims"]:
            assert c["claim"].replace("|", "\\|") in text
    assert text.count("| agree |") + text.count("| DISAGREE |") + text.count("| n/a |") == n


def test_cli_reproduce_one(tmp_path, capsys):
    from jaxtls.cli import main

    assert main(["reproduce", "lowT", "--fast", "--quiet", "--out", str(tmp_path)]) == 0
    assert (tmp_path / "report.md").is_file() and (tmp_path / "report.json").is_file()
    assert "lowT" in capsys.readouterr().out
    assert main(["reproduce", "nope", "--out", str(tmp_path)]) == 2
