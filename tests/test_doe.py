"""Design of experiments (issue 6), beyond tests/test_design.py: Sobol prefixes and balance,
an LHS design run through the streamed sweep and resumed, and the CLI's errors."""

import json

import numpy as np
import pytest

from jaxtls.cli import main
from jaxtls.design import design_points, run_doe, sobol


def test_sobol_prefixes_are_balanced_and_deterministic():
    x = sobol(128, 13, seed=5)
    np.testing.assert_array_equal(sobol(100, 13, seed=5), x[:100])  # n need not be 2^m
    for m in range(1, 8):  # every 2^m-point prefix puts one point in each of 2^m bins
        head = np.floor(x[: 2**m] * 2**m).astype(int)
        for d in range(13):
            assert sorted(head[:, d]) == list(range(2**m))
    assert not np.array_equal(x, sobol(128, 13, seed=6))
    with pytest.raises(ValueError, match="n \\(number of points\\) must be >= 1"):
        sobol(0, 2)


def test_design_points_log_and_linear_ends():
    pts = design_points([("ratio", 1.0, 1e6, True), ("T_2", 0.01, 1.0)], 64, "sobol", seed=None)
    assert pts.values["ratio"][0] == 1.0 and pts.values["T_2"][0] == 0.01  # plain Sobol: u = 0
    assert pts.values["ratio"][1] == pytest.approx(1e3)  # u = 1/2 is the geometric midpoint
    assert pts.values["T_2"][1] == pytest.approx(0.505)


class Chunks:  # a progress object (jaxtls.progress): one update per finished chunk
    def __init__(self):
        self.n = 0

    def update(self, done, info=""):
        self.n += 1


def test_lhs_doe_streams_and_resumes(tmp_path):
    axes = [("T_1", 1.0, 100.0, True), ("ratio", 10.0, 1e4, True), ("kappa_2", 0.7, 1.0)]
    first = run_doe(axes, n=64, design="lhs", seed=2, out=str(tmp_path), plots=False)
    assert first.n_points == 64 and 0 < first.fraction_entangled < 1
    Ns = [b["negativity"] for b in first.best]
    assert Ns == sorted(Ns, reverse=True)
    assert set(first.sensitivities[0]) == {"T_1", "ratio", "kappa_2"}
    counter = Chunks()
    again = run_doe(axes, n=64, design="lhs", seed=2, out=str(tmp_path), progress=counter)
    assert counter.n == 0  # the streamed design sweep was finished: nothing recomputed
    assert again == first
    saved = json.loads((tmp_path / "summary.json").read_text())
    assert saved["settings"]["design"] == "lhs" and saved["settings"]["axes"][0][3] is True
    assert (tmp_path / "marginals_2d.pdf").stat().st_size > 1000


def test_doe_cli_exchange_axis(tmp_path, capsys):
    argv = ["doe", "--axis", "exchange", "-1", "1", "--axis", "detuning", "-1", "1"]
    argv += ["--axis", "T_1", "1", "100", "log", "--n", "32", "--out", str(tmp_path)]
    assert main(argv) == 0
    saved = json.loads((tmp_path / "summary.json").read_text())
    assert [a[0] for a in saved["settings"]["axes"]] == ["exchange", "detuning", "T_1"]
    assert "exchange" in capsys.readouterr().out
    pts = np.asarray(design_points([("exchange", -1.0, 1.0)], 16).values["exchange"])
    assert pts.min() < 0 < pts.max() and np.all(np.abs(pts) <= 1)


@pytest.mark.parametrize(
    "axis, message",
    [
        (["T3", "1", "2"], "unknown axis name(s) ['T3']; known axes: T_1, T_2"),
        (["T_1", "2", "1"], "low 2 > high 1"),
        (["ratio", "0", "10", "log"], "a log axis needs low > 0"),
        (["T_1", "x", "2"], "NAME VALUE or NAME LOW HIGH [N] [log|lin]"),
        (["T_1", "-1", "2"], "axis 'T_1': temperatures must be >= 0, got -1"),
        (["kappa_2", "0", "2"], "axis 'kappa_2': K_n = kappa_n J_n needs |kappa_n| <= 1, got 2"),
        (["T_1", "1", "2", "8", "log"], "jaxtls doe draws --n points"),
        (["T_1", "1"], "at least one range axis"),
    ],
)
def test_doe_cli_errors_are_one_line(tmp_path, capsys, axis, message):
    assert main(["doe", "--axis", *axis, "--n", "8", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and "Traceback" not in err


def test_doe_axis_given_twice_is_an_error(tmp_path, capsys):
    argv = ["doe", "--axis", "T_1", "1", "2", "--axis", "T_1", "3", "4", "--n", "8"]
    assert main([*argv, "--out", str(tmp_path)]) == 2
    assert "'T_1' is given twice" in capsys.readouterr().err
    with pytest.raises(ValueError, match="'T_1' is given twice"):
        design_points([("T_1", 1.0, 2.0), ("T_1", 3.0, 4.0)], 8)
    with pytest.raises(ValueError, match="axis 'T_1': temperatures must be >= 0"):
        design_points([("T_1", -1.0, 2.0)], 8)


def test_doe_fixed_values_and_overwrite(tmp_path, capsys):
    out = str(tmp_path)
    argv = ["doe", "--axis", "T_1", "1", "100", "log", "--axis", "ratio", "1e3", "--n", "16"]
    assert main([*argv, "--out", out]) == 0
    saved = json.loads((tmp_path / "summary.json").read_text())
    assert saved["settings"]["fixed"]["ratio"] == 1000.0
    assert saved["settings"]["fixed"]["T_2"] == 0.1  # the builder's defaults are recorded too
    assert [a[0] for a in saved["settings"]["axes"]] == ["T_1"]
    capsys.readouterr()
    assert main([*argv[:-2], "--n", "32", "--out", out]) == 2  # another design, same out
    assert "--overwrite" in capsys.readouterr().err
    assert main([*argv[:-2], "--n", "32", "--out", out, "--overwrite"]) == 0
