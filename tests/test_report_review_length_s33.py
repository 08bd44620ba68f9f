"""The report's headline of an analyst's count on a 3 m image (session 33): the length
branch came first, so the analyst's railcars read "N car equivalents … occupied track
length, not cars seen one by one; interval …", against the rule that an analyst's count
is of railcars (the CLI asks for "your count of all the railcars")."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from railwatch.report import builder
from railwatch.storage import Database, repo
from report_db import SITE_NAME, FakeCount, add_counted_scene, populate


def test_an_analysts_count_on_a_3m_image_is_railcars(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'r.db'}")
    try:
        populate(db, tmp_path / "scenes")
        with db.session() as s:
            site = repo.get_site(s, SITE_NAME)
            sid = add_counted_scene(
                s,
                site,
                datetime(2030, 1, 5, 2, 0, tzinfo=UTC),
                3.0,
                FakeCount(52.0, 30.0, 90.0, {}, 0, method="length"),
                9001,
            )
        with db.session() as s:
            repo.set_scene_review(s, sid, {"all": 47})
        data = builder.build_report_data(db, SITE_NAME)
    finally:
        db.dispose()
    summary = data.headline.summary
    assert summary.startswith(f"47 railcars at {SITE_NAME} on 2030-01-05"), summary
    assert "an analyst's count, the detector estimated 52 car equivalents" in summary
    assert "interval" not in summary.split(".")[0]
