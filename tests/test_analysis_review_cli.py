"""`railwatch analyze`, `railwatch alerts` and `railwatch scene list` on a site where an
analyst reviewed a scene: the alert judged on it says so and is the same stored alert
(updated in place, its acknowledgement kept), and the analyst's counts are marked."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine

from railwatch.cli import _common
from railwatch.cli.analyze import REVIEWED_CAPTION, REVIEWED_MARK
from railwatch.cli.main import main
from railwatch.sites import SiteSpec
from railwatch.storage import Database, repo
from report_db import SITE_UTM, FakeCount, add_counted_scene, to_wgs84
from test_analysis_tumangang import tumangang

OCT5 = date(2023, 10, 5)


def _yard(db: Database, *, last: date | None = None) -> int:
    """Site ``yard`` with the hand-built Tumangang series stored as processed scenes
    (up to ``last``), 2023-10-05 read 61 (55-70) by the detector; that scene's id."""
    target = 0
    with db.session() as s:
        site = repo.add_site(s, SiteSpec(name="yard", geometry=to_wgs84(SITE_UTM)))
        for key, p in enumerate(tumangang()):
            if not p.is_usable or (last is not None and p.when.date() > last):
                continue
            n = 61.0 if p.when.date() == OCT5 else float(p.count or 0.0)
            lo, hi = (55.0, 70.0) if p.when.date() == OCT5 else (p.low or n, p.high or n)
            sid = add_counted_scene(s, site, p.when, 0.5, FakeCount(n, lo, hi, {}, 0), key + 1)
            if p.when.date() == OCT5:
                target = sid
    return target


@pytest.fixture
def yard(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Database, int]]:
    url = f"sqlite:///{tmp_path / 'yard.db'}"
    monkeypatch.setenv("RAILWATCH_DB", url)
    monkeypatch.setattr(_common.console, "width", 120)
    db = Database(url)
    sid = _yard(db)
    yield db, sid
    db.dispose()


def _json(capsys: pytest.CaptureFixture[str], *args: str) -> Any:
    assert main(list(args)) == 0
    return json.loads(capsys.readouterr().out)


def _record(alerts: list[dict[str, Any]]) -> dict[str, Any]:
    (found,) = [a for a in alerts if a["key"] == "record:all:2023-10-05"]
    return found


def test_analyze_judges_the_analysts_count_and_updates_the_same_alert(
    yard: tuple[Database, int], capsys: pytest.CaptureFixture[str]
) -> None:
    _, sid = yard
    before = _record(_json(capsys, "analyze", "yard", "--json")["alerts"])
    assert before["value"] == 61.0 and before["reviewed"] is False
    stored = _record(_json(capsys, "alerts", "yard", "--json"))
    assert stored["reviewed"] is False
    assert main(["alert", "ack", str(stored["id"]), "--note", "seen"]) == 0
    assert main(["scene", "review", str(sid), "--count", "73", "--note", "by eye"]) == 0
    capsys.readouterr()

    after = _record(_json(capsys, "analyze", "yard", "--json")["alerts"])
    assert after["value"] == 73.0 and after["severity"] == "high"
    assert after["reviewed"] is True and after["metrics"]["reviewed"] == 1.0
    assert (
        "73 railcars, counted by an analyst (scene review), on 2023-10-05" in (after["explanation"])
    )
    # one stored alert of that kind and date: updated in place, its acknowledgement kept
    # (the severity did not rise)
    rows = [a for a in _json(capsys, "alerts", "yard", "--json") if a["key"] == after["key"]]
    assert len(rows) == 1 and rows[0]["id"] == stored["id"]
    assert rows[0]["value"] == 73.0 and rows[0]["reviewed"] is True
    assert rows[0]["acknowledged"] and rows[0]["ack_note"] == "seen"

    # the tables mark it and say what the mark means
    assert main(["analyze", "yard", "--min-severity", "high"]) == 0
    out = capsys.readouterr().out
    assert out.count(REVIEWED_MARK) >= 2  # the record, the shift, and the caption's
    assert REVIEWED_CAPTION[:40] in " ".join(out.split())
    assert main(["alerts", "yard", "--class", "all", "--since", "2023-10-05"]) == 0
    out = capsys.readouterr().out
    assert REVIEWED_MARK in out and "counted by an analyst" in out

    # the review removed: the detector's count is judged again, the same alert unmarked
    assert main(["scene", "review", str(sid), "--remove"]) == 0
    capsys.readouterr()
    again = _record(_json(capsys, "analyze", "yard", "--json")["alerts"])
    assert again["value"] == 61.0 and again["reviewed"] is False
    assert "reviewed" not in again["metrics"]


def test_alert_tables_without_analysts_counts_have_no_mark(
    yard: tuple[Database, int], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["analyze", "yard", "--min-severity", "high"]) == 0
    out = capsys.readouterr().out
    assert "✓" not in out and "analyst" not in out


def test_scene_list_marks_the_analysts_counts(
    yard: tuple[Database, int], capsys: pytest.CaptureFixture[str]
) -> None:
    _, sid = yard
    listed = _json(capsys, "scene", "list", "yard", "--json")
    assert all(d["reviewed"] is False and d["detector_count"] is None for d in listed)
    assert main(["scene", "list", "yard"]) == 0
    assert "✓" not in capsys.readouterr().out
    assert main(["scene", "review", str(sid), "--count", "73"]) == 0
    capsys.readouterr()
    listed = _json(capsys, "scene", "list", "yard", "--json")
    marked = {d["id"]: d for d in listed if d["reviewed"]}
    assert list(marked) == [sid] and marked[sid]["count"]["total"] == 73.0
    assert marked[sid]["count"]["low"] == marked[sid]["count"]["high"] == 73.0
    # as GET /api/sites/{site}/scenes gives it: the detector's total beside
    assert marked[sid]["detector_count"]["total"] == 61.0
    assert main(["scene", "list", "yard"]) == 0
    out = capsys.readouterr().out
    rows = {line.split("│")[1].strip(): line.split("│") for line in out.splitlines() if "│" in line}
    assert rows[str(sid)][6].strip() == "73 ✓"
    assert rows[str(sid + 1)][6].strip() == "68"  # the detector's, unmarked
    assert "✓ counted by an analyst (railwatch scene review)" in out


def _statements(argv: list[str], capsys: pytest.CaptureFixture[str]) -> int:
    seen: list[str] = []

    def count(*args: Any) -> None:
        seen.append(str(args[2]))

    event.listen(Engine, "before_cursor_execute", count)
    try:
        assert main(argv) == 0
    finally:
        event.remove(Engine, "before_cursor_execute", count)
    capsys.readouterr()
    return sum(1 for q in seen if q.lstrip().upper().startswith("SELECT"))


def test_scene_list_reads_the_marks_without_a_query_per_scene(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(_common.console, "width", 120)
    queries = []
    for name, last in (("small", date(2019, 6, 1)), ("large", None)):
        url = f"sqlite:///{tmp_path / f'{name}.db'}"
        db = Database(url)
        sid = _yard(db, last=last) or 1
        with db.session() as s:
            repo.set_scene_review(s, sid, {"all": 73})
        db.dispose()
        monkeypatch.setenv("RAILWATCH_DB", url)
        queries.append(_statements(["scene", "list", "yard", "--json"], capsys))
    assert queries[0] == queries[1], queries
