"""One day is the site's local day wherever images are grouped by day (session 31).

Session 30 related events to alerts by the image's local day at the site, but a stored
site's images were still combined per UTC day, its alert keys and silences counted UTC
days, and a shift's local day was that of the image its UTC day kept. At Tumangang
(130.6°E, nominal UTC+9) two images of one local morning, 23:30 and 00:30 UTC, were two
days, and two images of two local days, 14:00 and 16:00 UTC (23:00 and 01:00 local),
were one. Now the analysis judges a site at its local time: a series point, an alert
key, a date in a text and a silence are local days; an alert's ``when`` stays its
image's UTC time. Hand counts (no longitude) keep the days they give.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from shapely.geometry import box

from railwatch.analysis import Alert, CountPoint, Event, analyze_series
from railwatch.analysis.events import LOCAL_DAY
from railwatch.sites import nominal_utc_offset

#: A site at 130°E (nominal UTC+9, as Tumangang).
LON130 = nominal_utc_offset(130.0)
PATTERN = (10.0, 11.0, 9.0, 12.0, 8.0, 10.0, 10.0, 12.0, 8.0)


def _steady(before: datetime) -> list[CountPoint]:
    """120 steady images every 10 days at 02:00 UTC (11:00 at UTC+9), up to 10 days
    before ``before``."""
    last = datetime(before.year, before.month, before.day, 2, tzinfo=UTC) - timedelta(days=10)
    first = last - timedelta(days=10 * 119)
    return [
        CountPoint(when=first + timedelta(days=10 * k), count=PATTERN[k % 9], clear_fraction=1.0)
        for k in range(120)
    ]


def _spikes(alerts: list[Alert]) -> list[Alert]:
    return [a for a in alerts if a.kind == "spike" and a.severity != "info"]


# ------------------------------------------------------------------ the series' days


def test_two_images_of_one_local_morning_are_one_day() -> None:
    """23:30 and 00:30 UTC are 08:30 and 09:30 of one local day at 130°E: the clearer
    image (10 cars) is the day's, and the hazier 50 is not judged. At 0°E they are two
    days, and the 50 is a spike, as before."""
    late = datetime(2024, 2, 4, 23, 30, tzinfo=UTC)
    early = datetime(2024, 2, 5, 0, 30, tzinfo=UTC)
    pts = [
        *_steady(late),
        CountPoint(when=late, count=50.0, clear_fraction=0.6),
        CountPoint(when=early, count=10.0, clear_fraction=1.0),
    ]
    assert _spikes(analyze_series(pts, utc_offset=LON130)) == []
    (spike,) = _spikes(analyze_series(pts, utc_offset=nominal_utc_offset(0.0)))
    assert spike.key == "spike:all:2024-02-04" and spike.when == late
    assert analyze_series(pts, utc_offset=nominal_utc_offset(0.0)) == analyze_series(pts)


def test_the_series_of_a_site_holds_one_point_a_local_day() -> None:
    from railwatch.analysis.series import at_site, build_series

    pts = [
        CountPoint(when=datetime(2024, 2, 4, 23, 30, tzinfo=UTC), count=5.0, clear_fraction=0.6),
        CountPoint(when=datetime(2024, 2, 5, 0, 30, tzinfo=UTC), count=7.0, clear_fraction=1.0),
        CountPoint(when=datetime(2024, 2, 7, 14, 0, tzinfo=UTC), count=8.0),
        CountPoint(when=datetime(2024, 2, 7, 16, 0, tzinfo=UTC), count=9.0),
    ]
    (local,) = build_series(at_site(pts, LON130)).values()
    assert [(p.when - LON130).isoformat() for p in local.points] == [
        "2024-02-05T00:30:00+00:00",  # the clearer of the local morning's two
        "2024-02-07T14:00:00+00:00",  # 23:00 local, 2024-02-07
        "2024-02-07T16:00:00+00:00",  # 01:00 local, 2024-02-08
    ]
    (plain,) = build_series(at_site(pts, timedelta(0))).values()
    assert [p.when.date().isoformat() for p in plain.points] == [
        "2024-02-04",
        "2024-02-05",
        "2024-02-07",
    ]


def test_two_images_of_two_local_days_are_kept_apart() -> None:
    """14:00 and 16:00 UTC are 23:00 and 01:00 at 130°E: two local days. The hazy 50 of
    the second is judged on its own day (a spike keyed by that day, 2024-02-06), not
    passed over for the clearer 10 of the day before, as it was when both were one UTC
    day."""
    first = datetime(2024, 2, 5, 14, 0, tzinfo=UTC)
    second = datetime(2024, 2, 5, 16, 0, tzinfo=UTC)
    pts = [
        *_steady(first),
        CountPoint(when=first, count=10.0, clear_fraction=1.0),
        CountPoint(when=second, count=50.0, clear_fraction=0.6),
    ]
    (spike,) = _spikes(analyze_series(pts, utc_offset=LON130))
    assert spike.key == "spike:all:2024-02-06" and spike.when == second
    assert "50 railcars on 2024-02-06" in spike.explanation
    assert _spikes(analyze_series(pts)) == []  # at 0°E one day, the clearer image's


def test_a_site_at_0e_is_judged_as_before() -> None:
    when = datetime(2024, 2, 4, 23, 30, tzinfo=UTC)
    pts = [*_steady(when), CountPoint(when=when, count=50.0)]
    zero = analyze_series(pts, [Event(date(2024, 2, 4), "Flood")], utc_offset=timedelta(0))
    assert zero == analyze_series(pts, [Event(date(2024, 2, 4), "Flood")])
    (spike,) = _spikes(zero)
    assert spike.key == "spike:all:2024-02-04" and spike.event_days == 0
    assert LOCAL_DAY not in spike.metrics


def test_keys_dates_and_events_of_a_late_image_are_its_local_days() -> None:
    """An image at 22:30 UTC at a UTC+12 site is of the next local day: its key, the
    date its text gives and its event link all say that day; ``when`` stays UTC."""
    when = datetime(2024, 2, 4, 22, 30, tzinfo=UTC)
    pts = [*_steady(when), CountPoint(when=when, count=50.0)]
    nz = timedelta(hours=12)
    (spike,) = _spikes(analyze_series(pts, [Event(date(2024, 2, 5), "Flood")], utc_offset=nz))
    assert spike.key == "spike:all:2024-02-05" and spike.when == when
    assert "50 railcars on 2024-02-05" in spike.explanation
    assert spike.event_days == 0 and spike.metrics[LOCAL_DAY] == "2024-02-05"


# ------------------------------------------------------------------ silences


def test_a_silence_counts_local_days() -> None:
    """Usable images at 15:30 UTC (00:30 the next day at 130°E), then 200 days without
    one: the silence starts on the last usable image's local day, and an unusable image
    at 14:00 UTC the next UTC day (23:00 the same local day) is no later day's image."""
    t0 = datetime(2020, 1, 1, 15, 30, tzinfo=UTC)
    pts = [CountPoint(when=t0 + timedelta(days=10 * k), count=10.0) for k in range(20)]
    last = pts[-1].when
    pts.append(CountPoint(when=last + timedelta(hours=22, minutes=30), count=None, usable=False))
    pts.append(CountPoint(when=last + timedelta(days=200), count=10.0))
    (silence,) = [a for a in analyze_series(pts, utc_offset=LON130) if a.kind == "quality"]
    local = (last + LON130).date()
    assert silence.key == f"quality:all:{local}"
    assert silence.metrics["last_usable"] == local.isoformat()
    assert silence.metrics["unusable_images"] == 0.0  # of the last usable image's day
    (plain,) = [a for a in analyze_series(pts) if a.kind == "quality"]
    assert plain.key == f"quality:all:{last.date()}"
    assert plain.metrics["unusable_images"] == 1.0  # a later UTC day's


# ------------------------------------------------------------------ shifts


def test_a_shifts_change_date_is_its_change_images_local_day() -> None:
    """A change image at 16:00 UTC is of the next local day at 130°E: the shift is
    dated (``change_date``) and related to events by that day."""
    t0 = datetime(2019, 1, 3, 16, 0, tzinfo=UTC)
    pattern = [0.0, 0.1, -0.1, 0.2, -0.2, 0.05, -0.05, 0.15, -0.15]
    values = [round(20 * (1 + pattern[k % 9])) for k in range(120)]
    values += [round(40 * (1 + pattern[k % 9])) for k in range(40)]
    pts = [
        CountPoint(when=t0 + timedelta(days=10 * k), count=float(v)) for k, v in enumerate(values)
    ]
    change = (t0 + timedelta(days=1200) + LON130).date()  # the change image's local day
    event = Event(change, "Summit")
    (shift,) = [a for a in analyze_series(pts, [event], utc_offset=LON130) if a.kind == "shift"]
    assert shift.metrics["change_date"] == change.isoformat()
    assert shift.event_label == "Summit" and shift.event_days == 0
    assert shift.explanation.endswith(f"Same day as: Summit ({change}).")


# ------------------------------------------------------------------ the record window


def test_the_record_window_edge_from_a_leap_day() -> None:
    """The record window is ``record_years`` x 365.25 days before the image: from
    2024-02-29 10:00 UTC back to 2019-03-01 04:00 UTC (5 calendar years and a day: the
    five years hold two 29 Februaries). An earlier higher count exactly
    on that edge is in the window (the record stands: no record alert), one second
    before it is out (the count is a record), the same for a record of another method's
    counts (:func:`railwatch.analysis.alerts._across_methods`)."""
    judged = datetime(2024, 2, 29, 10, tzinfo=UTC)
    edge = datetime(2019, 3, 1, 4, tzinfo=UTC)
    assert judged - edge == timedelta(days=5 * 365.25)

    def judged_alerts(high_at: datetime, method: str) -> list[Alert]:
        """152 counts by ``method`` from the edge on, 40 at ``high_at``, and 30 judged
        (with three earlier counts of its own: too few for a record of its own, so a
        series of length counts is the record it is judged against)."""
        pts = [CountPoint(when=high_at, count=40.0, method=method)]
        pts += [
            CountPoint(when=edge + timedelta(days=3 + 12 * k), count=PATTERN[k % 9], method=method)
            for k in range(152)
        ]
        if method != "objects":
            pts += [CountPoint(when=judged - timedelta(days=10 * k), count=8.0) for k in (1, 2, 3)]
        pts.append(CountPoint(when=judged, count=30.0))
        return [a for a in analyze_series(pts) if a.when == judged and a.kind == "record"]

    for method in ("objects", "length"):
        # on the edge: in the window, the 40 stands (the objects series: no record at
        # all; against the length counts' record: a note of its own short history)
        assert all(a.severity == "info" for a in judged_alerts(edge, method)), method
        (record,) = judged_alerts(edge - timedelta(seconds=1), method)  # out: 30 is one
        assert record.severity != "info", (method, record.explanation)
        assert "another way" in record.explanation or method == "objects"


# ------------------------------------------------------------------ stored alerts


#: A site near Auckland (174.78°E, nominal UTC+12): its 10:30 local images are 22:30 UTC
#: the day before, so every key moved a day on in session 31.
AKL = box(174.78, -36.85, 174.79, -36.84)


def _store(url: str, pts: list[CountPoint]) -> None:
    from counted_site import add_counted_site
    from railwatch.storage import Database

    db = Database(url)
    counts = [(p.when, float(p.count or 0.0)) for p in pts]
    add_counted_site(db, "akl", AKL, counts, interval=lambda n: (0.0, 99.0), detector="hand")
    db.dispose()


def test_an_acknowledged_alert_keeps_its_acknowledgement_when_its_key_moves(
    tmp_path: Path,
) -> None:
    """Alerts stored under session 30's UTC keys are found under their local keys by
    the next analysis: updated in place (same id), the acknowledgement and its note kept,
    nothing added or retired; the run after that writes nothing."""
    from sqlalchemy import select

    from railwatch.analysis.store import analyze_site
    from railwatch.storage import Database, repo
    from railwatch.storage.models import Alert as AlertRow

    when = datetime(2024, 2, 4, 22, 30, tzinfo=UTC)
    pts = [
        CountPoint(when=p.when + timedelta(hours=20, minutes=30), count=p.count)
        for p in _steady(when)
    ] + [CountPoint(when=when, count=50.0), CountPoint(when=when + timedelta(days=1), count=60)]
    url = f"sqlite:///{tmp_path / 'rw.db'}"
    _store(url, pts)
    db = Database(url)
    with db.session() as s:
        first = analyze_site(s, "akl", as_of=datetime(2024, 2, 6, tzinfo=UTC))
        assert first.created == len(first.alerts)
    # as session 30 stored them: keyed by the UTC day of their image
    with db.session() as s:
        rows = list(s.scalars(select(AlertRow)))
        for row in rows:
            head, _, _day = row.key.rpartition(":")
            if row.kind != "quality":
                row.key = f"{head}:{row.when.date()}"
        s.flush()
        ids = {row.key: row.id for row in rows}
        record_keys = sorted(k for k in ids if k.startswith("record:all:2024-02"))
        assert record_keys == ["record:all:2024-02-04", "record:all:2024-02-05"]
        for key in record_keys:  # two on consecutive days: one moves onto the other's day
            repo.acknowledge_alert(s, ids[key], "seen")
    with db.session() as s:
        again = analyze_site(s, "akl", as_of=datetime(2024, 2, 6, tzinfo=UTC))
        assert (again.created, again.removed, again.retired) == (0, 0, 0)
        stored = {row.key: row for row in s.scalars(select(AlertRow))}
        assert len(stored) == len(rows)
        for old, new in (("2024-02-04", "2024-02-05"), ("2024-02-05", "2024-02-06")):
            row = stored[f"record:all:{new}"]
            assert row.id == ids[f"record:all:{old}"]
            assert row.acknowledged and row.active
            assert row.ack_note is not None and row.ack_note.endswith("seen")
            assert row.when.date().isoformat() == old
    with db.session() as s:
        third = analyze_site(s, "akl", as_of=datetime(2024, 2, 6, tzinfo=UTC))
        assert (third.created, third.updated, third.removed) == (0, 0, 0)
    db.dispose()


def test_an_old_key_still_raised_stays_with_its_own_alert() -> None:
    """14:00 and 16:00 UTC at 130°E are two local days: the first's alerts keep their
    (UTC and local) day's keys; the second's old keys (session 30: one UTC day) are
    those, and a stored alert under a key still raised is not moved away from it
    (``store._move_keys``)."""
    from railwatch.analysis.store import utc_day_keys

    first = datetime(2024, 2, 5, 14, 0, tzinfo=UTC)
    second = datetime(2024, 2, 5, 16, 0, tzinfo=UTC)
    pts = [*_steady(first), CountPoint(when=first, count=50.0), CountPoint(when=second, count=51.0)]
    alerts = analyze_series(pts, utc_offset=LON130)
    moved = utc_day_keys(alerts, pts, LON130)
    assert moved == {
        "record:all:2024-02-06": "record:all:2024-02-05",
        "shift:all:2024-02-06": "shift:all:2024-02-05",
    }
    assert "record:all:2024-02-05" in {a.key for a in alerts}  # the 14:00 image's own
    assert utc_day_keys(alerts, pts, timedelta(0)) == {}
