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
    np.testing.assert_allclose(out["populations"], np.real(np.diag(np.asarray(rho))), rtol=1e-14)
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
