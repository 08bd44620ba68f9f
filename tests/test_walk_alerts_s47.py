"""What an analyst's walk through the alerts found untrue (2026-12-07, session 47).

* A shift found by the CUSUM said "N spreads in all beyond it" of the CUSUM's own sum:
  each image clipped at ``shift_clip``, ``shift_k`` taken off each, the sum capped at
  ``shift_h + shift_clip``. The demo's tank cars, 28 and 31 against a usual 6.8 ± 2.8
  (7.6 and 8.6 spreads), read "7.5 spreads in all beyond it"; no shift read more than 7.5.
  It now gives the streak's own spreads beyond its baselines, and names its test.
* A record made a note by its ratio (under ``record_low_ratio``) or by too few cars of
  excess (``record_min_excess``, ``type_min_excess`` for a type) said no reason: "10
  covered cars ... 2.0× the record, the first time above it in 5 years", info.
* Of several reasons for a note only the first was said: a record of 14 days' history read
  "Info only: it is only 1.18× the rise's latest record", as if 1.2× would have raised it.
* A spike's spread pooled (session 43) with the count floor said it was pooled "with this
  site's own image-to-image variation of ±13 %" (±1.6 cars where the floor was ±3.6):
  the spread could not be had by hand. It now says with how many cars, and which.
* A later record of a rise is judged against the record before the rise; where that was
  set more than N years before the image it was still called "a 5-year record" (the
  demo's 230 railcars on 2024-06-17 "against a 5-year record of 15 set on 2018-09-18").
* A silence that had ended was one step lower (info, or low at twice the expected gap)
  without a word why: "No usable image of this site for 54 days (...)", info.
* ``alert ack ID --note`` of an alert acknowledged before and changed since printed the
  notes one a line and then "It had changed since ..." at the end of the last note's line
  ("2026-12-07 10:52 UTC: second look: still real It had changed since (was 68, high)").
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from railwatch.analysis.alerts import analyze_series
from railwatch.analysis.settings import AlertSettings
from railwatch.analysis.types import Alert, CountPoint
from railwatch.cli.main import main
from railwatch.sites import site_from_bbox
from railwatch.storage import Database, repo

START = datetime(2020, 1, 6, 2, tzinfo=UTC)


def _points(values: list[float], cls: str = "all") -> list[CountPoint]:
    return [
        CountPoint(when=START + timedelta(days=7 * k), count=v, cls=cls)
        for k, v in enumerate(values)
    ]


def _flat(n: int, level: int, jitter: int, seed: int) -> list[float]:
    rng = np.random.default_rng(seed)
    return [float(level + rng.integers(-jitter, jitter + 1)) for _ in range(n)]


def _at(alerts: list[Alert], kind: str, k: int) -> Alert:
    day = (START + timedelta(days=7 * k)).date()
    return next(a for a in alerts if a.kind == kind and a.when.date() == day)


def test_a_cusum_shift_says_its_images_spreads_not_the_capped_sum() -> None:
    values = [*_flat(120, 20, 3, 1), 53.0, 51.0]
    alerts = analyze_series(_points(values), [], as_of=START + timedelta(days=7 * 125))
    shift = _at(alerts, "shift", 121)
    assert shift.metrics["test"] == "cusum"
    base, spread = float(shift.metrics["baseline"]), float(shift.metrics["spread"])
    by_hand = (53.0 - base) / spread + (51.0 - base) / spread
    settings = AlertSettings()
    assert by_hand > settings.shift_h + settings.shift_clip  # the old text could not say it
    said = shift.explanation.split(" spreads in all beyond it (cumulative-sum test)")[0]
    number = float(said.rsplit(" ", 1)[1])
    assert number == pytest.approx(by_hand, abs=0.35)
    assert number != pytest.approx(float(shift.metrics["cusum"]), abs=0.05)


def test_a_record_under_the_ratio_says_so() -> None:
    # about 100 cars; 120 beats the record of 110 by 10 cars but only 1.09x
    values = [*_flat(150, 100, 4, 2), 110.0, *_flat(20, 100, 4, 3), 120.0]
    alerts = analyze_series(_points(values), [], as_of=START + timedelta(days=7 * 175))
    rec = _at(alerts, "record", 171)
    assert rec.severity == "info"
    assert "against a record of 110 set on" in rec.explanation
    assert (
        "Info only: it is only 1.09× the record (a record needs 1.2× it to be more than a "
        "note)." in rec.explanation
    )
    assert "beats the record by" not in rec.explanation


def test_a_record_by_too_few_cars_says_so() -> None:
    values = [*_flat(150, 3, 1, 4), 9.0]
    alerts = analyze_series(_points(values), [], as_of=START + timedelta(days=7 * 155))
    rec = _at(alerts, "record", 150)  # 5 cars are enough for the total (3): an alarm
    assert rec.severity != "info"
    assert "beats the record by" not in rec.explanation
    typed = analyze_series(
        _points([*_flat(150, 3, 1, 4), 9.0], cls="tank"),
        [],
        as_of=START + timedelta(days=7 * 155),
    )
    rec = _at(typed, "record", 150)
    assert rec.severity == "info"
    assert (
        "Info only: it beats the record by 5 tank cars (a record needs to beat it by 6 or "
        "more to be more than a note)." in rec.explanation
    )


def test_every_reason_of_a_note_is_said() -> None:
    # three weeks of history: a rise of records, each a note for its history, and the
    # second also short of the rise's step
    alerts = analyze_series(
        _points([8.0, 11.0, 13.0, *_flat(40, 9, 2, 5)]),
        [],
        as_of=START + timedelta(days=7 * 45),
    )
    rec = _at(alerts, "record", 2)
    assert rec.severity == "info"
    assert (
        "Info only: it is only 1.18× the rise's latest record, 11 (a record within a rise "
        "needs 1.2× it to be more than a note); too little history to call it a record "
        "beyond a note." in rec.explanation
    )


def test_every_record_note_has_a_reason() -> None:
    """A record one car above a 4-year record (both rules' note) and every other record
    note of the series say why they are notes."""
    values = _flat(200, 10, 3, 6)
    values.append(max(values) + 1.0)
    alerts = analyze_series(_points(values), [], as_of=START + timedelta(days=7 * 205))
    last = _at(alerts, "record", 200)
    assert last.severity == "info"
    assert "it is only 1.08× the record" in last.explanation
    assert "it beats the record by 1 railcar (a record needs" in last.explanation
    notes = [a for a in alerts if a.kind == "record" and a.severity == "info"]
    for a in notes:
        assert "Info only: " in a.explanation or "lowered to info" in a.explanation, a


def _spike(value: float, text: str) -> Alert:
    return Alert(
        key="spike:all:2024-03-01",
        kind="spike",
        severity="medium",
        when=datetime(2024, 3, 1, 2, 30, tzinfo=UTC),
        cls="all",
        value=value,
        explanation=text,
        metrics={"baseline": 12.0},
    )


def test_a_second_ack_says_the_mark_on_a_line_of_its_own(
    tmp_db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    db = Database(tmp_db_url)
    try:
        with db.session() as s:
            repo.add_site(s, site_from_bbox("tum", "130.60,42.28,130.63,42.30"))
            repo.replace_alerts(s, "tum", [_spike(40.0, "40 railcars on 2024-03-01")])
        with db.session() as s:
            alert_id = repo.list_alerts(s, "tum")[0].id
            repo.acknowledge_alert(s, alert_id, "checked: real")
        with db.session() as s:  # counted again: still acknowledged, marked
            repo.replace_alerts(s, "tum", [_spike(31.0, "31 railcars on 2024-03-01")])
        capsys.readouterr()
        assert main(["--db", db.url, "alert", "ack", str(alert_id), "--note", "still real"]) == 0
        lines = capsys.readouterr().out.rstrip().splitlines()
        assert lines[-2].strip().endswith("UTC: still real")
        assert lines[-1].strip() == "It had changed since (was 40, medium): marked as seen."
    finally:
        db.dispose()


def _num(pattern: str, text: str) -> float:
    found = re.search(pattern, text)
    assert found is not None, (pattern, text)
    return float(found.group(1))


def _pooled_spread(text: str) -> tuple[float, float, float, float]:
    """(typical spread, the window's own, its images, what it was pooled with) as said."""
    ref = r"raised to ±([\d.]+)" if "raised to" in text else r"\(±([\d.]+) at this level\)"
    return (
        _num(r"typical spread ±([\d.]+)", text),
        _num(r"the window's own ±([\d.]+)", text),
        _num(r"median of (\d+) usable images", text),
        _num(ref, text),
    )


def test_a_spike_pooled_with_the_count_floor_says_so_in_cars() -> None:
    calm = [float((9, 10, 11, 10)[k % 4]) for k in range(104)]
    calm[60] = 34.0
    swings = [float((10, 6, 14, 6, 14, 7, 13)[k % 7]) for k in range(17)]
    alerts = analyze_series(
        _points([*calm, *swings, 30.0]), [], as_of=START + timedelta(days=7 * 125)
    )
    spike = _at(alerts, "spike", 121)
    assert (
        "the window's own ±5.9 pooled with this site's own image-to-image variation of ±13 % "
        "(±1.4 at this level) raised to ±3.3, the least a count of about 10 varies by"
        in spike.explanation
    )
    spread, window, n, ref = _pooled_spread(spike.explanation)
    by_hand = np.sqrt((n * window**2 + 60 * ref**2) / (n + 60))
    assert by_hand == pytest.approx(spread, abs=0.15)


def test_a_spike_pooled_with_the_series_noise_says_how_many_cars() -> None:
    rng = np.random.default_rng(3)
    calm = [float(round(20 * np.exp(rng.normal(0, 0.4)))) for _ in range(104)]
    swings = [float((20, 8, 36, 9, 34, 10, 30)[k % 7]) for k in range(17)]
    alerts = analyze_series(
        _points([*calm, *swings, 120.0]), [], as_of=START + timedelta(days=7 * 125)
    )
    spike = _at(alerts, "spike", 121)
    assert (
        "typical spread ±13.5, the window's own ±16.3 pooled with this site's own "
        "image-to-image variation of ±60 % (±12.6 at this level))" in spike.explanation
    )
    assert "raised to" not in spike.explanation
    spread, window, n, ref = _pooled_spread(spike.explanation)
    assert np.sqrt((n * window**2 + 60 * ref**2) / (n + 60)) == pytest.approx(spread, abs=0.15)


def test_a_rise_s_record_set_more_than_n_years_before_is_named_so() -> None:
    # 10 +- 2 for 5.5 years with one 16 early on, then a rise of records: 30, 45, 70, ...
    values = _flat(290, 10, 2, 8)
    values[20] = 16.0
    rise = [30.0, 45.0, 70.0, 100.0, 140.0]
    points = _points([*values[:280], *rise])
    alerts = analyze_series(points, [], as_of=START + timedelta(days=7 * 290))
    records = [a for a in alerts if a.kind == "record" and a.when >= points[280].when]
    assert [a.value for a in records] == rise
    set_on = points[20].when.date()
    for a in records:
        within = (a.when - points[20].when).days < 5 * 365.25
        said = (
            "against a 5-year record of 16 set on"
            if within
            else ("against the 5-year record before this rise, 16 set on")
        )
        assert f"{said} {set_on}: " in a.explanation, a.explanation
    assert "before this rise" in records[-1].explanation  # 5.4 years after the 16


def test_an_ended_silence_says_why_it_is_lower() -> None:
    values: list[float | None] = [*_flat(30, 10, 2, 9), *[None] * 12, *_flat(10, 10, 2, 10)]
    points = [
        CountPoint(when=START + timedelta(days=7 * k), count=v, usable=v is not None)
        for k, v in enumerate(values)
    ]
    end = START + timedelta(days=7 * len(values))
    (silence,) = [a for a in analyze_series(points, [], as_of=end) if a.kind == "quality"]
    assert silence.metrics["ongoing"] == "no"
    assert silence.severity == "low"  # medium at twice the expected gap, one step lower
    nxt = (START + timedelta(days=7 * 42)).date()
    assert silence.explanation.endswith(
        f"must not be read as calm. Severity lowered to low because it ended with the usable "
        f"image of {nxt} (a silence that has ended is one step lower than one going on)."
    )
    shorter = [*values[:30], *[None] * 7, *values[42:]]
    points = [
        CountPoint(when=START + timedelta(days=7 * k), count=v, usable=v is not None)
        for k, v in enumerate(shorter)
    ]
    (silence,) = [a for a in analyze_series(points, [], as_of=end) if a.kind == "quality"]
    assert silence.severity == "info"
    assert "calm. Info only: it ended with the usable image of " in silence.explanation
