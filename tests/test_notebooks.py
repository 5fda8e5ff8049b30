"""The notebooks in ``notebooks/`` run top to bottom without errors, and are stored executed.

They are stored with their outputs, so that a reader browsing them sees the results. The
tests never trust those outputs: ``test_notebook_runs`` clears them and executes every cell
afresh. To refresh the stored outputs after editing a notebook, run
``python tests/test_notebooks.py [NAME ...]`` (executes in a scratch folder and writes the
outputs back, without timing metadata).
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
NAMES = ["quick_tour.ipynb", "paper_walkthrough.ipynb"]


def _read(path):
    return nbformat.read(path, as_version=4)


def _code(nb):
    return [c for c in nb.cells if c.cell_type == "code"]


def _execute(nb, folder):
    """Clear every output, then run all cells in order in ``folder`` (raises on a failing cell)."""
    for cell in _code(nb):
        cell.outputs, cell.execution_count = [], None
    client = nbclient.NotebookClient(
        nb,
        timeout=300,
        kernel_name="python3",
        record_timing=False,
        resources={"metadata": {"path": str(folder)}},
    )
    client.execute()
    return nb


def _errors(nb):
    return [
        (i, out.get("ename"), out.get("evalue"))
        for i, cell in enumerate(_code(nb))
        for out in cell.outputs
        if out.output_type == "error"
    ]


@pytest.mark.parametrize("name", NAMES)
def test_notebook_is_stored_executed(name):
    # what a reader sees: every cell run once, in order, with its outputs and no error
    nb = _read(NOTEBOOKS / name)
    nbformat.validate(nb)
    code = _code(nb)
    assert code, f"{name} has no code cells"
    counts = [c.execution_count for c in code]
    assert counts == list(range(1, len(code) + 1)), f"{name}: not run top to bottom: {counts}"
    assert not _errors(nb), f"{name}: stored outputs contain errors {_errors(nb)}"
    for i, cell in enumerate(code):
        for out in cell.outputs:
            assert not (out.output_type == "stream" and out.name == "stderr"), (
                f"{name}: code cell {i} stores stderr output: {out.text[:200]!r}"
            )
        assert "execution" not in cell.metadata, f"{name}: cell {i} stores timing metadata"
    assert sum(bool(c.outputs) for c in code) >= len(code) // 2, f"{name}: few stored outputs"
    images = [o for c in code for o in c.outputs if "image/png" in o.get("data", {})]
    assert images, f"{name}: no figure stored"


@pytest.mark.parametrize("name", NAMES)
def test_notebook_runs(name, tmp_path, monkeypatch):
    # Run a copy in a scratch folder, so nothing the notebook writes lands in the repository,
    # and put the checkout first on the kernel's path, so it imports this tree's jaxtls and
    # experiments (also when an older editable install is on the machine).
    shutil.copy(NOTEBOOKS / name, tmp_path / name)
    path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)
    monkeypatch.setenv("PYTHONPATH", path)
    # the kernel inherits the session's persistent compilation cache (tests/conftest.py)
    stored = _read(tmp_path / name)
    had_output = [bool(c.outputs) for c in _code(stored)]
    nb = _execute(_read(tmp_path / name), tmp_path)  # outputs cleared first: a fresh run
    assert not _errors(nb), f"{name}: cells raised {_errors(nb)}"
    code = _code(nb)
    assert [c.execution_count for c in code] == list(range(1, len(code) + 1))
    # every cell that shows something in the stored notebook shows something now
    missing = [
        i for i, (c, had) in enumerate(zip(code, had_output, strict=True)) if had and not c.outputs
    ]
    assert not missing, f"{name}: code cells {missing} produced no output in a fresh run"


def refresh(names=NAMES):
    """Execute the notebooks afresh and store them with their outputs (see the docstring)."""
    env = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)
    os.environ["PYTHONPATH"] = env
    for name in names:
        with tempfile.TemporaryDirectory() as folder:
            nb = _execute(_read(NOTEBOOKS / name), folder)
        errors = _errors(nb)
        if errors:
            raise RuntimeError(f"{name}: cells raised {errors}")
        nbformat.validate(nb)
        nbformat.write(nb, NOTEBOOKS / name)
        print(f"stored {name} with its outputs")


if __name__ == "__main__":
    refresh(sys.argv[1:] or NAMES)
