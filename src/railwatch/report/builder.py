"""Assemble a report from storage and analysis, then write it as HTML (and PDF).

The main verb is :func:`build_report`; :func:`build_report_data` returns the
renderer-independent :class:`ReportData` (the web layer can reuse it).
"""

from __future__ import annotations

import logging
import math
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import shapely
from shapely.geometry import LineString, Polygon, box
from shapely.geometry.base import BaseGeometry
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from railwatch.analysis.series import as_utc
from railwatch.analysis.types import whole_car_bounds
from railwatch.detect.base import Detection
from railwatch.errors import ImageryError, InputError, RailwatchError, os_reason, plural, some
from railwatch.export.geometry import box_from_polygon, to_pixels, transform_polygon
from railwatch.export.paths import check_output, site_images
from railwatch.export.redact import hide_paths
from railwatch.limits import EARLIEST_YEAR
from railwatch.report.caveats import build_caveats, spread_counts, spread_words
from railwatch.report.charts import on_chart
from railwatch.report.chips import estimate_shift
from railwatch.report.data import (
    alert_rows,
    baseline_track,
    baseline_track_of,
    count_of,
    event_rows,
    in_period,
    no_baseline_reason,
    no_headline_baseline_reason,
    no_record_reason,
    scene_rows,
    site_offset,
    spread_at,
)
from railwatch.report.format import (
    acknowledged_text,
    fmt_count,
    fmt_num,
    fmt_period,
    fmt_scene_count,
    quality_words,
    reviewed_words,
)
from railwatch.report.model import (
    SEVERITY_RANK,
    AlertRow,
    BaselinePoint,
    ChipImage,
    EventRow,
    Evidence,
    Headline,
    ReportData,
    SceneRow,
    counted_otherwise,
    later_flags,
    latest_car_image,
    latest_car_words,
    may_get_images,
    method_words,
)
from railwatch.report.style import car_equivalent_m, class_order
from railwatch.storage import Database, repo
from railwatch.storage.models import Detection as DetectionModel

log = logging.getLogger(__name__)

#: ``on_step(step, done, total)``: how far the report has got, for a progress bar (the
#: CLI's; the core draws none): ``step`` says what is being done ("drawing the chart"),
#: ``done`` of ``total`` of it done (``total`` at least 1). Called at the start and the
#: end of each step and after each item of one that has several (the alerts' images,
#: the PDF's pages). Since 2026-12-06 (session 37): a report showed no progress, ~100 s
#: of silence on the demo on a loaded machine.
StepCallback = Callable[[str, int, int], None]

#: The steps :func:`build_report` and :func:`build_pdf_report` report, in order (the
#: HTML's steps with HTML, the PDF's with a PDF).
STEP_READ = "reading the site's records"
STEP_CHIPS = "preparing the alerts' images"

#: Longest side of a chip, in pixels; larger extents are shown at a coarser GSD.
CHIP_MAX_PX = 1400
#: Smallest ground extent of a chip (metres), so a few cars still show their context.
CHIP_MIN_M = 150.0
#: Alerts above info with images; further alerts (and every info alert) are listed with
#: their explanation only.
MAX_EVIDENCE = 10
#: A phase-correlation peak below this is too weak to report an offset.
SHIFT_MIN_RESPONSE = 0.08


@dataclass(frozen=True)
class _SiteInfo:
    name: str
    description: str
    geometry: BaseGeometry
    utm_crs: str
    #: whether the site has track centrelines (now: a count along lines found in the
    #: image was made before they were given; session 49)
    has_tracks: bool = False


@dataclass(frozen=True)
class _Plan:
    alert: AlertRow
    after: SceneRow | None
    before: SceneRow | None
    before_near: bool
    #: Why there was no baseline to find a before image near (``no_baseline_reason``),
    #: when there was none; None when there was one (or the before image was counted
    #: another way, which its own note says).
    no_baseline: str | None = None
    #: Usable images between ``before`` and ``after`` passed over for being counted
    #: another way (:attr:`~railwatch.report.model.Evidence.before_passed`).
    passed: int = 0


#: The headline's alert is the most severe of this many days before the latest image.
HEADLINE_WINDOW_DAYS = 365


def top_alert(alerts: Sequence[AlertRow], latest: datetime | None = None) -> AlertRow | None:
    """The alert the headline explains: the most severe (then most recent) alert of the
    site total (class ``all``) from a year before ``latest`` (the latest usable image)
    on, or of the whole period if there is none; an alert of one class only when the
    site total has none. Like the dashboard, which shows the site total's alerts and
    leaves those of single classes behind the class selector. Of equally severe alerts,
    one judged on cars counted one by one leads one judged on occupied track length
    (1.5-10 m car equivalents, judged against that method's counts only), then the most
    recent (session 38: the demo's headline explained a 3 m record of 161 car
    equivalents against a 3 m record of 65.5, four months after the high record of cars
    counted one by one that the rise is about)."""
    if not alerts:
        return None
    recent = alerts
    if latest is not None:
        start = latest - timedelta(days=HEADLINE_WINDOW_DAYS)
        # no upper bound: an ongoing silence is dated after the latest usable image
        recent = [a for a in alerts if a.when >= start] or alerts
    pool = [a for a in recent if a.cls == "all"] or recent
    return max(
        pool,
        key=lambda a: (SEVERITY_RANK.get(a.severity, 0), a.method in (None, "objects"), a.when),
    )


def newest_first(alerts: Sequence[AlertRow]) -> list[AlertRow]:
    """Alerts in the order the report lists them: newest first across every class;
    the alerts of one image by severity, the site total's before a class's of the
    same severity, then by key (stable)."""
    return sorted(
        alerts,
        key=lambda a: (
            -a.when.timestamp(),
            -SEVERITY_RANK.get(a.severity, 0),
            a.cls != "all",
            a.key,
        ),
    )


def drop_echoes(alerts: Sequence[AlertRow]) -> list[AlertRow]:
    """Alerts without per-class echoes: a class alert that repeats an ``all`` alert
    (same kind, same image, same value: that class is the whole count) is dropped."""
    overall = {(a.kind, a.scene_id, a.when, a.value) for a in alerts if a.cls == "all"}
    return [
        a for a in alerts if a.cls == "all" or (a.kind, a.scene_id, a.when, a.value) not in overall
    ]


def choose_before(
    rows: Sequence[SceneRow], after: SceneRow, settings: object | None = None, cls: str = "all"
) -> tuple[SceneRow | None, bool]:
    """The most recent counted image before ``after``, counted by ``after``'s method,
    whose count of ``cls`` (the alert's class: the total, covered cars or one type) was
    near that class's baseline of that method at ``after`` (within one robust spread of
    its centre) and near the baseline at its own date (not an image of the rise the
    alert belongs to); else the most recent image before it counted that way that counted
    the class; else, when no earlier image was counted that way, the most recent earlier
    image of any method that counted the class (never near: its count is on another
    scale, and the evidence says so). The flag says whether it was near. (Until
    2026-12-04 the total chose for every class: a tank record was shown beside an image
    of normal total but as many tanks. Until session 28 every method was a candidate:
    the demo's 0.3 m record of 111 cars was shown beside a 3 m estimate of 65.5 car
    equivalents as its baseline image.)"""
    method = after.method or "objects"
    counted = sorted(
        (r for r in rows if r.when < after.when and count_of(r, cls) is not None),
        key=lambda r: r.when,
        reverse=True,
    )
    earlier = [r for r in counted if (r.method or "objects") == method]
    if not earlier:
        return (counted[0], False) if counted else (None, False)
    base = spread_at(rows, after.when, settings, cls, method)
    if base is not None:
        centre, spread = base
        for row in earlier:
            if abs((count_of(row, cls) or 0.0) - centre) <= max(spread, 1.0) and _usual_then(
                rows, row, settings, cls, method
            ):
                return row, True
    return earlier[0], False


def _usual_then(
    rows: Sequence[SceneRow], row: SceneRow, settings: object | None, cls: str, method: str
) -> bool:
    """Whether ``row``'s count of ``cls`` was within one robust spread of the baseline at
    its own date too (True without a baseline then): a before image is an image of the
    usual state, not the first image of the rise the alert belongs to. (Until
    2026-12-06, session 35, only the baseline at the alert counted, which a rise's first
    images had already lifted: the demo's 68 cars of 2023-10-05 were shown beside the
    17 cars of 2023-09-18, itself above the five-year record of 15, as "near the
    baseline".)"""
    base = spread_at(rows, row.when, settings, cls, method)
    if base is None:
        return True
    centre, spread = base
    return abs((count_of(row, cls) or 0.0) - centre) <= max(spread, 1.0)


def other_method_note(after: SceneRow, before: SceneRow) -> str:
    """The note under a before image counted by another method than the alert image
    (:func:`choose_before` found no earlier image counted the alert image's way)."""
    return (
        f"No earlier image was counted the way the alert image was "
        f"({method_words(after.method)}); the most recent earlier usable image is shown "
        f"instead, counted another way ({method_words(before.method)}): its count is not "
        "comparable with the alert image's, and the alert was not judged against it."
    )


def _plan(
    rows: Sequence[SceneRow], alerts: Sequence[AlertRow], settings: object | None
) -> list[_Plan]:
    by_id = {r.scene_id: r for r in rows}
    plans = []
    for alert in alerts:
        after = by_id.get(alert.scene_id) if alert.scene_id is not None else None
        before, near, why, passed = (None, False, None, 0)
        if after is not None and after.counted:
            before, near = choose_before(rows, after, settings, alert.cls)
            if before is not None and not near and not counted_otherwise(after, before):
                method = after.method or "objects"
                why = no_baseline_reason(rows, after.when, settings, alert.cls, method)
                passed = sum(1 for r in rows if r.counted and before.when < r.when < after.when)
        plans.append(_Plan(alert, after, before, near, why, passed))
    return plans


def _read_detections(session: Session, scene_ids: set[int]) -> dict[int, list[DetectionModel]]:
    """The detections of ``scene_ids``, read in the report's own session (the one that
    read the scenes and their counts, so the boxes drawn are those counted)."""
    out: dict[int, list[DetectionModel]] = {}
    for sid in sorted(scene_ids):
        dets = repo.list_detections(session, sid)
        for d in dets:
            session.expunge(d)
        out[sid] = dets
    return out


@dataclass(frozen=True)
class _AnalystCar:
    """One car of an analyst's outlines (``SceneReview.cars``), as the chips draw it."""

    cls: str
    covered: bool
    geometry: BaseGeometry  # WGS84


def _read_analyst_cars(
    session: Session, rows: Sequence[SceneRow], scene_ids: set[int]
) -> dict[int, list[_AnalystCar]]:
    """The analyst's outlines of those of ``scene_ids`` whose count is an analyst's from
    outlines (cars whose centre is in the site: the ones counted), read in the report's
    session."""
    wanted = {r.scene_id for r in rows if r.review_outlines and r.scene_id in scene_ids}
    out: dict[int, list[_AnalystCar]] = {}
    for sid in sorted(wanted):
        review = repo.get_scene_review(session, sid)
        if review is None or review.cars is None:
            continue
        out[sid] = [
            _AnalystCar(str(car["cls"]), bool(car["covered"]), Polygon(car["lonlat"]))
            for car in review.cars
            if car.get("inside")
        ]
    return out


#: A chip shows the whole site (its bounds, padded) when the site's longest side is at
#: most this many times the cars' padded extent; a larger site's chip shows the part
#: around the cars, and its caption says which part (:func:`_region`): the whole of a
#: site of 2 km drawn for cars 200 m apart would draw them a pixel or two wide.
CHIP_WHOLE_SITE_RATIO = 3.0


def _grown(minx: float, miny: float, maxx: float, maxy: float, pad: float) -> BaseGeometry:
    """The box padded by ``pad`` and grown to at least :data:`CHIP_MIN_M` each way."""
    minx, miny, maxx, maxy = minx - pad, miny - pad, maxx + pad, maxy + pad
    grow_x = max(CHIP_MIN_M - (maxx - minx), 0.0) / 2.0
    grow_y = max(CHIP_MIN_M - (maxy - miny), 0.0) / 2.0
    return box(minx - grow_x, miny - grow_y, maxx + grow_x, maxy + grow_y)


def _span(geom: BaseGeometry) -> float:
    minx, miny, maxx, maxy = geom.bounds
    return float(max(maxx - minx, maxy - miny))


def _metres(length: float) -> str:
    return f"{length / 1000:.1f} km" if length >= 1000 else f"{length:.0f} m"


def _region(
    site: _SiteInfo, dets_utm: Sequence[BaseGeometry], site_utm: BaseGeometry
) -> tuple[BaseGeometry, str]:
    """The ground extent (site UTM) both chips show, and the caption's line on it ("":
    the whole site). The whole site and the cars of both images, padded, at least
    :data:`CHIP_MIN_M` across; for a site more than :data:`CHIP_WHOLE_SITE_RATIO` times
    the cars' extent, the cars padded (within the site's bounds), and a line saying what
    part of the site that is. (Until 2026-12-07, session 45, always the cars padded: a
    chip of a yard whose cars stood at one end cut off the rest of the site's boundary.)"""
    sminx, sminy, smaxx, smaxy = site_utm.bounds
    whole = _grown(sminx, sminy, smaxx, smaxy, 0.04 * _span(site_utm) + 10.0)
    if not dets_utm:
        return whole, ""
    minx, miny, maxx, maxy = shapely.GeometryCollection(list(dets_utm)).bounds
    cars = _grown(minx, miny, maxx, maxy, 0.12 * max(maxx - minx, maxy - miny) + 20.0)
    if _span(whole) <= CHIP_WHOLE_SITE_RATIO * _span(cars):
        return box(*shapely.GeometryCollection([whole, cars]).bounds), ""
    sx0, sy0, sx1, sy1 = site_utm.buffer(30.0).bounds
    cx0, cy0, cx1, cy1 = cars.bounds
    clipped = box(max(cx0, sx0), max(cy0, sy0), min(cx1, sx1), min(cy1, sy1))
    shown = clipped if clipped.area > 0 else cars
    x0, y0, x1, y1 = shown.bounds
    return shown, (
        f"shows the part around the cars: {_metres(x1 - x0)} × {_metres(y1 - y0)} of the "
        f"site's {_metres(smaxx - sminx)} × {_metres(smaxy - sminy)}"
    )


def _caption(row: SceneRow, shown_gsd: float, cls: str = "all") -> tuple[str, ...]:
    gsd = f"GSD {row.gsd:.2f} m"
    if shown_gsd > row.gsd * 1.05:
        gsd += f" (shown at {shown_gsd:.2f} m)"
    length = row.method == "length" and row.counted
    count = (
        fmt_scene_count(row)
        if row.presence
        else f"count {fmt_count(row.total, row.low, row.high, row.method)}"
        + (" car equivalents" if length else "")
    )
    if row.reviewed:
        count += f" ({reviewed_words(row)})"
    if cls not in ("all", "total", "covered"):  # a type's alert: its count beside the total
        of_cls = count_of(row, cls)
        count += f" · {cls} {'unknown' if of_cls is None else f'{of_cls:g}'}"
    if row.covered is not None and (row.method or "objects") == "objects":
        count += f" · covered {row.covered}"
    if length:
        # the unit and the rule in words: "count 65.5 [38.3–126.7] · method length" named
        # neither (2026-12-07, session 50)
        count += f" · occupied track length / {car_equivalent_m():g} m"
    elif row.method and row.method != "objects":
        count += f" · method {row.method}"
    lines = (
        f"{row.sensor or 'unknown sensor'} · {gsd}",
        quality_words(row),
        count,
    )
    if row.method == "length" and row.counted and row.occupied is None:
        # counted before the runs were kept: nothing to draw, and not for want of cars
        return (*lines, "track read as occupied: not recorded (railwatch process records it)")
    return lines


def site_rings_px(geom: BaseGeometry) -> tuple[tuple[tuple[float, float], ...], ...]:
    """Every ring of a site's boundary (in a chip's pixels): each polygon's exterior, then
    its holes, for a Polygon or each part of a MultiPolygon (a site of two yards)."""
    parts = getattr(geom, "geoms", (geom,))
    return tuple(
        tuple((float(x), float(y)) for x, y in ring.coords)
        for part in parts
        if isinstance(part, Polygon) and not part.is_empty
        for ring in (part.exterior, *part.interiors)
    )


def _chip_pair(
    site: _SiteInfo,
    after: SceneRow,
    before: SceneRow | None,
    detections: dict[int, list[DetectionModel]],
    cls: str = "all",
    analyst: dict[int, list[_AnalystCar]] | None = None,
    title: str = "Alert image",
) -> tuple[ChipImage | None, ChipImage | None, list[str]]:
    """Read both images on one grid over one extent and make their chips (captions
    with the count of ``cls``, the alert's class, beside the total); ``title`` the
    ``after`` image's title, before its time."""
    from railwatch.imagery import read_site_window, site_grid

    notes: list[str] = []
    site_utm = transform_polygon(site.geometry, "EPSG:4326", site.utm_crs)
    rows = [r for r in (before, after) if r is not None]
    dets_utm = {
        r.scene_id: [
            (d, transform_polygon(d.geometry, "EPSG:4326", site.utm_crs))
            for d in detections.get(r.scene_id, [])
            if d.inside
        ]
        for r in rows
    }
    drawn_utm = {
        r.scene_id: [
            (car, transform_polygon(car.geometry, "EPSG:4326", site.utm_crs))
            for car in (analyst or {}).get(r.scene_id, [])
        ]
        for r in rows
    }
    runs_utm = {
        r.scene_id: [
            transform_polygon(LineString(run.coords), "EPSG:4326", site.utm_crs)
            for run in r.occupied or ()
        ]
        for r in rows
    }
    region, part = _region(
        site,
        [
            g
            for r in rows
            for g in (
                *(g for _, g in dets_utm[r.scene_id]),
                *(g for _, g in drawn_utm[r.scene_id]),
                *runs_utm[r.scene_id],
            )
        ],
        site_utm,
    )
    minx, miny, maxx, maxy = region.bounds
    gsd = max(min(r.gsd for r in rows), max(maxx - minx, maxy - miny) / CHIP_MAX_PX)
    grid = site_grid(transform_polygon(region, site.utm_crs, "EPSG:4326"), gsd, crs=site.utm_crs)
    outline = site_rings_px(to_pixels(site_utm, grid.transform))

    chips: dict[int, ChipImage] = {}
    for row, name in ((after, title), (before, "Before")):
        if row is None:
            continue
        try:
            raster = read_site_window(
                row.uri,
                grid,
                mask_uri=row.mask_uri,
                site_geom=site.geometry,
                bands=row.rgb_bands,
                radiometry=row.radiometry,
                item_scaling=row.item_scaling,
                nodata=row.item_nodata,
            )
        except (RailwatchError, OSError) as err:
            notes.append(f"The image of {row.day} could not be read ({hide_paths(str(err))}).")
            continue
        dets = tuple(
            Detection(
                box=box_from_polygon(to_pixels(g, grid.transform)),
                cls=d.cls,
                score=d.score,
                covered=d.covered,
                covered_score=d.covered_score,
            )
            for d, g in dets_utm[row.scene_id]
        )
        drawn = tuple(
            Detection(
                box=box_from_polygon(to_pixels(g, grid.transform)),
                cls=car.cls,
                score=1.0,
                covered=car.covered,
            )
            for car, g in drawn_utm[row.scene_id]
        )
        chips[row.scene_id] = ChipImage(
            image=raster.image,
            valid=raster.valid,
            gsd=grid.gsd,
            detections=dets,
            title=f"{name}: {row.time_text}",
            caption=(*_caption(row, grid.gsd, cls), *((part,) if part else ())),
            window=(0, grid.height, 0, grid.width),
            crs=grid.crs,
            transform=grid.transform,
            site_outline=outline[0] if outline else (),
            site_rings=outline,
            analyst=drawn,
            occupied=tuple(
                tuple((float(x), float(y)) for x, y in to_pixels(g, grid.transform).coords)
                for g in runs_utm[row.scene_id]
            ),
        )
    return (
        chips.get(after.scene_id),
        chips.get(before.scene_id) if before is not None else None,
        notes,
    )


def _with_images(plans: Sequence[_Plan], max_evidence: int) -> tuple[set[int], str]:
    """The plans (by ``id``) whose alerts are shown with images, and the note of the
    others: the alerts above info tied to a counted image, most severe first, the site
    total's before a single class's of the same severity (as the headline and the
    dashboard put the total first), then the most recent first, until ``max_evidence``
    pairs of images are chosen; an alert shown with the same images as one chosen (the
    record and the shift of one image, or a class's alert on the site total's images: the
    pair is drawn once, :func:`~railwatch.report.model.shown_before`) takes no pair of its
    own (until 2026-12-07, session 51, a class's alert on the total's images took a pair
    of its own, and an alert further down went without images). An info alert never
    takes one (there is nothing to act on; until session 24 a site with 5 alerts above
    info gave the other 5 images to info alerts), even when fewer alerts above info are
    left. (Until 2026-12-06, session 35, the most recent came first among equals,
    whatever their class: on the demo the newest high alerts of tanks and covered cars
    took all 10 images, and none went to the rise's first record alarm (2023-09-20), its
    shift, or the 68 cars of 2023-10-05 against a record of 15.)"""
    ranked = sorted(
        (p for p in plans if may_get_images(p.alert, p.after)),
        key=lambda p: (SEVERITY_RANK.get(p.alert.severity, 0), p.alert.cls == "all", p.alert.when),
        reverse=True,
    )
    chosen: set[int] = set()
    pairs: set[tuple[int | None, int | None]] = set()
    left_out = False
    for plan in ranked:
        key = _images_key(plan)
        if key not in pairs and len(pairs) >= max_evidence:
            left_out = True
            continue
        pairs.add(key)
        chosen.add(id(plan))
    # the alerts shown with images, as the PDF counts them: alerts on one pair take one
    # (until 2026-12-06, session 38, the note gave the pairs: the demo's HTML said "the 10
    # most severe alerts" above 12 alerts with images, and its PDF "the 12 most severe")
    shown = len(chosen)
    note = (
        (
            f"Images are shown for the {shown} most severe alerts above info only."
            if shown != 1
            else "Images are shown for the most severe alert above info only."
        )
        if left_out
        else "Images are shown for alerts above info only."
    )
    return chosen, note


def _images_key(plan: _Plan) -> tuple[int | None, int | None]:
    """The images a plan's alert is shown on, by scene (its image's, its before image's),
    whatever its class: as :func:`~railwatch.report.model.pair_key` keys the evidence."""
    return (
        plan.after.scene_id if plan.after else None,
        plan.before.scene_id if plan.before else None,
    )


def lone_image(rows: Sequence[SceneRow], with_images: set[int]) -> SceneRow | None:
    """The image a report draws when none of its alerts has images (``with_images``
    empty): the latest image of the period with a count of cars (the headline's), its
    cars outlined; None when an alert has images or no image has a count. Until
    2026-12-06 (session 39) such a report showed no image at all: the one image of a
    site with one was never seen with its cars drawn (a first image raises no alert)."""
    if with_images:
        return None
    return latest_car_image(rows)  # the caveats' rule too (session 41)


def _needed_scenes(plans: Sequence[_Plan], with_images: set[int]) -> set[int]:
    """The scenes whose detections the chips draw (alert and before images)."""
    return {r.scene_id for p in plans if id(p) in with_images for r in (p.after, p.before) if r}


def _evidence(
    site: _SiteInfo,
    plans: Sequence[_Plan],
    with_images: set[int],
    limit_note: str,
    detections: dict[int, list[DetectionModel]],
    analyst: dict[int, list[_AnalystCar]] | None = None,
    on_step: StepCallback | None = None,
) -> list[Evidence]:
    # each pair of images read once, for the first alert shown on it (its chips' captions
    # give that alert's class): the report draws a pair once, for the first alert on it,
    # and names it for the others (model.shown_before); until 2026-12-07 (session 51) a
    # class's alert on the site total's images read them again for chips never drawn
    pairs: dict[
        tuple[int | None, int | None], tuple[ChipImage | None, ChipImage | None, list[str]]
    ] = {}
    # the pairs of images to read, for ``on_step``: one per key made below
    n_pairs = len(
        {
            _images_key(p)
            for p in plans
            if p.after is not None and p.after.counted and id(p) in with_images
        }
    )
    if on_step is not None and n_pairs:
        on_step(STEP_CHIPS, 0, n_pairs)
    out = []
    for plan in plans:
        notes: list[str] = []
        after = before = None
        shift = None
        if plan.after is None:
            notes.append("This alert is not tied to one image, so no image is shown.")
        elif not plan.after.counted:
            notes.append("The image behind this alert could not be counted.")
        elif id(plan) not in with_images:
            notes.append(limit_note)
        else:
            key = _images_key(plan)
            if key not in pairs:
                try:
                    pairs[key] = _chip_pair(
                        site, plan.after, plan.before, detections, plan.alert.cls, analyst
                    )
                except (ImageryError, InputError, ValueError) as err:
                    pairs[key] = (None, None, [f"The images could not be prepared ({err})."])
                if on_step is not None:
                    on_step(STEP_CHIPS, len(pairs), n_pairs)
            after, before, read_notes = pairs[key]
            notes += list(read_notes)
            if plan.before is None:
                notes.append("No earlier usable image exists to compare with.")
            elif counted_otherwise(plan.after, plan.before):
                notes.append(other_method_note(plan.after, plan.before))
            elif plan.no_baseline is not None:
                # not "near the baseline": there was none (until session 28 it said so)
                notes.append(
                    f"{plan.no_baseline[:1].upper()}{plan.no_baseline[1:]}; the most recent "
                    f"earlier usable image{_same_way(plan.passed)} is shown instead."
                )
            elif not plan.before_near:
                notes.append(
                    "No earlier image had a count near the baseline; the most recent earlier "
                    f"usable image{_same_way(plan.passed)} is shown instead."
                )
            if after is not None and before is not None:
                found = estimate_shift(before, after)
                if found is not None and found[2] >= SHIFT_MIN_RESPONSE:
                    shift = (found[0] ** 2 + found[1] ** 2) ** 0.5
        notes += _review_notes(plan)
        out.append(
            Evidence(
                alert=plan.alert,
                after=after,
                before=before,
                after_row=plan.after,
                before_row=plan.before,
                notes=tuple(notes),
                shift_m=shift,
                before_near=plan.before_near,
                before_passed=plan.passed if after is not None and before is not None else 0,
            )
        )
    return out


def _same_way(passed: int) -> str:
    """What a note adds to "the most recent earlier usable image" when ``passed`` usable
    images lie between it and the alert image, counted another way."""
    if not passed:
        return ""
    later = "a later one was" if passed == 1 else f"{passed} later ones were"
    return f" counted the same way ({later} counted another way)"


def _review_notes(plan: _Plan) -> list[str]:
    """What the evidence says of an alert image (and its before image) whose count is
    an analyst's: the alert was judged on the analyst's count, not the detector's."""
    out = []
    for row, which in ((plan.after, "alert image"), (plan.before, "before image")):
        if row is None or not row.reviewed:
            continue
        text = (
            f"The {which} ({row.day}) was reviewed by an analyst: its count "
            f"{fmt_num(row.total)} is theirs, the detector counted {fmt_num(row.detector_total)}"
        )
        if row.review_outlines:
            text += "; the chip draws the analyst's outlines"
        if row.review_note:
            text += f" (note: {row.review_note})"
        out.append(text + ".")
    return out


def _headline(
    site: str,
    period: tuple[date | None, date | None],
    rows: Sequence[SceneRow],
    track: Sequence[BaselinePoint],
    alerts: Sequence[AlertRow],
    all_rows: Sequence[SceneRow] = (),
    settings: object | None = None,
    stale: str | None = None,
) -> Headline:
    counted = [r for r in rows if r.counts_cars]  # a 10 m long-train flag is no count
    # the image lone_image draws and the caveats name: one rule (session 41)
    latest = latest_car_image(rows)
    top = top_alert(alerts, latest.when if latest else None)
    if latest is not None and (latest.method or "objects") == "length":
        # judged against its own kind: the chart's band is the main method's, and a 3 m
        # latest image had no record or baseline (and read as railcars seen one by one)
        track = baseline_track_of(all_rows or rows, "length", settings)
    point = next((b for b in track if latest is not None and b.when == latest.when), None)
    if point is None and latest is not None:
        # a latest image of a method other than the site's main one (cars one by one at a
        # site counted mostly by track length) is judged against its own kind too
        own = baseline_track_of(all_rows or rows, latest.method or "objects", settings)
        point = next((b for b in own if b.when == latest.when), None)
    record = point.record if point else None
    baseline = point.centre if point else None
    flags = [r for r in rows if r.counted and r.presence]
    flags_after = later_flags(rows)
    words = latest_car_words(rows)
    if latest is None and flags:
        # usable 10 m images: the table says "N usable", so "no usable image" was wrong
        last_flag = max(flags, key=lambda r: r.when)
        seen = "a long train was present" if last_flag.long_train else "no long train"
        n = len(flags)
        summary = (
            f"No count of cars at {site} in this period: its {n} usable "
            f"image{'s are' if n != 1 else ' is'} 10 m or coarser, which only tell whether a "
            f"long train is present (latest, {last_flag.day}: {seen}); a count "
            "needs images finer than 10 m."
        )
    elif latest is None:
        summary = f"No usable image of {site} in this period: there is no count to report."
        summary += no_image_note(site, period, rows, all_rows)
    elif latest.reviewed:  # railcars an analyst counted, also on a 3 m image
        machine = (
            f"the detector estimated {fmt_num(latest.detector_total)} car equivalents "
            "from occupied track length"
            if (latest.method or "objects") == "length"
            else f"the detector counted {fmt_num(latest.detector_total)}"
        )
        summary = (
            f"{fmt_num(latest.total)} railcars at {site} on {latest.day} "
            f"({words}; an analyst's count, {machine})."
        )
    elif (latest.method or "objects") == "length":
        summary = (
            f"{fmt_num(latest.total)} car equivalents at {site} on {latest.day} "
            f"({words}, {latest.gsd:.2g} m: occupied track length, not cars seen "
            f"one by one; interval {fmt_num(latest.low)}–{fmt_num(latest.high)})."
        )
        single = [r for r in counted if (r.method or "objects") == "objects"]
        if single:
            last = max(single, key=lambda r: r.when)
            summary += (
                f" Latest count of cars seen one by one: {fmt_num(last.total)} on {last.day}."
            )
    else:
        # bounds as the alert beside it words them (62–88, not 62–87.6: session 45)
        low, high = latest.low, latest.high
        if latest.total is not None and low is not None and high is not None:
            low, high = whole_car_bounds(
                float(latest.total), float(low), float(high), latest.method
            )
        summary = (
            f"{fmt_num(latest.total)} railcars at {site} on {latest.day} "
            f"({words}; interval {fmt_num(low)}–{fmt_num(high)})."
        )
    if latest is not None and flags_after:
        # usable 10 m images after it: the table says they are usable, and the headline
        # said "latest usable image" of the count before them (2026-12-07, session 48)
        last = flags_after[-1]
        n = len(flags_after)
        summary += (
            f" Since then, {'there has' if n == 1 else 'there have'} been {n} usable "
            f"image{'s' if n != 1 else ''} of 10 m or coarser, which only "
            f"tell{'s' if n == 1 else ''} whether a long train is present "
            f"(latest, {last.day}: "
            f"{'a long train was present' if last.long_train else 'no long train'})."
        )
    if stale is not None:
        # before the alert it describes: the stored alerts are not what the stored results
        # give now (stale_alerts_note)
        summary += f" {stale}"
    # the alert follows whatever the latest image (a 3 m one's headline left it out, and
    # so did a period without a usable image, whose silence alert is what matters)
    if top is not None and top.cls == "all":
        summary += (
            f" Most significant recent alert ({top.kind}, {top.severity}, "
            f"{top.day}): {top.explanation}"
        )
    elif top is not None:
        summary += (
            " No recent alert on the site total; the most significant one of a single "
            f"class, {top.cls} ({top.kind}, {top.severity}, {top.day}): "
            f"{top.explanation}"
        )
    elif latest is not None:
        context = []
        if baseline is not None:
            context.append(f"the usual count is about {fmt_num(baseline)}")
        if record is not None:
            context.append(f"the record of the previous years is {fmt_num(record)}")
        summary += " No alert in this period" + (f": {' and '.join(context)}." if context else ".")
    if top is not None and top.acknowledged:
        # an acknowledged alert read as one nobody had looked at
        summary += " " + acknowledged_text(top)
    return Headline(
        site=site,
        period=period,
        latest=latest,
        current=latest.total if latest else None,
        current_low=latest.low if latest else None,
        current_high=latest.high if latest else None,
        record=record,
        baseline=baseline,
        summary=summary,
        latest_words=words,
        judged_record=(
            point.judged_record
            if point is not None and point.judged_record not in (None, record)
            else None
        ),
        no_record=(
            no_record_reason(all_rows or rows, latest, settings)
            if latest is not None and record is None
            else "no count in this period"
            if latest is None
            else ""
        ),
        no_baseline=(
            no_headline_baseline_reason(all_rows or rows, latest, settings)
            if latest is not None and baseline is None
            else "no count in this period"
            if latest is None
            else ""
        ),
    )


def no_image_note(
    site: str,
    period: tuple[date | None, date | None],
    rows: Sequence[SceneRow],
    all_rows: Sequence[SceneRow],
) -> str:
    """Why a period has no usable image, when the reason is outside it: no image of the
    site at all, or none in the period while the site has some (a report for a month
    after the last image said only "no usable image", as if the yard had been watched
    and nothing seen). When the period holds images, none usable: why, and what to do for
    those not processed yet (a report of freshly ingested images said only "no usable
    image", as if they had been judged)."""
    if rows:
        from collections import Counter

        from railwatch.report.caveats import reason_kind

        why = Counter(reason_kind(r.reasons) for r in rows)
        listed = ", ".join(f"{kind} {k}" for kind, k in why.most_common())
        if len(rows) == 1:
            note = f" Its only image in this period could not be counted ({listed})."
        else:
            note = f" None of its {len(rows)} images in this period could be counted ({listed})."
        if why.get("no track centrelines"):
            note += (
                " Coarse images cannot be read without the site's track centrelines, and "
                f"the site has none: give them (`railwatch site edit {site} --tracks "
                f"FILE`) and run `railwatch process {site}`."
            )
        if why.get("processing failed"):
            note += (
                f" Run `railwatch process {site}` (it tries the failed images again; "
                f"`railwatch scene list {site}` says why they failed)."
            )
        elif why.get("not processed"):
            note += f" Run `railwatch process {site}` to count them."
        return note
    if not all_rows:
        return f" The site has no image yet: add some with `railwatch ingest {site} FILES`."
    first = min(r.day for r in all_rows)
    last = max(r.day for r in all_rows)
    n = len(all_rows)
    span = f"{first.isoformat()}" if first == last else f"{first.isoformat()} to {last.isoformat()}"
    return (
        f" There is no image of it in this period ({fmt_period(period)}); its {n} "
        f"image{'s are' if n != 1 else ' is'} dated {span}: check --since/--until."
    )


def _method_line() -> dict[str, str]:
    """What each count method's numbers are, for the method section's "count methods"."""
    return {
        "objects": method_words("objects"),
        "length": f"{method_words('length')}, length / {car_equivalent_m():g} m",
        "presence": "whether a long train is present, at 10 m and coarser (no count)",
        "manual": method_words("manual"),
    }


def seasonal_from(alert_settings: object) -> str:
    """How much history a site needs before its baseline is multiplied by the month's
    seasonal factor (``seasonal_min_years`` of ``alert_settings``): "a year", "2 years"."""
    dump = getattr(alert_settings, "model_dump", None)
    seasonal = (dump() if callable(dump) else {}).get("seasonal_min_years")
    if seasonal == 1:
        return "a year"
    return f"{seasonal:g} years" if isinstance(seasonal, int | float) else "enough years"


def _method(
    rows: Sequence[SceneRow], alert_settings: object, usable_threshold: float
) -> tuple[tuple[str, str], ...]:
    line_of = _method_line()
    detectors = sorted(
        {f"{r.detector} {r.detector_version or ''}".strip() for r in rows if r.detector}
    )
    made = Counter(r.method for r in rows if r.counted and r.method)
    # each method in words, with how many images it counted: "length, objects" named
    # neither what a number is nor how it was made (2026-12-07, session 50)
    methods = [f"{m}: {line_of.get(m, m)} ({plural(n, 'image')})" for m, n in sorted(made.items())]
    sensors = sorted({r.sensor for r in rows if r.sensor})
    dump = getattr(alert_settings, "model_dump", None)
    thresholds = dump() if callable(dump) else {}
    get = thresholds.get
    years = seasonal_from(alert_settings)
    out = [
        ("detector", ", ".join(detectors) or "not recorded"),
        ("count methods", "; ".join(methods) or "none"),
        ("images", f"{len(rows)} ({', '.join(sensors) or 'sensor unknown'})"),
        ("usable image", f"clear fraction of the site >= {usable_threshold:g}"),
        (
            "baseline",
            f"median/MAD of the previous {get('baseline_window_days', '?')} days "
            f"(at least {get('baseline_min_points', '?')} images; after a raised shift, "
            f"the new level's; times the month's seasonal factor once the site has {years} "
            "of images), as the alerts judged; "
            "band = centre ± 2 robust spreads",
        ),
        ("record", f"maximum of the previous {get('record_years', '?')} years"),
        ("alert thresholds", ", ".join(f"{k}={v}" for k, v in thresholds.items())),
    ]
    # where a count's interval rests on an assumed spread of the detector's recall, the
    # method says so beside how the counts were made (session 51: only `railwatch detect`
    # said it; the caveats say what to do)
    assumed, of, unknown = spread_counts([r for r in rows if r.counts_cars])
    if assumed:
        out.insert(
            2,
            (
                "count intervals",
                "90 %, from the detector's calibration; for "
                f"{spread_words(assumed, of, unknown)} on an assumed scene-to-scene spread "
                "of its recall, not a measured one (see the caveats)",
            ),
        )
    return tuple(out)


def _period(
    rows: Sequence[SceneRow], date_from: date | None, date_to: date | None
) -> tuple[date | None, date | None]:
    """The period shown: the given bounds, else the (local) days of the first/last image."""
    return (
        date_from or min((r.day for r in rows), default=None),
        date_to or max((r.day for r in rows), default=None),
    )


def off_chart(site: str, rows: Sequence[SceneRow], events: Sequence[EventRow]) -> list[str]:
    """One line per image and event the chart leaves out (dated before
    :data:`~railwatch.limits.EARLIEST_YEAR`: a mistyped year, refused at input now but
    possibly stored by an older railwatch), saying what to do. They stay in the tables."""
    out = [
        f"The image of scene {r.scene_id} is dated {r.day.isoformat()}, before "
        f"{EARLIEST_YEAR} (a mistyped year?): it is left off the chart but listed in the "
        f"table; check its acquisition date (`railwatch scene show {r.scene_id}`)."
        for r in rows
        if not on_chart(r.when)
    ]
    out += [
        f"The event {e.label!r} is dated {e.when.isoformat()}, before {EARLIEST_YEAR} (a "
        f"mistyped year?): it is left off the chart; find it with `railwatch event list "
        f"{site}`, remove it (`railwatch event remove ID`) and add it again with the right year."
        for e in events
        if not on_chart(e.when)
    ]
    return out


#: Most alerts a note on stale alerts names; the others are counted.
STALE_NAMED = 3


def _ongoing(kind: str, metrics: object) -> bool:
    """Whether an alert is a silence still going on (``metrics["ongoing"]``)."""
    return kind == "quality" and isinstance(metrics, dict) and metrics.get("ongoing") == "yes"


def _alert_name(kind: str, cls: str, day: date) -> str:
    """ "record 2024-11-01", "record of tank 2024-11-01"."""
    return f"{kind}{'' if cls == 'all' else ' of ' + cls} {day.isoformat()}"


def _same_value(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is b
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)


def _event_change_words(before: str | None, label: str | None, days: int | None) -> str:
    """How the event a stored alert names differs from the one it would name now: another
    event ("now names 'LABEL'"), none ("names no event now"), or the same one moved
    ("now 3 days after 'LABEL'": its date was edited; it read "now names 'LABEL'" of the
    event the alert already named until the review of session 45)."""
    if not label:
        return "names no event now"
    if label != before or days is None:
        return f"now names '{label}'"
    if days == 0:
        return f"now on the day of '{label}'"
    return f"now {days} day{'' if days == 1 else 's'} after '{label}'"


def stale_alerts_note(
    session: Session,
    site: str,
    period: tuple[date | None, date | None],
    settings: object | None,
    now: datetime,
) -> str | None:
    """A note when the site's stored alerts are not what analysing its stored results now
    would give (``analysis.store.analyze_site(store=False)``: nothing is written), for
    alerts of days within ``period`` (local days at the site; None: open); None when
    they are. ``railwatch process`` stores results without analysing them, so a report
    written straight after it headlined "No usable image of this site since 2024-08-01"
    above "latest usable image 2024-11-01" (until 2026-12-05, session 33).

    Compared as ``repo.replace_alerts`` would store them: an alert raised now and not
    stored (or stored as retired) is new, one stored and not raised now ends, and one of
    both whose kind, class, severity, count, image or (a silence) being over differ is
    changed. Explanations are not compared (their words change with railwatch's
    version, not with the site). A silence going on both now and as stored, or raised now
    and going on, is left out: it comes or grows with the day of the analysis alone, and
    the demo and the web's jobs analyse as of other days than ``railwatch analyze``.
    The stored alerts stay the report's content: they carry the analysts'
    acknowledgements and notes."""
    from railwatch.analysis.events import alert_day
    from railwatch.analysis.settings import AlertSettings
    from railwatch.analysis.store import analyze_site, site_utc_offset
    from railwatch.storage.models import Scene

    cfg = settings if isinstance(settings, AlertSettings) else None
    row_site = repo.get_site(session, site)
    offset = site_utc_offset(row_site)
    fresh = {a.key: a for a in analyze_site(session, site, cfg, as_of=now, store=False).alerts}
    stored = {a.key: a for a in repo.list_alerts(session, row_site, active_only=False)}

    def shown(when: datetime) -> bool:
        return in_period(alert_day(when, offset), *period)

    new: list[str] = []
    changed: list[str] = []
    ended: list[str] = []
    for key, a in fresh.items():
        row = stored.get(key)
        if _ongoing(a.kind, a.metrics) and (row is None or _ongoing(row.kind, row.metrics)):
            continue  # the day of the analysis alone decides it
        if not shown(a.when) and (row is None or not shown(row.when)):
            continue
        name = _alert_name(a.kind, a.cls, alert_day(a.when, offset))
        if row is None or not row.active:
            new.append(name)
            continue
        what = []
        if row.severity != a.severity:
            what.append(f"{row.severity} → {a.severity}")
        if not _same_value(row.value, a.value):
            what.append(f"{fmt_num(row.value)} → {fmt_num(a.value)}")
        if _ongoing(row.kind, row.metrics) != _ongoing(a.kind, a.metrics):
            what.append("over now" if _ongoing(row.kind, row.metrics) else "going on again")
        if row.scene_id != a.scene_id:
            what.append("another image")
        if (row.kind, row.cls) != (a.kind, a.cls):
            what.append(f"now {a.kind} of {a.cls}")
        if (row.event_label, row.event_days) != (a.event_label, a.event_days):
            # an event added, edited or removed since (session 45: a removed event was
            # still named, without a note, beside an events list that lacked it)
            what.append(_event_change_words(row.event_label, a.event_label, a.event_days))
        if what:
            changed.append(f"{name} ({', '.join(what)})")
    for key, row in stored.items():
        if row.active and key not in fresh and shown(row.when):
            ended.append(_alert_name(row.kind, row.cls, alert_day(row.when, offset)))
    if not (new or changed or ended):
        return None
    parts = []
    for words, names in (("new", new), ("changed", changed), ("no longer raised", ended)):
        if names:
            parts.append(f"{len(names)} {words} ({some(names, STALE_NAMED)})")
    since = ""
    last = max((a.updated_at for a in stored.values()), default=None)
    if last is not None:
        processed = session.scalar(
            select(func.count())
            .select_from(Scene)
            .where(Scene.site_id == row_site.id, Scene.processed_at > last)
        )
        if processed:
            since = (
                f" {processed} image{'s were' if processed != 1 else ' was'} processed since "
                f"the stored alerts last changed ({as_utc(last):%Y-%m-%d %H:%M} UTC)."
            )
    return (
        "Note: the alerts in this report are those of the last analysis; analysing the "
        f"stored results now would change them: {'; '.join(parts)}.{since} Run `railwatch "
        f"analyze {site}` to update them (the report stores nothing); acknowledgements and "
        "notes are kept."
    )


def build_report_data(
    db: Database,
    site_name: str,
    *,
    date_from: date | None = None,
    date_to: date | None = None,
    alert_settings: object | None = None,
    usable_threshold: float | None = None,
    now: datetime | None = None,
    max_evidence: int = MAX_EVIDENCE,
    on_step: StepCallback | None = None,
) -> ReportData:
    """Everything the report of ``site_name`` shows, for images within the period: its
    days (``date_from``/``date_to`` included) are local days at the site, as the analysis
    dates the site's alerts (:func:`~railwatch.report.model.site_day`). When the stored
    alerts are not those the stored results give now, :attr:`ReportData.stale_alerts`
    says so (:func:`stale_alerts_note`), and so does the headline, after its count.
    ``on_step`` is told how far it got (:data:`StepCallback`: :data:`STEP_READ`, then
    :data:`STEP_CHIPS` image pair by image pair)."""
    from railwatch.analysis.settings import AlertSettings
    from railwatch.settings import get_settings

    if date_from and date_to and date_from > date_to:
        # named as the caller gave them (Python); the CLI and the web API check first
        # with their own names (session 38: it said --from/--to, the CLI's old names)
        raise InputError(
            f"date_from {date_from} is after date_to {date_to}: the period is empty; swap "
            "them (--since/--until on the command line)"
        )
    cfg = alert_settings if isinstance(alert_settings, AlertSettings) else AlertSettings()
    threshold = (
        usable_threshold if usable_threshold is not None else get_settings().usable_threshold
    )
    if on_step is not None:
        on_step(STEP_READ, 0, 1)
    # one read-only session: one snapshot of the scenes, counts, alerts and the boxes the
    # chips draw (two sessions let a scene counted again in between show boxes that
    # disagree with its count), and never SQLite's write lock (a report waited on, then
    # blocked, cron's `railwatch process`)
    with db.session(readonly=True) as s:
        site_row = repo.get_site(s, site_name)
        site = _SiteInfo(
            site_row.name,
            site_row.description or "",
            site_row.geometry,
            site_row.utm_crs,
            has_tracks=site_row.tracks_wkb is not None,
        )
        all_rows = scene_rows(s, site_row)
        all_alerts = alert_rows(s, site_row)
        all_events = event_rows(s, site_row)
        # in the same snapshot as the alerts; nothing is stored (session 33)
        stale = stale_alerts_note(
            s, site_row.name, (date_from, date_to), cfg, now or datetime.now(UTC)
        )
        offset = site_offset(site_row)  # the site's days: every day the report shows
        in_range = [a for a in all_alerts if in_period(a.day, date_from, date_to)]
        alerts = drop_echoes(in_range)
        plans = _plan(all_rows, newest_first(alerts), cfg)
        with_images, limit_note = _with_images(plans, max_evidence)
        needed = _needed_scenes(plans, with_images)
        lone = lone_image(
            [r for r in all_rows if in_period(r.day, date_from, date_to)], with_images
        )
        if lone is not None:
            needed.add(lone.scene_id)
        detections = _read_detections(s, needed)
        analyst = _read_analyst_cars(s, all_rows, needed)
    if on_step is not None:
        on_step(STEP_READ, 1, 1)
    track = baseline_track(all_rows, cfg)
    rows = [r for r in all_rows if in_period(r.day, date_from, date_to)]
    events = [
        e
        for e in all_events
        if (date_from is None or e.when >= date_from) and (date_to is None or e.when <= date_to)
    ]
    shown = {r.when for r in rows}
    track_shown = [b for b in track if b.when in shown]
    evidence = _evidence(site, plans, with_images, limit_note, detections, analyst, on_step)
    lone_chip: ChipImage | None = None
    lone_notes: tuple[str, ...] = ()
    if lone is not None:
        try:
            lone_chip, _, read_notes = _chip_pair(
                site, lone, None, detections, "all", analyst,
                title=latest_car_words(rows).capitalize(),
            )  # fmt: skip
            lone_notes = tuple(read_notes)
        except (ImageryError, InputError, ValueError) as err:
            lone_notes = (f"The image could not be prepared ({err}).",)
    classes = tuple(class_order({c for r in rows for c in r.by_class}))
    skipped = off_chart(site.name, rows, events)
    return ReportData(
        site=site.name,
        description=site.description,
        generated=now or datetime.now(UTC),
        # the note on stale alerts on the first page, HTML and PDF alike
        headline=_headline(
            site.name,
            _period(rows, date_from, date_to),
            rows,
            track,
            alerts,
            all_rows,
            cfg,
            stale,
        ),
        scenes=tuple(rows),
        baseline=tuple(track_shown),
        events=tuple(events),
        alerts=tuple(alerts),
        evidence=tuple(evidence),
        caveats=build_caveats(
            rows, evidence, lone=lone, site=site.name, tracks_given=site.has_tracks
        )
        + tuple(skipped)
        + _font_caveat(site.name, [e.label for e in events]),
        method=_method(rows, cfg, threshold),
        classes=classes,
        repeats=len(in_range) - len(alerts),
        off_chart=tuple(skipped),
        seasonal_from=seasonal_from(cfg),
        utc_offset=offset,
        stale_alerts=stale,
        lone_image=lone_chip,
        lone_notes=lone_notes,
    )


def _font_caveat(site: str, labels: Sequence[str]) -> tuple[str, ...]:
    """The caveat that Chinese, Japanese or Korean text reads '?' in the PDF and on the
    charts, with how to install the font (:func:`~railwatch.report.fonts.
    missing_font_caveat`; 2026-12-06, session 36: nothing said so)."""
    from railwatch.report.fonts import missing_font_caveat

    note = missing_font_caveat([site, *labels])
    return (note,) if note else ()


def _report_data(
    db: Database,
    site_name: str,
    date_from: date | None,
    date_to: date | None,
    warn: Callable[[str], None] | None,
    usable_threshold: float | None = None,
    on_step: StepCallback | None = None,
) -> ReportData:
    """The report's data, each line of :attr:`ReportData.off_chart` given to ``warn``,
    and the note on stale alerts (:func:`stale_alerts_note`) when there is one."""
    data = build_report_data(
        db,
        site_name,
        date_from=date_from,
        date_to=date_to,
        usable_threshold=usable_threshold,
        on_step=on_step,
    )
    stale = data.stale_alerts
    if warn is not None:
        for line in data.off_chart:
            warn(line)
        if data.headline.latest is None:  # no count: not only when there is no image
            summary = data.headline.summary
            warn(summary.replace(f" {stale}", "", 1) if stale is not None else summary)
        if stale is not None:
            warn(stale.removeprefix("Note: "))
    return data


def _cannot_write(target: Path, err: OSError) -> InputError:
    return InputError(
        f"cannot write the report to {target} ({os_reason(err)}); "
        "give --out a path in a folder you can write to"
    )


def build_report(
    db: Database,
    site_name: str,
    out_html: str | Path,
    *,
    pdf: bool = False,
    date_from: date | None = None,
    date_to: date | None = None,
    warn: Callable[[str], None] | None = None,
    usable_threshold: float | None = None,
    on_step: StepCallback | None = None,
) -> Path:
    """Write the HTML report of a site (and, with ``pdf``, a PDF beside it with the
    same name and a ``.pdf`` suffix); returns the HTML path (``~`` expanded; an
    ``out_html`` that cannot be a report file is refused, see
    :func:`~railwatch.report.output.report_target`). ``warn`` is called with
    each line of :attr:`ReportData.off_chart` (the report lists them as caveats).
    ``usable_threshold`` is the caller's settings' (the web app's own); None reads the
    environment's (``RAILWATCH_USABLE_THRESHOLD``), see :func:`build_report_data`.
    ``on_step`` is told how far it got (:data:`StepCallback`): reading, the alerts'
    images, the HTML's images and chart, and with ``pdf`` the PDF's pages."""
    from railwatch.report.html import write_html
    from railwatch.report.output import report_target

    target = report_target(out_html, site_name, pdf=pdf)
    images = site_images(db, site_name)
    for path in (target, target.with_suffix(".pdf")) if pdf else (target,):
        check_output(path, db, images, what="report")
    data = _report_data(db, site_name, date_from, date_to, warn, usable_threshold, on_step)
    from railwatch.report.output import written

    try:
        if not pdf:
            return write_html(data, target, on_step=on_step)
        from railwatch.report.pdf import write_pdf

        # both replaced together once both are whole: a PDF that failed left a new
        # HTML report beside the PDF of an earlier one
        with written(target, target.with_suffix(".pdf")) as (html_tmp, pdf_tmp):
            write_html(data, html_tmp, on_step=on_step)
            # a name holding a space is quoted: the PDF's lines keep it whole (pdf._wrap)
            name = f"`{target.name}`" if any(c.isspace() for c in target.name) else target.name
            full = f"the HTML report beside this PDF, {name} (section Images)"
            write_pdf(data, pdf_tmp, full_list=full, on_step=on_step)
    except OSError as err:
        raise _cannot_write(target, err) from err
    return target


def build_pdf_report(
    db: Database,
    site_name: str,
    out_pdf: str | Path,
    *,
    date_from: date | None = None,
    date_to: date | None = None,
    warn: Callable[[str], None] | None = None,
    usable_threshold: float | None = None,
    on_step: StepCallback | None = None,
) -> Path:
    """Write only the PDF report of a site to ``out_pdf`` (the content of
    :func:`build_report`'s PDF; no HTML); returns its path. ``warn``,
    ``usable_threshold`` and ``on_step`` as there."""
    from railwatch.report.output import report_target
    from railwatch.report.pdf import write_pdf

    target = report_target(out_pdf, site_name)
    check_output(target, db, site_images(db, site_name), what="report")
    data = _report_data(db, site_name, date_from, date_to, warn, usable_threshold, on_step)
    try:
        return write_pdf(data, target, on_step=on_step)
    except OSError as err:
        raise _cannot_write(target, err) from err


__all__ = ["build_pdf_report", "build_report", "build_report_data", "choose_before"]
