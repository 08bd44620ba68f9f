"""An analyst's review of a scene: the outlines they corrected, read for the database.

The detector is trained on drawings, and an analyst who looks at a scene may know
better: ``railwatch scene review`` (and ``PUT /api/scenes/{id}/review``) record the
analyst's count of a processed, usable scene, which the scene's stored counts then are
(:func:`railwatch.storage.repo.set_scene_review`). The analyst gives either the counts
or the cars' outlines: the scene's cars written by ``railwatch scene cars ID``
(:func:`scene_cars`; or the scene's features of ``railwatch export``, or ``railwatch
detect`` on its file), corrected in QGIS (false boxes deleted, missed cars drawn,
``class`` and ``covered`` fixed) and read back here.

Reviewed scenes are what ``railwatch export-labels`` turns into verified training
labels for ``railwatch train --labels`` (docs/detection.md, "Fine-tuning on your own
labels"), and what ``railwatch eval --site SITE`` scores the detector's stored results
against (:func:`evaluate_reviews`): the measure of its accuracy on the analyst's own
imagery.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from pyproj import Transformer
from shapely.geometry import Polygon
from sqlalchemy import select
from sqlalchemy.orm import Session

from railwatch.analysis.csvio import SourceLine
from railwatch.analysis.events import local_day, offset_text
from railwatch.analysis.series import as_utc
from railwatch.analysis.store import site_utc_offset
from railwatch.analysis.types import CountPoint
from railwatch.detect.base import ALL_CLASSES, Detection
from railwatch.detect.eval import SceneEval, evaluate_scene, match
from railwatch.detect.geojson import (
    FeatureSet,
    box_from_polygon,
    from_feature_collection,
    is_geographic,
)
from railwatch.errors import InputError, NotFoundError
from railwatch.storage import repo
from railwatch.storage.models import ANALYST, Count, Scene, SceneReview, Site
from railwatch.storage.models import Detection as StoredDetection
from railwatch.storage.records import DetectionRecord, records_from_detections
from railwatch.storage.serialize import review_dict

__all__ = [
    "CAR_SOURCES",
    "UNCHANGED_IOU",
    "ReviewEvaluation",
    "ReviewImport",
    "cars_from_feature_collection",
    "evaluate_reviews",
    "import_reviews",
    "outlines_unchanged",
    "outlines_words",
    "read_review_cars",
    "scene_cars",
]

#: Whose cars :func:`scene_cars` gives: the analyst's outlines where the scene has them,
#: else the detector's (``auto``), or one of the two.
CAR_SOURCES = ("auto", "detector", ANALYST)

#: The affine transform of coordinates already in the scene's CRS.
_IDENTITY = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0)


def _features(fc: Mapping[str, Any]) -> list[Any] | tuple[Any, ...]:
    """The collection's features where they are a list; none otherwise, whose error
    :func:`~railwatch.detect.geojson.from_feature_collection` says (``"features": 1.5``
    was a 500 of ``PUT /api/scenes/{id}/review``, "'float' object is not iterable",
    until 2026-12-08, session 53)."""
    features = fc.get("features")
    return features if isinstance(features, list | tuple) else ()


def _other_scenes(fc: Mapping[str, Any], scene_id: int) -> list[int]:
    """The ``scene_id`` properties (as ``railwatch export`` writes them) that are not
    ``scene_id``: a file of a whole site's detections holds every scene's cars."""
    others: set[int] = set()
    for feat in _features(fc):
        props = feat.get("properties") if isinstance(feat, Mapping) else None
        if isinstance(props, Mapping) and "scene_id" in props:
            try:
                other = int(props["scene_id"])
            except (TypeError, ValueError):
                continue
            if other != scene_id:
                others.add(other)
    return sorted(others)


def _sources(fc: Mapping[str, Any]) -> set[str]:
    """The ``source`` properties of the features (``railwatch export`` writes the
    detector's cars and an analyst's outlines of a reviewed scene side by side)."""
    found: set[str] = set()
    for feat in _features(fc):
        props = feat.get("properties") if isinstance(feat, Mapping) else None
        if isinstance(props, Mapping) and isinstance(props.get("source"), str):
            found.add(props["source"])
    return found


def cars_from_feature_collection(
    fc: Mapping[str, Any], scene: Scene, site: Site, *, source: str = "the outlines"
) -> list[DetectionRecord]:
    """The railcars of a GeoJSON FeatureCollection (one Polygon per car, with ``class``
    and ``covered``; in the scene's CRS with a top-level ``crs`` member, or RFC 7946
    lon/lat without one) as records in the scene's CRS, each marked ``inside`` when its
    centre lies in the site. Refused, with what to do: pixel coordinates (``"crs":
    null``), features of other scenes, and outlines none of which lies in the site (the
    file of another scene or site)."""
    others = _other_scenes(fc, scene.id)
    top = fc.get("scene_id")
    if isinstance(top, int) and top != scene.id:
        raise InputError(
            f"{source} holds the cars of scene {top} (its scene_id), not of scene {scene.id}: "
            f"give it to `railwatch scene review {top}`, or write scene {scene.id}'s with "
            f"`railwatch scene cars {scene.id}`"
        )
    if others:
        shown = ", ".join(str(i) for i in others[:5]) + (" ..." if len(others) > 5 else "")
        raise InputError(
            f"{source} holds cars of other scenes ({shown}) besides scene {scene.id}: keep "
            f"only the features whose scene_id is {scene.id} (in QGIS: select by expression "
            f'"scene_id" = {scene.id}, then export the selection)'
        )
    sources = _sources(fc)
    if len(sources) > 1:
        raise InputError(
            f"{source} holds both the detector's cars and an analyst's outlines (source "
            f"{' and '.join(sorted(sources))}), which would count each car twice: keep one "
            "(in QGIS: select by expression \"source\" = 'analyst', or write the scene's "
            f"cars with `railwatch scene cars {scene.id}`)"
        )
    if "crs" in fc and fc["crs"] is None:
        raise InputError(
            f"{source} is in pixel coordinates (its crs is null): give the outlines in the "
            f"scene's CRS ({scene.crs}) or in lon/lat, as `railwatch detect` writes them for "
            "a georeferenced image and `railwatch export` for a site"
        )
    # a scene in lon/lat has each outline's rectangle fitted on the ground (a local
    # metric frame) and its corners taken back to degrees: fitted in degrees, a car at
    # an angle was sheared (since session 34)
    frame = _metric_frame(scene.crs, site) if is_geographic(scene.crs) else scene.crs
    features = from_feature_collection(fc, source=source, to_crs=frame, check_outlines=True)
    cars = records_from_detections(
        features.detections, _IDENTITY, frame, site_geom_wgs84=site.geometry
    )
    if frame != scene.crs:
        cars = _records_in(cars, scene.crs)
    if cars and not any(c.inside for c in cars):
        raise InputError(
            f"none of the {len(cars)} outlines in {source} has its centre in site "
            f"{site.name!r}: is it the file of another scene or site? An empty yard is a "
            "FeatureCollection with no features (or `--count 0`)"
        )
    return cars


def _metric_frame(crs: str, site: Site) -> str:
    """A local metric CRS for outlines of a scene in the geographic ``crs``: the
    azimuthal equidistant projection centred on the site, on ``crs``'s own datum (so
    going there and back is the projection alone, no datum shift). Degrees are no
    length: a degree of longitude at 42 N is 0.74 of one of latitude, so a rectangle
    fitted in degrees to a car at 30 degrees is sheared (14 m x 3 m drawn, 14.65 m x
    3.07 m stored); fitted here, 10 km from the centre lengths are true to 4e-7."""
    from pyproj import CRS
    from pyproj.crs import ProjectedCRS
    from pyproj.crs.coordinate_operation import AzimuthalEquidistantConversion

    from railwatch.sites import site_longitude

    lon = site_longitude(site.geometry)
    lat = float(site.geometry.centroid.y)
    datum = CRS.from_user_input(crs).geodetic_crs
    if datum is None:  # a geographic CRS has one; kept for the type checker
        datum = CRS.from_epsg(4326)
    frame = ProjectedCRS(
        conversion=AzimuthalEquidistantConversion(
            latitude_natural_origin=lat, longitude_natural_origin=lon
        ),
        geodetic_crs=datum,
        name=f"railwatch local frame of site {site.name}",
    )
    return str(frame.to_wkt())


def _records_in(cars: list[DetectionRecord], crs: str) -> list[DetectionRecord]:
    """``cars`` with their native polygons taken into ``crs`` corner by corner (their
    WGS84 polygons and ``inside`` kept)."""
    if not cars:
        return cars
    move = _mover(cars[0].native_crs, crs)
    return [replace(car, native_polygon=move(car.native_polygon), native_crs=crs) for car in cars]


def outlines_words(cars: Sequence[Mapping[str, Any]] | None) -> str:
    """How a review's counts came from its outlines (``cars``: a review's stored cars,
    None for a count alone), said after its counts: " from 50 outlines (1 lies outside
    the site: not counted)". Only the outlines whose centre lies in the site are counted;
    "all 49 from 50 outlines" left the analyst to guess which one was lost (2026-12-05,
    session 33)."""
    if cars is None:
        return ""
    n = len(cars)
    text = f" from {n} outline{'' if n == 1 else 's'}"
    outside = sum(1 for car in cars if not car.get("inside", True))
    if outside:
        lies = "lies" if outside == 1 else "lie"
        text += f" ({outside} {lies} outside the site: not counted)"
    return text


def read_review_cars(path: str | Path, scene: Scene, site: Site) -> list[DetectionRecord]:
    """:func:`cars_from_feature_collection` of a GeoJSON file."""
    from railwatch.detect.geojson import read_geojson_object

    data = read_geojson_object(path)
    return cars_from_feature_collection(data, scene, site, source=str(path))


@dataclass(frozen=True)
class ReviewEvaluation:
    """The detector's stored results scored against a site's reviews: a
    :class:`~railwatch.detect.eval.SceneEval` per reviewed scene (boxes matched where the
    analyst gave outlines, counts only where they gave counts), and the reviews left out
    with why (``{"scene_id": ..., "reason": ...}``)."""

    scenes: tuple[SceneEval, ...]
    outlines: int
    counts_only: int
    left_out: tuple[dict[str, Any], ...]
    #: The scenes (ids) whose outlines are the detector's own cars unchanged (each car
    #: where it drew it, with its type and covered flag): they score as perfect, which
    #: says nothing of its accuracy unless the analyst checked them on the image.
    unchanged: tuple[int, ...] = ()


#: Outlines at least this close (IoU) to the detector's car are taken as its car.
UNCHANGED_IOU = 0.98


def outlines_unchanged(truth: Sequence[Detection], pred: Sequence[Detection]) -> bool:
    """Whether the analyst's outlines ``truth`` are the detector's cars ``pred`` as it
    drew them: as many, each matched one to one at :data:`UNCHANGED_IOU` or more, with
    the same type and covered flag. False for a scene without cars (an empty yard
    confirmed is a review like any other)."""
    if not truth or len(truth) != len(pred):
        return False
    m = match(truth, pred, UNCHANGED_IOU)
    return m.tp == len(truth) and all(
        truth[t].cls == pred[p].cls and truth[t].covered == pred[p].covered for t, p, _ in m.pairs
    )


def _mover(src: str, dst: str) -> Callable[[Any], Any]:
    if src == dst:
        return lambda geom: geom
    tr = Transformer.from_crs(src, dst, always_xy=True)

    def move(geom: Any) -> Any:
        return shapely.transform(geom, lambda xy: np.column_stack(tr.transform(xy[:, 0], xy[:, 1])))

    return move


def _review_truth(
    review: SceneReview, crs: str, *, inside_only: bool = True
) -> tuple[Detection, ...]:
    """The analyst's cars (by default those in the site), as boxes in ``crs``."""
    move = _mover(review.native_crs or crs, crs)
    return tuple(
        Detection(
            box=box_from_polygon(move(Polygon(car["native"]))),
            cls=str(car["cls"]),
            score=1.0,
            covered=bool(car["covered"]),
            covered_score=float(bool(car["covered"])),
        )
        for car in review.cars or []
        if car.get("inside", True) or not inside_only
    )


def _stored_pred(
    session: Session, scene_id: int, crs: str, *, inside_only: bool = True
) -> tuple[Detection, ...]:
    """The detector's stored cars (by default those in the site, which it counted), as
    boxes in ``crs``."""
    out = []
    movers: dict[str, Callable[[Any], Any]] = {}
    q = select(StoredDetection).where(StoredDetection.scene_id == scene_id)
    if inside_only:
        q = q.where(StoredDetection.inside.is_(True))
    for d in session.scalars(q.order_by(StoredDetection.id)):
        move = movers.setdefault(d.native_crs, _mover(d.native_crs, crs))
        out.append(
            Detection(
                box=box_from_polygon(move(d.native_geometry)),
                cls=d.cls,
                score=d.score,
                covered=d.covered,
                covered_score=d.covered_score,
            )
        )
    return tuple(out)


def _stored_outlines(session: Session, scene_id: int, crs: str) -> list[list[list[float]]]:
    """The detector's stored cars of a scene (all of them, in :func:`_stored_pred`'s
    order) as their polygons' vertices moved to ``crs`` one by one."""
    out = []
    movers: dict[str, Callable[[Any], Any]] = {}
    q = select(StoredDetection).where(StoredDetection.scene_id == scene_id)
    for d in session.scalars(q.order_by(StoredDetection.id)):
        move = movers.setdefault(d.native_crs, _mover(d.native_crs, crs))
        out.append([list(xy) for xy in move(d.native_geometry).exterior.coords])
    return out


def _left_out_reason(session: Session, scene: Scene, review: SceneReview) -> str | None:
    declared = repo.unusable_reason(review)
    if declared is not None:
        return f"declared unusable by the analyst ({declared}): no count to score"
    if review.content_hash != scene.content_hash:
        return "the scene's file changed since it was reviewed"
    total = session.scalar(select(Count).where(Count.scene_id == scene.id, Count.cls == "all"))
    if total is None or total.detector != ANALYST:
        return f"the scene is {scene.status} now: its review is not applied"
    if not isinstance((review.machine or {}).get("all"), Mapping):
        return "no count of the detector's is kept for it"
    return None


def evaluate_reviews(session: Session, site: str) -> ReviewEvaluation:
    """Score the detector's stored counts and cars of ``site`` against the analyst's
    reviews: a scene reviewed with outlines has its stored cars (those in the site) matched
    to the analyst's by oriented-polygon IoU (precision, recall, F1, covered and type
    accuracy, as ``railwatch eval``); a scene reviewed with counts only has its count error
    (total, and the types the analyst gave). Scenes are named ``scene ID (DATE)``, DATE
    the scene's day at the site (its nominal zone), as ``scene list`` shows it."""
    s = repo.get_site(session, site)
    rows = session.execute(
        select(SceneReview, Scene)
        .join(Scene, SceneReview.scene_id == Scene.id)
        .where(Scene.site_id == s.id)
        .order_by(Scene.acquired_at, Scene.id)
    ).all()
    zone = site_utc_offset(s)
    scenes: list[SceneEval] = []
    left_out: list[dict[str, Any]] = []
    outlines = counts_only = 0
    unchanged: list[int] = []
    for review, scene in rows:
        why = _left_out_reason(session, scene, review)
        if why is not None:
            left_out.append({"scene_id": scene.id, "reason": why})
            continue
        machine = review.machine or {}
        method = str(machine["all"]["method"])
        name = f"scene {scene.id} ({local_day(as_utc(scene.acquired_at), zone).isoformat()})"
        if review.cars is not None and method == "objects":
            crs = s.utm_crs
            truth = FeatureSet(_review_truth(review, crs), crs, scene.gsd)
            pred = FeatureSet(_stored_pred(session, scene.id, crs), crs, scene.gsd)
            scenes.append(evaluate_scene(name, truth, pred, gsd=scene.gsd))
            outlines += 1
            if outlines_unchanged(truth.detections, pred.detections):
                unchanged.append(scene.id)
            continue
        given = [c for c in review.counts if c in ALL_CLASSES and method == "objects"]
        scenes.append(
            SceneEval(
                name,
                scene.gsd,
                method,
                round(float(review.counts["all"])),
                float(machine["all"]["count"]),
                {},
                {c: round(float(review.counts[c])) for c in given},
                {
                    c: round(float(machine[c]["count"]))
                    if isinstance(machine.get(c), Mapping)
                    else 0
                    for c in given
                },
            )
        )
        counts_only += 1
    return ReviewEvaluation(tuple(scenes), outlines, counts_only, tuple(left_out), tuple(unchanged))


def scene_cars(session: Session, scene_id: int, source: str = "auto") -> dict[str, Any]:
    """The cars of one scene as a GeoJSON FeatureCollection in the scene's CRS (with its
    ``crs`` member, ``gsd``, ``scene_id`` and ``source``), every car over the image (in
    the site or not): the detector's stored cars or the analyst's outlines (``source``,
    one of :data:`CAR_SOURCES`). Corrected in QGIS, it goes back with ``railwatch scene
    review ID --cars FILE``."""
    from railwatch.detect.geojson import to_feature_collection

    if source not in CAR_SOURCES:
        raise InputError(f"unknown source {source!r}: use one of {', '.join(CAR_SOURCES)}")
    scene = repo.get_scene(session, scene_id)
    review = repo.get_scene_review(session, scene_id)
    has_outlines = review is not None and review.cars is not None
    if source == ANALYST and not has_outlines:
        raise NotFoundError(
            f"scene {scene_id} has no outlines of an analyst's"
            + (" (its review gives counts only)" if review is not None else "")
            + ": ask for the detector's cars (source auto or detector)"
        )
    if source == "auto":
        source = ANALYST if has_outlines else "detector"
    if source == "detector":
        _check_has_cars(session, scene)
    crs = scene.crs
    outlines = None
    if source == ANALYST:
        assert review is not None
        cars = _review_truth(review, crs, inside_only=False)
        if is_geographic(crs):
            # the stored outlines as they are: a rectangle on the ground is none in
            # degrees, and its box fitted there grew at each round trip (session 34)
            move = _mover(review.native_crs or crs, crs)
            outlines = [
                [list(xy) for xy in move(Polygon(car["native"])).exterior.coords]
                for car in review.cars or []
            ]
    else:
        cars = _stored_pred(session, scene_id, crs, inside_only=False)
        if is_geographic(crs):
            # the detector's cars (rectangles in the site's UTM zone) corner by corner:
            # their box fitted in degrees was sheared, a 14 m x 3 m car at 30 deg written
            # 14.66 m x 3.07 m at 42 N, and stored so by `scene review --cars` (session 34)
            outlines = _stored_outlines(session, scene_id, crs)
    return to_feature_collection(
        cars,
        crs=crs,
        gsd=scene.gsd,
        extra={"scene_id": scene_id, "source": source},
        outlines=outlines,
    )


def _check_has_cars(session: Session, scene: Scene) -> None:
    """Refuse a scene the detector drew no cars on for a reason (not processed,
    unusable, 1.5 m and coarser): an empty collection would read as an empty yard."""
    from railwatch.detect.coarse import method_for_gsd

    if scene.status == "unusable":
        why = f" ({'; '.join(scene.reasons)})" if scene.reasons else ""
        raise InputError(
            f"scene {scene.id} is unusable{why}: railwatch drew no cars on it (an unusable "
            "image is a gap, never an empty yard), so there are none to correct"
        )
    if scene.status != "processed":
        raise InputError(
            f"scene {scene.id} is {scene.status}: it has no detections yet; run "
            f"`railwatch process {scene.site.name}` first"
        )
    method = method_for_gsd(scene.gsd) if scene.gsd else "objects"
    if method == "length":
        raise InputError(
            f"scene {scene.id} is a {scene.gsd:g} m image: its cars are not separable "
            "(railwatch measures occupied track length there), so there are no outlines to "
            f"correct; give its total instead: `railwatch scene review {scene.id} --count N`"
        )
    if method == "presence":
        raise InputError(
            f"scene {scene.id} is a {scene.gsd:g} m image: railwatch records only whether a "
            "long train is present there, so there are no cars to correct"
        )


@dataclass(frozen=True)
class ReviewImport:
    """What :func:`import_reviews` did: the scenes whose counts it recorded as reviews
    (``recorded``: ``(scene_id, counts)``) and those whose stored counts already were the
    file's, or that stood declared unusable for the file's reason (``unchanged``).
    ``by_utc_day``: ``(scene_id, the line's date, the scene's local day)`` of the lines
    without ``scene_id`` taken by the scene's UTC day, their date not being the local day
    of any usable image (a file written before session 31, when a line's date was the UTC
    day). ``declared``: ``(scene_id, reason, replaced)`` of the scenes the file declared
    unusable (its ``unusable`` column, since session 37), ``replaced`` the review it
    replaced (:func:`~railwatch.storage.serialize.review_dict`: a count the analyst gave,
    or an earlier reason) or None. ``replaced``: ``(scene_id, review)`` of the recorded
    scenes that had a count review, the one the file's count replaced (``review_dict``:
    the counts, outlines and note it deleted; a type it gave and the file does not goes
    back to the detector's), said as ``scene review --count`` says it (since the
    session 37 review: it went without a word)."""

    recorded: tuple[tuple[int, dict[str, float]], ...]
    unchanged: tuple[int, ...]
    by_utc_day: tuple[tuple[int, date, date], ...] = ()
    declared: tuple[tuple[int, str, dict[str, Any] | None], ...] = ()
    replaced: tuple[tuple[int, dict[str, Any]], ...] = ()


def _line_day(point: CountPoint, utc_offset: timedelta) -> date:
    """The site's local day a CSV line is of: its date as written where it gives a date
    alone (:attr:`CountPoint.date_only`: a date is a day as the analysis and alerts give
    days, the site's local day), else that of its time at the site (a time of 00:00 UTC
    too: west of Greenwich it is the day before)."""
    utc = as_utc(point.when)
    return utc.date() if point.date_only else local_day(utc, utc_offset)


def _several_images(scenes: list[Scene], *, usable: bool = True) -> str:
    """Why a line without ``scene_id`` cannot take an image: ``scenes`` are several
    (``usable``: the images a count may go to; else any image, as a line declaring one
    unusable may)."""
    which = "usable images" if usable else "images"
    return (
        f"{len(scenes)} {which} (scenes {', '.join(str(sc.id) for sc in scenes)}): "
        "add a scene_id column to say which one each " + ("count is of" if usable else "line is of")
    )


def _line_words(point: CountPoint, at: SourceLine | None) -> str:
    """How an error names a count line: its number and date as written (``line 3,
    2024-03-06T07:30:00Z``), or its date alone for points not read from a file."""
    if at is not None:
        return f"line {at[0]} ({at[1]})" if at[1] else f"line {at[0]}"
    utc = as_utc(point.when)
    return utc.date().isoformat() if point.date_only else f"{utc:%Y-%m-%d %H:%M} UTC"


def _line_day_words(point: CountPoint, day: date, site: str, zone: str) -> str:
    """The local day a line is of, said after it: its time's day at the site, or the day
    its date alone is there."""
    if point.date_only:
        return f"is a day at site {site!r} ({zone} nominal)"
    return f"is {day} at site {site!r} ({zone} nominal)"


def import_reviews(
    session: Session,
    site: str,
    series: Mapping[str, Any],
    *,
    note: str = "",
    lines: Mapping[str, Sequence[SourceLine]] | None = None,
    unusable: Mapping[str, Sequence[str]] | None = None,
) -> ReviewImport:
    """Record the counts of a CSV file (read by
    :func:`railwatch.analysis.csvio.read_counts_file`: hand counts with ``date,count`` and
    optional ``class`` lines, or ``railwatch export``'s counts CSV corrected in a
    spreadsheet) as reviews of ``site``'s scenes, all or none. A line's day is the site's
    local day (:func:`~railwatch.analysis.store.site_utc_offset`, as the analysis groups
    images and dates alerts, since session 31; it was the UTC day): that of its time, or
    its date where it gives a date alone (:func:`_line_day`). A line goes to the scene its
    ``scene_id`` names (the export's; the scene's local day, or its UTC day as files
    written before session 31 gave it, must be the line's, since session 28), else to the
    site's one processed, usable image of its day (a day with several is refused, naming
    them). A day with none takes the one usable image of the line's UTC day, if there is
    one (a file written by UTC days: ``by_utc_day`` says so), else is refused (naming
    the UTC day's images where it has several). Each scene needs its total (``all``);
    ``covered`` and car classes go with it. Scenes whose stored counts already are the
    file's are left as they are.

    The site's row is held first (``repo.hold_site``, session 32): the import locks its
    scenes one after the other, by id, and a removal of the site, deleting them in
    another order, deadlocked with it (PostgreSQL aborted one); now the removal waits
    for the import, and an import coming after a removal began says the site was
    removed.

    ``lines``: each point's line in the file, by site, as the reader gives them
    (``read_counts_file(...).lines``: the line it starts on and its date as written),
    which the errors name, and then the local day it is at the site (session 32: they
    named the local day alone, which at a yard west of Greenwich is not the date of a line
    of the next UTC day, so the line could not be found); without them (points not read
    from a file) the errors name the line's date or UTC time. Since 2026-12-05 (session
    32) the reader gives them with the points; they were read again beside them by a
    second reader paired with the points by position.

    ``unusable``: each point's reason for declaring its image unusable ("" where none),
    by site, as the reader gives them (``read_counts_file(..., unusable=True).unusable``:
    the file's ``unusable`` column, since 2026-12-06, session 37). A line with a reason declares its
    image unusable as ``railwatch scene review ID --unusable REASON`` does
    (:func:`~railwatch.storage.repo.set_scene_unusable_review`: a gap with the reason
    "unusable by analyst review: REASON", a count the analyst gave replaced and said in
    ``declared``): the image its ``scene_id`` names, else the site's one image of its day
    of any state (a failed or unprocessed one too). An image the file both counts and
    declares unusable, or declares for two reasons, is refused naming both lines; one
    declared already for the same reason is ``unchanged``."""
    s = repo.hold_site(session, site, "reviews of its images were being imported")
    key = s.name if s.name in series else ""
    points = series.get(key) if len(series) else None
    if points is None:
        named = ", ".join(sorted(k for k in series if k))
        raise InputError(
            f"the file's site column names {named or 'no site'}, not {s.name!r}: give the "
            f"lines of site {s.name} (or leave the column out)"
        )
    at: Sequence[SourceLine | None] = (lines or {}).get(key) or [None] * len(points)
    if len(at) != len(points):  # a caller's mistake: the lines are not of these points
        raise ValueError(f"{len(at)} lines given for {len(points)} points of site {key!r}")
    reasons: Sequence[str] = (unusable or {}).get(key) or [""] * len(points)
    if len(reasons) != len(points):  # likewise
        raise ValueError(f"{len(reasons)} reasons given for {len(points)} points of {key!r}")
    offset = site_utc_offset(s)
    zone = offset_text(offset)
    local_days: dict[date, list[Scene]] = {}  # the usable scenes by local day
    utc_days: dict[date, list[Scene]] = {}  # and by UTC day (files before session 31)
    any_local: dict[date, list[Scene]] = {}  # every scene, for lines declaring one unusable
    any_utc: dict[date, list[Scene]] = {}
    for sc in repo.list_scenes(session, s):
        any_local.setdefault(local_day(sc.acquired_at, offset), []).append(sc)
        any_utc.setdefault(as_utc(sc.acquired_at).date(), []).append(sc)
        if sc.usable is True:
            local_days.setdefault(local_day(sc.acquired_at, offset), []).append(sc)
            utc_days.setdefault(as_utc(sc.acquired_at).date(), []).append(sc)
    wanted: dict[int, dict[str, float]] = {}
    said: dict[int, dict[str, str]] = {}  # how the errors name each count's line
    by_utc: dict[int, tuple[int, date, date]] = {}
    unfit: dict[int, tuple[str, str]] = {}  # the scenes declared unusable: (reason, line)
    for p, where, reason in zip(points, at, reasons, strict=True):
        if not reason and (not p.is_usable or p.count is None or p.method == "presence"):
            continue  # a gap of the file, or a 10 m flag: nothing to record
        day = _line_day(p, offset)
        line = _line_words(p, where)
        if p.scene_id is not None:
            # an id no record can have is no scene (PostgreSQL refused the statement)
            scene = session.get(Scene, p.scene_id) if repo.is_record_id(p.scene_id) else None
            if scene is None or scene.site_id != s.id:
                raise InputError(
                    f"{line}: scene {p.scene_id} is not a scene of site {s.name!r}: check the "
                    "scene_id column (the file of another site?)"
                )
            # the day must be the scene's, as for a line without scene_id: a count put
            # beside another image's id (lines sorted by one column) was recorded on it
            # (a file written before session 31 gave the scene's UTC day: the id says
            # which image, and it is that one)
            taken = local_day(scene.acquired_at, offset)
            if day not in (taken, as_utc(scene.acquired_at).date()):
                raise InputError(
                    f"{line} {_line_day_words(p, day, s.name, zone)}, but scene {scene.id} is "
                    f"the image of {taken} there: check that the line's scene_id and date "
                    "belong together (a spreadsheet sorted by one column only?); nothing was "
                    "recorded"
                )
        else:
            # a count goes to a usable image; a line declaring one unusable, to any image
            usable = not reason
            found = (local_days if usable else any_local).get(day, [])
            utc_day = as_utc(p.when).date()
            older = (utc_days if usable else any_utc).get(utc_day, []) if not found else []
            if len(found) != 1 and len(older) != 1:
                kind = "usable image" if usable else "image"
                if found:
                    why = f"which has {_several_images(found, usable=usable)}"
                elif older:  # none of the local day, several of the UTC day
                    why = (
                        f"which has no {kind}, and its UTC day "
                        f"{utc_day} has {_several_images(older, usable=usable)}"
                    )
                else:
                    nor = "" if p.date_only else f" (nor has its UTC day {utc_day})"
                    what = "processed, usable image" if usable else "image"
                    why = f"which has no {what}{nor}: see `railwatch scene list {s.name}`"
                raise InputError(f"{line} {_line_day_words(p, day, s.name, zone)}, {why}")
            scene = found[0] if found else older[0]
            if not found:  # the line's UTC day's one image: a file by UTC days
                by_utc[scene.id] = (scene.id, day, local_day(scene.acquired_at, offset))
        if reason or scene.id in unfit:
            _check_declared(scene, reason, line, unfit, said)
            unfit.setdefault(scene.id, (reason, line))
            continue
        mine = wanted.setdefault(scene.id, {})
        if p.cls in mine and mine[p.cls] != p.count:
            first = said[scene.id][p.cls]
            raise InputError(
                f"{first} and {line}: both count {p.cls} on scene {scene.id} "
                f"(the image of {local_day(scene.acquired_at, offset)} at the site, "
                f"{zone} nominal), differently ({mine[p.cls]:g}, {p.count:g}): keep one"
            )
        mine[p.cls] = float(p.count)
        said.setdefault(scene.id, {}).setdefault(p.cls, line)
    recorded: list[tuple[int, dict[str, float]]] = []
    unchanged: list[int] = []
    declared: list[tuple[int, str, dict[str, Any] | None]] = []
    replaced_counts: list[tuple[int, dict[str, Any]]] = []
    with session.begin_nested():
        # one pass in ascending scene id, declarations and counts alike: the order the
        # import locks its scenes in (docs/storage.md), whatever each line asks
        for scene_id in sorted({*unfit, *wanted}):
            try:
                # locked before its review and counts are read, so that what the import
                # says (unchanged, the review replaced) is what it wrote over: a review
                # committed by another writer between the read and the write's own lock
                # was neither said nor seen (until session 38)
                repo.lock_scene(session, scene_id)
                if scene_id in unfit:
                    reason = unfit[scene_id][0]
                    earlier = repo.get_scene_review(session, scene_id)
                    if repo.unusable_reason(earlier) == reason.strip():
                        unchanged.append(scene_id)  # declared so already: not written again
                        continue
                    replaced = None if earlier is None else review_dict(earlier)
                    done = repo.set_scene_unusable_review(session, scene_id, reason)
                    declared.append((scene_id, done.note, replaced))
                    continue
                counts = wanted[scene_id]
                stored = {
                    c.cls: c.count
                    for c in session.scalars(select(Count).where(Count.scene_id == scene_id))
                }
                if all(stored.get(cls, 0.0) == n for cls, n in counts.items()):
                    unchanged.append(scene_id)
                    continue
                earlier = repo.get_scene_review(session, scene_id)
                if earlier is not None:  # deleted by the new review: said, as the CLI's
                    replaced_counts.append((scene_id, review_dict(earlier)))
                repo.set_scene_review(session, scene_id, counts, note=note)
                recorded.append((scene_id, counts))
            except InputError as err:
                when = session.get(Scene, scene_id)
                of = local_day(when.acquired_at, offset).isoformat() if when else "?"
                named = (
                    unfit[scene_id][1]
                    if scene_id in unfit
                    else ", ".join(dict.fromkeys(said[scene_id].values()))
                )
                raise InputError(f"{named}, of {of} at the site (scene {scene_id}): {err}") from err
    return ReviewImport(
        tuple(recorded),
        tuple(sorted(unchanged)),
        tuple(by_utc[k] for k in sorted(by_utc)),
        tuple(declared),
        tuple(replaced_counts),
    )


def _check_declared(
    scene: Scene,
    reason: str,
    line: str,
    unfit: Mapping[int, tuple[str, str]],
    said: Mapping[int, Mapping[str, str]],
) -> None:
    """Refuse a line declaring ``scene`` unusable (``reason``; "" for a count line of a
    scene declared so above) that another line counts, or declares so for another
    reason: both lines named."""
    if scene.id in said:
        counted = next(iter(said[scene.id].values()))
        first, second = (counted, line) if reason else (line, counted)
        raise InputError(
            f"{first} counts scene {scene.id} and {second} declares it unusable: an image "
            "declared unusable has no count (a gap in the series); keep one of the lines"
        )
    if scene.id not in unfit:
        return
    before, where = unfit[scene.id]
    if not reason:
        raise InputError(
            f"{where} declares scene {scene.id} unusable and {line} counts it: an image "
            "declared unusable has no count (a gap in the series); keep one of the lines"
        )
    if before.strip() != reason.strip():
        raise InputError(
            f"{where} and {line} both declare scene {scene.id} unusable, for different "
            f"reasons ({before.strip()!r}, {reason.strip()!r}): keep one"
        )
