"""The alerts section of a site watched for years: the alerts without images are table
rows grouped by year in runs between the alerts with images (newest first, as before),
long runs folded under a line that counts them by severity; not one paragraph each."""

from __future__ import annotations

import dataclasses
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

from railwatch.report.html import FOLD_ALERTS, alert_blocks, render_html
from railwatch.report.model import (
    AlertRow,
    ChipImage,
    Evidence,
    Headline,
    ReportData,
)

T0 = datetime(2024, 12, 1, tzinfo=UTC)
SEVERITIES = ("info", "low", "medium", "high")


def _ev(i: int, *, image: bool = False) -> Evidence:
    alert = AlertRow(
        f"k{i}",
        ("record", "spike", "shift", "drop")[i % 4],
        SEVERITIES[i % 4],
        T0 - timedelta(days=9 * i),
        "all",
        10.0,
        f"explanation {i:03d}",
    )
    chip = ChipImage(
        image=np.full((8, 8, 3), 100, dtype=np.uint8),
        gsd=0.5,
        detections=(),
        title="t",
        caption=("c",),
        window=(0, 8, 0, 8),
    )
    return Evidence(alert=alert, after=chip if image else None, before=None, notes=(f"n{i}",))


def _data(evidence: list[Evidence]) -> ReportData:
    headline = Headline("s", (None, None), None, None, None, None, None, None, "x")
    kw: dict[str, Any] = {"scenes": (), "baseline": (), "events": (), "caveats": (), "method": ()}
    return ReportData(
        site="s",
        description="",
        generated=T0,
        headline=headline,
        alerts=tuple(e.alert for e in evidence),
        evidence=tuple(evidence),
        classes=(),
        **kw,
    )


def test_blocks_keep_the_order_and_fold_long_runs() -> None:
    evidence = [_ev(i, image=i in (5, 100)) for i in range(250)]
    blocks = alert_blocks(evidence)
    assert [i for b in blocks for i in b.items] == list(range(250))  # newest first, each once
    assert [(b.listed, len(b.items)) for b in blocks] == [
        (True, 5),
        (False, 1),
        (True, 94),
        (False, 1),
        (True, 149),
    ]
    short, long1, long2 = (b for b in blocks if b.listed)
    assert not short.folded and short.open
    assert long1.folded and long1.open  # the newest long run stays open
    assert long2.folded and not long2.open
    assert len(long1.items) > FOLD_ALERTS
    assert "94 alerts without images" in long1.summary and "24 high" in long1.summary
    years = [y for y, _ in long2.years]
    assert years == sorted(years, reverse=True) and len(years) >= 3


def test_html_lists_250_alerts_as_table_rows_grouped_by_year() -> None:
    evidence = [_ev(i, image=i == 5) for i in range(250)]
    page = render_html(_data(evidence))
    assert page.count('<article class="alert"') == 1
    assert re.findall(r"explanation (\d{3})", page) == [f"{i:03d}" for i in range(250)]
    assert page.count('<tr class="year">') >= 7
    assert "<summary>244 alerts without images" in page
    assert all(f'id="alert-{i + 1}"' in page for i in range(250))  # every alert has an anchor


def test_a_few_alerts_without_images_are_not_folded() -> None:
    evidence = [_ev(i) for i in range(3)]
    page = render_html(_data(evidence))
    assert '<details class="alertlist" open>' in page
    assert page.count("<details") == 1
    ack = dataclasses.replace(evidence[0].alert, acknowledged=True, note="seen")
    page = render_html(_data([dataclasses.replace(evidence[0], alert=ack)]))
    assert "Acknowledged: seen" in page
