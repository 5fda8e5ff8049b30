"""A tiny text progress bar (no dependency): redrawn in place on a terminal, a line every 10%
otherwise (logs, pipes, captured output)."""

from __future__ import annotations

import sys
import time


class ProgressBar:
    """Progress of ``total`` units of work on ``stream`` (stderr by default).

    Example:
      >>> import io
      >>> out = io.StringIO()
      >>> bar = ProgressBar(4, "demo", stream=out)
      >>> for i in range(1, 5):
      ...     bar.update(i)
      >>> bar.close()
      >>> out.getvalue().splitlines()[-1].startswith("demo [##############################] 100%")
      True
    """

    def __init__(self, total: int, label: str = "", stream=None, width: int = 30):
        self.total = max(1, int(total))
        self.label = label
        self.stream = sys.stderr if stream is None else stream
        self.width = width
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.t0 = time.perf_counter()
        self.done = 0
        self._last_decile = -1
        self._open = False

    def _line(self, info: str) -> str:
        frac = min(1.0, self.done / self.total)
        fill = int(round(frac * self.width))
        bar = "#" * fill + "." * (self.width - fill)
        el = time.perf_counter() - self.t0
        head = f"{self.label} " if self.label else ""
        tail = f" {info}" if info else ""
        return f"{head}[{bar}] {100 * frac:3.0f}% {self.done}/{self.total} {el:.1f}s{tail}"

    def update(self, done: int, info: str = "") -> None:
        """Set the amount of work done (``0 .. total``) and redraw."""
        self.done = min(int(done), self.total)
        if self.tty:
            self.stream.write("\r" + self._line(info) + "\x1b[K")
            self._open = True
        else:
            decile = int(10 * self.done / self.total)
            if decile == self._last_decile:
                return
            self._last_decile = decile
            self.stream.write(self._line(info) + "\n")
        self.stream.flush()

    def write(self, text: str) -> None:
        """Print a line of text without breaking the bar."""
        if self._open:
            self.stream.write("\r\x1b[K")
        self.stream.write(text + "\n")
        if self._open:
            self.stream.write(self._line(""))
        self.stream.flush()

    def close(self) -> None:
        """Finish the bar's line."""
        if self._open:
            self.stream.write("\n")
            self._open = False
        self.stream.flush()
