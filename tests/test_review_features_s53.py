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
from railwatch.storage import Database, repo
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


def test_an_outline_whose_sides_overflow_is_refused_not_a_500(
    scene: tuple[Database, int], tmp_path: Path
) -> None:
    """Corners at ±1e308: the outline's area is NaN and its sides infinite, and the
    ring taken to the scene's CRS was no ring (a 500; found by session 53's probes)."""
    pytest.importorskip("fastapi")
    from fastapi.testclient import TestClient
    from pydantic import SecretStr

    from railwatch.settings import Settings
    from railwatch.web.app import create_app

    db, sid = scene
    before = _stored(db, sid)
    settings = Settings(db=db.url, api_token=SecretStr(TOKEN), cache_dir=tmp_path / "cache")
    client = TestClient(create_app(settings, db), raise_server_exceptions=False)
    big = 1e308
    ring = [[big, big], [-big, big], [-big, -big], [big, -big], [big, big]]
    feature = {
        "type": "Feature",
        "properties": {"class": "boxcar"},
        "geometry": {"type": "Polygon", "coordinates": [ring]},
    }
    with db.session(readonly=True) as s:
        crs = repo.get_scene(s, sid).crs  # in the scene's CRS, as `scene cars` writes it
    named = {"type": "name", "properties": {"name": crs}}
    body = {"cars": {"type": "FeatureCollection", "crs": named, "features": [feature]}}
    r = client.put(f"/api/scenes/{sid}/review", json=body, headers=AUTH)
    assert r.status_code == 422, r.text
    detail = str(r.json()["detail"])
    assert "feature 0: its corners span (-1e+308, -1e+308) to (1e+308, 1e+308)" in detail
    assert "too far apart for any place on Earth" in detail
    assert _stored(db, sid) == before
