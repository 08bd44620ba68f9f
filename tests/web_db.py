"""Databases for the web tests.

* :func:`populate`: one site, six tiny hand-made GeoTIFF scenes (one unusable),
  detections, counts, an event and a record alert on 2023-10-05 (no simulator,
  detector or alert rules involved: exact numbers for the API tests).
* :func:`demo_subset` and :func:`prepare_demo`: the built-in Tumangang demo cut down
  to a few visits around the 2023 rise, rendered, registered and ingested exactly as
  ``railwatch demo`` does (same scenes, same pixels), ready to be processed by the
  real pipeline and default detector (the end-to-end tests do that through the API's
  job endpoint).
"""

from __future__ import annotations

import dataclasses
import hashlib
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from rasterio.transform import from_origin
from shapely.geometry import box

from railwatch.analysis.types import Alert
from railwatch.detect.base import Detection
from railwatch.sim.scenario import Scenario
from railwatch.sites import SiteSpec
from railwatch.storage import Database, DetectionRecord, records_from_detections, repo
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


#: Tumangang visits of the end-to-end demo: eight months before the rise (0.5 m and
#: 3 m images, two unusable) and the rise itself up to 2023-10-23.
DEMO_DATES: tuple[str, ...] = (
    "2023-02-13",
    "2023-02-26",
    "2023-03-10",
    "2023-04-07",
    "2023-04-18",
    "2023-05-11",
    "2023-06-15",
    "2023-07-07",
    "2023-08-12",
    "2023-08-28",
    "2023-09-09",
    "2023-09-18",
    "2023-09-25",
    ALERT_DAY.isoformat(),
    "2023-10-23",
)


def demo_subset(dates: tuple[str, ...] = DEMO_DATES) -> Scenario:
    """The built-in ``tumangang`` scenario restricted to the visits on ``dates``.

    Each kept visit keeps the render seed it has in the full scenario, so its scene
    parameters (and pixels) are exactly those ``railwatch demo`` renders.
    """
    from railwatch.sim.scenario import get_scenario

    full = get_scenario("tumangang")
    wanted = set(dates)
    kept = []
    originals = []
    for i, visit in enumerate(full.visits):
        if visit.when.date().isoformat() in wanted:
            overrides = {**dict(visit.overrides), "seed": full.seed * 100_003 + i}
            kept.append(dataclasses.replace(visit, overrides=tuple(sorted(overrides.items()))))
            originals.append(i)
    if len(kept) != len(wanted):
        missing = sorted(wanted - {v.when.date().isoformat() for v in kept})
        raise ValueError(f"the tumangang scenario has no visit on {missing}")
    sub = dataclasses.replace(full, visits=tuple(kept))
    for j, i in enumerate(originals):
        if sub.params(j) != full.params(i) or sub.scene_name(j) != full.scene_name(i):
            raise ValueError(f"visit {i} would not render as in the demo")
    return sub


def prepare_demo(db: Database, folder: Path, dates: tuple[str, ...] = DEMO_DATES) -> str:
    """Render the demo subset into ``folder``, create its site and events and ingest
    every image, as :func:`railwatch.demo.run_demo` does; returns the site name.
    Scenes are left pending (process them with ``process_site`` or a job)."""
    from railwatch.demo import ensure_site
    from railwatch.ingest import ingest_paths
    from railwatch.sim.scenario import render_scenario

    sc = demo_subset(dates)
    paths = render_scenario(sc, folder)
    ensure_site(db, sc)
    summary = ingest_paths(db, sc.name, [p.image for p in paths])
    if summary.failed or len(summary.ingested) != len(dates):
        raise ValueError(f"demo ingest failed: {summary.failed}")
    return str(sc.name)


def populate_many(
    db: Database,
    folder: Path,
    *,
    n_scenes: int,
    n_dets: int,
    dense_last: int = 10,
    site: str = "dense",
) -> list[int]:
    """A site with ``n_scenes`` images spread over six years (all pointing at one tiny
    GeoTIFF) and ``n_dets`` generated detections on each of the last ``dense_last``;
    the others get a small count and no detections. Returns the scene ids by date."""
    folder.mkdir(parents=True, exist_ok=True)
    tif = write_scene(folder / "scene.tif", 10, 0.5, seed=1)
    geom = to_wgs84(SITE_UTM)
    foot = to_wgs84(box(X0, Y0 - IMG_H_M, X0 + IMG_W_M, Y0))
    rng = np.random.default_rng(0)
    ids: list[int] = []
    t0 = datetime(2018, 1, 1, 2, 30, tzinfo=UTC)
    with db.session() as s:
        row = repo.add_site(s, SiteSpec(name=site, geometry=geom))
        for i in range(n_scenes):
            info = FakeInfo(
                uri=str(tif),
                content_hash=hashlib.sha256(f"{site}-{i}".encode()).hexdigest(),
                acquired=t0 + timedelta(days=i * 2190 / max(1, n_scenes)),
                crs=CRS,
                footprint=foot,
                gsd=0.5,
                width=int(IMG_W_M / 0.5),
                height=int(IMG_H_M / 0.5),
            )
            scene, _ = repo.add_scene(s, row, info, 1.0)
            ids.append(scene.id)
            records: list[DetectionRecord] = []
            if i >= n_scenes - dense_last:
                xs = X0 + 20 + rng.uniform(0, IMG_W_M - 40, n_dets)
                ys = Y0 - IMG_H_M + 20 + rng.uniform(0, IMG_H_M - 40, n_dets)
                natives = shapely.box(xs, ys, xs + 14.0, ys + 3.0)
                lonlat = to_wgs84(natives)  # one transform for every polygon
                for k, (native, poly) in enumerate(zip(natives, lonlat, strict=True)):
                    records.append(
                        DetectionRecord(
                            cls=CLASSES[k % len(CLASSES)],
                            score=0.9,
                            polygon=poly,
                            native_polygon=native,
                            native_crs=CRS,
                            covered=k % 4 == 0,
                        )
                    )
            n = float(len(records) or 5 + i % 7)
            count = FakeCount(n, n - 1, n + 1, {CLASSES[0]: (n, n, n)}, 0)
            repo.record_scene_result(
                s, scene.id, FakeQuality(clear_fraction=0.95), records, count, "test", "1.0"
            )
    return ids
