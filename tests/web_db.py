"""A small populated database for the web tests: one site, six tiny GeoTIFF scenes
(one unusable), detections, counts, an event and a record alert on 2023-10-05.

Builds on the hand-made images of :mod:`report_db` (no simulator, detector or
alert rules involved).
"""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from rasterio.transform import from_origin
from shapely.geometry import box

from railwatch.analysis.types import Alert
from railwatch.detect.base import Detection
from railwatch.sites import SiteSpec
from railwatch.storage import Database, records_from_detections, repo
from report_db import (
    CLASSES,
    CRS,
    IMG_H_M,
    IMG_W_M,
    SITE_UTM,
    X0,
    Y0,
    FakeCount,
    FakeInfo,
    FakeQuality,
    car_boxes_px,
    to_wgs84,
    write_scene,
)

SITE = "tumangang-test"
ALERT_DAY = date(2023, 10, 5)
#: (acquisition date, cars, usable)
SCENES: tuple[tuple[date, int, bool], ...] = (
    (date(2023, 6, 1), 5, True),
    (date(2023, 7, 3), 6, True),
    (date(2023, 8, 2), 0, False),
    (date(2023, 9, 1), 7, True),
    (ALERT_DAY, 18, True),
    (date(2023, 11, 2), 6, True),
)


def populate(db: Database, folder: Path) -> dict[str, Any]:
    """Fill ``db``; returns the site name and scene/alert/event ids."""
    folder.mkdir(parents=True, exist_ok=True)
    geom = to_wgs84(SITE_UTM)
    spec = SiteSpec(name=SITE, geometry=geom, description="Tumangang test yard")
    ids: list[int] = []
    with db.session() as s:
        site = repo.add_site(s, spec)
        for i, (day, n, usable) in enumerate(SCENES):
            path = write_scene(folder / f"scene_{i}.tif", n, 0.5, seed=i, cloudy=not usable)
            info = FakeInfo(
                uri=str(path),
                content_hash=hashlib.sha256(path.read_bytes()).hexdigest(),
                acquired=datetime(day.year, day.month, day.day, 2, 30, tzinfo=UTC),
                crs=CRS,
                footprint=to_wgs84(box(X0, Y0 - IMG_H_M, X0 + IMG_W_M, Y0)),
                gsd=0.5,
                width=int(IMG_W_M / 0.5),
                height=int(IMG_H_M / 0.5),
            )
            scene, _ = repo.add_scene(s, site, info, 1.0)
            ids.append(scene.id)
            if not usable:
                quality = FakeQuality(
                    clear_fraction=0.3,
                    cloud_fraction=0.7,
                    usable=False,
                    reasons=("cloud covers 70% of the site",),
                )
                repo.record_scene_result(s, scene.id, quality, [], None, "test", "1.0")
                continue
            boxes = car_boxes_px(n, 0.5)
            dets = [
                Detection(b, cls=c, score=0.9, covered=cov, covered_score=0.8 if cov else 0.1)
                for b, c, cov in boxes
            ]
            records = records_from_detections(
                dets, from_origin(X0, Y0, 0.5, 0.5), CRS, site_geom_wgs84=geom
            )
            by_class = {
                c: (float(k), float(k), float(k))
                for c in CLASSES
                if (k := sum(1 for _, cc, _ in boxes if cc == c))
            }
            covered = sum(1 for _, _, cov in boxes if cov)
            count = FakeCount(float(n), n - 1.0, n + 1.0, by_class, covered)
            repo.record_scene_result(
                s, scene.id, FakeQuality(clear_fraction=0.97), records, count, "test", "1.0"
            )
        event = repo.add_event(s, site, date(2023, 9, 13), "Kim-Putin summit")
        repo.replace_alerts(
            s,
            site,
            [
                Alert(
                    key="record-all-2023-10-05",
                    kind="record",
                    severity="high",
                    when=datetime(2023, 10, 5, 2, 30, tzinfo=UTC),
                    cls="all",
                    value=18.0,
                    explanation="18 railcars: 2.6x the record of 7 over the previous year; "
                    "22 days after Kim-Putin summit.",
                    metrics={"record": 7.0},
                    event_label="Kim-Putin summit",
                    event_days=22,
                    scene_id=ids[4],
                )
            ],
        )
        alert_id = repo.list_alerts(s, site)[0].id
        event_id = event.id
    return {"site": SITE, "scene_ids": ids, "alert_id": alert_id, "event_id": event_id}
