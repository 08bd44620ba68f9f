"""The report builder on a small hand-populated database (tests/report_db.py)."""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from railwatch.errors import InputError, NotFoundError
from railwatch.report import build_report, build_report_data
from railwatch.report.builder import choose_before
from railwatch.report.model import ReportData
from railwatch.storage import Database
from report_db import T0, populate


@pytest.fixture(scope="module")
def populated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Database, dict[str, Any], Path]:
    tmp = tmp_path_factory.mktemp("report")
    db = Database(f"sqlite:///{tmp / 'rw.db'}")
    info = populate(db, tmp / "scenes")
    return db, info, tmp


@pytest.fixture(scope="module")
def data(populated: tuple[Database, dict[str, Any], Path]) -> ReportData:
    db, _, _ = populated
    return build_report_data(db, "testyard")


def test_headline_states_count_record_and_alert(data: ReportData) -> None:
    h = data.headline
    assert h.latest is not None and h.latest.when == T0 + timedelta(days=390)
    assert h.current == 18 and (h.current_low, h.current_high) == (17, 19)
    assert h.record == 8  # highest earlier count
    assert h.baseline is not None and 5 <= h.baseline <= 8
    assert "2.2x the record of 8" in h.summary


def test_rows_keep_unusable_images_as_gaps(data: ReportData) -> None:
    assert len(data.scenes) == 15
    unusable = [r for r in data.scenes if not r.usable]
    assert len(unusable) == 2
    assert all(r.total is None and r.reasons for r in unusable)
    assert data.classes == ("boxcar", "gondola", "tank")
    last = data.scenes[-1]
    assert last.by_class == {"boxcar": 6.0, "gondola": 6.0, "tank": 6.0} and last.covered == 6


def test_baseline_uses_only_earlier_images(data: ReportData) -> None:
    counted = [r for r in data.scenes if r.counted]
    assert [b.when for b in data.baseline] == [r.when for r in counted]
    assert data.baseline[0].record is None  # nothing before the first image
    assert data.baseline[-1].record == 8  # the jump to 18 is not its own record
    assert data.baseline[-1].high is not None and data.baseline[-1].high < 18


def test_evidence_pairs_alert_with_a_before_image_near_baseline(data: ReportData) -> None:
    (ev,) = data.evidence
    assert ev.after is not None and ev.before is not None
    assert ev.after_row is not None and ev.after_row.total == 18
    assert ev.before_row is not None and ev.before_row.when < ev.after_row.when
    assert ev.before_row.total is not None and abs(ev.before_row.total - 6.5) <= 3
    # same grid, same extent: the chips are aligned by construction
    assert ev.before.window == ev.after.window and ev.before.transform == ev.after.transform
    assert ev.before.image.shape == ev.after.image.shape
    assert len(ev.after.detections) == 18 and len(ev.before.detections) == ev.before_row.total
    assert sum(d.covered for d in ev.after.detections) == 6
    # detections land on the drawn cars: the first car starts 60 m from the image's west edge
    gsd = ev.after.gsd
    assert ev.after.transform is not None
    xs = [ev.after.transform.c + d.box.cx * gsd for d in ev.after.detections]
    assert min(xs) == pytest.approx(550_000 + 60 + 7, abs=1.0)
    assert ev.shift_m is not None and ev.shift_m < 1.0  # the test images are co-registered
    assert any("Date" not in c for c in ev.after.caption)
    assert "count 18 [17–19] · covered 6" in ev.after.caption


def test_caveats_come_from_the_data(data: ReportData) -> None:
    text = "\n".join(data.caveats)
    assert "contents cannot be identified for 6 of 18 cars" in text
    assert "2 of 15 images could not be counted (cloud 2)" in text
    assert "individual cars detected: 13" in text
    assert "agree to within one pixel" in text
    assert "1 of 13 counts come from images coarser than 1 m" not in text  # 1.0 m is not coarser


def test_method_names_detector_and_thresholds(data: ReportData) -> None:
    method = dict(data.method)
    assert method["detector"] == "test-detector 1.0"
    assert "record_years=5" in method["alert thresholds"]
    assert method["usable image"].endswith(">= 0.8")


def test_html_is_self_contained(populated: tuple[Database, dict[str, Any], Path]) -> None:
    db, _, tmp = populated
    out = build_report(db, "testyard", tmp / "out" / "report.html", pdf=True)
    html = out.read_text(encoding="utf-8")
    refs = re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)""", html)
    assert refs and all(r.startswith(("data:", "#")) for r in refs)
    assert "url(" not in html and "@import" not in html and "<script" not in html
    assert html.count('src="data:image/svg+xml;base64,') == 1
    assert html.count('src="data:image/jpeg;base64,') == 1
    for needle in (
        "testyard",
        "2.2x the record of 8",
        "Summit",
        "Caveats",
        "Method",
        "no: cloud 70% of the site",
        "18 [17–19]",
    ):
        assert needle in html
    assert html.count("<tr class=") == 15
    pdf = out.with_suffix(".pdf").read_bytes()
    assert pdf.startswith(b"%PDF")
    assert len(re.findall(rb"/Type\s*/Page\b", pdf)) == 4  # headline, alert, table, caveats


@pytest.mark.parametrize("sentences", [1, 4, 8])
def test_pdf_first_page_headline_never_covers_the_facts(data: ReportData, sentences: int) -> None:
    """The demo's four-line headline ran over the facts below it (latest image, current
    count, previous record) on the PDF's first page."""
    import dataclasses

    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from railwatch.report.pdf import _first_page

    summary = " ".join(
        ["Most significant recent alert (record, high): 53 tank cars against a record of 6."]
        * (2 * sentences)
    )
    fig = _first_page(dataclasses.replace(data, headline=dataclasses.replace(
        data.headline, summary=summary)))  # fmt: skip
    renderer = FigureCanvasAgg(fig).get_renderer()
    texts = {t.get_text(): t.get_window_extent(renderer) for t in fig.texts}
    head = next(box for text, box in texts.items() if text.startswith("Most significant"))
    facts = [box for text, box in texts.items() if text in ("LATEST USABLE IMAGE", "BASELINE")]
    assert len(facts) == 2 and all(head.y0 > box.y1 for box in facts)
    chart = fig.axes[0].get_window_extent(renderer)
    values = [box for text, box in texts.items() if " usable of " in text]  # a fact's value
    assert values and chart.y1 < min(box.y0 for box in values)


def test_pdf_lists_alerts_without_images_several_to_a_page(
    data: ReportData, tmp_path: Path
) -> None:
    """Each alert without images had a page of its own with one paragraph (84 of the
    demo's 98 pages); they are now listed, newest first, each once, several to a page."""
    import dataclasses

    from railwatch.report.model import AlertRow, Evidence
    from railwatch.report.pdf import _alert_list_pages, write_pdf

    extra = [
        Evidence(
            alert=AlertRow(f"x{i}", "record", "info", T0 - timedelta(days=i), "tank", 3.0,
                           f"explanation number {i:03d} " + "of a tank record " * 12),
            after=None, before=None,
            notes=("Images are shown for the 10 most severe alerts only.",),
        )
        for i in range(40)
    ]  # fmt: skip
    pages = _alert_list_pages(data, extra)
    assert 1 < len(pages) < 10
    text = "\n".join(t.get_text() for fig in pages for t in fig.texts)
    assert re.findall(r"explanation number (\d{3})", text) == [f"{i:03d}" for i in range(40)]
    assert "info · record · tank" in text and "10 most severe alerts only" not in text
    pdf = write_pdf(
        dataclasses.replace(data, evidence=(*data.evidence, *extra)), tmp_path / "r.pdf"
    )
    pages_in_pdf = len(re.findall(rb"/Type\s*/Page\b", pdf.read_bytes()))
    assert pages_in_pdf == 4 + len(pages)  # headline, the alert with images, table, caveats


def test_html_says_once_that_images_are_for_the_most_severe_alerts(data: ReportData) -> None:
    """The note was repeated under every alert without images (84 times on the demo)."""
    import dataclasses

    from railwatch.report.html import render_html
    from railwatch.report.model import AlertRow, Evidence

    note = "Images are shown for the 10 most severe alerts only."
    extra = tuple(
        Evidence(
            alert=AlertRow(f"x{i}", "record", "info", T0 - timedelta(days=i), "tank", 3.0, "x"),
            after=None, before=None, notes=(note, f"own note {i}"),
        )
        for i in range(5)
    )  # fmt: skip
    page = render_html(dataclasses.replace(data, evidence=(*data.evidence, *extra)))
    assert page.count(note) == 1
    assert all(f"own note {i}" in page for i in range(5))  # other notes stay with their alert


def test_period_filter(populated: tuple[Database, dict[str, Any], Path]) -> None:
    db, _, _ = populated
    d = build_report_data(db, "testyard", date_from=date(2022, 3, 1), date_to=date(2022, 12, 31))
    assert all(date(2022, 3, 1) <= r.when.date() <= date(2022, 12, 31) for r in d.scenes)
    assert d.alerts == () and d.evidence == ()
    assert d.events == ()  # the event is in 2023
    assert "No alert in this period" in d.headline.summary
    # baselines still use the history before the period
    assert d.baseline[0].record is not None
    with pytest.raises(InputError):
        build_report_data(db, "testyard", date_from=date(2023, 1, 1), date_to=date(2022, 1, 1))


def test_unknown_site(populated: tuple[Database, dict[str, Any], Path]) -> None:
    db, _, tmp = populated
    with pytest.raises(NotFoundError):
        build_report(db, "nowhere", tmp / "x.html")


def test_choose_before_prefers_images_near_the_baseline(data: ReportData) -> None:
    rows = list(data.scenes)
    after = rows[-1]
    before, near = choose_before(rows, after)
    assert near and before is not None and before.when < after.when
    first = next(r for r in rows if r.counted)
    assert choose_before(rows, first) == (None, False)


def test_missing_image_is_reported_not_fatal(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'rw.db'}")
    populate(db, tmp_path / "scenes")
    for p in sorted((tmp_path / "scenes").glob("scene_13.tif")):
        p.unlink()  # the before image
    d = build_report_data(db, "testyard")
    (ev,) = d.evidence
    assert ev.after is not None and ev.before is None
    assert any("could not be read" in n for n in ev.notes)


def test_alerts_on_the_same_image_share_one_picture(tmp_path: Path) -> None:
    from railwatch.analysis.types import Alert
    from railwatch.storage import repo

    db = Database(f"sqlite:///{tmp_path / 'rw.db'}")
    info = populate(db, tmp_path / "scenes")
    last = info["scene_ids"][-1]
    when = T0 + timedelta(days=390)
    alerts = [
        Alert("a-record", "record", "high", when, "all", 18.0, "record text", scene_id=last),
        Alert("a-spike", "spike", "medium", when, "all", 18.0, "spike text", scene_id=last),
    ]
    with db.session() as s:
        repo.replace_alerts(s, "testyard", alerts)
    out = build_report(db, "testyard", tmp_path / "r.html")
    html = out.read_text(encoding="utf-8")
    assert html.count('src="data:image/jpeg;base64,') == 1
    assert "Same images as" in html and 'href="#alert-' in html
    assert "record text" in html and "spike text" in html


def test_site_without_images(tmp_path: Path) -> None:
    from railwatch.sites import site_from_bbox
    from railwatch.storage import repo

    db = Database(f"sqlite:///{tmp_path / 'rw.db'}")
    with db.session() as s:
        repo.add_site(s, site_from_bbox("empty", "130.60,42.41,130.61,42.42"))
    out = build_report(db, "empty", tmp_path / "e.html", pdf=True)
    html = out.read_text(encoding="utf-8")
    assert "No usable image of empty in this period" in html
    assert "No alert in this period." in html
    assert out.with_suffix(".pdf").read_bytes().startswith(b"%PDF")


def _alerts_on_two_images(db: Database, info: dict[str, Any]) -> None:
    """An older high alert of the total, and three alerts of the newest image: an info one
    on the total and two of single classes whose keys sort before it."""
    from railwatch.analysis.types import Alert
    from railwatch.storage import repo

    last, prev = info["scene_ids"][-1], info["scene_ids"][-2]
    new, old = T0 + timedelta(days=390), T0 + timedelta(days=360)
    alerts = [
        Alert("a-old", "shift", "high", old, "all", 7.0, "old total shift", scene_id=prev),
        Alert("b-info", "record", "info", new, "all", 18.0, "total record", scene_id=last),
        Alert("a-tank", "spike", "high", new, "tank", 6.0, "tank spike", scene_id=last),
        Alert("a-gon", "shift", "medium", new, "gondola", 6.0, "gondola shift", scene_id=last),
    ]
    with db.session() as s:
        repo.replace_alerts(s, "testyard", alerts)


def test_alerts_are_listed_newest_first_across_classes(tmp_path: Path) -> None:
    """Newest first whatever the class; alerts of one image by severity, the site total
    before a class of the same severity. Before, alerts of one image followed their keys'
    text (here: the info record of the total above the tank's high spike)."""
    db = Database(f"sqlite:///{tmp_path / 'rw.db'}")
    info = populate(db, tmp_path / "scenes")
    _alerts_on_two_images(db, info)
    d = build_report_data(db, "testyard")
    assert [e.alert.explanation for e in d.evidence] == [
        "tank spike", "gondola shift", "total record", "old total shift"
    ]  # fmt: skip


def test_pdf_alert_pages_follow_the_html_order(
    data: ReportData, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The PDF put the pages of the alerts with images (the most severe) first and the
    other alerts after them, so a newer alert without images (the latest image's) came
    after every older alert with images. Now its pages follow the HTML's order: newest
    first, alerts without images between them, several to a page."""
    import dataclasses

    from railwatch.report import pdf as pdf_mod
    from railwatch.report.model import AlertRow, Evidence

    def extra(day: int, text: str) -> Evidence:
        when = T0 + timedelta(days=day)
        return Evidence(AlertRow(text, "record", "info", when, "tank", 3.0, text), None, None)

    (shown,) = data.evidence
    assert shown.after is not None and shown.alert.when == T0 + timedelta(days=390)
    evidence = (extra(400, "newer"), shown, extra(380, "older"), extra(370, "oldest"))
    subtitles: list[str] = []

    class Pages:  # records each page's subtitle instead of writing a PDF
        def __init__(self, *_: object, **__: object) -> None:
            pass

        def __enter__(self) -> Pages:
            return self

        def __exit__(self, *_: object) -> None:
            pass

        def savefig(self, fig: Any) -> None:
            subtitles.append(fig.texts[1].get_text())
            texts.append("\n".join(t.get_text() for t in fig.texts))

    texts: list[str] = []
    monkeypatch.setattr(pdf_mod, "PdfPages", Pages)
    pdf_mod.write_pdf(dataclasses.replace(data, evidence=evidence), tmp_path / "r.pdf")
    # the newer alert above it and the two older below it on its page, in this order
    # (since session 39; each run had a page of its own: tests/test_report_alert_pages_s39.py)
    assert subtitles[1].startswith("Alert: record · high")
    page = texts[1]
    assert "Alerts without images, newest first: 1 of 3" in page
    assert "Alerts without images, newest first: 2–3 of 3" in page
    order = ["newer", shown.alert.explanation[:20], "older", "oldest"]
    assert [page.index(t) for t in order] == sorted(page.index(t) for t in order)
    assert subtitles[2].startswith("Images")


def test_pdf_alert_page_names_the_class(data: ReportData) -> None:
    """An alert page's title was 'Alert: record · high · 2024-04-05' for a gondola record
    as for one of the site total: the class was in neither the title nor (always) the
    explanation. The list pages and the HTML name it."""
    import dataclasses

    from railwatch.report.pdf import _evidence_page

    (ev,) = data.evidence
    gondola = dataclasses.replace(ev, alert=dataclasses.replace(ev.alert, cls="gondola"))
    titles = [_evidence_page(data, e).texts[1].get_text() for e in (ev, gondola)]
    assert titles[0].endswith(" · site total") and titles[1].endswith(" · gondola")


def test_repeats_of_the_total_are_counted_and_said(tmp_path: Path) -> None:
    """A class alert that repeats the total's (same kind, image and value) is not listed;
    the report said nothing of it, so its 'Alerts in period' (104 on the demo) did not
    match `railwatch alerts` or the site list (115)."""
    from railwatch.analysis.types import Alert
    from railwatch.report.html import render_html
    from railwatch.storage import repo

    db = Database(f"sqlite:///{tmp_path / 'rw.db'}")
    info = populate(db, tmp_path / "scenes")
    last, when = info["scene_ids"][-1], T0 + timedelta(days=390)
    alerts = [
        Alert("record:all", "record", "high", when, "all", 18.0, "total", scene_id=last),
        Alert("record:tank", "record", "high", when, "tank", 18.0, "echo", scene_id=last),
        Alert("spike:tank", "spike", "low", when, "tank", 6.0, "own", scene_id=last),
    ]
    with db.session() as s:
        repo.replace_alerts(s, "testyard", alerts)
    d = build_report_data(db, "testyard")
    assert len(d.alerts) == 2 and d.repeats == 1
    text = " ".join(re.sub(r"<[^>]+>", " ", render_html(d)).split())
    assert "Alerts in period 2 (+1 repeating the total on one class, not listed)" in text
    assert "1 alert of a single class repeats the site total's" in text
    assert "railwatch alerts testyard" in text


def test_html_alert_headings_name_the_series(data: ReportData) -> None:
    """The HTML's alert headings named a class but said nothing for the site total, so a
    heading without a class read as 'unknown'; the PDF's say 'site total' (2779051)."""
    import dataclasses

    from railwatch.report.html import render_html

    (ev,) = data.evidence
    gondola = dataclasses.replace(ev, alert=dataclasses.replace(ev.alert, cls="gondola"))
    html = render_html(dataclasses.replace(data, evidence=(ev, gondola)))
    day = ev.alert.when.strftime("%Y-%m-%d")
    assert f"{ev.alert.kind} · {day} · site total</h3>" in html
    assert f"{ev.alert.kind} · {day} · gondola</h3>" in html


def test_choose_before_for_a_class_alert_reads_that_class() -> None:
    """A tank record is shown beside an image with a normal number of tanks, not one
    whose total was normal (on the demo the 55-tank record of 2024-06-07 was shown
    beside an image of 32 tanks and a normal total)."""
    from datetime import UTC, datetime

    from railwatch.report.model import SceneRow

    t0 = datetime(2023, 1, 1, tzinfo=UTC)

    def row(k: int, total: float, tanks: float, day: int, method: str = "objects") -> SceneRow:
        return SceneRow(
            scene_id=k, when=t0 + timedelta(days=day), sensor=None, gsd=0.5, usable=True,
            total=total, by_class={"tank": tanks, "boxcar": total - tanks}, method=method,
        )  # fmt: skip

    rows = [row(k, 100.0, 10.0 + (k % 3), 10 * k) for k in range(8)]
    rows.append(row(8, 100.0, 32.0, 80))  # a normal total, a third of it tanks
    after = row(9, 120.0, 55.0, 90)
    by_total, _ = choose_before([*rows, after], after)
    assert by_total is not None and by_total.scene_id == 8
    by_tank, near = choose_before([*rows, after], after, cls="tank")
    assert near and by_tank is not None and by_tank.scene_id == 7
    # a 3 m image tells no type: never the "before" of a type's alert
    coarse = row(20, 100.0, 11.0, 85, method="length")
    by_tank, _ = choose_before([*rows, coarse, after], after, cls="tank")
    assert by_tank is not None and by_tank.scene_id == 7
    # nor of a total counted car by car: its car equivalents are on another scale, and
    # the alerts judge an image against earlier counts of its own method only (s28)
    by_total, _ = choose_before([*rows, coarse, after], after)
    assert by_total is not None and by_total.scene_id == 8


def test_unreadable_image_note_names_the_file_not_its_folders(tmp_path: Path) -> None:
    """A report is shared (one built by the web API may be read by anyone): the note for
    an image that cannot be read quoted GDAL's message with the image's full path."""
    db = Database(f"sqlite:///{tmp_path / 'rw.db'}")
    folder = tmp_path / "Jane Doe" / "scenes"
    populate(db, folder)
    (folder / "scene_13.tif").write_bytes(b"not a GeoTIFF at all" * 50)  # the before image
    d = build_report_data(db, "testyard")
    (ev,) = d.evidence
    (note,) = [n for n in ev.notes if "could not be read" in n]
    assert "scene_13.tif" in note
    assert "Jane Doe" not in note and str(tmp_path) not in note
