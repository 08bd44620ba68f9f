"""Whether an alert names an event is decided on whole labels (session 29).

``names_event`` found another event of the day's label anywhere in the "also that day:"
list, so with events "summit follow-up" and "summit" of one day an alert that named only
"summit follow-up" was counted as naming "summit" too, and ``event remove`` said "N alerts
still name it" of alerts that did not.
"""

from __future__ import annotations

import unicodedata
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from railwatch.analysis.events import link_events, names_event
from railwatch.analysis.types import Alert, Event
from railwatch.cli.main import main
from test_analysis_qa24_events import T0, _json, _store

DAY = date(2023, 9, 13)


def _linked(events: list[Event], gap: int = 2) -> Alert:
    when = datetime(DAY.year, DAY.month, DAY.day, 10, tzinfo=UTC) + timedelta(days=gap)
    alert = Alert(
        key="k", kind="spike", severity="high", when=when, cls="all", value=40.0,
        explanation="40 railcars, the most in a year.",
    )  # fmt: skip
    (out,) = link_events([alert], events, window_days=30)
    return out


def _names(alert: Alert, event: Event) -> bool:
    return names_event(
        alert.when, alert.metrics, alert.event_days, alert.event_label, alert.explanation, event
    )


def test_a_label_inside_another_label_is_not_named() -> None:
    # only "Summit follow-up" that day; "Summit" exists on the same day in the database
    # but is not in this alert's list (the alert was made before it was added)
    follow = Event(when=DAY, label="Summit follow-up")
    flood = Event(when=DAY, label="Flood")
    alert = _linked([follow, flood])
    assert alert.event_label == "Flood"
    assert alert.explanation.endswith("after: Flood (2023-09-13); also that day: Summit follow-up.")
    assert _names(alert, follow) and _names(alert, flood)
    for absent in ("Summit", "follow-up", "Summit follow", "up", "Flood; Summit"):
        assert not _names(alert, Event(when=DAY, label=absent)), absent


def test_each_listed_label_is_named_whole() -> None:
    events = [Event(when=DAY, label=t) for t in ("A", "Summit", "Summit follow-up", "x; y", "Z.")]
    alert = _linked(events)
    assert alert.event_label == "A"
    for event in events:
        assert _names(alert, event), event.label
    # ("x" alone would be taken as named: "; " in a label cannot be told from the list's
    # own separator, and a label is rather counted once too often than not at all)
    for absent in ("Z", "Summit follow", "y; Z"):
        assert not _names(alert, Event(when=DAY, label=absent)), absent
    # same label, another day: another event
    assert not _names(alert, Event(when=DAY - timedelta(days=1), label="Summit"))


def test_a_label_stored_decomposed_is_named_by_its_composed_form() -> None:
    nfd = unicodedata.normalize("NFD", "Café opening")
    alert = _linked([Event(when=DAY, label="Flood"), Event(when=DAY, label=nfd)])
    assert _names(alert, Event(when=DAY, label=unicodedata.normalize("NFC", nfd)))


def test_event_remove_counts_only_the_alerts_naming_that_label(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The CLI's count: alerts name "Flood" and "Summit follow-up"; removing "Summit",
    added after the analysis, said "2 alerts of yard still name it"."""
    url = f"sqlite:///{tmp_path / 'rw.db'}"
    _store(url)
    db = ["--db", url]
    day = ((T0 + timedelta(days=1200)).date() - timedelta(days=1)).isoformat()
    assert main([*db, "event", "add", "yard", day, "Summit follow-up"]) == 0
    assert main([*db, "event", "add", "yard", day, "Flood"]) == 0
    assert main([*db, "analyze", "yard"]) == 0
    assert main([*db, "event", "add", "yard", day, "Summit"]) == 0
    assert main([*db, "event", "list", "yard", "--json"]) == 0
    ids = {e["label"]: e["id"] for e in _json(capsys)}  # type: ignore[attr-defined]
    assert main([*db, "event", "remove", str(ids["Summit"]), "--yes"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert f"Event {ids['Summit']} removed." in out and "still" not in out
    assert main([*db, "event", "remove", str(ids["Summit follow-up"]), "--yes"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "2 alerts of yard still name it" in out
