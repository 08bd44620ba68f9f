"""An analyst's review of a scene: read, record (a count or corrected outlines), remove;
which scenes to check first, and a scene's cars as the file to correct.

The scene's stored counts are then the analyst's (``railwatch scene review``, the same
storage functions): the series, charts, exports and, after an analysis, the alerts read
them; the detector's counts are kept beside them and come back when the review goes.
The review loop is ``GET /api/sites/{site}/to-review`` (``railwatch scene to-review``),
``GET /api/scenes/{id}/cars`` (``railwatch scene cars``), corrected in QGIS, then
``PUT /api/scenes/{id}/review`` with them as ``cars``.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema, model_validator
from pydantic.json_schema import JsonDict

from railwatch.detect.base import ALL_CLASSES
from railwatch.errors import NotFoundError
from railwatch.limits import NOTE_MAX
from railwatch.storage import repo
from railwatch.storage.serialize import candidate_dict, review_dict
from railwatch.web import schemas
from railwatch.web.bodies import JsonNumber
from railwatch.web.days import SiteDays
from railwatch.web.deps import DB, Paging, read_session
from railwatch.web.downloads import attachment
from railwatch.web.pagination import paginate
from railwatch.web.routes.scenes import SceneId
from railwatch.web.routes.sites import SiteName
from railwatch.web.schemas import BLANK, CARS_IN, FREE_TEXT, ONE_LINE, Page
from railwatch.web.security import require_read, require_write

router = APIRouter(tags=["reviews"])

#: Most classes one review may give (the total, covered and each railcar class).
MAX_REVIEW_CLASSES = 16

#: The body's class names: a word of letters, digits, ``_`` and ``-``.
ClassName = Annotated[str, Field(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_\-]+$")]


#: The classes a review's ``counts`` may give (``repo._checked_review_counts``).
REVIEW_CLASSES = ("all", "covered", *ALL_CLASSES)

#: ``counts`` as declared: known classes, ``all`` required, numbers >= 0 (session 53:
#: the key pattern alone let generated clients send any word, refused by the core).
_COUNTS_IN: JsonDict = {
    "type": "object",
    "propertyNames": {"enum": list(REVIEW_CLASSES)},
    "additionalProperties": {"type": "number", "minimum": 0},
    "required": ["all"],
    "maxProperties": MAX_REVIEW_CLASSES,
}


class ReviewIn(BaseModel):
    """An analyst's count of a scene, ``counts`` or ``cars``, or their judgement that it
    is unusable (``unusable``): exactly one (the others left out or null); with
    ``unusable``, no ``note`` (blank)."""

    # oneOf: `_one_of` below refuses the others, with its words (declared since
    # 2026-12-08, session 53)
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "oneOf": [
                {
                    "title": "counts",
                    "required": ["counts"],
                    "properties": {"counts": {"type": "object"}},
                },
                {"title": "cars", "required": ["cars"], "properties": {"cars": {"type": "object"}}},
                {
                    "title": "unusable",
                    "required": ["unusable"],
                    "properties": {"unusable": {"type": "string"}},
                },
            ],
            # with `unusable`, which is the review's note, `note` is blank
            "if": {"required": ["unusable"], "properties": {"unusable": {"type": "string"}}},
            "then": {"properties": {"note": {"pattern": BLANK}}},
        },
    )

    counts: Annotated[dict[ClassName, JsonNumber], WithJsonSchema(_COUNTS_IN)] | None = Field(
        default=None,
        max_length=MAX_REVIEW_CLASSES,
        description="Your count per class: `all` (the total, required), `covered` and car "
        "classes (boxcar, gondola, hopper, tank, flat, container, locomotive, railcar); "
        "classes not given keep the detector's counts. Numbers >= 0 (declared); not "
        "declared, checked by the server (422 saying which): whole numbers where the "
        "scene's cars are counted one by one (car equivalents at 1.5-10 m may be "
        "fractional, and only `all` is given there), no class above `all`, the car "
        "classes together at most `all`, and a total the site can hold.",
        examples=[{"all": 73, "covered": 30, "boxcar": 40}],
    )
    cars: Annotated[dict[str, Any], WithJsonSchema(CARS_IN)] | None = Field(
        default=None,
        description="Every car over the scene as a GeoJSON FeatureCollection (a Polygon "
        "each, with `class` and `covered`; lon/lat, or the scene's CRS with a `crs` "
        "member), e.g. the scene's detections corrected; counted where a car's centre "
        "lies in the site.",
    )
    unusable: str | None = Field(
        default=None,
        description="Why the image is unusable (clouds the quality check missed, not the "
        "site, a night image, a file corrupt at its source): the scene becomes a gap in the "
        "series, never a zero, and processing skips it until the review is removed. One "
        f"line, not blank, at most {NOTE_MAX} characters once stripped.",
        # checked by the core (railwatch.limits, repo.set_scene_unusable_review)
        json_schema_extra={"maxLength": NOTE_MAX, "pattern": ONE_LINE},
    )
    note: str = Field(
        default="",
        description="Why, or how you counted (line breaks and tabs allowed, no other "
        "control character); blank with `unusable`, which is the note.",
        json_schema_extra={"maxLength": NOTE_MAX, "pattern": FREE_TEXT},
    )

    @model_validator(mode="after")
    def _one_of(self) -> ReviewIn:
        given = [self.counts is not None, self.cars is not None, self.unusable is not None]
        if sum(given) != 1:
            raise ValueError(
                "give either counts ({'all': N, ...}) or cars (a GeoJSON FeatureCollection "
                "of the corrected outlines), or unusable (why the image is unusable): one of "
                "them, not both and not neither"
            )
        if self.unusable is not None and self.note.strip():
            raise ValueError("unusable is the review's note: give the reason there only")
        return self


def _review_of(session: Any, scene_id: int) -> Any:
    repo.get_scene(session, scene_id)  # 404 naming the scene when there is none
    review = repo.get_scene_review(session, scene_id)
    if review is None:
        raise NotFoundError(
            f"scene {scene_id} has no review: its counts are the detector's; record yours "
            f"with PUT /api/scenes/{scene_id}/review (or `railwatch scene review {scene_id}`)"
        )
    return review


@router.get(
    "/scenes/{scene_id}/review",
    dependencies=[Depends(require_read)],
    summary="An analyst's review of a scene",
    response_model=schemas.Review,
    response_model_exclude_unset=True,
)
def get_review(
    scene_id: SceneId,
    db: DB,
    outlines: Annotated[
        bool, Query(description="Include the analyst's outlines as GeoJSON `features`.")
    ] = False,
) -> dict[str, Any]:
    """The analyst's counts, the detector's counts they replaced (``detector_counts``),
    whether the scene's stored counts are the analyst's now (``applied``), the note and
    time, and how many outlines were given (``cars``); 404 when the scene has none."""
    with read_session(db) as s:
        return review_dict(_review_of(s, scene_id), cars=outlines)


@router.put(
    "/scenes/{scene_id}/review",
    dependencies=[Depends(require_write)],
    summary="Record an analyst's count of a scene",
    responses={
        201: {"description": "Review recorded (the scene had none).", "model": schemas.Review}
    },
    response_model=schemas.Review,
    response_model_exclude_unset=True,
)
def put_review(scene_id: SceneId, body: ReviewIn, db: DB, response: Response) -> dict[str, Any]:
    """Your count of a processed, usable scene (``counts``) or the cars' corrected
    outlines (``cars``), with a ``note``, or why the scene (in any state, a failed one
    too, but not one that failed only for want of its site's track centrelines, which
    is not the image's fault: 422) is unusable (``unusable``: a gap, skipped by
    processing until the review is removed, when it is processed again); it replaces an
    earlier review, given back as ``replaced`` (null when there was none). The scene's
    stored counts of those classes are then yours; re-run the analysis
    (``POST /api/sites/{site}/analyze``) to judge the alerts on them. 201 for a first
    review, 200 when it replaces one; 422 naming what is wrong (a scene that is not
    processed and usable, a class railwatch does not count, a part above the total)."""
    with db.session() as s:
        scene = repo.get_scene(s, scene_id)
        # the site's row held and the scene locked before the review it replaces is read
        # (the lock order of docs/storage.md), as `railwatch scene review` does since
        # da3357f: a review another writer committed in between went unsaid (review r1,
        # session 38), and 201 was answered for a scene that had one by then
        repo.hold_site(s, scene.site, f"scene {scene_id} was being reviewed")
        repo.lock_scene(s, scene_id)
        before = repo.get_scene_review(s, scene_id)
        earlier = before is not None
        # what the new review replaces (the earlier one is deleted), said in the answer as
        # `railwatch scene review --json` says it (session 36): a count declared unusable
        # otherwise went without a word
        replaced = None if before is None else review_dict(before)
        if body.unusable is not None:
            review = repo.set_scene_unusable_review(s, scene_id, body.unusable)
        elif body.cars is not None:
            from railwatch.review import cars_from_feature_collection

            records = cars_from_feature_collection(
                body.cars, scene, scene.site, source="the cars' outlines"
            )
            review = repo.set_scene_review(s, scene_id, cars=records, note=body.note)
        else:
            assert body.counts is not None  # one of the two (ReviewIn)
            review = repo.set_scene_review(s, scene_id, dict(body.counts), note=body.note)
        s.flush()
        s.refresh(scene)  # its counts are the analyst's now (review_dict's ``applied``)
        out = review_dict(review)
    out["replaced"] = replaced
    response.status_code = 200 if earlier else 201
    response.headers["Location"] = f"/api/scenes/{scene_id}/review"
    return out


@router.delete(
    "/scenes/{scene_id}/review",
    dependencies=[Depends(require_write)],
    summary="Remove an analyst's review of a scene",
    response_model=schemas.Review,
    response_model_exclude_unset=True,
)
def delete_review(scene_id: SceneId, db: DB) -> dict[str, Any]:
    """The detector's counts come back (a scene the review declared unusable is pending
    again: the next processing run reads it); the answer is the removed review (its
    ``detector_counts`` are the counts restored), with ``removed`` true. 404 when the
    scene has no review."""
    with db.session() as s:
        _review_of(s, scene_id)
        removed = repo.remove_scene_review(s, scene_id)
        out = review_dict(removed)
    out["applied"] = False
    out["removed"] = True
    return out


@router.get(
    "/sites/{site}/to-review",
    dependencies=[Depends(require_read)],
    summary="The scenes of a site an analyst should check first",
    response_model=Page[schemas.Candidate],
    response_model_exclude_unset=True,
)
def to_review(
    site: SiteName, request: Request, response: Response, db: DB, page: Paging
) -> dict[str, Any]:
    """Usable, counted scenes not reviewed yet (no 10 m presence image), in the order to
    check them (``railwatch scene to-review``): first those an active alert above info
    rests on (the most severe first; of equals, those with an alert of the total, then
    those with more alerts), each with its ``alerts`` (``kind``, ``severity``,
    ``class``); then the others by ``spread``, how wide the detector's interval is
    against its count ((high - low) / max(count, 1)); newest first among equals.
    ``count`` is the detector's total with its interval and ``method``."""
    with read_session(db) as s:
        # every candidate is ranked to order them (review_candidates reads them all)
        found = repo.review_candidates(s, site, limit=2**62)
        days = SiteDays()
        site_row = repo.get_site(s, site)
        shown = found[page.offset : page.offset + page.limit]
        # each with its local day at the site (session 31): acquired_at is UTC
        items = [{**candidate_dict(c), "day": days.day(site_row, c.when)} for c in shown]
    return paginate(request, response, items, len(found), page).envelope()


CarSource = Literal["auto", "detector", "analyst"]


@router.get(
    "/scenes/{scene_id}/cars",
    dependencies=[Depends(require_read)],
    summary="A scene's cars as a GeoJSON file to correct",
    response_class=schemas.GeoJSONResponse,
    response_model=schemas.CarFile,
)
def scene_cars(
    scene_id: SceneId,
    db: DB,
    source: Annotated[
        CarSource,
        Query(
            description="auto: the analyst's outlines where the scene's review has them, "
            "else the detector's cars; detector; analyst (a 404 when the scene has none)."
        ),
    ] = "auto",
) -> Response:
    """Every car over the image (in the site or not) as a GeoJSON FeatureCollection in
    the scene's CRS (with its ``crs`` member, ``gsd``, ``scene_id`` and ``source``), as
    ``railwatch scene cars`` writes it, served as a download (``scene_ID_cars.geojson``).
    Correct it in QGIS (move, add, delete cars; set ``class`` and ``covered``) and send it
    back as the review's ``cars`` (``PUT /api/scenes/{id}/review``). A scene not processed
    yet is a 422 (it has no cars)."""
    from railwatch.review import scene_cars as cars_of

    with read_session(db) as s:
        fc = cars_of(s, scene_id, source)
    return schemas.GeoJSONResponse(
        fc,
        headers={"Content-Disposition": attachment(f"scene_{scene_id}_cars.geojson")},
    )
