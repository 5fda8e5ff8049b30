"""The experiments' progress bar is :class:`jaxtls.progress.ProgressBar` (the project has one):
:func:`bar` reads an experiment's ``progress=`` argument with
:func:`jaxtls.progress.progress_bar`, and the bar advances with ``step(what)``.

Example:
  >>> import io
  >>> from jaxtls.experiments._progress import Progress
  >>> buf = io.StringIO()
  >>> bar = Progress(2, "demo", stream=buf)
  >>> bar.step("first"); bar.step("second")
  >>> buf.getvalue().endswith("\\n"), "2/2" in buf.getvalue()
  (True, True)
"""

from __future__ import annotations

from jaxtls.progress import ProgressBar, progress_bar

Progress = ProgressBar  # the name the experiments knew it by


def bar(total: int, label: str, show) -> ProgressBar:
    """The bar of an experiment's ``progress=`` (``True``: stderr, ``False``: silent, or a
    stream, bar object or callable as :mod:`jaxtls.progress` reads them)."""
    return progress_bar(show, total, label)
