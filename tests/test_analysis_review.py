"""Alerts judged on an analyst's count (a scene review, ``CountPoint.reviewed``): they say
so, an exact count is never judged as more uncertain than the detector's, and the rules
keep working (nothing divides by its zero-width interval). Hand-made series mixing
reviewed and detector points."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from railwatch.analysis import Alert, CountPoint, analyze_series
from railwatch.analysis.alerts import REVIEWED_WORDS, TYPED_NOTE, TYPED_REVIEWED_NOTE
from railwatch.analysis.series import build_series
from test_analysis_tumangang import PATTERN, SUMMIT, tumangang

OCT5 = date(2023, 10, 5)
START = datetime(2019, 1, 1, 2, tzinfo=UTC)


def _on(alerts: list[Alert], day: date, kind: str) -> Alert:
    found = [a for a in alerts if a.when.date() == day and a.kind == kind]
    assert len(found) == 1, [(a.key, a.severity) for a in alerts]
    return found[0]


def _tumangang(count: float, low: float, high: float, reviewed: bool) -> list[CountPoint]:
    """The hand-built Tumangang series with 2023-10-05 (truly 73 railcars) counted as given."""
    return [
        replace(p, count=count, low=low, high=high, reviewed=reviewed)
        if p.when.date() == OCT5
        else p
        for p in tumangang()
    ]


def test_the_record_fires_on_the_analysts_corrected_count_and_says_so() -> None:
    # the detector reads 61 of a true 73; the analyst's review corrects it
    detector = analyze_series(_tumangang(61.0, 55.0, 70.0, False), [SUMMIT])
    analyst = analyze_series(_tumangang(73.0, 73.0, 73.0, True), [SUMMIT])
    before, after = _on(detector, OCT5, "record"), _on(analyst, OCT5, "record")
    assert before.value == 61.0 and "reviewed" not in before.metrics
    assert "61 railcars (interval 55–70) on 2023-10-05" in before.explanation
    assert REVIEWED_WORDS not in before.explanation
    assert after.key == before.key  # the same alert, updated in place when stored
    assert after.value == 73.0 and after.severity == "high"
    assert after.metrics["reviewed"] == 1.0 and after.metrics["ratio"] == pytest.approx(3.65)
    assert after.explanation.startswith(
        "73 railcars, counted by an analyst (scene review), on 2023-10-05, against a "
        "5-year record of 20 set on 2021-07-14: 3.6× the record"
    )
    assert "(interval" not in after.explanation  # its interval is the count itself
    # the next record of the rise is judged against the corrected one, and says whose it is
    later = _on(analyst, date(2023, 11, 2), "record")
    assert (
        "continues that rise past its latest record, 73 on 2023-10-05 (an analyst's count)."
        in later.explanation
    )
    assert "reviewed" not in later.metrics  # its own count is the detector's
    # 68 on 2023-10-16 beat the detector's 61, not the analyst's 73
    assert any(a.key == "record:all:2023-10-16" for a in detector)
    assert all(a.key != "record:all:2023-10-16" for a in analyst)


def test_a_record_set_by_an_analyst_is_named_as_such() -> None:
    pts = _tumangang(73.0, 73.0, 73.0, True)
    cut = [p for p in pts if p.when.date() <= date(2023, 10, 16)]
    # a detector count far above the analyst's record, after the rise had paused
    cut.append(CountPoint(when=datetime(2024, 3, 1, 2, tzinfo=UTC), count=160.0))
    record = _on(analyze_series(cut), date(2024, 3, 1), "record")
    assert "against a 5-year record of 73 set on 2023-10-05 (an analyst's count)" in (
        record.explanation
    )
    assert record.metrics["record_reviewed"] == 1.0 and "reviewed" not in record.metrics


def test_a_shift_names_the_analysts_counts_in_its_streak() -> None:
    shift = _on(analyze_series(_tumangang(73.0, 73.0, 73.0, True), [SUMMIT]), OCT5, "shift")
    assert "2023-10-05: 73 (an analyst's count)" in shift.explanation
    assert "2023-09-25: 38," in shift.explanation  # the detector's, unmarked
    assert shift.metrics["reviewed"] == 1.0 and shift.metrics["reviewed_images"] == 1.0
    assert shift.severity == "high"


def _steady(
    n_reviewed: int = 0, *, spike: float = 60.0, low: float | None = None, high: float | None = None
) -> tuple[list[CountPoint], datetime]:
    """90 images 10 days apart of 5-23 railcars, the detector's intervals 0.8x-1.6x the
    count (the last ``n_reviewed`` of them an analyst's, low == high == count), then an
    image of ``spike`` with the detector's usual interval unless ``low``/``high`` given."""
    pts = []
    for k in range(90):
        v = float(PATTERN[k % len(PATTERN)] + 5)
        rev = k >= 90 - n_reviewed
        pts.append(
            CountPoint(
                when=START + timedelta(days=10 * k),
                count=v,
                low=v if rev else 0.8 * v,
                high=v if rev else 1.6 * v,
                reviewed=rev,
            )
        )
    when = START + timedelta(days=900)
    pts.append(
        CountPoint(
            when=when,
            count=spike,
            low=0.8 * spike if low is None else low,
            high=1.6 * spike if high is None else high,
        )
    )
    return pts, when


def test_a_spike_on_an_analysts_count_says_so() -> None:
    pts, when = _steady()
    pts[-1] = replace(pts[-1], low=60.0, high=60.0, reviewed=True)
    spike = _on(analyze_series(pts), when.date(), "spike")
    assert spike.explanation.startswith(
        "60 railcars, counted by an analyst (scene review), on 2021-06-19, 4.6× the usual 13"
    )
    assert spike.metrics["reviewed"] == 1.0 and spike.severity == "medium"


def test_analysts_counts_do_not_narrow_the_detectors_usual_interval() -> None:
    # 15 reviewed images among the last 20 had made the usual width 0: the detector's
    # ordinary 0.8x-1.6x interval on the next image then read as "uncertain" and lowered
    # its spike from medium to low
    plain = _on(analyze_series(_steady(0)[0]), date(2021, 6, 19), "spike")
    after = _on(analyze_series(_steady(15)[0]), date(2021, 6, 19), "spike")
    assert plain.severity == after.severity == "medium"
    assert "uncertain" not in after.explanation and "reviewed" not in after.metrics


def test_an_analysts_count_is_never_more_uncertain_than_the_detectors() -> None:
    # a count with an interval far wider than usual (5-400) is lowered for it; the same
    # count by an analyst is exact, whatever interval it was given
    detector, when = _steady(low=5.0, high=400.0)
    lowered = _on(analyze_series(detector), when.date(), "spike")
    assert lowered.severity == "low" and "uncertain" in lowered.explanation
    analyst = [*detector[:-1], replace(detector[-1], reviewed=True)]
    exact = _on(analyze_series(analyst), when.date(), "spike")
    assert exact.severity == "medium" and "uncertain" not in exact.explanation
    assert "(interval" not in exact.explanation and exact.metrics["reviewed"] == 1.0
    for kind in ("spike", "record"):  # the same as a detector count of a usual interval
        usual = _on(analyze_series(_steady()[0]), when.date(), kind)
        assert _on(analyze_series(analyst), when.date(), kind).severity == usual.severity


def _exact(day: int, value: float) -> CountPoint:
    """An analyst's count ``day`` days after START (its interval the count itself)."""
    return CountPoint(
        when=START + timedelta(days=day), count=value, low=value, high=value, reviewed=True
    )


@pytest.mark.filterwarnings("error")
def test_a_series_of_analysts_counts_only_divides_by_no_zero_width() -> None:
    # every interval zero wide (low == high == count); a spike, a record and a fall to
    # 0 are still judged, without a division warning
    pts = [_exact(10 * k, float(PATTERN[k % len(PATTERN)] + 5)) for k in range(90)]
    pts += [_exact(900 + 10 * k, 70.0 + k % 3) for k in range(40)]
    pts.append(_exact(1300, 0.0))
    alerts = analyze_series(pts)
    kinds = {a.kind for a in alerts if a.severity != "info"}
    assert {"record", "spike", "drop"} <= kinds, [(a.key, a.severity) for a in alerts]
    assert all(a.metrics.get("reviewed") == 1.0 for a in alerts if a.kind != "quality")
    assert all("uncertain" not in a.explanation for a in alerts)


def _length(n: int, value: float, offset: int = 0) -> list[CountPoint]:
    return [
        CountPoint(
            when=START + timedelta(days=offset + 18 * i),
            count=value + (i % 3),
            low=value + (i % 3) - 3,
            high=value + (i % 3) + 3,
            method="length",
            gsd=3.0,
        )
        for i in range(n)
    ]


def test_one_analysts_count_at_3m_is_no_estimate_waiting_for_confirmation() -> None:
    # three years of 3 m estimates around 6, then one image of 40: from the estimator a
    # note until the next image confirms it; an analyst's 40 is raised at once
    base = _length(60, 6)
    lone = CountPoint(when=START + timedelta(days=18 * 60), count=40, low=30, high=50,
                      method="length", gsd=3.0)  # fmt: skip
    estimated = [a for a in analyze_series([*base, lone]) if a.when == lone.when]
    assert estimated and all(a.severity == "info" for a in estimated)
    assert all("note only" in a.explanation for a in estimated)
    counted = replace(lone, low=40.0, high=40.0, reviewed=True)
    reviewed = [a for a in analyze_series([*base, counted]) if a.when == lone.when]
    raised = {a.kind: a for a in reviewed if a.severity != "info"}
    assert {"record", "spike"} <= set(raised), [(a.key, a.severity) for a in reviewed]
    for kind in ("record", "spike"):
        note = next(a for a in estimated if a.kind == kind)
        assert raised[kind].severity == note.metrics["unconfirmed_severity"]
        assert "note only" not in raised[kind].explanation
        assert raised[kind].metrics["reviewed"] == 1.0


def test_one_analysts_count_at_3m_at_the_drop_line_is_a_drop() -> None:
    base = _length(60, 30)
    fall = CountPoint(when=START + timedelta(days=18 * 60), count=2, low=0, high=8,
                      method="length", gsd=3.0)  # fmt: skip
    noted = _on(analyze_series([*base, fall]), fall.when.date(), "drop")
    assert noted.severity == "info" and "note only" in noted.explanation
    counted = replace(fall, low=2.0, high=2.0, reviewed=True)
    drop = _on(analyze_series([*base, counted]), fall.when.date(), "drop")
    # the estimate was also lowered for its wide interval; the analyst's count is exact
    assert noted.metrics["unconfirmed_severity"] == "medium" and "uncertain" in noted.explanation
    assert drop.severity == "high" and drop.metrics["reviewed"] == 1.0
    assert "note only" not in drop.explanation and "drop_confirm_points" not in drop.explanation


def test_a_type_counted_by_an_analyst_is_not_called_the_detectors_lower_bound() -> None:
    pts, when = _steady()
    pts = [replace(p, cls="tank") for p in pts]
    detector = _on(analyze_series(pts), when.date(), "spike")
    assert detector.explanation.endswith(TYPED_NOTE)
    pts[-1] = replace(pts[-1], low=60.0, high=60.0, reviewed=True)
    analyst = _on(analyze_series(pts), when.date(), "spike")
    assert TYPED_NOTE not in analyst.explanation
    assert TYPED_REVIEWED_NOTE in analyst.explanation
    assert "60 tank cars, counted by an analyst (scene review)" in analyst.explanation
    # against the detector's confident few of a type, the analyst's every car of it
    # stands out by the naming alone: a note, with the severity it would have had
    assert detector.severity != "info"
    assert analyst.severity == "info" and "note only" in analyst.explanation
    assert analyst.metrics["typed_reviewed_severity"] == detector.severity


def test_a_type_judged_against_analysts_counts_only_is_an_alert_as_any() -> None:
    # every image of the series reviewed: the type's counts are all every car of it, so
    # neither note applies and the severity stands (a report said "the counts it is judged
    # against are the detector's" of a record set by an analyst's count)
    pts, when = _steady(n_reviewed=90)
    pts = [replace(p, cls="tank") for p in pts]
    pts[-1] = replace(pts[-1], low=60.0, high=60.0, reviewed=True)
    spike = _on(analyze_series(pts), when.date(), "spike")
    assert TYPED_NOTE not in spike.explanation
    assert TYPED_REVIEWED_NOTE not in spike.explanation
    assert spike.severity != "info" and "typed_reviewed_severity" not in spike.metrics


def test_the_day_keeps_the_image_an_analyst_counted() -> None:
    # two images of one day: the detector's clearer one (61) and the one the analyst
    # reviewed (73): the day's count is the analyst's
    day = datetime(2023, 10, 5, 2, tzinfo=UTC)
    clear = CountPoint(when=day, count=61.0, low=55.0, high=70.0, clear_fraction=1.0,
                       scene_id=1)  # fmt: skip
    reviewed = CountPoint(when=day + timedelta(hours=3), count=73.0, low=73.0, high=73.0,
                          clear_fraction=0.8, scene_id=2, reviewed=True)  # fmt: skip
    for order in ([clear, reviewed], [reviewed, clear]):
        (point,) = build_series(order)["all"].points
        assert point.scene_id == 2 and point.count == 73.0 and point.reviewed
    # a coarser method's review does not displace a count of cars one by one
    coarse = replace(reviewed, method="length", gsd=3.0)
    (point,) = build_series([clear, coarse])["all"].points
    assert point.scene_id == 1


def test_an_analysts_3m_count_beats_the_fine_record_by_its_count() -> None:
    # two years of 0.5 m counts near 15 (record 17), then the first 3 m image: its own
    # kind has no history, so it is judged against the 0.5 m record, by its interval's
    # lower end when the estimator made it, by the count itself when an analyst did
    t0 = datetime(2023, 6, 10, 2, tzinfo=UTC)
    fine = [
        CountPoint(t0 + timedelta(days=12 * k), 13.0 + k % 5, method="objects", gsd=0.5)
        for k in range(60)
    ]
    when = t0 + timedelta(days=12 * 60)
    estimate = CountPoint(when, 60.0, 36.0, 114.0, method="length", gsd=3.0)
    noted = _on(analyze_series([*fine, estimate]), when.date(), "record")
    assert noted.severity == "info" and "lower end, 36, is 2.1× the record of 17" in (
        noted.explanation
    )
    counted = replace(estimate, low=60.0, high=60.0, reviewed=True)
    record = _on(analyze_series([*fine, counted]), when.date(), "record")
    assert record.severity == "medium" and record.metrics["across_methods"] == "objects"
    assert record.metrics["lower_end"] == 60.0 and record.metrics["reviewed"] == 1.0
    assert record.explanation.startswith(
        "60 railcars, counted by an analyst (scene review), on 2025-05-30: it is 3.5× the "
        "record of 17"
    )
    assert "by its count, exact (an analyst's), with no error of its method" in (record.explanation)
    assert "lower end" not in record.explanation and "note only" not in record.explanation
