"""What a reader of a report hit (session 24's QA): a period without an image, an
acknowledged alert, a site named in Korean, a headline of digits running off the PDF's
page, a 3 m latest image whose headline left out the alert, and a report written over an
earlier one (a failure left a truncated PDF)."""

from __future__ import annotations

import dataclasses
import re
import sqlite3
import warnings
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure
from matplotlib.text import Text

from railwatch.cli.main import main
from railwatch.errors import InputError
from railwatch.report import build_report, build_report_data, fonts
from railwatch.report import pdf as pdf_mod
from railwatch.report.builder import _headline
from railwatch.report.data import baseline_track
from railwatch.report.html import render_html
from railwatch.report.model import AlertRow, SceneRow
from railwatch.storage import Database, repo
from report_db import populate


@pytest.fixture(scope="module")
def db_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    tmp = tmp_path_factory.mktemp("reader")
    url = f"sqlite:///{tmp / 'rw.db'}"
    populate(Database(url), tmp / "scenes")
    return url


def _texts(fig: Figure) -> list[Text]:
    FigureCanvasAgg(fig).draw()
    return [t for t in fig.findobj(Text) if t.get_text() and t.get_visible()]


def test_a_period_without_an_image_says_when_the_images_are(
    db_url: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """A report for a month after the last image said only "No usable image ... in this
    period", and its PDF had a page titled "Images 1–0 of 0" with an empty table."""
    data = build_report_data(
        Database(db_url), "testyard", date_from=date(2030, 1, 1), date_to=date(2030, 1, 31)
    )
    summary = data.headline.summary
    assert summary.startswith("No usable image of testyard in this period")
    assert (
        "its 15 images are dated 2022-01-10 to 2023-02-04: check --since/--until" in summary
    )  # --from/--to until session 38
    (page,) = pdf_mod._table_pages(data)
    text = " ".join(t.get_text() for t in _texts(page))
    assert "1–0" not in text and "its 15 images are dated 2022-01-10" in " ".join(text.split())
    out = tmp_path / "r.html"
    args = ["--db", db_url, "report", "testyard", "--from", "2030-01-01", "-o", str(out)]
    assert main(args) == 0
    err = " ".join(capsys.readouterr().err.split())
    assert "warning:" in err and "its 15 images are dated 2022-01-10 to 2023-02-04" in err


def test_an_acknowledged_alert_says_so_in_the_headline_and_on_its_pdf_page(
    tmp_path: Path,
) -> None:
    """The headline explained an acknowledged alert as if nobody had seen it (red
    border included), and the PDF page of an alert with images left out the analyst's
    acknowledgement and note (only the list pages gave them)."""
    db = Database(f"sqlite:///{tmp_path / 'rw.db'}")
    populate(db, tmp_path / "scenes")
    with db.session() as s:
        (alert,) = repo.list_alerts(s, "testyard")
        repo.acknowledge_alert(s, alert.id, "coal for export, seen")
    data = build_report_data(db, "testyard")
    assert "2.2x the record of 8" in data.headline.summary
    assert data.headline.summary.endswith("Acknowledged: coal for export, seen.")
    (ev,) = data.evidence
    assert ev.after is not None
    page = " ".join(t.get_text() for t in _texts(pdf_mod._evidence_page(data, ev)))
    assert "Acknowledged: coal for export, seen." in " ".join(page.split())
    first = " ".join(t.get_text() for t in _texts(pdf_mod._first_page(data)))
    assert "1, 1 acknowledged" in first
    html = render_html(data)
    assert 'class="headline alerting"' not in html and "(1 acknowledged)" in html


def test_a_site_named_in_korean_draws_no_empty_boxes(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The PDF's page headings and the charts' titles drew a Korean site name as empty
    boxes, with a 'Glyph missing' warning per character and page on the terminal. Without
    the CJK font (the ``cjk`` extra; with it: tests/test_cjk_fonts_s36.py)."""
    monkeypatch.setattr(fonts, "cjk_font", lambda: None)
    copy = tmp_path / "ko.db"
    with sqlite3.connect(db_url.removeprefix("sqlite:///")) as src, sqlite3.connect(copy) as con:
        src.backup(con)
        con.execute("update sites set name = '두만강-역'")
    db = Database(f"sqlite:///{copy}")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "Glyph ... missing from font(s)"
        out = build_report(db, "두만강-역", tmp_path / "두만강-역.html", pdf=True)
    data = build_report_data(db, "두만강-역")
    fig = pdf_mod._first_page(data)
    assert fig.texts[0].get_text() == "???-?"
    assert any("script this PDF's font lacks" in t.get_text() for t in fig.texts)
    assert fig.axes[0].get_title() == "Railcars" or "Railcars" in [
        t.get_text() for t in _texts(fig)
    ]
    html = out.read_text(encoding="utf-8")
    assert "<h1>두만강-역</h1>" in html and "<title>railwatch report: 두만강-역</title>" in html


def test_a_headline_of_digits_stays_on_the_page(db_url: str) -> None:
    """Wrapped at 150 characters, a headline of dates and counts (digits are wide) ran
    off the right edge of the PDF's first page."""
    data = build_report_data(Database(db_url), "testyard")
    summary = " ".join(f"2023-09-{d:02d}: 130.5 [118.2–145.9] ×2.4 record;" for d in range(1, 21))
    long = dataclasses.replace(data, headline=dataclasses.replace(data.headline, summary=summary))
    for fig in (pdf_mod._first_page(long),):
        renderer = FigureCanvasAgg(fig).get_renderer()
        width = fig.bbox.width
        for text in _texts(fig):
            box = text.get_window_extent(renderer)
            assert box.x1 <= width * 0.97, text.get_text()[:50]


def _row(i: int, total: float, method: str) -> SceneRow:
    return SceneRow(
        scene_id=i,
        when=datetime(2019, 1, 1, tzinfo=UTC) + timedelta(days=7 * i),
        sensor="S",
        gsd=3.0 if method == "length" else 0.5,
        usable=True,
        total=total,
        low=total * 0.8,
        high=total * 1.4,
        method=method,
    )


def test_a_3m_latest_image_keeps_the_alert_in_the_headline() -> None:
    """When the latest usable image was a 3 m one, the headline said its car equivalents
    and left out the most significant alert (a fine image's headline gave it)."""
    rows = [_row(i, 10.0 + i % 3, "objects") for i in range(60)]
    rows += [_row(60 + i, 20.0 + i % 4, "length") for i in range(20)]
    alert = AlertRow("a", "record", "high", rows[70].when, "all", 40.0, "40 cars: 2x.")
    h = _headline("yard", (None, None), rows, baseline_track(rows), [alert], rows)
    assert h.summary.startswith("23 car equivalents at yard")
    assert "Most significant recent alert (record, high, " in h.summary
    assert h.summary.rstrip().endswith("40 cars: 2x.")


def test_a_failed_report_leaves_the_earlier_one_whole(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The PDF was written in place: a failure half way (here a page that cannot be
    drawn; a full disk, Ctrl-C) left a truncated PDF and a new HTML report beside it."""
    db = Database(db_url)
    out = tmp_path / "yard.html"
    build_report(db, "testyard", out, pdf=True)
    out.with_suffix(".pdf").chmod(0o640)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}

    class DiskFull(PdfPages):  # the disk fills up after the first page
        def savefig(self, figure: Any = None, **kwargs: Any) -> None:
            if self.get_pagecount() >= 1:
                raise OSError(28, "No space left on device")
            super().savefig(figure, **kwargs)

    monkeypatch.setattr(pdf_mod, "PdfPages", DiskFull)
    with pytest.raises(InputError, match="No space left on device"):
        build_report(db, "testyard", out, pdf=True)
    with pytest.raises(OSError, match="No space left on device"):
        pdf_mod.write_pdf(build_report_data(db, "testyard"), out.with_suffix(".pdf"))
    after = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    assert after == before  # same files, same bytes: no temporary left
    monkeypatch.undo()
    build_report(db, "testyard", out, pdf=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["yard.html", "yard.pdf"]
    assert out.with_suffix(".pdf").stat().st_mode & 0o777 == 0o640  # kept
    assert re.search(rb"%%EOF\s*$", out.with_suffix(".pdf").read_bytes())
