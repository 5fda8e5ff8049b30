"""The ``jaxtls solve`` command line."""

import json
import subprocess
import sys

import numpy as np
import pytest

import jaxtls
from jaxtls.cli import main


def test_solve_json_matches_library(capsys):
    assert (
        main(["solve", "--T", "20", "0.1", "--J", "1", "1000", "--K", "0", "1000", "--json"]) == 0
    )
    out = json.loads(capsys.readouterr().out)
    rho = jaxtls.steady_state(jaxtls.Model([20.0, 0.1], [1.0, 1000.0], [0.0, 1000.0]))
    assert out["negativity"] == pytest.approx(float(jaxtls.negativity(rho)), rel=1e-14)
    assert out["entangled"] is True
    dense = np.asarray(rho.matrix())
    np.testing.assert_allclose(out["populations"], np.real(np.diag(dense)), rtol=1e-14)
    assert set(out["bell_weights"]) == {"|++>", "psi+", "psi-", "|-->"}
    assert {"log_negativity", "concurrence", "coherence_rho23"} <= set(out)


def test_solve_text_output_asymmetric(capsys):
    argv = [
        "solve",
        "--T",
        "2",
        "0.1",
        "--J",
        "1",
        "10",
        "--J2",
        "2",
        "5",
        "--K",
        "0",
        "7",
        "--xi",
        "0.01",
        "--detuning",
        "0.001",
    ]
    assert main(argv) == 0
    text = capsys.readouterr().out
    for word in ("populations", "bell weights", "negativity", "concurrence", "entangled"):
        assert word in text


@pytest.mark.parametrize(
    "argv, match",
    [
        (["--T", "1", "1", "--J", "1", "1", "--K", "0", "2"], "K_n^2 <= J"),
        (["--T", "-1", "1", "--J", "1", "1", "--K", "0", "0"], "T must be >= 0"),
        (["--T", "1", "1", "--J", "1", "--K", "0", "0"], "--J needs one value per bath"),
        (["--T", "1", "0.1", "--J", "1", "2", "--K", "1", "2"], "not unique"),
        (["--T", "nan", "1", "--J", "1", "1", "--K", "0", "0"], "must be finite"),
    ],
)
def test_bad_input_exits_nonzero_with_one_line(argv, match):
    proc = subprocess.run(
        [sys.executable, "-m", "jaxtls.cli", "solve", *argv], capture_output=True, text=True
    )
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and match in lines[0] and "Traceback" not in proc.stderr


def _solve_error(capsys, argv):
    assert main(["solve", *argv]) == 2
    return capsys.readouterr().err.strip()


def test_errors_speak_the_command_line(capsys):
    # no Python-only advice (check=False is not an option), baths counted from 1 as typed
    err = _solve_error(capsys, ["--T", "1", "1", "--J", "1", "1", "--K", "0", "2"])
    assert "violated on bath 2" in err and "index (1,)" not in err
    err = _solve_error(
        capsys, ["--T", "1", "1", "--J", "1", "1", "--J2", "1", "0"] + ["--K", "0", "1"]
    )
    assert "on bath 2" in err
    err = _solve_error(capsys, ["--T", "1", "0.1", "--J", "1", "2", "--K", "1", "2"])
    assert "not unique" in err and "check=False" not in err and "batch index" not in err
    # the library keeps its advice for Python callers
    m = jaxtls.Model(T=[1.0, 0.1], J=[1.0, 2.0], K=[1.0, 2.0])
    with pytest.raises(ValueError, match="check=False") as info:
        jaxtls.steady_state(m)
    assert "batch index ()" not in str(info.value)


def test_closed_form_on_an_asymmetric_model_says_so_first():
    m = jaxtls.Model(T=[1.0, 0.1], J=([1.0, 10.0], [2.0, 10.0]), K=[0.0, 5.0])
    with pytest.raises(ValueError) as info:
        jaxtls.closed_form(m)
    msg = str(info.value)
    first = msg.split(". ")[0]
    assert "J1 = J2" in first and "steady_state" in first
    assert "not unique" not in msg  # the model is fine: only this solver cannot take it
    # a symmetric, degenerate model is still reported as not unique (every solver)
    sym = jaxtls.Model(T=[1.0, 0.1], J=[1.0, 5.0], K=[1.0, 5.0])
    with pytest.raises(ValueError, match="not unique"):
        jaxtls.closed_form(sym)


def test_command_line_message_maps_batched_indices():
    from jaxtls.cli import command_line_message

    assert command_line_message("violated at index (3, 1, 0)") == (
        "violated on bath 1 at batch index (3, 1)"
    )
    assert (
        command_line_message(
            "x. Pass check=False to get NaN for such points instead of this error."
        )
        == "x."
    )


def _solve_json(capsys, argv):
    assert main(["solve", *argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


ASYM = ["--T", "2", "0.1", "--J", "1", "10", "--J2", "2", "5", "--K", "0", "7"]


def test_solve_exchange_is_passed_to_the_model_and_echoed(capsys):
    argv = [*ASYM, "--detuning", "0.5", "--exchange", "3"]
    out = _solve_json(capsys, argv)
    model = jaxtls.Model(
        [2.0, 0.1], ([1.0, 10.0], [2.0, 5.0]), [0.0, 7.0], detuning=0.5, exchange=3.0
    )
    rho = np.asarray(jaxtls.steady_state(model).matrix())
    np.testing.assert_allclose(out["populations"], np.real(np.diag(rho)), rtol=1e-13)
    assert out["coherence_rho23"]["im"] == pytest.approx(rho[1, 2].imag, rel=1e-12)
    assert out["parameters"]["exchange"] == 3.0
    # the exchange changes this (asymmetric, detuned) state: the option is not ignored
    without = _solve_json(capsys, [*ASYM, "--detuning", "0.5"])
    assert without["parameters"]["exchange"] == 0.0
    d_im = without["coherence_rho23"]["im"] - out["coherence_rho23"]["im"]
    assert abs(d_im) > 1e-2
    assert main(["solve", *argv]) == 0
    text = capsys.readouterr().out
    assert "exchange 3" in text


def test_solve_units_equal_the_dimensionless_run(capsys):
    from jaxtls import units

    f = 5.0  # GHz
    argv = ["--delta", "5GHz", "--T", "200mK", "10", "mK", "--J", "1MHz", "1GHz"]
    argv += ["--K", "0", "-1GHz", "--detuning", "2MHz", "--exchange", "3e6 s^-1"]
    out = _solve_json(capsys, argv)
    t = [0.2 * units.K_B / (units.H * f * 1e9), 0.01 * units.K_B / (units.H * f * 1e9)]
    plain = [str(t[0]), str(t[1]), "--J", "2e-4", "0.2", "--K", "0", "-0.2"]
    plain += ["--detuning", "4e-4", "--exchange", str(3e6 / (2 * np.pi * f * 1e9))]
    ref = _solve_json(capsys, ["--T", *plain])
    np.testing.assert_allclose(out["parameters"]["T"], t, rtol=1e-14)
    assert out["parameters"]["delta"] == 1.0 and ref["parameters"]["delta"] == 1.0
    for key in ("J(1)", "K", "detuning", "exchange"):
        np.testing.assert_allclose(out["parameters"][key], ref["parameters"][key], rtol=1e-14)
    np.testing.assert_allclose(out["populations"], ref["populations"], rtol=1e-12)
    assert out["negativity"] == pytest.approx(ref["negativity"], rel=1e-12)
    assert out["negativity"] > 0  # a point where the conversion matters
    ph = out["physical"]
    assert ph["delta_GHz"] == 5.0 and ph["T_K"] == pytest.approx([0.2, 0.01], rel=1e-14)
    assert ph["J(1)_MHz"] == pytest.approx([1.0, 1000.0], rel=1e-14)
    assert ph["exchange_MHz"] == pytest.approx(3e6 / (2 * np.pi) / 1e6, rel=1e-14)
    assert "physical" not in ref


def test_solve_units_mixed_with_bare_numbers(capsys):
    from jaxtls import units

    # bare numbers stay in units of Delta next to values with units; an energy for --delta
    a = _solve_json(
        capsys, ["--delta", "20ueV", "--T", "3", "0.05K", "--J", "1", "1e3"] + ["--K", "0", "1e3"]
    )
    f = 20e-6 * units.E_CHARGE / units.H / 1e9
    t2 = 0.05 * units.K_B / (units.H * f * 1e9)
    b = _solve_json(capsys, ["--T", "3", str(t2), "--J", "1", "1e3", "--K", "0", "1e3"])
    assert a["parameters"]["T"] == pytest.approx([3.0, t2], rel=1e-14)
    assert a["negativity"] == pytest.approx(b["negativity"], rel=1e-12)
    assert a["physical"]["delta_GHz"] == pytest.approx(f, rel=1e-14)
    # reading 0.05K as 0.05 Delta (no conversion) gives another state
    c = _solve_json(capsys, ["--T", "3", "0.05", "--J", "1", "1e3", "--K", "0", "1e3"])
    assert abs(c["negativity"] - a["negativity"]) > 1e-3


def test_solve_plain_delta_unchanged(capsys):
    # plain --delta keeps its meaning (Model(delta=...)), no "physical" block
    out = _solve_json(
        capsys, ["--T", "2", "0.1", "--J", "1", "10", "--K", "0", "7", "--delta", "2"]
    )
    rho = jaxtls.steady_state(jaxtls.Model([2.0, 0.1], [1.0, 10.0], [0.0, 7.0], delta=2.0))
    assert out["parameters"]["delta"] == 2.0 and "physical" not in out
    assert out["negativity"] == pytest.approx(float(jaxtls.negativity(rho)), rel=1e-13)
    assert out["parameters"]["exchange"] == 0.0


@pytest.mark.parametrize(
    "argv, match",
    [
        (["--T", "20mK", "0.1", "--J", "1", "1", "--K", "0", "0"], "--delta with a frequency"),
        (["--T", "1", "1", "--J", "1MHz", "1", "--K", "0", "0"], "--delta with a frequency"),
        (["--delta", "5GHz", "--T", "1um", "1", "--J", "1", "1", "--K", "0", "0"], "not a temp"),
        (["--delta", "5GHz", "--T", "1", "1", "--J", "1mK", "1", "--K", "0", "0"], "not a rate"),
        (["--delta", "5parsec", "--T", "1", "--J", "1", "--K", "0"], "unknown unit 'parsec'"),
        (["--delta", "200mK", "--T", "1", "--J", "1", "--K", "0"], "not a frequency or an"),
        (["--delta", "5GHz", "--T", "-5mK", "--J", "1", "--K", "0"], "must be >= 0"),
        (["--delta", "5GHz", "--T", "1", "--J", "1", "--K", "0", "--exchange", "xyz"], "--exch"),
    ],
)
def test_bad_units_exit_2_with_one_line(argv, match):
    proc = subprocess.run(
        [sys.executable, "-m", "jaxtls.cli", "solve", *argv], capture_output=True, text=True
    )
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and match in lines[0] and "Traceback" not in proc.stderr


def test_solve_names_the_tls_couplings_j1_j2_in_parentheses(capsys):
    out = _solve_json(capsys, ASYM)
    assert out["parameters"]["J(1)"] == [1.0, 10.0] and out["parameters"]["J(2)"] == [2.0, 5.0]
    assert "J1" not in out["parameters"] and "J2" not in out["parameters"]
    assert main(["solve", *ASYM]) == 0
    text = capsys.readouterr().out
    assert "J(1) 1 10" in text and "J(2) 2 5" in text


def test_one_progress_flag_and_the_reproduce_alias():
    from jaxtls.cli import build_parser

    parser = build_parser()
    for argv in (["reproduce", "--no-progress"], ["reproduce", "--quiet"]):
        assert parser.parse_args(argv).no_progress is True
    assert parser.parse_args(["reproduce"]).no_progress is False
    for name in ("sweep", "doe", "optimize"):
        args = ["--axis", "T_1", "1"] if name != "optimize" else []
        args += ["--out", "x"] if name == "sweep" else []
        assert parser.parse_args([name, *args, "--no-progress"]).no_progress is True, name
    assert parser.parse_args(["sweep", "--axis", "T_1", "1", "--out", "x", "--quiet"]).no_progress


def test_solve_starts_without_optimize_and_experiments():
    code = (
        "import sys; from jaxtls.cli import main; "
        "main(['solve', '--T', '1', '--J', '1', '--K', '0', '--json']); "
        "assert 'optimize' not in sys.modules and 'experiments' not in sys.modules"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


def test_wheel_lists_every_package():
    """Every package folder of the distribution is in pyproject's package list (``jaxtls.cli``
    was once missing: the installed ``jaxtls`` command then failed outside the checkout)."""
    import pathlib
    import re

    root = pathlib.Path(__file__).resolve().parents[1]
    text = (root / "pyproject.toml").read_text()
    listed = set(re.findall(r'"([\w.]+)"', re.search(r"^packages = \[(.*)\]", text, re.M)[1]))
    mapped = dict(
        re.findall(r'"([\w.]+)" = "(\w+)"', re.search(r"^package-dir = (.*)", text, re.M)[1])
    )
    for pkg, folder in {"jaxtls": "jaxtls", **mapped}.items():
        for init in (root / folder).rglob("__init__.py"):
            rel = init.parent.relative_to(root / folder).parts
            assert ".".join((pkg, *rel)) in listed, f"{pkg}.{'.'.join(rel)} is not installed"
    assert {"jaxtls.optimize", "jaxtls.experiments"} <= listed
