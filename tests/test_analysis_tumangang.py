"""The Tumangang scenario, hand-built: 0-20 railcars for five years, then the autumn 2023 rise."""

from __future__ import annotations

import functools
from datetime import UTC, date, datetime, timedelta

from railwatch.analysis import Alert, CountPoint, Event, analyze_series

PATTERN = (3, 15, 6, 0, 12, 9, 18, 4, 10, 1, 14, 7, 16, 2, 11, 5, 17, 8, 13)  # 0-18, shuffled
SUMMIT = Event(date(2023, 9, 13), "Kim–Putin summit")


def tumangang() -> list[CountPoint]:
    """Images every 7-17 days since March 2018, counts 0-18 (one in six unusable), the
    record 20 set on 2021-07-14; the rise from 2023-09-18 to 73 on 2023-10-05; higher after."""
    pts: list[CountPoint] = []
    when = datetime(2018, 3, 1, 2, 0, tzinfo=UTC)
    k = 0
    while when < datetime(2023, 9, 1, tzinfo=UTC):
        k += 1
        value = float(PATTERN[k % len(PATTERN)])
        usable = k % 6 != 0
        pts.append(CountPoint(when=when, count=value if usable else None, usable=usable))
        when += timedelta(days=7 + (k * 5) % 11)
    pts.append(CountPoint(when=datetime(2021, 7, 14, 2, tzinfo=UTC), count=20.0))
    rise = [
        ((2023, 9, 5), 9),
        ((2023, 9, 18), 24),
        ((2023, 9, 25), 38),
        ((2023, 10, 5), 73),
        ((2023, 10, 16), 68),
        ((2023, 11, 2), 80),
        ((2023, 11, 20), 75),
        ((2023, 12, 10), 85),
    ]
    for (y, m, d), v in rise:
        pts.append(
            CountPoint(
                when=datetime(y, m, d, 2, tzinfo=UTC), count=float(v), low=v * 0.9, high=v * 1.1
            )
        )
    return pts


def test_record_alert_on_the_rise() -> None:
    alerts = analyze_series(tumangang(), [SUMMIT])
    records = [a for a in alerts if a.kind == "record" and a.severity != "info"]
    assert records, "the rise must beat the 5-year record"
    first = records[0]
    assert first.when.date() in (date(2023, 9, 18), date(2023, 10, 5))
    oct5 = next(a for a in records if a.when.date() == date(2023, 10, 5))
    assert oct5.severity == "high"
    assert oct5.metrics["record"] == 20.0
    assert oct5.metrics["record_date"] == "2021-07-14"
    assert oct5.explanation.startswith("73 railcars")
    assert "against a 5-year record of 20 set on 2021-07-14: 3.6× the record" in oct5.explanation
    # the rise's later records say since when counts have been above the record
    start = next(a for a in alerts if a.kind == "record" and a.when.year == 2023).when
    assert (
        f"The counts have been above that record since {start:%Y-%m-%d}, for the first time "
        "in 5 years, and this image continues that rise past its latest record, 38 on "
        "2023-09-25." in oct5.explanation
    )
    assert "22 days after: Kim–Putin summit (2023-09-13)." in oct5.explanation
    assert oct5.event_days == 22


def test_shift_alert_in_autumn_2023() -> None:
    alerts = analyze_series(tumangang(), [SUMMIT])
    shifts = [a for a in alerts if a.kind == "shift"]
    assert len(shifts) == 1
    s = shifts[0]
    assert date(2023, 9, 1) <= s.when.date() <= date(2023, 11, 30)
    assert s.metrics["direction"] == "up"
    assert s.severity in ("medium", "high")
    assert s.event_label == "Kim–Putin summit"


def test_nothing_above_info_before_september_2023() -> None:
    alerts = analyze_series(tumangang(), [SUMMIT])
    before = [a for a in alerts if a.when < datetime(2023, 9, 1, tzinfo=UTC)]
    assert all(a.severity == "info" for a in before), [(a.key, a.severity) for a in before]


# --- the simulator's Tumangang scenario (railwatch.sim.scenario), its TRUE counts --------


@functools.cache
def scenario_alerts(seed: int = 2023) -> tuple[Alert, ...]:
    """The alerts of the scenario's true counts (computed once per test process)."""
    pts, events = scenario_points(seed)
    return tuple(analyze_series(pts, events))


def scenario_points(seed: int = 2023) -> tuple[list[CountPoint], list[Event]]:
    """Every visit of the scenario with its true total; expected-unusable visits are gaps."""
    from railwatch.sim.scenario import tumangang as scenario

    sc = scenario(seed)
    pts = [
        CountPoint(
            when=v.when,
            count=float(v.total) if v.usable_expected else None,
            usable=v.usable_expected,
        )
        for v in sc.visits
    ]
    return pts, [Event(d, label) for d, label in sc.events]


def test_scenario_record_on_the_rise_and_2023_10_05() -> None:
    alerts = scenario_alerts()
    records = [a for a in alerts if a.kind == "record" and a.when.year == 2023]
    first = records[0]
    # the first image of the rise beats the 5-year record of 20 (by 3 cars: a note) ...
    assert first.when.date() == date(2023, 9, 18)
    assert first.explanation.startswith("23 railcars on 2023-09-18, against a 5-year record of 20")
    # ... the next ones are alarms, and 2023-10-05 is high against the record before the rise
    raised = [a for a in records if a.severity != "info"]
    assert raised[0].when.date() <= date(2023, 10, 5)
    oct5 = next(a for a in records if a.when.date() == date(2023, 10, 5))
    assert oct5.severity == "high"
    assert oct5.explanation.startswith(
        "73 railcars on 2023-10-05, against a 5-year record of 20 set on 2019-08-14: "
        "3.6× the record (history: 5.5 years, 144 usable images). The counts have been "
        "above that record since 2023-09-18, for the first time in 5 years, and this image "
        "continues that rise past its latest record, 46 on 2023-09-25."
    )
    assert first.explanation.startswith(
        "23 railcars on 2023-09-18, against a 5-year record of 20 set on 2019-08-14: 1.1× the "
        "record, the first time above it in 5 years"
    )
    assert oct5.explanation.endswith("22 days after: Kim–Putin summit (2023-09-13).")
    assert "\n" not in oct5.explanation


def test_scenario_shift_in_autumn_2023() -> None:
    alerts = scenario_alerts()
    shifts = [
        a
        for a in alerts
        if a.kind == "shift"
        and a.severity != "info"
        and date(2023, 9, 1) <= a.when.date() <= date(2023, 11, 30)
    ]
    assert shifts and shifts[0].metrics["direction"] == "up"
    assert shifts[0].event_label == "Kim–Putin summit"
    assert "days after: Kim–Putin summit" in shifts[0].explanation


def test_scenario_nothing_above_info_before_september_2023() -> None:
    alerts = scenario_alerts()
    before = [a for a in alerts if a.when < datetime(2023, 9, 1, tzinfo=UTC)]
    assert before, "the five quiet years still leave notes (info)"
    assert all(a.severity == "info" for a in before), [
        (a.key, a.severity, a.explanation) for a in before if a.severity != "info"
    ]
