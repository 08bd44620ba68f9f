"""Review of the history, baseline and alert analysis (2026-12-06, session 40): faults
found by trying the rules, the settings and ``railwatch analyze`` for real."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from railwatch.analysis.settings import AlertSettings
from railwatch.cli.main import main


def _counts_csv(tmp_path: Path) -> Path:
    path = tmp_path / "counts.csv"
    path.write_text("date,count\n2024-01-01,3\n2024-01-08,4\n2024-01-15,5\n")
    return path


def test_record_years_has_an_upper_bound() -> None:
    """record_years had no upper bound: 10**12 years overflowed the record window's
    seconds (an internal OverflowError), and every precedent rule looks at each of the N
    years."""
    assert AlertSettings(record_years=100).record_years == 100
    with pytest.raises(ValidationError, match="less than or equal to 100"):
        AlertSettings(record_years=101)


def test_analyze_refuses_a_record_window_beyond_any_imagery(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _counts_csv(tmp_path)
    years = ["--record-years", "1000000000000"]
    rc = main(["analyze", "--counts", str(path), *years, "--as-of", "2024-02-01"])
    err = capsys.readouterr().err
    assert rc == 2, err
    assert "internal error" not in err
    assert "--record-years 1000000000000: input should be less than or equal to 100" in err
