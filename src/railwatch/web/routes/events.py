"""Events (summits, sanctions, floods) of a site: create, list, read, update, delete."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request, Response
from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic.json_schema import SkipJsonSchema

from railwatch.analysis.store import alerts_naming_event
from railwatch.errors import NotFoundError
from railwatch.limits import DESCRIPTION_MAX, EARLIEST_YEAR, EVENT_DAYS_AHEAD, EVENT_LABEL_MAX
from railwatch.storage import repo
from railwatch.storage.models import Event
from railwatch.storage.serialize import event_dict
from railwatch.web import schemas
from railwatch.web.bodies import JsonDate, not_null
from railwatch.web.deps import DB, Paging, read_session
from railwatch.web.pagination import paginate, window
from railwatch.web.params import PlainInt
from railwatch.web.routes.sites import SiteName
from railwatch.web.schemas import EVENT_DAY, FREE_TEXT, ONE_LINE, Page
from railwatch.web.security import require_read, require_write

router = APIRouter(tags=["events"])

#: An event id: a positive number in digits 0-9; one that names no event, however large,
#: is a 404 (see :data:`railwatch.web.routes.scenes.SceneId`)
EventId = Annotated[int, Path(ge=1, description="Event id."), PlainInt]


class EventIn(BaseModel):
    """A dated event."""

    model_config = ConfigDict(extra="forbid")

    date: JsonDate
    # Labels and lengths are checked by the core (railwatch.limits), with the CLI's
    # messages; the schema only shows the limits.
    label: str = Field(json_schema_extra={"minLength": 1, "maxLength": EVENT_LABEL_MAX})
    description: str = Field(default="", json_schema_extra={"maxLength": DESCRIPTION_MAX})


class EventPatch(BaseModel):
    """Fields of an event to change: one or more (``{}`` is a 422, "nothing to change")."""

    # minProperties: `{}` is refused by `_something` below, with its words (session 53)
    model_config = ConfigDict(extra="forbid", json_schema_extra={"minProperties": 1})

    # left out: kept; null is refused (it was read as left out: a 200, nothing changed).
    # The patterns declare the core's rules (railwatch.limits), which checks them with
    # its messages (schemas.py's "request rules", 2026-12-08, session 53).
    date: Annotated[
        JsonDate | SkipJsonSchema[None],
        not_null("an event has a date: give one (YYYY-MM-DD), or leave date out"),
    ] = Field(
        default=None,
        description=f"YYYY-MM-DD, from {EARLIEST_YEAR} to {EVENT_DAYS_AHEAD} days after today "
        "at the site (the later bound is not declared: it moves with today).",
        json_schema_extra={"pattern": EVENT_DAY},
    )
    label: Annotated[
        str | SkipJsonSchema[None],
        not_null("an event has a label: give one, or leave label out to keep it"),
    ] = Field(
        default=None,
        description=f"One line, not blank: at most {EVENT_LABEL_MAX} characters once "
        "stripped of surrounding whitespace, no control character.",
        json_schema_extra={"minLength": 1, "maxLength": EVENT_LABEL_MAX, "pattern": ONE_LINE},
    )
    description: Annotated[
        str | SkipJsonSchema[None],
        not_null('send "" for no description, or leave description out to keep it'),
    ] = Field(
        default=None,
        description="Free text (line breaks and tabs allowed, no other control character); "
        '"" for none.',
        json_schema_extra={"maxLength": DESCRIPTION_MAX, "pattern": FREE_TEXT},
    )

    @model_validator(mode="after")
    def _something(self) -> EventPatch:
        # `{}` was a 200 that changed nothing (2026-12-07, session 46), where
        # `railwatch event edit` without an option says "nothing to change"
        if not self.model_fields_set:
            raise ValueError(NOTHING_TO_CHANGE)
        return self


#: The 422 of a change (``PATCH /api/events/{id}``) that gives no member.
NOTHING_TO_CHANGE = (
    "nothing to change: give one or more of the members an event's change takes: "
    "date (YYYY-MM-DD), label, description"
)


def _event(session: Any, event_id: int) -> Event:
    ev = session.get(Event, event_id) if repo.is_record_id(event_id) else None
    if ev is None:
        raise NotFoundError(
            f"no event with id {event_id}: list a site's events at /api/sites/SITE/events"
        )
    return ev


@router.get(
    "/sites/{site}/events",
    dependencies=[Depends(require_read)],
    summary="Events of a site",
    response_model=Page[schemas.Event],
    response_model_exclude_unset=True,
)
def list_events(
    site: SiteName, request: Request, response: Response, db: DB, page: Paging
) -> dict[str, Any]:
    """Events by date."""
    with read_session(db) as s:
        rows = repo.list_events(s, site)
        items = [event_dict(e) for e in window(rows, page)]
    return paginate(request, response, items, len(rows), page).envelope()


@router.post(
    "/sites/{site}/events",
    status_code=201,
    dependencies=[Depends(require_write)],
    summary="Add an event",
    response_model=schemas.Event,
    response_model_exclude_unset=True,
)
def add_event(site: SiteName, body: EventIn, db: DB, response: Response) -> dict[str, Any]:
    """Record an event (409 when the same label exists on that date); re-run the
    analysis (``POST /api/sites/{site}/analyze``) to link alerts to it."""
    with db.session() as s:
        ev = repo.add_event(s, site, body.date, body.label, body.description)
        out = event_dict(ev)
    response.headers["Location"] = f"/api/events/{out['id']}"
    return out


@router.get(
    "/events/{event_id}",
    dependencies=[Depends(require_read)],
    summary="Get an event",
    response_model=schemas.Event,
    response_model_exclude_unset=True,
)
def get_event(event_id: EventId, db: DB) -> dict[str, Any]:
    """One event."""
    with read_session(db) as s:
        return event_dict(_event(s, event_id))


@router.patch(
    "/events/{event_id}",
    dependencies=[Depends(require_write)],
    summary="Update an event",
    response_model=schemas.Event,
    response_model_exclude_unset=True,
)
def update_event(event_id: EventId, body: EventPatch, db: DB) -> dict[str, Any]:
    """Change an event's date, label or description."""
    with db.session() as s:
        _event(s, event_id)
        ev = repo.update_event(
            s, event_id, when=body.date, label=body.label, description=body.description
        )
        return event_dict(ev)


@router.delete(
    "/events/{event_id}",
    dependencies=[Depends(require_write)],
    summary="Delete an event",
    response_model=schemas.EventDeleted,
    response_model_exclude_unset=True,
)
def delete_event(event_id: EventId, db: DB) -> dict[str, Any]:
    """Delete one event. ``alerts_naming_it``: the site's stored alerts that still name it
    ("18 days after: LABEL") until the site is analysed again
    (``POST /api/sites/{site}/analyze``), as ``railwatch event remove`` says."""
    with db.session() as s:
        linked = alerts_naming_event(s, event_id)
        repo.remove_event(s, event_id)
    return {"deleted": event_id, "alerts_naming_it": linked}
