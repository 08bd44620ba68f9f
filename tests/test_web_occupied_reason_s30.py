"""``/api/scenes/{id}/occupied`` words why a scene not counted has no occupied track
for each status (session 30 follow-up): a failed scene says processing it failed, where
its error is and that processing it again retries it; a scene waiting to be counted says
it is not counted yet. Before, both read "scene N is failed, not counted yet" and "scene
N is ingested, not counted yet"."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi")

from fastapi.testclient import TestClient

from railwatch.settings import Settings
from railwatch.storage import Database, repo
from railwatch.web.app import create_app
from web_db import SITE, populate


@pytest.fixture()
def world(tmp_path: Path) -> Iterator[dict[str, Any]]:
    db = Database(f"sqlite:///{tmp_path / 'w.db'}")
    ids = populate(db, tmp_path / "img")["scene_ids"]
    with db.session() as s:
        repo.mark_scene_failed(s, ids[0], "cannot read scene_0.tif: truncated")
        assert repo.set_scene_bands(s, ids[1], (3, 2, 1))  # pending again
    app = create_app(Settings(db=db.url, cache_dir=tmp_path / "cache"), db)
    try:
        yield {"client": TestClient(app), "failed": ids[0], "pending": ids[1]}
    finally:
        db.dispose()


def _reason(world: dict[str, Any], kind: str) -> tuple[str, str]:
    r = world["client"].get(f"/api/scenes/{world[kind]}/occupied")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["recorded"] is False and body["features"] == []
    return body["status"], body["reason"]


def test_a_failed_scene_says_processing_it_failed_and_to_process_it_again(
    world: dict[str, Any],
) -> None:
    sid = world["failed"]
    status, reason = _reason(world, "failed")
    assert status == "failed"
    assert reason == (
        f"processing scene {sid} failed, so it has no count (its `error` in GET "
        f"/api/scenes/{sid} says why): fix the cause and process it again (`railwatch "
        f"process {SITE}` or POST /api/sites/{{site}}/jobs; failed scenes are retried)"
    )
    # where the reason points, the error is
    scene = world["client"].get(f"/api/scenes/{sid}").json()
    assert scene["error"] == "cannot read scene_0.tif: truncated"


def test_a_scene_not_counted_yet_says_so(world: dict[str, Any]) -> None:
    sid = world["pending"]
    status, reason = _reason(world, "pending")
    assert status == "ingested"
    assert reason == (
        f"scene {sid} is not counted yet: process it (`railwatch process {SITE}` or "
        "POST /api/sites/{site}/jobs)"
    )
