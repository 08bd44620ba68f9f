"""Session 53 (2026-12-08): a review whose ``cars`` collection has ``features`` that
are no list (``1.5``, ``"x"``, an object) was a 500 of ``PUT /api/scenes/{id}/review``
("'float' object is not iterable": the check for other scenes' cars walked it first);
it is refused as a bad collection, in the words ``railwatch detect``'s reader uses, and
nothing is stored."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from railwatch.cli.main import main
from railwatch.storage import Database
from test_review_outline_s52 import AUTH, TOKEN, _stored, scene

__all__ = ["scene"]  # the fixture, used by name


@pytest.mark.parametrize("features", [1.5, "x", {"type": "Feature"}, True])
def test_features_that_are_no_list_are_refused_not_a_500(
    scene: tuple[Database, int], tmp_path: Path, features: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("fastapi")
    from fastapi.testclient import TestClient
    from pydantic import SecretStr

    from railwatch.settings import Settings
    from railwatch.web.app import create_app

    db, sid = scene
    before = _stored(db, sid)
    settings = Settings(db=db.url, api_token=SecretStr(TOKEN), cache_dir=tmp_path / "cache")
    client = TestClient(create_app(settings, db), raise_server_exceptions=False)
    fc = {"type": "FeatureCollection", "features": features}
    r = client.put(f"/api/scenes/{sid}/review", json={"cars": fc}, headers=AUTH)
    assert r.status_code == 422, r.text
    assert "features must be a list of GeoJSON Feature objects" in str(r.json()["detail"])
    assert _stored(db, sid) == before

    path = tmp_path / "cars.geojson"
    path.write_text(json.dumps(fc))
    assert main(["scene", "review", str(sid), "--cars", str(path)]) == 2
    assert "features must be a list of GeoJSON Feature objects" in capsys.readouterr().err
    assert _stored(db, sid) == before
