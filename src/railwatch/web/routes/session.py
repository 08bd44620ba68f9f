"""The dashboard's sign-in: the API token posted once, a session cookie in return.

Scripts keep sending ``Authorization: Bearer <token>``. A browser cannot put that
header on the map's ``<img>`` tile requests, and a page that keeps the raw token in
script-readable storage exposes it to any injected script; so the dashboard posts
the token here once and gets a random session id in an ``HttpOnly``,
``SameSite=Strict`` cookie (``Secure`` over https), which the server accepts for
reads and, from its own pages (``Origin`` checked), for writes
(:mod:`railwatch.web.security`).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Request, Response
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from railwatch.web import schemas
from railwatch.web.security import (
    AccessPolicy,
    SessionStore,
    clear_session_cookie,
    is_authenticated,
    same_origin,
    session_cookie_name,
    session_of,
    set_session_cookie,
)

router = APIRouter(tags=["session"])

#: Where the token comes from, for the answers that refuse one.
WHERE = "the RAILWATCH_API_TOKEN in the environment of `railwatch serve`"


class SignIn(BaseModel):
    """The API token, posted once by the dashboard's sign-in form."""

    model_config = ConfigDict(extra="forbid")

    token: Annotated[str, StringConstraints(strict=True, min_length=1, max_length=1024)] = Field(
        description="The server's RAILWATCH_API_TOKEN."
    )


def _state(request: Request) -> tuple[AccessPolicy, SessionStore]:
    policy, store = request.app.state.access, request.app.state.sessions
    if not isinstance(policy, AccessPolicy) or not isinstance(store, SessionStore):
        # pragma: no cover - both set by create_app
        raise RuntimeError("create_app sets app.state.access and app.state.sessions")
    return policy, store


def _status(request: Request, *, signed_in: bool | None = None) -> dict[str, Any]:
    policy, store = _state(request)
    return {
        "signed_in": session_of(request) is not None if signed_in is None else signed_in,
        "authenticated": is_authenticated(request) if signed_in is None else signed_in,
        "reads": "open" if policy.open_reads else "token",
        "writes": "token" if policy.token else "disabled",
        "session_seconds": int(store.lifetime_s),
        "token_from": WHERE,
    }


def _refuse_other_origin(request: Request) -> None:
    if same_origin(request) is False:
        raise HTTPException(
            403,
            "this request comes from another site's page (its Origin header is not this "
            "server): sign in from the dashboard of this server",
        )


@router.get(
    "/session",
    summary="Sign-in state",
    response_model=schemas.SessionState,
    response_model_exclude_unset=True,
)
def get_session(request: Request) -> dict[str, Any]:
    """Whether this browser is signed in (``signed_in``: a valid session cookie;
    ``authenticated``: that or the right bearer token), whether reads need the token
    (``reads``: ``open`` or ``token``), whether writes are possible (``writes``:
    ``token`` or ``disabled``) and where the token comes from. Open to everyone."""
    return _status(request)


@router.post(
    "/session",
    summary="Sign in (dashboard)",
    response_model=schemas.SessionState,
    response_model_exclude_unset=True,
)
def sign_in(body: SignIn, request: Request, response: Response) -> dict[str, Any]:
    """Check the token and answer with a session cookie (``HttpOnly``,
    ``SameSite=Strict``, ``Secure`` over https, 12 hours) that stands for it on this
    server's reads and, from its own pages, writes. 403 with a wrong token, or when
    the server has no token."""
    _refuse_other_origin(request)
    policy, store = _state(request)
    if policy.token is None:
        raise HTTPException(
            403,
            "there is nothing to sign in with: this server has no token (writes are "
            "disabled); start `railwatch serve` with RAILWATCH_API_TOKEN set",
        )
    if not policy.token_matches(body.token):
        raise HTTPException(403, f"the token is wrong: give {WHERE}")
    store.end(request.cookies.get(session_cookie_name(request)))  # a new id at each sign-in
    set_session_cookie(request, response, store.create())
    return _status(request, signed_in=True)


@router.delete("/session", status_code=204, summary="Sign out (dashboard)")
def sign_out(request: Request) -> Response:
    """End this browser's session, if any, and clear its cookie (204 either way)."""
    _refuse_other_origin(request)
    _, store = _state(request)
    store.end(request.cookies.get(session_cookie_name(request)))
    response = Response(status_code=204)
    clear_session_cookie(request, response)
    return response
