"""`railwatch analyze SITE --as-of DATE` allows today at the site (session 31).

`--as-of` refused a date after the later of today in UTC and today on the machine's
clock, but for a stored site the date is a day at the site: at a UTC+12 site each local
morning, its today (the day its new images and alerts are dated by) was refused on a
machine running on UTC. Now the limit for a stored site is today at the site (and a
UTC-10 site's tomorrow is refused although it is already today in UTC); `--counts`,
whose dates are UTC days, keeps the old rule. The module's clock is fixed here.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from shapely.geometry import box

from counted_site import LOCAL, add_counted_site, steady_then_rise
from counted_site import WELLINGTON as GEOM
from railwatch.cli.main import main
from railwatch.storage import Database

#: 155°W, nominal UTC-10
HONOLULU = box(-155.0, 19.7, -154.99, 19.71)


def _fix_clock(monkeypatch: pytest.MonkeyPatch, now: datetime, machine: date) -> None:
    """``railwatch.cli.analyze``'s clock: ``now`` (UTC), and ``machine`` as this
    machine's own date."""
    import railwatch.cli.analyze as analyze_mod

    class FixedDatetime(datetime):
        @classmethod
        def now(cls, tz: Any = None) -> FixedDatetime:
            fixed = now if tz is None else now.astimezone(tz)
            return cls.combine(fixed.date(), fixed.timetz())

    class FixedDate(date):
        @classmethod
        def today(cls) -> FixedDate:
            return cls(machine.year, machine.month, machine.day)

    monkeypatch.setattr(analyze_mod, "datetime", FixedDatetime)
    monkeypatch.setattr(analyze_mod, "date", FixedDate)


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A UTC+12 site ('wellington', its last image 2024-02-04 22:30 UTC, 2024-02-05 at
    10:30 there) and a UTC-10 one ('honolulu', the same images)."""
    url = f"sqlite:///{tmp_path_factory.mktemp('as-of-today') / 'rw.db'}"
    db = Database(url)
    try:
        add_counted_site(db, "wellington", GEOM, steady_then_rise())
        add_counted_site(db, "honolulu", HONOLULU, steady_then_rise())
    finally:
        db.dispose()
    return url


def test_today_at_a_utc_plus_12_site_is_allowed(
    url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """At 23:00 UTC on 2024-02-04, on a machine on UTC, it is 11:00 on 2024-02-05 at the
    site: --as-of 2024-02-05 looks back to the end of that day there (the spike of
    10:30 that morning in), where it was refused as after today (2024-02-04); the
    next day is refused, naming today at the site."""
    _fix_clock(monkeypatch, datetime(2024, 2, 4, 23, 0, tzinfo=UTC), date(2024, 2, 4))
    capsys.readouterr()
    assert main(["--db", url, "analyze", "wellington", "--as-of", LOCAL, "--json"]) == 0, (
        capsys.readouterr().err
    )
    out = json.loads(capsys.readouterr().out)
    assert out["as_of"] == LOCAL and out["stored"] is False
    assert f"spike:all:{LOCAL}" in {a["key"] for a in out["alerts"]}
    assert main(["--db", url, "analyze", "wellington", "--as-of", "2024-02-06"]) == 2
    err = " ".join(capsys.readouterr().err.split())
    today = "after today (2024-02-05 at wellington, UTC+12 nominal)"
    assert f"--as-of 2024-02-06 is {today}" in err, err
    assert "leave it out" in err


def test_tomorrow_at_a_utc_minus_10_site_is_refused(
    url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """At 03:00 UTC on 2024-02-06 it is still 2024-02-05 (17:00) at a UTC-10 site: its
    2024-02-06 has not begun, so a look-back to its end is refused although that is
    today in UTC; 2024-02-05 is taken."""
    _fix_clock(monkeypatch, datetime(2024, 2, 6, 3, 0, tzinfo=UTC), date(2024, 2, 6))
    capsys.readouterr()
    assert main(["--db", url, "analyze", "honolulu", "--as-of", "2024-02-06"]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "is after today (2024-02-05 at honolulu, UTC-10 nominal)" in err, err
    assert main(["--db", url, "analyze", "honolulu", "--as-of", "2024-02-05", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["as_of"] == "2024-02-05"


def test_counts_keep_today_in_utc_or_on_the_machine(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """--counts (its dates UTC days, no site zone): a date after today in UTC is refused
    unless it is today on the machine's clock, as before."""
    path = tmp_path / "counts.csv"
    path.write_text("date,count\n2024-01-20,10\n2024-01-30,11\n2024-02-04,9\n")
    args = ["analyze", "--counts", str(path), "--as-of", "2024-02-05", "--json"]
    _fix_clock(monkeypatch, datetime(2024, 2, 4, 23, 0, tzinfo=UTC), date(2024, 2, 4))
    capsys.readouterr()
    assert main(args) == 2
    assert "--as-of 2024-02-05 is after today (2024-02-04)" in " ".join(
        capsys.readouterr().err.split()
    )
    # an analyst's machine east of Greenwich, where it is 2024-02-05 already
    _fix_clock(monkeypatch, datetime(2024, 2, 4, 23, 0, tzinfo=UTC), date(2024, 2, 5))
    assert main(args) == 0, capsys.readouterr().err
