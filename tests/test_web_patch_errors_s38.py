"""A wrong value in a change (``PATCH``) names the member and nothing else (2026-12-06,
session 38, web review).

A site's ``description`` and ``tags`` and an event's ``date``, ``label`` and
``description`` may be left out of a change but not sent as ``null``
(:func:`railwatch.web.bodies.not_null`, session 36); their model is a union of the type
and ``None``, and pydantic reported a wrong value against each branch:
``PATCH /api/events/2 {"date": "yesterday"}`` answered ``body.date.function-before[
_json_date(), date]: Value error, must be a date written YYYY-MM-DD, not 'yesterday'``
and a second error ``body.date.none: Input should be None``, which tells a client to
send the ``null`` the same endpoint refuses. The errors now name the member
(``body.date``) and the ``none`` branch's error is left out
(:func:`railwatch.web.errors.without_null_branch`).
"""

from __future__ import annotations

from typing import Any

import pytest

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient

from test_web_client_audit_s36 import AUTH, world  # noqa: F401


def _errors(r: Any) -> tuple[str, list[dict[str, Any]]]:
    assert r.status_code == 422, (r.status_code, r.text)
    assert r.headers["content-type"] == "application/problem+json"
    body = r.json()
    return str(body["detail"]), list(body["errors"])


@pytest.mark.parametrize(
    ("member", "value", "words"),
    [
        ("date", "yesterday", "must be a date written YYYY-MM-DD, not 'yesterday'"),
        ("date", "2023-02-30", "February 2023 has days 01-28"),
        ("date", 20230213, "must be a date written YYYY-MM-DD, not 20230213"),
        ("label", 5, "Input should be a valid string"),
        ("description", ["x"], "Input should be a valid string"),
    ],
)
def test_a_wrong_event_member_names_the_member_alone(
    world: dict[str, Any],  # noqa: F811
    member: str,
    value: Any,
    words: str,
) -> None:
    c: TestClient = world["client"]
    url = f"/api/events/{world['audit_event']}"
    before = c.get(url).json()
    detail, errors = _errors(c.patch(url, json={member: value}, headers=AUTH))
    assert detail.startswith(f"invalid request: body.{member}: "), detail
    assert words in detail, detail
    assert errors == [{"loc": ["body", member], "msg": errors[0]["msg"]}], errors
    assert "Input should be None" not in str(errors)
    assert c.get(url).json() == before


#: What the detail adds to a member of the wrong JSON type (2026-12-07, session 49,
#: tests/test_walk_rest_s49.py): the type to send and the one sent
_STRING = "; send a JSON string here, not a number"
_TAGS = '; send a JSON array here (a list of strings, ["a", "b"]), not a string'


@pytest.mark.parametrize(
    ("member", "value", "loc", "words", "more"),
    [
        ("description", 5, ["body", "description"], "Input should be a valid string", _STRING),
        ("tags", "border", ["body", "tags"], "Input should be a valid list", _TAGS),
        ("tags", ["ok", 5], ["body", "tags", "1"], "Input should be a valid string", _STRING),
    ],
)
def test_a_wrong_site_member_names_the_member_alone(
    world: dict[str, Any],  # noqa: F811
    member: str,
    value: Any,
    loc: list[str],
    words: str,
    more: str,
) -> None:
    c: TestClient = world["client"]
    before = c.get("/api/sites/audit").json()
    detail, errors = _errors(c.patch("/api/sites/audit", json={member: value}, headers=AUTH))
    assert detail == f"invalid request: {'.'.join(loc)}: {words}{more}", detail
    assert errors == [{"loc": loc, "msg": words}], errors
    after = c.get("/api/sites/audit").json()
    assert (after["description"], after["tags"]) == (before["description"], before["tags"])


def test_null_is_still_refused_with_what_to_send(world: dict[str, Any]) -> None:  # noqa: F811
    c: TestClient = world["client"]
    detail, errors = _errors(c.patch("/api/sites/audit", json={"tags": None}, headers=AUTH))
    assert detail.startswith("invalid request: body.tags: "), detail
    assert "send [] for no tags" in detail and len(errors) == 1, errors


def test_a_lone_none_error_and_other_members_are_kept() -> None:
    """Only a ``none`` branch beside another branch's error of the same member goes."""
    from railwatch.web.errors import without_null_branch

    lone = [{"type": "none_required", "loc": ("body", "x", "none"), "msg": "Input should be None"}]
    assert without_null_branch(lone) == [dict(lone[0])]
    two = [
        {
            "type": "string_type",
            "loc": ("body", "a", "str"),
            "msg": "Input should be a valid string",
        },
        {"type": "none_required", "loc": ("body", "a", "none"), "msg": "Input should be None"},
        {"type": "int_parsing", "loc": ("body", "b"), "msg": "Input should be a valid integer"},
    ]
    assert [(e["loc"], e["msg"]) for e in without_null_branch(two)] == [
        (("body", "a"), "Input should be a valid string"),
        (("body", "b"), "Input should be a valid integer"),
    ]


def test_the_api_s_own_words_come_without_pydantic_s_prefix(
    world: dict[str, Any],  # noqa: F811
) -> None:
    """A check of the API's own (a date, a whole number) was read ``body.date: Value
    error, '2023-02-30' is no date: ...``: pydantic's name of the exception before the
    words that say what is wrong."""
    c: TestClient = world["client"]
    detail, errors = _errors(
        c.post("/api/sites/audit/events", json={"date": "2023-02-30", "label": "x"}, headers=AUTH)
    )
    words = "'2023-02-30' is no date: February 2023 has days 01-28; check the day and month"
    assert detail.startswith(f"invalid request: body.date: {words}"), detail
    assert errors[0]["msg"].startswith(words), errors
    detail, _ = _errors(c.get("/api/events/3.0"))
    assert detail == (
        "invalid request: path.event_id: must be a whole number written in digits 0-9 "
        "(such as 3), not '3.0'"
    ), detail
