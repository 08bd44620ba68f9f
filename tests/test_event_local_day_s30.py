"""Events are related to alerts by the local day at the site (session 30).

Analysts date events by the local day (``railwatch event add``); the links counted from
the image's UTC day, so at a UTC+12 site an image taken 2024-02-05 10:30 local (22:30
UTC the day before) was "0 days after" nothing on 2024-02-05 and "same day as" an event
of 2024-02-04; at Tumangang (UTC+9) an image at 16:00 UTC is of the next local day.
Session 30 kept alert keys and dates UTC; since session 31 they are local days too
(tests/test_local_day_s31.py).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from shapely.geometry import MultiPolygon, Polygon, box

from railwatch.analysis import Alert, CountPoint, Event, analyze_series
from railwatch.analysis.events import (
    LOCAL_DAY,
    link_events,
    names_event,
    nominal_utc_offset,
)
from railwatch.sites import site_longitude

NZ = timedelta(hours=12)
KST = timedelta(hours=9)
PATTERN = (10.0, 11.0, 9.0, 12.0, 8.0, 10.0, 10.0, 12.0, 8.0)


def _spiked(last: datetime) -> list[CountPoint]:
    """120 steady images every 10 days, then a 5x spike on ``last``."""
    first = last - timedelta(days=1200)
    return [
        CountPoint(when=first + timedelta(days=10 * k), count=PATTERN[k % 9]) for k in range(120)
    ] + [CountPoint(when=last, count=50.0)]


def _spike(alerts: list[Alert]) -> Alert:
    (spike,) = [a for a in alerts if a.kind == "spike" and a.severity != "info"]
    return spike


# ------------------------------------------------------------------ a UTC+12 site


def test_an_image_of_the_local_morning_is_linked_to_that_local_days_event() -> None:
    """2024-02-04 22:30 UTC is 2024-02-05 10:30 at a UTC+12 site."""
    when = datetime(2024, 2, 4, 22, 30, tzinfo=UTC)
    flood = Event(date(2024, 2, 5), "Flood")
    spike = _spike(analyze_series(_spiked(when), [flood], utc_offset=NZ))
    assert spike.key == "spike:all:2024-02-05"  # local days since session 31
    assert spike.when == when
    assert spike.event_label == "Flood" and spike.event_days == 0
    assert spike.explanation.endswith(
        "2024-02-05 at the site (nominal UTC+12): same day as: Flood (2024-02-05)."
    )
    assert spike.metrics[LOCAL_DAY] == "2024-02-05"
    # an event of the UTC day (the day before, locally) is one day before the image
    before = Event(date(2024, 2, 4), "Summit")
    spike = _spike(analyze_series(_spiked(when), [before], utc_offset=NZ))
    assert spike.event_label == "Summit" and spike.event_days == 1
    assert spike.explanation.endswith(
        "2024-02-05 at the site (nominal UTC+12): 1 day after: Summit (2024-02-04)."
    )


def test_an_event_of_the_next_local_day_is_not_before_the_image() -> None:
    """An event on the local day after the image is after it, whatever the UTC day."""
    when = datetime(2024, 2, 4, 22, 30, tzinfo=UTC)
    spike = _spike(analyze_series(_spiked(when), [Event(date(2024, 2, 6), "x")], utc_offset=NZ))
    assert spike.event_label is None and spike.event_days is None
    assert "after:" not in spike.explanation and "same day" not in spike.explanation


def test_days_are_counted_in_local_days_to_the_window_edge() -> None:
    when = datetime(2024, 2, 4, 22, 30, tzinfo=UTC)  # local 2024-02-05
    edge = Event(date(2024, 2, 5) - timedelta(days=60), "edge")
    spike = _spike(analyze_series(_spiked(when), [edge], utc_offset=NZ))
    assert spike.event_days == 60 and "60 days after: edge" in spike.explanation
    older = Event(edge.when - timedelta(days=1), "older")
    spike = _spike(analyze_series(_spiked(when), [older], utc_offset=NZ))
    assert spike.event_label is None


# ------------------------------------------------------------------ Tumangang (UTC+9)


def test_tumangang_evening_image_is_of_the_next_local_day() -> None:
    when = datetime(2023, 10, 5, 16, 0, tzinfo=UTC)  # 2023-10-06 01:00 at UTC+9
    summit = Event(date(2023, 10, 6), "Kim–Putin summit")
    spike = _spike(analyze_series(_spiked(when), [summit], utc_offset=KST))
    assert spike.key == "spike:all:2023-10-06"  # the local day (session 31)
    assert spike.event_days == 0
    assert spike.explanation.endswith(
        "2023-10-06 at the site (nominal UTC+9): same day as: Kim–Putin summit (2023-10-06)."
    )


def test_tumangang_morning_image_reads_as_before() -> None:
    """01:54 UTC is 10:54 the same day at UTC+9: the text and metrics are unchanged."""
    when = datetime(2023, 10, 5, 1, 54, tzinfo=UTC)
    summit = Event(date(2023, 9, 13), "Kim–Putin summit")
    local = _spike(analyze_series(_spiked(when), [summit], utc_offset=KST))
    plain = _spike(analyze_series(_spiked(when), [summit]))
    assert local == plain and local.metrics == plain.metrics
    assert local.explanation.endswith("22 days after: Kim–Putin summit (2023-09-13).")
    assert LOCAL_DAY not in local.metrics


def test_a_shift_counts_from_its_change_images_local_day() -> None:
    """The change image at 16:00 UTC on its UTC day is of the next local day at UTC+9."""
    t0 = datetime(2019, 1, 3, 16, 0, tzinfo=UTC)
    pattern = [0.0, 0.1, -0.1, 0.2, -0.2, 0.05, -0.05, 0.15, -0.15]
    values = [round(20 * (1 + pattern[k % 9])) for k in range(120)]
    values += [round(40 * (1 + pattern[k % 9])) for k in range(40)]
    pts = [
        CountPoint(when=t0 + timedelta(days=10 * k), count=float(v)) for k, v in enumerate(values)
    ]
    change = (t0 + timedelta(days=1200)).date()
    event = Event(change + timedelta(days=1), "Summit")
    (shift,) = [a for a in analyze_series(pts, [event], utc_offset=KST) if a.kind == "shift"]
    # the change image's local day (session 31; session 30 kept its UTC day, 'change')
    assert shift.metrics["change_date"] == event.when.isoformat()
    assert shift.event_label == "Summit" and shift.event_days == 0
    assert LOCAL_DAY not in shift.metrics  # its change date is that day already
    assert shift.explanation.endswith(f"Same day as: Summit ({event.when}).")


# ------------------------------------------------------------------ the offset


@pytest.mark.parametrize(
    ("lon", "hours"),
    [
        (130.6081, 9),  # Tumangang: KST
        (174.78, 12),  # Auckland: NZST
        (-157.86, -11),  # Honolulu: nominal -11, legal -10 (within an hour)
        (-0.13, 0),
        (7.5, 1),  # a half: east
        (-7.5, 0),
        (179.9, 12),
        (180.0, 12),
        (-180.0, 12),  # the date line itself, as east of it
        (-179.9, -12),
        (490.6081, 9),  # wrapped
    ],
)
def test_nominal_utc_offset(lon: float, hours: int) -> None:
    assert nominal_utc_offset(lon) == timedelta(hours=hours)


def test_nominal_utc_offset_refuses_nan() -> None:
    with pytest.raises(ValueError, match="not a number"):
        nominal_utc_offset(float("nan"))


def test_site_longitude_across_the_date_line() -> None:
    assert site_longitude(box(174.7, -36.9, 174.8, -36.8)) == pytest.approx(174.75)
    across = MultiPolygon([box(179.8, -16.8, 180.0, -16.7), box(-180.0, -16.8, -179.9, -16.7)])
    assert nominal_utc_offset(site_longitude(across)) == timedelta(hours=12)


# ------------------------------------------------------------------ stored alerts


def test_a_stored_link_names_the_local_days_event() -> None:
    """``event remove`` counts the alerts naming an event by the day they were linked
    from: the local day kept in the metrics, not the alert's UTC day."""
    when = datetime(2024, 2, 4, 22, 30, tzinfo=UTC)
    alert = Alert("spike:all:2024-02-04", "spike", "high", when, "all", 50.0, "50 railcars.")
    flood = Event(date(2024, 2, 5), "Flood")
    (linked,) = link_events([alert], [flood], 60, utc_offset=NZ)
    args = (linked.when, linked.metrics, linked.event_days, linked.event_label)
    assert names_event(*args, linked.explanation, flood)
    assert not names_event(*args, linked.explanation, Event(date(2024, 2, 4), "Flood"))
    # linked before session 30 (by the UTC day, no local day kept): read as stored
    old = "50 railcars. Same day as: Flood (2024-02-04)."
    assert names_event(when, {}, 0, "Flood", old, Event(date(2024, 2, 4), "Flood"))


#: A site near Auckland (nominal UTC+12) and at Tumangang (nominal UTC+9).
AKL = box(174.78, -36.85, 174.79, -36.84)
TUMANGANG = box(130.6, 42.42, 130.61, 42.43)


def _store(url: str, name: str, area: Polygon | MultiPolygon, when: datetime) -> None:
    from railwatch.sites import SiteSpec
    from railwatch.storage import Database, repo
    from railwatch.storage.models import Count, Scene, to_wkb

    db = Database(url)
    with db.session() as s:
        site = repo.add_site(s, SiteSpec(name=name, geometry=area))
        for k, p in enumerate(_spiked(when)):
            sc = Scene(
                site_id=site.id, uri=f"/x/{k}.tif", content_hash=f"{k:064x}",
                acquired_at=p.when, crs="EPSG:4326", footprint_wkb=to_wkb(area),
                date_source="option", gsd=0.5, width=10, height=10, band_count=3,
                dtype="uint8", coverage=1.0, status="processed", usable=True,
                clear_fraction=1.0,
            )  # fmt: skip
            s.add(sc)
            s.flush()
            s.add(
                Count(
                    scene_id=sc.id, cls="all", count=float(p.count or 0.0), low=0.0, high=99.0,
                    method="objects",
                    detector="hand", version="1",
                )
            )  # fmt: skip
    db.dispose()


@pytest.mark.parametrize(
    ("name", "area", "when", "local", "zone"),
    [
        ("akl", AKL, datetime(2024, 2, 4, 22, 30, tzinfo=UTC), "2024-02-05", "UTC+12"),
        ("tumangang", TUMANGANG, datetime(2023, 10, 5, 16, tzinfo=UTC), "2023-10-06", "UTC+9"),
    ],
)
def test_a_stored_site_is_analysed_and_its_event_removed_by_local_days(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    name: str,
    area: Polygon | MultiPolygon,
    when: datetime,
    local: str,
    zone: str,
) -> None:
    """``railwatch analyze SITE`` relates the site's events by its nominal zone, from
    its longitude; ``event remove`` counts the alerts that name the event."""
    import json

    from railwatch.cli.main import main

    url = f"sqlite:///{tmp_path / 'rw.db'}"
    _store(url, name, area, when)
    db = ["--db", url]
    assert main([*db, "event", "add", name, local, "Flood"]) == 0
    assert main([*db, "analyze", name]) == 0
    capsys.readouterr()
    assert main([*db, "alerts", name, "--json"]) == 0
    out = capsys.readouterr().out
    alerts = json.loads(out[out.find("[") :])
    spike = next(a for a in alerts if a["kind"] == "spike")
    assert spike["key"] == f"spike:all:{local}"  # local days since session 31
    assert spike["event_label"] == "Flood" and spike["event_days"] == 0
    assert spike["explanation"].endswith(
        f"{local} at the site (nominal {zone}): same day as: Flood ({local})."
    )
    linked = [a for a in alerts if a["event_label"] == "Flood"]
    assert len(linked) == 2  # the spike and the record of that image
    assert all(a["metrics"][LOCAL_DAY] == local for a in linked)
    # an unchanged re-run writes nothing
    assert main([*db, "analyze", name]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "0 new," in out and "0 updated," in out
    assert main([*db, "event", "list", name, "--json"]) == 0
    out = capsys.readouterr().out
    (event,) = json.loads(out[out.find("[") :])
    assert main([*db, "event", "remove", str(event["id"]), "--yes"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert f"2 alerts of {name} still name it" in out


# ------------------------------------------------------------------ hand counts


def test_hand_counts_are_linked_by_the_days_they_give(tmp_path: Path) -> None:
    """A CSV has no site geometry: its dates are the days written (a date alone is that
    day), as before."""
    from railwatch.analysis.csvio import read_counts_csv

    last = date(2024, 2, 5)
    rows = ["date,count"]
    rows += [f"{last - timedelta(days=1200 - 10 * k)},{PATTERN[k % 9]:g}" for k in range(120)]
    rows.append(f"{last},50")
    path = tmp_path / "c.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    (pts,) = read_counts_csv(path).values()
    spike = _spike(analyze_series(pts, [Event(last, "Flood")]))
    assert spike.event_days == 0
    assert spike.explanation.endswith(" Same day as: Flood (2024-02-05).")
