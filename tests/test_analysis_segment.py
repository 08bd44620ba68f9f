"""The segment level test: a new level seen over three or four images of a noisy site,
against the baseline before them, where the CUSUM and the two-image test do not reach
their thresholds (``AlertSettings.shift_segment_*``)."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

from railwatch.analysis import Alert, AlertSettings, CountPoint, analyze_series

T0 = datetime(2019, 1, 3, 2, 30, tzinfo=UTC)
#: Log deviations of a detector and a site with about 25 % image-to-image variation.
NOISE = (0.0, 0.3, -0.3, 0.15, -0.15, 0.4, -0.4, 0.08, -0.08, 0.25, -0.25, 0.1, -0.1)
OFF = AlertSettings(shift_segment_images=0)


def points(values: list[float], gsd: float | None = None) -> list[CountPoint]:
    return [
        CountPoint(when=T0 + timedelta(days=10 * k), count=v, gsd=gsd) for k, v in enumerate(values)
    ]


def site(n: int, base: float) -> list[float]:
    return [float(round(base * math.exp(NOISE[k % len(NOISE)]))) for k in range(n)]


def shifts(
    values: list[float], settings: AlertSettings | None = None, gsd: float | None = None
) -> list[Alert]:
    alerts = analyze_series(points(values, gsd), settings=settings or AlertSettings())
    return [a for a in alerts if a.kind == "shift" and a.severity != "info"]


def day(k: int) -> str:
    return (T0 + timedelta(days=10 * k)).date().isoformat()


def test_a_noisy_step_is_raised_at_its_fourth_image_by_the_segment_test() -> None:
    # 20 cars for 3.3 years, then about 2x seen as 1.65x, 1.75x, 1.35x, 1.8x: the third
    # image breaks the streak each image 1.5x beyond, and the CUSUM stays under its
    # threshold; by the site's own noise the first four images are a new level (images
    # at 1 m: coarse_shift_segment_z, 2.75)
    values = [*site(120, 20.0), 33.0, 35.0, 27.0, 36.0, 34.0, 38.0]
    found = shifts(values, gsd=1.0)
    assert len(found) == 1
    assert found[0].when.date().isoformat() == day(123)
    assert found[0].metrics["test"] == "segment"
    assert found[0].metrics["change_date"] == day(120)
    assert found[0].metrics["confirm_images"] == 4.0
    assert "segment level test" in found[0].explanation
    assert "4 usable images in a row" in found[0].explanation
    assert "3 of them above its usual range" in found[0].explanation  # 27 is not
    assert found[0].explanation.endswith("coarser (this image: 1 m; its counts vary "
                                         "more): shift_segment_z 2.75.")  # fmt: skip
    # without it the step is raised later, or not at all, by the other tests
    late = shifts(values, OFF, gsd=1.0)
    assert all(a.when.date().isoformat() > day(123) for a in late)
    # at 0.5 m (shift_segment_z 2.5) the first three images are enough
    (fine,) = shifts(values, gsd=0.5)
    assert fine.when.date().isoformat() == day(122)
    assert fine.metrics["confirm_images"] == 3.0 and fine.metrics["test"] == "segment"
    assert "mean log ratio to it is 2.5 times what 3 images" in fine.explanation


def test_an_image_below_the_baseline_breaks_the_segment() -> None:
    values = [*site(120, 20.0), 33.0, 35.0, 17.0, 36.0]
    assert shifts(values) == []


def test_the_segment_test_needs_a_baseline_of_a_few_cars() -> None:
    # the same shape on about 4 cars: under shift_segment_min_level (5), a log ratio of
    # a few cars is mostly counting noise
    values = [*site(120, 4.0), 7.0, 7.0, 5.0, 7.0]
    assert shifts(values) == []
    assert shifts(values, AlertSettings(shift_segment_min_level=0)) != []


def test_the_segment_test_is_upward_only() -> None:
    # the mirror image (0.6x, 0.57x, 0.74x, 0.55x) is left to the CUSUM and the drop rule
    values = [*site(120, 20.0), 12.0, 11.0, 15.0, 11.0]
    down = [a for a in shifts(values) if a.metrics["direction"] == "down"]
    assert all(a.metrics["test"] != "segment" for a in down)


def test_one_spike_and_two_usual_images_are_not_a_segment() -> None:
    # a 5x spike then ordinary images: each image adds at most shift_segment_clip noise
    # units and two must be beyond the usual range, so one spike does not make a level
    values = [*site(120, 20.0), 100.0, 22.0, 21.0]
    assert shifts(values) == []
    values = [*site(120, 20.0), 100.0, 22.0, 30.0]
    assert all(a.metrics["test"] != "segment" for a in shifts(values))
