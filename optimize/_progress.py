"""The progress bar of :mod:`optimize` is :class:`jaxtls.progress.ProgressBar` (the project has
one); this name stays for the modules that import it from here."""

from jaxtls.progress import ProgressBar

__all__ = ["ProgressBar"]
