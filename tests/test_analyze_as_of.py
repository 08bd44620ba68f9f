"""`analyze SITE --as-of DATE` is a look-back: it printed the alerts as of that date and
also stored them in place of the site's alerts ("3 removed, 1 acknowledged ones
retired"), so the dashboard, `railwatch alerts` and reports showed nothing later until a
plain analyze; and a date after today was accepted and reported years of silence. Now
it stores nothing unless --store asks, and a future date is refused."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from railwatch.analysis.events import local_day
from railwatch.analysis.store import site_utc_offset
from railwatch.cli.analyze import parse_as_of
from railwatch.cli.main import main
from railwatch.errors import InputError
from railwatch.storage import Database, repo
from test_cli_analyze import _csv, _store_counts


def _stored(base: list[str], capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    """Every stored alert of the yard, retired ones too."""
    assert main([*base, "alerts", "yard", "--all", "--json"]) == 0
    return list(json.loads(capsys.readouterr().out))


def _rows(base: list[str]) -> list[tuple[object, ...]]:
    """The stored alert rows, times included (the JSON has no updated_at)."""
    from railwatch.storage import Database
    from railwatch.storage.models import Alert

    db = Database(base[1])
    try:
        with db.session(readonly=True) as s:
            return [
                (a.key, a.severity, a.active, a.acknowledged, a.created_at, a.updated_at)
                for a in s.query(Alert).order_by(Alert.id)
            ]
    finally:
        db.dispose()


@pytest.fixture
def analysed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> list[str]:
    """A yard analysed as of now (records in 2021, a spike and a record on 2024-04-18,
    a silence since), its 2024 spike acknowledged."""
    url = f"sqlite:///{tmp_path / 'rw.db'}"
    _store_counts(url)
    base = ["--db", url]
    assert main([*base, "analyze", "yard"]) == 0
    capsys.readouterr()
    spike = next(a for a in _stored(base, capsys) if a["kind"] == "spike")
    assert main([*base, "alert", "ack", str(spike["id"]), "--note", "seen"]) == 0
    capsys.readouterr()
    return base


def test_a_look_back_prints_the_alerts_and_stores_nothing(
    analysed: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    base = analysed
    before, rows = _stored(base, capsys), _rows(base)
    assert {a["kind"] for a in before} >= {"spike", "quality"}
    assert main([*base, "analyze", "yard", "--as-of", "2022-01-01", "--json"]) == 0
    back = json.loads(capsys.readouterr().out)
    assert back["as_of"] == "2022-01-01" and back["stored"] is False
    assert back["alerts"] and all(a["when"] < "2022-01-02" for a in back["alerts"])
    assert main([*base, "analyze", "yard", "--as-of", "2022-01-01"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "yard as of 2022-01-01 (a look-back, not stored)" in out
    assert "37 usable of 37 images up to 2022-01-01; 84 images after it left out" in out
    assert "The stored alerts and acknowledgements are unchanged" in out
    assert "removed" not in out and "retired" not in out
    assert "yard: alerts as of 2022-01-01" in out
    # every stored alert as it was: the same rows, active, acknowledgement and times
    assert _stored(base, capsys) == before and _rows(base) == rows


def test_store_asks_for_it(
    analysed: list[str], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """--store stores the look-back's alerts (the acknowledged spike is kept, inactive);
    a plain analyze brings the site back to now, the acknowledgement still there."""
    base = analysed
    assert main([*base, "analyze", "yard", "--as-of", "2022-01-01", "--json"]) == 0
    back = json.loads(capsys.readouterr().out)["alerts"]
    assert main([*base, "analyze", "yard", "--as-of", "2022-01-01", "--store"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "yard as of 2022-01-01:" in out and "1 acknowledged alert retired" in out
    stored = _stored(base, capsys)
    assert {a["key"] for a in stored if a["active"]} == {a["key"] for a in back}
    (spike,) = (a for a in stored if a["kind"] == "spike")
    assert spike["acknowledged"] and not spike["active"]
    assert main([*base, "analyze", "yard"]) == 0
    capsys.readouterr()
    (spike,) = (a for a in _stored(base, capsys) if a["kind"] == "spike")
    assert spike["acknowledged"] and spike["active"] and spike["ack_note"] == "seen"
    assert main(["analyze", "--counts", str(_csv(tmp_path)), "--store"]) == 2
    assert "--store is for a site's stored alerts" in capsys.readouterr().err


def test_a_plain_analyze_still_stores(
    analysed: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    base = analysed
    # today at the site (since session 31; the yard is east of UTC, so from its local
    # midnight on this is the day after the UTC day)
    db = Database(base[1])
    with db.session(readonly=True) as s:
        offset = site_utc_offset(repo.get_site(s, "yard"))
    db.dispose()
    for _attempt in range(2):  # once more if the site's midnight fell during the runs (s43)
        today = local_day(datetime.now(UTC), offset).isoformat()
        assert main([*base, "analyze", "yard", "--json"]) == 0
        out = json.loads(capsys.readouterr().out)
        assert main([*base, "analyze", "yard"]) == 0
        text = " ".join(capsys.readouterr().out.split())
        if local_day(datetime.now(UTC), offset).isoformat() == today:
            break
    assert out["stored"] is True and out["as_of"] == today
    assert (
        f"yard as of {today} (today at the site): 121 usable of 121 images; "
        "5 alerts (0 new, 5 unchanged, 0 updated"
    ) in text


@pytest.mark.parametrize("args", [["yard"], ["--counts", "CSV"]])
def test_a_date_after_today_is_refused(
    analysed: list[str], capsys: pytest.CaptureFixture[str], tmp_path: Path, args: list[str]
) -> None:
    """2030-01-01 was accepted and stored 'No usable image ... for 2092 days'."""
    base = analysed
    before = _stored(base, capsys)
    args = [str(_csv(tmp_path)) if a == "CSV" else a for a in args]
    assert main([*base, "analyze", *args, "--as-of", "2030-01-01"]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "--as-of 2030-01-01 is after today (" in err and "leave it out" in err
    assert main([*base, "analyze", *args, "--as-of", "1850-06-01"]) == 2
    assert "--as-of 1850-06-01 is before 1900" in capsys.readouterr().err
    assert _stored(base, capsys) == before


def test_parse_as_of_allows_today() -> None:
    today = date(2026, 12, 4)
    assert parse_as_of("2026-12-04", today=today).date() == today
    with pytest.raises(InputError, match="is after today"):
        parse_as_of("2026-12-05", today=today)
