"""The PDF's alert pages leave no page to one alert without images (session 39). The info
alert between two alerts with images stood alone on a page of its own, and a list of 47
info alerts left the 47th alone on its last page: a short run now stands at the foot of
the page of the alert with images before it, and a list's last page takes one alert from
the page before it."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure
from matplotlib.text import Text
from pypdf import PdfReader

from railwatch.analysis.types import Alert
from railwatch.report import build_report_data
from railwatch.report.model import AlertRow, ChipImage, Evidence, Headline, ReportData
from railwatch.report.pdf import (
    ALERT_LINES_PER_PAGE,
    HEAD_AND_FOOT_LINES,
    _alert_list_pages,
    _alert_pages,
    write_pdf,
)
from railwatch.storage import Database, repo
from railwatch.storage.models import Site
from report_db import SITE_NAME, T0, populate

NOW = datetime(2024, 12, 1, tzinfo=UTC)
CHIP = ChipImage(
    image=np.full((8, 16, 3), 100, dtype=np.uint8),
    gsd=0.5,
    detections=(),
    title="t",
    caption=("c",),
    window=(0, 8, 0, 16),
)


def _ev(i: int, severity: str, *, image: bool = False) -> Evidence:
    alert = AlertRow(
        f"k{i}", "record", severity, NOW - timedelta(days=9 * i), "all", 10.0,
        f"Alert {i:03d} first sentence. Second sentence.",
    )  # fmt: skip
    return Evidence(alert=alert, after=CHIP if image else None, before=CHIP if image else None)


def _data(evidence: list[Evidence]) -> ReportData:
    headline = Headline("s", (None, None), None, None, None, None, None, None, "x")
    kw: dict[str, Any] = {"scenes": (), "baseline": (), "events": (), "caveats": (), "method": ()}
    return ReportData(
        site="s", description="", generated=NOW, headline=headline,
        alerts=tuple(e.alert for e in evidence), evidence=tuple(evidence), classes=(), **kw,
    )  # fmt: skip


def _texts(fig: Figure) -> str:
    return "\n".join(t.get_text() for t in fig.findobj(Text) if t.get_text())


def test_an_info_alert_between_two_with_images_has_no_page_of_its_own() -> None:
    evidence = [
        _ev(0, "high", image=True),
        _ev(1, "info"),
        _ev(2, "info"),
        _ev(3, "medium", image=True),
        _ev(4, "info"),
        _ev(5, "low", image=True),
        _ev(6, "info"),
    ]
    pages = _alert_pages(_data(evidence))
    texts = [_texts(p) for p in pages]
    assert len(pages) == 3  # one per alert with images (there were 6)
    # each page: its alert, then the older alerts without images up to the next one
    for text, alerts in zip(texts, [(0, 1, 2), (3, 4), (5, 6)], strict=True):
        assert re.findall(r"Alert (\d{3}) first", text) == [f"{i:03d}" for i in alerts]
    assert "Alerts without images, newest first: 1–2 of 4" in texts[0]
    assert "Alerts without images, newest first: 3 of 4" in texts[1]
    assert "railwatch alerts s" in texts[2]  # where the info alerts' whole texts are


def test_the_newest_alerts_stand_above_the_first_with_images() -> None:
    """The report's newest alert, an info alert without images before the first alert
    with images, had a page of its own; it stands at the head of that alert's page. A
    long run after it keeps pages of its own."""
    evidence = [_ev(0, "info"), _ev(1, "high", image=True)]
    evidence += [_ev(i, "medium") for i in range(2, 12)]  # 10 alerts of 3 lines each
    pages = _alert_pages(_data(evidence))
    texts = [_texts(p) for p in pages]
    assert re.findall(r"Alert (\d{3}) first", texts[0]) == ["000", "001"]
    assert "Alerts without images, newest first: 1 of 11" in texts[0]
    assert texts[0].index("newest first: 1 of 11") < texts[0].index("Alert 001 first")
    listed = [m for t in texts[1:] for m in re.findall(r"Alert (\d{3}) first", t)]
    assert listed == [f"{i:03d}" for i in range(2, 12)]
    assert all("Alerts without images" in t for t in texts[1:])


def test_a_page_keeps_room_for_its_images() -> None:
    """Lists at both the head and the foot of one page take at most
    :data:`HEAD_AND_FOOT_LINES` lines: the rest has pages of its own."""
    n = HEAD_AND_FOOT_LINES - 3
    evidence = [*(_ev(i, "info") for i in range(4)), _ev(4, "high", image=True)]
    evidence += [_ev(i, "info") for i in range(5, 5 + n)]
    pages = _alert_pages(_data(evidence))
    assert len(pages) == 2
    assert re.findall(r"Alert (\d{3}) first", _texts(pages[0])) == [
        "000",
        "001",
        "002",
        "003",
        "004",
    ]


def test_a_list_never_ends_with_one_alert_alone() -> None:
    """Lists one line short of a page, a page and one, two pages and one."""
    n_page = ALERT_LINES_PER_PAGE
    for n in (n_page - 1, n_page, n_page + 1, 2 * n_page, 2 * n_page + 1):
        evidence = [_ev(i, "info") for i in range(n)]
        pages = _alert_list_pages(_data(evidence), evidence)
        counts = [len(re.findall(r"Alert \d{3} first", _texts(p))) for p in pages]
        assert sum(counts) == n
        assert min(counts) >= 2, (n, counts)
        last = _texts(pages[-1])
        assert f"{n - counts[-1] + 1}–{n} of {n}" in last


def test_the_written_pdf_has_no_page_of_one_info_alert(tmp_path: Path) -> None:
    """The test yard with three alerts with images and an info alert after each: every
    page holds an alert with images, the info alert below it (pypdf reads each page)."""
    db = Database(f"sqlite:///{tmp_path / 'rw.db'}")
    ids = populate(db, tmp_path / "scenes", with_alert=False)["scene_ids"]
    plan = [(14, 390, "high"), (13, 360, "info"), (11, 330, "medium"), (9, 270, "info"),
            (8, 240, "low"), (7, 210, "info")]  # fmt: skip
    with db.session() as s:
        site = s.query(Site).filter_by(name=SITE_NAME).one()
        repo.replace_alerts(s, site, [
            Alert(key=f"k{day}", kind="record" if sev != "info" else "quality", severity=sev,
                  when=T0 + timedelta(days=day), cls="all", value=5.0,
                  explanation=f"Day {day} alert. More.", scene_id=ids[i])
            for i, day, sev in plan
        ])  # fmt: skip
    data = build_report_data(db, SITE_NAME)
    assert sum(ev.after is not None for ev in data.evidence) == 3
    pdf = write_pdf(data, tmp_path / "r.pdf")
    pages = [p.extract_text() for p in PdfReader(pdf).pages]
    for day in (360, 270, 210):
        (page,) = [t for t in pages if f"Day {day} alert" in t]
        assert "Alert: record" in page  # on an alert's page with images, not alone
    assert not any("Alerts without images" in t and "Alert: " not in t for t in pages)
