"""One rule for what people type (railwatch.limits): the CLI and the REST API accept the
same site names, tags, descriptions, event labels and dates and acknowledgement notes,
and refuse the rest with the same message."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from railwatch.cli.main import main
from railwatch.errors import InputError
from railwatch.limits import (
    DESCRIPTION_MAX,
    EVENT_DAYS_AHEAD,
    EVENT_LABEL_MAX,
    NOTE_MAX,
    TAG_MAX,
    TAGS_MAX,
    check_event_date,
)
from railwatch.storage import Database, repo
from railwatch.storage.models import Alert

BBOX = "130.60,42.40,130.61,42.41"
TOKEN = "limits-test-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def cli(capsys: pytest.CaptureFixture[str], url: str, *argv: str) -> tuple[int, str]:
    code = main(["--db", url, *argv])
    out, err = capsys.readouterr()
    return code, " ".join((err or out).split()).removeprefix("error: ")


@pytest.fixture
def world(tmp_path: Path) -> Iterator[dict[str, Any]]:
    pytest.importorskip("fastapi")
    pytest.importorskip("httpx")
    from fastapi.testclient import TestClient
    from pydantic import SecretStr

    from railwatch.settings import Settings
    from railwatch.web.app import create_app

    url = f"sqlite:///{tmp_path / 'limits.db'}"
    assert main(["--db", url, "site", "add", "yard", "--bbox", BBOX]) == 0
    db = Database(url)
    with db.session() as s:
        site = repo.get_site(s, "yard")
        now = datetime.now(UTC)
        alert = Alert(
            site_id=site.id,
            key="k",
            kind="drop",
            severity="low",
            when=datetime(2024, 1, 1, tzinfo=UTC),
            cls="all",
            explanation="x",
            metrics={},
            active=True,
            acknowledged=False,
            created_at=now,
            updated_at=now,
        )
        s.add(alert)
        s.flush()
        alert_id = alert.id
        event_id = repo.add_event(s, "yard", date(2024, 1, 1), "summit").id
    settings = Settings(db=url, api_token=SecretStr(TOKEN), cache_dir=tmp_path / "cache")
    client = TestClient(create_app(settings, db))
    yield {"url": url, "client": client, "db": db, "alert": alert_id, "event": event_id}
    db.dispose()


def api(world: dict[str, Any], method: str, path: str, body: dict[str, Any]) -> tuple[int, str]:
    r = world["client"].request(method, path, json=body, headers=AUTH)
    return r.status_code, str(r.json().get("detail", ""))


def site_body(name: str, **extra: Any) -> dict[str, Any]:
    return {"name": name, "bbox": [130.60, 42.40, 130.61, 42.41], **extra}


FAR = (datetime.now(UTC).date() + timedelta(days=EVENT_DAYS_AHEAD + 30)).isoformat()

# (case, CLI argv, API method, path, body, the message both must give)
REFUSED: list[tuple[str, list[str], str, str, dict[str, Any], str]] = [
    (
        "tag too long",
        ["site", "add", "s1", "--bbox", BBOX, "--tag", "t" * (TAG_MAX + 1)],
        "POST",
        "/api/sites",
        site_body("s1", tags=["t" * (TAG_MAX + 1)]),
        f"a site tag has at most {TAG_MAX} characters, this one {TAG_MAX + 1}",
    ),
    (
        "too many tags",
        ["site", "add", "s1", "--bbox", BBOX]
        + [a for i in range(TAGS_MAX + 1) for a in ("--tag", f"t{i}")],
        "POST",
        "/api/sites",
        site_body("s1", tags=[f"t{i}" for i in range(TAGS_MAX + 1)]),
        f"a site has at most {TAGS_MAX} tags, these are {TAGS_MAX + 1}",
    ),
    (
        "site description too long",
        ["site", "add", "s1", "--bbox", BBOX, "-d", "d" * (DESCRIPTION_MAX + 1)],
        "POST",
        "/api/sites",
        site_body("s1", description="d" * (DESCRIPTION_MAX + 1)),
        f"a site description has at most {DESCRIPTION_MAX} characters",
    ),
    (
        "site name with a trailing newline",
        ["site", "add", "yard2\n", "--bbox", BBOX],
        "POST",
        "/api/sites",
        site_body("yard2\n"),
        "invalid site name 'yard2\\n'",
    ),
    (
        "site name too long",
        ["site", "add", "a" * 65, "--bbox", BBOX],
        "POST",
        "/api/sites",
        site_body("a" * 65),
        "invalid site name 'aaaa",
    ),
    (
        "tag with a line break",
        ["site", "add", "s1", "--bbox", BBOX, "--tag", "a\nb"],
        "POST",
        "/api/sites",
        site_body("s1", tags=["a\nb"]),
        "a site tag 'a\\nb' holds a line break at character 2: keep it on one line",
    ),
    (
        "description with an escape sequence",
        ["site", "add", "s1", "--bbox", BBOX, "-d", "x\x1b[2Jy"],
        "POST",
        "/api/sites",
        site_body("s1", description="x\x1b[2Jy"),
        "a site description 'x\\x1b[2Jy' holds ESC at character 2: remove it",
    ),
    (
        "event label on two lines",
        ["event", "add", "yard", "2024-01-02", "two\nlines"],
        "POST",
        "/api/sites/yard/events",
        {"date": "2024-01-02", "label": "two\nlines"},
        "an event label 'two\\nlines' holds a line break at character 4",
    ),
    (
        "event label too long",
        ["event", "add", "yard", "2024-01-02", "l" * (EVENT_LABEL_MAX + 1)],
        "POST",
        "/api/sites/yard/events",
        {"date": "2024-01-02", "label": "l" * (EVENT_LABEL_MAX + 1)},
        f"an event label has at most {EVENT_LABEL_MAX} characters, this one",
    ),
    (
        "empty event label",
        ["event", "add", "yard", "2024-01-02", ""],
        "POST",
        "/api/sites/yard/events",
        {"date": "2024-01-02", "label": ""},
        "an event needs a label",
    ),
    (
        "event description too long",
        ["event", "add", "yard", "2024-01-02", "x", "-d", "d" * (DESCRIPTION_MAX + 1)],
        "POST",
        "/api/sites/yard/events",
        {"date": "2024-01-02", "label": "x", "description": "d" * (DESCRIPTION_MAX + 1)},
        f"an event description has at most {DESCRIPTION_MAX} characters",
    ),
    (
        "event far in the future",
        ["event", "add", "yard", FAR, "x"],
        "POST",
        "/api/sites/yard/events",
        {"date": FAR, "label": "x"},
        f"event date {FAR} is more than a year after today",
    ),
    (
        "event in the year 2999",
        ["event", "add", "yard", "2999-01-01", "x"],
        "POST",
        "/api/sites/yard/events",
        {"date": "2999-01-01", "label": "x"},
        "event date 2999-01-01 is more than a year after today",
    ),
    (
        "acknowledgement note too long",
        ["alert", "ack", "ALERT", "--note", "n" * (NOTE_MAX + 1)],
        "POST",
        "/api/alerts/ALERT/acknowledge",
        {"note": "n" * (NOTE_MAX + 1)},
        f"an acknowledgement note has at most {NOTE_MAX} characters",
    ),
]


@pytest.mark.parametrize(
    ("argv", "method", "path", "body", "message"),
    [case[1:] for case in REFUSED],
    ids=[case[0] for case in REFUSED],
)
def test_cli_and_api_refuse_with_the_same_message(
    world: dict[str, Any],
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    method: str,
    path: str,
    body: dict[str, Any],
    message: str,
) -> None:
    argv = [str(world["alert"]) if a == "ALERT" else a for a in argv]
    path = path.replace("ALERT", str(world["alert"]))
    code, cli_msg = cli(capsys, world["url"], *argv)
    status, api_msg = api(world, method, path, body)
    assert (code, status) == (2, 422), (cli_msg, api_msg)
    assert message in cli_msg
    assert api_msg == cli_msg
    with world["db"].session(readonly=True) as s:  # nothing was stored
        assert [x.name for x in repo.list_sites(s)] == ["yard"]
        assert [e.label for e in repo.list_events(s, "yard")] == ["summit"]
        assert repo.get_alert(s, world["alert"]).acknowledged is False


def test_limits_themselves_are_accepted_by_both(
    world: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    tags = [f"t{i}" for i in range(TAGS_MAX - 1)] + ["t" * TAG_MAX]
    code, msg = cli(
        capsys,
        world["url"],
        "site",
        "add",
        "두만강",  # letters of any script, as before in the CLI (the API refused them)
        "--bbox",
        BBOX,
        "-d",
        "d" * DESCRIPTION_MAX,
        *[a for t in tags for a in ("--tag", t)],
    )
    assert code == 0, msg
    status, msg = api(
        world,
        "POST",
        "/api/sites",
        site_body("Туманган", description="d" * DESCRIPTION_MAX, tags=tags),
    )
    assert status == 201, msg
    assert world["client"].get("/api/sites/Туманган").json()["tags"] == tags
    ahead = (datetime.now(UTC).date() + timedelta(days=7)).isoformat()
    code, msg = cli(capsys, world["url"], "event", "add", "yard", ahead, "l" * EVENT_LABEL_MAX)
    assert code == 0, msg
    status, msg = api(
        world, "POST", "/api/sites/yard/events", {"date": ahead, "label": "announced summit"}
    )
    assert status == 201, msg
    status, msg = api(
        world, "POST", f"/api/alerts/{world['alert']}/acknowledge", {"note": "n" * NOTE_MAX}
    )
    assert status == 200, msg


def test_patches_follow_the_same_rule(world: dict[str, Any]) -> None:
    ev = world["event"]
    status, msg = api(world, "PATCH", f"/api/events/{ev}", {"date": "2999-01-01"})
    assert status == 422 and "event date 2999-01-01 is more than a year after today" in msg
    status, msg = api(world, "PATCH", f"/api/events/{ev}", {"label": " "})
    assert status == 422 and msg.startswith("an event needs a label")
    status, msg = api(world, "PATCH", f"/api/events/{ev}", {"label": "l" * 201})
    assert status == 422 and msg.startswith("an event label has at most 200 characters")
    # blank tags were dropped silently and duplicates kept; now refused / dropped as in the CLI
    status, msg = api(world, "PATCH", "/api/sites/yard", {"tags": [" "]})
    assert status == 422 and msg == "empty site tag: give tags as non-empty words"
    status, msg = api(world, "PATCH", "/api/sites/yard", {"tags": ["a ", "a", "b"]})
    assert status == 200, msg
    with world["db"].session(readonly=True) as s:
        assert repo.get_site(s, "yard").tags == ["a", "b"]
        got = repo.list_events(s, "yard")[0]
        assert (got.label, got.date) == ("summit", date(2024, 1, 1))
    ok = world["client"].patch(
        f"/api/events/{ev}", json={"label": " new summit ", "date": "2024-02-01"}, headers=AUTH
    )
    assert ok.status_code == 200 and ok.json()["label"] == "new summit"


def test_a_huge_name_is_not_echoed_whole(world: dict[str, Any]) -> None:
    status, msg = api(world, "POST", "/api/sites", site_body("n" * 100_000))
    assert status == 422
    assert msg.startswith(f"invalid site name {'n' * 64!r}... (100000 characters): use 1-64")
    assert len(msg) < 300


def test_event_date_margin() -> None:
    today = date(2026, 12, 3)
    assert check_event_date(date(2027, 12, 4), today=today) == date(2027, 12, 4)
    assert check_event_date(datetime(2020, 1, 1, 5, tzinfo=UTC), today=today) == date(2020, 1, 1)
    with pytest.raises(InputError, match="up to 2027-12-04; check the year"):
        check_event_date(date(2027, 12, 5), today=today)


def test_openapi_shows_the_limits(world: dict[str, Any]) -> None:
    schemas = world["client"].get("/openapi.json").json()["components"]["schemas"]
    assert schemas["EventIn"]["properties"]["label"]["maxLength"] == EVENT_LABEL_MAX
    assert schemas["AckIn"]["properties"]["note"]["maxLength"] == NOTE_MAX
    assert schemas["SiteIn"]["properties"]["tags"]["maxItems"] == TAGS_MAX
