"""A report none of whose alerts has images draws its latest usable image with its cars
(session 39). A site with one image raises no alert, so its report had no image at all:
the analyst never saw the one image with the cars it counted."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pypdf import PdfReader

import report_db
from railwatch.report import build_report, build_report_data
from railwatch.storage import Database
from report_db import Plan, populate


@pytest.fixture
def one_image(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Database:
    monkeypatch.setattr(report_db, "PLANS", (Plan(day=0, n=6),))
    db = Database(f"sqlite:///{tmp_path / 'rw.db'}")
    populate(db, tmp_path / "scenes", with_alert=False)
    return db


def test_the_one_image_is_drawn_with_its_cars(one_image: Database, tmp_path: Path) -> None:
    data = build_report_data(one_image, report_db.SITE_NAME)
    assert not data.alerts and not data.evidence
    chip = data.lone_image
    assert chip is not None and data.lone_notes == ()
    assert len(chip.detections) == 6  # the cars its count is made of, outlined
    assert chip.title.startswith("Latest usable image: 2022-01-10")

    out = build_report(one_image, report_db.SITE_NAME, tmp_path / "r.html", pdf=True)
    html = out.read_text()
    section = re.search(r'<section id="latest-image">(.*?)</section>', html, re.S)
    assert section is not None
    assert '<img src="data:image/jpeg;base64,' in section.group(1)
    assert "The only image of this report" in section.group(1)

    pages = [p.extract_text() for p in PdfReader(out.with_suffix(".pdf")).pages]
    (page,) = [t for t in pages if "Latest usable image · 2022-01-10" in t]
    assert "The only image of this report" in page
    assert "count 6 [5–7]" in page  # the chip's caption


def test_a_report_whose_alert_has_images_draws_no_other(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'rw.db'}")
    populate(db, tmp_path / "scenes")
    data = build_report_data(db, report_db.SITE_NAME)
    assert any(ev.after is not None for ev in data.evidence)
    assert data.lone_image is None
    html = build_report(db, report_db.SITE_NAME, tmp_path / "r.html").read_text()
    assert 'id="latest-image"' not in html


def test_an_image_that_cannot_be_read_says_so(one_image: Database, tmp_path: Path) -> None:
    for tif in (tmp_path / "scenes").glob("*.tif"):
        tif.unlink()
    data = build_report_data(one_image, report_db.SITE_NAME)
    assert data.lone_image is None
    assert len(data.lone_notes) == 1 and "could not be read" in data.lone_notes[0]
    html = build_report(one_image, report_db.SITE_NAME, tmp_path / "r.html").read_text()
    section = re.search(r'<section id="latest-image">(.*?)</section>', html, re.S)
    assert section is not None and "could not be read" in section.group(1)
    assert "<img" not in section.group(1)


def test_a_short_list_of_alerts_stands_under_the_image(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two images and one info alert (no images for info alerts): the alert stands under
    the latest image in the PDF, not on a page of its own after it."""
    from datetime import timedelta

    from railwatch.analysis.types import Alert
    from railwatch.storage import repo
    from railwatch.storage.models import Site

    monkeypatch.setattr(report_db, "PLANS", (Plan(day=0, n=6), Plan(day=30, n=7)))
    db = Database(f"sqlite:///{tmp_path / 'rw.db'}")
    ids = populate(db, tmp_path / "scenes", with_alert=False)["scene_ids"]
    with db.session() as s:
        site = s.query(Site).filter_by(name=report_db.SITE_NAME).one()
        alert = Alert(key="q", kind="quality", severity="info",
                      when=report_db.T0 + timedelta(days=30), cls="all", value=7.0,
                      explanation="Haze over part of the site. More.", scene_id=ids[1])  # fmt: skip
        repo.replace_alerts(s, site, [alert])
    data = build_report_data(db, report_db.SITE_NAME)
    assert data.lone_image is not None and len(data.evidence) == 1
    from railwatch.report.pdf import write_pdf

    pages = [p.extract_text() for p in PdfReader(write_pdf(data, tmp_path / "r.pdf")).pages]
    (page,) = [t for t in pages if "Haze over part of the site" in t]
    assert "Latest usable image · 2022-02-09" in page
    assert "No alert of this report has images" in page
    assert len(pages) == 4  # headline, image and alert, images, caveats and method
