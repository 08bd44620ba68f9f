"""The HTML caption of an alert's images names car outlines only where some are drawn
(session 38): the demo's 3 m record of 2024-02-25 (two images counted by occupied
track length, green lines and no outline) was captioned "Outlines: detected railcars
coloured by class; hatched dashed outlines: covered loads ..." all the same."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import numpy as np

from railwatch.detect.base import Detection, OrientedBox
from railwatch.report.html import render_html
from railwatch.report.model import AlertRow, ChipImage, Evidence, Headline, ReportData, SceneRow

T0 = datetime(2024, 2, 25, 1, 54, tzinfo=UTC)
OUTLINES = "Outlines: detected railcars coloured by class"


def _chip(title: str, *, cars: bool) -> ChipImage:
    gsd = 3.0 if not cars else 0.5
    dets = (Detection(OrientedBox(50.0, 50.0, 28.0, 6.0, 0.0), cls="railcar", score=0.9),)
    run = ((10.0, 40.0), (90.0, 40.0))  # a stretch of track read as occupied
    return ChipImage(
        np.full((100, 200, 3), 120, dtype=np.uint8), gsd, dets if cars else (), title,
        ("caption",), (0, 100, 0, 200), occupied=() if cars else (run,),
    )  # fmt: skip


def _caption(cars: bool) -> str:
    rows = (
        SceneRow(1, T0 - timedelta(days=100), "S", 3.0, True, 1.0, 1.0, 65.5, 38.3, 126.7),
        SceneRow(2, T0, "S", 3.0, True, 1.0, 1.0, 161.0, 93.4, 312.4),
    )
    alert = AlertRow("r", "record", "high", T0, "all", 161.0, "161 car equivalents", scene_id=2)
    ev = Evidence(
        alert, _chip("Alert image", cars=cars), _chip("Before", cars=cars), rows[1], rows[0]
    )
    data = ReportData(
        site="cap", description="", generated=T0, scenes=rows, baseline=(), events=(),
        alerts=(alert,), evidence=(ev,), caveats=(), method=(), classes=(),
        headline=Headline("cap", (None, None), rows[1], 161.0, 93.4, 312.4, None, None, "s"),
    )  # fmt: skip
    (caption,) = re.findall(r"<figcaption>(.*?)</figcaption>", render_html(data), re.S)[1:]
    return " ".join(caption.split())


def test_images_without_outlines_are_not_captioned_with_outlines() -> None:
    caption = _caption(cars=False)
    assert OUTLINES not in caption and "covered loads" not in caption
    assert "White dashed line: the site's boundary." in caption
    assert "Green lines along the track" in caption


def test_images_with_outlines_keep_their_caption() -> None:
    caption = _caption(cars=True)
    assert OUTLINES in caption and "hatched dashed outlines: covered loads" in caption
    assert "Green lines along the track" not in caption
