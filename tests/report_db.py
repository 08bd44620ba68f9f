"""A small hand-populated railwatch database for report and export tests.

One site (300 m x 150 m near Tumangang, UTM 52N), tiny GeoTIFFs with cars drawn
on a track, detections at those cars, counts, two unusable images, an event and
a record alert on the last image. Nothing here depends on the simulator, the
detector or the alert rules.
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from pyproj import Transformer
from shapely.geometry import Polygon, box

from railwatch.analysis.types import Alert
from railwatch.detect.base import Detection, OrientedBox
from railwatch.sites import SiteSpec
from railwatch.storage import Database, records_from_detections, repo

CRS = "EPSG:32652"
X0, Y0 = 550_000.0, 4_695_000.0  # top-left of every image (UTM metres)
IMG_W_M, IMG_H_M = 400.0, 200.0
SITE_UTM = box(X0 + 50, Y0 - 175, X0 + 350, Y0 - 25)
TRACK_Y = Y0 - 100.0
CAR_LEN, CAR_WID, CAR_STEP = 14.0, 3.2, 15.0
CLASSES = ("gondola", "tank", "boxcar")
COLOURS = {"gondola": (60, 90, 160), "tank": (40, 40, 40), "boxcar": (150, 70, 40)}
SITE_NAME = "testyard"
T0 = datetime(2022, 1, 10, 3, 0, tzinfo=UTC)


@dataclass(frozen=True)
class FakeInfo:
    uri: str
    content_hash: str
    acquired: datetime
    crs: str
    footprint: Polygon
    gsd: float
    width: int
    height: int
    band_count: int = 3
    dtype: str = "uint8"
    sensor: str | None = "TestSat"
    mask_uri: str | None = None
    date_source: str = "option"
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class FakeQuality:
    clear_fraction: float
    coverage: float = 1.0
    cloud_fraction: float = 0.0
    haze_fraction: float = 0.0
    snow_fraction: float = 0.0
    nodata_fraction: float = 0.0
    usable: bool = True
    reasons: tuple[str, ...] = ()
    source: str = "estimated"


@dataclass(frozen=True)
class FakeCount:
    total: float
    low: float
    high: float
    by_class: dict[str, tuple[float, float, float]]
    covered: int
    method: str = "objects"
    coverage: float = 1.0


def to_wgs84(geom: Any) -> Any:
    import shapely

    tr = Transformer.from_crs(CRS, "EPSG:4326", always_xy=True)
    return shapely.transform(geom, lambda xy: np.column_stack(tr.transform(xy[:, 0], xy[:, 1])))


def add_ingested_scene(session: Any, site: Any, when: datetime, gsd: float, key: int) -> Any:
    """A scene of ``site`` taken ``when`` at ``gsd``, ingested only (no image file); the
    scene. ``key`` makes its uri and hash unique."""
    from shapely.geometry import box as shp_box

    info = FakeInfo(
        uri=f"/nowhere/{key}.tif",
        content_hash=f"{key:064d}",
        acquired=when,
        crs=CRS,
        footprint=to_wgs84(shp_box(X0, Y0 - IMG_H_M, X0 + IMG_W_M, Y0)),
        gsd=gsd,
        width=100,
        height=100,
    )
    scene, _ = repo.add_scene(session, site, info, 1.0)
    return scene


def add_counted_scene(
    session: Any, site: Any, when: datetime, gsd: float, count: FakeCount, key: int
) -> int:
    """A processed, usable scene of ``site`` taken ``when`` at ``gsd`` with ``count``
    (no detections, no image file); its id. ``key`` makes its uri and hash unique."""
    scene = add_ingested_scene(session, site, when, gsd, key)
    repo.record_scene_result(session, scene.id, FakeQuality(0.97), [], count, "test", "1")
    return int(scene.id)


def car_boxes_px(n: int, gsd: float) -> list[tuple[OrientedBox, str, bool]]:
    """Boxes (pixel coords of an image at ``gsd``) of ``n`` cars along the track."""
    out = []
    for k in range(n):
        cx = (60.0 + CAR_LEN / 2 + k * CAR_STEP) / gsd
        cy = (Y0 - TRACK_Y) / gsd
        cls = CLASSES[k % len(CLASSES)]
        out.append((OrientedBox(cx, cy, CAR_LEN / gsd, CAR_WID / gsd, 0.0), cls, k % 3 == 0))
    return out


@functools.lru_cache(maxsize=64)
def _scene_pixels(n_cars: int, gsd: float, seed: int, cloudy: bool) -> np.ndarray:
    """The bands of :func:`write_scene`'s image (read-only). They depend on the arguments
    alone, so each is drawn once per process: drawing them was about half of
    :func:`populate`'s time, which about 100 test modules call (session 37)."""
    w, h = int(IMG_W_M / gsd), int(IMG_H_M / gsd)
    rng = np.random.default_rng(seed)
    img = np.full((h, w, 3), 150, dtype=np.float32) + rng.normal(0, 6, (h, w, 3))
    # buildings (static texture for co-registration) and the track
    for bx in range(0, int(IMG_W_M), 37):
        r0, c0 = int(20 / gsd), int(bx / gsd)
        img[r0 : r0 + int(12 / gsd), c0 : c0 + int(18 / gsd)] = (200, 190, 170)
    ty = int((Y0 - TRACK_Y) / gsd)
    img[ty - int(2 / gsd) : ty + int(2 / gsd), :] = (95, 85, 75)
    for car, cls, _covered in car_boxes_px(n_cars, gsd):
        c0, c1 = int(car.cx - car.length / 2), int(car.cx + car.length / 2)
        r0, r1 = int(car.cy - car.width / 2), int(car.cy + car.width / 2)
        img[r0:r1, c0 + 1 : c1 - 1] = COLOURS[cls]
    if cloudy:
        img[:, : int(w * 0.7)] = 245
    data = np.clip(img, 0, 255).astype(np.uint8).transpose(2, 0, 1)
    data.flags.writeable = False
    return data


def write_scene(path: Path, n_cars: int, gsd: float, seed: int, cloudy: bool = False) -> Path:
    """A north-up RGB GeoTIFF with a track and ``n_cars`` cars drawn on it."""
    import rasterio
    from rasterio.transform import from_origin

    data = _scene_pixels(n_cars, gsd, seed, cloudy)
    _, h, w = data.shape
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=w,
        height=h,
        count=3,
        dtype="uint8",
        crs=CRS,
        transform=from_origin(X0, Y0, gsd, gsd),
    ) as dst:
        dst.write(data)
    return path


@dataclass(frozen=True)
class Plan:
    day: int
    n: int
    gsd: float = 0.5
    usable: bool = True


#: 12 usable images of 5-8 cars, 2 unusable, then a jump to 18 cars.
PLANS: tuple[Plan, ...] = (
    *(Plan(day=30 * i, n=5 + (i * 7) % 4) for i in range(10)),
    Plan(day=310, n=0, usable=False),
    Plan(day=330, n=6, gsd=1.0),
    Plan(day=345, n=0, usable=False),
    Plan(day=360, n=7),
    Plan(day=390, n=18),
)


def populate(db: Database, tmp: Path, *, with_alert: bool = True) -> dict[str, Any]:
    """Fill ``db`` with the test site; returns ids and paths for assertions."""
    tmp.mkdir(parents=True, exist_ok=True)
    spec = SiteSpec(name=SITE_NAME, geometry=to_wgs84(SITE_UTM), description="test yard")
    scene_ids: list[int] = []
    with db.session() as s:
        site = repo.add_site(s, spec)
        for i, plan in enumerate(PLANS):
            path = write_scene(
                tmp / f"scene_{i:02d}.tif", plan.n, plan.gsd, seed=i, cloudy=not plan.usable
            )
            w, h = int(IMG_W_M / plan.gsd), int(IMG_H_M / plan.gsd)
            info = FakeInfo(
                uri=str(path),
                content_hash=hashlib.sha256(path.read_bytes()).hexdigest(),
                acquired=T0 + timedelta(days=plan.day),
                crs=CRS,
                footprint=to_wgs84(box(X0, Y0 - IMG_H_M, X0 + IMG_W_M, Y0)),
                gsd=plan.gsd,
                width=w,
                height=h,
            )
            scene, _ = repo.add_scene(s, site, info, 1.0)
            if not plan.usable:
                repo.record_scene_result(
                    s,
                    scene.id,
                    FakeQuality(
                        clear_fraction=0.3,
                        cloud_fraction=0.7,
                        usable=False,
                        reasons=("cloud 70% of the site",),
                    ),
                    [],
                    None,
                    "test-detector",
                    "1.0",
                )
                scene_ids.append(scene.id)
                continue
            from rasterio.transform import from_origin

            boxes = car_boxes_px(plan.n, plan.gsd)
            dets = [
                Detection(b, cls=c, score=0.9, covered=cov, covered_score=0.8 if cov else 0.1)
                for b, c, cov in boxes
            ]
            records = records_from_detections(
                dets, from_origin(X0, Y0, plan.gsd, plan.gsd), CRS, site_geom_wgs84=spec.geometry
            )
            by_class: dict[str, tuple[float, float, float]] = {}
            for c in CLASSES:
                k = float(sum(1 for _, cc, _ in boxes if cc == c))
                if k:
                    by_class[c] = (k, k, k)
            covered = sum(1 for _, _, cov in boxes if cov)
            counts = FakeCount(float(plan.n), plan.n - 1.0, plan.n + 1.0, by_class, covered)
            repo.record_scene_result(
                s,
                scene.id,
                FakeQuality(clear_fraction=0.97),
                records,
                counts,
                "test-detector",
                "1.0",
            )
            scene_ids.append(scene.id)
        repo.add_event(s, site, (T0 + timedelta(days=375)).date(), "Summit")
        if with_alert:
            last = scene_ids[-1]
            repo.replace_alerts(
                s,
                site,
                [
                    Alert(
                        key="record-test",
                        kind="record",
                        severity="high",
                        when=T0 + timedelta(days=390),
                        cls="all",
                        value=18.0,
                        explanation="18 railcars: 2.2x the record of 8 over the previous 1 year.",
                        metrics={"record": 8.0},
                        event_label="Summit",
                        event_days=15,
                        scene_id=last,
                    )
                ],
            )
    return {
        "scene_ids": scene_ids,
        "site": SITE_NAME,
        "first_day": T0.date(),
        "event_day": (T0 + timedelta(days=375)).date(),
        "last": date(2023, 2, 4),
    }
