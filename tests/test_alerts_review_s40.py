"""Review of the history, baseline and alert analysis (2026-12-06, session 40): faults
found by trying the rules, the settings and ``railwatch analyze`` for real."""

from __future__ import annotations

from pathlib import Path
from re import escape as re_escape

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


@pytest.mark.parametrize(
    ("fields", "says"),
    [
        ({"noise_min_points": 61}, "noise_min_points (61) must not exceed noise_history (60)"),
        (
            {"noise_history": 10, "noise_min_points": 12},
            "noise_min_points (12) must not exceed noise_history (10)",
        ),
        (
            {"interval_min_points": 21},
            "interval_min_points (21) must not exceed interval_history (20)",
        ),
        ({"confirm_methods": ("lenght",)}, "confirm_methods names 'lenght', not a count method"),
        (
            {"confirm_methods": ("length", "object")},
            "confirm_methods names 'object', not a count method",
        ),
    ],
)
def test_settings_that_switch_a_rule_off_without_a_word_are_refused(
    fields: dict[str, object], says: str
) -> None:
    """A noise or usual width that needs more images than it is taken from was never
    known (the series' noise tests, or the excess of an interval over the usual, off), and
    a misspelt confirm method confirmed nothing: all were taken silently."""
    with pytest.raises(ValidationError, match=re_escape(says)):
        AlertSettings(**fields)  # type: ignore[arg-type]


def test_the_settings_at_their_limits_are_taken() -> None:
    settings = AlertSettings(
        noise_min_points=60,
        interval_min_points=20,
        confirm_methods=("length", "objects", "manual", "presence"),
    )
    assert settings.noise_min_points == settings.noise_history
    assert AlertSettings(confirm_methods=()).confirm_methods == ()
