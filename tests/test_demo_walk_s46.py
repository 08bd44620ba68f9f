"""The demo walkthrough (2026-12-07, session 46): what `make demo` prints, followed as a
newcomer would."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from railwatch.cli.demo import as_of_lines
from railwatch.demo import DemoAlert, DemoResult


def _result(tmp_path: Path) -> DemoResult:
    db = tmp_path / "railwatch-demo" / "railwatch-demo.db"
    result = DemoResult(out_dir=db.parent, db_url=f"sqlite:///{db}", site="tumangang")
    result.as_of = "2024-07-28"
    result.added_today = [
        DemoAlert(
            "2024-09-11",
            "quality",
            "medium",
            "No usable image of this site since 2024-07-28: 45 days on 2024-09-11.",
        )
    ]
    return result


def test_the_analyze_command_the_demo_names_works_on_its_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The summary said "`railwatch analyze tumangang` judges as of today and adds
    this": run as written, in the folder `make demo` ran in, it found no railwatch.db
    ("error: no database at .../railwatch.db"), the demo's being railwatch-demo.db. The
    summary now also gives the command with the demo's --db, as `make demo` ran it."""
    result = _result(tmp_path)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "argv", [".venv/bin/railwatch", "demo"])
    lines = as_of_lines(result)
    assert lines[-1] == (
        "    to run it on the demo's database: .venv/bin/railwatch --db "
        f"{result.db_url} analyze tumangang"
    )


def test_no_analyze_command_when_today_adds_nothing(tmp_path: Path) -> None:
    result = _result(tmp_path)
    result.added_today = []
    lines = as_of_lines(result)
    assert lines == ["  alerts as of the last image (2024-07-28), the end of the demo's history"]


def test_a_rerun_says_the_report_is_made_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A second `make demo` said "only what is missing is done" and then spent 17 s
    writing the report again: it now says the analysis and the report are made again."""
    import railwatch.demo as demo
    from railwatch.cli.main import main

    result = _result(tmp_path)
    monkeypatch.setattr(demo, "earlier_run", lambda *a, **k: demo.EarlierRun(223, 223))
    monkeypatch.setattr(demo, "run_demo", lambda *a, **k: result)
    monkeypatch.setenv("COLUMNS", "200")
    assert main(["demo", "--out", str(tmp_path / "railwatch-demo")]) == 0
    err = " ".join(capsys.readouterr().err.split())
    assert "(223 of 223 scenes already processed)" in err
    assert (
        "only what is missing is rendered, ingested and processed (the analysis and the "
        "report are made again)" in err
    )
