"""An ongoing silence's alert is stated on fixed days, not as of the analysis.

Until session 28 it said "No usable image of this site for 860 days (from 2024-07-28 as
of 2026-12-05)": dated 2024-09-11, it quoted a length that was not true on that date and
grew every day, so a plain `railwatch analyze SITE` (as of now) rewrote the stored alert
each day although nothing about the site had changed. Now the alert says what the
silence had come to on its own date (and, when medium, on the day it reached twice the
expected gap) and what the site's later images were, so two analyses on different days
store the same alert; it still grows from low to medium once, as before."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from railwatch.analysis import CountPoint, analyze_series
from railwatch.cli.main import main
from test_analysis_quality import T0, every_10_days, quality
from test_cli_analyze import _store_counts


def test_an_ongoing_silence_is_the_same_alert_on_two_days() -> None:
    pts = every_10_days(30)
    last = pts[-1].when
    day_one = analyze_series(pts, as_of=last + timedelta(days=100))
    day_two = analyze_series(pts, as_of=last + timedelta(days=400))
    assert [a.to_dict() for a in day_one] == [a.to_dict() for a in day_two]
    (q,) = quality(day_one)
    start = last.date()
    assert q.when.date() == start + timedelta(days=45) and q.severity == "medium"
    # true on the alert's date, and on the day it became medium (twice the 45 expected)
    assert q.explanation.startswith(
        f"No usable image of this site since {start}: 45 days on {start + timedelta(days=45)} "
        f"(the alert's date), 90 days (twice that) on {start + timedelta(days=90)}, and none "
        "since (the site has no later image); the site is usually seen every 10 days"
    )
    assert "as of" not in q.explanation
    assert q.metrics["gap_days"] == 90.0
    assert q.metrics["gap_until"] == str(start + timedelta(days=90))
    assert q.metrics["latest_image"] == "" and q.metrics["ongoing"] == "yes"


def test_a_low_silence_quotes_its_own_date_and_still_grows_to_medium() -> None:
    pts = every_10_days(30, unusable_tail=3)
    start = pts[29].when.date()
    low = quality(analyze_series(pts, as_of=pts[29].when + timedelta(days=60)))
    assert [a.severity for a in low] == ["low"]
    assert low[0].explanation.startswith(
        f"No usable image of this site since {start}: 45 days on {start + timedelta(days=45)} "
        "(the alert's date), and none since (3 later images were unusable, the latest on "
        f"{start + timedelta(days=30)});"
    )
    assert low[0].metrics["gap_days"] == 45.0
    # later the same silence is medium, under the same key (as before)
    medium = quality(analyze_series(pts, as_of=pts[29].when + timedelta(days=95)))
    assert medium[0].severity == "medium" and medium[0].key == low[0].key


def test_an_unusable_image_on_the_last_day_is_counted() -> None:
    """Without an as-of date the last image is the end; when it was unusable it was left
    out of the silence's unusable images (7 of 8 were named)."""
    pts = every_10_days(30, unusable_tail=8)
    (q,) = quality(analyze_series(pts))
    assert q.metrics["unusable_images"] == 8.0
    assert q.metrics["latest_image"] == pts[-1].when.date().isoformat()
    assert f"(8 later images were unusable, the latest on {pts[-1].when.date()})" in (q.explanation)


def test_a_site_seen_too_few_times_is_the_same_alert_on_two_days() -> None:
    never = [
        CountPoint(when=T0 + timedelta(days=12 * k), count=None, usable=False) for k in range(30)
    ]
    few = [
        CountPoint(when=T0, count=5.0),
        CountPoint(when=T0 + timedelta(days=10), count=6.0),
        CountPoint(when=T0 + timedelta(days=20), count=None, usable=False),
    ]
    for pts in (never, few):
        one = quality(analyze_series(pts, as_of=T0 + timedelta(days=400)))
        two = quality(analyze_series(pts, as_of=T0 + timedelta(days=900)))
        assert len(one) == 1 and one[0].to_dict() == two[0].to_dict()
        assert "as of" not in one[0].explanation
    (q,) = quality(analyze_series(never, as_of=T0 + timedelta(days=400)))
    assert q.explanation.startswith(
        "No usable image of this site at all: all 30 of its images from 2021-03-01 to "
        "2022-02-12 were unusable, so it had not been seen for 45 days on 2021-04-15 (the "
        "alert's date) and for 90 days (twice that) on 2021-05-30; with 0 usable images"
    )
    (q,) = quality(analyze_series(few, as_of=T0 + timedelta(days=60)))
    assert q.severity == "low" and q.explanation.startswith(
        "No usable image of this site since 2021-03-11: 45 days on 2021-04-25 (the alert's "
        "date), and none since (1 later image was unusable, on 2021-03-21); with 2 usable "
        "images (fewer than the 4"
    )


def _rows(url: str) -> list[tuple[Any, ...]]:
    from railwatch.storage import Database
    from railwatch.storage.models import Alert as Row

    db = Database(url)
    try:
        with db.session(readonly=True) as s:
            return [
                (a.key, a.severity, a.explanation, a.metrics, a.updated_at)
                for a in s.query(Row).order_by(Row.id)
            ]
    finally:
        db.dispose()


def test_stored_alerts_of_analyses_on_two_days_are_unchanged(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The yard's last image is of 2024-04-18: analysed (and stored) as of two days of
    2026 it is the same silence, left untouched by the second analysis."""
    url = f"sqlite:///{tmp_path / 'rw.db'}"
    _store_counts(url)
    base = ["--db", url]
    assert main([*base, "analyze", "yard", "--as-of", "2026-01-10", "--store"]) == 0
    capsys.readouterr()
    first = _rows(url)
    assert main([*base, "analyze", "yard", "--as-of", "2026-06-01", "--store"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert f"({len(first)} unchanged, 0 updated," in out.replace("0 new, ", "")
    assert _rows(url) == first  # updated_at too: nothing was written
    assert main([*base, "alerts", "yard", "--json"]) == 0
    (q,) = (a for a in json.loads(capsys.readouterr().out) if a["kind"] == "quality")
    assert q["explanation"].startswith(
        "No usable image of this site since 2024-04-18: 45 days on 2024-06-02 (the alert's "
        "date), 90 days (twice that) on 2024-07-17, and none since"
    )
