"""What an analyst saw wrong on the demo's PDF report (session 33's audit): the image
tables' text ran across their columns, an unusable image's reason was cut without a
mark, an info alert's ellipsis wrapped onto a line of its own, and the chips' legend
wrote the length counts' resolutions out ("1.5-10 m") instead of following the
counting's settings as the chart does."""

from __future__ import annotations

from datetime import UTC, datetime
from importlib import resources
from types import SimpleNamespace
from typing import cast

import pytest
from matplotlib.figure import Figure

from railwatch.detect import coarse
from railwatch.report.chips import draw_legend
from railwatch.report.model import ReportData, SceneRow
from railwatch.report.pdf import (
    PAGE,
    _draw_table,
    _page,
    _table_rows,
    _wrap,
    first_sentence,
)

#: Rows as the demo's table of key images had them (counts of digits and brackets, the
#: reasons an image was listed for, an unusable image's reason).
HEADER = [
    "date (UTC+9 nominal)",
    "sensor",
    "GSD m",
    "usable",
    "clear",
    "coverage",
    "count",
    "boxcar",
    "tank",
    "container",
    "railcar",
    "covered",
    "method",
    "listed for",
]
ROWS = [
    ["2024-07-27 11:27", "PlanetScope-sim", "3.00", "yes", "95 %", "100 %",
     "149.1 [82.3–307.1]", "–", "–", "–", "–", "–", "length", "latest images"],
    ["2024-06-28 10:40", "PlanetScope-sim", "3.00", "no: haze covers 99 % of the",
     "1 %", "100 %", "–", "", "", "", "", "", "", "latest images"],
    ["2024-06-17 10:33", "SkySat-sim", "0.50", "yes", "100 %", "100 %", "231 [201–395]",
     "–", "65", "–", "166", "14", "objects", "latest images; highest count; previous reco…"],
    ["2023-12-28 10:40", "SkySat-sim", "0.50", "yes", "95 %", "100 %", "137 [116–236.2]",
     "1", "6", "–", "130", "66", "objects", "before image of 2024-02-22; before image of…"],
]  # fmt: skip


def _overflows(fig: Figure) -> list[str]:
    """The cells of the figure's table whose text reaches beyond the cell's sides."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    out = []
    for ax in fig.axes:
        for table in ax.tables:
            for (row, col), cell in table.get_celld().items():
                box = cell.get_window_extent(renderer)
                text = cell.get_text().get_window_extent(renderer)
                if text.x0 < box.x0 - 0.5 or text.x1 > box.x1 + 0.5:
                    out.append(f"{row},{col}: {cell.get_text().get_text()!r}")
    return out


@pytest.mark.parametrize("dpi", [72, 100, 150])
def test_the_table_text_stays_inside_its_columns(dpi: int) -> None:
    fig = _page()
    fig.set_dpi(dpi)
    _draw_table(fig, HEADER, ROWS, [False, True, False, False])
    assert _overflows(fig) == []


def test_a_wide_table_gets_a_smaller_font_and_still_fits() -> None:
    """Three more classes (a site with many types): the table is made to fit the page's
    width with a smaller font rather than running over."""
    header = [*HEADER[:11], "hopper", "flatcar", "autorack", *HEADER[11:]]
    rows = [[*r[:11], "12", "3", "–", *r[11:]] for r in ROWS]
    fig = _page()
    _draw_table(fig, header, rows, [False] * len(rows))
    assert _overflows(fig) == []
    (table,) = fig.axes[0].tables
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    right = max(c.get_window_extent(renderer).x1 for c in table.get_celld().values())
    assert right <= 0.961 * PAGE[0] * fig.dpi  # inside the page's right margin


def test_an_unusable_images_reason_is_cut_with_an_ellipsis() -> None:
    """The table's 'usable' column was cut at 28 characters without a mark."""
    row = SceneRow(
        scene_id=1,
        when=datetime(2024, 6, 28, 1, 40, tzinfo=UTC),
        sensor="PlanetScope-sim",
        gsd=3.0,
        usable=False,
        clear_fraction=0.01,
        coverage=1.0,
        reasons=("haze covers 99 % of the site",),
    )
    (cells,) = _table_rows(cast(ReportData, SimpleNamespace(classes=())), [row])
    # the last column, as in the HTML report's table (the fourth before session 46)
    assert cells[-1] == "no: haze covers 99 % of the…"


def test_an_info_alerts_ellipsis_stays_on_its_sentences_line() -> None:
    """As the list of alerts without images writes an info alert (pdf._alert_list_pages):
    the demo's 2023-03-10 shift ended on a line holding '…' alone."""
    explanation = (
        "The level of railcars shifted up from about 1.2 to about 7 (5.2×) from "
        "2023-02-26: 2 usable images in a row (2023-02-26: 7, 2023-03-10: 7) are above the "
        "usual range (1.2 ± 1.9), 4.0 spreads in all beyond it, so this is a sustained "
        "change, not one image (history: 4.9 years, 114 usable images). Raised once; the "
        "new level is the baseline from here on."
    )
    line = f"2023-03-10 · info · shift · site total: {first_sentence(explanation)}"
    lines = _wrap(line, 170, 8).split("\n")
    assert lines[-1].endswith("images).\u00a0…"), lines
    assert all(text.strip() != "…" for text in lines)


def test_the_chip_legend_says_the_counting_settings_range_and_car_length(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(coarse, "PRESENCE_GSD", 8.0)
    monkeypatch.setattr(coarse, "CONVENTIONAL_CAR_M", 15.0)
    fig = _page()
    draw_legend(fig, [], occupied=True)
    labels = [t.get_text() for leg in fig.legends for t in leg.get_texts()]
    assert "track read as occupied (1.5\u20138 m: car equivalents = length / 15 m)" in labels


def test_the_html_chip_caption_takes_the_range_and_car_length_from_the_settings() -> None:
    """The HTML report's caption under a length count's chips wrote "1.5–10 m" and
    "14 m" out; it now calls the same functions as the chart's caption (a check of the
    template's text: rendering it needs a length count's chips)."""
    template = resources.files("railwatch.report").joinpath("templates/report.html.j2")
    text = template.read_text(encoding="utf-8")
    caption = text[text.index("Green lines along the track") :].split("{% endif %}")[0]
    assert "1.5–10 m" not in caption and "14 m" not in caption
    assert "length_range()" in caption and "car_equivalent_m()" in caption


def test_a_caveats_further_lines_are_indented_under_its_first() -> None:
    """The caveats and method pages: a caveat's second line began at the margin, as the
    next caveat does, and read as a caveat of its own."""
    from railwatch.report.pdf import _text_pages

    caveat = (
        "45 counts come from images taken with the sun below 30° (2018-11-23 (24.9°), "
        "2018-11-24 (24.2°), 2018-11-27 (26.4°), 2018-12-20 (22.3°), 2018-12-29 (22.5°) and "
        "40 more): cars then cast long shadows, dark strips of a car's size beside them, "
        "which the detector may count as cars."
    )
    data = SimpleNamespace(
        site="yard",
        caveats=(caveat, "Each count is a snapshot at the image's acquisition time."),
        events=(),
        method=(("alert thresholds", ", ".join(f"threshold_{i}={i}.0" for i in range(30))),),
    )
    (page,) = _text_pages(cast(ReportData, data))
    body = next(t.get_text() for t in page.texts if "• 45 counts" in t.get_text())
    lines = body.split("\n")
    first = lines.index(next(line for line in lines if line.startswith("• 45 counts")))
    after = lines.index("• Each count is a snapshot at the image's acquisition time.")
    assert after > first + 1  # the caveat took more than a line
    assert all(line.startswith("   ") and line.strip() for line in lines[first + 1 : after])
    method = lines.index(next(line for line in lines if line.startswith("alert thresholds")))
    assert lines[method + 1].startswith("   threshold_"), lines
