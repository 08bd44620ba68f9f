"""Reports of a site with an analyst's review of a scene: the table, chart, caveats,
alert evidence and chips say which counts are an analyst's, with the detector's beside
them, and draw the analyst's outlines (tests/report_db.py's yard, its last image, with
the record alert, reviewed)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from matplotlib.colors import to_hex
from matplotlib.container import ErrorbarContainer
from shapely.geometry import box, mapping

from railwatch.report import builder
from railwatch.report.charts import timeseries_figure
from railwatch.report.chips import chip_figure, pair_figure
from railwatch.report.format import fmt_scene_count
from railwatch.report.html import write_html
from railwatch.report.style import ANALYST_COLOUR
from railwatch.review import cars_from_feature_collection
from railwatch.storage import Database, repo
from report_db import CAR_LEN, CAR_STEP, SITE_NAME, TRACK_Y, X0, populate, to_wgs84


def _outlines(n: int) -> dict[str, Any]:
    """``n`` cars along the yard's track (past the 18th, on a line 20 m south: cars the
    detector missed), as an analyst's corrected GeoJSON (lon/lat)."""
    features = []
    for k in range(n):
        x = X0 + 60.0 + CAR_LEN / 2 + (k % 18) * CAR_STEP
        y = TRACK_Y - 20.0 * (k // 18)
        body = to_wgs84(box(x - 7.0, y - 1.6, x + 7.0, y + 1.6))
        features.append(
            {
                "type": "Feature",
                "geometry": mapping(body),
                "properties": {"class": "boxcar", "covered": k < 2},
            }
        )
    return {"type": "FeatureCollection", "features": features}


def _review(db: Database, scene_id: int, *, outlines: int | None, count: int = 20) -> None:
    with db.session() as s:
        if outlines is None:
            repo.set_scene_review(s, scene_id, {"all": count}, note="counted on the image")
            return
        scene = repo.get_scene(s, scene_id)
        cars = cars_from_feature_collection(_outlines(outlines), scene, scene.site)
        repo.set_scene_review(s, scene_id, cars=cars, note="two cars missed")


@pytest.fixture
def reviewed(tmp_path: Path) -> tuple[Database, dict[str, Any]]:
    db = Database(f"sqlite:///{tmp_path / 'r.db'}")
    info = populate(db, tmp_path / "scenes")
    _review(db, info["scene_ids"][-1], outlines=20)  # the detector found 18
    return db, info


def test_the_table_marks_the_analysts_count_with_the_detectors(
    reviewed: tuple[Database, dict[str, Any]], tmp_path: Path
) -> None:
    db, info = reviewed
    data = builder.build_report_data(db, SITE_NAME)
    last = data.scenes[-1]
    assert last.scene_id == info["scene_ids"][-1]
    assert (last.reviewed, last.total, last.detector_total, last.review_outlines) == (
        True,
        20.0,
        18.0,
        True,
    )
    assert fmt_scene_count(last) == "20 (analyst; detector 18)"
    assert not any(r.reviewed for r in data.scenes[:-1])
    assert fmt_scene_count(data.scenes[0]) == "5 [4–6]"  # the detector's, as before
    assert "an analyst's count, the detector counted 18" in data.headline.summary
    html = write_html(data, tmp_path / "r.html").read_text()
    assert "20 (analyst; detector 18)" in html


def test_the_caveats_say_how_many_counts_are_an_analysts(
    reviewed: tuple[Database, dict[str, Any]],
) -> None:
    db, _ = reviewed
    data = builder.build_report_data(db, SITE_NAME)
    cars = sum(1 for r in data.scenes if r.counts_cars)
    (text,) = [c for c in data.caveats if "an analyst's" in c]
    assert f"1 of the {cars} counts shown is an analyst's" in text
    assert "analyst minus detector: +2" in text
    assert "1 of them with the analyst's outlines" in text


def test_a_report_without_reviews_has_no_such_caveat(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'r.db'}")
    populate(db, tmp_path / "scenes")
    data = builder.build_report_data(db, SITE_NAME)
    assert not any("analyst" in c for c in data.caveats)
    assert not any(r.reviewed for r in data.scenes)


def test_the_alert_evidence_says_its_image_was_reviewed_and_draws_the_outlines(
    reviewed: tuple[Database, dict[str, Any]],
) -> None:
    db, info = reviewed
    data = builder.build_report_data(db, SITE_NAME)
    (ev,) = [e for e in data.evidence if e.alert.scene_id == info["scene_ids"][-1]]
    (note,) = [n for n in ev.notes if "reviewed by an analyst" in n]
    assert "its count 20 is theirs, the detector counted 18" in note
    assert "outlines" in note and "two cars missed" in note
    assert ev.after is not None and ev.before is not None
    assert len(ev.after.analyst) == 20 and len(ev.after.detections) == 18
    assert ev.before.analyst == ()  # the before image is the detector's
    assert "count 20 (analyst; detector 18)" in ev.after.caption[-1]
    # the analyst's outlines sit on the cars drawn in the image (same pixel grid)
    first = min(ev.after.analyst, key=lambda d: d.box.cx)
    nearest = min(ev.after.detections, key=lambda d: abs(d.box.cx - first.box.cx))
    assert abs(first.box.cx - nearest.box.cx) < 2 and abs(first.box.cy - nearest.box.cy) < 2
    fig = pair_figure(ev.before, ev.after)
    edges = {to_hex(p.get_edgecolor()) for ax in fig.axes for p in ax.patches}
    assert ANALYST_COLOUR.lower() in edges
    labels = [t.get_text() for leg in fig.legends for t in leg.get_texts()]
    assert any(label.startswith("analyst's outline") for label in labels)


def test_a_chip_without_a_review_has_no_analyst_legend(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'r.db'}")
    populate(db, tmp_path / "scenes")
    data = builder.build_report_data(db, SITE_NAME)
    ev = next(e for e in data.evidence if e.after is not None)
    assert ev.after is not None and ev.after.analyst == ()
    fig = chip_figure(ev.after)
    labels = [t.get_text() for leg in fig.legends for t in leg.get_texts()]
    assert not any("analyst" in label for label in labels)
    assert not any("reviewed" in n for n in ev.notes)


def test_a_count_only_review_is_said_without_outlines(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'r.db'}")
    info = populate(db, tmp_path / "scenes")
    _review(db, info["scene_ids"][-1], outlines=None, count=21)
    data = builder.build_report_data(db, SITE_NAME)
    (ev,) = [e for e in data.evidence if e.alert.scene_id == info["scene_ids"][-1]]
    (note,) = [n for n in ev.notes if "reviewed by an analyst" in n]
    assert "its count 21 is theirs, the detector counted 18" in note
    assert "outlines" not in note and "counted on the image" in note
    assert ev.after is not None and ev.after.analyst == ()
    assert len(ev.after.detections) == 18  # the detector's boxes, drawn as ever


def test_the_chart_draws_analyst_points_apart(
    reviewed: tuple[Database, dict[str, Any]],
) -> None:
    db, _ = reviewed
    data = builder.build_report_data(db, SITE_NAME)
    fig = timeseries_figure(data.scenes, data.baseline, data.events, data.alerts)
    ax = fig.axes[0]
    _, labels = ax.get_legend_handles_labels()
    assert "analyst's count (scene review)" in labels
    assert "detector's count (replaced)" in labels
    # error bars are containers (their label on the container), plain marks lines
    marks: dict[object, list[float]] = {
        c.get_label(): np.asarray(c.lines[0].get_ydata()).tolist()
        for c in ax.containers
        if isinstance(c, ErrorbarContainer)
    }
    marks |= {line.get_label(): np.asarray(line.get_ydata()).tolist() for line in ax.get_lines()}
    assert marks["analyst's count (scene review)"] == [20.0]
    assert marks["detector's count (replaced)"] == [18.0]
    # the detector's points no longer include the reviewed image
    assert 20.0 not in marks["count (interval)"] and 18.0 not in marks["count (interval)"]


def test_the_charts_caption_says_what_the_diamonds_are_only_with_reviews(
    reviewed: tuple[Database, dict[str, Any]], tmp_path: Path
) -> None:
    from railwatch.report.html import render_html

    db, _ = reviewed
    words = "Cyan diamonds: an analyst's count"
    assert words in render_html(builder.build_report_data(db, SITE_NAME))
    plain = Database(f"sqlite:///{tmp_path / 'plain.db'}")
    populate(plain, tmp_path / "plain")
    assert words not in render_html(builder.build_report_data(plain, SITE_NAME))
