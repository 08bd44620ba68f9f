"""Hand-made series for every alert kind, gaps, ties, short histories and idempotence."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta

import pytest

from railwatch.analysis import (
    SEVERITIES,
    Alert,
    AlertSettings,
    CountPoint,
    Event,
    analyze_series,
    build_series,
)
from test_analysis_noise import num

T0 = datetime(2019, 1, 3, 2, 30, tzinfo=UTC)


def flat(values: Sequence[float | None], start: datetime = T0, step: int = 10) -> list[CountPoint]:
    """Points every ``step`` days; None is an unusable scene."""
    return [
        CountPoint(when=start + timedelta(days=step * k), count=v, usable=v is not None)
        for k, v in enumerate(values)
    ]


def wavy(n: int, base: float = 10.0) -> list[float | None]:
    """A steady, noisy but bounded series: base ± 20 %."""
    pattern = [0.0, 0.1, -0.1, 0.2, -0.2, 0.05, -0.05, 0.15, -0.15]
    return [round(base * (1 + pattern[k % len(pattern)])) for k in range(n)]


def above_info(alerts: list[Alert]) -> list[Alert]:
    return [a for a in alerts if a.severity != "info"]


def test_steady_series_raises_nothing_above_info() -> None:
    alerts = analyze_series(flat(wavy(150)))
    assert above_info(alerts) == []


def test_spike_is_raised_at_the_image_with_explanation() -> None:
    values = wavy(120)
    values[100] = 50.0
    alerts = analyze_series(flat(values))
    spikes = [a for a in alerts if a.kind == "spike"]
    assert len(spikes) == 1
    s = spikes[0]
    assert s.when.date() == (T0 + timedelta(days=1000)).date()
    assert s.severity == "high"  # 5x the baseline
    assert "50 railcars" in s.explanation and "× the usual 10" in s.explanation
    assert s.metrics["ratio"] == pytest.approx(5.0, rel=0.05)
    # one image high: no shift
    assert not [a for a in alerts if a.kind == "shift"]


def test_uncertain_spike_is_lowered_and_says_why() -> None:
    pts = flat(wavy(120))
    spike = CountPoint(when=pts[100].when, count=50.0, low=10.0, high=90.0)
    pts[100] = spike
    s = next(a for a in analyze_series(pts) if a.kind == "spike")
    assert s.severity == "medium"  # high lowered one step
    assert "Severity lowered to medium because" in s.explanation
    assert "uncertain" in s.explanation


def test_record_against_five_year_record_and_tie_is_not_a_record() -> None:
    values = wavy(200)  # 10 days apart: 5.5 years
    values[20] = 20.0  # the record, set early
    values[150] = 20.0  # equal to the record: not a record
    values[199] = 73.0
    alerts = analyze_series(flat(values))
    late = T0 + timedelta(days=730)
    records = [a for a in alerts if a.kind == "record" and a.when > late]
    assert [a.when.date() for a in records] == [(T0 + timedelta(days=1990)).date()]
    r = records[0]
    assert r.severity == "high"
    assert r.metrics["record"] == 20.0
    assert r.metrics["record_date"] == (T0 + timedelta(days=200)).date().isoformat()
    assert "3.6× the record" in r.explanation
    assert "the first time above it in 5 years" in r.explanation
    assert not [a for a in alerts if a.when.date() == (T0 + timedelta(days=1500)).date()]


def test_record_window_forgets_older_maxima() -> None:
    values = wavy(200)
    values[5] = 40.0  # more than 5 years before the judged image
    values[199] = 30.0
    alerts = analyze_series(flat(values))
    rec = [
        a
        for a in alerts
        if a.kind == "record" and a.when.date() == (T0 + timedelta(days=1990)).date()
    ]
    assert rec and num(rec[0], "record") < 40.0
    assert analyze_series(flat(values), settings=AlertSettings(record_years=6))[-1].kind != "record"


def test_short_history_says_how_much_history_there_is() -> None:
    values = wavy(25)  # 240 days
    values[24] = 40.0
    rec = [a for a in analyze_series(flat(values)) if a.kind == "record"][-1]
    assert "0.7 years, 24 usable images" in rec.explanation
    assert "the record window is 5 years" in rec.explanation
    assert rec.severity == "medium"  # high lowered: less history than the 5-year window
    assert "the history (0.7 years) is shorter than the 5-year window" in rec.explanation
    tiny = flat([10.0, 11.0, 30.0])
    first = [a for a in analyze_series(tiny) if a.kind == "record"][-1]
    assert first.severity == "info"
    assert "20 days" in first.explanation


def test_shift_is_raised_once_within_two_images() -> None:
    values = wavy(120) + wavy(40, base=40.0)
    alerts = analyze_series(flat(values))
    shifts = [a for a in alerts if a.kind == "shift"]
    assert len(shifts) == 1
    s = shifts[0]
    assert s.when.date() == (T0 + timedelta(days=1210)).date()  # the second image at 30
    assert s.metrics["change_date"] == (T0 + timedelta(days=1200)).date().isoformat()
    assert s.metrics["direction"] == "up"
    assert s.severity == "high"  # 4x
    assert "Raised once" in s.explanation


def test_a_1_6x_shift_is_raised_once_and_a_1_3x_change_is_not() -> None:
    values = [*wavy(120, base=40.0), 64.0, 64.0, 64.0, 64.0, 64.0]
    shifts = [a for a in analyze_series(flat(values)) if a.kind == "shift"]
    assert len(shifts) == 1 and shifts[0].severity == "low"  # under 2x
    small = [*wavy(120, base=40.0), 52.0, 52.0, 52.0, 52.0, 52.0, 52.0]
    assert not [a for a in analyze_series(flat(small)) if a.kind == "shift"]


def test_drop_at_a_busy_site_once_then_shift_down() -> None:
    values = [*wavy(120, base=40.0), 2.0, 1.0, 0.0, 2.0, 1.0]
    alerts = analyze_series(flat(values))
    drops = [a for a in alerts if a.kind == "drop"]
    assert len(drops) == 1
    assert drops[0].when.date() == (T0 + timedelta(days=1200)).date()
    assert drops[0].severity == "high"
    assert "activity has dropped" in drops[0].explanation
    shifts = [a for a in alerts if a.kind == "shift"]
    assert len(shifts) == 1 and shifts[0].metrics["direction"] == "down"


def test_no_drop_at_a_quiet_site() -> None:
    values = [*wavy(120, base=3.0), 0.0, 0.0, 0.0]
    assert not [a for a in analyze_series(flat(values)) if a.kind in ("drop", "shift")]


def test_quality_alert_for_a_long_silence_with_unusable_scenes() -> None:
    values: list[float | None] = [*wavy(30), None, None, None, None, None, None, 10.0]
    alerts = analyze_series(flat(values))
    q = [a for a in alerts if a.kind == "quality"]
    assert len(q) == 1
    assert q[0].metrics["gap_days"] == 70.0
    assert q[0].metrics["unusable_images"] == 6.0
    assert "70 days" in q[0].explanation and "not be read as calm" in q[0].explanation
    assert q[0].value is None


def test_ongoing_silence_judged_as_of_a_date() -> None:
    pts = flat(wavy(30))
    last = pts[-1].when
    assert not [a for a in analyze_series(pts) if a.kind == "quality"]
    later = analyze_series(pts, as_of=last + timedelta(days=100))
    q = [a for a in later if a.kind == "quality"]
    assert len(q) == 1 and q[0].metrics["ongoing"] == "yes"
    assert q[0].severity == "medium"


def test_gaps_are_not_zeros() -> None:
    values: list[float | None] = [v if k % 3 else None for k, v in enumerate(wavy(150))]
    assert above_info(analyze_series(flat(values))) == []


def test_alerts_only_from_usable_images() -> None:
    pts = flat(wavy(120))
    pts.append(CountPoint(when=pts[-1].when + timedelta(days=5), count=99.0, usable=False))
    assert not [a for a in analyze_series(pts) if a.value == 99.0]


def test_events_are_linked_within_the_window() -> None:
    values = wavy(120)
    values[100] = 50.0
    when = (T0 + timedelta(days=1000)).date()
    events = [
        Event(when - timedelta(days=40), "old"),
        Event(when - timedelta(days=18), "Kim–Putin summit"),
        Event(when + timedelta(days=1), "after"),
    ]
    s = next(a for a in analyze_series(flat(values), events) if a.kind == "spike")
    assert s.event_label == "Kim–Putin summit" and s.event_days == 18
    assert s.explanation.endswith(f"18 days after: Kim–Putin summit ({when - timedelta(days=18)}).")
    far = [Event(when - timedelta(days=61), "too old")]
    s2 = next(a for a in analyze_series(flat(values), far) if a.kind == "spike")
    assert s2.event_label is None


def test_idempotent_and_stable_under_appended_data() -> None:
    values = wavy(150)
    values[100] = 50.0
    values[140] = 60.0
    a1 = analyze_series(flat(values))
    a2 = analyze_series(flat(values))
    assert [a.key for a in a1] == [a.key for a in a2]
    assert a1 == a2
    # earlier alerts do not change when later images arrive
    head = flat(values[:120])
    cut = [a for a in analyze_series(head) if a.kind != "quality"]
    earlier = [a for a in a1 if a.when <= head[-1].when and a.kind != "quality"]
    assert cut and earlier == cut
    assert len({a.key for a in a1}) == len(a1)


def test_several_images_a_day_keep_the_best_quality() -> None:
    day = T0
    pts = [
        CountPoint(when=day, count=5.0, clear_fraction=0.5, coverage=1.0, scene_id=1),
        CountPoint(when=day + timedelta(hours=2), count=9.0, clear_fraction=0.95, scene_id=2),
        CountPoint(when=day + timedelta(hours=3), count=12.0, clear_fraction=0.95, scene_id=3),
        CountPoint(when=day + timedelta(hours=4), count=None, usable=False, scene_id=4),
    ]
    series = build_series(pts)["all"]
    assert len(series.points) == 1
    assert series.points[0].scene_id == 3  # same quality as 2: the higher count wins


def test_classes_are_analysed_separately() -> None:
    pts = flat(wavy(120))
    tanks = [
        CountPoint(when=p.when, count=2.0 if k != 100 else 30.0, cls="tank")
        for k, p in enumerate(pts)
    ]
    alerts = analyze_series(pts + tanks)
    assert {a.cls for a in above_info(alerts)} == {"tank"}
    assert any("tank cars" in a.explanation for a in alerts)
    # a type's detector counts are a lower bound of that type, and the alerts say so;
    # the total's alerts and hand counts by type (method "manual") do not
    assert all(("lower bound" in a.explanation) == (a.cls == "tank") for a in alerts)
    by_hand = [dataclasses.replace(p, method="manual") for p in tanks]
    assert not any("lower bound" in a.explanation for a in analyze_series(by_hand))


def test_settings_are_validated() -> None:
    with pytest.raises(ValueError):
        AlertSettings(record_low_ratio=2.5)
    assert AlertSettings().record_years == 5
    assert SEVERITIES == ("info", "low", "medium", "high")


def test_tumangang_dates_must_be_sorted_input_free() -> None:
    pts = flat(wavy(60))
    assert analyze_series(list(reversed(pts))) == analyze_series(pts)
    assert date(2019, 1, 3) == pts[0].when.date()


def test_a_few_more_cars_of_one_type_is_not_an_alert_but_the_same_total_is() -> None:
    """A type's count moves by a few cars as cars are typed or left 'railcar': 0 -> 5
    tank cars is below type_min_excess (6) and stays quiet; 0 -> 5 railcars in all is a
    spike; 0 -> 12 tank cars is one."""
    quiet = [0.0 if k % 3 else 1.0 for k in range(120)]
    for cls, peak, expected in (("tank", 5.0, False), ("all", 5.0, True), ("tank", 12.0, True)):
        pts = [
            CountPoint(when=T0 + timedelta(days=10 * k), count=peak if k == 100 else v, cls=cls)
            for k, v in enumerate(quiet)
        ]
        raised = [a for a in above_info(analyze_series(pts)) if a.kind in ("spike", "record")]
        assert bool(raised) is expected, (cls, peak, raised)
    loose = AlertSettings(type_min_excess=0.0)
    pts = [
        CountPoint(when=T0 + timedelta(days=10 * k), count=5.0 if k == 100 else v, cls="tank")
        for k, v in enumerate(quiet)
    ]
    assert [a for a in above_info(analyze_series(pts, settings=loose)) if a.kind == "spike"]


def test_record_of_zero_gives_no_ratio_and_one_car_is_singular() -> None:
    """A type first seen read '11 tank cars ... against a record of 0 ...: 11.0× the
    record' (the ratio is taken against at least one car) and '1 gondola cars'."""
    quiet = [0.0] * 40
    for peak, words in ((11.0, "11 tank cars on"), (1.0, "1 tank car on")):
        pts = [
            CountPoint(when=T0 + timedelta(days=10 * k), count=peak if k == 30 else v, cls="tank")
            for k, v in enumerate(quiet)
        ]
        record = next(a for a in analyze_series(pts) if a.kind == "record")
        assert words in record.explanation
        assert "against a 5-year record of 0 set on" in record.explanation or (
            "against a record of 0 set on" in record.explanation
        )
        assert "× the record" not in record.explanation
    pts = flat([1.0] * 30 + [4.0])
    record = next(a for a in analyze_series(pts) if a.kind == "record")
    assert "4.0× the record" in record.explanation  # a record of at least one car keeps it
