"""``jaxtls optimize``: JSON and convergence plot, progress on stderr, one-line errors."""

import json
import re

import pytest

from jaxtls.cli import main

RUN = ["--starts", "32", "--steps", "300", "--polish-steps", "100"]


def test_cli_writes_json_and_png(tmp_path, capsys):
    rc = main(["optimize", "--space", "paper", *RUN, "--seed", "3", "--out", str(tmp_path)])
    assert rc == 0
    doc = json.loads((tmp_path / "optimize_paper.json").read_text())
    assert doc["regime"] == "2/3-1/3" and doc["fidelity"] >= 0.99
    assert doc["negativity"] > 0.039 and not doc["beats_N_paper"]
    assert set(doc["params"]) >= {"T_1", "T_2", "J_2", "kappa_1", "kappa_2"}
    s = doc["settings"]
    assert (s["seed"], s["n_starts"], s["steps"], s["polish_steps"]) == (3, 32, 300, 100)
    assert doc["space_spec"]["params"]["J_2"] == {"free": [1.0, 1e6, "log"]}
    assert 0 < doc["fraction_within_1pct"] <= 1
    assert (tmp_path / "optimize_paper_convergence.png").stat().st_size > 5000
    cap = capsys.readouterr()
    assert "100%" in cap.err and "best N" in cap.err  # progress bar and summary
    assert cap.out.split() == [
        str(tmp_path / "optimize_paper.json"),
        str(tmp_path / "optimize_paper_convergence.png"),
    ]


@pytest.mark.parametrize(
    "args, match",
    [
        (["--starts", "0"], "--starts"),
        (["--steps", "-3"], "--steps"),
        (["--polish-steps", "-1"], "--polish-steps"),
    ],
)
def test_cli_user_errors_are_one_line(tmp_path, capsys, args, match):
    rc = main(["optimize", *args, "--out", str(tmp_path)])
    assert rc == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and match in err[0] and err[0].startswith("jaxtls optimize: error:")


def test_cli_out_must_be_a_folder(tmp_path, capsys):
    f = tmp_path / "file"
    f.write_text("x")
    assert main(["optimize", *RUN, "--out", str(f)]) == 2
    assert "not a folder" in capsys.readouterr().err


def test_cli_unknown_space_is_rejected(capsys):
    with pytest.raises(SystemExit) as e:
        main(["optimize", "--space", "moon"])
    assert e.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


def test_cli_pareto_front(tmp_path, capsys):
    # the settings of tests/test_constraints.py's relaxation front and of the pareto
    # experiment's fast run: one compiled constrained search serves all three
    args = ["optimize", "--pareto", "min_relaxation", "1e-3", "1e-2", "1e-1", "--starts", "16"]
    rc = main([*args, "--steps", "150", "--polish-steps", "100", "--out", str(tmp_path)])
    assert rc == 0
    doc = json.loads((tmp_path / "pareto_paper_min_relaxation.json").read_text())
    assert doc["bounds"] == [1e-3, 1e-2, 1e-1]
    assert all(a >= 0.95 * b for a, b in zip(doc["achieved"], doc["bounds"], strict=True))
    assert doc["negativity"][0] > doc["negativity"][1] > doc["negativity"][2] > 0
    assert len(doc["params"]) == 3 and "J_2" in doc["params"][0]
    for ext in ("png", "pdf", "npz"):
        assert (tmp_path / f"pareto_paper_min_relaxation.{ext}").stat().st_size > 1000
    assert "N = " in capsys.readouterr().err


@pytest.mark.parametrize(
    "pareto, match",
    [
        (["speed", "1"], "kind"),
        (["min_relaxation"], "at least one bound"),
        (["min_relaxation", "x"], "numbers"),
        (["max_heat_current", "-1"], "bound"),
    ],
)
def test_cli_pareto_errors_are_one_line(tmp_path, capsys, pareto, match):
    assert main(["optimize", "--pareto", *pareto, "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and match in err[0], err


def test_cli_max_heat_current_constraint(tmp_path):
    rc = main(
        [
            "optimize",
            "--max-heat-current",
            "1e-4",
            "--starts",
            "8",
            "--steps",
            "80",
            "--polish-steps",
            "20",
            "--no-progress",
            "--out",
            str(tmp_path),
        ]
    )
    assert rc == 0
    doc = json.loads((tmp_path / "optimize_paper.json").read_text())
    c = doc["constraints"]["max_heat_current"]
    assert c["bound"] == 1e-4 and c["achieved"] <= 1.05e-4


SHORT = ["--starts", "8", "--steps", "40", "--polish-steps", "10", "--no-progress"]


def test_cli_fixes_or_frees_exchange_and_detuning(tmp_path):
    args = ["optimize", *SHORT, "--detuning", "-0.5", "--exchange-range", "-1", "1"]
    assert main([*args, "--out", str(tmp_path)]) == 0
    doc = json.loads((tmp_path / "optimize_paper.json").read_text())
    spec = doc["space_spec"]["params"]
    assert spec["exchange"] == {"free": [-1.0, 1.0, "linear"]}
    assert spec["detuning"] == {"fixed": -0.5}
    assert doc["params"]["detuning"] == -0.5 and -1 < doc["params"]["exchange"] < 1
    # left out: the space and its output are those of before (no exchange, no detuning)
    assert main(["optimize", *SHORT, "--out", str(tmp_path / "plain")]) == 0
    plain = json.loads((tmp_path / "plain" / "optimize_paper.json").read_text())
    assert "exchange" not in plain["params"] and "detuning" not in plain["space_spec"]["params"]


@pytest.mark.parametrize(
    "args, match",
    [
        (["--detuning-range", "1", "2e9"], r"detuning: \|detuning\| RATE_UNIT <= delta"),
        (["--detuning", "1.5e9"], r"\|detuning\| <= 1e\+09"),
        (["--exchange-range", "1", "-1"], "exchange: lower bound"),
        (["--exchange-range", "1", "1"], "exchange: empty bounds"),
    ],
)
def test_cli_bad_exchange_or_detuning_is_one_line(tmp_path, capsys, args, match):
    assert main(["optimize", *args, *SHORT, "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("jaxtls optimize: error:"), err
    assert re.search(match, err[0]), err


def test_cli_exchange_value_and_range_are_exclusive(capsys):
    with pytest.raises(SystemExit) as e:
        main(["optimize", "--exchange", "0.1", "--exchange-range", "-1", "1"])
    assert e.value.code == 2
    assert "not allowed with argument" in capsys.readouterr().err


def test_convergence_plot_is_a_proper_figure(tmp_path):
    # figure size and resolution of the experiments' figures, math labels, a legend, a title
    # with the space and the result; matplotlib's global state untouched
    import types

    import matplotlib
    import numpy as np
    from matplotlib.image import imread

    from jaxtls.optimize.plots import convergence_figure, plot_convergence

    rng = np.random.default_rng(0)
    traces = np.cumsum(rng.normal(3e-4, 2e-3, (8, 120)), axis=1) - 0.02
    settings = dict(space="paper", n_starts=8, seed=3, steps=100, restart_steps=[50])
    r = types.SimpleNamespace(traces=traces, settings=settings, negativity=0.0393)
    before = matplotlib.rcParams.copy()
    fig = convergence_figure(r)
    (ax,) = fig.axes
    assert "$" in ax.get_ylabel() and "\\lambda" in ax.get_ylabel()
    assert "paper" in ax.get_title() and "0.039300" in ax.get_title()
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "best so far" in labels and any("sqrt" in t for t in labels)
    path = tmp_path / "c.png"
    plot_convergence(r, path)
    h, w = imread(path).shape[:2]
    assert w >= 1000 and h >= 600, (w, h)  # was 700 x 430
    assert matplotlib.rcParams.copy() == before
