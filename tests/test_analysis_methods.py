"""Counts made by different methods are judged apart (objects vs occupied length)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from railwatch.analysis import analyze_series
from railwatch.analysis.series import build_series, split_by_method
from railwatch.analysis.types import CountPoint

START = datetime(2018, 1, 1, tzinfo=UTC)


def _series(
    n: int, value: float, method: str, offset_days: int = 0, step: int = 14
) -> list[CountPoint]:
    return [
        CountPoint(
            when=START + timedelta(days=offset_days + step * i),
            count=value + (i % 3),
            low=value + (i % 3) - 3,
            high=value + (i % 3) + 3,
            method=method,
        )
        for i in range(n)
    ]


def test_split_by_method_drops_presence_and_keeps_gaps() -> None:
    pts = _series(5, 10, "objects") + _series(3, 40, "length", offset_days=5)
    pts.append(CountPoint(when=START + timedelta(days=3), count=1, method="presence"))
    pts.append(CountPoint(when=START + timedelta(days=4), count=None, usable=False))
    parts = split_by_method(build_series(pts)["all"])
    assert set(parts) == {"objects", "length"}
    assert len(parts["objects"].points) == 6 and len(parts["objects"].usable) == 5
    assert len(parts["length"].points) == 3


def test_biased_coarse_counts_do_not_set_records_for_object_counts() -> None:
    # five years of object counts around 10, with occasional 3 m estimates around 40
    # (a coarse method's bias), then an object count of 45: a record of its own kind
    objects = _series(130, 10, "objects")
    coarse = _series(20, 40, "length", offset_days=7, step=91)
    rise = CountPoint(when=START + timedelta(days=14 * 131), count=45, low=40, high=50)
    alerts = analyze_series([*objects, *coarse, rise])
    records = [a for a in alerts if a.kind == "record" and a.when == rise.when]
    assert records, [(a.kind, a.when) for a in alerts]
    rec = records[0]
    assert rec.severity in ("medium", "high")
    assert "same kind" in rec.explanation and "made another way" in rec.explanation
    assert rec.metrics["method"] == "objects"
    # mixed together, the coarse counts (up to 42) would have hidden it: 45 < 1.1 x 42
    mixed = [CountPoint(**{**p.__dict__, "method": "objects"}) for p in [*objects, *coarse, rise]]
    mixed_records = [a for a in analyze_series(mixed) if a.kind == "record" and a.when == rise.when]
    assert not mixed_records or mixed_records[0].severity in ("info", "low")


def test_single_method_series_has_no_method_note() -> None:
    pts = _series(60, 10, "objects")
    pts.append(CountPoint(when=START + timedelta(days=14 * 61), count=60, low=55, high=65))
    alerts = analyze_series(pts)
    assert alerts and all("same kind" not in a.explanation for a in alerts)


def test_one_occupied_length_image_raises_only_a_note_until_confirmed() -> None:
    # three years of 3 m estimates around 6, then one reading of 40 (a misregistered
    # scene), back to 6, and later three readings of 45 in a row (a real rise)
    base = _series(60, 6, "length", step=18)
    t = START + timedelta(days=18 * 60)
    lone = CountPoint(when=t, count=40, low=30, high=50, method="length")
    calm = _series(20, 6, "length", offset_days=18 * 61, step=18)
    t2 = START + timedelta(days=18 * 82)
    first = CountPoint(when=t2, count=45, low=35, high=55, method="length")
    second = CountPoint(when=t2 + timedelta(days=18), count=46, low=36, high=56, method="length")
    third = CountPoint(when=t2 + timedelta(days=36), count=44, low=34, high=54, method="length")
    alerts = analyze_series([*base, lone, *calm, first, second, third])

    def at(when: datetime) -> list[object]:
        return [a for a in alerts if a.when == when and a.kind in ("record", "spike")]

    lone_alerts = at(lone.when)
    assert lone_alerts and all(a.severity == "info" for a in lone_alerts)  # type: ignore[attr-defined]
    assert all("note only" in a.explanation for a in lone_alerts)  # type: ignore[attr-defined]
    assert all(a.metrics["unconfirmed_severity"] != "info" for a in lone_alerts)  # type: ignore[attr-defined]
    assert all(a.severity == "info" for a in at(first.when))  # type: ignore[attr-defined]
    # the second image in a row is a level waiting for its third image (a shift of
    # occupied-length counts needs three, length_shift_confirm_points), not a spike
    assert all(a.severity == "info" for a in alerts if a.when == second.when)
    confirmed = [a for a in alerts if a.when == third.when and a.severity != "info"]
    assert confirmed and confirmed[0].kind == "shift", alerts
    # object counts are judged one image at a time, as before
    objects = [CountPoint(**{**p.__dict__, "method": "objects"}) for p in [*base, lone]]
    obj = [a for a in analyze_series(objects) if a.when == lone.when and a.kind == "spike"]
    assert obj and obj[0].severity != "info"
