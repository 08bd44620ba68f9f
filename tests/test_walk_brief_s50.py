"""An analyst's brief on the October 2023 rise at Tumangang, written from railwatch's
evidence alone (session 50, 2026-12-07). What the walk found in the report, each fixed and
checked here:

- the PDF stored each chip's picture at matplotlib's 100 dpi: the demo's chips of 1,400
  columns (0.65 m) were 515 pixels wide in the file (1.6 m a pixel) under a caption that
  said "shown at 0.65 m"; cars 2 pixels wide, the gaps between them gone, in print and
  zoomed in alike. A page with chips is now stored at the resolution that keeps each chip's
  own pixels, the pictures in 256 colours (stored indexed, a third of the bytes);
- the chart's legend drew the alert ring at its 15-point size in 10-point rows: over
  "no count for long (alert)" the two read as one red pin;
- a 1.5-10 m image's chip caption read "count 65.5 [38.3–126.7] · method length": now
  "count 65.5 [38.3–126.7] car equivalents · occupied track length / 14 m";
- the chart's caption called the baseline band the "median ± 2 robust spreads of the
  previous images" where it stood above every count of five years (a month's seasonal
  factor, 1.56 in August): it says the factor;
- the PDF's headline read "+1 class repeats".
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from matplotlib.lines import Line2D
from pypdf import PdfReader

import report_db
from railwatch.analysis.settings import AlertSettings
from railwatch.analysis.types import Alert
from railwatch.detect.base import OccupiedRun
from railwatch.report import build_report, build_report_data
from railwatch.report import pdf as pdf_mod
from railwatch.report.builder import _caption, _method
from railwatch.report.caveats import low_sun_caveat
from railwatch.report.charts import LEGEND_MARKER_MAX, SILENCE_LABEL, timeseries_figure
from railwatch.report.chips import palette_rgb
from railwatch.report.model import ReportData, SceneRow
from railwatch.storage import Database, repo


@pytest.fixture(scope="module")
def walked(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The test yard (tests/report_db.py) with a record alert and an ongoing silence, its
    report data, HTML and PDF, written once for the module."""
    tmp = tmp_path_factory.mktemp("walk_brief")
    db = Database(f"sqlite:///{tmp / 'rw.db'}")
    info = report_db.populate(db, tmp / "scenes")
    with db.session() as s:
        site = repo.get_site(s, report_db.SITE_NAME)
        last = report_db.T0 + timedelta(days=390)
        repo.replace_alerts(
            s,
            site,
            [
                Alert(
                    key="record-test",
                    kind="record",
                    severity="high",
                    when=last,
                    cls="all",
                    value=18.0,
                    explanation="18 railcars: 2.2x the record of 8 over the previous 1 year.",
                    metrics={"record": 8.0},
                    scene_id=info["scene_ids"][-1],
                ),
                Alert(
                    key="quality:all:last",
                    kind="quality",
                    severity="medium",
                    when=last + timedelta(days=60),
                    cls="all",
                    value=None,
                    explanation="No usable image of this site for 60 days.",
                    metrics={"ongoing": "yes"},
                ),
            ],
        )
    data = build_report_data(db, report_db.SITE_NAME)
    html = build_report(db, report_db.SITE_NAME, tmp / "r.html", pdf=True)
    yield {"db": db, "data": data, "html": html.read_text(), "pdf": html.with_suffix(".pdf")}
    db.engine.dispose()


def test_the_pdf_keeps_each_chips_own_pixels(walked: dict[str, Any]) -> None:
    data: ReportData = walked["data"]
    chips = [c for ev in data.evidence for c in (ev.after, ev.before) if c is not None]
    assert chips, "the test alert has images"
    columns = max(c.window[3] - c.window[2] for c in chips)
    reader = PdfReader(walked["pdf"])
    stored: list[tuple[int, Any]] = []
    for page in reader.pages:
        resources: Any = page["/Resources"].get_object()
        xobjects: Any = resources.get("/XObject")
        for ref in xobjects.get_object().values() if xobjects is not None else ():
            obj: Any = ref.get_object()
            if obj.get("/Subtype") == "/Image":  # the PDF's only pictures are chips
                stored.append((int(obj["/Width"]), obj["/ColorSpace"]))
    assert stored
    # at 100 dpi a chip drawn about 5 inches wide was stored about 515 pixels wide
    assert max(w for w, _ in stored) >= columns, (stored, columns)
    # in 256 colours, which matplotlib stores indexed (a third of the RGB bytes)
    assert all(isinstance(cs, list) and cs[0] == "/Indexed" for _, cs in stored), stored


def test_page_dpi_is_the_chips_own_and_100_without_chips(
    walked: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data: ReportData = walked["data"]
    first, *alert_pages = [pdf_mod._first_page(data), *pdf_mod._lone_and_alert_pages(data)]
    assert pdf_mod.page_dpi(first) == pdf_mod.PAGE_DPI  # the chart: no picture
    page = alert_pages[0]
    ax = next(a for a in page.axes if a.get_images())
    ax.apply_aspect()
    columns = ax.get_images()[0].get_array().shape[1]  # type: ignore[union-attr]
    width_in = ax.get_position().width * page.get_figwidth()
    assert pdf_mod.page_dpi(page) * width_in >= columns


def test_palette_keeps_small_saturated_colours() -> None:
    # a grey-beige field with a small orange patch (a container): median cut made it grey
    rng = np.random.default_rng(0)
    img = (np.full((200, 300, 3), (150, 140, 120)) + rng.normal(0, 20, (200, 300, 3))).clip(0, 255)
    img = img.astype(np.uint8)
    img[100:104, 100:112] = (230, 120, 20)
    out = palette_rgb(img)
    assert out.shape == img.shape and out.dtype == np.uint8
    assert len(np.unique(out.reshape(-1, 3), axis=0)) <= 256
    assert np.abs(out[100:104, 100:112].astype(int) - (230, 120, 20)).max() < 25


def test_the_legend_draws_alert_marks_no_larger_than_a_row(walked: dict[str, Any]) -> None:
    data: ReportData = walked["data"]
    fig = timeseries_figure(
        data.scenes, data.baseline, data.events, data.alerts, utc_offset=data.utc_offset
    )
    legend = fig.axes[0].get_legend()
    assert legend is not None
    labels = [t.get_text() for t in legend.get_texts()]
    assert "alert" in labels and f"{SILENCE_LABEL} (alert)" in labels, labels
    sizes = {
        label: max(
            (a.get_markersize() for a in handle.get_children() if isinstance(a, Line2D)),
            default=handle.get_markersize() if isinstance(handle, Line2D) else 0.0,
        )
        for label, handle in zip(labels, legend.legend_handles, strict=True)
        if handle is not None
    }
    # the ring was drawn at 15 points in a row of about 10: over the silence's triangle
    assert 0 < sizes["alert"] <= LEGEND_MARKER_MAX, sizes
    assert all(s <= LEGEND_MARKER_MAX for s in sizes.values()), sizes
    # the chart itself keeps its 15-point ring
    rings = [ln for ln in fig.axes[0].lines if ln.get_marker() == "o" and ln.get_markersize() == 15]
    assert rings


def _length_row(**kw: Any) -> SceneRow:
    base: dict[str, Any] = {
        "scene_id": 1,
        "when": datetime(2023, 11, 10, 2, 20, tzinfo=UTC),
        "sensor": "PlanetScope-sim",
        "gsd": 3.0,
        "usable": True,
        "clear_fraction": 1.0,
        "coverage": 1.0,
        "total": 65.5,
        "low": 38.3,
        "high": 126.7,
        "method": "length",
        "occupied": (OccupiedRun(((130.60, 42.42), (130.61, 42.42)), 820.0),),
    }
    return SceneRow(**{**base, **kw})


def test_a_length_chips_caption_names_its_unit_and_rule() -> None:
    lines = _caption(_length_row(), 3.0)
    count = lines[-1]
    assert count == "count 65.5 [38.3–126.7] car equivalents · occupied track length / 14 m"
    assert "method length" not in " ".join(lines)
    # a count of cars one by one reads as before
    cars = _caption(_length_row(method="objects", total=73.0, low=70.0, high=76.0), 0.5)
    assert cars[-1].startswith("count 73 [70–76]") and "car equivalents" not in cars[-1]


def test_the_baseline_caption_says_it_is_seasonal(walked: dict[str, Any]) -> None:
    data: ReportData = walked["data"]
    assert any(b.low is not None for b in data.baseline), "the test yard has a band"
    caption = " ".join(pdf_mod.chart_caption(data).split())
    assert "grey band: robust baseline (as the alerts judged each image, times the month's" in (
        caption
    ), caption
    html = " ".join(walked["html"].split())
    assert "times the month's seasonal factor once the site has a year of them" in html
    assert "median ± 2 robust spreads of the previous images)" not in html


def test_one_class_repeat_is_singular_in_the_pdf(walked: dict[str, Any]) -> None:
    data = dataclasses.replace(walked["data"], repeats=1)
    texts = " ".join(t.get_text() for t in pdf_mod._first_page(data).texts)
    assert "(+1 class repeat, not listed)" in texts, texts
    data = dataclasses.replace(walked["data"], repeats=2)
    texts = " ".join(t.get_text() for t in pdf_mod._first_page(data).texts)
    assert "(+2 class repeats, not listed)" in texts


def test_low_sun_days_are_listed_with_errors_some() -> None:
    rows = [
        _length_row(
            scene_id=i,
            when=datetime(2023, 1, 1 + i, 2, 0, tzinfo=UTC),
            method="objects",
            sun_elevation=12.0,
        )
        for i in range(7)
    ]
    text = low_sun_caveat(rows)
    assert text is not None
    assert "(2023-01-01 (12.0°), 2023-01-02 (12.0°), 2023-01-03 (12.0°), " in text
    assert "2023-01-05 (12.0°) and 2 more): " in text
    text = low_sun_caveat(rows[:2])
    assert text is not None and "(2023-01-01 (12.0°), 2023-01-02 (12.0°)): " in text


def test_the_method_section_says_what_each_count_method_is(walked: dict[str, Any]) -> None:
    method = dict(walked["data"].method)
    # it read "count methods: objects" ("length, objects" on the demo)
    assert method["count methods"] == (
        "objects: cars detected one by one in 0.3–1.5 m imagery (13 images)"
    ), method
    assert (
        "times the month's seasonal factor once the site has a year of images"
        in (method["baseline"])
    )
    rows = [
        _length_row(scene_id=1),
        _length_row(scene_id=2),
        _length_row(scene_id=3, method="objects", gsd=0.5),
    ]
    words = dict(_method(rows, AlertSettings(), 0.8))["count methods"]
    assert words == (
        "length: car equivalents from occupied track length in 1.5–10 m imagery, "
        "length / 14 m (2 images); objects: cars detected one by one in 0.3–1.5 m imagery "
        "(1 image)"
    ), words


def test_the_charts_captions_name_the_seasonal_setting(walked: dict[str, Any]) -> None:
    """The PDF chart's caption said "times the month's seasonal factor" with no
    condition and the HTML's "once the site has a year of them" whatever
    ``seasonal_min_years`` was, while the method section read the setting (review of
    session 50)."""
    from railwatch.analysis.settings import AlertSettings
    from railwatch.report.builder import seasonal_from
    from railwatch.report.html import render_html

    assert seasonal_from(AlertSettings()) == "a year"
    assert seasonal_from(AlertSettings(seasonal_min_years=2)) == "2 years"
    assert seasonal_from(object()) == "enough years"
    data = dataclasses.replace(walked["data"], seasonal_from="2 years")
    caption = " ".join(pdf_mod.chart_caption(data).split())
    assert "seasonal factor once the site has 2 years of images" in caption, caption
    html = " ".join(render_html(data).split())
    assert "seasonal factor once the site has 2 years of them" in html
