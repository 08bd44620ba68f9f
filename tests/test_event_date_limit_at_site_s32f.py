"""The event date limit (at most a year ahead) counts from today at the site, its
nominal zone, where the site is known (session 32): it counted from today in UTC, so at
a UTC-12 site, while it was still 2026-12-05 there, 2027-12-07 (367 days ahead) was
taken, and at a UTC+12 site a date a year ahead of its own today was refused."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from shapely.geometry import box

import railwatch.limits as limits
from railwatch.errors import InputError
from railwatch.sites import SiteSpec
from railwatch.storage import Database, repo


def _clock(monkeypatch: pytest.MonkeyPatch, now: datetime) -> None:
    class Fixed(datetime):
        @classmethod
        def now(cls, tz: object = None) -> Fixed:
            return cls.fromtimestamp(now.timestamp(), tz=UTC)

    monkeypatch.setattr(limits, "datetime", Fixed)


def _db(tmp_path: Path) -> Database:
    db = Database(f"sqlite:///{tmp_path / 'rw.db'}")
    with db.session() as s:
        repo.add_site(s, SiteSpec(name="west", geometry=box(-179.95, 10.0, -179.9, 10.05)))
        repo.add_site(s, SiteSpec(name="east", geometry=box(179.9, 10.0, 179.95, 10.05)))
    return db


def test_a_year_ahead_counts_from_today_at_a_utc_minus_12_site(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = _db(tmp_path)
    _clock(monkeypatch, datetime(2026, 12, 6, 5, tzinfo=UTC))  # 2026-12-05 17:00 at UTC-12
    with (
        db.session() as s,
        pytest.raises(InputError, match=r"after today at the site \(2026-12-05\)"),
    ):
        repo.add_event(s, "west", date(2027, 12, 7), "far")
    with db.session() as s:
        ev = repo.add_event(s, "west", date(2027, 12, 6), "ahead")  # 366 days: the limit
        event_id = ev.id
    with db.session() as s, pytest.raises(InputError, match="2027-12-06"):
        repo.update_event(s, event_id, when=date(2027, 12, 7))
    # where no site is known (analyze --counts --event), today is UTC's
    assert limits.check_event_date(date(2027, 12, 7)) == date(2027, 12, 7)


def test_a_year_ahead_counts_from_today_at_a_utc_plus_12_site(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = _db(tmp_path)
    _clock(monkeypatch, datetime(2026, 12, 5, 14, tzinfo=UTC))  # 2026-12-06 02:00 at UTC+12
    with db.session() as s:
        repo.add_event(s, "east", date(2027, 12, 7), "ahead")  # 366 days after 12-06
