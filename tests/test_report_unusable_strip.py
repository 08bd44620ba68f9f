"""Unusable images are marked just under the time axis, not on its zero line: on a
ten-year site with 600 unusable images their crosses merged into a band along 0 that
read as counts of 0 (found in session 23's report QA)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from railwatch.report.charts import UNUSABLE_DENSE, timeseries_figure
from test_report_qa23_chart import _rows


@pytest.mark.parametrize("n_unusable", [3, UNUSABLE_DENSE + 50])
def test_unusable_marks_lie_under_the_axis(n_unusable: int) -> None:
    rows = _rows(400)
    rows = [
        replace(r, usable=False, total=None, low=None, high=None, by_class={}, method=None)
        if i % (400 // n_unusable) == 0 and i // (400 // n_unusable) < n_unusable
        else r
        for i, r in enumerate(rows)
    ]
    fig = timeseries_figure(rows)
    ax = fig.axes[0]
    (marks,) = [ln for ln in ax.lines if ln.get_label() == "unusable image"]
    assert len(np.asarray(marks.get_xdata())) == n_unusable
    # in axes coordinates (x axis transform): under the axis line, never at 0 counts
    assert marks.get_transform() == ax.get_xaxis_transform()
    assert all(y < 0 for y in np.asarray(marks.get_ydata()))
    assert marks.get_marker() == ("|" if n_unusable > UNUSABLE_DENSE else "x")
