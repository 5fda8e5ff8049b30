"""A tiny progress bar on stderr (no dependency).

Example:
  >>> import io
  >>> from experiments._progress import Progress
  >>> buf = io.StringIO()
  >>> bar = Progress(2, "demo", stream=buf)
  >>> bar.step("first"); bar.step("second")
  >>> buf.getvalue().endswith("\\n"), "2/2" in buf.getvalue()
  (True, True)
"""

from __future__ import annotations

import sys
import time

WIDTH = 24


class Progress:
    """``total`` steps labelled ``label``; :meth:`step` redraws one line (``\\r``), and the last
    step ends it with a newline. ``stream=None`` makes it silent."""

    def __init__(self, total: int, label: str = "", stream=sys.stderr):
        self.total, self.label, self.stream, self.done = max(int(total), 1), label, stream, 0
        self.t0 = time.perf_counter()

    def step(self, what: str = "") -> None:
        """Advance by one step and show ``what`` (the task just finished)."""
        self.done = min(self.done + 1, self.total)
        if self.stream is None:
            return
        n = WIDTH * self.done // self.total
        dt = time.perf_counter() - self.t0
        line = f"{self.label:<13}[{'#' * n}{'.' * (WIDTH - n)}] {self.done}/{self.total} {dt:5.1f}s"
        self.stream.write(f"\r{line} {what[:28]:<28}")
        if self.done >= self.total:
            self.stream.write("\n")
        self.stream.flush()


def bar(total: int, label: str, show: bool) -> Progress:
    """A :class:`Progress` on stderr, or a silent one when ``show`` is false."""
    return Progress(total, label, stream=sys.stderr if show else None)
