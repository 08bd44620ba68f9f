"""Alerts: list (all sites or one), read, acknowledge with a note."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, TypeVar
from urllib.parse import quote

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from railwatch.analysis.types import ALERT_KINDS, SEVERITIES
from railwatch.detect.base import ALL_CLASSES
from railwatch.errors import AlreadyExistsError, InputError, NotFoundError
from railwatch.limits import NOTE_MAX
from railwatch.storage import repo
from railwatch.storage.alert_filter import (
    AlertFilter,
    check_min_severity,
    check_series,
    check_when_range,
    parse_changed_since,
    parse_kinds,
    parse_when,
)
from railwatch.storage.models import Alert
from railwatch.storage.serialize import alert_dict
from railwatch.web import schemas
from railwatch.web.days import SiteDays
from railwatch.web.deps import DB, Paging, read_session
from railwatch.web.errors import PROBLEM_JSON, PROBLEM_SCHEMA, problem, status_for
from railwatch.web.pagination import paginate
from railwatch.web.params import LookupName, PlainInt
from railwatch.web.routes.sites import SiteName
from railwatch.web.schemas import WHEN, Page, kinds_pattern
from railwatch.web.security import require_read, require_write

router = APIRouter(tags=["alerts"])

_T = TypeVar("_T")

#: An alert id: a positive number in digits 0-9; one that names no alert, however large,
#: is a 404 (see :data:`railwatch.web.routes.scenes.SceneId`)
AlertId = Annotated[int, Path(ge=1, description="Alert id."), PlainInt]


class AlertReusedError(AlreadyExistsError):
    """The alert id of an acknowledgement names another alert now (its ``key`` is not
    the one the client sent): a re-analysis removed the alert read, and SQLite gave its
    id to a new one. A ``409`` whose ``error`` says so; it said ``AlreadyExistsError``,
    the name of a duplicate's conflict, until 2026-12-05 (session 34)."""


class AckIn(BaseModel):
    """An acknowledgement."""

    model_config = ConfigDict(extra="forbid")

    note: str = Field(
        default="",
        description="Why, who, what was checked.",
        json_schema_extra={"maxLength": NOTE_MAX},  # checked by the core (railwatch.limits)
    )
    key: str | None = Field(
        default=None,
        max_length=200,
        description="The alert's `key` as the client last read it: when the id names "
        "another alert now (a re-analysis removed that one), a 409 instead of "
        "acknowledging the other.",
    )
    version: str | None = Field(
        default=None,
        max_length=64,
        description="The alert's `version` as the client last read it (16 hex digits): "
        "when a re-analysis has changed the alert since (another count, explanation, "
        "severity or image), a 409 whose `alert` is the alert as it is now, and nothing "
        "is acknowledged. Left out: whatever the alert says now is acknowledged (as "
        "before session 31). The dashboard always sends it.",
    )


#: What ``open_only`` keeps, as ``railwatch alerts --unacked`` and the site list's
#: open-alert badges count them (:func:`railwatch.storage.repo.open_alert_sql`)
OPEN_ONLY = (
    "Only open alerts, those that need an analyst's eyes: not acknowledged, or acknowledged "
    "and changed since (another count, explanation or image: `metrics.changed_since_ack` "
    "holds what was acknowledged). Before session 30 the changed ones were left out. As "
    "`railwatch alerts --unacked`."
)

#: What ``active_only`` keeps; false lists the retired ones too, as ``railwatch alerts --all``
ACTIVE_ONLY = (
    "Hide retired alerts (acknowledged alerts that re-analysis no longer raises); false "
    "lists them too, as `railwatch alerts --all`."
)


def alert_json(alert: Alert, days: SiteDays | None = None) -> dict[str, Any]:
    """An alert as the API gives it: every member of :func:`alert_dict`, with its
    ``day`` at its site, the day its key and text name (``when`` is its image's UTC
    time). The API left ``reviewed`` and ``changed_since_ack`` out before 2026-12-05
    (session 33): a client reading both had to know where in ``metrics`` to look."""
    return alert_dict(alert, (days or SiteDays()).alert(alert))


def plus_hint(name: str, given: str | None, parse: Callable[[str, str], object]) -> str:
    """What to add to the error of a time ``given`` as ``name`` whose zone's ``+`` came
    as a space: in a URL's query ``+`` stands for a space, so ``since=2024-02-05T00:00+09:00``
    typed into a URL (or an f-string of ``datetime.isoformat()``) reaches the server as
    ``2024-02-05T00:00 09:00``, which was refused as "not a date YYYY-MM-DD" without a
    word of why (2026-12-07, session 49). Empty when putting ``+`` back does not make
    it a time either."""
    if given is None or " " not in given.strip():
        return ""
    meant = given.strip().replace(" ", "+")
    try:
        parse(meant, name)
    except InputError:
        return ""
    return (
        f" (a '+' in a URL's query is read as a space: to send {meant}, write its '+' as "
        f"%2B, {name}={quote(meant, safe=':-.')}, or give the time in UTC with Z)"
    )


def alert_filters(
    since: Annotated[
        str | None,
        Query(
            max_length=64,
            description="Only alerts on or after this day: a date YYYY-MM-DD is a day at "
            "each alert's site (its `day`, the day its text names); a date and time with its "
            "zone (2024-02-05T00:00Z; without a zone, UTC) is an instant. As `railwatch "
            "alerts --since`.",
            json_schema_extra={"pattern": WHEN},
        ),
    ] = None,
    until: Annotated[
        str | None,
        Query(
            max_length=64,
            description="Only alerts on or before this day (the day included), read as "
            "`since`; not before `since` where both are days or both times (a day and a "
            "time are not compared: which is first depends on each site's zone). As "
            "`railwatch alerts --until`.",
            json_schema_extra={"pattern": WHEN},
        ),
    ] = None,
    min_severity: Annotated[
        str,
        Query(
            max_length=16,
            description="Only alerts from this severity up: info, low, medium, high. As "
            "`railwatch alerts --min-severity`.",
            json_schema_extra={"enum": list(SEVERITIES)},
        ),
    ] = "info",
    cls: Annotated[
        str | None,
        Query(
            alias="class",
            max_length=32,
            description="Only alerts of this series: all (the site total), covered or a car "
            "class (boxcar, gondola, hopper, tank, flat, container, locomotive, railcar). As "
            "`railwatch alerts --class`.",
            json_schema_extra={"enum": ["all", "covered", *ALL_CLASSES]},
        ),
    ] = None,
    kind: Annotated[
        list[
            Annotated[
                str, Query(max_length=64, json_schema_extra={"pattern": kinds_pattern(ALERT_KINDS)})
            ]
        ]
        | None,
        Query(
            max_length=10,
            description="Only alerts of these kinds: record, spike, shift, drop, quality; "
            "repeat the parameter (kind=record&kind=shift) or separate kinds with commas "
            "(kind=record,shift). As `railwatch alerts --kind`.",
        ),
    ] = None,
    changed_since: Annotated[
        str | None,
        Query(
            max_length=64,
            description="Only alerts stored at or after this instant (a date and time; "
            "without a zone, UTC): raised by an analysis, or changed by one (another count, "
            "explanation, severity or image), whatever day their image is of; a client that "
            "polls gives the time of its previous poll to see each new alert once, those of "
            "images delivered late too (`since` is the image's day). As `railwatch alerts "
            "--changed-since`.",
            json_schema_extra={"pattern": WHEN},
        ),
    ] = None,
) -> AlertFilter:
    """Dependency: an alert list's filters, read by the CLI's rules
    (:mod:`railwatch.storage.alert_filter`, session 35); a bad value is a 422 naming the
    parameter, the value and what it may be (each bad parameter one error)."""
    errors: list[dict[str, Any]] = []

    def read(name: str, given: Any, parse: Callable[[], _T], hint: str = "") -> _T | None:
        try:
            return parse()
        except InputError as err:
            errors.append(
                {
                    "type": "value_error",
                    "loc": ("query", name),
                    "msg": str(err) + hint,
                    "input": given,
                }
            )
            return None

    since_at = read(
        "since", since, lambda: parse_when(since, "since"), plus_hint("since", since, parse_when)
    )
    until_at = read(
        "until", until, lambda: parse_when(until, "until"), plus_hint("until", until, parse_when)
    )
    read("min_severity", min_severity, lambda: check_min_severity(min_severity, "min_severity"))
    read("class", cls, lambda: check_series(cls, "class"))
    kinds = read("kind", kind, lambda: parse_kinds(kind or [], "kind"))
    changed_at = read(
        "changed_since",
        changed_since,
        lambda: parse_changed_since(changed_since, "changed_since"),
        plus_hint("changed_since", changed_since, parse_changed_since),
    )
    if not errors:
        read("until", until, lambda: check_when_range(since_at, until_at, ("since", "until")))
    if errors:
        raise RequestValidationError(errors)
    return AlertFilter(
        since=since_at,
        until=until_at,
        min_severity=min_severity,
        cls=cls,
        kinds=kinds or (),
        changed_since=changed_at,
    )


#: An alert list's filters (since, until, min_severity, class, kind).
Filters = Annotated[AlertFilter, Depends(alert_filters)]


def _list(
    request: Request,
    response: Response,
    db: DB,
    page: Paging,
    site: str | None,
    active_only: bool,
    open_only: bool,
    filters: AlertFilter,
) -> dict[str, Any]:
    with read_session(db) as s:
        # filtered in SQL: the page and its total (the envelope's, X-Total-Count, Link)
        # count only the alerts that match (session 35)
        rows, total = repo.alert_page(
            s,
            site,
            active_only=active_only,
            open_only=open_only,
            filters=filters,
            limit=page.limit,
            offset=page.offset,
        )
        days = SiteDays()
        items = [alert_json(a, days) for a in rows]
    return paginate(request, response, items, total, page).envelope()


@router.get(
    "/alerts",
    dependencies=[Depends(require_read)],
    summary="List alerts",
    response_model=Page[schemas.Alert],
    response_model_exclude_unset=True,
)
def list_alerts(
    request: Request,
    response: Response,
    db: DB,
    page: Paging,
    filters: Filters,
    site: Annotated[
        str | None, Query(max_length=64, description="Only this site."), LookupName
    ] = None,
    active_only: Annotated[bool, Query(description=ACTIVE_ONLY)] = True,
    open_only: Annotated[bool, Query(description=OPEN_ONLY)] = False,
) -> dict[str, Any]:
    """Alerts, newest first."""
    return _list(request, response, db, page, site, active_only, open_only, filters)


@router.get(
    "/sites/{site}/alerts",
    dependencies=[Depends(require_read)],
    summary="Alerts of a site",
    response_model=Page[schemas.Alert],
    response_model_exclude_unset=True,
)
def site_alerts(
    site: SiteName,
    request: Request,
    response: Response,
    db: DB,
    page: Paging,
    filters: Filters,
    active_only: Annotated[bool, Query(description=ACTIVE_ONLY)] = True,
    open_only: Annotated[bool, Query(description=OPEN_ONLY)] = False,
) -> dict[str, Any]:
    """Alerts of one site, newest first, with their explanations."""
    return _list(request, response, db, page, site, active_only, open_only, filters)


@router.get(
    "/alerts/{alert_id}",
    dependencies=[Depends(require_read)],
    summary="Get an alert",
    response_model=schemas.Alert,
    response_model_exclude_unset=True,
)
def get_alert(alert_id: AlertId, db: DB) -> dict[str, Any]:
    """One alert."""
    with read_session(db) as s:
        return alert_json(repo.get_alert(s, alert_id))


#: The 409 of an acknowledgement: problem details, and for another version (an
#: ``AlertChangedError``) ``alert``, the alert as it is now. Declared since the review of
#: 2026-12-06 (session 35): the document's 4XX problem had no ``alert`` member.
ACK_CONFLICT: dict[int | str, dict[str, Any]] = {
    409: {
        "description": "Not acknowledged: the id names another alert now (`key` given), or "
        "the alert says something else since it was read (`version` given; `alert` is the "
        "alert as it is now).",
        "content": {
            PROBLEM_JSON: {
                "schema": {
                    **PROBLEM_SCHEMA,
                    "title": "AlertConflict",
                    "properties": {
                        **PROBLEM_SCHEMA["properties"],
                        "alert": {
                            "$ref": "#/components/schemas/Alert",
                            "description": "The alert as it is now (another version only).",
                        },
                    },
                }
            }
        },
    }
}


@router.post(
    "/alerts/{alert_id}/acknowledge",
    dependencies=[Depends(require_write)],
    summary="Acknowledge an alert",
    # the declared 200; a 409 is a problem response, returned as is (ACK_CONFLICT)
    response_model=schemas.Alert,
    response_model_exclude_unset=True,
    responses=ACK_CONFLICT,
)
def acknowledge(alert_id: AlertId, request: Request, db: DB, body: AckIn | None = None) -> Any:
    """Mark an alert as seen with a note; it stays acknowledged on re-analysis. With
    ``key``, only the alert the client read (409 when the id names another now). With
    ``version``, only what the alert said when the client read it: when re-analysis has
    changed it since, a 409 whose ``alert`` member is the alert as it is now, and
    nothing is acknowledged (session 31). The body may be left out (no note, no key),
    as ``railwatch alert ack ID`` without ``--note``: it was a 422 "body: Field
    required" before session 29."""
    body = body if body is not None else AckIn()
    with db.session() as s:
        # the row is locked first (PostgreSQL; SQLite's writers are serialised already):
        # two browsers acknowledging at once each add their note to the other's, where
        # the second overwrote the first before session 24; the version is checked on
        # the locked row, so a re-analysis cannot change it between check and write
        row = (
            s.scalar(select(Alert).where(Alert.id == alert_id).with_for_update())
            if repo.is_record_id(alert_id)
            else None
        )
        if row is None:
            raise NotFoundError(
                f"no alert with id {alert_id}: a re-analysis removes the alerts it no longer "
                "raises (acknowledged ones are kept); reload the alerts (/api/alerts)"
            )
        if body.key is not None and row.key != body.key:
            # SQLite gives a removed alert's id to the next new one
            raise AlertReusedError(
                f"alert {alert_id} is now {row.key}, not {body.key}: a re-analysis removed "
                f"{body.key}; reload the alerts and acknowledge the one you mean"
            )
        try:
            acked = repo.acknowledge_alert(s, alert_id, body.note.strip(), expect=body.version)
        except repo.AlertChangedError as err:
            return problem(
                status_for(err),
                str(err),
                instance=request.url.path,
                error=type(err).__name__,
                alert=alert_json(err.alert),
            )
        return alert_json(acked)
