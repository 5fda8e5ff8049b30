"""jaxtls.progress: the one progress bar and the ``progress=`` convention."""

import io

import pytest

from jaxtls.progress import ProgressBar, progress_bar


class Tty(io.StringIO):
    def isatty(self):
        return True


def test_not_a_terminal_is_quiet_a_line_per_tenth():
    out = io.StringIO()
    bar = ProgressBar(1000, "work", stream=out, unit="points")
    for i in range(1, 1001):
        bar.update(i, "info")
    bar.close()
    lines = out.getvalue().splitlines()
    assert len(lines) == 11 and "\r" not in out.getvalue()
    assert lines[-1].startswith("work [" + "#" * 30 + "] 100% 1000/1000 points ")
    assert lines[-1].endswith(" info")


def test_terminal_redraws_in_place_and_ends_the_line():
    out = Tty()
    bar = ProgressBar(3, "t", stream=out)
    bar.step("a")
    bar.write("a message")
    bar.step("b")
    bar.step("c")
    bar.close()  # nothing more: reaching the total ended the line
    text = out.getvalue()
    assert text.count("\r") >= 3 and text.endswith("\n") and "a message\n" in text
    assert text.rstrip("\n").split("\r")[-1].startswith("t [" + "#" * 30 + "] 100% 3/3")


def test_the_progress_convention():
    assert progress_bar(None, 3).enabled is False and progress_bar(False, 3).enabled is False
    on = progress_bar(True, 3, "x")
    assert isinstance(on, ProgressBar) and on.enabled
    mine = ProgressBar(3, stream=io.StringIO())
    assert progress_bar(mine, 3) is mine
    stream = io.StringIO()
    progress_bar(stream, 2, "s").step()
    assert stream.getvalue().startswith("s [")
    lines = []
    bar = progress_bar(lines.append, 2, "c")
    bar.step()
    bar.write("note")
    assert lines[0].startswith("c [") and lines[-1] == "note"

    class Mine:  # only update(): step, write and close are filled in
        def __init__(self):
            self.seen = []

        def update(self, done, info=""):
            self.seen.append(done)

    m = Mine()
    bar = progress_bar(m, 5)
    bar.step()
    bar.step()
    bar.close()
    assert m.seen == [1, 2]
    with pytest.raises(ValueError, match="progress must be"):
        progress_bar(3, 5)


def test_silent_bar_writes_nothing(capsys):
    bar = progress_bar(None, 2, "q")
    bar.step()
    bar.write("x")
    bar.close()
    assert capsys.readouterr().err == ""


def test_optimize_and_experiments_use_the_one_bar():
    from jaxtls import optimize
    from jaxtls.experiments import _progress

    assert optimize.ProgressBar is ProgressBar and _progress.Progress is ProgressBar
    assert isinstance(_progress.bar(2, "e", True), ProgressBar)
