"""The report's caveats from the third renderer's findings: counts of cars seen one by one
from images with the sun below 30 degrees are named (long shadows may be counted as cars;
length counts, an analyst's counts and images without a sun in their metadata are not),
and covered counts say how far the tarpaulin flag can be trusted."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from railwatch.report.caveats import build_caveats, covered_flag_caveat, low_sun_caveat
from railwatch.report.data import scene_row
from railwatch.report.model import SceneRow


def _row(i: int, sun: float | None, method: str = "objects") -> SceneRow:
    return SceneRow(
        scene_id=i,
        when=datetime(2023, 1, 1 + i, tzinfo=UTC),
        sensor=None,
        gsd=0.5 if method == "objects" else 3.0,
        usable=True,
        total=10.0,
        low=8.0,
        high=12.0,
        method=method,
        sun_elevation=sun,
    )


def test_low_sun_counts_are_named_with_their_sun() -> None:
    rows = [_row(0, 22.4), _row(1, 55.0), _row(2, None), _row(3, 29.9)]
    text = low_sun_caveat(rows)
    assert text is not None
    assert text.startswith("2 counts come from images taken with the sun below 30°")
    assert "2023-01-01 (22.4°), 2023-01-04 (29.9°)" in text
    assert "2023-01-02" not in text and "2023-01-03" not in text
    assert text in build_caveats(rows)


def test_one_low_sun_count_and_many() -> None:
    one = low_sun_caveat([_row(0, 20.0)])
    assert one is not None and one.startswith("1 count comes from an image taken")
    many = low_sun_caveat([_row(i, 15.0 + i) for i in range(8)])
    assert many is not None and "and 3 more" in many


def test_no_caveat_where_shadows_are_not_counted_as_cars() -> None:
    assert low_sun_caveat([_row(0, 55.0), _row(1, None)]) is None
    assert low_sun_caveat([_row(0, 20.0, method="length")]) is None  # no boxes at 3 m
    assert low_sun_caveat([replace(_row(0, 20.0), reviewed=True)]) is None  # counted by eye
    assert all("sun below" not in c for c in build_caveats([_row(0, 60.0)]))


def test_the_sun_is_read_from_the_scene_metadata(tmp_path: Path) -> None:
    from types import SimpleNamespace

    scene = SimpleNamespace(
        id=1,
        acquired_at=datetime(2023, 12, 20, tzinfo=UTC),
        sensor=None,
        gsd=0.5,
        usable=True,
        status="processed",
        quality_coverage=1.0,
        coverage=1.0,
        clear_fraction=1.0,
        reasons=[],
        uri="x.tif",
        mask_uri=None,
        detector="default",
        detector_version="2.8",
        meta={"sun_azimuth": 160.0, "sun_elevation": 21.5},
    )
    assert scene_row(scene, [], None).sun_elevation == 21.5  # type: ignore[arg-type]
    scene.meta = {"sun_elevation": 21.5}  # no azimuth: not read as a sun
    assert scene_row(scene, [], None).sun_elevation is None  # type: ignore[arg-type]


def test_covered_counts_say_how_far_the_flag_is_right() -> None:
    covered = replace(_row(0, None), covered=4)
    text = covered_flag_caveat([_row(1, None), covered])
    assert text is not None and "82-87 %" in text and "hopper roofs" in text
    assert text in build_caveats([covered])
    assert covered_flag_caveat([_row(0, None)]) is None  # none covered (None or 0)
    assert covered_flag_caveat([replace(_row(0, None), covered=0)]) is None
    assert covered_flag_caveat([replace(covered, reviewed=True)]) is None  # an analyst's
