"""Alerts: list (all sites or one), read, acknowledge with a note."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from railwatch.limits import NOTE_MAX
from railwatch.storage import repo
from railwatch.storage.serialize import alert_dict
from railwatch.web.deps import DB, Paging
from railwatch.web.pagination import paginate, window
from railwatch.web.routes.sites import SiteName
from railwatch.web.security import require_read, require_write

router = APIRouter(tags=["alerts"])

AlertId = Annotated[int, Path(ge=1, le=2**62, description="Alert id.")]


class AckIn(BaseModel):
    """An acknowledgement."""

    model_config = ConfigDict(extra="forbid")

    note: str = Field(
        default="",
        description="Why, who, what was checked.",
        json_schema_extra={"maxLength": NOTE_MAX},  # checked by the core (railwatch.limits)
    )


def _list(
    request: Request,
    response: Response,
    db: DB,
    page: Paging,
    site: str | None,
    active_only: bool,
    open_only: bool,
) -> dict[str, Any]:
    with db.session(readonly=True) as s:
        rows = repo.list_alerts(s, site, active_only=active_only, unacknowledged_only=open_only)
        items = [alert_dict(a) for a in window(rows, page)]
    return paginate(request, response, items, len(rows), page).envelope()


@router.get("/alerts", dependencies=[Depends(require_read)], summary="List alerts")
def list_alerts(
    request: Request,
    response: Response,
    db: DB,
    page: Paging,
    site: Annotated[str | None, Query(max_length=64, description="Only this site.")] = None,
    active_only: Annotated[bool, Query(description="Hide retired alerts.")] = True,
    open_only: Annotated[bool, Query(description="Only unacknowledged alerts.")] = False,
) -> dict[str, Any]:
    """Alerts, newest first."""
    return _list(request, response, db, page, site, active_only, open_only)


@router.get(
    "/sites/{site}/alerts", dependencies=[Depends(require_read)], summary="Alerts of a site"
)
def site_alerts(
    site: SiteName,
    request: Request,
    response: Response,
    db: DB,
    page: Paging,
    active_only: Annotated[bool, Query(description="Hide retired alerts.")] = True,
    open_only: Annotated[bool, Query(description="Only unacknowledged alerts.")] = False,
) -> dict[str, Any]:
    """Alerts of one site, newest first, with their explanations."""
    return _list(request, response, db, page, site, active_only, open_only)


@router.get("/alerts/{alert_id}", dependencies=[Depends(require_read)], summary="Get an alert")
def get_alert(alert_id: AlertId, db: DB) -> dict[str, Any]:
    """One alert."""
    with db.session(readonly=True) as s:
        return alert_dict(repo.get_alert(s, alert_id))


@router.post(
    "/alerts/{alert_id}/acknowledge",
    dependencies=[Depends(require_write)],
    summary="Acknowledge an alert",
)
def acknowledge(alert_id: AlertId, body: AckIn, db: DB) -> dict[str, Any]:
    """Mark an alert as seen with a note; it stays acknowledged on re-analysis."""
    with db.session() as s:
        return alert_dict(repo.acknowledge_alert(s, alert_id, body.note.strip()))
