"""Review r1 of da3357f (session 38): `railwatch scene review` holds the site's row and
locks the scene before it reads the review it replaces; the dashboard's same action,
``PUT /api/scenes/{id}/review``, still read it before the write's lock, so a review
another writer committed in between was replaced without being given back as
``replaced`` (and the answer was a 201, "the scene had none")."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("fastapi")

from fastapi.testclient import TestClient
from pydantic import SecretStr

from railwatch.settings import Settings
from railwatch.storage import Database
from railwatch.web.app import create_app
from test_scene_review import _scene
from test_scene_review_stored_s38 import lock_order


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database(f"sqlite:///{tmp_path / 'web.db'}")
    yield database
    database.dispose()


def test_the_scene_is_locked_before_the_review_it_replaces_is_read(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sid = _scene(db)
    settings = Settings(db=db.url, api_token=SecretStr("t"), cache_dir=tmp_path / "cache")
    client = TestClient(create_app(settings, db))
    client.headers["Authorization"] = "Bearer t"
    events = lock_order(monkeypatch)
    r = client.put(f"/api/scenes/{sid}/review", json={"counts": {"all": 70}})
    assert r.status_code == 201, r.text
    assert events[:3] == ["hold", "lock", "read"], events
    events.clear()
    r = client.put(f"/api/scenes/{sid}/review", json={"counts": {"all": 72}})
    assert r.status_code == 200, r.text
    assert r.json()["replaced"]["counts"] == {"all": 70.0}
    assert events[:3] == ["hold", "lock", "read"], events
