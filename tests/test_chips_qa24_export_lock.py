"""GIS and label exports read one snapshot and never take SQLite's write lock
(session 24's chips follow-up).

``export_site`` and ``export_labels`` only read the database but opened writing
sessions: on SQLite they took the write lock (BEGIN IMMEDIATE), so while ``railwatch
process`` recorded a scene they waited the busy timeout and failed "stayed locked" (and
blocked it meanwhile); on PostgreSQL each statement read its own snapshot (READ
COMMITTED), so an image counted again during an export gave a detections layer that
disagreed with its counts layer.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rasterio.transform import from_origin

import railwatch.storage.db as db_mod
from helpers import sqlite_write_lock_held
from railwatch.detect.base import Detection
from railwatch.export import layers as layers_mod
from railwatch.export.gis import export_site
from railwatch.export.label_chips import export_labels
from railwatch.storage import Database, records_from_detections, repo
from report_db import CRS, PLANS, SITE_NAME, X0, Y0, FakeCount, FakeQuality, car_boxes_px
from report_db import populate as populate_db


@pytest.fixture
def locked_db(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Database, list[str]]]:
    """The test database while another connection holds SQLite's write lock (as
    ``railwatch process`` does while it records a scene), and the BEGIN statements the
    database's own sessions sent."""
    path = tmp_path / "rw.db"
    populate_db(Database(f"sqlite:///{path}"), tmp_path / "scenes")
    # a writing session would wait this long, then fail "stayed locked"
    monkeypatch.setattr(db_mod, "SQLITE_BUSY_TIMEOUT_MS", 100)
    db = Database(f"sqlite:///{path}", migrate=False)
    try:
        with sqlite_write_lock_held(path, db) as begins:
            yield db, begins
    finally:
        db.engine.dispose()


@pytest.mark.parametrize("fmt", ["csv", "geojson"])
def test_a_gis_export_never_takes_the_write_lock(
    locked_db: tuple[Database, list[str]], tmp_path: Path, fmt: str
) -> None:
    db, begins = locked_db
    out = tmp_path / ("yard.csv" if fmt == "csv" else "yard-geojson")
    assert export_site(db, SITE_NAME, fmt, out) == out
    if fmt == "csv":
        with out.open(encoding="utf-8") as fh:
            assert len(list(csv.DictReader(fh))) == len(PLANS)
    else:
        dets = json.loads((out / "detections.geojson").read_text(encoding="utf-8"))
        assert len(dets["features"]) == sum(p.n for p in PLANS if p.usable)
    assert begins and all(b == "BEGIN DEFERRED" for b in begins), begins


def test_a_label_export_never_takes_the_write_lock(
    locked_db: tuple[Database, list[str]], tmp_path: Path
) -> None:
    db, begins = locked_db
    result = export_labels(db, tmp_path / "labels", "dota", site=SITE_NAME, chip=256)
    assert result.chips > 0 and result.objects > 0
    assert begins and all(b == "BEGIN DEFERRED" for b in begins), begins


# --- one snapshot ------------------------------------------------------------------------


def _recount(db: Database, scene_id: int, n: int) -> None:
    """Count ``scene_id`` again with ``n`` cars (new detections and count), committed, as
    another process would."""
    with db.session() as s:
        site = repo.get_site(s, SITE_NAME)
        dets = [
            Detection(b, cls=c, score=0.9, covered=False, covered_score=0.1)
            for b, c, _ in car_boxes_px(n, 0.5)
        ]
        records = records_from_detections(
            dets, from_origin(X0, Y0, 0.5, 0.5), CRS, site_geom_wgs84=site.geometry
        )
        count = FakeCount(float(n), n - 1.0, n + 1.0, {}, 0)
        repo.record_scene_result(s, scene_id, FakeQuality(0.97), records, count, "test", "2")


def _export_under_a_recount(
    db: Database, info: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A GIS export whose detections layer is read, then the last image is counted again
    (18 cars -> 3) before its counts layer is read: both layers show the same state."""
    last = info["scene_ids"][-1]
    real = layers_mod.count_layer
    done: list[bool] = []

    def recount_then_counts(*args: Any, **kwargs: Any) -> Any:
        if not done:
            _recount(db, last, 3)
            done.append(True)
        return real(*args, **kwargs)

    monkeypatch.setattr(layers_mod, "count_layer", recount_then_counts)
    out = export_site(db, SITE_NAME, "geojson", tmp_path / "gj")
    assert done
    dets = json.loads((out / "detections.geojson").read_text(encoding="utf-8"))["features"]
    counts = json.loads((out / "counts.geojson").read_text(encoding="utf-8"))["features"]
    n_boxes = sum(1 for f in dets if f["properties"]["scene_id"] == last)
    (row,) = [f["properties"] for f in counts if f["properties"]["scene_id"] == last]
    assert (n_boxes, row["count"]) == (18, 18.0)
    # the next export shows the new count with its own boxes
    monkeypatch.setattr(layers_mod, "count_layer", real)
    out = export_site(db, SITE_NAME, "geojson", tmp_path / "gj2")
    dets = json.loads((out / "detections.geojson").read_text(encoding="utf-8"))["features"]
    assert sum(1 for f in dets if f["properties"]["scene_id"] == last) == 3


def test_a_gis_export_reads_one_snapshot(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(db_mod, "SQLITE_BUSY_TIMEOUT_MS", 100)
    db = Database(f"sqlite:///{tmp_path / 'rw.db'}")
    try:
        info = populate_db(db, tmp_path / "scenes")
        _export_under_a_recount(db, info, tmp_path, monkeypatch)
    finally:
        db.engine.dispose()


@pytest.mark.services
def test_a_gis_export_reads_one_snapshot_on_postgresql(
    postgres_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = Database(postgres_url)
    try:
        info = populate_db(db, tmp_path / "scenes")
        _export_under_a_recount(db, info, tmp_path, monkeypatch)
    finally:
        db.engine.dispose()


def _labels_under_a_recount(
    db: Database, info: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The scenes and the boxes a label export writes are one state: the last image
    counted again between reading the scene and reading its boxes keeps its 18 boxes."""
    last = info["scene_ids"][-1]
    real = repo.list_detections
    done: list[bool] = []

    def recount_then_list(session: Any, scene_id: int) -> Any:
        if not done:
            _recount(db, last, 3)
            done.append(True)
        return real(session, scene_id)

    monkeypatch.setattr(repo, "list_detections", recount_then_list)
    result = export_labels(db, tmp_path / "labels", "dota", scene_id=last, chip=2048)
    assert done
    assert result.objects == 18


def test_a_label_export_reads_one_snapshot(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(db_mod, "SQLITE_BUSY_TIMEOUT_MS", 100)
    db = Database(f"sqlite:///{tmp_path / 'rw.db'}")
    try:
        info = populate_db(db, tmp_path / "scenes")
        _labels_under_a_recount(db, info, tmp_path, monkeypatch)
    finally:
        db.engine.dispose()


@pytest.mark.services
def test_a_label_export_reads_one_snapshot_on_postgresql(
    postgres_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = Database(postgres_url)
    try:
        info = populate_db(db, tmp_path / "scenes")
        _labels_under_a_recount(db, info, tmp_path, monkeypatch)
    finally:
        db.engine.dispose()
