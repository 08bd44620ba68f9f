"""Days at the site where the demo's summary and ``railwatch eval --site`` name a day
(session 33): both used the UTC date, a day early for a silence (whose ``when`` is local
midnight at the site, 15:00 UTC the day before at UTC+9) and for an image taken in the
site's evening."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from railwatch.analysis.types import Alert
from railwatch.cli import _common
from railwatch.cli.main import main
from railwatch.sites import SiteSpec
from railwatch.storage import Database, repo
from report_db import (
    SITE_UTM,
    FakeCount,
    add_counted_scene,
    to_wgs84,
)


def test_demo_alert_rows_date_alerts_by_the_sites_day() -> None:
    from datetime import timedelta

    from railwatch.demo import demo_alert_rows

    silence = Alert(
        key="k",
        kind="silence",
        severity="low",
        when=datetime(2020, 8, 17, 15, 0, tzinfo=UTC),  # 2020-08-18 00:00 at UTC+9
        cls="all",
        value=None,
        explanation="no usable image for 60 days",
    )
    rows = demo_alert_rows([silence], timedelta(hours=9))
    assert [r.when for r in rows] == ["2020-08-18"]


def test_eval_site_names_scenes_by_their_day_at_the_site(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'eval.db'}"
    monkeypatch.setenv("RAILWATCH_DB", url)
    monkeypatch.setattr(_common.console, "width", 120)
    db = Database(url)
    with db.session() as s:
        site = repo.add_site(s, SiteSpec(name="yard", geometry=to_wgs84(SITE_UTM)))
        # 20:00 UTC on the 5th is 05:00 on the 6th at the site (UTC+9, lon 130.6)
        evening = datetime(2023, 10, 5, 20, 0, tzinfo=UTC)
        sid = add_counted_scene(s, site, evening, 0.5, FakeCount(5, 4, 7, {}, 0), 1)
    with db.session() as s:
        repo.set_scene_review(s, sid, {"all": 6})
    db.dispose()
    assert main(["scene", "list", "yard", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert main(["eval", "--site", "yard", "--json"]) == 0
    names = [r["name"] for r in json.loads(capsys.readouterr().out)["scenes"]]
    assert names == [f"scene {sid} (2023-10-06)"]
    assert "2023-10-06" in json.dumps(listed)


def test_eval_site_of_total_reviews_prints_no_empty_class_table(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Reviews that give totals only tell no class: no 'Per class' table of headers."""
    test_eval_site_names_scenes_by_their_day_at_the_site(tmp_path, monkeypatch, capsys)
    assert main(["eval", "--site", "yard"]) == 0
    out = capsys.readouterr().out
    assert "Detection evaluation" in out
    assert "Per class" not in out, out
