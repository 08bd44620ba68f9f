"""A chip's white dashed line, the site's boundary, is named in its legend and in the
HTML figure's caption (session 32, 2026-12-05): it was drawn on every before/after view
of the demo and explained nowhere; and the chart's caption names the length counts'
resolutions as the counter uses them (1.5-10 m; it said 1.5-5 m)."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
from matplotlib.legend import Legend

from railwatch.detect.coarse import LENGTH_GSD, PRESENCE_GSD
from railwatch.report.chips import OUTLINE_LABEL, chip_figure, pair_figure
from railwatch.report.model import ChipImage

T = datetime(2024, 6, 7, 2, 9, tzinfo=UTC)
SQUARE = ((10.0, 10.0), (90.0, 10.0), (90.0, 90.0), (10.0, 90.0), (10.0, 10.0))


def _chip(outline: tuple[tuple[float, float], ...] = SQUARE) -> ChipImage:
    return ChipImage(
        image=np.full((100, 100, 3), 120, dtype=np.uint8),
        gsd=0.5,
        detections=(),
        title=f"Alert image: {T:%Y-%m-%d}",
        caption=("sim",),
        window=(0, 100, 0, 100),
        site_outline=outline,
    )


def _legend_texts(fig: object) -> list[str]:
    legends = [c for c in fig.get_children() if isinstance(c, Legend)]  # type: ignore[attr-defined]
    return [t.get_text() for leg in legends for t in leg.get_texts()]


def test_a_chip_with_the_site_outline_names_it_in_its_legend() -> None:
    assert OUTLINE_LABEL in _legend_texts(chip_figure(_chip()))
    assert OUTLINE_LABEL in _legend_texts(pair_figure(_chip(), _chip()))


def test_a_chip_without_an_outline_does_not() -> None:
    assert OUTLINE_LABEL not in _legend_texts(chip_figure(_chip(outline=())))


def test_the_html_captions_name_the_outline_and_the_length_resolutions() -> None:
    from importlib.resources import files

    template = (files("railwatch.report") / "templates" / "report.html.j2").read_text()
    # a sentence of its own where no car is outlined (session 38)
    assert "white dashed line: the site's boundary" in template.lower()
    from railwatch.report.html import _environment

    env = _environment()
    span = f"{LENGTH_GSD:g}\u2013{PRESENCE_GSD:g} m"
    assert env.from_string("{{ length_range() }}").render() == span
    assert "(1.5–5 m images)" not in template
