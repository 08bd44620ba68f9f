"""Alert texts of counts from occupied track length say "car equivalents" (session 33).

A count at 1.5-10 m (method ``length``) is the occupied track length / 14 m, not cars
seen one by one; its alerts said "161 railcars (interval 93.4–312.4) on 2024-02-25" and
"The level of railcars shifted ...", and the report's headline copied that beside a
chart calling the same numbers car equivalents. Object counts keep their words."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest

from railwatch.analysis import Alert, CountPoint, analyze_series
from railwatch.sites import site_from_bbox
from railwatch.storage import Database, repo
from test_analysis_noise import noisy, points

BBOX = "130.60,42.28,130.63,42.30"


def _values() -> list[float]:
    """Four years about 30 (noisy), a sustained rise to about 93 (records, a shift), a
    fall back, and one image read as a single car (a drop)."""
    values = noisy(160, 30.0)
    values[120:135] = [95, 90, 100, 85, 92, 97, 88, 99, 90, 94, 91, 96, 89, 93, 95]
    values[150] = 1.0
    return values


def _series(method: str, gsd: float) -> list[CountPoint]:
    return [replace(p, method=method, gsd=gsd) for p in points(_values(), interval=(0.64, 2.7))]


def _count_alerts(alerts: list[Alert]) -> list[Alert]:
    return [a for a in alerts if a.kind != "quality"]


def test_a_length_series_says_car_equivalents_an_objects_series_railcars() -> None:
    alerts = _count_alerts(analyze_series(_series("length", 3.0)))
    kinds = {a.kind for a in alerts}
    assert {"record", "shift", "drop"} <= kinds
    for a in alerts:
        assert "railcar" not in a.explanation, a.explanation
    record = next(a for a in alerts if a.kind == "record" and a.value == 95.0)
    assert record.explanation.startswith("95 car equivalents (interval 60–257) on 2022-04-17, ")
    shift = next(a for a in alerts if a.kind == "shift")
    assert shift.explanation.startswith("The level of car equivalents shifted up from about ")
    # one car equivalent, singular
    one = next(a for a in alerts if a.kind == "drop" and a.value == 1.0)
    assert one.explanation.startswith("1 car equivalent (interval 0–3) on 2023-02-11, ")
    # the same counts made one by one keep their words
    alerts = _count_alerts(analyze_series(_series("objects", 0.5)))
    assert {"record", "shift", "drop"} <= {a.kind for a in alerts}
    for a in alerts:
        assert "car equivalent" not in a.explanation, a.explanation
    record = next(a for a in alerts if a.kind == "record" and a.value == 95.0)
    assert record.explanation.startswith("95 railcars (interval 60–257) on 2022-04-17, ")
    shift = next(a for a in alerts if a.kind == "shift")
    assert shift.explanation.startswith("The level of railcars shifted up from about 30 to ")
    one = next(a for a in alerts if a.kind == "drop" and a.value == 1.0)
    assert one.explanation.startswith("1 railcar (interval 0–3) on 2023-02-11, ")


def test_one_site_with_both_methods_names_each_method_s_counts() -> None:
    # the first years at 0.5 m, the rise seen only at 3 m: each method's alerts in its
    # own words (analyze_series judges each method's counts apart)
    fine = _series("objects", 0.5)[:110]
    coarse = _series("length", 3.0)[110:]
    alerts = _count_alerts(analyze_series([*fine, *coarse]))
    by_method = {
        m: [a for a in alerts if a.metrics.get("method") == m] for m in ("objects", "length")
    }
    assert by_method["objects"] and by_method["length"]
    assert all("car equivalent" not in a.explanation for a in by_method["objects"])
    assert all("railcar" not in a.explanation for a in by_method["length"])
    assert any("car equivalents" in a.explanation for a in by_method["length"])


def test_an_analysts_count_in_a_length_series_is_of_railcars() -> None:
    # an analyst's count of a 3 m scene (scene review --count N) is of the railcars
    # themselves, not of car equivalents; the estimates around it are car equivalents
    values = _series("length", 3.0)
    reviewed = replace(values[120], low=95.0, high=95.0, reviewed=True)
    alerts = _count_alerts(analyze_series([*values[:120], reviewed, *values[121:]]))
    record = next(a for a in alerts if a.kind == "record" and a.value == 95.0)
    assert record.explanation.startswith(
        "95 railcars, counted by an analyst (scene review), on 2022-04-17, "
    )
    assert any(a.explanation.startswith("100 car equivalents (interval") for a in alerts)


def test_a_type_series_of_length_counts_is_that_types_car_equivalents() -> None:
    # a CSV may give a type's counts by method length (the pipeline stores only the total)
    values = [replace(p, cls="tank") for p in _series("length", 3.0)]
    alerts = _count_alerts(analyze_series(values))
    assert any(a.explanation.startswith("95 tank car equivalents (interval") for a in alerts)
    assert all("railcar" not in a.explanation and "tank cars" not in a.explanation for a in alerts)


@pytest.fixture()
def db(tmp_db_url: str) -> Iterator[Database]:
    database = Database(tmp_db_url)
    with database.session() as s:
        repo.add_site(s, site_from_bbox("tum", BBOX))
    yield database
    database.dispose()


def _as_before(alert: Alert) -> Alert:
    """``alert`` as analyses before session 33 worded it (measured on 2,084 length alerts
    of 90 simulated series: this is their only difference)."""
    said = alert.explanation.replace("car equivalents from", "\0")
    said = said.replace("car equivalents", "railcars").replace("car equivalent", "railcar")
    return replace(alert, explanation=said.replace("\0", "car equivalents from"))


def test_the_new_wording_does_not_reopen_an_acknowledged_alert(db: Database) -> None:
    now = [a for a in analyze_series(_series("length", 3.0)) if a.kind != "quality"]
    before = [_as_before(a) for a in now]
    assert [a.explanation for a in before] != [a.explanation for a in now]
    with db.session() as s:
        repo.replace_alerts(s, "tum", before)
    with db.session() as s:
        for row in repo.list_alerts(s, "tum"):
            repo.acknowledge_alert(s, row.id, "checked")
    with db.session() as s:
        changes = repo.replace_alerts(s, "tum", now)
    # rewritten (their explanations changed), none reopened: no severity rose
    assert changes.updated == len(now) and changes.reopened == 0 and changes.created == 0
    with db.session() as s:
        rows = repo.list_alerts(s, "tum")
        assert len(rows) == len(now)
        assert all(r.acknowledged and r.ack_note == "checked" for r in rows)
        assert all("railcar" not in r.explanation for r in rows)
        assert {r.explanation for r in rows} == {a.explanation for a in now}
