"""The evidence note when there is no baseline at all (session 28). ``choose_before``
falls back to the most recent earlier image both when no earlier image was near the
baseline and when there was no baseline to be near (too few earlier images counted the
alert image's way, or only old ones); the note said "No earlier image had a count near
the baseline" in both cases. It now says the history is too short (how many earlier
usable images of that method, how many a baseline needs), or that the ones it needs are
too old."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import update

from railwatch.report import build_report_data
from railwatch.report.data import no_baseline_reason, spread_at
from railwatch.report.model import SceneRow
from railwatch.storage import Database
from railwatch.storage.models import Count
from report_db import populate

T0 = datetime(2023, 6, 1, tzinfo=UTC)
NOT_NEAR = "No earlier image had a count near the baseline"


def row(k: int, day: int, total: float, method: str = "objects") -> SceneRow:
    return SceneRow(
        scene_id=k, when=T0 + timedelta(days=day), sensor=None, gsd=0.5, usable=True,
        total=total, by_class={}, method=method,
    )  # fmt: skip


def _set_method(db: Database, scene_ids: list[int], method: str) -> None:
    with db.session() as s:
        s.execute(update(Count).where(Count.scene_id.in_(scene_ids)).values(method=method))


def test_reason_gives_how_many_images_and_how_many_are_needed() -> None:
    rows = [row(1, 0, 5.0), row(2, 10, 6.0)]
    when = T0 + timedelta(days=20)
    assert spread_at(rows, when, method="objects") is None
    why = no_baseline_reason(rows, when, method="objects")
    assert why is not None
    assert "history is too short for a baseline" in why
    assert "2 earlier usable images counted this way (cars detected one by one" in why
    # the analysis's baseline_min_points (until session 45 the evidence's own 3)
    assert "a baseline needs 5" in why
    one = no_baseline_reason(rows[:1], when, method="objects")
    assert one is not None and "1 earlier usable image counted" in one


def test_reason_says_when_the_images_are_too_old() -> None:
    rows = [row(k, 10 * k, 5.0) for k in range(6)]  # days 0-50; the window is 120 days
    when = T0 + timedelta(days=400)
    why = no_baseline_reason(rows, when, method="objects")
    assert why is not None and "too short" not in why
    # 5: the analysis's baseline_min_points (until session 45 the evidence's own 3)
    assert "fewer than 5 earlier usable images" in why and "120 days" in why
    assert "go back to 2023-06-11, more than 240 days" in why


def test_no_reason_when_there_is_a_baseline() -> None:
    rows = [row(k, 10 * k, 5.0) for k in range(5)]  # 5: the analysis's baseline_min_points
    assert no_baseline_reason(rows, T0 + timedelta(days=50), method="objects") is None


def test_report_note_says_the_history_is_too_short(tmp_path: Path) -> None:
    """The test yard with its alert image and one earlier image counted from track
    length: one earlier image of that method, no baseline, so none can be near."""
    db = Database(f"sqlite:///{tmp_path / 'rw.db'}")
    ids = populate(db, tmp_path / "scenes")["scene_ids"]
    _set_method(db, [ids[0], ids[-1]], "length")
    (ev,) = [e for e in build_report_data(db, "testyard").evidence if e.after is not None]
    assert ev.before_row is not None and ev.before_row.scene_id == ids[0]
    assert not ev.before_near and not ev.before_counted_otherwise
    assert not any(NOT_NEAR in n for n in ev.notes)
    (note,) = [n for n in ev.notes if "baseline" in n]
    assert note.startswith("The history is too short for a baseline: 1 earlier usable image")
    assert "occupied track length" in note and "a baseline needs 5" in note
    # the objects images between them are passed over (session 40: "the most recent
    # earlier usable image" it was not)
    assert note.endswith(
        "the most recent earlier usable image counted the same way (11 later ones were "
        "counted another way) is shown instead."
    )


def test_report_note_says_the_images_are_too_old(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'rw.db'}")
    ids = populate(db, tmp_path / "scenes")["scene_ids"]
    # days 0-120 (5: the analysis's baseline_min_points; 3 until session 45); the
    # alert's is 390
    _set_method(db, [*ids[:5], ids[-1]], "length")
    (ev,) = [e for e in build_report_data(db, "testyard").evidence if e.after is not None]
    assert ev.before_row is not None and ev.before_row.scene_id == ids[4]
    assert not any(NOT_NEAR in n for n in ev.notes)
    (note,) = [n for n in ev.notes if "baseline" in n]
    assert note.startswith("There is no baseline: fewer than 5 earlier usable images")
    assert "more than 240 days before it" in note
