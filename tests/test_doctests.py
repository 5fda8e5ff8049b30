"""The docstring examples of ``jaxtls.optimize`` (folder ``optimize/``), run under their installed
names: pytest's own doctest collection would import the folder a second time as a top-level
``optimize`` package, whose classes differ from ``jaxtls.optimize``'s. (``jaxtls/`` itself is
collected by pytest's ``--doctest-modules``.)"""

import doctest
import importlib
import pkgutil

import pytest

import jaxtls.optimize

MODULES = [
    "jaxtls.optimize",
    *(f"jaxtls.optimize.{m.name}" for m in pkgutil.iter_modules(jaxtls.optimize.__path__)),
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, verbose=False, report=True)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed in {name}"


def test_examples_exist():
    """The search, the spaces and the objectives carry runnable examples (the parametrized
    test above would pass vacuously on modules without any)."""
    finder = doctest.DocTestFinder()
    n = sum(len(t.examples) for name in MODULES for t in finder.find(importlib.import_module(name)))
    assert n >= 20
