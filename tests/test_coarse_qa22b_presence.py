"""A 10 m image says only whether a long train is present, and a 3 m image only the total:
neither is a count of 0 (or 1) cars of any class anywhere a count is shown, exported,
charted or judged (session 22, coarse QA)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from railwatch.analysis.alerts import analyze_series
from railwatch.analysis.types import CountPoint
from railwatch.detect.base import is_presence, long_train_present, tells_class
from railwatch.export.layers import site_layers
from railwatch.report.caveats import build_caveats
from railwatch.report.charts import timeseries_figure
from railwatch.report.data import count_of, scene_rows
from railwatch.report.format import fmt_scene_count
from railwatch.sites import SiteSpec
from railwatch.storage import Database, repo
from report_db import SITE_UTM, FakeCount, FakeQuality, add_counted_scene, to_wgs84

T0 = datetime(2024, 7, 1, 2, 0, tzinfo=UTC)


def test_presence_tells_no_class_and_length_only_the_total() -> None:
    for cls in ("all", "railcar", "tank", "covered"):
        assert not tells_class(cls, "presence")
        assert tells_class(cls, "objects")
    assert tells_class("all", "length")
    assert not tells_class("railcar", "length")  # it would repeat the total
    assert is_presence("presence") and not is_presence("length")
    assert long_train_present("presence", 1.0) is True
    assert long_train_present("presence", 0.0) is False
    assert long_train_present("length", 0.0) is None


@pytest.fixture
def db(tmp_path: Path) -> Any:
    database = Database(f"sqlite:///{tmp_path / 'presence.db'}")
    with database.session() as s:
        site = repo.add_site(s, SiteSpec(name="mixed", geometry=to_wgs84(SITE_UTM)))
        for day, gsd, count in (
            (1, 0.5, FakeCount(10.0, 9.0, 12.0, {"tank": (4, 4, 4), "railcar": (6, 6, 6)}, 3)),
            (2, 10.0, FakeCount(0.0, 0.0, 0.0, {}, 0, method="presence")),
            (3, 3.0, FakeCount(20.0, 15.0, 30.0, {"railcar": (20, 15, 30)}, 0, method="length")),
            (4, 10.0, FakeCount(1.0, 1.0, 1.0, {}, 0, method="presence")),
        ):
            add_counted_scene(s, site, T0 + timedelta(days=day), gsd, count, day)
    yield database
    database.dispose()


def test_export_gives_presence_no_count_and_its_flag(db: Database) -> None:
    """Before: count 0.0 and count_railcar 0.0 for a 10 m image with no long train (an
    empty yard), 1.0 for one with a long train; no column said which."""
    with db.session(readonly=True) as s:
        layer = site_layers(s, "mixed")["counts"]
    assert "long_train_present" in layer.columns
    fine, empty, coarse, train = layer.records
    for rec in (empty, train):
        assert rec["method"] == "presence"
        assert rec["count"] is None and rec["low"] is None and rec["high"] is None
        assert rec["count_railcar"] is None and rec["count_tank"] is None
        assert rec["covered"] is None
    assert empty["long_train_present"] is False and train["long_train_present"] is True
    assert fine["long_train_present"] is None and coarse["long_train_present"] is None
    assert fine["count"] == 10.0 and fine["count_railcar"] == 6.0
    # a 3 m count tells the total only: its railcar cell is empty, not the total again
    assert coarse["count"] == 20.0 and coarse["count_railcar"] is None


def test_series_of_a_class_gives_none_at_3m_and_10m(db: Database) -> None:
    with db.session(readonly=True) as s:
        railcar = repo.count_series(s, "mixed", cls="railcar")
        total = repo.count_series(s, "mixed", cls="all")
    assert [p.count for p in railcar] == [6.0, None, None, None]
    assert [p.method for p in railcar] == ["objects", "presence", "length", "presence"]
    # the total keeps the flag, which the analysis leaves out of every count series
    assert [p.count for p in total] == [10.0, 0.0, 20.0, 1.0]


def test_report_rows_caveats_and_chart(db: Database) -> None:
    """Before: the scene table read '0' for the 10 m image, the caveat counted presence
    images among the coarse counts (2 of 4 counts coarser than 1 m, 3 with both), and the
    chart drew a point of 0 and one of 1 for them."""
    with db.session(readonly=True) as s:
        rows = scene_rows(s, repo.get_site(s, "mixed"))
    fine, empty, coarse, train = rows
    assert fmt_scene_count(empty) == "no long train"
    assert fmt_scene_count(train) == "long train present"
    assert fmt_scene_count(fine) == "10 [9–12]"
    assert count_of(empty) is None and count_of(train) is None and count_of(coarse) == 20.0
    assert coarse.by_class == {} and empty.by_class == {}
    caveats = build_caveats(rows)
    text = " ".join(caveats)
    assert "1 of 2 counts come from images coarser than 1 m" in text, caveats
    assert "2 images of 10 m or coarser only tell whether a long train is present" in text
    assert "That flag is not reliable" in text
    assert "images could not be counted" not in text
    fig = timeseries_figure(rows, stacked=False)
    points = [ln for ln in fig.axes[0].lines if ln.get_marker() == "o"]
    assert sorted(float(y) for ln in points for y in np.asarray(ln.get_ydata())) == [10.0, 20.0]


def test_unusable_coarse_scene_is_a_gap_of_its_own_method(db: Database) -> None:
    """Before: every unusable scene was a gap of the objects series (method 'objects'),
    a 3 m one too."""
    with db.session() as s:
        site = repo.get_site(s, "mixed")
        for day, gsd in ((5, 3.0), (6, 10.0), (7, 0.5)):
            sid = add_counted_scene(
                s, site, T0 + timedelta(days=day), gsd, FakeCount(0, 0, 0, {}, 0), 10 + day
            )
            repo.record_scene_result(
                s, sid, FakeQuality(0.1, usable=False, reasons=("cloud",)), [], None, "t", "1"
            )
    with db.session(readonly=True) as s:
        gaps = [p for p in repo.count_series(s, "mixed") if not p.usable]
    assert [(p.gsd, p.method) for p in gaps] == [
        (3.0, "length"),
        (10.0, "presence"),
        (0.5, "objects"),
    ]


def _pt(day: int, count: float, method: str, cls: str = "all") -> CountPoint:
    return CountPoint(
        when=T0 + timedelta(days=day),
        count=count,
        low=count * 0.8,
        high=count * 1.5,
        cls=cls,
        method=method,
        gsd={"objects": 0.5, "length": 3.0, "presence": 10.0}[method],
    )


def test_method_note_does_not_count_presence_images() -> None:
    """Before: '... 12 earlier counts made another way were not compared' counted the 10
    presence images with the 2 object counts."""
    pts = [_pt(14 * i, 10.0 + (i % 3), "objects") for i in range(2)]
    pts += [_pt(14 * i + 3, float(i % 2), "presence") for i in range(10)]
    pts += [_pt(7 * i + 1, 20.0 + (i % 4), "length") for i in range(40)]
    pts.append(_pt(7 * 41 + 1, 120.0, "length"))
    alerts = [a for a in analyze_series(pts) if a.kind == "record" and a.value == 120.0]
    assert alerts, "the 3 m record"
    assert "; 2 earlier counts made another way were not compared" in alerts[0].explanation


def test_a_3m_alert_is_raised_once_not_again_for_railcar(tmp_path: Path) -> None:
    """A length count stores by_class={'railcar': total}: every 3 m alert of the total
    came twice, once as 'railcar' (the demo: 2023-09-24, 2023-11-10, 2024-02-25), while
    'railcar' alerts of cars counted one by one must stay."""
    from railwatch.analysis.store import analyze_site

    database = Database(f"sqlite:///{tmp_path / 'dup.db'}")
    with database.session() as s:
        site = repo.add_site(s, SiteSpec(name="dup", geometry=to_wgs84(SITE_UTM)))
        key = 0
        for i in range(60):  # two years of 0.5 m counts, then a rise typed 'railcar'
            n = 60.0 if i == 59 else 10.0 + i % 3
            untyped = 40.0 if i == 59 else 4.0 + i % 2
            count = FakeCount(n, n - 1, n + 2, {"railcar": (untyped,) * 3, "tank": (3, 3, 3)}, 1)
            key += 1
            add_counted_scene(s, site, T0 + timedelta(days=14 * i), 0.5, count, key)
        for i in range(30):  # 3 m counts between them, the last one a record
            n = 90.0 if i == 29 else 20.0 + i % 4
            count = FakeCount(n, n * 0.8, n * 1.5, {"railcar": (n, n * 0.8, n * 1.5)}, 0)
            count = FakeCount(n, n * 0.8, n * 1.5, count.by_class, 0, method="length")
            key += 1
            add_counted_scene(s, site, T0 + timedelta(days=28 * i + 3), 3.0, count, key)
    with database.session() as s:
        alerts = analyze_site(s, "dup", store=False, as_of=T0 + timedelta(days=900)).alerts
    database.dispose()
    coarse_day = (T0 + timedelta(days=28 * 29 + 3)).date()
    on_3m = [(a.cls, a.kind) for a in alerts if a.when.date() == coarse_day]
    assert ("all", "record") in on_3m
    assert not [c for c, _ in on_3m if c != "all"], on_3m
    fine_day = (T0 + timedelta(days=14 * 59)).date()
    assert any(a.cls == "railcar" and a.when.date() == fine_day for a in alerts), alerts
