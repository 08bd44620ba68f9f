"""The JSON the API answers, as pydantic models: its OpenAPI response schemas.

Until 2026-12-06 (session 35) the JSON endpoints declared ``dict[str, Any]``, so
``/openapi.json`` said only "an object" of every answer. The routes now declare these
models (``response_model``), and the bodies are what they were, byte for byte:

* every member is declared in the order the routes write it (pydantic writes a model's
  members in that order);
* a member the API gives only sometimes (a scene's ``footprint``, a review's
  ``features``, a site's ``geometry`` or ``recount``) has a default and the routes answer
  with ``response_model_exclude_unset``: it is left out where it was, never added as
  ``null``;
* a number that may be whole or not is ``int | float`` (a ``float`` would write a count
  of 6 as ``6.0``);
* ``extra="allow"``: a member a route adds that a model does not declare is passed on,
  not dropped (and ``tests/test_web_response_schemas_s35.py``, which validates every
  answer of a seeded database against the document with members not declared refused,
  fails until it is declared here).

Times are ISO 8601 strings (UTC with its offset), days ``YYYY-MM-DD`` strings, as the
routes write them; geometries and free-form maps (an alert's ``metrics``, a scene's
``metadata``) are JSON objects.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema
from pydantic.json_schema import JsonDict, JsonValue
from starlette.responses import JSONResponse

__all__ = [
    "GEOJSON",
    "Alert",
    "AnalyzeResult",
    "Candidate",
    "CarFile",
    "CountSeries",
    "DetectionCollection",
    "Event",
    "EventDeleted",
    "GeoJSONResponse",
    "Health",
    "Job",
    "OccupiedCollection",
    "Page",
    "Report",
    "Review",
    "Scene",
    "SceneQuality",
    "SessionState",
    "Site",
    "SiteDeleted",
]

#: A number written as the route has it: whole (6) or not (6.5).
Number = int | float

T = TypeVar("T")

_TIME: JsonDict = {"format": "date-time"}
_DAY: JsonDict = {"format": "date"}

#: The media type of the GeoJSON answers (RFC 7946).
GEOJSON = "application/geo+json"


class GeoJSONResponse(JSONResponse):
    """A GeoJSON body (``application/geo+json``), written as the routes wrote it before
    (``json.dumps`` with ASCII escapes, compact); a route's ``response_model`` declares
    it in ``/openapi.json`` under this media type (FastAPI declares a model's schema for
    a ``JSONResponse`` class only), and is never applied to the body."""

    media_type = GEOJSON

    def render(self, content: Any) -> bytes:
        return json.dumps(content, separators=(",", ":")).encode("utf-8")


# GeoJSON geometries (RFC 7946 3.1), as JSON schemas. The answers that hold one (a
# site's outline, a scene's footprint, a car) keep it as the dict the storage layer
# wrote: the schema is declared (``WithJsonSchema``), the value passed on as it is, so
# no geometry is rewritten by a model nor refused at run time (2026-12-06, session 36:
# they were declared "an object").
_POSITION: JsonDict = {
    "type": "array",
    "items": {"type": "number"},
    "minItems": 2,
    "maxItems": 3,
    "description": "longitude, latitude (WGS84; a /cars file: x, y in its `crs`)",
}
_LINE: JsonDict = {"type": "array", "items": _POSITION, "minItems": 2}
_RINGS: JsonDict = {
    "type": "array",
    "items": {"type": "array", "items": _POSITION, "minItems": 4},
    "minItems": 1,
    "description": "the exterior ring (counter-clockwise), then any holes",
}


def _geometry(kind: str, coordinates: JsonDict) -> JsonDict:
    return {
        "type": "object",
        "title": kind,
        "properties": {"type": {"const": kind}, "coordinates": coordinates},
        "required": ["type", "coordinates"],
    }


_POLYGON = _geometry("Polygon", _RINGS)
_MULTIPOLYGON = _geometry("MultiPolygon", {"type": "array", "items": _RINGS, "minItems": 1})
_LINESTRING = _geometry("LineString", _LINE)
_MULTILINESTRING = _geometry("MultiLineString", {"type": "array", "items": _LINE, "minItems": 1})

#: A Polygon, or a MultiPolygon (several parts, or one split at 180°: RFC 7946 3.1.9).
Polygonal = Annotated[
    dict[str, Any],
    WithJsonSchema(
        {
            "description": "GeoJSON Polygon or MultiPolygon (a MultiPolygon where it has "
            "several parts or is split at 180°, RFC 7946 3.1.9)",
            "oneOf": [_POLYGON, _MULTIPOLYGON],
        }
    ),
]
#: A LineString, or a MultiLineString (several lines, or one split at 180°).
Linear = Annotated[
    dict[str, Any],
    WithJsonSchema(
        {
            "description": "GeoJSON LineString or MultiLineString (several lines, or one "
            "split at 180°)",
            "oneOf": [_LINESTRING, _MULTILINESTRING],
        }
    ),
]


class _Out(BaseModel):
    """A JSON object the API answers."""

    model_config = ConfigDict(extra="allow")


class Page(_Out, Generic[T]):
    """One page of a list (see Pagination in docs/web.md)."""

    items: list[T]
    total: int = Field(description="How many items match in all (also `X-Total-Count`).")
    limit: int
    offset: int


# ----------------------------------------------------------------------------- sites


class LatestPresence(_Out):
    """The latest day's point where it is a 10 m presence image."""

    when: str = Field(json_schema_extra=_TIME)
    day: str = Field(json_schema_extra=_DAY)
    scene_id: int
    long_train_present: bool | None


class SiteSummary(_Out):
    """The latest day's count, its trend and the open alerts of a site."""

    latest_count: Number | None
    latest_method: str | None = Field(
        description="How `latest_count` was made, as a count's `method`: `objects` (cars "
        "counted one by one), `manual` (an analyst's cars), `length` (3 m images: car "
        "equivalents, occupied track length / 14 m, not cars told one by one); `null` "
        "without a count. `previous_count` was made the same way."
    )
    latest_when: str | None = Field(json_schema_extra=_TIME)
    latest_day: str | None = Field(json_schema_extra=_DAY)
    latest_scene_id: int | None
    previous_count: Number | None
    previous_day: str | None = Field(json_schema_extra=_DAY)
    previous_scene_id: int | None
    trend: Literal["up", "down", "flat", "none"]
    latest_presence: LatestPresence | None
    open_alerts: int
    open_by_severity: dict[str, int]
    latest_reviewed: bool


class Site(_Out):
    """A site with its totals, local days and summary; ``geometry`` and ``tracks`` in
    ``GET /api/sites/{site}`` and the answers of writes, not in the list; ``recount``
    in a ``PATCH`` that changed the tracks, ``centrelines`` and ``centreline_warnings``
    in one that gave them."""

    id: int
    name: str
    description: str
    tags: list[str]
    area_km2: Number
    utm_crs: str
    bounds: list[Number] = Field(description="W, S, E, N in degrees.")
    created_at: str | None = Field(json_schema_extra=_TIME)
    geometry: Polygonal | None = Field(
        default=None, description="GeoJSON geometry (WGS84); not in the list."
    )
    tracks: Linear | None = Field(
        default=None, description="GeoJSON track centrelines, or null; not in the list."
    )
    scenes: int
    processed: int
    usable: int
    first: str | None = Field(json_schema_extra=_TIME)
    last: str | None = Field(json_schema_extra=_TIME)
    alerts: int
    events: int
    local_zone: str = Field(description="The site's nominal zone (UTC+9).")
    first_day: str | None = Field(json_schema_extra=_DAY)
    last_day: str | None = Field(json_schema_extra=_DAY)
    summary: SiteSummary
    recount: dict[str, Any] | None = Field(
        default=None, description="Scenes to be counted again (a PATCH of the tracks only)."
    )
    centrelines: dict[str, Any] | None = Field(
        default=None,
        description="A PATCH that gave `tracks`: where its lines lie from the cars stored "
        "for the site's latest images of 1 m or finer (as `railwatch process --json`'s "
        "`centrelines`), null without such an image (since 2026-12-06, session 42).",
    )
    centreline_warnings: list[str] | None = Field(
        default=None,
        description="A PATCH that gave `tracks`: each line that looks off its track, or two "
        "lines on one track, with what to do; [] for none (since 2026-12-06, session 42).",
    )


class SiteDeleted(_Out):
    """What deleting a site removed."""

    deleted: str
    scenes: int
    detections: int
    counts: int
    events: int
    alerts: int
    reviews: int = Field(
        description="The analyst's reviews of its scenes (counts made by hand, images "
        "declared unusable), as `railwatch site remove --json` counts them."
    )


# ---------------------------------------------------------------------------- scenes


class Quality(_Out):
    """A scene's quality."""

    usable: bool | None
    clear_fraction: Number | None
    coverage: Number | None
    cloud_fraction: Number | None
    haze_fraction: Number | None
    snow_fraction: Number | None
    nodata_fraction: Number | None
    reasons: list[str] = Field(
        description="what the quality check found, the notes of how a coarse resolution "
        "is counted included"
    )
    causes: list[str] = Field(
        description="why an unusable scene is unusable: ``reasons`` less the notes of how "
        "its resolution is counted (occupied track length, long trains only)"
    )
    source: str | None


class SceneQuality(Quality):
    """``GET /api/scenes/{id}/quality``."""

    scene_id: int
    status: str


class TotalCount(_Out):
    """A scene's total count (``null`` numbers at a 10 m presence image)."""

    total: Number | None
    low: Number | None
    high: Number | None
    method: str | None
    long_train_present: bool | None
    interval_spread_assumed: bool | None = Field(
        default=None,
        description="`true` where the 90 % interval (`low` to `high`) of a count of cars "
        "one by one rests on an assumed scene-to-scene spread of the detector's recall, "
        "not a measured one (its calibration, `railwatch calibrate --labels`, had fewer "
        "than 2 labelled images of 5 or more cars at this resolution: how wide the "
        "interval is, is a guess); `false` where measured (a card written before "
        "2026-12-07, session 50, did not say and is read as measured); `null` where not "
        "known: an analyst's count, another method, a detector without a calibration, or "
        "a scene counted before 2026-12-07 (session 51).",
    )


class DetectorCount(_Out):
    """The detector's total that an analyst's count replaced."""

    total: Number | None
    low: Number | None
    high: Number | None


class ClassCount(_Out):
    """A scene's count of one class."""

    count: Number | None
    low: Number | None
    high: Number | None
    method: str | None
    reviewed: bool
    interval_spread_assumed: bool | None = Field(
        default=None,
        description="As the scene's `count.interval_spread_assumed`, for this class's "
        "interval (made with the same calibration): `true` where it rests on an assumed "
        "scene-to-scene spread of the detector's recall, `false` where measured, `null` "
        "where not known (an analyst's count, another method, no calibration, a scene "
        "counted before 2026-12-07). Since 2026-12-08 (session 52).",
    )


class AnalystCarProperties(_Out):
    """An analyst's car: its class, covered load, whether its centre is in the site."""

    class_: str = Field(alias="class", description="A railcar class (or `railcar`).")
    covered: bool
    inside: bool = Field(description="Its centre lies in the site (it is counted).")
    source: Literal["analyst"]

    model_config = ConfigDict(extra="allow", populate_by_name=True, serialize_by_alias=True)


class AnalystOutline(_Out):
    """A car an analyst outlined, as a GeoJSON Feature (WGS84)."""

    type: Literal["Feature"]
    geometry: Polygonal
    properties: AnalystCarProperties


class Review(_Out):
    """An analyst's review of a scene."""

    scene_id: int
    unusable: str | None = Field(
        default=None,
        description="The analyst's reason when the review declares the scene unusable "
        "(a gap in the series; `counts` is then empty), else null.",
    )
    counts: dict[str, Number]
    detector_counts: dict[str, Any]
    applied: bool
    note: str | None
    reviewed_at: str | None = Field(json_schema_extra=_TIME)
    cars: int | None
    features: list[AnalystOutline] | None = Field(
        default=None, description="The outlines as GeoJSON features (with `outlines=true`)."
    )
    removed: bool | None = Field(default=None, description="True in a DELETE's answer.")
    replaced: Review | None = Field(
        default=None,
        description="In a PUT's answer: the earlier review this one replaced (deleted: give "
        "its counts again after removing the new one), null when the scene had none.",
    )


class Scene(_Out):
    """A scene: ingest facts, processing state, quality and its total count;
    ``footprint``, ``counts`` and ``review`` in ``GET /api/scenes/{id}`` (``footprint``
    in the list with ``footprint=true``). ``uri`` and ``mask_uri`` are null without
    credentials."""

    id: int
    site: str
    uri: str | None
    content_hash: str
    acquired_at: str | None = Field(json_schema_extra=_TIME)
    date_source: str | None
    sensor: str | None
    crs: str | None
    gsd: Number | None
    width: int | None
    height: int | None
    band_count: int | None
    dtype: str | None
    coverage: Number | None
    mask_uri: str | None
    metadata: dict[str, Any]
    ingested_at: str | None = Field(json_schema_extra=_TIME)
    status: str
    detector: str | None
    detector_version: str | None
    processed_at: str | None = Field(json_schema_extra=_TIME)
    error: str | None
    needs_tracks: bool = Field(
        default=False,
        description="A failed scene that cannot be read without its site's track "
        "centrelines (a coarse image of a site without them): not counted, its file not at "
        "fault; `error` says to give them (PATCH /api/sites/SITE with them as `tracks`).",
    )
    quality: Quality
    footprint: Polygonal | None = Field(default=None, description="GeoJSON (WGS84).")
    day: str | None = Field(json_schema_extra=_DAY)
    file: str | None
    mask_file: str | None
    count: TotalCount | None
    reviewed: bool
    detector_count: DetectorCount | None
    counts: dict[str, ClassCount] | None = Field(
        default=None, description="Counts per class (`GET /api/scenes/{id}` only)."
    )
    review: Review | None = Field(default=None, description="`GET /api/scenes/{id}` only.")


class CandidateCount(_Out):
    """The detector's count of a scene to check."""

    total: Number | None
    low: Number | None
    high: Number | None
    method: str | None


class CandidateAlert(_Out):
    """An alert a scene to check carries."""

    kind: str
    severity: str
    class_: str = Field(alias="class")

    model_config = ConfigDict(extra="allow", populate_by_name=True, serialize_by_alias=True)


class Candidate(_Out):
    """A scene to check first (``GET /api/sites/{site}/to-review``)."""

    scene_id: int
    acquired_at: str | None = Field(json_schema_extra=_TIME)
    gsd: Number | None
    count: CandidateCount
    alerts: list[CandidateAlert]
    spread: Number
    sun_elevation: Number | None
    low_sun: bool
    day: str | None = Field(json_schema_extra=_DAY)


# ---------------------------------------------------------------------------- counts


class CountPoint(_Out):
    """One point of a count series."""

    when: str = Field(json_schema_extra=_TIME)
    scene_id: int
    gsd: Number | None
    class_: str = Field(alias="class", description="`all` (the site total) or a class.")
    cls: str = Field(description="The same as `class`, its name until session 38 (kept).")
    count: Number | None
    low: Number | None
    high: Number | None
    usable: bool
    clear_fraction: Number | None
    coverage: Number | None
    method: str | None
    long_train_present: bool | None
    reviewed: bool
    day: str = Field(json_schema_extra=_DAY)
    interval_spread_assumed: bool | None = Field(
        description="As a scene's `count.interval_spread_assumed`: `true` where the 90 % "
        "interval (`low` to `high`) of the detector's count of cars one by one rests on "
        "an assumed scene-to-scene spread of its recall, not a measured one (how wide the "
        "interval is, is a guess: `railwatch calibrate --labels` with more labelled "
        "images at this resolution measures it); `false` where measured; `null` where not "
        "known: a gap, an analyst's count, another method, a detector without a "
        "calibration, or a scene counted before 2026-12-07 (session 51). Since "
        "2026-12-08 (session 52)."
    )

    model_config = ConfigDict(extra="allow", populate_by_name=True, serialize_by_alias=True)


class CountSeries(_Out):
    """``GET /api/sites/{site}/counts`` (JSON): a page of the series of one class."""

    site: str
    class_: str = Field(alias="class", description="The series: `all` or a class.")
    cls: str = Field(description="The same as `class`, its name until session 38 (kept).")
    classes: list[str]
    local_zone: str
    items: list[CountPoint]
    total: int
    limit: int
    offset: int

    model_config = ConfigDict(extra="allow", populate_by_name=True, serialize_by_alias=True)


class BaselinePoint(_Out):
    """The baseline and trailing record at one counted image (from earlier images only)."""

    when: str = Field(json_schema_extra=_TIME)
    day: str = Field(json_schema_extra=_DAY)
    centre: Number | None = Field(description="The baseline's centre the image was judged with.")
    low: Number | None = Field(description="The bottom of the baseline's band.")
    high: Number | None = Field(description="The top of the baseline's band.")
    record: Number | None = Field(
        description="The trailing record a record alert at this image compares with "
        "(within a run of records, the record before the run began)."
    )


class BaselineTrack(_Out):
    """``GET /api/sites/{site}/baseline``: the site total's baseline and trailing record."""

    site: str
    class_: str = Field(alias="class", description="`all`: the site total.")
    method: str | None = Field(
        description="The counting method the track follows (`objects`, `length`): the one "
        "with the most counted images; null with none."
    )
    record_years: Number = Field(description="The years the trailing record looks back.")
    local_zone: str
    items: list[BaselinePoint]

    model_config = ConfigDict(extra="allow", populate_by_name=True, serialize_by_alias=True)


# ------------------------------------------------------------------ GeoJSON answers
# The bodies of /detections, /occupied and /cars are written by their routes (json.dumps
# of the FeatureCollection, application/geo+json); these models only declare them
# (2026-12-06, session 36: the three declared no schema at all).


class DetectorCarProperties(_Out):
    """A car the detector found (a stored detection)."""

    class_: str = Field(
        alias="class", description="A railcar class, or `railcar` where the type is unsure."
    )
    score: Number = Field(description="The detector's confidence, 0-1.")
    covered: bool = Field(description="Its load is under a tarpaulin.")
    covered_score: Number
    inside: bool = Field(description="Its centre lies in the site (it is counted).")
    source: Literal["detector"]

    model_config = ConfigDict(extra="allow", populate_by_name=True, serialize_by_alias=True)


class DetectorCar(_Out):
    """A detected car as a GeoJSON Feature (WGS84, 6 decimals); ``id`` the detection's."""

    type: Literal["Feature"]
    id: int
    geometry: Polygonal
    properties: DetectorCarProperties


class AnalystCar(_Out):
    """A car of the scene's review (``source=analyst``); ``id`` from 1 in the order the
    analyst gave them."""

    type: Literal["Feature"]
    id: int
    geometry: Polygonal
    properties: AnalystCarProperties


class DetectionCollection(_Out):
    """``GET /api/scenes/{id}/detections``: a page of the scene's cars as a GeoJSON
    FeatureCollection (WGS84), with the scene's state read with them."""

    type: Literal["FeatureCollection"]
    scene_id: int
    source: Literal["detector", "analyst"]
    status: str = Field(description="The scene's processing state.")
    count: TotalCount | None
    reviewed: bool
    detector_count: DetectorCount | None
    quality: Quality
    numberMatched: int = Field(description="Cars matching the filters, all pages.")
    numberReturned: int = Field(description="Cars in this page.")
    features: list[DetectorCar | AnalystCar] = Field(
        description="The detector's cars (`source=detector`) or the analyst's outlines "
        "(`source=analyst`), never both."
    )


class OccupiedRunProperties(_Out):
    """A stretch of track read as occupied."""

    method: Literal["length"]
    length_m: Number
    car_equivalents: Number = Field(description="`length_m` / 14 m (a conventional car).")


class OccupiedRun(_Out):
    """A stretch of track as a GeoJSON Feature (WGS84, 6 decimals), ``id`` from 1."""

    type: Literal["Feature"]
    id: int
    geometry: Linear
    properties: OccupiedRunProperties


class OccupiedCollection(_Out):
    """``GET /api/scenes/{id}/occupied``: the stretches of track a count by occupied
    track length read as occupied, a GeoJSON FeatureCollection (WGS84), not paged."""

    type: Literal["FeatureCollection"]
    scene_id: int
    status: str
    count: TotalCount | None
    reviewed: bool
    detector_count: DetectorCount | None
    quality: Quality
    recorded: bool = Field(
        description="The count kept its stretches (true with no feature: none occupied)."
    )
    reason: str | None = Field(description="Why none is kept (`recorded` false), else null.")
    occupied_length_m: Number | None
    car_equivalents: Number | None
    numberMatched: int
    numberReturned: int
    features: list[OccupiedRun]


class CarFileProperties(_Out):
    """A car of a ``/cars`` file (the analyst's: score 1, covered_score 0 or 1)."""

    class_: str = Field(alias="class")
    score: Number
    covered: bool
    covered_score: Number
    class_scores: dict[str, Number] | None = Field(
        default=None, description="The detector's probability of each type, where it gave them."
    )

    model_config = ConfigDict(extra="allow", populate_by_name=True, serialize_by_alias=True)


class CarFileFeature(_Out):
    """A car of a ``/cars`` file, in the scene's CRS."""

    type: Literal["Feature"]
    geometry: Polygonal
    properties: CarFileProperties


class CrsName(_Out):
    """A named CRS (GeoJSON 2008's ``crs`` member, as GDAL and QGIS read it)."""

    type: Literal["name"]
    properties: dict[str, str] = Field(description='{"name": "EPSG:32652"}')


class CarFile(_Out):
    """``GET /api/scenes/{id}/cars``: every car over the image as a GeoJSON
    FeatureCollection in the scene's CRS, as ``railwatch scene cars`` writes it: a file
    to correct and send back as a review's ``cars``."""

    type: Literal["FeatureCollection"]
    crs: CrsName | None = Field(
        default=None, description="The scene's CRS; absent where it is EPSG:4326 (lon/lat)."
    )
    gsd: Number | None = Field(default=None, description="m per pixel; absent when unknown.")
    scene_id: int
    source: Literal["detector", "analyst"]
    features: list[CarFileFeature]


# ----------------------------------------------------------------- alerts and events


class Alert(_Out):
    """An alert, as ``railwatch alerts --json`` gives it, with ``created_at``."""

    id: int
    version: str = Field(description="What it says, as a token (16 hex digits).")
    site: str
    key: str
    kind: str = Field(description="record, spike, shift, drop or quality.")
    severity: str = Field(description="info, low, medium or high.")
    when: str = Field(json_schema_extra=_TIME)
    class_: str = Field(alias="class", description="`all` (the site total) or a class.")
    cls: str = Field(description="The same as `class`, its name until session 38 (kept).")
    value: Number | None
    explanation: str
    metrics: dict[str, Any]
    event_label: str | None
    event_days: int | None
    scene_id: int | None
    active: bool
    acknowledged: bool
    ack_note: str | None
    ack_at: str | None = Field(json_schema_extra=_TIME)
    created_at: str | None = Field(json_schema_extra=_TIME)
    updated_at: str | None = Field(
        default=None,
        json_schema_extra=_TIME,
        description="When an analysis last stored a change to it (raised again saying "
        "something else, retired): what `changed_since` compares with. An "
        "acknowledgement changes it not.",
    )
    day: str | None = Field(json_schema_extra=_DAY)
    reviewed: bool
    changed_since_ack: dict[str, Any] | None

    model_config = ConfigDict(extra="allow", populate_by_name=True, serialize_by_alias=True)


class Event(_Out):
    """A dated event at a site."""

    id: int
    site: str
    date: str = Field(json_schema_extra=_DAY)
    label: str
    description: str | None


class SceneDeleted(_Out):
    """What deleting a scene removed, as ``railwatch scene remove --json`` gives each
    scene (2026-12-06, session 41): its rows, and the alerts citing it, deleted
    (unacknowledged) or kept inactive with their notes (acknowledged). The image file
    is kept; the site's other alerts are judged again by its next analysis."""

    deleted: int
    site: str
    file: str = Field(description="The scene's file name (never its path).")
    acquired_at: str
    status: str
    detections: int
    counts: int
    reviews: int
    alerts_removed: list[int]
    alerts_retired: list[int]


class EventDeleted(_Out):
    """The id of the event deleted, and how many of its site's stored alerts still name it
    until the site is analysed again (since 2026-12-07, session 45)."""

    deleted: int
    alerts_naming_it: int = 0


class AnalyzeResult(_Out):
    """What ``POST /api/sites/{site}/analyze`` did."""

    site: str
    alerts: int
    points: int
    usable: int
    created: int
    unchanged: int
    updated: int
    removed: int
    retired: int
    reopened: int
    changed_since_ack: int


# ----------------------------------------------------------------- jobs and reports


class Job(_Out):
    """A background processing job."""

    id: str
    site: str
    kind: str
    reprocess: bool
    status: Literal["queued", "running", "succeeded", "failed"]
    done: int
    total: int
    progress: Number | None
    current: str
    created_at: str = Field(json_schema_extra=_TIME)
    started_at: str | None = Field(json_schema_extra=_TIME)
    finished_at: str | None = Field(json_schema_extra=_TIME)
    error: str | None
    result: dict[str, Any] | None


class Report(_Out):
    """A report written by ``POST /api/sites/{site}/reports``: its metadata file as
    written, so a member a report written by an earlier version lacks (``warnings``
    before session 33) is left out, never an error."""

    id: str
    site: str | None = None
    created_at: str | None = Field(default=None, json_schema_extra=_TIME)
    since: str | None = Field(
        default=None,
        description="The period's first day (a local day at the site); null: from the first image.",
        json_schema_extra=_DAY,
    )
    until: str | None = Field(
        default=None,
        description="The period's last day (included); null: to the last image.",
        json_schema_extra=_DAY,
    )
    date_from: str | None = Field(
        default=None,
        description="The same as `since`, its name until session 46 (kept).",
        json_schema_extra={**_DAY, "deprecated": True},
    )
    date_to: str | None = Field(
        default=None,
        description="The same as `until`, its name until session 46 (kept).",
        json_schema_extra={**_DAY, "deprecated": True},
    )
    formats: list[str] | None = None
    links: dict[str, str] | None = None
    warnings: list[str] | None = None


# ---------------------------------------------------------------------------- other


class SessionState(_Out):
    """The dashboard's sign-in state."""

    signed_in: bool
    authenticated: bool
    reads: str
    writes: str
    session_seconds: int
    token_from: str | None


class Health(_Out):
    """Liveness and version."""

    status: str
    version: str


# ------------------------------------------------------------------ request rules
# What the core accepts of a request body or query, declared in ``/openapi.json``
# (2026-12-08, session 53). Schemathesis found five operations whose generated requests
# were mostly refused (422) by rules the document did not state: a change with no
# member, "exactly one of" pairs, GeoJSON types, date strings, kinds and classes. These
# are JSON schemas only (``json_schema_extra``, ``WithJsonSchema``): the values are
# still checked by the core, with its messages, and each schema matches the core's
# rule or is looser, never stricter (``tests/test_api_schemas_s53.py``; the older
# ``maxLength``s count the text as sent, the core stripped: docs/web.md). What cannot be
# said in JSON Schema (a polygon that does not cross itself, its area, a box's west
# west of its east, a part count above the total) is said in words (docs/web.md).

#: The characters Python's ``str.strip()`` removes (``str.isspace()``): the core strips
#: text before it checks it, so these may surround any text (ECMA-262's ``\s`` is
#: another set: it lacks U+001C-U+001F and U+0085, and has U+FEFF).
_WS = r"\t\n\x0b\x0c\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
#: C0 and C1 control characters and DEL (``railwatch.limits``' ``_CONTROL_RE``).
_CTRL = r"\x00-\x1f\x7f-\x9f"

#: Text on one line, not blank: an event label, a tag, the reason an image is unusable
#: (stripped, then no control character at all).
ONE_LINE = rf"^[{_WS}]*[^{_WS}{_CTRL}](?:[^{_CTRL}]*[^{_WS}{_CTRL}])?[{_WS}]*$"
#: A tag: :data:`ONE_LINE` without a comma (the exports join a site's tags with commas).
TAG = rf"^[{_WS}]*[^{_WS}{_CTRL},](?:[^{_CTRL},]*[^{_WS}{_CTRL},])?[{_WS}]*$"
#: Free text, maybe empty: a description, a note (stripped, then line breaks and tabs
#: allowed, ``\r\n`` read as a line break, other control characters refused).
FREE_TEXT = (
    rf"^[{_WS}]*(?:[^{_WS}{_CTRL}](?:(?:[^{_CTRL}]|[\t\n]|\r\n)*[^{_WS}{_CTRL}])?)?[{_WS}]*$"
)
#: Blank text (nothing once stripped).
BLANK = rf"^[{_WS}]*$"
#: A year 0001-9999 (there is no year 0000).
_YEAR = "(?:[1-9][0-9]{3}|0[1-9][0-9]{2}|00[1-9][0-9]|000[1-9])"
#: A date alone or a date and time as ``railwatch.limits.parse_time`` reads them:
#: YYYY-MM-DD in ASCII digits (a month 01-12, a day 01-31: the days of each month are
#: not declared), then nothing or ``T``/space and a time (ISO 8601, not declared).
WHEN = rf"^[{_WS}]*{_YEAR}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01])(?:[Tt ].*)?[{_WS}]*$"
#: An event's date: YYYY-MM-DD from the year 1900 (``limits.EARLIEST_YEAR``).
EVENT_DAY = r"^(?:19[0-9]{2}|[2-9][0-9]{3})-[0-9]{2}-[0-9]{2}$"
#: The characters no site name holds: ASCII other than letters, digits, ``_``, ``-`` and
#: ``.``, C1 controls, and spaces (``railwatch.limits``: ``\w`` of any script, which
#: ECMA-262 patterns cannot say without the ``u`` flag; none of these becomes a letter
#: in Unicode NFC, the form names are read in). A ``-`` or ``.`` cannot come first.
_NOT_NAME = (
    r"\x00-\x2c\x2f\x3a-\x40\x5b-\x5e\x60\x7b-\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
)
SITE_NAME = rf"^[^{_NOT_NAME}\-.][^{_NOT_NAME}]*$"


def kinds_pattern(kinds: tuple[str, ...]) -> str:
    """One or more of ``kinds`` separated by commas, each maybe surrounded by
    whitespace (``railwatch.storage.alert_filter.parse_kinds``)."""
    one = rf"[{_WS}]*(?:{'|'.join(kinds)})[{_WS}]*"
    return rf"^{one}(?:,{one})*$"


# GeoJSON as the site readers take it (``railwatch.sites``): a Feature, a
# FeatureCollection, a GeometryCollection or a geometry, with any other member (``id``,
# ``properties``, a legacy ``crs`` whose coordinates are reprojected: so no range is
# declared for a number). A position is 2 to 4 numbers (a height and a measure are
# dropped); a line has no position or 2 or more; a ring none or 4 or more, its last the
# first (not declared); a MultiPolygon's polygons are not empty. An empty member of a
# collection (no positions, null coordinates, any geometry type) is skipped, so a
# collection's members and a FeatureCollection's features are declared loosely.
_POS_IN: JsonDict = {"type": "array", "items": {"type": "number"}, "minItems": 2, "maxItems": 4}
_LINE_IN: JsonDict = {
    "type": "array",
    "items": _POS_IN,
    "anyOf": [{"maxItems": 0}, {"minItems": 2}],
}
_RING_IN: JsonDict = {
    "type": "array",
    "items": _POS_IN,
    "anyOf": [{"maxItems": 0}, {"minItems": 4}],
}
_COORDS_IN: dict[str, JsonDict] = {
    "LineString": _LINE_IN,
    "MultiLineString": {"type": "array", "items": _LINE_IN},
    "Polygon": {"type": "array", "items": _RING_IN},
    "MultiPolygon": {"type": "array", "items": {"type": "array", "items": _RING_IN, "minItems": 1}},
}
#: The fewest items of a geometry's coordinates where it is read alone (a top-level
#: geometry, a Feature's): empty, it is refused ("geometry is empty").
_FILLED = {"LineString": 2, "MultiLineString": 1, "Polygon": 1, "MultiPolygon": 1}
#: A MultiLineString read alone: no empty line (shapely refuses to make one with an
#: empty part; in a collection, one of empty lines only is an empty member, skipped).
_ALONE: dict[str, JsonDict] = {"MultiLineString": {"items": {**_LINE_IN, "minItems": 2}}}
#: A member of a collection: any GeoJSON geometry object (its type case-sensitive) with
#: its ``coordinates`` (maybe empty or null: such a member is skipped), or a
#: GeometryCollection with its ``geometries`` list of geometry objects.
_POINTS_IN: dict[str, JsonDict] = {
    "Point": {"anyOf": [_POS_IN, {"type": "array", "maxItems": 0}]},
    "MultiPoint": {"type": "array", "items": _POS_IN},
}
_MEMBERS_IN: list[JsonValue] = [
    {
        "properties": {
            "type": {"const": kind},
            "coordinates": {"anyOf": [coordinates, {"type": "null"}]},
        },
        "required": ["type", "coordinates"],
    }
    for kind, coordinates in {**_POINTS_IN, **_COORDS_IN}.items()
]
_MEMBER_IN: JsonDict = {
    "type": "object",
    "anyOf": [
        *_MEMBERS_IN,
        {
            "properties": {
                "type": {"const": "GeometryCollection"},
                "geometries": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {
                            "type": {"enum": [*_POINTS_IN, *_COORDS_IN, "GeometryCollection"]}
                        },
                        "required": ["type"],
                    },
                },
            },
            "required": ["type", "geometries"],
        },
    ],
}


def _geometry_in(kind: str, *, alone: bool = False, kinds: tuple[str, ...] = ()) -> JsonDict:
    """A geometry of ``kind``; ``alone``: read by itself, so not empty (a
    GeometryCollection's members: one at least of ``kinds``, not empty, or a collection)."""
    if kind == "GeometryCollection":
        members: JsonDict = {"type": "array", "items": _MEMBER_IN, "minItems": 1}
        if alone:
            filled: list[JsonValue] = [_geometry_in(k, alone=True) for k in kinds]
            members["contains"] = {"anyOf": [*filled, {"properties": {"type": {"const": kind}}}]}
        return {
            "type": "object",
            "title": kind,
            "properties": {"type": {"const": kind}, "geometries": members},
            "required": ["type", "geometries"],
        }
    coordinates = _COORDS_IN[kind]
    return {
        "type": "object",
        "title": kind,
        "properties": {
            "type": {"const": kind},
            "coordinates": {**coordinates, **_ALONE.get(kind, {}), "minItems": _FILLED[kind]}
            if alone
            else {"anyOf": [coordinates, {"type": "null"}]},
        },
        "required": ["type", "coordinates"],
    }


def _feature_in(geometry: JsonDict) -> JsonDict:
    return {
        "type": "object",
        "title": "Feature",
        "properties": {"type": {"const": "Feature"}, "geometry": geometry},
        "required": ["type", "geometry"],
    }


def _geojson_in(kinds: tuple[str, ...], description: str) -> JsonDict:
    """A GeoJSON object: a geometry of ``kinds`` (not empty) or a GeometryCollection, a
    Feature of one, or a FeatureCollection of Features of any geometry, one of them at
    least of ``kinds`` (not empty) or a GeometryCollection (the site's polygons and its
    lines may be given together: the site is its polygons, the tracks its lines)."""
    alone: list[JsonValue] = [
        _geometry_in(k, alone=True, kinds=kinds) for k in (*kinds, "GeometryCollection")
    ]
    return {
        "description": description,
        "anyOf": [
            *alone,
            _feature_in({"anyOf": alone}),
            {
                "type": "object",
                "title": "FeatureCollection",
                "properties": {
                    "type": {"const": "FeatureCollection"},
                    "features": {
                        "type": "array",
                        "items": _feature_in(_MEMBER_IN),
                        "contains": _feature_in({"anyOf": alone}),
                    },
                },
                "required": ["type", "features"],
            },
        ],
    }


#: A site's outline as ``POST /api/sites`` takes it (``geometry``).
SITE_GEOJSON_IN = _geojson_in(
    ("Polygon", "MultiPolygon"),
    "GeoJSON in WGS84 lon/lat: a Polygon or MultiPolygon, a Feature of one, or a "
    "FeatureCollection or GeometryCollection of them (its LineStrings too where the same "
    "GeoJSON is given as `tracks`: the site is its polygons, the tracks its lines). A "
    "legacy `crs` member naming another CRS is honoured. Not declared here, checked by "
    "the server (422 saying what is wrong): each ring closed (its last position its "
    "first), the polygon valid (it does not cross itself), longitudes and latitudes in "
    "range and not all within 1° of 0°, 0° (pixel or local coordinates), an area of 50 "
    "m² to 2,500 km² (`railwatch.sites`' limits), parts near each other.",
)
#: An analyst's cars (``PUT /api/scenes/{id}/review``'s ``cars``): a FeatureCollection
#: whose features each have a geometry, a car's Polygon (a MultiPolygon split at 180°;
#: a LineString of ``"method": "length"`` is an occupied run, skipped), as
#: ``railwatch.detect.geojson`` reads it; each outline's shape, class and place are
#: checked by the server.
CARS_IN: JsonDict = {
    "type": "object",
    "properties": {
        "type": {"const": "FeatureCollection"},
        "features": {
            "anyOf": [
                {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {
                            "geometry": {
                                "type": "object",
                                "properties": {
                                    "type": {
                                        "enum": [
                                            "Polygon",
                                            "MultiPolygon",
                                            "LineString",
                                            "MultiLineString",
                                        ]
                                    }
                                },
                                "required": ["type", "coordinates"],
                            }
                        },
                        "required": ["geometry"],
                    },
                },
                {"type": "null"},
            ]
        },
    },
    "required": ["type"],
}
#: Track centrelines as ``POST /api/sites`` and ``PATCH /api/sites/{site}`` take them.
TRACKS_GEOJSON_IN = _geojson_in(
    ("LineString", "MultiLineString"),
    "GeoJSON track centrelines in WGS84 lon/lat: a LineString or MultiLineString, a "
    "Feature of one, or a FeatureCollection or GeometryCollection of them. Not declared "
    "here, checked by the server: a line of zero length is refused, and the lines must "
    "reach the site.",
)
