"""Chinese, Japanese and Korean text with the ``cjk`` extra installed (2026-12-06,
session 36): the charts draw it (no "Glyph missing" warning, no "(label: see the events
list)"), the PDF embeds the font's glyphs as text that reads back as written, and the
dashboard's app serves the font its CSS names. Before, a Korean site name or event label
read '?' in the PDF, "(label: see the events list)" on the charts and empty boxes on the
dashboard of a computer without a Korean font.

These tests need the extra: without it they are skipped, or fail under
``RAILWATCH_REQUIRE_SERVICES=1`` (CI, whose ``make test`` installs it). Without the
font: tests/test_cjk_fonts_absent_s36.py."""

from __future__ import annotations

import io
import re
import sqlite3
import warnings
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from matplotlib.figure import Figure
from matplotlib.text import Text

from helpers import require_service
from railwatch.report import fonts
from railwatch.report.charts import (
    UNDRAWABLE_LABEL,
    chart_title,
    pdf_text,
    timeseries_figure,
    to_png,
    to_svg,
)
from railwatch.report.model import EventRow, SceneRow
from railwatch.storage import Database, repo
from report_db import populate

SITE = "두만강-역"
LABEL = "김정은-푸틴 정상회담"
CHINESE_JAPANESE = "图们江站 トゥマンガン"


@pytest.fixture(autouse=True, scope="module")
def _font_installed() -> None:
    if fonts.cjk_font() is None:
        require_service(
            "the cjk extra (Noto Sans CJK)", "pip install -e '.[cjk]' (make test installs it)"
        )


def _rows(n: int = 30) -> list[SceneRow]:
    t0 = datetime(2023, 1, 1, 3, tzinfo=UTC)
    return [
        SceneRow(
            scene_id=i,
            when=t0 + timedelta(days=10 * i),
            sensor="S",
            gsd=0.5,
            usable=True,
            total=10.0 + i % 7,
            low=8.0,
            high=14.0 + i % 7,
            by_class={"gondola": 10.0 + i % 7},
            method="objects",
        )
        for i in range(n)
    ]


def test_a_chart_draws_korean_chinese_and_japanese_without_missing_glyphs() -> None:
    """The event labels and the title are drawn as written, in the CJK font where the
    default font lacks a character, and no "Glyph ... missing from font(s)" warning is
    raised while drawing (SVG and PNG)."""
    events = [
        EventRow(date(2023, 2, 1), LABEL),
        EventRow(date(2023, 6, 1), CHINESE_JAPANESE),
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "Glyph 44608 ... missing from font(s) DejaVu Sans"
        with fonts.cjk_text():
            title = chart_title(SITE)
        fig = timeseries_figure(_rows(), events=events, title=title)
        svg = to_svg(fig)
        png = to_png(fig)
    assert title == f"Railcars at {SITE}"
    ax = fig.axes[0]
    labels = [t.get_text().strip() for t in ax.texts if t.get_rotation() == 90]
    assert labels == [LABEL, CHINESE_JAPANESE]
    assert UNDRAWABLE_LABEL not in labels
    assert ax.get_title(loc="left") == title
    drawn = [t for t in fig.findobj(Text) if t.get_text().strip() in (title, *labels)]
    assert len(drawn) == 3
    for text in drawn:
        assert fonts.CJK_FAMILY in text.get_fontfamily()
    assert svg.startswith(b"<?xml") and png.startswith(b"\x89PNG")


def test_the_cjk_family_is_used_only_inside_its_context() -> None:
    """Registering the font changes no default: outside :func:`fonts.cjk_text` the
    families are matplotlib's own, and Korean reads '?' there (never empty boxes)."""
    import matplotlib

    fonts.cjk_font()
    assert fonts.CJK_FAMILY not in matplotlib.rcParams["font.family"]
    assert pdf_text(LABEL) == "???-?? ????"
    with fonts.cjk_text():
        assert matplotlib.rcParams["font.family"][-1] == fonts.CJK_FAMILY
        assert pdf_text(LABEL) == LABEL
        assert fonts.font_rc() == {}  # nested: not added twice
    assert fonts.CJK_FAMILY not in matplotlib.rcParams["font.family"]


@pytest.fixture(scope="module")
def korean_db(tmp_path_factory: pytest.TempPathFactory) -> Database:
    """The report tests' database with the site renamed in Korean and a Korean event."""
    tmp = tmp_path_factory.mktemp("cjk")
    path = tmp / "rw.db"
    db = Database(f"sqlite:///{path}")
    populate(db, tmp / "scenes")
    with db.session() as s:
        site = repo.get_site(s, "testyard")
        repo.add_event(s, site, date(2022, 6, 1), LABEL)
    db.dispose()
    with sqlite3.connect(path) as con:
        con.execute("update sites set name = ?", (SITE,))
    return Database(f"sqlite:///{path}")


def test_the_pdf_embeds_the_cjk_font_and_its_text_reads_back(
    korean_db: Database, tmp_path: Path
) -> None:
    """The PDF's headings, chart and events list hold the Korean site name and label:
    the font's glyphs used are embedded (a subset whose name carries the font's), and
    the text extracted from the PDF is the Korean as typed. No warning is raised, and
    no caveat says the font is missing."""
    import pypdf  # the dev extra's

    from railwatch.report import build_pdf_report, build_report_data

    out = tmp_path / "r.pdf"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        build_pdf_report(korean_db, SITE, out)
    reader = pypdf.PdfReader(io.BytesIO(out.read_bytes()))
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert SITE in text
    assert LABEL in text
    assert "?" * 3 not in text
    embedded = set()
    for page in reader.pages:
        resources: Any = page["/Resources"]
        for font in resources["/Font"].values():
            embedded.add(str(font.get_object()["/BaseFont"]))
    cjk = [name for name in embedded if "NotoSansCJKkr-Regular" in name]
    assert cjk, embedded
    # a subset: "/ABCDEF+NotoSansCJKkr-Regular"
    assert all(re.fullmatch(r"/[A-Z]{6}\+NotoSansCJKkr-Regular", name) for name in cjk), cjk
    # a subset, not the 16 MB face: the report's PDF stays small
    assert out.stat().st_size < 3_000_000
    data = build_report_data(korean_db, SITE)
    assert not any("font for them is not installed" in c for c in data.caveats)


def test_the_html_report_chart_has_the_korean_title_and_label(
    korean_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The HTML report's chart (an SVG whose text is drawn as paths) is titled with the
    Korean name and labels the Korean event: it read "Railcars" and "(label: see the
    events list)"."""
    from railwatch.report import build_report_data
    from railwatch.report import html as html_mod

    figures: list[Figure] = []

    def kept(*args: Any, **kwargs: Any) -> Figure:
        figures.append(timeseries_figure(*args, **kwargs))
        return figures[-1]

    monkeypatch.setattr(html_mod, "timeseries_figure", kept)
    data = build_report_data(korean_db, SITE)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        svg = html_mod.chart_svg(data)
    assert b"<svg" in svg
    (fig,) = figures
    ax = fig.axes[0]
    assert ax.get_title(loc="left") == f"Railcars at {SITE}"
    assert LABEL in [t.get_text().strip() for t in ax.texts]


def test_the_dashboard_serves_the_font_its_css_names(tmp_path: Path) -> None:
    """``GET /fonts/cjk.otf``: the Korean face as one OpenType file (``font/otf``), with
    an ETag that a conditional request gets a bodiless 304 for; ``app.css`` names it in
    an ``@font-face`` rule, after the computer's own fonts."""
    pytest.importorskip("fastapi")
    from fastapi.testclient import TestClient
    from fontTools.ttLib import TTFont  # type: ignore[import-untyped]

    from railwatch.settings import Settings
    from railwatch.web.app import create_app, static_dir

    db = Database(f"sqlite:///{tmp_path / 'w.db'}")
    try:
        client = TestClient(create_app(Settings(db=db.url, cache_dir=tmp_path / "c"), db))
        got = client.get("/fonts/cjk.otf")
        assert got.status_code == 200, got.text
        assert got.headers["content-type"] == "font/otf"
        assert got.content[:4] == b"OTTO"  # OpenType with CFF outlines
        face = TTFont(io.BytesIO(got.content))
        assert face["name"].getDebugName(1) == fonts.CJK_FAMILY
        assert all(ord(c) in face.getBestCmap() for c in SITE + LABEL + CHINESE_JAPANESE)
        etag = got.headers["etag"]
        again = client.get("/fonts/cjk.otf", headers={"If-None-Match": etag})
        assert again.status_code == 304 and again.content == b""
        head = client.head("/fonts/cjk.otf")
        assert head.status_code == 200 and head.headers["content-type"] == "font/otf"
    finally:
        db.dispose()
    css = (static_dir() / "app.css").read_text(encoding="utf-8")
    # since session 37 the face is added by js/common.js for the page's characters, a
    # subset of the font (tests/test_cjk_subset_s37.py)
    script = (static_dir() / "js" / "common.js").read_text(encoding="utf-8")
    assert '"/fonts/cjk.otf?text="' in script and "\\uAC00-\\uD7FF" in script  # Hangul
    body = css[css.index("html, body {") :]
    assert '"railwatch CJK"' in body[: body.index("}")]


@pytest.mark.slow
@pytest.mark.services
def test_chromium_loads_the_font_for_a_korean_site_name(browser: Any, tmp_path: Path) -> None:
    """In a browser without a Korean font (the test machine's Chromium) the site list
    of a site named in Korean fetches ``/fonts/cjk.otf`` from the app itself (nothing
    from elsewhere) and the browser accepts it: its "railwatch CJK" face is loaded. A
    page of Latin names only fetches no font (the rule's ``unicode-range``)."""
    pytest.importorskip("uvicorn")
    from shapely.geometry import box

    from helpers import serve_db
    from railwatch.sites import SiteSpec

    db = Database(f"sqlite:///{tmp_path / 'w.db'}")
    try:
        with db.session() as s:
            repo.add_site(s, SiteSpec(name="tumangang", geometry=box(130.6, 42.4, 130.61, 42.41)))
        with serve_db(db, tmp_path / "cache") as url:
            latin = _font_requests(browser, url, "tumangang")
            assert latin == []  # no CJK character on the page: nothing fetched
            with db.session() as s:
                repo.add_site(s, SiteSpec(name=SITE, geometry=box(130.5, 42.2, 130.51, 42.21)))
            requests = _font_requests(browser, url, SITE, faces=True)
    finally:
        db.dispose()
    ((address, status),) = requests[:-1]  # the subset of the page's characters (s37)
    assert address.startswith(f"{url}/fonts/cjk.otf?text=") and status == 200, requests
    assert ("railwatch CJK", "loaded") in requests[-1], requests


def _font_requests(browser: Any, url: str, name: str, *, faces: bool = False) -> list[Any]:
    """The font requests the site list makes once ``name`` is listed (URL, status), and
    with ``faces`` the font faces of the page (family, status) last."""
    page = browser.new_page()
    page.set_default_timeout(60_000)
    seen: list[Any] = []
    others: list[str] = []

    def answered(response: Any) -> None:
        if response.request.resource_type == "font":
            seen.append((response.url, response.status))
        elif not response.url.startswith(url):
            others.append(response.url)

    page.on("response", answered)
    try:
        page.goto(url + "/")
        page.get_by_role("link", name=name).wait_for()
        loaded = page.evaluate(
            "document.fonts.ready.then(() => [...document.fonts]"
            ".map(f => [f.family.replaceAll('\"', ''), f.status]))"
        )
    finally:
        page.close()
    assert others == []
    return [*seen, [tuple(f) for f in loaded]] if faces else seen


def test_bold_korean_is_drawn_without_a_weight_warning(caplog: pytest.LogCaptureFixture) -> None:
    """The font has one weight: a bold heading (the PDF's site name) made matplotlib log
    "findfont: Failed to find font weight bold for Noto Sans CJK KR, now using 400" for
    each size; the face is registered for bold too and drawn in its regular weight."""
    from railwatch.report.charts import new_figure

    fonts.cjk_font()
    with caplog.at_level("WARNING", logger="matplotlib.font_manager"), fonts.cjk_text():
        fig = new_figure(4, 2)
        fig.text(0.1, 0.5, SITE, fontsize=17.5, fontweight="bold")
        fig.text(0.1, 0.2, "Tumangang", fontsize=9.5, fontweight="bold")
        png = to_png(fig)
    assert png.startswith(b"\x89PNG")
    assert [r.getMessage() for r in caplog.records] == []
