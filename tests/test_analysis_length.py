"""Occupied-length counts (3 m imagery, method ``length``) have shift and drop thresholds
of their own (``AlertSettings.length_*``, ``LENGTH_FIELDS``): their error is heavy-tailed
(a scene may read 2-3x or a third of its truth), so a shift needs a third image and a
drop a second one. Hand-made series: about 30 railcars seen with a ±40 % error."""

from __future__ import annotations

from dataclasses import replace

import pytest

from railwatch.analysis import Alert, AlertSettings, CountPoint, analyze_series
from railwatch.analysis.settings import BAND_FIELDS, LENGTH_FIELDS, LENGTH_METHOD
from test_analysis_noise import at, noisy, num, points

#: The rules as they were before the length thresholds (one image confirms a shift, one
#: image is a drop): what the new values are measured against.
BEFORE = AlertSettings(length_shift_confirm_points=2, length_drop_confirm_points=1)


def length(values: list[float], method: str = LENGTH_METHOD) -> list[CountPoint]:
    """Images every 10 days at 3 m (the 3 m estimator's usual 0.64x-2.7x interval)."""
    return [replace(p, method=method, gsd=3.0) for p in points(values, interval=(0.64, 2.7))]


def raised(values: list[float], settings: AlertSettings | None = None, **kw: str) -> list[Alert]:
    """Alerts above info from image 100 on."""
    alerts = analyze_series(length(values, **kw), settings=settings)
    return [a for k in range(100, len(values)) for a in at(alerts, k) if a.severity != "info"]


def test_one_gross_outlier_and_one_ordinary_high_image_are_not_a_shift() -> None:
    values = noisy(120, 30.0)
    values[100] = 95.0  # 3.2x: a misregistered scene
    values[101] = 52.0  # 1.7x: within this site's own variation
    assert raised(values) == []
    # before, the outlier carried the second image through the level tests
    assert [(a.kind, a.severity) for a in raised(values, BEFORE)] == [("shift", "medium")]
    # object counts keep the plain thresholds (one image is a spike, two a shift)
    assert [a.kind for a in raised(values, method="objects")] == ["spike", "shift"]


def test_a_single_gross_outlier_confirmed_by_nothing_raises_nothing() -> None:
    values = noisy(120, 30.0)
    values[100] = 95.0  # 3.2x, and the next images are ordinary
    alerts = analyze_series(length(values))
    assert [a for a in alerts if a.severity != "info" and a.when >= at(alerts, 100)[0].when] == []
    notes = at(alerts, 100)
    assert {a.kind for a in notes} == {"record", "spike"}
    spike = next(a for a in notes if a.kind == "spike")
    assert spike.metrics["unconfirmed_severity"] != "info"  # a spike, had it been confirmed


def test_two_far_out_length_images_in_a_row_wait_for_a_third() -> None:
    values = noisy(120, 30.0)
    values[100:102] = [95.0, 90.0]  # two misregistered scenes in a row, then ordinary ones
    assert raised(values) == []
    # before, a shift at the second image
    assert [(a.kind, a.severity) for a in raised(values, BEFORE)] == [("shift", "high")]
    # the second image is not judged as a confirmed spike either: it would have confirmed a
    # shift under the plain shift_confirm_points (2). Where the plain value is 3 too, no such
    # rise is pending and the second image is a spike confirmed by the first
    plain3 = AlertSettings(shift_confirm_points=3)
    assert [a.kind for a in raised(values, plain3)] == ["spike"]


def test_a_single_gross_under_read_is_only_a_note() -> None:
    values = noisy(120, 30.0)
    values[100] = 2.0  # a faint or shadowed train read as 2 cars
    alerts = analyze_series(length(values))
    drops = [a for a in at(alerts, 100) if a.kind == "drop"]
    assert [a.severity for a in drops] == ["info"]
    assert drops[0].metrics["unconfirmed_severity"] == "high"
    assert "note only" in drops[0].explanation and "2 in a row" in drops[0].explanation
    assert drops[0].metrics["method_thresholds"] == "length"
    assert "drop_confirm_points 2" in drops[0].explanation
    assert [a for a in alerts if a.when >= drops[0].when and a.severity != "info"] == []
    # one image was enough before, and still is for object counts
    assert [(a.kind, a.severity) for a in raised(values, BEFORE)] == [("drop", "high")]
    assert [(a.kind, a.severity) for a in raised(values, method="objects")] == [("drop", "high")]


@pytest.mark.parametrize("low", [[2.0, 1.0], [1.0, 2.0]])
def test_two_low_length_images_in_a_row_are_a_drop(low: list[float]) -> None:
    values = noisy(120, 30.0)
    values[100:102] = low
    found = raised(values)
    assert [(a.kind, a.severity) for a in found] == [("drop", "high")]
    assert found[0].when == at(analyze_series(length(values)), 101)[0].when
    # the image that the drop waited for is the same episode, not a precedent ("the site
    # has been this empty before") that would make the drop a note
    assert "Info only" not in found[0].explanation


def test_a_sustained_2x_shift_of_length_counts_is_raised() -> None:
    values = noisy(100, 30.0) + [2 * v for v in noisy(20, 30.0)]  # 60, 90, 40, 74, ...
    found = raised(values)
    shifts = [a for a in found if a.kind == "shift"]
    assert shifts and found[0] is shifts[0], found  # nothing raised before the shift
    shift = shifts[0]
    assert shift.severity in ("medium", "high")
    assert shift.metrics["direction"] == "up" and shift.metrics["change_date"] == "2021-09-29"
    assert num(shift, "confirm_images") >= 3
    assert shift.metrics["method_thresholds"] == "length"
    assert shift.metrics["thresholds"] == "coarse"  # 3 m: the coarse band below the method's
    assert "shift_confirm_points 3, shift_segment_z 2.25" in shift.explanation
    assert "imagery of 0.75 m and coarser" not in shift.explanation  # not the band's 2.75
    # raised within four images of the change (image 100)
    assert shift.when <= at(analyze_series(length(values)), 103)[0].when
    # before, at the second image already
    before = [a for a in raised(values, BEFORE) if a.kind == "shift"]
    assert before and before[0].when < shift.when


def test_a_clean_step_of_length_counts_is_raised_at_its_third_image() -> None:
    values = noisy(100, 30.0) + [75.0] * 10
    shifts = [a for a in raised(values) if a.kind == "shift"]
    assert shifts and shifts[0].metrics["confirm_images"] == 3
    assert shifts[0].when == at(analyze_series(length(values)), 102)[0].when


def test_length_thresholds_apply_to_length_counts_only() -> None:
    s = AlertSettings(
        length_shift_confirm_points=4, length_drop_confirm_points=3, length_shift_segment_z=2.1
    )
    for gsd in (None, 0.5, 3.0):
        judged = s.for_image(gsd, LENGTH_METHOD)
        assert judged.shift_confirm_points == 4 and judged.drop_confirm_points == 3
        assert judged.shift_segment_z == 2.1  # the method's value replaces the band's
        band = s.for_gsd(gsd)
        for f in set(BAND_FIELDS) - set(LENGTH_FIELDS):  # the band's other values stay
            assert getattr(judged, f) == getattr(band, f)
        for method in ("objects", "manual"):
            assert s.for_image(gsd, method) == band
    assert all(f"length_{f}" in AlertSettings.model_fields for f in LENGTH_FIELDS)
    assert all(f in AlertSettings.model_fields for f in LENGTH_FIELDS)


@pytest.mark.parametrize("method", ["objects", "manual"])
def test_other_methods_are_judged_as_before(method: str) -> None:
    values = noisy(120, 30.0)
    values[100:103] = [95.0, 52.0, 2.0]
    values[110:] = [2 * v for v in values[110:]]
    pts = length(values, method=method)
    assert analyze_series(pts) == analyze_series(pts, settings=BEFORE)
    assert all("method_thresholds" not in a.metrics for a in analyze_series(pts))
