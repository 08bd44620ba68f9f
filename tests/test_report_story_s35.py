"""Which alerts a report shows with images (session 35's audit of the reports).

The demo's report gave its 10 image pairs to the newest high alerts, which were records
of tanks and covered cars in 2024: the rise's first record alarm (2023-09-20), its
shift, and the 68 cars of 2023-10-05 against a record of 15 (the analysts' Tumangang
story) were folded away among 53 alerts without images.
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import numpy as np
import pytest
from matplotlib.figure import Figure
from matplotlib.patches import Polygon as PolygonPatch
from matplotlib.text import Annotation

from railwatch.analysis.types import Alert
from railwatch.detect.base import Detection, OrientedBox
from railwatch.report import build_report_data
from railwatch.report.builder import _headline, choose_before
from railwatch.report.caveats import build_caveats, reason_kind
from railwatch.report.charts import timeseries_figure
from railwatch.report.chips import chip_figure, pair_figure
from railwatch.report.data import baseline_track
from railwatch.report.html import render_html
from railwatch.report.model import ChipImage, ReportData, SceneRow
from railwatch.report.pdf import TEXT_LINES_PER_PAGE, _evidence_page, _first_page, _text_pages
from railwatch.storage import Database, repo
from report_db import PLANS, SITE_NAME, T0
from report_db import populate as populate_db


def _alert(key: str, kind: str, cls: str, scene_id: int, day: int) -> Alert:
    return Alert(
        key=key,
        kind=kind,
        severity="high",
        when=T0 + timedelta(days=day),
        cls=cls,
        value=1.0,
        explanation=f"{kind} of {cls} ({key}).",
        scene_id=scene_id,
    )


@pytest.fixture(scope="module")
def story_db(tmp_path_factory: pytest.TempPathFactory) -> Database:
    """The test site with high alerts: a record and a shift of the site total on one
    older image, a record of the total on another, and newer records of single classes
    on the three latest images."""
    tmp = tmp_path_factory.mktemp("story")
    db = Database(f"sqlite:///{tmp / 'rw.db'}")
    info = populate_db(db, tmp / "scenes", with_alert=False)
    counted = [(sid, p.day) for sid, p in zip(info["scene_ids"], PLANS, strict=True) if p.usable]
    alerts = [
        _alert("total-record-old", "record", "all", *counted[-6]),
        _alert("total-record", "record", "all", *counted[-5]),
        _alert("total-shift", "shift", "all", *counted[-5]),
        _alert("tank-record-1", "record", "tank", *counted[-3]),
        _alert("tank-record-2", "record", "tank", *counted[-2]),
        _alert("hopper-record", "record", "hopper", *counted[-1]),
    ]
    with db.session() as s:
        repo.replace_alerts(s, repo.get_site(s, SITE_NAME), alerts)
    return db


def _with_images(data: ReportData) -> set[str]:
    return {ev.alert.key for ev in data.evidence if ev.after is not None}


def test_the_site_totals_alerts_take_the_images_before_newer_ones_of_single_classes(
    story_db: Database,
) -> None:
    data = build_report_data(story_db, SITE_NAME, max_evidence=2)
    # before: the two newest (hopper-record, tank-record-2), every total's alert without
    assert _with_images(data) == {"total-record-old", "total-record", "total-shift"}
    page = render_html(data)
    assert "record of all (total-record)" in page
    # 3 alerts on 2 pairs of images (the total's record and shift share one): the note
    # counts the alerts, as the PDF does (session 38; it said "the 2 most severe")
    assert page.count("Images are shown for the 3 most severe alerts above info only.") == 1


def test_alerts_on_the_same_images_take_one_pair(story_db: Database) -> None:
    """The record and the shift of one image share their images (the HTML says "Same
    images as the alert above"): they take one of the pairs, not two."""
    data = build_report_data(story_db, SITE_NAME, max_evidence=3)
    assert _with_images(data) == {
        "total-record-old",
        "total-record",
        "total-shift",
        "hopper-record",  # the newest of the classes'
    }
    shift = next(ev for ev in data.evidence if ev.alert.key == "total-shift")
    record = next(ev for ev in data.evidence if ev.alert.key == "total-record")
    assert shift.after is record.after and shift.before is record.before
    assert "Same images as" in render_html(data)


def test_every_alert_above_info_has_images_when_there_are_pairs_enough(
    story_db: Database,
) -> None:
    data = build_report_data(story_db, SITE_NAME)
    assert len(_with_images(data)) == 6
    assert "Images are shown for alerts above info only." not in render_html(data)


def _row(k: int, total: float, day: int) -> SceneRow:
    return SceneRow(
        scene_id=k,
        when=T0 + timedelta(days=day),
        sensor=None,
        gsd=0.5,
        usable=True,
        total=total,
        method="objects",
    )


def test_the_before_image_of_a_rise_is_one_from_before_it() -> None:
    """As on the demo (13 cars in summer, then 17, 30 and 44, and a record of 68 on
    2023-10-05): 6 to 10 cars for months, then 12, 30 and 44, and a record of 68. The 12
    cars of the rise's first image were within one spread of the baseline at the record,
    which the rise had lifted (9 ± 3.1), and were shown as its usual state, though above
    the baseline of their own day (8 ± 2.9)."""
    rows = [_row(k, 8.0 + (k % 5) - 2, 7 * k) for k in range(20)]  # 6 to 10 cars
    rise = [_row(20, 12.0, 140), _row(21, 30.0, 142), _row(22, 44.0, 147)]
    after = _row(23, 68.0, 157)
    before, near = choose_before([*rows, *rise, after], after)
    assert before is not None and near
    assert before.scene_id == 19  # the last image before the rise (10 cars)
    # an image usual in its time stays the before image (the pair of 2024-06 on the demo)
    usual = [*rows, _row(20, 9.0, 140)]
    before, near = choose_before([*usual, after], after)
    assert before is not None and before.scene_id == 20 and near


#: Four of the demo's unusable images, each with a second, smaller reason.
DEMO_UNUSABLE = (
    (
        "only 27 % of the site is covered by the image",
        "cloud covers 5 % of the site",
        "only 21 % of the site is clear (needs 80 %)",
    ),
    (
        "only 50 % of the site is covered by the image",
        "haze covers 2 % of the site",
        "only 48 % of the site is clear (needs 80 %)",
    ),
    (
        "haze covers 89 % of the site",
        "cloud covers 2 % of the site",
        "only 9 % of the site is clear (needs 80 %)",
        "resolution 3.0 m: cars are not separable, counts come from occupied track length",
    ),
    (
        "haze covers 90 % of the site",
        "cloud covers 5 % of the site",
        "only 5 % of the site is clear (needs 80 %)",
    ),
)


def test_an_unusable_image_is_counted_under_its_largest_cause() -> None:
    """The caveat said "cloud" for an image 89 % under haze with 2 % cloud, and for one
    73 % outside the image with 5 % cloud: the demo's caveat read cloud 27, haze 11,
    partial coverage 10 where the demo's summary read 24, 12 and 12."""
    kinds = [reason_kind(r) for r in DEMO_UNUSABLE]
    assert kinds == ["partial coverage", "partial coverage", "haze", "haze"]
    rows = [
        SceneRow(k, T0 + timedelta(days=k), "S", 0.5, usable=False, reasons=r)
        for k, r in enumerate(DEMO_UNUSABLE)
    ]
    caveats = build_caveats(rows)
    assert "4 of 4 images could not be counted (partial coverage 2, haze 2)" in caveats[0]
    # one cause, or none measured, as before
    assert reason_kind(("cloud and cloud shadow cover 86 % of the site",)) == "cloud"
    assert reason_kind(("snow covers 40 % of the site",)) == "snow"
    assert reason_kind(("processing failed: cloud 40 % unreadable",)) == "processing failed"
    assert reason_kind(("not processed yet",)) == "not processed"
    assert reason_kind(("no data over the site",)) == "no data"
    assert reason_kind(()) == "unusable"


def _yard_chip() -> ChipImage:
    """A chip as wide as the demo's (1400 px at 0.57 m, 800 m): three strings of 25 cars
    of 14 x 3.2 m, 1 m apart."""
    gsd = 0.57
    cars = tuple(
        Detection(
            OrientedBox(100 + k * 15 / gsd, 200 + row * 40, 14 / gsd, 3.2 / gsd, 0.0),
            cls="railcar",
            score=0.9,
        )
        for row in range(3)
        for k in range(25)
    )
    image = np.full((600, 1400, 3), 120, dtype=np.uint8)
    return ChipImage(image, gsd, cars, "Alert image", ("caption",), (0, 600, 0, 1400))


def _outline_widths(fig: Figure) -> list[float]:
    return [
        float(p.get_linewidth())
        for ax in fig.axes
        for p in ax.patches
        if isinstance(p, PolygonPatch)
    ]


def test_the_pdfs_car_outlines_are_thin_enough_to_show_each_car(story_db: Database) -> None:
    """On a PDF page a chip of 800 m is about 5 inches wide: a car 3.2 m wide is 1.5 pt
    and the gap to the next 0.5 pt, and the 1.2 pt outlines made each string of cars one
    bar of colour at any zoom. The HTML's JPEG keeps them (thinner lines fade there)."""
    data = build_report_data(story_db, SITE_NAME)
    ev = next(e for e in data.evidence if e.after is not None)
    chip = _yard_chip()
    page = _evidence_page(data, dataclasses.replace(ev, before=chip, after=chip))
    widths = _outline_widths(page)
    assert len(widths) == 150
    (ax, *_) = [a for a in page.axes if a.patches]
    box = ax.get_position()
    car_pt = 3.2 / 0.57 * 72.0 * box.width * page.get_figwidth() / 1400
    assert car_pt < 2.0  # the page's scale, as on the demo
    assert all(0.3 <= w <= 0.25 * car_pt + 1e-9 for w in widths), (widths[0], car_pt)
    # the HTML's pictures as before
    assert set(_outline_widths(pair_figure(chip, chip))) == {1.2}
    assert set(_outline_widths(chip_figure(chip))) == {1.2}


def test_the_headline_gives_the_latest_images_quality_and_covered_share(
    story_db: Database,
) -> None:
    """The first page gave the latest usable image's date, sensor and GSD, but not how
    clear it was nor how many of its cars were under tarpaulins."""
    data = build_report_data(story_db, SITE_NAME)
    latest = data.headline.latest
    assert latest is not None and latest.total == 18 and latest.covered == 6
    page = " ".join(render_html(data).split())
    assert "0.5 m <small" in page and "(clear 97 % · coverage 100 %)" in page
    # "· 6 covered (33 %)" as the PDF gives it (session 45: "(6 covered (33 %))" nested
    # its brackets)
    assert "18 [17–19] <small" in page and "· 6 covered (33 %)</small>" in page
    first = _first_page(data)
    pdf_text = " ".join(t.get_text() for t in first.texts)
    (quality,) = [a for a in first.artists if isinstance(a, Annotation)]
    assert quality.get_text() == "(clear 97 %, coverage 100 %)"
    assert quality.xycoords is next(t for t in first.texts if t.get_text() == "LATEST USABLE IMAGE")
    assert "18 [17–19] · 6 covered (33 %)" in pdf_text


def test_the_record_line_of_a_rise_is_the_record_its_alerts_compare_with() -> None:
    """6 to 10 cars for a year (record 10), then 14, 30, 44 and 68 cars in three weeks:
    each is a record alert "against a 5-year record of 10", but the chart's trailing
    record climbed with the rise (44 under the 68, as on the demo's 2023-10-05, 4.5x a
    record of 15 by its alert), and the headline's previous record said 44 alone."""
    rows = [_row(k, 8.0 + (k % 5) - 2, 7 * k) for k in range(55)]  # days 0-378
    rise = [_row(60 + k, n, 400 + 7 * k) for k, n in enumerate((14.0, 30.0, 44.0, 68.0))]
    after = [_row(70, 50.0, 440), _row(71, 20.0, 520)]  # 99 days after the last record
    track = baseline_track([*rows, *rise, *after])
    by_id = dict(zip([r.scene_id for r in [*rows, *rise, *after]], track, strict=True))
    assert [by_id[60 + k].record for k in range(4)] == [10.0, 14.0, 30.0, 44.0]
    assert [by_id[60 + k].record_line for k in range(4)] == [10.0] * 4
    assert by_id[70].record_line == 10.0  # the rise may go on: its next record is judged so
    assert by_id[71].record_line == by_id[71].record == 68.0  # over: the trailing record
    # the chart draws it
    fig = timeseries_figure([*rows, *rise, *after], track)
    (line,) = [ln for ln in fig.axes[0].lines if ln.get_label() == "trailing record"]
    drawn = np.asarray(line.get_ydata(), dtype=float).tolist()
    assert 10.0 in drawn and not {14.0, 30.0, 44.0} & set(drawn)  # the rise's own highs
    # the headline gives both, at the latest image of the rise
    h = _headline(SITE_NAME, (None, None), [*rows, *rise], track[: len(rows) + 4], [])
    assert h.record == 44.0 and h.judged_record == 10.0
    assert h.record_words == "44 (10 before this rise)"
    # and one record for a latest image out of any rise
    h = _headline(SITE_NAME, (None, None), rows, track[: len(rows)], [])
    assert h.judged_record is None and h.record_words == "10"


def test_a_caveats_page_never_ends_on_a_heading(story_db: Database) -> None:
    """The demo's PDF ended a caveats page on the heading "Events", its event on the next
    page. However many caveats come before, a heading stands with its first item."""
    data = build_report_data(story_db, SITE_NAME)
    assert data.events and data.method
    for n in range(TEXT_LINES_PER_PAGE - 8, TEXT_LINES_PER_PAGE + 2):
        shown = dataclasses.replace(data, caveats=tuple(f"caveat {k}" for k in range(n)))
        for page in _text_pages(shown):
            body = max((t.get_text() for t in page.texts), key=len)
            last = body.rstrip().splitlines()[-1]
            assert last not in ("Caveats", "Events", "Method"), (n, body[-80:])
