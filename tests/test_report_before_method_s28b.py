"""The before image of an alert's evidence is one counted the way the alert image was
(session 28). 3 m images are counted from occupied track length (car equivalents),
0.3-1 m images car by car; the alerts judge an image against earlier counts of its own
method only, but ``choose_before`` and ``spread_at`` took every method: on the demo
the 0.3 m record of 111 cars (2023-11-25) was shown beside a blurry 3 m estimate of
65.5 car equivalents as its near-the-baseline image, and the 3 m record of 2024-02-25
beside a 0.5 m image. When no earlier image was counted that way, the latest earlier
image of any method is shown, not called near, and the caption and note say it was
counted another way."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import update

from railwatch.report import build_report_data
from railwatch.report.builder import choose_before
from railwatch.report.data import spread_at
from railwatch.report.html import render_html
from railwatch.report.model import ReportData, SceneRow
from railwatch.report.pdf import _evidence_page
from railwatch.storage import Database
from railwatch.storage.models import Count
from report_db import populate

T0 = datetime(2023, 6, 1, tzinfo=UTC)


def row(k: int, day: int, total: float, method: str = "objects", gsd: float = 0.5) -> SceneRow:
    return SceneRow(
        scene_id=k, when=T0 + timedelta(days=day), sensor=None, gsd=gsd, usable=True,
        total=total, by_class={}, method=method,
    )  # fmt: skip


def demo_like() -> tuple[list[SceneRow], SceneRow]:
    """Cars one by one climbing 20 -> 75; a 3 m estimate of 65.5 after the last of
    them (near the mixed baseline), then a 0.3 m record of 111."""
    objects = [row(k, 10 * k, 20.0 + 5 * k) for k in range(12)]  # 20 .. 75
    coarse = row(50, 115, 65.5, method="length", gsd=3.0)
    after = row(99, 125, 111.0, gsd=0.3)
    return [*objects, coarse, after], after


def test_an_image_counted_one_by_one_is_not_shown_beside_a_3m_estimate() -> None:
    rows, after = demo_like()
    before, near = choose_before(rows, after)
    assert before is not None and before.method == "objects"
    assert near  # near the baseline of the counts made one by one


def test_spread_at_takes_only_the_method_asked_for() -> None:
    rows = [row(k, 10 * k, 10.0) for k in range(6)]
    rows += [row(100 + k, 10 * k + 5, 60.0, method="length", gsd=3.0) for k in range(6)]
    when = T0 + timedelta(days=70)
    by_objects = spread_at(rows, when, method="objects")
    by_length = spread_at(rows, when, method="length")
    assert by_objects is not None and by_objects[0] == 10.0
    assert by_length is not None and by_length[0] == 60.0
    # without a method: one method's series, never a mix (the analysis judges none;
    # until session 45 every method, a median between the two scales)
    mixed = spread_at(rows, when)
    assert mixed in (by_objects, by_length)
    assert spread_at(rows, rows[5].when) == spread_at(rows, rows[5].when, method="objects")


def test_a_3m_alert_with_only_finer_images_before_gets_the_latest_not_near() -> None:
    rows = [row(k, 10 * k, 100.0) for k in range(8)]
    after = row(99, 90, 161.0, method="length", gsd=3.0)
    before, near = choose_before([*rows, after], after)
    assert before is not None and before.scene_id == 7 and near is False


def test_a_3m_alert_takes_a_3m_image_before_a_later_finer_one() -> None:
    rows = [row(k, 10 * k, 10.0, method="length", gsd=3.0) for k in range(6)]
    rows += [row(20, 65, 10.0), row(21, 70, 120.0)]  # later, counted one by one
    after = row(99, 75, 40.0, method="length", gsd=3.0)
    before, near = choose_before([*rows, after], after)
    assert before is not None and before.scene_id == 5 and near


def _set_method(db: Database, scene_ids: list[int], method: str) -> None:
    with db.session() as s:
        s.execute(update(Count).where(Count.scene_id.in_(scene_ids)).values(method=method))


@pytest.fixture(scope="module")
def other_way(tmp_path_factory: pytest.TempPathFactory) -> ReportData:
    """The test yard with its alert image counted from track length: every earlier
    image was counted car by car."""
    tmp = tmp_path_factory.mktemp("before_method_s28b")
    db = Database(f"sqlite:///{tmp / 'rw.db'}")
    ids = populate(db, tmp / "scenes")["scene_ids"]
    _set_method(db, [ids[-1]], "length")
    return build_report_data(db, "testyard")


def test_the_report_says_the_before_image_was_counted_another_way(
    other_way: ReportData,
) -> None:
    (ev,) = [e for e in other_way.evidence if e.after is not None]
    assert ev.before is not None and ev.before_row is not None and ev.after_row is not None
    assert ev.after_row.method == "length" and ev.before_row.method == "objects"
    assert ev.before_near is False and ev.before_counted_otherwise
    (note,) = [n for n in ev.notes if "counted" in n]
    assert "No earlier image was counted the way the alert image was" in note
    assert "occupied track length" in note and "one by one" in note
    assert "not comparable" in note
    assert not any("near the baseline" in n for n in ev.notes)
    html = render_html(other_way)
    (caption,) = re.findall(r"<figcaption>(.*?)</figcaption>", html, flags=re.S)[1:]
    caption = " ".join(caption.split())
    assert "before (the most recent earlier usable image, counted another way" in caption
    assert "near the baseline" not in caption
    fig = _evidence_page(other_way, ev)
    text = " ".join(" ".join(t.get_text() for t in fig.texts).split())
    assert "counted another way: not comparable" in text


def test_a_3m_estimate_after_finer_images_is_passed_over(tmp_path: Path) -> None:
    """The test yard with its latest image before the alert counted from track length:
    the alert image (counted car by car) is shown beside an earlier one counted so."""
    db = Database(f"sqlite:///{tmp_path / 'rw.db'}")
    ids = populate(db, tmp_path / "scenes")["scene_ids"]
    _set_method(db, [ids[-2]], "length")
    (ev,) = [e for e in build_report_data(db, "testyard").evidence if e.after is not None]
    assert ev.before_row is not None and ev.before_row.method == "objects"
    assert ev.before_row.scene_id != ids[-2] and ev.before_near
    assert not ev.before_counted_otherwise
    assert not any("counted another way" in n for n in ev.notes)
