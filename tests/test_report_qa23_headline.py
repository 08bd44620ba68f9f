"""The headline of a site whose latest usable image is a 3 m one: car equivalents from
occupied track length, judged against the site's earlier 3 m counts (it read 'N railcars'
with no record and no baseline, the chart's band being the fine images')."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from railwatch.report.builder import _headline
from railwatch.report.data import baseline_track
from railwatch.report.model import SceneRow

T0 = datetime(2020, 1, 1, 3, tzinfo=UTC)


def _row(i: int, total: float, method: str) -> SceneRow:
    return SceneRow(
        scene_id=i,
        when=T0 + timedelta(days=5 * i),
        sensor="PlanetScope" if method == "length" else "WV3",
        gsd=3.0 if method == "length" else 0.5,
        usable=True,
        total=total,
        low=total * 0.6,
        high=total * 1.6,
        method=method,
    )


def test_a_3m_latest_image_is_car_equivalents_with_its_own_record_and_baseline() -> None:
    rows = [_row(i, 10.0 + i % 3, "objects") for i in range(60)]
    rows += [_row(60 + i, 20.0 + (i % 4), "length") for i in range(20)]
    rows.append(_row(80, 57.7, "length"))
    track = baseline_track(rows)
    h = _headline("yard", (None, None), rows, track, [], rows)
    assert h.latest is not None and h.latest.scene_id == 80
    assert h.summary.startswith("57.7 car equivalents at yard on ")
    assert "occupied track length, not cars seen one by one" in h.summary
    assert "Latest count of cars seen one by one: 12 on 2020-10-22." in h.summary
    assert h.record == 23.0  # the record of the earlier 3 m counts
    assert h.baseline is not None and 20.0 <= h.baseline <= 23.0


def test_a_fine_latest_image_reads_as_before() -> None:
    rows = [_row(i, 10.0 + i % 3, "objects") for i in range(60)]
    h = _headline("yard", (None, None), rows, baseline_track(rows), [], rows)
    assert h.summary.startswith("12 railcars at yard on 2020-10-22 ")
    assert h.record == 12.0 and h.baseline is not None
