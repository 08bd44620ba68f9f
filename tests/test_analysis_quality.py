"""Quality alerts (silence) judged against an explicit as-of date; idempotent for a fixed one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from railwatch.analysis import Alert, CountPoint, analyze_series

T0 = datetime(2021, 3, 1, 9, tzinfo=UTC)


def every_10_days(n: int, unusable_tail: int = 0) -> list[CountPoint]:
    """``n`` usable images every 10 days, then ``unusable_tail`` unusable ones."""
    pts = [CountPoint(when=T0 + timedelta(days=10 * k), count=20.0 + k % 3) for k in range(n)]
    pts += [
        CountPoint(when=T0 + timedelta(days=10 * (n + k)), count=None, usable=False)
        for k in range(unusable_tail)
    ]
    return pts


def quality(alerts: list[Alert]) -> list[Alert]:
    return [a for a in alerts if a.kind == "quality"]


def test_silence_at_the_end_is_reported_as_of_a_later_date() -> None:
    pts = every_10_days(30)
    last = pts[-1].when
    assert quality(analyze_series(pts, as_of=last + timedelta(days=20))) == []
    q = quality(analyze_series(pts, as_of=last + timedelta(days=60)))
    assert len(q) == 1
    # stated on the alert's own date (45 days after the last usable image), never as of
    # the analysis: the same alert whichever day it is made (session 28)
    assert q[0].metrics["ongoing"] == "yes" and q[0].metrics["gap_days"] == 45.0
    assert q[0].severity == "low"  # more than the expected 45 days, less than twice
    assert f"45 days on {(last + timedelta(days=45)).date()}" in q[0].explanation
    assert "as of" not in q[0].explanation
    later = quality(analyze_series(pts, as_of=last + timedelta(days=100)))
    assert later[0].severity == "medium" and later[0].key == q[0].key


def test_unusable_images_do_not_end_a_silence() -> None:
    pts = every_10_days(30, unusable_tail=8)
    end = pts[-1].when + timedelta(days=5)
    q = quality(analyze_series(pts, as_of=end))
    assert len(q) == 1 and q[0].metrics["unusable_images"] == 8.0
    # without an as-of date the last point (an unusable image) is the end
    q_default = quality(analyze_series(pts))
    assert q_default and q_default[0].metrics["gap_days"] == 45.0  # low: on its date
    assert q_default[0].metrics["latest_image"] == pts[-1].when.date().isoformat()


def test_same_as_of_gives_the_same_alerts() -> None:
    pts = every_10_days(30)
    as_of = pts[-1].when + timedelta(days=75)
    first = analyze_series(pts, as_of=as_of)
    second = analyze_series(list(reversed(pts)), as_of=as_of)
    assert first == second
    assert [a.to_dict() for a in first] == [a.to_dict() for a in second]


def test_points_after_the_as_of_date_are_ignored() -> None:
    pts = every_10_days(30)
    cut = pts[19].when
    spike = CountPoint(when=pts[25].when + timedelta(days=1), count=200.0)
    before = analyze_series(pts[:20], as_of=cut)
    assert analyze_series([*pts, spike], as_of=cut) == before


def test_a_silence_that_ended_is_one_step_lower() -> None:
    pts = every_10_days(30)
    resumed = [*pts, CountPoint(when=pts[-1].when + timedelta(days=70), count=21.0)]
    q = quality(analyze_series(resumed, as_of=resumed[-1].when))
    assert len(q) == 1 and q[0].metrics["ongoing"] == "no"
    assert q[0].severity == "info"  # 70 days: low while it lasted, info once it ended
    ongoing = quality(analyze_series(pts, as_of=pts[-1].when + timedelta(days=70)))
    assert ongoing[0].severity == "low"
