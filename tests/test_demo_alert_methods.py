"""The demo's alert table names the series each alert was judged on when both the
one-by-one count and the occupied-length estimate raised alerts (each series has its own
record, so "a record of 17.6" beside "a record of 15" needs saying which is which)."""

from __future__ import annotations

from pathlib import Path

import pytest

from railwatch.cli.main import main
from railwatch.demo import DemoAlert


def _run(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    alerts: list[DemoAlert],
) -> str:
    import railwatch.demo as demo

    result = demo.DemoResult(
        out_dir=tmp_path, db_url=f"sqlite:///{tmp_path / 'd.db'}", site="tumangang"
    )
    result.alerts = alerts
    monkeypatch.setattr(demo, "earlier_run", lambda *a, **k: None)
    monkeypatch.setattr(demo, "run_demo", lambda *a, **k: result)
    monkeypatch.setenv("COLUMNS", "200")
    assert main(["demo", "--out", str(tmp_path)]) == 0
    return capsys.readouterr().out


def test_both_methods_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    out = _run(
        tmp_path,
        monkeypatch,
        capsys,
        [
            DemoAlert("2023-10-05", "record", "high", "68 railcars. More.", "objects"),
            DemoAlert("2023-11-10", "record", "medium", "65.5 railcars. More.", "length"),
            DemoAlert("2023-11-12", "spike", "info", "not shown", "length"),
        ],
    )
    assert "counted from" in out
    rows = [line for line in out.splitlines() if "2023-1" in line]
    assert len(rows) == 2, out
    assert "cars one by one" in rows[0] and "68 railcars." in rows[0]
    assert "track length" in rows[1] and "65.5 railcars." in rows[1]


def test_one_method_no_column(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    out = _run(
        tmp_path,
        monkeypatch,
        capsys,
        [DemoAlert("2023-10-05", "record", "high", "68 railcars. More.")],
    )
    assert "counted from" not in out and "cars one by one" not in out
    assert "68 railcars." in out
