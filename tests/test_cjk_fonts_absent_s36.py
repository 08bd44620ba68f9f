"""Without the ``cjk`` extra (2026-12-06, session 36): the report keeps today's '?' and
"(label: see the events list)" and now says, in its caveats, how to install the font;
the dashboard's font route says the same; the extra is declared and ``make test``
installs it. The font itself: tests/test_cjk_fonts_s36.py."""

from __future__ import annotations

import re
import tomllib
from datetime import date
from importlib import metadata
from pathlib import Path

import pytest

from railwatch.errors import install_command
from railwatch.report import fonts
from railwatch.storage import Database, repo
from report_db import populate

ROOT = Path(__file__).resolve().parents[1]
LABEL = "김정은-푸틴 정상회담"


@pytest.fixture
def no_cjk_font(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fonts, "cjk_font", lambda: None)


def test_a_report_with_korean_text_says_how_to_install_the_font(
    tmp_path: Path, no_cjk_font: None
) -> None:
    """A Korean event label read '?' in the PDF and "(label: see the events list)" on
    the chart with nothing saying why or what to do: a caveat (HTML and PDF) names the
    command that installs the font. A report without such text has no such caveat."""
    from railwatch.report import build_report_data
    from railwatch.report.html import render_html
    from railwatch.report.pdf import _text_pages

    db = Database(f"sqlite:///{tmp_path / 'rw.db'}")
    try:
        populate(db, tmp_path / "scenes")
        before = build_report_data(db, "testyard")
        with db.session() as s:
            repo.add_event(s, repo.get_site(s, "testyard"), date(2022, 6, 1), LABEL)
        data = build_report_data(db, "testyard")
    finally:
        db.dispose()
    assert not any("[cjk]" in c for c in before.caveats)
    (caveat,) = [c for c in data.caveats if "[cjk]" in c]
    assert "reads '?' in the PDF" in caveat and "(label: see the events list)" in caveat
    assert f"`{install_command('cjk')}`" in caveat  # this environment's pip, the extra
    assert caveat in render_html(data).replace("&#39;", "'").replace("&#34;", '"')
    pdf_text = " ".join(" ".join(t.get_text().split()) for f in _text_pages(data) for t in f.texts)
    assert "[cjk]" in pdf_text
    assert f"2022-06-01  {'???-?? ????'}" in "\n".join(
        t.get_text() for f in _text_pages(data) for t in f.texts
    )


def test_the_caveat_is_only_for_chinese_japanese_and_korean(no_cjk_font: None) -> None:
    """Text the CJK font would not draw either (Arabic) gets no caveat that promises it
    would; Japanese kana and Chinese do."""
    assert fonts.missing_font_caveat(["Tumangang", "Визит", "زيارة"]) is None
    assert fonts.missing_font_caveat(["トゥマンガン"]) is not None
    assert fonts.missing_font_caveat(["图们江"]) is not None


def test_the_caveat_is_not_given_when_the_font_is_installed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    font = fonts.CjkFont(Path("x.ttc"), 1, fonts.CJK_FAMILY, frozenset(map(ord, LABEL)))
    monkeypatch.setattr(fonts, "cjk_font", lambda: font)
    assert fonts.missing_font_caveat([LABEL]) is None


def test_the_font_file_is_none_without_the_package(monkeypatch: pytest.MonkeyPatch) -> None:
    """The font is looked up in the package's metadata (the package is not imported)."""

    def missing(name: str) -> metadata.Distribution:
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(fonts.metadata, "distribution", missing)
    assert fonts.cjk_font_file() is None


def test_the_dashboard_font_route_names_the_extra(tmp_path: Path, no_cjk_font: None) -> None:
    """Without the font ``GET /fonts/cjk.otf`` is a 501 problem naming the command that
    installs it (the browser falls back to the computer's fonts, as before)."""
    pytest.importorskip("fastapi")
    from fastapi.testclient import TestClient

    from railwatch.settings import Settings
    from railwatch.web.app import create_app

    db = Database(f"sqlite:///{tmp_path / 'w.db'}")
    try:
        client = TestClient(create_app(Settings(db=db.url, cache_dir=tmp_path / "c"), db))
        got = client.get("/fonts/cjk.otf")
    finally:
        db.dispose()
    assert got.status_code == 501, got.text
    assert got.headers["content-type"].startswith("application/problem+json")
    assert "[cjk]" in got.json()["detail"]


def test_the_extra_is_declared_and_make_test_installs_it() -> None:
    """``pip install 'railwatch[cjk]'`` brings the font; ``make test`` (CI) installs the
    extra so that tests/test_cjk_fonts_s36.py runs there."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    extra = project["project"]["optional-dependencies"][fonts.CJK_EXTRA]
    assert any(d.startswith(fonts.CJK_DISTRIBUTION) for d in extra)
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    extras = re.search(r"^TEST_EXTRAS := (\S+)$", makefile, re.M)
    assert extras is not None and fonts.CJK_EXTRA in extras.group(1).split(",")
