"""Session 40's review of what a new user sees first (README, ``railwatch demo``, its
report): faults found on the demo's own output, each fixed and tested here."""

from __future__ import annotations

import dataclasses
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from shapely.geometry import box

from railwatch.cli.main import main
from railwatch.demo import _main_cause
from railwatch.report import build_report_data
from railwatch.report.builder import _evidence, _plan, _SiteInfo
from railwatch.report.caveats import build_caveats, reason_kind
from railwatch.report.html import render_html
from railwatch.report.model import AlertRow, ReportData, SceneRow
from railwatch.report.pdf import _evidence_page
from railwatch.storage import Database
from report_db import populate

T0 = datetime(2020, 1, 1, 2, 0, tzinfo=UTC)

#: Unusable images of the demo (2026-12-06 run) as stored: their quality reasons, each
#: with the share of the site's tracks the quality check adds, and their fractions.
DEMO_UNUSABLE: tuple[tuple[tuple[str, ...], dict[str, float]], ...] = (
    (  # 2018-04-05: 27 % covered, a little cloud; no data and haze over the tracks
        (
            "only 27 % of the site is covered by the image",
            "cloud covers 5 % of the site",
            "only 21 % of the site is clear (needs 80 %)",
            "no data and haze hide 87 % of the site's tracks",
        ),
        {"quality_coverage": 0.273, "cloud_fraction": 0.055, "haze_fraction": 0.008},
    ),
    (  # 2019-11-28: half covered
        (
            "only 50 % of the site is covered by the image",
            "haze covers 2 % of the site",
            "only 48 % of the site is clear (needs 80 %)",
            "no data hides 57 % of the site's tracks",
        ),
        {"quality_coverage": 0.502, "cloud_fraction": 0.003, "haze_fraction": 0.016},
    ),
    (  # 2020-02-16
        (
            "only 39 % of the site is covered by the image",
            "only 38 % of the site is clear (needs 80 %)",
            "no data hides 65 % of the site's tracks",
        ),
        {"quality_coverage": 0.39, "snow_fraction": 0.009},
    ),
    (  # 2021-05-06: the site 92 % clear, its tracks not
        (
            "cloud and haze hide 25 % of the site's tracks: only 75 % of them are clear "
            "(needs 80 %), though 92 % of the site is; a count would miss the cars under it",
            "cloud covers 6 % of the site",
            "haze covers 2 % of the site",
        ),
        {"quality_coverage": 1.0, "cloud_fraction": 0.058, "haze_fraction": 0.021},
    ),
    (  # 2023-10-02
        (
            "only 52 % of the site is covered by the image",
            "only 52 % of the site is clear (needs 80 %)",
            "no data hides 45 % of the site's tracks",
        ),
        {"quality_coverage": 0.518},
    ),
)


def _scene(fractions: dict[str, float]) -> Any:
    fields = {"quality_coverage": 1.0, "cloud_fraction": 0.0, "haze_fraction": 0.0}
    fields |= {"snow_fraction": 0.0}
    return SimpleNamespace(**(fields | fractions))


@pytest.mark.parametrize(("reasons", "fractions"), DEMO_UNUSABLE)
def test_the_report_names_the_cause_the_demo_summary_names(
    reasons: tuple[str, ...], fractions: dict[str, float]
) -> None:
    """The demo printed "52 unusable (26 cloud, 12 haze, 12 partial coverage, 2 snow)"
    and its report's caveat "cloud 26, haze 13, partial coverage 6, no data 5, snow 2":
    a share of the site's tracks ("no data hides 57 % of the site's tracks") competed
    with the shares of the site, so a half-covered image was "no data" (and one "haze",
    the first word of "no data and haze hide 87 % of the site's tracks")."""
    assert reason_kind(reasons) == _main_cause(_scene(fractions))


def test_the_demo_caveat_counts_partial_coverage_as_the_summary_does() -> None:
    rows = [
        SceneRow(k, T0 + timedelta(days=k), "S", 0.5, usable=False, reasons=r)
        for k, (r, _) in enumerate(DEMO_UNUSABLE)
    ]
    text = " ".join(build_caveats(rows))
    assert "5 of 5 images could not be counted (partial coverage 4, cloud 1)" in text
    assert "no data" not in text


def test_a_share_of_the_site_still_decides() -> None:
    # the shares of the site alone, as before; a mask's no data over the site is no data
    assert reason_kind(("haze covers 89 % of the site", "cloud covers 2 % of the site")) == "haze"
    marks = "the quality mask marks 60 % of the site as no data (255, or a value that is none"
    assert reason_kind((f"{marks} of its codes 0-4)", "cloud covers 20 % of the site")) == (
        "no data"
    )
    # a reason with the tracks' share only still names its cause
    assert reason_kind(("snow hides 96 % of the site's tracks",)) == "snow"


def test_the_demo_summary_says_how_the_images_were_counted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The summary read "count series: 0 to 230 railcars (maximum on 2024-06-17; 26 by
    length, 145 by objects)": the methods' internal names, "26 by length" read as 26
    railcars measured by length."""
    import railwatch.demo as demo

    result = demo.DemoResult(
        out_dir=tmp_path, db_url=f"sqlite:///{tmp_path / 'd.db'}", site="tumangang"
    )
    result.count_min, result.count_max, result.count_max_date = 0.0, 230.0, "2024-06-17"
    result.methods = {"length": 26, "objects": 145}
    monkeypatch.setattr(demo, "earlier_run", lambda *a, **k: None)
    monkeypatch.setattr(demo, "run_demo", lambda *a, **k: result)
    monkeypatch.setenv("COLUMNS", "200")
    assert main(["demo", "--out", str(tmp_path)]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert (
        "count series: 0 to 230 railcars (maximum on 2024-06-17; 145 images counted car by "
        "car, 26 from occupied track length at 1.5–10 m)"
    ) in out
    assert "by objects" not in out and "by length" not in out


def _row(k: int, day: int, total: float, method: str = "objects", gsd: float = 0.5) -> SceneRow:
    return SceneRow(k, T0 + timedelta(days=day), "S", gsd, usable=True, total=total, method=method)


def _record(scene_id: int, day: int) -> AlertRow:
    return AlertRow(
        f"record-{scene_id}",
        "record",
        "high",
        T0 + timedelta(days=day),
        "all",
        100.0,
        "100 railcars.",
        scene_id=scene_id,
        method="objects",
    )


def test_a_before_image_that_passed_over_images_counted_another_way_says_so() -> None:
    """The demo's 3 m record of 2024-02-25 was shown beside 2023-11-10, "the most recent
    earlier usable image" (caption and note), with 0.5 m images of 2024-02-22 and before
    between them: it is the most recent earlier image counted the same way."""
    # no baseline at the alert (no image counted its way in the 120 days before it)
    rows = [_row(1, 0, 10), _row(2, 200, 11), _row(3, 400, 12)]
    rows += [_row(4, 590, 60, "length", 3.0), _row(5, 600, 100)]
    (plan,) = _plan(rows, [_record(5, 600)], None)
    assert plan.before is rows[2] and not plan.before_near and plan.passed == 1
    site = _SiteInfo("s", "", box(130.6, 42.4, 130.61, 42.41), "EPSG:32652")
    (ev,) = _evidence(site, [plan], {id(plan)}, "", {})  # its files cannot be read here
    assert any(
        n.endswith(
            "the most recent earlier usable image counted the same way (a later one was "
            "counted another way) is shown instead."
        )
        for n in ev.notes
    ), ev.notes
    # nothing between: as before
    (plain,) = _plan(rows[:3] + rows[4:], [_record(5, 600)], None)
    assert plain.before is rows[2] and not plain.before_near and plain.passed == 0


@pytest.fixture(scope="module")
def small_report(tmp_path_factory: pytest.TempPathFactory) -> ReportData:
    tmp = tmp_path_factory.mktemp("demo_review_s40")
    db = Database(f"sqlite:///{tmp / 'rw.db'}")
    populate(db, tmp / "scenes")
    return build_report_data(db, "testyard")


def test_the_caption_and_note_say_counted_the_same_way(small_report: ReportData) -> None:
    ev = next(e for e in small_report.evidence if e.after is not None and e.before is not None)
    far = dataclasses.replace(ev, before_near=False, before_passed=2)
    shown = dataclasses.replace(small_report, evidence=(far,))
    html = " ".join(render_html(shown).split())
    assert "before (the most recent earlier usable image counted the same way)" in html
    fig = _evidence_page(shown, far)
    text = " ".join(" ".join(t.get_text() for t in fig.texts).split())
    assert "before (most recent earlier usable image counted the same way)" in text
    # the note beside it, from the builder (imported here: new in session 40)
    from railwatch.report.builder import _same_way

    assert _same_way(2) == " counted the same way (2 later ones were counted another way)"
    assert _same_way(1) == " counted the same way (a later one was counted another way)"
    assert _same_way(0) == ""


def test_the_chips_caption_has_its_sentences_apart(small_report: ReportData) -> None:
    """The HTML caption under every pair of chips read "... show the same ground
    extent.Outlines: detected railcars ...; White dashed line: ..." (the template's
    trim_blocks ate the line break between two of its sentences)."""
    html = render_html(small_report)
    captions = [
        " ".join(c.split()) for c in re.findall(r"<figcaption>(.*?)</figcaption>", html, re.S)
    ]
    pairs = [c for c in captions if "the same ground extent" in c]
    assert pairs, captions
    for caption in pairs:
        assert "extent.Outlines" not in caption and "extent.White" not in caption
        assert "the same ground extent. " in caption
        assert "); White" not in caption
