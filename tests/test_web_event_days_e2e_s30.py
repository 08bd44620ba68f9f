"""The site page in headless Chromium words an alert's linked event as the alerts do
(session 30): "same day as the alert", "1 day before the alert", "22 days before the
alert", and, where the alert's metrics carry ``local_day`` (its image's day at the site
is not its UTC day: events are linked by the local day since f28755f), that the days are
counted from that day at the site. Before, the panel read "event: Flood (0 days
before)" and "(1 days before)", and never said which day the days counted from."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from helpers import chromium, serve_db

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")

from railwatch.analysis.types import Alert
from railwatch.storage import Database, repo
from web_db import populate

pytestmark = [pytest.mark.slow, pytest.mark.services]

#: (key, days, metrics, the line the panel shows)
CASES: tuple[tuple[str, int, dict[str, float | str], str], ...] = (
    ("spike:all:2023-09-01", 0, {}, "event: Flood (same day as the alert)"),
    ("drop:all:2023-07-03", 1, {}, "event: Flood (1 day before the alert)"),
    ("record:all:2023-10-05", 22, {}, "event: Flood (22 days before the alert)"),
    (
        "drop:all:2023-11-02",
        0,
        {"local_day": "2023-11-03"},
        "event: Flood (same day as 2023-11-03, the alert's day at the site)",
    ),
    (
        "spike:all:2023-06-01",
        3,
        {"local_day": "2023-06-02"},
        "event: Flood (3 days before 2023-06-02, the alert's day at the site)",
    ),
)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("event-days-e2e")
    db = Database(f"sqlite:///{tmp / 'e2e.db'}")
    ids = populate(db, tmp / "img")
    alerts = []
    for key, days, metrics, _ in CASES:
        kind, _, day = key.split(":")
        when = datetime.fromisoformat(day).replace(hour=2, minute=30, tzinfo=UTC)
        alerts.append(
            Alert(
                key, kind, "medium", when, "all", 5.0, f"a {kind} on {day}.",
                metrics=metrics, event_label="Flood", event_days=days,
            )
        )  # fmt: skip
    with db.session() as s:
        repo.replace_alerts(s, ids["site"], alerts)
        stored = {a.key: a.id for a in repo.list_alerts(s, ids["site"])}
    try:
        with serve_db(db, tmp / "cache") as url:
            yield {"url": url, "site": ids["site"], "alerts": stored}
    finally:
        db.dispose()


def test_the_alerts_panel_words_the_days_to_the_linked_event(world: dict[str, Any]) -> None:
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        page.set_default_timeout(60_000)
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(f"{world['url']}/sites/{world['site']}")
        page.wait_for_selector("body[data-ready='1']")
        for key, _, _, line in CASES:
            alert = page.locator(f".alert[data-alert='{world['alerts'][key]}']")
            texts = [t.strip() for t in alert.locator("p").all_text_contents()]
            assert line in texts, (key, texts)
        assert not errors
