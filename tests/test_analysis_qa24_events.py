"""An analyst's months with one site: events added and removed, noted shifts, silences
of sites never seen (session 24)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from railwatch.analysis import Alert, CountPoint, Event, analyze_series
from railwatch.cli.main import main

T0 = datetime(2021, 1, 4, 10, tzinfo=UTC)


def points(values: Sequence[float | None], step: int = 10) -> list[CountPoint]:
    """One image every ``step`` days from T0; None is an unusable image."""
    return [
        CountPoint(
            when=T0 + timedelta(days=step * k),
            count=v,
            usable=v is not None,
            low=None if v is None else 0.9 * v,
            high=None if v is None else 1.1 * v,
        )
        for k, v in enumerate(values)
    ]


def kind(alerts: list[Alert], name: str) -> list[Alert]:
    return [a for a in alerts if a.kind == name]


# ------------------------------------------------------------------ events of one day


def _spiked() -> list[CountPoint]:
    pattern = [10.0, 11.0, 9.0, 12.0, 8.0, 10.0, 10.0, 12.0, 8.0]
    return points([pattern[k % 9] for k in range(120)] + [50.0])


def test_every_event_of_the_linked_day_is_named_in_a_fixed_order() -> None:
    """Two events recorded for one day (a summit and a flood): the alert named one of
    them, whichever the database returned first (PostgreSQL returns rows of one date in
    any order), so the analyst could read the flood's alert as the summit's."""
    spike_day = (T0 + timedelta(days=1200)).date()
    a = Event(when=spike_day - timedelta(days=3), label="Summit")
    b = Event(when=spike_day - timedelta(days=3), label="Flood at the bridge")
    older = Event(when=spike_day - timedelta(days=20), label="Sanctions")
    one = kind(analyze_series(_spiked(), [older, a, b]), "spike")
    other = kind(analyze_series(_spiked(), [b, older, a]), "spike")
    assert len(one) == 1 and one == other
    spike = one[0]
    assert spike.event_label == "Flood at the bridge" and spike.event_days == 3
    assert spike.explanation.endswith(
        f"3 days after: Flood at the bridge ({a.when.isoformat()}); also that day: Summit."
    )
    assert "Sanctions" not in spike.explanation


# ------------------------------------------------------------------ noted shifts


def test_a_noted_shift_does_not_say_its_level_became_the_baseline() -> None:
    """A shift noted as info (first year) keeps the baseline: the next image is still
    judged against the images before the change, and may be a spike against them. Its
    explanation said "the new level is the baseline from here on", which the spike on the
    next image contradicted."""
    values: list[float | None] = [10.0 + k % 3 for k in range(20)]
    values += [None] * 16 + [30.0, 31.0, 29.0]
    alerts = analyze_series(points(values))
    shift = kind(alerts, "shift")
    assert len(shift) == 1 and shift[0].severity == "info"
    assert "the new level is the baseline" not in shift[0].explanation
    assert "Noted once; the baseline is not restarted at the change" in shift[0].explanation
    later = [a for a in kind(alerts, "spike") if a.when > shift[0].when]
    assert later, "the image after a noted shift is judged against the baseline it kept"


def test_a_raised_shift_still_says_its_level_is_the_baseline() -> None:
    pattern = [10.0, 11.0, 9.0, 12.0, 8.0, 10.0, 10.0, 12.0, 8.0]
    values: list[float | None] = [pattern[k % 9] for k in range(120)]
    values += [40.0 + k % 3 for k in range(20)]
    shift = [a for a in kind(analyze_series(points(values)), "shift") if a.severity != "info"]
    assert len(shift) == 1
    assert "Raised once; the new level is the baseline from here on." in shift[0].explanation
    assert "Noted once" not in shift[0].explanation


# ------------------------------------------------------------------ silences


def test_a_site_whose_images_are_all_unusable_is_a_silence() -> None:
    """Thirty cloudy images and no usable one raised nothing: the quality rule needed
    four usable images before it judged any silence, so the site looked calm."""
    pts = points([None] * 30, step=12)
    as_of = T0 + timedelta(days=400)
    q = kind(analyze_series(pts, as_of=as_of), "quality")
    assert len(q) == 1
    assert q[0].severity == "medium"  # 400 days: more than twice the 45 expected
    assert q[0].key == f"quality:all:{T0.date().isoformat()}"
    assert q[0].metrics["usable_images"] == 0.0 and q[0].metrics["unusable_images"] == 30.0
    assert q[0].explanation.startswith(
        "No usable image of this site at all: all 30 of its images from 2021-01-04 to "
        "2021-12-18 were unusable, so it had not been seen for 45 days on 2021-02-18 (the "
        "alert's date) and for 90 days (twice that) on 2021-04-04"
    )
    # the same images judged 40 days after the first: not yet a silence
    assert kind(analyze_series(pts[:3], as_of=T0 + timedelta(days=40)), "quality") == []


def test_a_silence_after_too_few_usable_images_is_reported() -> None:
    pts = points([5.0, 6.0, None, None], step=10)
    q = kind(analyze_series(pts, as_of=T0 + timedelta(days=70)), "quality")
    assert len(q) == 1 and q[0].severity == "low"  # 60 days since the last usable image
    assert q[0].key == "quality:all:2021-01-14"
    assert q[0].explanation.startswith(
        "No usable image of this site since 2021-01-14: 45 days on 2021-02-28 (the alert's "
        "date), and none since (2 later images were unusable, the latest on 2021-02-03); "
        "with 2 usable images (fewer than the 4"
    )
    # once the site is seen regularly the usual rule judges it, and only it
    regular = points([5.0, 6.0, 5.0, 6.0, 5.0])
    assert kind(analyze_series(regular, as_of=T0 + timedelta(days=60)), "quality") == []


# ------------------------------------------------------------------ the CLI, over months


def _store(url: str) -> None:
    from shapely.geometry import box

    from railwatch.sites import SiteSpec
    from railwatch.storage import Database, repo
    from railwatch.storage.models import Count, Scene, to_wkb

    db = Database(url)
    with db.session() as s:
        site = repo.add_site(s, SiteSpec(name="yard", geometry=box(130.6, 42.42, 130.61, 42.43)))
        for k, p in enumerate(_spiked()):
            sc = Scene(
                site_id=site.id,
                uri=f"/x/{k}.tif",
                content_hash=f"{k:064x}",
                acquired_at=p.when,
                crs="EPSG:32652",
                footprint_wkb=to_wkb(box(130.6, 42.42, 130.61, 42.43)),
                date_source="option",
                gsd=0.5,
                width=10,
                height=10,
                band_count=3,
                dtype="uint8",
                coverage=1.0,
                status="processed",
                usable=True,
                clear_fraction=1.0,
            )
            s.add(sc)
            s.flush()
            s.add(
                Count(
                    scene_id=sc.id,
                    cls="all",
                    count=float(p.count or 0.0),
                    low=p.low,
                    high=p.high,
                    method="objects",
                    detector="hand",
                    version="1",
                )
            )
    db.dispose()


def _json(capsys: pytest.CaptureFixture[str]) -> object:
    out = capsys.readouterr().out
    return json.loads(out[min(i for i in (out.find("["), out.find("{")) if i >= 0) :])


def test_removing_an_event_says_only_the_alerts_that_name_that_event(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Two events with one label on different days ("Summit" in March and in April):
    removing the March one said "2 alerts of yard still name it" when the alerts named
    the April one, and the analyst re-ran the analysis for nothing or removed the wrong
    event. The acknowledgement of the alert is kept through both analyses."""
    url = f"sqlite:///{tmp_path / 'rw.db'}"
    _store(url)
    db = ["--db", url]
    spike_day = (T0 + timedelta(days=1200)).date()
    april = (spike_day - timedelta(days=2)).isoformat()
    march = (spike_day - timedelta(days=30)).isoformat()
    assert main([*db, "event", "add", "yard", march, "Summit"]) == 0
    assert main([*db, "event", "add", "yard", april, "Summit"]) == 0
    assert main([*db, "event", "list", "yard", "--json"]) == 0
    ids = {e["date"]: e["id"] for e in _json(capsys)}  # type: ignore[attr-defined]
    assert main([*db, "analyze", "yard"]) == 0
    assert main([*db, "alerts", "yard", "--json"]) == 0
    spike = next(a for a in _json(capsys) if a["kind"] == "spike")  # type: ignore[attr-defined]
    assert spike["event_label"] == "Summit" and spike["event_days"] == 2
    assert main([*db, "alert", "ack", str(spike["id"]), "--note", "train seen"]) == 0
    capsys.readouterr()

    assert main([*db, "event", "remove", str(ids[march]), "--yes"]) == 0
    out = capsys.readouterr().out
    assert f"Event {ids[march]} removed." in out and "still" not in out

    assert main([*db, "event", "remove", str(ids[april]), "--yes"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "2 alerts of yard still name it" in out  # the record and the spike

    assert main([*db, "analyze", "yard"]) == 0
    assert main([*db, "alerts", "yard", "--json"]) == 0
    after = next(a for a in _json(capsys) if a["id"] == spike["id"])  # type: ignore[attr-defined]
    assert after["event_label"] is None and "Summit" not in after["explanation"]
    assert after["acknowledged"] and after["ack_note"] == "train seen"


def test_removing_the_other_event_of_a_day_is_said_to_be_still_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'rw.db'}"
    _store(url)
    db = ["--db", url]
    day = ((T0 + timedelta(days=1200)).date() - timedelta(days=1)).isoformat()
    assert main([*db, "event", "add", "yard", day, "Summit"]) == 0
    assert main([*db, "event", "add", "yard", day, "Flood"]) == 0
    assert main([*db, "event", "list", "yard", "--json"]) == 0
    ids = {e["label"]: e["id"] for e in _json(capsys)}  # type: ignore[attr-defined]
    assert main([*db, "analyze", "yard"]) == 0
    capsys.readouterr()
    assert main([*db, "event", "remove", str(ids["Summit"]), "--yes"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "2 alerts of yard still name it" in out  # "…; also that day: Summit."


def test_a_silence_counts_the_unusable_images_not_their_days() -> None:
    """Two cloudy images on one day (two satellites) read "1 image in that time was
    unusable": the days were counted. Each class has a point per image, and one image
    with three classes is still one image."""
    pts = points([20.0 + k % 3 for k in range(10)])
    last = pts[-1].when
    for cls in ("all", "tank", "covered"):
        pts += [
            CountPoint(when=last + timedelta(days=20, hours=h), count=None, usable=False, cls=cls)
            for h in (0, 3)
        ]
        pts.append(CountPoint(when=last + timedelta(days=30), count=None, usable=False, cls=cls))
    q = kind(analyze_series(pts, as_of=last + timedelta(days=60)), "quality")
    assert len(q) == 1 and q[0].metrics["unusable_images"] == 3.0
    assert "(3 later images were unusable, the latest on " in q[0].explanation
    never = [
        CountPoint(when=T0 + timedelta(hours=h), count=None, usable=False, cls=cls)
        for h in (0, 5)
        for cls in ("all", "tank")
    ]
    q = kind(analyze_series(never, as_of=T0 + timedelta(days=50)), "quality")
    assert len(q) == 1 and q[0].metrics["unusable_images"] == 2.0
    assert "at all: all 2 of its images on 2021-01-04 were unusable" in q[0].explanation
