"""A site's removal against the other writers of its rows, at once on PostgreSQL
(session 32; the lock order is in ``railwatch.pipeline``'s docstring).

A removal (``railwatch site remove``, ``DELETE /api/sites/{site}``) takes the site's
advisory lock, deletes the site's row (which locks it) and the cascades then delete its
scenes (one by one, in the order the database finds them), events, alerts and the rest.
``scene import-reviews`` reviews several scenes in one transaction, locking them in
ascending id: before, when the removal had deleted (locked) a scene that the import was
to lock later and waited for one the import held, the two deadlocked ("deadlock
detected", one aborted). ``ingest``/``ingest-stac`` (``repo.add_scene``) and ``event
add`` insert a row referencing the site, whose foreign key check waits for the removal
and then failed with a raw foreign key violation; ``event edit`` updated a row the
removal had deleted and failed with SQLAlchemy's "expected to update 1 row(s)". Now
each locks the site's row ``FOR KEY SHARE`` first (``repo.hold_site``): a removal waits
for it, and one that comes after a removal began waits for it and says the site was
removed."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from shapely.geometry import box
from sqlalchemy import func, select

from railwatch.analysis.types import CountPoint
from railwatch.errors import NotFoundError
from railwatch.pipeline import removal_lock
from railwatch.review import import_reviews
from railwatch.sites import SiteSpec
from railwatch.storage import Database, repo
from railwatch.storage.models import Event, Scene, SceneReview, Site
from report_db import (
    CRS,
    IMG_H_M,
    IMG_W_M,
    SITE_UTM,
    X0,
    Y0,
    FakeCount,
    FakeInfo,
    FakeQuality,
    to_wgs84,
)
from test_site_removal_analysis_s32c import _then

pytestmark = pytest.mark.services

DAY1 = datetime(2023, 10, 5, 2, 0, tzinfo=UTC)

INFO = FakeInfo(
    uri="/imagery/yard_0.tif",
    content_hash="2" * 64,
    acquired=DAY1 + timedelta(days=1),
    crs=CRS,
    footprint=to_wgs84(box(X0, Y0 - IMG_H_M, X0 + IMG_W_M, Y0)),
    gsd=0.5,
    width=800,
    height=400,
    metadata={},
)


@pytest.fixture
def dbs(postgres_url: str) -> Iterator[tuple[Database, Database]]:
    """The site ``tum`` with an event and two processed, usable scenes: the first (by id)
    is the later image, of the greater content hash, and was recorded last (its row
    rewritten after the second's), so that a removal's cascade, whichever way it finds
    them (by site and time, by site and hash, or in the table), deletes the second
    first; two :class:`Database` objects, one for each side."""
    pytest.importorskip("psycopg")
    db = Database(postgres_url)
    count = FakeCount(38.0, 34.0, 42.0, {"boxcar": (38.0, 34.0, 42.0)}, 0)
    with db.session() as s:
        site = repo.add_site(s, SiteSpec(name="tum", geometry=to_wgs84(SITE_UTM)))
        first, _ = repo.add_scene(s, site, INFO, 1.0)
        second, _ = repo.add_scene(
            s,
            site,
            replace(INFO, uri="/imagery/yard_1.tif", content_hash="1" * 64, acquired=DAY1),
            1.0,
        )
        for row in (second, first):
            repo.record_scene_result(s, row.id, FakeQuality(0.97), [], count, "default", "2.8")
        repo.add_event(s, site, date(2023, 10, 1), "summit")
    other = Database(postgres_url, migrate=False)
    yield db, other
    other.dispose()
    db.dispose()


def _remove(db: Database) -> repo.SiteRemoval:
    with removal_lock(db, "tum"), db.session() as s:
        return repo.remove_site(s, "tum")


def _left(db: Database) -> tuple[int, int, int, int]:
    with db.session(readonly=True) as s:
        return tuple(  # type: ignore[return-value]
            s.scalar(select(func.count()).select_from(t)) or 0
            for t in (Site, Scene, SceneReview, Event)
        )


def _scene_ids(db: Database) -> list[int]:
    with db.session(readonly=True) as s:
        return list(s.scalars(select(Scene.id).order_by(Scene.id)))


def _import(db: Database, ids: list[int]) -> Any:
    points = [
        CountPoint(when=DAY1 + timedelta(days=1), count=41.0, scene_id=ids[0]),
        CountPoint(when=DAY1, count=40.0, scene_id=ids[1]),
    ]
    with db.session() as s:
        return import_reviews(s, "tum", {"": points})


def test_a_removal_during_an_import_of_reviews_waits_for_it(
    dbs: tuple[Database, Database], postgres_url: str
) -> None:
    """The removal starts once the import has locked its first scene. Before, it
    deleted the site's row and the import's second scene, then waited for the first; the
    import, locking its second scene, waited for the removal: "deadlock detected"."""
    db, other = dbs
    ids = _scene_ids(db)
    done, out = _then(
        db,
        postgres_url,
        lambda st: "FROM scenes" in st and "FOR NO KEY UPDATE" in st,
        lambda: _remove(other),
        lambda: _import(db, ids),
        "the import locked no scene",
    )
    assert "error" not in out, out
    assert [sid for sid, _ in done.recorded] == ids
    assert (out["value"].scenes, out["value"].events) == (2, 1)
    assert _left(db) == (0, 0, 0, 0)


def _during_removal(db: Database, other: Database, url: str, action: Any) -> dict[str, Any]:
    """Run ``action`` in a thread once the removal has deleted the site's row, before it
    commits; the thread's outcome, once the removal is done."""
    removal, out = _then(
        other,
        url,
        lambda st: st.startswith("DELETE FROM sites"),
        action,
        lambda: _remove(other),
        "the removal deleted no site row",
    )
    assert (removal.scenes, removal.events) == (2, 1)
    assert _left(db) == (0, 0, 0, 0)
    return out


def _add_scene(db: Database) -> Callable[[], Any]:
    def add() -> Any:
        with db.session() as s:
            info = replace(INFO, uri="/imagery/yard_2.tif", content_hash="3" * 64)
            return repo.add_scene(s, "tum", info, 1.0)

    return add


def _add_event(db: Database) -> Callable[[], Any]:
    def add() -> Any:
        with db.session() as s:
            return repo.add_event(s, "tum", date(2023, 10, 2), "flood")

    return add


def _edit_event(db: Database) -> Callable[[], Any]:
    with db.session(readonly=True) as s:
        event_id = s.scalar(select(Event.id))
    assert event_id is not None

    def edit() -> Any:
        with db.session() as s:
            return repo.update_event(s, event_id, label="summit (postponed)")

    return edit


def _import_later(db: Database) -> Callable[[], Any]:
    ids = _scene_ids(db)
    return lambda: _import(db, ids)


def _review(db: Database) -> Callable[[], Any]:
    scene_id = _scene_ids(db)[0]

    def review() -> Any:
        with db.session() as s:
            return repo.set_scene_review(s, scene_id, {"all": 41.0})

    return review


def _unreview(db: Database) -> Callable[[], Any]:
    scene_id = _scene_ids(db)[0]
    with db.session() as s:
        repo.set_scene_review(s, scene_id, {"all": 41.0})

    def unreview() -> Any:
        with db.session() as s:
            return repo.remove_scene_review(s, scene_id)

    return unreview


@pytest.mark.parametrize(
    ("what", "action"),
    [
        ("an image was being recorded for it", _add_scene),
        ("an event was being recorded for it", _add_event),
        ("an event of it was being changed", _edit_event),
        ("reviews of its images were being imported", _import_later),
        ("scene 1 was being reviewed", _review),
        ("the review of scene 1 was being removed", _unreview),
    ],
    ids=["add_scene", "add_event", "update_event", "import_reviews", "review", "unreview"],
)
def test_a_writer_coming_during_a_removal_waits_and_says_the_site_was_removed(
    dbs: tuple[Database, Database], postgres_url: str, what: str, action: Any
) -> None:
    """Before: ``add_scene`` and ``add_event`` waited for the removal on their foreign
    key check and failed with a raw ``ForeignKeyViolation``; ``update_event`` found its
    row gone and failed with SQLAlchemy's ``StaleDataError``; the import of reviews
    waited on its first scene's lock and said "no scene with id N" (to look it up), as a
    scene's review and the removal of a review did."""
    db, other = dbs
    out = _during_removal(db, other, postgres_url, action(db))
    err = out.get("error")
    assert isinstance(err, NotFoundError), out
    assert f"site 'tum' was removed while {what}" in str(err), err
    assert "nothing was stored" in str(err)
