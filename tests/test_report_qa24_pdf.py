"""The printed report of a busy site (ten years, 2,000 images) is short and complete: a
summary of the images by quarter and the images an analyst needs one by one, saying
where the full list is, instead of a table of every image (100+ pages, session 24's QA).
Info alerts are one paragraph each; many alert images share one covered-loads caveat."""

from __future__ import annotations

import math
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from matplotlib.figure import Figure
from matplotlib.text import Text

from railwatch.analysis.types import Alert
from railwatch.report import build_report, build_report_data
from railwatch.report import pdf as pdf_mod
from railwatch.report.caveats import build_caveats
from railwatch.report.images import image_summary, key_images
from railwatch.report.model import AlertRow, ChipImage, Evidence, ReportData, SceneRow
from railwatch.report.pdf import _alert_list_pages, _image_pages, write_pdf
from railwatch.sites import SiteSpec
from railwatch.storage import Database, repo
from report_db import SITE_UTM, FakeCount, FakeInfo, FakeQuality, to_wgs84

N_SCENES = 2000
T0 = datetime(2014, 6, 1, 3, tzinfo=UTC)
SITE = "busy"


def _info(i: int, when: datetime, gsd: float) -> FakeInfo:
    return FakeInfo(
        uri=f"/nowhere/busy-{i}.tif",  # no file: the chips say the image could not be read
        content_hash=f"{i:064d}",
        acquired=when,
        crs="EPSG:32652",
        footprint=to_wgs84(SITE_UTM),
        gsd=gsd,
        width=100,
        height=100,
    )


def populate_busy(db: Database) -> dict[str, Any]:
    """Ten years of images (one every 1.8 days, every fifth unusable, every eighth a 3 m
    length count), one event, 6 alerts above info and 30 info alerts."""
    when_of: dict[int, datetime] = {}
    counts: dict[int, float] = {}
    with db.session() as s:
        site = repo.add_site(s, SiteSpec(name=SITE, geometry=to_wgs84(SITE_UTM)))
        for i in range(N_SCENES):
            when = T0 + timedelta(days=1.8 * i)
            coarse = i % 8 == 7
            scene, _ = repo.add_scene(s, site, _info(i, when, 3.0 if coarse else 0.5), 1.0)
            when_of[scene.id] = when
            if i % 5 == 3:
                quality = FakeQuality(0.3, cloud_fraction=0.7, usable=False, reasons=("cloud",))
                repo.record_scene_result(s, scene.id, quality, [], None, "test", "1")
                continue
            k = float(round(8 + 4 * math.sin(i / 50.0)) + (30 if i == 1500 else 0))
            count = FakeCount(k, k - 1, k + 1, {"tank": (k, k, k)}, 1)
            if coarse:
                count = FakeCount(k, k * 0.7, k * 1.4, {}, 0, method="length")
            repo.record_scene_result(s, scene.id, FakeQuality(0.97), [], count, "test", "1")
            counts[scene.id] = k
        ids = sorted(counts)
        alerts = [
            Alert(f"a{j}", "spike", sev, when_of[sid], "all", counts[sid], f"spike {j}. More.",
                  scene_id=sid)
            for j, (sev, sid) in enumerate(
                zip(["high", "medium", "low"] * 2, ids[100::250], strict=False)
            )
        ]  # fmt: skip
        alerts += [
            Alert(f"i{j}", "record", "info", when_of[sid], "all", counts[sid],
                  f"info record {j:02d} first sentence. Second sentence {j:02d}.", scene_id=sid)
            for j, sid in enumerate(ids[50::45])
        ]  # fmt: skip
        repo.replace_alerts(s, site, alerts)
    return {"alerts": alerts}


@pytest.fixture(scope="module")
def busy(tmp_path_factory: pytest.TempPathFactory) -> tuple[Database, ReportData, dict[str, Any]]:
    db = Database(f"sqlite:///{tmp_path_factory.mktemp('busy') / 'rw.db'}")
    info = populate_busy(db)
    return db, build_report_data(db, SITE), info


def _texts(figs: list[Figure]) -> str:
    return "\n".join(t.get_text() for fig in figs for t in fig.findobj(Text) if t.get_text())


def test_a_busy_site_pdf_is_short(
    busy: tuple[Database, ReportData, dict[str, Any]], tmp_path: Path
) -> None:
    """2,000 images made 72 pages of image table (2,300 made the PDF 117 pages)."""
    _, data, _ = busy
    assert len(data.scenes) == N_SCENES
    out = write_pdf(data, tmp_path / "busy.pdf")
    pages = len(re.findall(rb"/Type\s*/Page\b", out.read_bytes()))
    assert pages <= 25
    assert len(_image_pages(data, None)) <= 4


def test_every_image_is_in_the_summary_and_the_needed_ones_are_listed(
    busy: tuple[Database, ReportData, dict[str, Any]],
) -> None:
    _, data, info = busy
    step, bins = image_summary(data)
    assert step == "quarter" and 36 <= len(bins) <= 42
    assert sum(b.images for b in bins) == N_SCENES
    assert sum(b.counted for b in bins) == sum(1 for r in data.scenes if r.counted)
    assert bins[0].not_counted.startswith("cloud ")
    chosen, left_out = key_images(data)
    assert left_out == 0 and 10 < len(chosen) < 60
    ids = {k.row.scene_id for k in chosen}
    why = {k.row.scene_id: k.why for k in chosen}
    assert data.headline.latest is not None and data.headline.latest.scene_id in ids
    assert max(data.scenes, key=lambda r: r.when).scene_id in ids  # latest, even unusable
    for alert in info["alerts"]:  # every alert above info, with why
        if alert.severity != "info":
            assert f"spike {alert.severity}" in why[alert.scene_id]
    highest = max((r for r in data.scenes if r.counts_cars and r.method == "objects"),
                  key=lambda r: r.total or 0.0)  # fmt: skip
    assert "highest count" in why[highest.scene_id]
    assert [k.row.when for k in chosen] == sorted((k.row.when for k in chosen), reverse=True)


def test_the_pdf_says_where_the_full_list_is(
    busy: tuple[Database, ReportData, dict[str, Any]],
) -> None:
    _, data, _ = busy
    text = " ".join(_texts(_image_pages(data, None)).split())
    assert f"{N_SCENES} images in this period" in text
    assert "Images by quarter" in text and "listed one by one" in text
    assert f"railwatch export {SITE} --format csv" in text
    assert f"railwatch report {SITE} --since 2014-06-01" in text
    beside = " ".join(_texts(_image_pages(data, "the HTML report beside this PDF, x.html")).split())
    assert "the HTML report beside this PDF, x.html" in beside


def test_build_report_names_the_html_beside_the_pdf(
    busy: tuple[Database, ReportData, dict[str, Any]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    db, _, _ = busy
    texts: list[str] = []

    class Pages:  # keeps each page's text instead of writing a PDF
        def __init__(self, path: Path, **_: object) -> None:
            Path(path).write_bytes(b"%PDF-")

        def __enter__(self) -> Pages:
            return self

        def __exit__(self, *_: object) -> None:
            pass

        def savefig(self, fig: Figure) -> None:
            texts.append(_texts([fig]))

    monkeypatch.setattr(pdf_mod, "PdfPages", Pages)
    build_report(db, SITE, tmp_path / "yard-2024.html", pdf=True)
    text = " ".join(" ".join(texts).split())
    assert "the HTML report beside this PDF, yard-2024.html (section Images)" in text


def test_a_short_period_still_lists_every_image(
    busy: tuple[Database, ReportData, dict[str, Any]],
) -> None:
    db, _, _ = busy
    data = build_report_data(
        db, SITE, date_from=datetime(2020, 1, 1).date(), date_to=datetime(2020, 1, 31).date()
    )
    assert 10 < len(data.scenes) <= 28
    pages = _image_pages(data, None)
    assert len(pages) == 1
    assert pages[0].texts[1].get_text() == f"Images 1–{len(data.scenes)} of {len(data.scenes)}"


def _ev(i: int, severity: str, covered: int = 0) -> Evidence:
    row = SceneRow(i, T0 + timedelta(days=i), "S", 0.5, True, 0.9, 1.0, 20.0, 19.0, 21.0,
                   {"tank": 20.0}, covered, "objects")  # fmt: skip
    text = f"Alert {i:03d} first sentence (about 20 cars, 1.2×). Second sentence {i:03d}."
    alert = AlertRow(f"k{i}", "record", severity, row.when, "all", 20.0, text, scene_id=i)
    return Evidence(alert, None, None, after_row=row)


def test_info_alerts_are_one_paragraph_each_in_the_pdf(
    busy: tuple[Database, ReportData, dict[str, Any]],
) -> None:
    """A ten-year site's 97 info alerts, each a full explanation and a blank line, took
    17 of its pages."""
    _, data, _ = busy
    evidence = [_ev(i, "info") for i in range(60)] + [_ev(100, "high")]
    pages = _alert_list_pages(data, evidence)
    text = _texts(pages)
    assert len(pages) <= 2
    assert re.findall(r"Alert (\d{3}) first", text) == [f"{i:03d}" for i in [*range(60), 100]]
    assert "Second sentence 005" not in text  # an info alert: its first sentence
    assert "Second sentence 100" in text  # an alert above info: whole
    assert f"railwatch alerts {SITE}" in text


def test_many_alert_images_share_one_covered_caveat() -> None:
    """One 'contents cannot be identified' caveat per alert image: 80 lines on a ten-year
    site. Those of the images shown stay; the others are summed up in one."""
    evidence = [_ev(i, "low", covered=i % 5) for i in range(40)]
    caveats = build_caveats([ev.after_row for ev in evidence if ev.after_row], evidence)
    covered = [c for c in caveats if "contents cannot be identified" in c or "no load" in c]
    assert len(covered) == 1
    assert (
        "At the 40 other alert images, contents cannot be identified for 80 of 800 cars"
        in (covered[0])
    )
    # the images drawn (with images) get one each; since session 41 only those (up to 10
    # got one each, drawn or not: test_consistency_s41)
    chip = ChipImage(np.zeros((8, 8, 3), np.uint8), 0.5, (), "t", ("a", "b"), (0, 8, 0, 8))
    drawn = [replace(ev, after=chip) for ev in evidence[:10]]
    few = build_caveats([ev.after_row for ev in drawn if ev.after_row], drawn)
    assert sum("contents cannot be identified for" in c for c in few) == 8  # 2 have none
