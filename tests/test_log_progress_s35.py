"""Progress in a log (2026-12-06, session 35): with stderr not a terminal (cron, CI,
``2> file``) the rich bar is not drawn, and a long ``railwatch process`` backfill wrote
nothing until its summary, so its log could not tell a run that moves from one that
hangs. Now a task writes one plain line at most every ``RAILWATCH_PROGRESS_SECONDS``
(default 60); a shorter run writes none."""

from __future__ import annotations

import pytest

from railwatch.cli import _common
from railwatch.errors import ConfigError


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _bar(monkeypatch: pytest.MonkeyPatch, clock: Clock) -> _common.Progress:
    bar = _common.progress_bar()
    assert bar.disable  # pytest's stderr is not a terminal
    monkeypatch.setattr(bar, "get_time", clock)
    return bar


def test_a_long_task_writes_a_line_a_minute_in_a_log(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("RAILWATCH_PROGRESS_SECONDS", raising=False)
    clock = Clock()
    with _bar(monkeypatch, clock) as bar:
        task = bar.add_task("[bold]tumangang[/]", total=500)
        for done in range(1, 501):
            clock.now += 0.5  # 250 s in all
            bar.update(task, completed=done)
    out, err = capsys.readouterr()
    assert out == ""
    lines = err.splitlines()
    assert lines == [
        "tumangang: 120/500 (24 %), 1 min 0 s",
        "tumangang: 240/500 (48 %), 2 min 0 s",
        "tumangang: 360/500 (72 %), 3 min 0 s",
        "tumangang: 480/500 (96 %), 4 min 0 s",
    ]


def test_a_short_run_and_a_terminal_write_no_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("RAILWATCH_PROGRESS_SECONDS", raising=False)
    clock = Clock()
    with _bar(monkeypatch, clock) as bar:
        task = bar.add_task("site", total=None)
        for _ in range(50):
            clock.now += 1.0
            bar.advance(task)
    assert capsys.readouterr().err == ""
    monkeypatch.setenv("RAILWATCH_PROGRESS_SECONDS", "10")
    with _bar(monkeypatch, clock) as bar:
        task = bar.add_task("site", total=None)
        for _ in range(25):
            clock.now += 1.0
            bar.advance(task)
    assert capsys.readouterr().err.splitlines() == ["site: 10, 10 s", "site: 20, 20 s"]
    monkeypatch.setenv("RAILWATCH_PROGRESS_SECONDS", "0")
    with _bar(monkeypatch, clock) as bar:
        task = bar.add_task("site", total=3)
        clock.now += 1e6
        bar.advance(task)
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize("raw", ["soon", "-5", "nan"])
def test_a_bad_interval_is_refused_saying_what_to_give(
    monkeypatch: pytest.MonkeyPatch, raw: str
) -> None:
    monkeypatch.setenv("RAILWATCH_PROGRESS_SECONDS", raw)
    with pytest.raises(ConfigError, match="RAILWATCH_PROGRESS_SECONDS"):
        _common.progress_bar()


def test_force_color_does_not_draw_the_bar_into_a_log(monkeypatch: pytest.MonkeyPatch) -> None:
    """FORCE_COLOR (CI runners set it) makes rich take a log file for a terminal: the
    bar's frames and cursor codes went into the log of `process ... 2>log` (found by the
    CLI audit, session 35). The bar is drawn only where stderr is a terminal itself."""
    monkeypatch.setattr(_common.err_console, "_force_terminal", True)  # what FORCE_COLOR sets
    assert _common.err_console.is_terminal
    assert _common.progress_bar().disable
    monkeypatch.setattr(_common.err_console, "_is_tty", lambda: True)
    monkeypatch.setenv("TERM", "xterm-256color")
    assert not _common.progress_bar().disable
