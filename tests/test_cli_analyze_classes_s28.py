"""``railwatch analyze --counts`` on a file that counts no site total (session 28): a
file of tank counts raised tank alerts under the line "tank.csv: N alerts, 0 usable
counts", and "no alerts (0 usable counts)" when none were raised; with --json, its counts
after --as-of were left out without the warning a file of totals gets."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest

from railwatch.cli.main import main


def _file(tmp_path: Path, classes: tuple[str, ...]) -> Path:
    lines = ["date,count,class"]
    for k in range(60):
        day = date(2020, 1, 1) + timedelta(days=10 * k)
        lines += [f"{day},{5 + k % 3},{cls}" for cls in classes]
    path = tmp_path / "types.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_a_file_of_one_class_says_how_many_counts_of_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    path = _file(tmp_path, ("tank",))
    assert main(["analyze", "--counts", str(path), "--as-of", "2021-01-02"]) == 0
    out = capsys.readouterr().out
    assert "37 usable counts of tank; 23 after 2021-01-02 left out" in out
    assert "0 usable counts" not in out


def test_a_file_of_several_classes_says_each(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    path = _file(tmp_path, ("tank", "hopper"))
    assert main(["analyze", "--counts", str(path), "--as-of", "2021-01-02"]) == 0
    out = capsys.readouterr().out
    assert "74 usable counts: hopper 37, tank 37; 46 after 2021-01-02 left out" in out


def test_a_file_with_totals_counts_the_totals(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    path = _file(tmp_path, ("all", "tank"))
    assert main(["analyze", "--counts", str(path), "--as-of", "2021-01-02"]) == 0
    out = capsys.readouterr().out
    assert "37 usable counts; 23 after 2021-01-02 left out" in out


def test_json_warns_of_the_counts_of_a_class_after_as_of(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _file(tmp_path, ("tank",))
    assert main(["analyze", "--counts", str(path), "--as-of", "2021-01-02", "--json"]) == 0
    err = capsys.readouterr().err
    assert "types.csv: 23 counts after 2021-01-02 23:59 UTC left out" in err
