"""An analysis as of a moment takes every image of that moment's day at the site
(session 33). ``ingest --date DAY`` stores a date-only image at local noon there, so a
plain ``railwatch analyze SITE`` (as of now) run in the site's morning left an image of
today out and said it was "after" today, its own day."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from shapely.geometry import box

from counted_site import add_counted_site, steady_then_rise
from railwatch.analysis.alerts import analyze_series
from railwatch.analysis.types import CountPoint
from railwatch.cli.main import main
from railwatch.storage import Database

#: 155°W, nominal UTC-10
HONOLULU = box(-155.0, 19.7, -154.99, 19.71)
#: the rise, as `ingest --date 2024-02-05` stores it: noon there, 22:00 UTC
NOON = datetime(2024, 2, 5, 22, 0, tzinfo=UTC)
#: 08:00 at the site the same day
MORNING = datetime(2024, 2, 5, 18, 0, tzinfo=UTC)


def _fix_clock(monkeypatch: pytest.MonkeyPatch, now: datetime) -> None:
    import railwatch.cli.analyze as analyze_mod

    class FixedDatetime(datetime):
        @classmethod
        def now(cls, tz: Any = None) -> FixedDatetime:
            fixed = now if tz is None else now.astimezone(tz)
            return cls.combine(fixed.date(), fixed.timetz())

    class FixedDate(date):
        @classmethod
        def today(cls) -> FixedDate:
            return cls(now.year, now.month, now.day)

    monkeypatch.setattr(analyze_mod, "datetime", FixedDatetime)
    monkeypatch.setattr(analyze_mod, "date", FixedDate)


def test_analyze_in_the_sites_morning_takes_todays_noon_image(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'rw.db'}"
    db = Database(url)
    try:
        add_counted_site(db, "honolulu", HONOLULU, steady_then_rise(NOON))
    finally:
        db.dispose()
    _fix_clock(monkeypatch, MORNING)
    assert main(["--db", url, "analyze", "honolulu", "--json"]) == 0, capsys.readouterr().err
    out = json.loads(capsys.readouterr().out)
    assert out["as_of"] == "2024-02-05"
    assert "spike:all:2024-02-05" in {a["key"] for a in out["alerts"]}
    assert out.get("after", 0) == 0, out
    assert main(["--db", url, "analyze", "honolulu"]) == 0
    said = " ".join(capsys.readouterr().out.split())
    assert "left out" not in said, said


def test_analyze_series_cuts_by_the_sites_day_not_the_instant() -> None:
    """Points of as_of's local day are in, those of the next local day out."""
    zone = timedelta(hours=-10)
    pts = [
        CountPoint(when=when, cls="all", count=n, low=n - 2, high=n + 2)
        for when, n in steady_then_rise(NOON)
    ]
    nxt = NOON + timedelta(days=1)
    pts.append(CountPoint(when=nxt, cls="all", count=90.0, low=88.0, high=92.0))
    keys = {a.key for a in analyze_series(pts, as_of=MORNING, utc_offset=zone)}
    assert "spike:all:2024-02-05" in keys
    assert not any("2024-02-06" in k for k in keys), keys
