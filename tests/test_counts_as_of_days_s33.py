"""``analyze --counts FILE --as-of DAY`` on a file with a day column ends at the end of
that day in the file's days (session 33): since the analysis cuts by days at the site
(an image of the as-of day timed after the moment is in), --as-of's end of day in UTC,
read in the zone the day column fits, took the next day's images at a zone east of
Greenwich, and the summary counted the lines left out by the UTC instant, not by the
days the analysis took."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from counted_site import PATTERN
from railwatch.cli.main import main


def _write(path: Path, rows: list[tuple[datetime, str, float]]) -> Path:
    """An export's counts file, cut to its date, day, scene_id and count columns."""
    lines = ["date,day,scene_id,count"] + [
        f"{w.isoformat()},{d},{k + 1},{n}" for k, (w, d, n) in enumerate(rows)
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


def _east(tmp_path: Path) -> Path:
    """Images at 02:00 UTC dated by their UTC day (a day column that fits UTC-2 to
    UTC+12), then 500 cars on 2022-06-02."""
    first = datetime(2020, 1, 1, 2, 0, tzinfo=UTC)
    rows = [(first + timedelta(days=10 * k), PATTERN[k % 9]) for k in range(80)]
    rows.append((datetime(2022, 6, 2, 2, 0, tzinfo=UTC), 500.0))
    return _write(tmp_path / "east.csv", [(w, w.date().isoformat(), n) for w, n in rows])


def test_as_of_a_day_leaves_the_next_days_lines_out(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _east(tmp_path)
    args = ["analyze", "--counts", str(path), "--as-of", "2022-06-01", "--json"]
    assert main(args) == 0
    captured = capsys.readouterr()
    alerts = json.loads(captured.out)
    assert not [a for a in alerts if a["day"] == "2022-06-02"], alerts
    err = " ".join(captured.err.split())
    assert "1 count after 2022-06-01 (days at UTC+5) left out" in err, err


def test_a_line_of_the_as_of_day_by_its_day_column_is_in(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """West of Greenwich: 06:30 UTC on 06-02 is 2022-06-01 in the day column; --as-of
    2022-06-01 takes it (the analysis and the summary alike)."""
    monkeypatch.setenv("COLUMNS", "200")
    first = datetime(2020, 1, 1, 17, 30, tzinfo=UTC)
    rows = [
        (w, w.date().isoformat(), PATTERN[k % 9])
        for k, w in enumerate(first + timedelta(days=10 * k) for k in range(80))
    ]
    rows.append((datetime(2022, 6, 2, 6, 30, tzinfo=UTC), "2022-06-01", 500.0))
    path = _write(tmp_path / "west.csv", rows)
    assert main(["analyze", "--counts", str(path), "--as-of", "2022-06-01", "--json"]) == 0
    captured = capsys.readouterr()
    assert "left out" not in captured.err, captured.err
    assert any(a["day"] == "2022-06-01" for a in json.loads(captured.out))
    assert main(["analyze", "--counts", str(path), "--as-of", "2022-06-01"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "81 usable counts" in out and "left out" not in out, out
