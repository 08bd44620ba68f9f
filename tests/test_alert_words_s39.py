"""The alerts' explanations read as one story, with numbers as an analyst reads them
(session 39, a review of the texts).

* A later record of a rise said "above it since 2023-09-18, for the first time in 5 years
  (...). It continues a rise: the latest record before it was 46 ...": a first time and a
  continuing rise side by side. It now says "(history ...). The counts have been above
  that record since 2023-09-18, for the first time in 5 years, and this image continues
  that rise past its latest record, 46 on 2023-09-25." ("first went above that record on"
  where a count of the rise fell back; "its first record" where it passes the rise's
  first image).
* A record under a rise's 1.2× said "it barely beats the latest record of this ongoing
  rise", also of 1.19×: it now gives the ratio, never rounded up to the 1.2× it misses.
* "1.0× the record" of a count above it (204 against 200); "the first time above it in
  1 years" and "the record window is 1 years" (``record_years`` 1); "1 earlier images
  ... had 0.3 railcars or fewer" of a drop to 0 (whole counts: "had no railcars") and
  "22.2 railcars or more" of a spike's precedent; "usually seen every 1 days";
  "history: 1 days".
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import numpy as np

from railwatch.analysis import Alert, AlertSettings, CountPoint, analyze_series
from test_analysis_tumangang import scenario_alerts

START = datetime(2018, 1, 1, 2, tzinfo=UTC)


def _points(values: list[float], start: datetime = START, step: int = 10) -> list[CountPoint]:
    return [
        CountPoint(when=start + timedelta(days=step * k), count=float(v))
        for k, v in enumerate(values)
    ]


def _on(alerts: list[Alert] | tuple[Alert, ...], day: date, kind: str) -> Alert:
    return next(a for a in alerts if a.when.date() == day and a.kind == kind)


def test_a_later_record_of_the_rise_tells_one_story() -> None:
    alerts = scenario_alerts()
    oct5 = _on(alerts, date(2023, 10, 5), "record")
    assert oct5.severity == "high"
    assert oct5.explanation.startswith(
        "73 railcars on 2023-10-05, against a 5-year record of 20 set on 2019-08-14: 3.6× the "
        "record (history: 5.5 years, 144 usable images). The counts have been above that "
        "record since 2023-09-18, for the first time in 5 years, and this image continues "
        "that rise past its latest record, 46 on 2023-09-25. 22 days after: Kim–Putin summit"
    )
    for a in alerts:
        assert "It continues a rise" not in a.explanation
        assert "above it since" not in a.explanation
    # the rise's second record passes its first one
    sep20 = _on(alerts, date(2023, 9, 20), "record")
    assert "continues that rise past its first record, 23 on 2023-09-18." in sep20.explanation
    # its first record still says it is the first time
    sep18 = _on(alerts, date(2023, 9, 18), "record")
    assert "1.1× the record, the first time above it in 5 years (history" in sep18.explanation
    assert "continues that rise" not in sep18.explanation


def test_a_record_short_of_the_rise_s_step_says_by_how_much() -> None:
    alerts = scenario_alerts()
    may4 = _on(alerts, date(2024, 5, 4), "record")  # 252 against the rise's 211 (1.194×)
    assert may4.severity == "info"
    assert "past its latest record, 211 on 2024-03-09." in may4.explanation
    assert (
        "Info only: it is only 1.19× the rise's latest record, 211 (a record within a rise "
        "needs 1.2× it to be more than a note)." in may4.explanation
    )
    assert not any("barely" in a.explanation for a in alerts)


def test_a_rise_that_fell_back_first_went_above_the_record() -> None:
    rng = np.random.default_rng(1)
    values = [float(v) for v in rng.integers(5, 15, 190)] + [40, 12, 60]
    alerts = analyze_series(_points(values), [])
    last = _on(alerts, (START + timedelta(days=10 * 192)).date(), "record")
    first_day = (START + timedelta(days=10 * 190)).date()
    assert (
        f"The counts first went above that record on {first_day}, for the first time in 5 "
        f"years, and this image continues that rise past its first record, 40 on {first_day}."
    ) in last.explanation


def test_a_ratio_just_above_one_is_not_one() -> None:
    rng = np.random.default_rng(1)
    values = [float(v) for v in rng.integers(180, 201, 200)] + [204]
    alerts = analyze_series(_points(values), [])
    rec = _on(alerts, (START + timedelta(days=2000)).date(), "record")
    assert "against a 5-year record of 200 set on" in rec.explanation
    assert ": 1.02× the record, the first time above it in 5 years" in rec.explanation
    assert not any("1.0× the record" in a.explanation for a in alerts)


def test_one_year_is_singular() -> None:
    rng = np.random.default_rng(1)
    values = [float(v) for v in rng.integers(5, 15, 120)] + [30]
    alerts = analyze_series(_points(values), [], settings=AlertSettings(record_years=1))
    rec = _on(alerts, (START + timedelta(days=1200)).date(), "record")
    assert "against a 1-year record of 14" in rec.explanation
    assert "the first time above it in 1 year (history" in rec.explanation
    assert any("the record window is 1 year)" in a.explanation for a in alerts)
    assert not any("1 years" in a.explanation for a in alerts)


def test_a_drop_s_one_precedent_of_no_car() -> None:
    values = [12, 10, 14, 11, 13, 0] + [12, 11, 13, 10, 14, 12, 11, 13] * 6 + [0]
    alerts = analyze_series(_points([float(v) for v in values]), [])
    drop = [a for a in alerts if a.kind == "drop"][-1]
    assert drop.explanation.endswith(
        "Info only: 1 earlier image in the previous 5 years had no railcars "
        "(2018-02-20: 0), so this is not new."
    )


def test_a_spike_s_precedents_in_whole_cars() -> None:
    rng = np.random.default_rng(3)
    points = []
    for k in range(0, 365 * 5, 8):
        when = START + timedelta(days=k)
        summer = when.month == 7 and 10 <= when.day <= 17
        points.append(CountPoint(when=when, count=30.0 if summer else float(rng.integers(8, 13))))
    spike = _on(analyze_series(points, []), date(2020, 7, 17), "spike")
    # (30 + 1) x 0.75 - 1 = 22.25: whole counts reach it at 23
    assert (
        "Info only: 2 earlier images in the same weeks of earlier years had 23 railcars or "
        "more (latest 2019-07-15: 30), so this is not new." in spike.explanation
    )


def test_a_site_seen_daily_is_seen_every_day() -> None:
    rng = np.random.default_rng(1)
    points = _points([float(v) for v in rng.integers(5, 15, 60)], step=1)
    points += _points([10.0, 11.0], start=points[-1].when + timedelta(days=60), step=1)
    quality = [a for a in analyze_series(points, []) if a.kind == "quality"]
    assert quality
    assert "the site is usually seen every day (median gap)" in quality[0].explanation


def test_a_history_of_one_day() -> None:
    points = _points([5.0, 12.0], step=1)
    rec = analyze_series(points, [])[0]
    assert "(history: 1 day, 1 usable image; the record window is 5 years)" in rec.explanation
