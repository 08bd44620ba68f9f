"""The API's counts CSV writes its flags (``usable``, ``reviewed``,
``long_train_present``) as ``true``/``false``, as ``railwatch export SITE --format csv``
does, and ``analyze --counts`` (``railwatch.analysis.csvio``) reads it back. Before
2026-12-05 (session 34) the API wrote Python's ``True``/``False``."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi")

from fastapi.testclient import TestClient
from pydantic import SecretStr

from railwatch.analysis.csvio import read_counts_csv
from railwatch.export.gis import export_site
from railwatch.settings import Settings
from railwatch.storage import Database, repo
from railwatch.web.app import create_app
from report_db import FakeCount, add_counted_scene
from web_db import populate

TOKEN = "csv-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
FLAGS = ("usable", "reviewed", "long_train_present")


@pytest.fixture
def world(tmp_path: Path) -> Iterator[dict[str, Any]]:
    db = Database(f"sqlite:///{tmp_path / 'csv.db'}")
    ids = populate(db, tmp_path / "img")
    with db.session() as s:
        site = repo.get_site(s, ids["site"])
        # a 10 m image with a long train: the total's flag
        presence = FakeCount(1.0, 1.0, 1.0, {}, 0, method="presence")
        ids["presence"] = add_counted_scene(
            s, site, datetime(2023, 12, 1, 2, 30, tzinfo=UTC), 10.0, presence, 99
        )
    settings = Settings(db=db.url, api_token=SecretStr(TOKEN), cache_dir=tmp_path / "cache")
    client = TestClient(create_app(settings, db))
    reviewed = ids["scene_ids"][4]
    r = client.put(f"/api/scenes/{reviewed}/review", json={"counts": {"all": 20}}, headers=AUTH)
    assert r.status_code == 201, r.text
    ids.update(db=db, client=client, reviewed=reviewed, folder=tmp_path)
    yield ids
    db.dispose()


def _rows(text: str) -> dict[int, dict[str, str]]:
    return {int(r["scene_id"]): r for r in csv.DictReader(io.StringIO(text))}


def test_api_csv_flags_are_written_as_the_export_writes_them(world: dict[str, Any]) -> None:
    c: TestClient = world["client"]
    r = c.get(f"/api/sites/{world['site']}/counts", params={"format": "csv"})
    assert r.status_code == 200
    api = _rows(r.text)
    cells = {row[f] for row in api.values() for f in FLAGS}
    assert cells <= {"true", "false", ""}, cells
    assert api[world["reviewed"]]["reviewed"] == "true"
    assert api[world["scene_ids"][2]]["usable"] == "false"  # the cloudy image: a gap
    assert api[world["presence"]]["long_train_present"] == "true"

    path = export_site(world["db"], world["site"], "csv", world["folder"] / "counts.csv")
    exported = _rows(path.read_text(encoding="utf-8"))
    assert set(exported) == set(api)
    for sid, row in exported.items():
        # every cell the export fills, the API's CSV writes the same way
        for flag in FLAGS:
            if row[flag] != "":
                assert api[sid][flag] == row[flag], (sid, flag, api[sid][flag], row[flag])

    # and `analyze --counts` reads the API's CSV back with its flags
    path = world["folder"] / "api.csv"
    path.write_text(r.text, encoding="utf-8")
    points = [p for series in read_counts_csv(path).values() for p in series]
    by_scene = {p.scene_id: p for p in points}
    assert by_scene[world["reviewed"]].reviewed is True
    assert by_scene[world["reviewed"]].count == 20.0
    assert by_scene[world["scene_ids"][2]].usable is False
    assert sum(p.reviewed for p in points) == 1
