"""Session 9, issue 5 (recall under the measured detector error): an image at which a
change of level is only noted ('info': seasonal, first years; the baseline is kept) is
still judged as a spike (``AlertSettings.spike_after_noted_shift``). Hand-made series,
images every 10 days."""

from __future__ import annotations

from railwatch.analysis import Alert, AlertSettings, analyze_series
from test_analysis_noise import at, calm, num, points

BEFORE = AlertSettings(spike_after_noted_shift=False)


def kinds(alerts: list[Alert], k: int) -> list[tuple[str, str]]:
    """(kind, severity) of the alerts at image ``k``."""
    return sorted((a.kind, a.severity) for a in at(alerts, k))


def short_history(first: float, second: float) -> list[float]:
    """60 images over 1.6 years at about 20 railcars (a change of level is only a note:
    each season has been seen once), the last two but one at ``first`` and ``second``."""
    values = calm(60, 20.0)
    values[57], values[58] = first, second
    return values


def test_an_image_that_completes_a_noted_change_is_still_a_spike() -> None:
    values = short_history(34.0, 70.0)  # 1.7x, then 3.4x: a noted change, and a spike
    alerts = analyze_series(points(values))
    assert ("shift", "info") in kinds(alerts, 58)
    spike = [a for a in at(alerts, 58) if a.kind == "spike"]
    assert [a.severity for a in spike] == ["medium"]
    assert num(spike[0], "ratio") >= 3.0
    # before, the noted change kept the image from being judged as a spike
    before = analyze_series(points(values), settings=BEFORE)
    assert ("shift", "info") in kinds(before, 58)
    assert "spike" not in [k for k, _ in kinds(before, 58)]


def test_a_noted_change_of_ordinary_images_is_not_a_spike() -> None:
    values = short_history(34.0, 36.0)  # 1.7x and 1.8x: a noted change, no image stands out
    alerts = analyze_series(points(values))
    assert ("shift", "info") in kinds(alerts, 58)
    assert [a for a in at(alerts, 58) if a.kind == "spike"] == []
    assert analyze_series(points(values)) == analyze_series(points(values), settings=BEFORE)


def test_a_raised_shift_is_still_not_a_spike() -> None:
    # 120 images (3.3 years): the same two images are a raised shift; the shift explains
    # the image and no spike is added (as before)
    values = calm(120, 20.0)
    values[100], values[101] = 34.0, 70.0
    alerts = analyze_series(points(values))
    raised = kinds(alerts, 101)
    assert any(k == "shift" and s != "info" for k, s in raised)
    assert "spike" not in [k for k, _ in raised]
    assert alerts == analyze_series(points(values), settings=BEFORE)
