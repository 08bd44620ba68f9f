"""The headline's "Previous record" says why there is none (session 39). It printed a
bare dash whether the image was the site's first, the images before it were all
unusable, none was counted its way, or none was within the record's years."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

import report_db
from railwatch.report import build_report, build_report_data
from railwatch.report.model import SceneRow
from railwatch.storage import Database
from report_db import Plan, populate

T0 = datetime(2023, 6, 1, 3, tzinfo=UTC)


def row(k: int, day: float, total: float | None = 5.0, **kw: object) -> SceneRow:
    return SceneRow(
        scene_id=k, when=T0 + timedelta(days=day), sensor=None, gsd=0.5,
        usable=kw.pop("usable", total is not None), total=total, **kw,  # type: ignore[arg-type]
    )  # fmt: skip


def test_the_reason_for_each_kind_of_history() -> None:
    from railwatch.report.data import no_record_reason

    latest = row(9, 100, 7.0)
    assert no_record_reason([latest], latest) == "no earlier image of this site"
    # an earlier image of the same local day is no earlier record
    assert no_record_reason([row(1, 100.1, 3.0), latest], latest) == "no earlier image of this site"
    cloudy = [row(1, 10, None, reasons=("cloud 70% of the site",)), row(2, 20, None)]
    assert no_record_reason([*cloudy, latest], latest) == "all 2 earlier images were unusable"
    assert no_record_reason([cloudy[0], latest], latest) == "the one earlier image was unusable"
    pending = row(3, 30, None, reasons=("not processed",))
    assert no_record_reason([*cloudy, pending, latest], latest) == (
        "none of the 3 earlier images was counted (2 unusable, 1 not processed)"
    )
    assert no_record_reason([pending, latest], latest) == (
        "the one earlier image was not counted (not processed)"
    )
    length = row(4, 40, 20.0, method="length")
    assert no_record_reason([length, latest], latest) == (
        "no earlier image counted this way (cars one by one)"
    )
    old = row(5, -6 * 365, 30.0)
    assert no_record_reason([old, latest], latest) == (
        f"no image counted this way in the 5 years before (last {old.day})"
    )


def _one_site(tmp_path: Path, plans: tuple[Plan, ...], monkeypatch: pytest.MonkeyPatch) -> Database:
    monkeypatch.setattr(report_db, "PLANS", plans)
    db = Database(f"sqlite:///{tmp_path / 'rw.db'}")
    populate(db, tmp_path / "scenes", with_alert=False)
    return db


def test_a_first_image_says_there_is_no_earlier_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = _one_site(tmp_path, (Plan(day=0, n=6),), monkeypatch)
    h = build_report_data(db, report_db.SITE_NAME).headline
    assert h.record is None and h.no_record == "no earlier image of this site"
    assert h.record_words == "– (no earlier image of this site)"
    assert h.baseline is None and h.no_baseline.startswith("no earlier days with a count")
    out = build_report(db, report_db.SITE_NAME, tmp_path / "r.html", pdf=True)
    html = out.read_text()
    cell = re.search(r"<dt>Previous record</dt><dd>(.*?)</dd>", html, re.S)
    assert cell is not None and "no earlier image of this site" in cell.group(1)
    cell = re.search(r"<dt>Baseline</dt><dd>(.*?)</dd>", html, re.S)
    assert cell is not None and "a baseline needs 5" in cell.group(1)
    from pypdf import PdfReader

    first = PdfReader(out.with_suffix(".pdf")).pages[0].extract_text()
    assert "no earlier image of this site" in first
    assert "no earlier days with a count; a baseline needs 5" in first


def test_earlier_cloudy_images_are_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    plans = (Plan(day=0, n=0, usable=False), Plan(day=20, n=0, usable=False), Plan(day=40, n=6))
    db = _one_site(tmp_path, plans, monkeypatch)
    h = build_report_data(db, report_db.SITE_NAME).headline
    assert h.record_words == "– (all 2 earlier images were unusable)"


def test_a_record_has_no_reason(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'rw.db'}")
    populate(db, tmp_path / "scenes")
    h = build_report_data(db, report_db.SITE_NAME).headline
    assert h.record is not None and h.no_record == ""
    assert "(" not in h.record_words or "before this rise" in h.record_words


def test_a_latest_image_of_the_minor_method_has_its_own_record(tmp_path: Path) -> None:
    """A site counted mostly from track length (3 m) whose latest image was counted one by
    one: the headline looked for that image in the length images' track and gave neither
    record nor baseline; it now has the record of the images counted one by one."""
    from railwatch.sites import SiteSpec
    from railwatch.storage import repo
    from report_db import SITE_UTM, FakeCount, add_counted_scene, to_wgs84

    db = Database(f"sqlite:///{tmp_path / 'rw.db'}")
    with db.session() as s:
        site = repo.add_site(s, SiteSpec(name="mixed", geometry=to_wgs84(SITE_UTM)))
        for k in range(5):
            count = FakeCount(30.0, 25.0, 35.0, {}, 0, method="length")
            add_counted_scene(s, site, T0 + timedelta(days=10 * k), 3.0, count, key=k)
        for k, n in ((5, 12.0), (6, 9.0)):
            count = FakeCount(n, n - 1, n + 1, {"tank": (n, n, n)}, 0)
            add_counted_scene(s, site, T0 + timedelta(days=10 * k), 0.5, count, key=k)
    h = build_report_data(db, "mixed").headline
    assert h.latest is not None and h.latest.method == "objects" and h.current == 9.0
    assert h.record == 12.0 and h.no_record == ""


def test_the_baseline_says_why_there_is_none() -> None:
    """The headline's "Baseline" was a bare dash too; it says how many earlier days were
    counted and how many a baseline needs, or how far back they go. The reason's rule is
    the baseline's own: 4 earlier days give none, 5 give one."""
    from railwatch.report.data import baseline_track_of, no_headline_baseline_reason

    def reason(rows: list[SceneRow]) -> str:
        return no_headline_baseline_reason(rows, rows[-1])

    latest = row(9, 100, 7.0)
    assert reason([latest]) == "no earlier days with a count; a baseline needs 5"
    assert reason([row(1, 90, 5.0), latest]) == (
        "only 1 earlier day with a count; a baseline needs 5"
    )
    four = [row(k, 10 * k, 5.0) for k in range(4)] + [row(4, 45, 6.0)]
    assert baseline_track_of(four, "objects")[-1].centre is None
    assert reason(four) == "only 4 earlier days with a count; a baseline needs 5"
    five = [row(k, 10 * k, 5.0) for k in range(5)] + [row(5, 55, 6.0)]
    assert baseline_track_of(five, "objects")[-1].centre is not None
    old = [row(k, k, 5.0) for k in range(5)] + [row(5, 400, 6.0)]
    assert baseline_track_of(old, "objects")[-1].centre is None
    assert reason(old) == (
        f"the 5 latest earlier days with a count go back to {old[0].day}, over 240 days before it"
    )
    mixed = [row(1, 90, 30.0, method="length"), row(2, 95, 5.0), latest]
    assert reason(mixed) == "only 1 earlier day counted this way; a baseline needs 5"
