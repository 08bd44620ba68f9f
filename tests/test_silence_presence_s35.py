"""A site whose images become 10 m ones (presence flags, never a count) is silent in its
counts: such images do not end a silence of counts (2026-12-06, session 35; before, ten
weekly 0.5 m counts then fourteen weekly 10 m images raised no alert at all, where
fourteen unusable images raised a 'medium' silence)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from railwatch.analysis.alerts import analyze_series
from railwatch.analysis.settings import AlertSettings
from railwatch.analysis.store import analyze_and_store
from railwatch.analysis.types import Alert, CountPoint
from railwatch.sites import SiteSpec
from railwatch.storage import Database, repo
from report_db import SITE_UTM, FakeCount, add_counted_scene, to_wgs84

T0 = datetime(2025, 1, 6, 10, 0, tzinfo=UTC)
WEEK = timedelta(days=7)


def _counts(n: int, *, first: int = 0, last: float = 37.0) -> list[CountPoint]:
    """``n`` weekly 0.5 m counts from week ``first``, the last one ``last``."""
    out = [
        CountPoint(T0 + (first + i) * WEEK, 30.0 + i % 3, 27.0, 35.0, gsd=0.5) for i in range(n - 1)
    ]
    return [*out, CountPoint(T0 + (first + n - 1) * WEEK, last, last - 3, last + 3, gsd=0.5)]


def _flags(weeks: range, shift: timedelta = timedelta(0)) -> list[CountPoint]:
    """10 m images (a long train present or not) in ``weeks``: points of the total only."""
    return [
        CountPoint(T0 + w * WEEK + shift, float(w % 2), float(w % 2), float(w % 2),
                   method="presence", gsd=10.0)
        for w in weeks
    ]  # fmt: skip


def _unusable(weeks: range, shift: timedelta = timedelta(0)) -> list[CountPoint]:
    return [CountPoint(T0 + w * WEEK + shift, None, usable=False, gsd=0.5) for w in weeks]


def _silences(points: list[CountPoint], **kw: object) -> list[Alert]:
    return [a for a in analyze_series(points, **kw) if a.kind == "quality"]  # type: ignore[arg-type]


def test_counts_then_10m_images_only_raise_one_silence_of_counts() -> None:
    points = [*_counts(10), *_flags(range(10, 24))]
    (alert,) = _silences(points)
    last = "2025-03-10"  # week 9, the last count
    assert alert.key == f"quality:all:{last}"
    # the same severity as fourteen unusable images would have had
    (cloudy,) = _silences([*_counts(10), *_unusable(range(10, 24))])
    assert alert.severity == cloudy.severity == "medium"
    assert alert.explanation.startswith(
        f"No image able to count cars since {last} (14 weeks to the latest image, on "
        "2025-06-16): the 14 images since are 10 m ones, which only tell whether long trains "
        f"are present; last count 37 railcars on {last}; without a count for 45 days on "
        "2025-04-24 (the alert's date), 90 days (twice that) on 2025-06-08; the site is "
        "usually counted every 7 days (median gap), so more than 45 days without a count "
        "is unexpected and must not be read as calm."
    ), alert.explanation
    m = alert.metrics
    assert m["presence_images"] == 14.0 and m["unusable_images"] == 0.0
    assert m["last_count"] == 37.0 and m["last_usable"] == last
    assert m["ongoing"] == "yes" and m["latest_image"] == "2025-06-16"
    assert alert.when == datetime(2025, 4, 24, tzinfo=UTC)


def test_the_silence_of_counts_is_stated_on_fixed_days() -> None:
    """Analysed again, later, or with a UTC offset: the same one alert."""
    points = [*_counts(10), *_flags(range(10, 24))]
    first = _silences(points)
    assert _silences(points) == first
    for later in (1, 30, 400):
        as_of = T0 + 23 * WEEK + timedelta(days=later)
        again = _silences(points, as_of=as_of)
        assert [(a.key, a.severity, a.explanation) for a in again] == [
            (a.key, a.severity, a.explanation) for a in first
        ]
    local = _silences(points, utc_offset=timedelta(hours=9))
    assert [a.key for a in local] == [a.key for a in first]


def test_a_count_ends_it_one_step_lower() -> None:
    points = [*_counts(10), *_flags(range(10, 24)), *_counts(4, first=24)]
    (alert,) = _silences(points)
    assert alert.severity == "low"  # medium while it lasted
    assert alert.explanation.startswith(
        "No image able to count cars for 105 days (from 2025-03-10 until 2025-06-23): the "
        "14 images in that time were 10 m ones, which only tell whether long trains are "
        "present; last count 37 railcars on 2025-03-10;"
    ), alert.explanation
    assert alert.metrics["ongoing"] == "no" and alert.metrics["gap_until"] == "2025-06-23"


def test_10m_images_between_counts_raise_nothing() -> None:
    # a count every two weeks, a 10 m image in each week between and three days after
    points = [
        *[p for p in _counts(30) if (p.when - T0).days % 14 == 0],
        *_flags(range(1, 30, 2)),
        *_flags(range(0, 30, 2), shift=timedelta(days=3)),
    ]
    assert _silences(points) == []


def test_a_site_seen_only_at_10m_has_no_count_to_miss() -> None:
    """Watched at 10 m from its first image: its images show it, as before; when they
    stop, the ordinary silence says so."""
    flags = _flags(range(30))
    assert _silences(flags) == []
    (alert,) = _silences(flags, as_of=T0 + 29 * WEEK + timedelta(days=100))
    assert alert.explanation.startswith("No usable image of this site since 2025-07-28")
    assert "presence_images" not in alert.metrics


def test_unusable_and_10m_images_mixed() -> None:
    points = [
        *_counts(10),
        *_flags(range(10, 24, 2)),
        *_unusable(range(11, 24, 2)),
    ]
    (alert,) = _silences(points)
    assert alert.severity == "medium"
    assert (
        "(14 weeks to the latest image, on 2025-06-16): of the 14 images since, 7 are 10 m "
        "ones, which only tell whether long trains are present, and 7 were unusable; last "
        "count 37 railcars" in alert.explanation
    ), alert.explanation
    assert alert.metrics["presence_images"] == 7.0 and alert.metrics["unusable_images"] == 7.0


def test_one_alert_a_stretch_when_the_10m_images_stop_too() -> None:
    """A 10 m image, then nothing: the silence of any image after it lies within the
    silence of counts, which tells it (its latest image), not a second alert."""
    points = [*_counts(10), *_flags(range(10, 11))]
    (alert,) = _silences(points, as_of=T0 + 40 * WEEK)
    assert alert.key == "quality:all:2025-03-10"
    assert "the 1 image since is a 10 m one, which only tells whether long" in (alert.explanation)
    assert alert.metrics["latest_image"] == "2025-03-17"


def test_few_counts_then_10m_images() -> None:
    points = [*_counts(2), *_flags(range(2, 20))]
    (alert,) = _silences(points)
    assert alert.key == "quality:all:2025-01-13" and alert.severity == "medium"
    assert "with 2 images able to count (fewer than the 4 that tell how often the site is " \
        "counted), more than 45 days without a count" in alert.explanation  # fmt: skip
    assert alert.metrics["counted_images"] == 2.0


def test_unusable_images_alone_say_what_they_said() -> None:
    (alert,) = _silences([*_counts(10), *_unusable(range(10, 24))])
    assert alert.explanation.startswith("No usable image of this site since 2025-03-10: ")
    assert "(14 later images were unusable, the latest on 2025-06-16)" in alert.explanation


def test_the_setting_lets_10m_images_end_a_silence_as_before() -> None:
    settings = AlertSettings(quality_presence_ends_silence=True)
    assert _silences([*_counts(10), *_flags(range(10, 24))], settings=settings) == []


def test_a_stored_site_raises_it_once(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 's35.db'}")
    try:
        with db.session() as s:
            site = repo.add_site(s, SiteSpec(name="sentinel", geometry=to_wgs84(SITE_UTM)))
            for w in range(10):
                count = FakeCount(37.0, 34.0, 40.0, {"tank": (5, 5, 5)}, 0)
                add_counted_scene(s, site, T0 + w * WEEK, 0.5, count, w)
            for w in range(10, 24):
                flag = FakeCount(1.0, 1.0, 1.0, {}, 0, method="presence")
                add_counted_scene(s, site, T0 + w * WEEK, 10.0, flag, w)
        as_of = T0 + 25 * WEEK
        first = analyze_and_store(db, "sentinel", as_of=as_of)
        silences = [a for a in first.alerts if a.kind == "quality"]
        assert [a.severity for a in silences] == ["medium"], silences
        assert "the 14 images since are 10 m ones" in silences[0].explanation
        assert silences[0].metrics["last_count"] == 37.0
        again = analyze_and_store(db, "sentinel", as_of=as_of + 10 * WEEK)
        assert again.created == 0 and again.updated == 0
        # the flags are still read as they were: a point of the total, 1 (a long train)
        with db.session(readonly=True) as s:
            total = repo.count_series(s, "sentinel", cls="all")
        assert [p.count for p in total if p.method == "presence"] == [1.0] * 14
    finally:
        db.dispose()
