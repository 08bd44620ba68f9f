"""The PDF's table of key images says in full why each image is listed (session 38).

The demo's table cut each "listed for" cell at 44 characters: the image before the
whole rise read "before image of 2023-12-02; before image of…" (it is the before image
of five alerts) and the record's own image "latest images; highest count; previous
reco…".
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from railwatch.report.model import Headline, ReportData, SceneRow
from railwatch.report.pdf import _key_image_pages, listed_for

T0 = datetime(2024, 1, 1, 2, 0, tzinfo=UTC)


def test_the_alerts_an_image_is_the_before_image_of_are_said_once() -> None:
    why = (
        "before image of 2023-12-02",
        "before image of 2023-10-23",
        "before image of 2023-10-05",
        "before image of 2023-09-25",
        "before image of 2023-09-20",
    )
    assert listed_for(why) == "before image of 5 alerts, 2023-09-20 to 2023-12-02"
    assert listed_for(("before image of 2024-02-25", "record medium")) == (
        "before image of 2024-02-25; record medium"
    )
    assert listed_for(("latest images", "latest usable")) == "latest images; latest usable"


def _cells(data: ReportData) -> list[str]:
    """The "listed for" cells of the PDF's table of key images."""
    out = []
    for fig in _key_image_pages(data, None):
        table = fig.axes[0].tables[0]
        cells = table.get_celld()
        last = max(col for _, col in cells)
        out += [cells[r, last].get_text().get_text() for r, c in sorted(cells) if c == last and r]
    return out


def test_the_records_own_image_is_listed_in_full() -> None:
    # 60 images (more than the PDF lists whole): the highest count, 230, is the
    # headline's previous record and among the latest images
    rows = tuple(
        SceneRow(
            i, T0 + timedelta(days=5 * i), "S", 0.5, True, 1.0, 1.0, c, c, c, {"railcar": c},
            0, "objects",
        )
        for i, c in ((i, 230.0 if i == 58 else 10.0 + i) for i in range(60))
    )  # fmt: skip
    data = ReportData(
        site="key", description="", generated=T0, scenes=rows, baseline=(), events=(),
        alerts=(), evidence=(), caveats=(), method=(), classes=("railcar",),
        headline=Headline("key", (None, None), rows[-1], 69.0, 69.0, 69.0, 230.0, None, "s"),
    )  # fmt: skip
    cells = _cells(data)
    assert "latest images; highest count; previous record" in cells
    assert not any(c.endswith("\u2026") for c in cells)
