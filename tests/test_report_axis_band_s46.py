"""The report chart's y axis is not raised by a wide baseline band more than by a whisker
(2026-12-07, session 46: since the band is the analysis's, session 45, its top after the
demo's rise was 700 and the axis ran to 770 over counts of at most 230, five quiet years
squeezed into the bottom sliver)."""

from __future__ import annotations

from railwatch.report.charts import Y_HEADROOM, Y_WHISKER_ROOM, y_top
from railwatch.report.model import BaselinePoint
from test_report_chart_scale_s32b import _scene


def test_a_wide_band_raises_the_axis_as_a_whisker_does() -> None:
    scenes = [_scene(i, 5.0 + (i % 16), high=6.0 + (i % 16)) for i in range(40)]
    scenes.append(_scene(40, 100.0, high=110.0))
    band = [
        BaselinePoint(when=s.when, centre=12.0, low=2.0, high=700.0, record=20.0) for s in scenes
    ]
    top = y_top(scenes, band)
    assert top <= 100.0 * (1 + Y_WHISKER_ROOM) + 1e-9  # was 770
    assert top >= 110.0  # the counts' own whiskers still fit
    # a narrow band changes nothing
    narrow = [
        BaselinePoint(when=s.when, centre=12.0, low=8.0, high=16.0, record=20.0) for s in scenes
    ]
    assert y_top(scenes, narrow) == y_top(scenes) == max(100.0 * (1 + Y_HEADROOM), 110.0)
