"""The analyst's brief walk, followed up (session 50): each pair of before/after images is
drawn once (the rise's PDF drew the pair of 2023-09-25 on 4 of its 13 alert pages; the
HTML drew it twice, once for the site total and once for the untyped railcars); the PDF's
first page gives the site's description as the HTML's header does; the covered shares of
the caveats are written "43 %" as the rest of the report writes them (they read "(43%)");
"1 of 1 occupied-length counts were made" reads "The one occupied-length count was made"."""

from __future__ import annotations

import dataclasses
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
from matplotlib.figure import Figure
from matplotlib.image import AxesImage
from matplotlib.text import Text

from railwatch.report.caveats import build_caveats, covered_caveat, covered_summary
from railwatch.report.html import render_html
from railwatch.report.model import (
    AlertRow,
    ChipImage,
    Evidence,
    Headline,
    ReportData,
    SceneRow,
)
from railwatch.report.pdf import _alert_pages, _first_page

NOW = datetime(2023, 10, 1, tzinfo=UTC)


def _chip(title: str) -> ChipImage:
    return ChipImage(
        image=np.full((8, 16, 3), 100, dtype=np.uint8),
        gsd=0.5,
        detections=(),
        title=title,
        caption=("c",),
        window=(0, 8, 0, 16),
    )


def _row(k: int, *, total: float = 20.0, covered: int | None = None, **kw: Any) -> SceneRow:
    return SceneRow(
        scene_id=k, when=NOW - timedelta(days=10 * k), sensor="S", gsd=0.5, usable=True,
        clear_fraction=1.0, coverage=1.0, total=total, low=total - 2, high=total + 2,
        covered=covered, method=kw.pop("method", "objects"), **kw,
    )  # fmt: skip


def _ev(key: str, kind: str, cls: str, after: SceneRow, before: SceneRow) -> Evidence:
    alert = AlertRow(
        key, kind, "high", after.when, cls, 10.0,
        f"Explanation of {key}. It says more.", scene_id=after.scene_id,
    )  # fmt: skip
    # each alert its own chips, as the builder makes them for each class (its captions
    # give the class's count): the same images all the same
    return Evidence(
        alert=alert,
        after=_chip(f"Alert image: {after.day}"),
        before=_chip(f"Before: {before.day}"),
        after_row=after,
        before_row=before,
    )


def _data(evidence: list[Evidence], description: str = "") -> ReportData:
    headline = Headline("s", (None, None), None, None, None, None, None, None, "Headline.")
    kw: dict[str, Any] = {"baseline": (), "events": (), "caveats": (), "method": ()}
    scenes = tuple(
        {r.scene_id: r for ev in evidence for r in (ev.after_row, ev.before_row) if r}.values()
    )
    return ReportData(
        site="s", description=description, generated=NOW, headline=headline,
        alerts=tuple(e.alert for e in evidence), evidence=tuple(evidence), classes=(),
        scenes=scenes, **kw,
    )  # fmt: skip


def _texts(fig: Figure) -> str:
    return "\n".join(t.get_text() for t in fig.findobj(Text) if t.get_text())


def _rise() -> list[Evidence]:
    """The rise's alerts of 2023-09-25 (newest first as the report lists them): the
    record and the shift of the site total, the covered loads' record on another before
    image, and the record and shift of the untyped railcars on the total's images."""
    after, before, other = _row(1), _row(3), _row(5)
    total, railcar = (
        _ev("t", "record", "all", after, before),
        _ev("r", "record", "railcar", after, before),
    )

    def on(ev: Evidence, key: str, kind: str) -> Evidence:
        # one class's alerts of one image share their chips (builder._evidence)
        return dataclasses.replace(
            ev,
            alert=dataclasses.replace(
                ev.alert, key=key, kind=kind, explanation=f"Explanation of {key}. It says more."
            ),
        )

    return [
        on(total, "total-record", "record"),
        on(total, "total-shift", "shift"),
        _ev("covered-record", "record", "covered", after, other),
        on(railcar, "railcar-record", "record"),
        on(railcar, "railcar-shift", "shift"),
    ]


def test_each_pair_of_images_is_drawn_once_in_the_pdf() -> None:
    evidence = _rise()
    pages = _alert_pages(_data(evidence))
    # one page per pair of images: there were 5, the total's pair on 4 of them
    assert len(pages) == 2
    drawn = [len(p.findobj(AxesImage)) for p in pages]
    assert drawn == [2, 2], drawn
    texts = [_texts(p) for p in pages]
    # every alert's explanation is kept, on the page of its images or after it, in order
    said = [re.findall(r"Explanation of ([a-z-]+)\.", t) for t in texts]
    assert [k for ks in said for k in ks] == [ev.alert.key for ev in evidence], said
    # the alerts on an earlier page's images name it (the PDF's page 2: the first page's
    # after) and the alert they are drawn for
    where = "Its images are on page 2, drawn for the alert record · high · 2023-09-21 · site total."
    above = "Its images are above, drawn for the alert record · high · 2023-09-21 · site total."
    # the total's shift, under its images on their page: "above" (it said "on page 2"
    # on page 2 until the review of session 50)
    assert texts[0].count(above) == 1 and where not in texts[0]
    assert texts[1].count(where) == 2  # the untyped railcars' record and shift
    assert "Alerts without images of their own, newest first" in texts[1]
    # the heading counts the alerts shown with images, those on another's pair too, as
    # the HTML does
    assert "images are shown for the 5 most severe alerts above info" in texts[1], texts[1]
    from railwatch.report.model import shown_before  # the rule, for the HTML too

    assert shown_before(evidence) == {1: 0, 3: 0, 4: 0}


def test_each_pair_of_images_is_drawn_once_in_the_html() -> None:
    page = render_html(_data(_rise()))
    # two pairs: the images of the railcars' alerts were drawn again (their chips are
    # the class's, their captions giving its count), 3 pairs in all
    assert page.count('<img src="data:image/jpeg') == 2
    assert page.count('Same images as <a href="#alert-1">the alert above</a>') == 3
    assert "the alert above</a>: record · high · 2023-09-21 · site total." in page


def test_the_pdf_gives_the_sites_description() -> None:
    about = "Tumangang rail facility (DPRK–Russia border), simulated after the reported counts."
    evidence = [_rise()[0]]
    text = _texts(_first_page(_data(evidence, about)))
    assert about in text
    from railwatch.report.pdf import DESCRIPTION_CUT, description_lines

    assert description_lines("") == []
    # a long one in two lines, cut where it says so; its line breaks are spaces
    long = description_lines("word\nword " * 400)
    assert len(long) == 2 and long[-1].endswith(DESCRIPTION_CUT) and "\n" not in long[0]


def test_covered_shares_have_a_space_before_the_percent_sign() -> None:
    row = _row(1, total=23.0, covered=10)
    assert covered_caveat(row) == (
        f"{row.day}: contents cannot be identified for 10 of 23 cars (43 %): their loads are "
        "under tarpaulins or sheets."
    )
    text = covered_summary([_row(1, total=10.0, covered=2), _row(2, total=20.0, covered=10)])
    assert text is not None and "(40 %; at 2 of the images, 20 % to 50 % of their cars)" in text
    assert not re.search(r"\d%", text)


def test_one_registered_length_count_is_one() -> None:
    reg = {"version": "1", "references": 5, "dx_m": 3.0, "dy_m": -4.0, "response": 0.9}
    text = " ".join(build_caveats([_row(1, method="length", registration=reg)]))
    assert (
        "The one occupied-length count was made after registering its image to the site's "
        "other images (the track lines moved with it by 5.0 m)." in text
    ), text
    assert "1 of 1" not in text and "in the median" not in text
    # more than one: as before
    rows = [_row(k, method="length", registration=reg) for k in (1, 2)]
    text = " ".join(build_caveats([*rows, _row(3, method="length")]))
    assert "2 of 2 occupied-length counts were made after registering their images" in text
    assert "5.0 m in the median, 5.0 m at most" in text
