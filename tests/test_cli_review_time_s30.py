"""`railwatch scene review` and `scene show` print a review's time to the minute in UTC,
as the other commands print times: it was printed as stored, "Scene 2 reviewed:
2026-12-05T11:03:24.981481+00:00: all 41". --json keeps the full ISO 8601 time."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from shapely.geometry import box

from railwatch.cli.main import main
from railwatch.sites import SiteSpec
from railwatch.storage import Database, repo
from report_db import (
    CRS,
    IMG_H_M,
    IMG_W_M,
    SITE_UTM,
    X0,
    Y0,
    FakeCount,
    FakeInfo,
    FakeQuality,
    to_wgs84,
)

#: The review's time: 11:03:24.981481 UTC, given in another zone (12:03 at +01:00).
AT = datetime(2026, 12, 5, 12, 3, 24, 981481, tzinfo=timezone(timedelta(hours=1)))


@pytest.fixture
def scene(tmp_path: Path) -> tuple[str, int]:
    url = f"sqlite:///{tmp_path / 'review.db'}"
    with Database(url) as db, db.session() as s:
        site = repo.add_site(s, SiteSpec(name="yard", geometry=to_wgs84(SITE_UTM)))
        info = FakeInfo(
            uri="/imagery/yard_0.tif",
            content_hash=f"{1:064d}",
            acquired=datetime(2023, 10, 5, 2, 0, tzinfo=UTC),
            crs=CRS,
            footprint=to_wgs84(box(X0, Y0 - IMG_H_M, X0 + IMG_W_M, Y0)),
            gsd=0.5,
            width=800,
            height=400,
            metadata={},
        )
        row, _ = repo.add_scene(s, site, info, 1.0)
        count = FakeCount(38.0, 34.0, 42.0, {"boxcar": (38.0, 34.0, 42.0)}, 0)
        repo.record_scene_result(s, row.id, FakeQuality(0.97), [], count, "default", "2.8")
        scene_id = row.id
    return url, scene_id


def test_review_time_is_printed_to_the_minute_in_utc(
    scene: tuple[str, int], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, sid = scene
    monkeypatch.setattr(repo, "utcnow", lambda: AT)
    assert main(["--db", url, "scene", "review", str(sid), "--count", "41"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"Scene {sid} reviewed: 2026-12-05 11:03 UTC: all 41;"), out
    assert "2026-12-05T" not in out and ".981481" not in out
    assert main(["--db", url, "scene", "show", str(sid)]) == 0
    out = capsys.readouterr().out
    assert "reviewed    2026-12-05 11:03 UTC: all 41;" in out, out
    assert main(["--db", url, "scene", "show", str(sid), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert datetime.fromisoformat(data["review"]["reviewed_at"]) == AT  # whole, in JSON
