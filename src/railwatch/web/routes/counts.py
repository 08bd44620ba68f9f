"""Count series of a site per class, as JSON or CSV."""

from __future__ import annotations

import csv
import io
from typing import TYPE_CHECKING, Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from sqlalchemy import select
from starlette.datastructures import Headers
from starlette.staticfiles import NotModifiedResponse

from railwatch.analysis.events import local_day
from railwatch.detect.base import is_presence, long_train_present
from railwatch.export.gis import csv_cell
from railwatch.storage import repo
from railwatch.storage.models import Count, Scene
from railwatch.web import schemas
from railwatch.web.apidocs import conditional_responses
from railwatch.web.days import SiteDays
from railwatch.web.deps import DB, read_session
from railwatch.web.downloads import attachment
from railwatch.web.pagination import PageParams, page_links
from railwatch.web.params import PlainInt
from railwatch.web.routes.sites import SiteName
from railwatch.web.routes.tiles import etag_matches
from railwatch.web.security import require_read

if TYPE_CHECKING:
    from railwatch.analysis.types import CountPoint

router = APIRouter(tags=["counts"], dependencies=[Depends(require_read)])

FIELDS = (
    "when",
    "day",
    # the site's nominal zone whose days `day` names, as the export's counts give it
    # (2026-12-05, session 33)
    "local_zone",
    "scene_id",
    # the image's resolution, m/pixel: it picks the alert thresholds a count read back
    # with `analyze --counts` is judged with (2026-12-05, session 33; without it a 3 m
    # site's counts were judged with the fine thresholds)
    "gsd",
    # the series' class, as the query names it (`cls` until 2026-12-06, session 38;
    # `analyze --counts` reads either)
    "class",
    "count",
    "low",
    "high",
    "usable",
    "clear_fraction",
    "coverage",
    "method",
    "long_train_present",
    "reviewed",
    # whether the point's 90 % interval rests on an assumed spread of the detector's
    # recall, as in the JSON and the export's counts (2026-12-08, session 53; the JSON's
    # alone in session 52)
    "interval_spread_assumed",
)


def _row(p: CountPoint) -> dict[str, Any]:
    """One point of the series as served (``when``: its image's UTC time). A presence
    point's stored 1 or 0 is its long-train flag, never a count: count, low and high are
    null there."""
    presence = p.usable and is_presence(p.method)
    flag = long_train_present(p.method, p.count) if presence and p.cls == "all" else None
    return {
        "when": p.when.isoformat(),
        "scene_id": p.scene_id,
        "gsd": p.gsd,
        "class": p.cls,  # as the query names it (`cls` until session 38: _json_point)
        "count": None if presence else p.count,
        "low": None if presence else p.low,
        "high": None if presence else p.high,
        "usable": p.usable,
        "clear_fraction": p.clear_fraction,
        "coverage": p.coverage,
        # an unusable image was never counted, so it has no method (as in the CSV
        # export; CountPoint's default 'objects' said otherwise, even at 3 m)
        "method": p.method if p.usable else None,
        "long_train_present": flag,
        # the count is an analyst's (a scene review), not the detector's
        "reviewed": p.reviewed,
    }


def _json_point(
    row: dict[str, Any], day: str, spread_assumed: bool | None = None
) -> dict[str, Any]:
    """A point of the JSON series: ``row`` (:func:`_row`) with ``cls`` after ``class``,
    the name the JSON gave it until 2026-12-06 (session 38), kept for the clients that
    read it (the CSV has ``class`` alone), ``day``, its local day at the site, and
    ``interval_spread_assumed`` (``spread_assumed``, :func:`_spread_assumed`; since
    2026-12-08, session 52), last."""
    out: dict[str, Any] = {}
    for key, value in row.items():
        out[key] = value
        if key == "class":
            out["cls"] = value
    out["day"] = day
    out["interval_spread_assumed"] = spread_assumed
    return out


def _counted_by_detector(p: CountPoint) -> bool:
    """Whether a point's interval is the detector's count of cars one by one: a usable
    image's count by objects that is not an analyst's (``reviewed``)."""
    return p.usable and p.count is not None and p.method == "objects" and not p.reviewed


def _spread_assumed(p: CountPoint, flags: dict[int, bool | None]) -> bool | None:
    """Whether the point's 90 % interval rests on an assumed scene-to-scene spread of
    the detector's recall, as a scene's ``count.interval_spread_assumed`` says it
    (``storage.serialize.interval_spread_assumed``): its scene's recorded flag
    (``flags``, from ``repo.count_series_page``) for the detector's count of cars one
    by one; None for a gap, an analyst's count, a count by length or presence, or one
    counted before 2026-12-07 (session 51)."""
    if not _counted_by_detector(p) or p.scene_id is None:
        return None
    return flags.get(p.scene_id)


def _quality(part: str) -> float:
    """The q of one media range of an Accept header (1 where unsaid or unreadable)."""
    for param in part.split(";")[1:]:
        key, _, value = param.partition("=")
        if key.strip().lower() == "q":
            try:
                return min(max(float(value), 0.0), 1.0)
            except ValueError:
                return 1.0
    return 1.0


def prefers_csv(accept: str) -> bool:
    """Whether an Accept header prefers ``text/csv`` to ``application/json``.

    Each type takes the q of its most specific media range (``text/csv``, then
    ``text/*``, then ``*/*``, RFC 9110 section 12.5.1); a tie, or no header, is JSON, the
    endpoint's default (2026-12-07, session 49: the OpenAPI declared both media types
    while ``Accept: text/csv`` answered JSON).
    """
    ranges: dict[str, float] = {}
    for part in accept.split(","):
        media = part.split(";")[0].strip().lower()
        if media:
            ranges[media] = max(ranges.get(media, 0.0), _quality(part))

    def q(kind: str) -> float:
        for media in (kind, kind.split("/")[0] + "/*", "*/*"):
            if media in ranges:
                return ranges[media]
        return 0.0

    return q("text/csv") > q("application/json")


@router.get(
    "/sites/{site}/counts",
    summary="Count series of a site",
    response_class=Response,
    # the JSON body's schema (the route answers a Response, so nothing is re-validated:
    # tests/test_web_response_schemas_s35.py checks the body against it)
    responses={200: {"model": schemas.CountSeries, "content": {"text/csv": {}}}},
)
def site_counts(
    site: SiteName,
    request: Request,
    db: DB,
    cls: Annotated[
        str,
        Query(
            alias="class",
            min_length=1,
            max_length=32,
            pattern=r"^[A-Za-z0-9_\-]+$",
            description="The series: all (the site's total, the default), covered (cars "
            "whose loads are covered) or a car class: boxcar, gondola, hopper, tank, flat, "
            "container, locomotive, railcar (any other is a 422 naming them); the JSON's "
            "`classes` lists those the site has counts of.",
        ),
    ] = "all",
    format: Annotated[
        Literal["json", "csv"],
        Query(
            description="json (the default: the points in the page's envelope, with "
            "`local_zone` and "
            "`classes`) or csv (text/csv, a file of one row a point: a point's members "
            "but `cls`, with `day` and `local_zone` after `when`; flags true or false, "
            "gaps and what is not known empty, fractions to 4 decimals). Left "
            "out, the request's `Accept` header chooses: csv where it prefers `text/csv` "
            "to `application/json`, json otherwise."
        ),
    ] = "json",
    limit: Annotated[
        int,
        Query(ge=1, le=100_000, description="Points per page (10,000 unless given)."),
        PlainInt,
    ] = 10_000,
    offset: Annotated[
        int, Query(ge=0, le=10**9, description="Points to skip, from the first image."), PlainInt
    ] = 0,
) -> Response:
    """One point per processed scene in time order; unusable scenes are gaps (count,
    low, high and method null). A presence image (10 m and coarser, method presence) is
    no count of cars: its count, low and high are null and ``long_train_present`` says
    whether a long train (300 m of occupied track or more) was seen (true or false, in
    the total's series; null for every other point and class). ``reviewed`` is true
    where the count is an analyst's (``PUT /api/scenes/{id}/review``), not the
    detector's. ``interval_spread_assumed`` (a column of the CSV too since 2026-12-08,
    session 53) is true where the point's 90 % interval rests on an assumed
    scene-to-scene spread of the detector's recall, as a scene's
    ``count.interval_spread_assumed`` says it."""
    import json

    if "format" not in request.query_params and prefers_csv(request.headers.get("accept", "")):
        format = "csv"
    with read_session(db) as s:
        site_row = repo.get_site(s, site)
        # the site's name as stored, as every other answer gives it: the path's may be
        # another Unicode form of it (NFD), which the lookup takes (2026-12-07, session 49:
        # the body's `site` and the file name echoed the path's, which matched no
        # site's `name`)
        name = site_row.name
        days = SiteDays()
        utc_offset, zone = days.offset(site_row), days.zone(site_row)
        # only the page's points are read, in SQL: a fixed number of statements
        # whatever the number of images, and rows only for the points shown; for the
        # JSON and the CSV with whether each scene's intervals rest on an assumed spread
        # of recall, by scene id, read by the same statement (session 52; the CSV's since
        # session 53)
        flags: dict[int, bool | None] = {}
        shown, total = repo.count_series_page(
            s, site_row, cls=cls, limit=limit, offset=offset, spread=flags
        )
        classes = sorted(
            set(
                s.scalars(
                    select(Count.cls)
                    .distinct()
                    .join(Scene, Count.scene_id == Scene.id)
                    .where(Scene.site_id == site_row.id)
                )
            )
            | {"all"}
        )
    rows = [_row(p) for p in shown]
    params = PageParams(limit=limit, offset=offset)
    headers = {
        "Link": page_links(request, total, params.limit, params.offset),
        "X-Total-Count": str(total),
    }
    # the answer depends on Accept where `format` is not given (caches must key on it)
    headers["Vary"] = "Accept"
    if format == "csv":
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=FIELDS, lineterminator="\n")
        writer.writeheader()
        # `day` after `when`, as in the JSON and the export's counts (session 32; the
        # counts reader passes it over: the time says it)
        for row, p in zip(rows, shown, strict=True):
            row = {
                **row,
                "day": local_day(p.when, utc_offset).isoformat(),
                "local_zone": zone,
                "interval_spread_assumed": _spread_assumed(p, flags),
            }
            # each cell as `railwatch export --format csv` writes it (true/false flags,
            # empty gaps, fractions to 4 decimals): the export's own function (52d8660
            # had copied it here)
            writer.writerow({k: csv_cell(k, row[k]) for k in FIELDS})
        headers["Content-Disposition"] = attachment(f"{name}-{cls}-counts.csv")
        return Response(buf.getvalue(), media_type="text/csv; charset=utf-8", headers=headers)
    body = {
        "site": name,
        "class": cls,
        "cls": cls,  # its name until session 38, kept
        "classes": classes,
        # the site's nominal zone whose days `day` names (UTC+12)
        "local_zone": zone,
        # each point's local day at the site (session 31): the day the analysis groups it
        # by and its alerts name, where `when` is its image's UTC time
        "items": [
            _json_point(row, local_day(p.when, utc_offset).isoformat(), _spread_assumed(p, flags))
            for row, p in zip(rows, shown, strict=True)
        ],
        "total": total,
        "limit": limit,
        "offset": offset,
    }
    return Response(json.dumps(body), media_type="application/json", headers=headers)


#: What the baseline's ``ETag`` stays the same while (docs of its 304).
BASELINE_UNCHANGED = (
    "the site's images, their totals (an analyst's review among them), its place and the "
    "alert settings are the same"
)


def _baseline_etag(site_row: Any, cfg: Any, records: Any) -> str:
    """The ``ETag`` of a site's baseline track: a hash of what it is computed from (each
    image's time, state, quality and resolution, its total's count, interval, method and
    whose count it is, ``records`` as ``report.data.total_records`` reads them; the
    site's name and place, whose nominal zone gives the local days; the alert settings),
    read in one statement, a few milliseconds where computing the track takes seconds at
    10,000 images (2026-12-07, session 50 review: 1.9-2.9 s, asked again after every
    review, removal and analysis). Since session 51 the same statement gives the track
    its rows: the tag is as before."""
    import hashlib

    digest = hashlib.sha256()
    digest.update(
        repr(("baseline 1", site_row.id, site_row.name, bytes(site_row.geometry_wkb))).encode()
    )
    digest.update(cfg.model_dump_json().encode())
    for row in records:
        digest.update(repr(tuple(row)).encode())
    return f'"{digest.hexdigest()[:32]}"'


@router.get(
    "/sites/{site}/baseline",
    summary="Baseline and trailing record of a site's total",
    response_class=Response,
    responses={
        **conditional_responses("application/json", BASELINE_UNCHANGED),
        200: {
            **conditional_responses("application/json", BASELINE_UNCHANGED)[200],
            "model": schemas.BaselineTrack,
        },
    },
)
def site_baseline(site: SiteName, request: Request, db: DB) -> Response:
    """What the report's chart draws under the site total's counts: at each counted image
    of the site's main counting method (the one with the most counted images), the
    baseline the alert rules judged it with (``centre``, and ``low`` to ``high``, its
    band; null where they judged none, e.g. a new level after a raised shift with too few
    images yet) and ``record``, the trailing record a record alert there compares with
    (over the last ``record_years``; within a run of records, the record before the run
    began, as the alerts' texts say it). Counts made another way (3 m car equivalents
    beside cars seen one by one) have none: they are judged against their own history.
    Each point is computed from the images before it only. The dashboard's chart draws
    the record (2026-12-07, session 50: it drew neither, so nothing on the page showed
    the five years' record that the 2023 counts were judged against).

    It takes about a second at 10,000 images (2026-12-07, session 51: three times that
    before): the answer has an ``ETag`` (a hash of what
    it is computed from), and ``If-None-Match`` with it is a bodiless ``304`` while
    nothing it depends on has changed (a browser keeps it and asks so by itself)."""
    import json

    from railwatch.analysis.settings import AlertSettings
    from railwatch.report.data import baseline_track, total_records, total_rows

    cfg = AlertSettings()  # as the analysis and the report judge (RAILWATCH_ALERT_* too)
    with read_session(db) as s:
        site_row = repo.get_site(s, site)
        name = site_row.name
        days = SiteDays()
        utc_offset, zone = days.offset(site_row), days.zone(site_row)
        # what the track is computed from, in plain columns: the tag's hash and the
        # rows alike (until session 51 the rows were the report's, read again as ORM
        # objects: 40,000 at 10,000 images, over half of the answer's time)
        records = total_records(s, site_row)
        etag = _baseline_etag(site_row, cfg, records)
        headers = {"ETag": etag, "Cache-Control": "private, no-cache"}
        if etag_matches(request.headers.get("if-none-match"), etag):
            return NotModifiedResponse(Headers(headers=headers))
    rows = total_rows(records, utc_offset)
    del records
    # computed once the read session is closed (its snapshot no longer held), and
    # without filling the report's caches (review, session 50: each call left about 35
    # MiB held at 10,000 images, up to 16 calls' worth)
    track = baseline_track(rows, cfg, keep=False)
    items = [
        {
            "when": b.when.isoformat(),
            "day": local_day(b.when, utc_offset).isoformat(),
            "centre": b.centre,
            "low": b.low,
            "high": b.high,
            "record": b.record_line,
        }
        for b in track
    ]
    by_method: dict[str, int] = {}
    for r in rows:
        if r.counted and r.method != "presence":
            by_method[r.method or "objects"] = by_method.get(r.method or "objects", 0) + 1
    del rows
    # the method baseline_track follows (report.data: the most counted images)
    method = max(sorted(by_method), key=lambda m: by_method[m]) if by_method else None
    body = {
        "site": name,
        "class": "all",
        "method": method,
        "record_years": cfg.record_years,
        "local_zone": zone,
        "items": items,
    }
    return Response(json.dumps(body), media_type="application/json", headers=headers)
