"""Record ids past what the database holds, in the storage layer and the web API.

PostgreSQL's INTEGER ends at 2**31 - 1 and SQLite's at 2**63 - 1. An id past that (a
typo, a pasted hash or timestamp) reached the database as it was: PostgreSQL refused
the statement ("integer out of range"), SQLite raised OverflowError past 2**63 - 1,
each a "database write failed" StorageError (a 503 in the API) instead of "no scene
with id N"; and the API refused ids past 2**62 with a 422 where a missing id is a 404.
The storage layer now answers an id outside 1..2**31 - 1 as it answers any missing id,
without asking the database, on both backends.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from railwatch.errors import NotFoundError
from railwatch.storage import Database, repo
from railwatch.storage.models import Alert, Count, Detection, Event, Scene
from report_db import FakeCount, FakeQuality

#: ids no record can have: past PostgreSQL's INTEGER, past SQLite's INTEGER (2**63 and
#: a pasted 20-digit number), and not positive
OUT_OF_RANGE = (2**31, 3_000_000_000, 2**62 + 1, 2**63, 99_999_999_999_999_999_999, 0, -7)
#: an id in range that names nothing: the answer every id of OUT_OF_RANGE must match
MISSING = 999_999


@pytest.fixture(params=["sqlite", "postgresql"])
def world(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[dict[str, Any]]:
    """web_db's database (one site, six scenes with counts and detections, an event, an
    alert) on each backend; PostgreSQL may not skip under RAILWATCH_REQUIRE_SERVICES=1."""
    from web_db import populate

    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'ids.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
    db = Database(url)
    ids = populate(db, tmp_path / "img")
    ids["db"] = db
    yield ids
    db.dispose()


def _stored(db: Database) -> tuple[int, ...]:
    """How many rows of each kind the database holds (nothing is lost or added)."""
    with db.session(readonly=True) as s:
        return tuple(
            int(s.scalar(select(func.count()).select_from(m)) or 0)
            for m in (Scene, Detection, Count, Event, Alert)
        )


#: every repository function that takes the id of a scene, an event or an alert, with
#: what it does with an id that names nothing: raise NotFoundError, or answer None / []
NOT_FOUND: dict[str, Callable[[Session, int], object]] = {
    "get_scene": lambda s, i: repo.get_scene(s, i),
    "set_scene_bands": lambda s, i: repo.set_scene_bands(s, i, (1, 2, 3)),
    "mark_scene_failed": lambda s, i: repo.mark_scene_failed(s, i, "failed"),
    "record_scene_result": lambda s, i: repo.record_scene_result(
        s, i, FakeQuality(0.95), [], FakeCount(3.0, 2.0, 4.0, {}, 0), "test", "1.0"
    ),
    "set_scene_review": lambda s, i: repo.set_scene_review(s, i, {"all": 3}),
    "set_scene_review(cars)": lambda s, i: repo.set_scene_review(s, i, cars=[]),
    "remove_scene_review": lambda s, i: repo.remove_scene_review(s, i),
    "update_event": lambda s, i: repo.update_event(s, i, label="summit"),
    "remove_event": lambda s, i: repo.remove_event(s, i),
    "get_alert": lambda s, i: repo.get_alert(s, i),
    "get_alert(lock)": lambda s, i: repo.get_alert(s, i, lock=True),
    "acknowledge_alert": lambda s, i: repo.acknowledge_alert(s, i, "seen"),
}
EMPTY: dict[str, tuple[Callable[[Session, int], object], object]] = {
    "get_scene_review": (lambda s, i: repo.get_scene_review(s, i), None),
    "list_detections": (lambda s, i: repo.list_detections(s, i), []),
}


def _not_found(db: Database, call: Callable[[Session, int], object], record_id: int) -> str:
    with pytest.raises(NotFoundError) as caught, db.session() as s:
        call(s, record_id)
    return str(caught.value)


def test_repo_answers_an_id_out_of_range_as_a_missing_one(world: dict[str, Any]) -> None:
    db: Database = world["db"]
    before = _stored(db)
    for name, call in NOT_FOUND.items():
        missing = _not_found(db, call, MISSING)
        for record_id in OUT_OF_RANGE:
            said = _not_found(db, call, record_id)
            assert said == missing.replace(str(MISSING), str(record_id)), (name, said)
    for name, (call, nothing) in EMPTY.items():
        for record_id in (MISSING, *OUT_OF_RANGE):
            with db.session(readonly=True) as s:
                assert call(s, record_id) == nothing, (name, record_id)
    assert _stored(db) == before


def test_an_id_out_of_range_leaves_the_transaction_usable(world: dict[str, Any]) -> None:
    """On PostgreSQL a refused statement aborts the whole transaction: a caller that
    catches the NotFoundError (the review import, the API's write handlers) lost the
    rest of its work. The id is now never sent."""
    db: Database = world["db"]
    sid = world["scene_ids"][4]
    with db.session() as s:
        for record_id in (3_000_000_000, 2**63):
            with pytest.raises(NotFoundError):
                repo.get_scene(s, record_id)
        repo.set_scene_review(s, sid, {"all": 20}, note="counted again")
    with db.session(readonly=True) as s:
        review = repo.get_scene_review(s, sid)
        assert review is not None and review.note == "counted again"


def test_is_record_id_bounds() -> None:
    from railwatch import limits

    assert repo.MAX_RECORD_ID is limits.MAX_RECORD_ID  # one limit for the CLI and the core
    assert repo.MAX_RECORD_ID == 2**31 - 1
    assert repo.is_record_id(1) and repo.is_record_id(2**31 - 1)
    assert not any(repo.is_record_id(i) for i in (0, -1, 2**31, 2**63, 10**20))


# ------------------------------------------------------------------------------- web

TOKEN = "ids-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}

#: (method, path, body) of every endpoint that takes a scene, event or alert id
ENDPOINTS: tuple[tuple[str, str, dict[str, Any] | None], ...] = (
    ("GET", "/api/scenes/{}", None),
    ("GET", "/api/scenes/{}/quality", None),
    ("GET", "/api/scenes/{}/detections", None),
    ("GET", "/api/scenes/{}/detections?source=analyst", None),
    ("GET", "/api/scenes/{}/review", None),
    ("PUT", "/api/scenes/{}/review", {"counts": {"all": 20}}),
    ("DELETE", "/api/scenes/{}/review", None),
    ("GET", "/api/scenes/{}/cars", None),
    ("GET", "/api/scenes/{}/tiles/3/6/2.png", None),
    ("GET", "/api/events/{}", None),
    ("PATCH", "/api/events/{}", {"label": "summit"}),
    ("DELETE", "/api/events/{}", None),
    ("GET", "/api/alerts/{}", None),
    ("POST", "/api/alerts/{}/acknowledge", {"note": "seen"}),
)


def test_the_api_answers_an_id_out_of_range_as_a_missing_one(
    world: dict[str, Any], tmp_path: Path
) -> None:
    """A 404 with the words of any missing id, on every endpoint that takes an id (on
    PostgreSQL 3,000,000,000 was a 503 "database write failed"; past 2**62 a 422)."""
    pytest.importorskip("fastapi")
    from fastapi.testclient import TestClient
    from pydantic import SecretStr

    from railwatch.settings import Settings
    from railwatch.web.app import create_app

    db: Database = world["db"]
    settings = Settings(db=db.url, api_token=SecretStr(TOKEN), cache_dir=tmp_path / "cache")
    client = TestClient(create_app(settings, db))
    before = _stored(db)
    for method, path, body in ENDPOINTS:
        missing = client.request(method, path.format(MISSING), json=body, headers=AUTH)
        assert missing.status_code == 404, (path, missing.text)
        detail = missing.json()["detail"]
        for record_id in OUT_OF_RANGE[:5]:
            r = client.request(method, path.format(record_id), json=body, headers=AUTH)
            assert r.status_code == 404, (path, record_id, r.text)
            assert r.headers["content-type"].startswith("application/problem+json")
            assert r.json()["detail"] == detail.replace(str(MISSING), str(record_id)), path
        # not a positive number: refused as malformed, as before
        r = client.request(method, path.format(0), json=body, headers=AUTH)
        assert r.status_code == 422, (path, r.text)
    assert _stored(db) == before


# ------------------------------------------------------------------------------- CLI


def test_cli_commands_without_a_guard_of_their_own_get_no_such_scene(
    world: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`export-labels --scene ID` checks no id itself (the CLI's guard covers `scene
    show/review/cars`, `event edit/remove` and `alert ack`): on PostgreSQL 3,000,000,000
    was an internal error (status 70), on SQLite a 20-digit id too. It is the storage
    layer's "no scene with id N" now, as for any missing id (status 1)."""
    from railwatch.cli.main import main

    db: Database = world["db"]
    out = tmp_path / "labels"
    said = {}
    for record_id in (MISSING, 3_000_000_000, 99_999_999_999_999_999_999):
        argv = ["--db", db.url, "export-labels", "--scene", str(record_id), "-o", str(out)]
        code = main(argv)
        err = " ".join(capsys.readouterr().err.split())
        assert code == 1, err
        said[record_id] = err.replace(str(record_id), "N")
    assert said[3_000_000_000] == said[MISSING] == said[99_999_999_999_999_999_999]
    assert said[MISSING].startswith("error: no scene with id N"), said[MISSING]
    assert not out.exists() or not any(out.iterdir())
