"""A report reads one snapshot, never takes SQLite's write lock, and gives its alert
images to alerts above info (session 24's report follow-ups).

``build_report_data`` read the scenes, counts and alerts in one writing session and the
detections the chips draw in another: a scene counted again in between (cron's
``railwatch process`` while a report is written) showed boxes that disagreed with its
count, and both sessions took SQLite's write lock only to read, so a report waited on
``process`` and blocked it. The 10 alert images went to the most severe alerts, so a
site with fewer alerts above info gave the rest to info alerts.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from rasterio.transform import from_origin

import railwatch.storage.db as db_mod
from helpers import sqlite_write_lock_held
from railwatch.analysis.types import Alert
from railwatch.detect.base import Detection
from railwatch.report import build_report, build_report_data
from railwatch.report import builder as builder_mod
from railwatch.report.html import render_html
from railwatch.report.model import ReportData
from railwatch.report.pdf import _alert_list_pages
from railwatch.storage import Database, records_from_detections, repo
from report_db import CRS, PLANS, SITE_NAME, T0, X0, Y0, FakeCount, FakeQuality, car_boxes_px
from report_db import populate as populate_db

ABOVE_INFO_NOTE = "Images are shown for alerts above info only."


def _recount(db: Database, scene_id: int, n: int) -> None:
    """Count ``scene_id`` again with ``n`` cars (new detections and count), committed."""
    with db.session() as s:
        site = repo.get_site(s, SITE_NAME)
        dets = [
            Detection(b, cls=c, score=0.9, covered=False, covered_score=0.1)
            for b, c, _ in car_boxes_px(n, 0.5)
        ]
        records = records_from_detections(
            dets, from_origin(X0, Y0, 0.5, 0.5), CRS, site_geom_wgs84=site.geometry
        )
        count = FakeCount(float(n), n - 1.0, n + 1.0, {}, 0)
        repo.record_scene_result(s, scene_id, FakeQuality(0.97), records, count, "test", "2")


def _chips_match_counts_under_a_recount(
    db: Database, info: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    last = info["scene_ids"][-1]  # 18 cars, the high record's image
    real_plan = builder_mod._plan
    done: list[bool] = []

    def plan_then_recount(*args: Any, **kwargs: Any) -> Any:
        # another process counts the image again after the report read the scenes and
        # before it reads the boxes its chips draw
        if not done:
            _recount(db, last, 3)
            done.append(True)
        return real_plan(*args, **kwargs)

    monkeypatch.setattr(builder_mod, "_plan", plan_then_recount)
    data = build_report_data(db, SITE_NAME)
    assert done
    ev = next(e for e in data.evidence if e.alert.key == "record-test")
    assert ev.after is not None and ev.after_row is not None
    assert ev.after_row.total == 18
    # the boxes drawn are those of the count shown (3 boxes beside "count 18" before)
    assert len(ev.after.detections) == 18
    assert "count 18 [17–19]" in ev.after.caption[-1]


def test_chips_draw_the_boxes_of_the_count_they_show(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = Database(f"sqlite:///{tmp_path / 'rw.db'}")
    info = populate_db(db, tmp_path / "scenes")
    _chips_match_counts_under_a_recount(db, info, monkeypatch)
    # the next report shows the new count with its own boxes
    data = build_report_data(db, SITE_NAME)
    assert data.scenes[-1].total == 3


@pytest.mark.services
def test_chips_draw_the_boxes_of_the_count_they_show_on_postgresql(
    postgres_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = Database(postgres_url)
    try:
        info = populate_db(db, tmp_path / "scenes")
        _chips_match_counts_under_a_recount(db, info, monkeypatch)
    finally:
        db.engine.dispose()


def test_a_report_never_takes_the_write_lock(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While another process holds SQLite's write lock (``railwatch process`` recording
    a scene), the report and its PDF are written at once, and the report's sessions hold
    no lock that would make that process wait."""
    path = tmp_path / "rw.db"
    populate_db(Database(f"sqlite:///{path}"), tmp_path / "scenes")
    # a writing session would wait this long, then fail with "database is locked"
    monkeypatch.setattr(db_mod, "SQLITE_BUSY_TIMEOUT_MS", 100)
    db = Database(f"sqlite:///{path}", migrate=False)
    try:
        with sqlite_write_lock_held(path, db) as begins:
            out = build_report(db, SITE_NAME, tmp_path / "r.html", pdf=True)
            data = build_report_data(db, SITE_NAME)
    finally:
        db.engine.dispose()
    assert out.is_file() and out.with_suffix(".pdf").is_file()
    assert any(e.after is not None for e in data.evidence)  # the chips' boxes were read
    assert begins and all(b == "BEGIN DEFERRED" for b in begins), begins


# --- images only for alerts above info ------------------------------------------------


def _alert(key: str, severity: str, scene_id: int, day: int) -> Alert:
    return Alert(
        key=key,
        kind="record" if severity == "info" else "spike",
        severity=severity,
        when=T0 + timedelta(days=day),
        cls="all",
        value=1.0,
        explanation=f"{severity} alert {key}. Second sentence.",
        scene_id=scene_id,
    )


@pytest.fixture(scope="module")
def alerts_db(tmp_path_factory: pytest.TempPathFactory) -> tuple[Database, list[int]]:
    """The test site with 3 alerts above info and 6 info alerts, each on a counted image."""
    tmp = tmp_path_factory.mktemp("alerts")
    db = Database(f"sqlite:///{tmp / 'rw.db'}")
    info = populate_db(db, tmp / "scenes", with_alert=False)
    counted = [(sid, p.day) for sid, p in zip(info["scene_ids"], PLANS, strict=True) if p.usable]
    alerts = [
        _alert("high", "high", *counted[-1]),
        _alert("medium", "medium", *counted[-4]),
        _alert("low", "low", *counted[-6]),
    ]
    alerts += [_alert(f"info{k}", "info", sid, day) for k, (sid, day) in enumerate(counted[:6])]
    with db.session() as s:
        repo.replace_alerts(s, repo.get_site(s, SITE_NAME), alerts)
    return db, [sid for sid, _ in counted]


def _with_images(data: ReportData) -> set[str]:
    return {ev.alert.key for ev in data.evidence if ev.after is not None}


def test_info_alerts_get_no_images_when_fewer_alerts_are_above_info(
    alerts_db: tuple[Database, list[int]],
) -> None:
    """3 alerts above info, 10 image slots: the other 7 stay empty (6 info alerts took
    them before)."""
    data = build_report_data(alerts_db[0], SITE_NAME)
    assert len(data.alerts) == 9
    assert _with_images(data) == {"high", "medium", "low"}
    for ev in data.evidence:
        if ev.alert.severity == "info":
            assert ev.after is None and ev.before is None
            assert ev.notes == (ABOVE_INFO_NOTE,)
    # said once in the HTML, under the heading of the alerts
    assert render_html(data).count(ABOVE_INFO_NOTE) == 1
    # the PDF lists the info alerts one paragraph each, and says which alerts have images
    pages = _alert_list_pages(data, [ev for ev in data.evidence if ev.after is None])
    text = "\n".join(t.get_text() for fig in pages for t in fig.texts)
    assert "images are shown for the 3 most severe alerts above info" in text
    assert text.count("info alert info") == 6 and "Second sentence" not in text
    assert ABOVE_INFO_NOTE not in text


def test_the_most_severe_alerts_above_info_take_the_images(
    alerts_db: tuple[Database, list[int]],
) -> None:
    data = build_report_data(alerts_db[0], SITE_NAME, max_evidence=2)
    assert _with_images(data) == {"high", "medium"}
    note = "Images are shown for the 2 most severe alerts above info only."
    low = next(ev for ev in data.evidence if ev.alert.key == "low")
    assert low.after is None and note in low.notes
    assert all(note in ev.notes for ev in data.evidence if ev.alert.severity == "info")
    page = render_html(data)
    assert page.count(note) == 1 and ABOVE_INFO_NOTE not in page


def test_a_site_with_only_info_alerts_shows_no_alert_image(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'rw.db'}")
    info = populate_db(db, tmp_path / "scenes", with_alert=False)
    last = info["scene_ids"][-1]
    with db.session() as s:
        repo.replace_alerts(s, repo.get_site(s, SITE_NAME), [_alert("i", "info", last, 390)])
    data = build_report_data(db, SITE_NAME)
    (ev,) = data.evidence
    assert ev.after is None and ev.notes == (ABOVE_INFO_NOTE,)
    pdf = build_report(db, SITE_NAME, tmp_path / "r.html", pdf=True).with_suffix(".pdf")
    assert pdf.is_file()
