"""The project's one progress bar (no dependency) and its ``progress=`` convention.

Every long computation (:func:`jaxtls.sweep`, :func:`jaxtls.run_doe`, ``optimize``'s searches,
the experiments of ``jaxtls reproduce``) takes ``progress=`` and reads it with
:func:`progress_bar`:

* ``None`` or ``False``: silent;
* ``True``: a :class:`ProgressBar` on stderr;
* an object with ``update(done, info="")`` (a :class:`ProgressBar`, or your own): used as it
  is (its ``write(line)`` and ``close()`` too, where it has them);
* a stream (an object with ``write`` but no ``update``: ``sys.stderr``, an open file): a
  :class:`ProgressBar` on it;
* any other callable taking one line of text (``print``, ``logging.info``, ``list.append``):
  a line every 10%.

The bar is redrawn in place on a terminal; on a stream that is not a terminal (a log file, a
pipe, captured output) it stays quiet: no redrawing, one line every 10% (11 lines at most).
On the command line, ``--no-progress`` silences it.
"""

from __future__ import annotations

import sys
import time

__all__ = ["ProgressBar", "progress_bar"]


class ProgressBar:
    """Progress of ``total`` units of work (``unit``: their name, e.g. ``"points"``) on
    ``stream`` (stderr by default; a callable taking a line of text also works).

    :meth:`update` sets the work done, :meth:`step` advances by one, :meth:`write` prints a
    line without breaking the bar, :meth:`close` (or reaching ``total``) ends the bar's line.
    ``enabled=False`` makes it silent. Usable as a context manager (closes on exit).

    Example:
      >>> import io
      >>> out = io.StringIO()  # not a terminal: a line every 10%
      >>> bar = ProgressBar(4, "demo", stream=out)
      >>> for i in range(1, 5):
      ...     bar.update(i)
      >>> bar.close()
      >>> out.getvalue().splitlines()[-1].startswith("demo [##############################] 100%")
      True
      >>> len(out.getvalue().splitlines())
      4
    """

    def __init__(
        self,
        total: int,
        label: str = "",
        stream=None,
        width: int = 30,
        unit: str = "",
        enabled: bool = True,
    ):
        self.total = max(1, int(total))
        self.label = label
        self.unit = unit
        self.stream = sys.stderr if stream is None else stream
        self.width = width
        self.enabled = bool(enabled)
        self._lines = None if hasattr(self.stream, "write") else self.stream  # a callable
        self.tty = self._lines is None and bool(getattr(self.stream, "isatty", lambda: False)())
        self.t0 = time.perf_counter()
        self.done = 0
        self._last_decile = -1
        self._open = False  # a redrawn line is on the terminal
        self._finished = False

    def _line(self, info: str) -> str:
        frac = min(1.0, self.done / self.total)
        fill = int(round(frac * self.width))
        bar = "#" * fill + "." * (self.width - fill)
        el = time.perf_counter() - self.t0
        head = f"{self.label} " if self.label else ""
        unit = f" {self.unit}" if self.unit else ""
        tail = f" {info}" if info else ""
        return f"{head}[{bar}] {100 * frac:3.0f}% {self.done}/{self.total}{unit} {el:.1f}s{tail}"

    def _emit(self, text: str) -> None:
        if self._lines is not None:
            self._lines(text)
        else:
            self.stream.write(text + "\n")
            self.stream.flush()

    def update(self, done: int, info: str = "") -> None:
        """Set the amount of work done (``0 .. total``) and redraw."""
        done = min(int(done), self.total)
        if not self.enabled or (self._finished and done == self.done):
            self.done = done
            return
        self.done = done
        self._finished = done >= self.total
        if self.tty:
            self.stream.write("\r" + self._line(info) + "\x1b[K")
            self._open = True
            if self._finished:  # the last redraw ends the line
                self.stream.write("\n")
                self._open = False
            self.stream.flush()
            return
        decile = int(10 * done / self.total)
        if decile != self._last_decile:
            self._last_decile = decile
            self._emit(self._line(info))

    def step(self, info: str = "") -> None:
        """Advance by one unit of work and show ``info`` (what was just finished)."""
        self.update(self.done + 1, info)

    def write(self, text: str) -> None:
        """Print a line of text without breaking the bar."""
        if not self.enabled:
            return
        if self._open:
            self.stream.write("\r\x1b[K")
        self._emit(text)
        if self._open:
            self.stream.write(self._line(""))
            self.stream.flush()

    def close(self) -> None:
        """Finish the bar's line."""
        if self._open:
            self.stream.write("\n")
            self.stream.flush()
            self._open = False

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def progress_bar(progress, total: int, label: str = "", unit: str = ""):
    """The bar for a ``progress=`` argument (the module's convention): an object with
    ``update(done, info="")``, ``step(info="")``, ``write(line)`` and ``close()``.

    Example:
      >>> lines = []
      >>> bar = progress_bar(lines.append, 20, "demo", unit="points")
      >>> for _ in range(20):
      ...     bar.step()
      >>> len(lines), lines[-1].startswith("demo [")
      (11, True)
      >>> progress_bar(None, 5).update(3)  # silent
    """
    if progress is None or progress is False:
        return ProgressBar(total, label, unit=unit, enabled=False)
    if progress is True:
        return ProgressBar(total, label, unit=unit)
    if isinstance(progress, ProgressBar):
        return progress
    if hasattr(progress, "update"):
        return _Given(progress)
    if hasattr(progress, "write") or callable(progress):
        return ProgressBar(total, label, stream=progress, unit=unit)
    raise ValueError(
        "progress must be None, True, an object with update(done, info), a stream or a "
        f"callable taking a line of text, got {progress!r}"
    )


class _Given:
    """A caller's progress object, completed with what it lacks (``step``, ``write``,
    ``close``)."""

    def __init__(self, bar):
        self.bar, self.done = bar, 0

    def update(self, done, info=""):
        self.done = int(done)
        self.bar.update(done, info)

    def step(self, info=""):
        self.update(self.done + 1, info)

    def write(self, text):
        getattr(self.bar, "write", lambda line: print(line, file=sys.stderr))(text)

    def close(self):
        getattr(self.bar, "close", lambda: None)()
