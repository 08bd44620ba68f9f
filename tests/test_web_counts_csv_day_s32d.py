"""The dashboard's counts CSV gives each image's local day at the site after its UTC
time, as the API's JSON and the export's counts do (session 32), and still reads back
with ``railwatch analyze --counts`` and ``scene import-reviews``.

At a site at 175°E (UTC+12) its line of the image of 22:30 UTC on 2024-02-04 gave
``2024-02-04T22:30:00+00:00`` alone, beside the chart's and the alert's 2024-02-05.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

pytest.importorskip("fastapi")

from fastapi.testclient import TestClient

from counted_site import LATE, LOCAL, WELLINGTON, add_counted_site, steady_then_rise
from railwatch.analysis.csvio import parse_counts_csv
from railwatch.review import import_reviews
from railwatch.settings import Settings
from railwatch.storage import Database
from railwatch.web.app import create_app


def test_the_counts_csv_has_the_local_day_and_reads_back(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'rw.db'}")
    add_counted_site(db, "akl", WELLINGTON, steady_then_rise(), detector="default")
    app = create_app(Settings(db=db.url, cache_dir=tmp_path / "cache"), db)
    with TestClient(app) as client:
        r = client.get("/api/sites/akl/counts?format=csv&limit=1000")
    assert r.status_code == 200, r.text
    rows = list(csv.DictReader(io.StringIO(r.text)))
    # the site's zone after its day since 2026-12-05 (session 33)
    assert list(rows[0])[:4] == ["when", "day", "local_zone", "scene_id"]
    assert {row["local_zone"] for row in rows} == {"UTC+12"}
    (late,) = [row for row in rows if row["when"] == LATE.isoformat()]
    assert late["day"] == LOCAL
    series = parse_counts_csv(r.text, source="akl-all-counts.csv")
    (points,) = series.values()
    assert len(points) == len(rows)
    late["count"] = "51"
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    with db.session() as s:
        done = import_reviews(s, "akl", parse_counts_csv(out.getvalue()))
    assert [counts for _, counts in done.recorded] == [{"all": 51.0}]
    db.dispose()
