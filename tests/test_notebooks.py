"""The notebooks in ``notebooks/`` run top to bottom without errors and are stored cleared."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
NAMES = ["quick_tour.ipynb", "paper_walkthrough.ipynb"]


def _read(name):
    return nbformat.read(NOTEBOOKS / name, as_version=4)


@pytest.mark.parametrize("name", NAMES)
def test_notebook_is_stored_cleared(name):
    nb = _read(name)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code, f"{name} has no code cells"
    for i, cell in enumerate(code):
        assert cell.outputs == [], f"{name}: code cell {i} has stored outputs (clear them)"
        assert cell.execution_count is None, f"{name}: code cell {i} has an execution count"


@pytest.mark.parametrize("name", NAMES)
def test_notebook_runs(name, tmp_path, tmp_path_factory, monkeypatch):
    # Run a copy in a scratch folder, so nothing the notebook writes lands in the repository,
    # and put the checkout first on the kernel's path, so it imports this tree's jaxtls and
    # experiments (also when an older editable install is on the machine).
    shutil.copy(NOTEBOOKS / name, tmp_path / name)
    path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)
    monkeypatch.setenv("PYTHONPATH", path)
    # JAX's persistent compilation cache, shared with tests/test_experiments.py (same session
    # folder): compiling dominates the notebooks' run time on a CPU
    if not os.environ.get("JAX_COMPILATION_CACHE_DIR"):
        cache = tmp_path_factory.getbasetemp() / "jax-cache"
        cache.mkdir(exist_ok=True)
        monkeypatch.setenv("JAX_COMPILATION_CACHE_DIR", str(cache))
        monkeypatch.setenv("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0.3")
    nb = nbformat.read(tmp_path / name, as_version=4)
    client = nbclient.NotebookClient(
        nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute()  # raises CellExecutionError on the first failing cell
    errors = [
        (i, out.get("ename"), out.get("evalue"))
        for i, cell in enumerate(nb.cells)
        if cell.cell_type == "code"
        for out in cell.outputs
        if out.output_type == "error"
    ]
    assert not errors, f"{name}: cells raised {errors}"
