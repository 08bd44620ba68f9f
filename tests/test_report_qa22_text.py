"""Text the analyst typed (event labels, notes, sensor names) is drawn as written in the
report's charts, chips and PDF pages: matplotlib reads a string with two ``$`` as
mathtext, which garbled such labels or stopped the whole report with a parse error."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from matplotlib.text import Text

from railwatch.report import build_report
from railwatch.report.charts import timeseries_figure, to_png, to_svg
from railwatch.report.chips import chip_figure
from railwatch.report.model import ChipImage, EventRow, SceneRow
from railwatch.storage import Database, repo
from report_db import populate

T0 = datetime(2023, 1, 1, tzinfo=UTC)
BROKEN = "Fine of $x_$"  # not valid mathtext: a ValueError from the parser
GARBLED = "Deal of $2bn, then $5bn"  # valid mathtext: drawn as italic '2bn,then'


def _rows() -> list[SceneRow]:
    return [
        SceneRow(
            scene_id=i,
            when=T0 + timedelta(days=10 * i),
            sensor="S",
            gsd=0.5,
            usable=True,
            total=5.0 + i,
            low=4.0 + i,
            high=6.0 + i,
        )
        for i in range(6)
    ]


def _texts(fig: object) -> dict[str, Text]:
    return {t.get_text(): t for t in fig.findobj(Text)}  # type: ignore[attr-defined]


def test_chart_draws_event_labels_with_dollars_as_written() -> None:
    events = [EventRow(date(2023, 1, 15), BROKEN), EventRow(date(2023, 1, 25), GARBLED)]
    fig = timeseries_figure(_rows(), events=events, title="Railcars at $yard$")
    texts = _texts(fig)
    for label in (f" {BROKEN}", f" {GARBLED}", "Railcars at $yard$"):
        assert texts[label].get_parse_math() is False, label
    assert to_svg(fig).startswith(b"<?xml")  # the parse error stopped the report here


def test_chip_title_and_caption_with_dollars_are_drawn_as_written() -> None:
    chip = ChipImage(
        image=np.full((64, 64, 3), 120, dtype=np.uint8),
        gsd=0.5,
        detections=(),
        title=f"Alert image: {BROKEN}",
        caption=("Sensor $A_$", "count 5"),
        window=(0, 64, 0, 64),
    )
    fig = chip_figure(chip)
    assert _texts(fig)[f"Alert image: {BROKEN}"].get_parse_math() is False
    assert to_png(fig).startswith(b"\x89PNG")


@pytest.mark.parametrize("label", [BROKEN, GARBLED])
def test_report_and_pdf_with_a_dollar_event_label_and_note(tmp_path: Path, label: str) -> None:
    db = Database(f"sqlite:///{tmp_path / 'rw.db'}")
    populate(db, tmp_path / "scenes")
    with db.session() as s:
        site = repo.get_site(s, "testyard")
        repo.add_event(s, site, date(2022, 6, 1), label)
        alert = repo.list_alerts(s, site, active_only=True)[0]
        alert.acknowledged = True
        alert.ack_note = f"checked: {label}"
    html = build_report(db, "testyard", tmp_path / "r.html", pdf=True)
    assert label in html.read_text(encoding="utf-8")
    assert html.with_suffix(".pdf").read_bytes().startswith(b"%PDF")
