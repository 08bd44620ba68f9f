"""The image tables tell a type's 0 from a type the count cannot tell (session 38).

An image counted one by one on which the detector named no tank car has 0 tank cars
(the export's ``count_tank`` says 0); an image counted by occupied track length (3 m)
cannot tell types at all. Both tables, the HTML's and the PDF's, printed a dash for
either, so an analyst could not tell "none" from "not told".
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser

from railwatch.report.html import render_html
from railwatch.report.model import Headline, ReportData, SceneRow
from railwatch.report.pdf import _image_header, _table_rows

T0 = datetime(2023, 10, 5, 2, 5, tzinfo=UTC)
NINE = timedelta(hours=9)


def _data() -> ReportData:
    rows = (
        # counted one by one: 68 cars, none of them named a tank, 40 covered
        SceneRow(
            1, T0, "SkySat", 0.5, True, 1.0, 1.0, 68.0, 61.0, 124.0,
            {"railcar": 68.0}, 40, "objects", utc_offset=NINE,
        ),
        # counted one by one: 8 of its cars tanks, none covered
        SceneRow(
            2, T0 + timedelta(days=10), "SkySat", 0.5, True, 1.0, 1.0, 113.0, 97.0, 189.0,
            {"railcar": 105.0, "tank": 8.0}, 0, "objects", utc_offset=NINE,
        ),
        # occupied track length: no type, no covered load
        SceneRow(
            3, T0 + timedelta(days=20), "PlanetScope", 3.0, True, 1.0, 1.0, 161.04, 93.4,
            312.4, {}, None, "length", utc_offset=NINE,
        ),
        # not usable: a gap, no count at all
        SceneRow(
            4, T0 + timedelta(days=30), "SkySat", 0.5, False, 0.02, 1.0,
            reasons=("cloud and cloud shadow cover 86 % of the site",), utc_offset=NINE,
        ),
    )  # fmt: skip
    return ReportData(
        site="zeros", description="", generated=T0, scenes=rows, baseline=(), events=(),
        alerts=(), evidence=(), caveats=(), method=(("detector", "d"),),
        classes=("railcar", "tank"), utc_offset=NINE,
        headline=Headline("zeros", (None, None), rows[1], 113.0, 97.0, 189.0, None, None, "s"),
    )  # fmt: skip


#: (railcar, tank, covered) per image of :func:`_data`, as both tables must print them.
EXPECTED = [
    ("68", "0", "40"),
    ("105", "8", "0"),
    ("–", "–", "–"),
    ("", "", ""),
]


def test_pdf_table_prints_a_types_zero_and_a_dash_where_types_are_not_told() -> None:
    data = _data()
    header = _image_header(data)
    cols = [header.index(name) for name in ("railcar", "tank", "covered")]
    got = [tuple(row[i] for i in cols) for row in _table_rows(data, data.scenes)]
    assert got == EXPECTED


class _Cells(HTMLParser):
    """The header and the cells of the report's image table (section #table)."""

    def __init__(self) -> None:
        super().__init__()
        self.inside = False
        self.cell: list[str] | None = None
        self.header: list[str] = []
        self.rows: list[list[str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "section":
            self.inside = dict(attrs).get("id") == "table"
        elif self.inside and tag == "tr":
            self.rows.append([])
        elif self.inside and tag in ("td", "th"):
            self.cell = []

    def handle_endtag(self, tag: str) -> None:
        if self.inside and tag in ("td", "th") and self.cell is not None:
            text = re.sub(r"\s+", " ", "".join(self.cell)).strip()
            (self.header if tag == "th" else self.rows[-1]).append(text)
            self.cell = None

    def handle_data(self, data: str) -> None:
        if self.cell is not None:
            self.cell.append(data)


def test_html_table_prints_a_types_zero_and_a_dash_where_types_are_not_told() -> None:
    parser = _Cells()
    parser.feed(render_html(_data()))
    cols = [parser.header.index(name) for name in ("railcar", "tank", "covered")]
    got = [tuple(row[i] for i in cols) for row in parser.rows if row]
    assert got == EXPECTED
