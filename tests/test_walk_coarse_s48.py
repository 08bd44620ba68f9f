"""Walk of an analyst with coarse imagery only (session 48, 2026-12-07): 3 m and 10 m
images of one yard over two years, one site with its track centrelines and one without.

What it found, each fixed and checked here:

- the report's registration caveat called the 10 m long-train flags occupied-length
  counts ("30 of 30 occupied-length counts were made after registering", of 22 length
  counts and 8 flags);
- the report (and the dashboard) of a site without track centrelines gave its 3 m counts,
  read along track lines found in the image itself, as any other: only `railwatch
  process` said, once, that they are far less accurate and what to do;
- `scene show` of such a count said to run `railwatch site edit SITE --tracks FILE`, the
  site unnamed, where the rest of its output names it.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from shapely.geometry import box

from railwatch.imagery import inspect_scene
from railwatch.ingest import ingest_paths
from railwatch.pipeline import process_site
from railwatch.report.caveats import build_caveats
from railwatch.report.model import SceneRow
from railwatch.sim import SceneParams, render_scene, write_scene
from railwatch.sites import SiteSpec
from railwatch.storage import Database, repo
from test_detect_fakes import BrightBlobDetector

GSD = 3.0


def _row(i: int, **kw: Any) -> SceneRow:
    """A usable 3 m image counted by occupied length (``method`` and the rest by ``kw``)."""
    base: dict[str, Any] = {
        "scene_id": i,
        "when": datetime(2023, 1, 1, tzinfo=UTC) + timedelta(days=30 * i),
        "sensor": "PlanetScope-sim",
        "gsd": GSD,
        "usable": True,
        "clear_fraction": 1.0,
        "coverage": 1.0,
        "total": 12.0,
        "low": 6.0,
        "high": 25.0,
        "method": "length",
    }
    return SceneRow(**{**base, **kw})


def _flag(i: int, **kw: Any) -> SceneRow:
    """A usable 10 m image: a long-train flag (its total the flag), no count of cars."""
    return _row(i, gsd=10.0, total=0.0, low=0.0, high=0.0, method="presence", **kw)


MOVED = {"version": "1", "references": 5, "dx_m": 0.6, "dy_m": 0.8, "response": 0.9}
AS_GIVEN = {"version": "1", "references": 2, "not_applied": "2 usable reference image(s)"}


def test_the_registration_caveat_counts_long_train_flags_apart() -> None:
    rows = [_row(i, registration=MOVED) for i in range(3)]
    rows += [_flag(3 + i, registration=MOVED) for i in range(2)]
    rows += [_flag(5, registration=AS_GIVEN)]
    text = " ".join(build_caveats(rows))
    # it said "5 of 6 occupied-length counts" of 3 length counts and 3 flags
    assert (
        "3 of 3 occupied-length counts and 2 of 3 long-train flags (10 m images) were made "
        "after registering"
    ) in text
    assert "1 long-train flag (10 m image) used the track lines as given" in text
    assert "occupied-length count used" not in text
    # length counts alone read as before
    only = " ".join(build_caveats([*rows[:2], _row(2, registration=AS_GIVEN)]))
    assert "2 of 3 occupied-length counts were made after registering" in only
    assert "1 occupied-length count used the track lines as given" in only
    assert "long-train" not in only


def test_the_report_says_which_counts_were_read_along_lines_found_in_the_image() -> None:
    rows = [_row(0, tracks="found"), _row(1, tracks="found"), _row(2, tracks="given")]
    rows += [_row(3, tracks="found", reviewed=True, detector_total=30.0), _flag(4)]
    text = " ".join(build_caveats(rows, site="yardB"))
    # the analyst's count of one of them is no estimate along any line
    found = "2 of 3 occupied-length counts were read along track lines found in the image"
    assert found in text
    assert "far less accurate" in text and "54 %" in text
    assert "`railwatch site edit yardB --tracks FILE`" in text
    assert "process it again" in text
    # along the site's own lines: nothing to say
    given = [_row(0, tracks="given"), _row(1, tracks="given")]
    assert "found in the image" not in " ".join(build_caveats(given, site="yardA"))


def test_scene_show_names_the_site_in_the_command_that_gives_it_lines() -> None:
    from railwatch.cli.scene import _tracks_text

    text = _tracks_text({"tracks": "found", "track_m": 1264.5}, "yardB")
    assert "`railwatch site edit yardB --tracks FILE`" in text, text
    assert "SITE" not in text
    assert text.startswith("1,264 m of track read, along lines found in the image")


@pytest.fixture(scope="module")
def no_lines(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Database, Path]]:
    """A ~540 m yard without track centrelines and one clear 3 m image of it, processed
    by the pipeline: counted along track lines found in the image."""
    tmp = tmp_path_factory.mktemp("walk-coarse")
    params = SceneParams(
        seed=1,
        layout_seed=5,
        size_px=(200, 200),
        gsd=GSD,
        n_cars=15,
        date=datetime(2023, 1, 10, 3, tzinfo=UTC),
    )
    image = write_scene(render_scene(params), tmp / "imgs", "c3", preview=False).image
    db = Database(f"sqlite:///{tmp / 'rw.db'}")
    aoi = box(*inspect_scene(image).footprint.buffer(-0.0003).bounds)
    with db.session() as s:
        repo.add_site(s, SiteSpec(name="yardB", geometry=aoi))
    assert len(ingest_paths(db, "yardB", [tmp / "imgs"]).ingested) == 1
    det = BrightBlobDetector()
    det.name, det.version = "fake", "1"
    assert len(process_site(db, "yardB", detector=det).processed) == 1
    try:
        yield db, tmp
    finally:
        db.dispose()


def test_a_report_of_a_site_without_centrelines_says_its_counts_are_far_less_accurate(
    no_lines: tuple[Database, Path],
) -> None:
    from railwatch.report.data import scene_rows

    db, _ = no_lines
    with db.session(readonly=True) as s:
        site = repo.get_site(s, "yardB")
        rows = scene_rows(s, site)
    assert [(r.method, r.tracks) for r in rows] == [("length", "found")]
    text = " ".join(build_caveats(rows, site="yardB"))
    assert "The one occupied-length count was read along track lines found in the image" in text
    assert "`railwatch site edit yardB --tracks FILE`" in text


@pytest.mark.slow
@pytest.mark.services
def test_the_dashboard_says_a_count_was_read_along_lines_found_in_the_image(
    no_lines: tuple[Database, Path], browser: Any
) -> None:
    pytest.importorskip("fastapi")
    pytest.importorskip("uvicorn")
    from helpers import serve_db

    db, tmp = no_lines
    with serve_db(db, tmp / "cache") as url:
        page = browser.new_page(viewport={"width": 1366, "height": 900})
        page.set_default_timeout(30_000)
        try:
            page.goto(f"{url}/sites/yardB")
            page.wait_for_selector("body[data-ready='1']")
            page.wait_for_selector("#scene-info .found-lines")
            info = page.locator("#scene-info").text_content() or ""
            assert "read along track lines found in the image, far less accurate" in info, info
            assert "PATCH /api/sites/yardB with them as `tracks`" in info, info
        finally:
            page.close()


def _busy_chart_data() -> tuple[list[SceneRow], list[Any], list[Any]]:
    """A 3 m site's year with every mark its legend names: length counts (one interval far
    above the others), an analyst's count with the detector's it replaced, an unusable
    image, a baseline with its record, an info alert and an ongoing silence (alert)."""
    from railwatch.report.model import AlertRow, BaselinePoint

    rows = [_row(i, total=12.0 + i % 3, low=6.0, high=25.0) for i in range(12)]
    rows[3] = _row(3, total=68.0, low=39.0, high=300.0)
    rows[5] = _row(5, total=13.0, low=13.0, high=13.0, reviewed=True, detector_total=61.0)
    rows[7] = _row(7, usable=False, total=None, low=None, high=None, method=None,
                   reasons=("cloud covers 75 % of the site",))  # fmt: skip
    baseline = [
        BaselinePoint(r.when, centre=12.0, low=6.0, high=20.0, record=14.0) for r in rows[6:]
    ]
    alerts = [
        AlertRow(key="spike:all:x", kind="spike", severity="info", when=rows[3].when,
                 cls="all", value=68.0, explanation="68 car equivalents", scene_id=3),
        AlertRow(key="quality:all:y", kind="quality", severity="medium",
                 when=rows[-1].when + timedelta(days=93), cls="all", value=None,
                 explanation="No image able to count cars since ..."),
    ]  # fmt: skip
    return rows, baseline, alerts


def test_a_long_legend_stays_within_the_chart_s_figure_and_page() -> None:
    """Ten legend entries (a 3 m site with an analyst's count) in six columns ran 43 px
    past the PDF page's left edge ("aseline band"), and squeezed the HTML chart's axes
    into the right two thirds of its figure: the legend takes fewer columns instead."""
    from railwatch.report.charts import draw_timeseries, new_figure, timeseries_figure

    rows, baseline, alerts = _busy_chart_data()
    fig = timeseries_figure(rows, baseline, (), alerts, title="Railcars at yardA")
    fig.canvas.draw()
    ax = fig.axes[0]
    labels = ax.get_legend_handles_labels()[1]
    assert len(labels) >= 10, labels
    # the silence is one of counts: "no usable image" was untrue beside a usable 10 m image
    assert "no count for long (alert)" in labels, labels
    assert not [label for label in labels if "usable image for" in label], labels
    drawn = ax.get_legend()
    assert drawn is not None
    legend = drawn.get_window_extent()
    assert legend.x0 >= 0.0, legend
    # the axes keep the figure's width (their left edge was at 31 % of it)
    assert ax.get_window_extent().x0 < 0.1 * fig.bbox.width, ax.get_window_extent()
    # the PDF's first page: the chart's axes placed on an A4 landscape page
    page = new_figure(11.69, 8.27)
    page.set_layout_engine(None)
    axes = page.add_axes((0.06, 0.125, 0.9, 0.5))
    draw_timeseries(axes, rows, baseline, (), alerts, title="Railcars at yardA")
    page.canvas.draw()
    on_page = axes.get_legend()
    assert on_page is not None
    assert on_page.get_window_extent().x0 >= 0.0


def test_the_dashboard_s_chart_key_names_a_silence_of_counts_truly() -> None:
    """The dashboard's chart key said "silence (no usable image for too long)", also of a
    silence of counts whose 10 m images were usable (its row under the chart)."""
    js = (Path(__file__).resolve().parents[1] / "src/railwatch/web/static/js/chart.js").read_text()
    assert "no usable image for too long" not in js
    assert '"silence (no count for too long: no usable image, or none able to count cars)"' in js


def test_the_headline_names_a_count_before_later_10m_images_truly() -> None:
    """A 3 m count followed by a usable 10 m image (a long-train flag, no count) was "the
    latest usable image" in the headline and its box, above a table that lists the 10 m
    image as usable: it is the latest image with a count, and the headline says what the
    later 10 m image told."""
    from railwatch.report.builder import _headline
    from railwatch.report.model import latest_car_words

    rows = [_row(i) for i in range(6)] + [_flag(6)]
    head = _headline("yardA", (None, None), rows, [], [])
    assert head.latest is not None and head.latest.scene_id == 5
    assert head.latest_words == "latest image with a count"
    assert "latest usable image" not in head.summary
    assert "on 2023-05-31 (latest image with a count, 3 m: occupied track length" in head.summary
    assert (
        "Since then, there has been 1 usable image of 10 m or coarser, which only tells "
        "whether a long "
        "train is present (latest, 2023-06-30: no long train)."
    ) in head.summary
    # without a later 10 m image, as before
    plain = _headline("yardA", (None, None), rows[:6], [], [])
    assert plain.latest_words == "latest usable image" == latest_car_words(rows[:6])
    assert "(latest usable image, 3 m" in plain.summary and "Since then" not in plain.summary


def test_the_counts_export_says_which_lines_a_coarse_count_was_read_along(
    no_lines: tuple[Database, Path],
) -> None:
    """The counts table (CSV, GeoPackage, GeoJSON) gave a 3 m count read along track
    lines found in the image like any other: ``track_lines`` says ``found`` (``given``
    along the site's centrelines; empty for other images), and the CSV still reads back
    with ``analyze --counts``."""
    from railwatch.analysis.csvio import read_counts_csv
    from railwatch.export import export_site
    from railwatch.export.layers import site_layers

    db, tmp = no_lines

    with db.session(readonly=True) as s:
        counts = site_layers(s, "yardB")["counts"]
    assert "track_lines" in counts.columns
    assert [(r["method"], r["track_lines"]) for r in counts.records] == [("length", "found")]
    out = tmp / "counts.csv"
    export_site(db, "yardB", "csv", out)
    text = out.read_text(encoding="utf-8")
    assert ",method,track_lines,count," in text.splitlines()[0]
    points = read_counts_csv(out)
    assert len(points) == 1


def test_analyze_says_its_alerts_rest_on_counts_along_lines_found_in_the_image(
    no_lines: tuple[Database, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    """`railwatch analyze` of a site without centrelines judged its 3 m counts, read along
    lines found in the image, without a word: only `railwatch process` had said, once,
    that they are far less accurate."""
    import json

    from railwatch.cli.main import main

    db, _ = no_lines
    assert main(["--db", db.url, "analyze", "yardB"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "note: 1 count of yardB (1.5–10 m) was read along track lines found in the image" in out
    assert "its alerts rest on them" in out
    assert "`railwatch site edit yardB --tracks FILE`" in out
    assert main(["--db", db.url, "analyze", "yardB", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["found_lines"] == 1


def test_scene_list_says_which_counts_were_read_along_lines_found_in_the_image(
    no_lines: tuple[Database, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    """The count history (`scene list`) gave a count read along lines found in the image
    as any other "≈" count."""
    from railwatch.cli.main import main

    db, _ = no_lines
    assert main(["--db", db.url, "scene", "list", "yardB"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "1 of the ≈ counts was read along track lines found in the image itself" in out, out
    assert "`railwatch site edit yardB --tracks FILE`" in out
