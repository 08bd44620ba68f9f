"""Loose ends of ``scene review --unusable`` found by review r1 (2026-12-06, session 36):
a declared scene is ``reviewed`` wherever that member is given (scene list, the API's
scenes and series, the export's counts table); the web API's PUT says which review it
replaced, as the CLI's ``--json`` does; a reason on more than one line is refused (it
becomes the scene's one-line reason); after ``--remove`` the CLI says to run ``process``
before ``analyze``; ``site remove --json`` counts the scene reviews its question
counts; ``event remove --json`` declined has ``alerts_naming_it`` too; and the
dashboard asks before *Declare unusable* replaces an analyst's count, and says what it
replaced."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest

import railwatch.cli._common as common
from railwatch.cli.main import main
from railwatch.errors import InputError
from railwatch.storage import Database, repo
from test_scene_review import _scene

REASON = "clouds the check missed"


def _json(capsys: pytest.CaptureFixture[str], *argv: str) -> Any:
    capsys.readouterr()
    code = main(list(argv))
    out, err = capsys.readouterr()
    assert code == 0, err
    return json.loads(out)


def _client(db: Database, tmp_path: Path) -> Any:
    pytest.importorskip("fastapi")
    from fastapi.testclient import TestClient
    from pydantic import SecretStr

    from railwatch.settings import Settings
    from railwatch.web.app import create_app

    settings = Settings(db=db.url, api_token=SecretStr("t"), cache_dir=tmp_path / "cache")
    return TestClient(create_app(settings, db))


AUTH = {"Authorization": "Bearer t"}


def test_a_declared_scene_is_reviewed_in_every_output(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'rw.db'}"
    db = Database(url)
    sid, other = _scene(db), _scene(db)
    with db.session() as s:
        repo.set_scene_unusable_review(s, sid, REASON)
    listed = {d["id"]: d for d in _json(capsys, "--db", url, "scene", "list", "yard", "--json")}
    assert listed[sid]["reviewed"] is True and listed[sid]["detector_count"] is None
    assert listed[other]["reviewed"] is False
    with db.session(readonly=True) as s:
        points = {p.scene_id: p for p in repo.count_series(s, "yard")}
    assert points[sid].reviewed and not points[sid].is_usable
    assert not points[other].reviewed
    client = _client(db, tmp_path)
    scenes = client.get("/api/sites/yard/scenes").json()["items"]
    assert {d["id"]: d["reviewed"] for d in scenes} == {sid: True, other: False}
    assert client.get(f"/api/scenes/{sid}").json()["reviewed"] is True
    series = client.get("/api/sites/yard/counts").json()
    by_scene = {p["scene_id"]: p for p in series["items"]}
    assert by_scene[sid]["reviewed"] is True and by_scene[sid]["count"] is None
    assert by_scene[other]["reviewed"] is False
    assert client.get(f"/api/scenes/{sid}/detections").json()["reviewed"] is True
    table = tmp_path / "counts.csv"
    assert main(["--db", url, "export", "yard", "-o", str(table), "--format", "csv"]) == 0
    with table.open(newline="") as f:
        rows = {int(r["scene_id"]): r for r in csv.DictReader(f)}
    assert rows[sid]["reviewed"].lower() in {"true", "yes", "1"}
    assert rows[sid]["count"] == ""  # still a gap
    db.dispose()


def test_the_web_put_says_which_review_it_replaced(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'web.db'}")
    sid = _scene(db)
    client = _client(db, tmp_path)
    url = f"/api/scenes/{sid}/review"
    first = client.put(url, json={"counts": {"all": 73}, "note": "by eye"}, headers=AUTH)
    assert first.status_code == 201 and first.json()["replaced"] is None
    declared = client.put(url, json={"unusable": REASON}, headers=AUTH)
    assert declared.status_code == 200, declared.text
    replaced = declared.json()["replaced"]
    assert replaced["counts"] == {"all": 73} and replaced["note"] == "by eye"
    assert replaced["unusable"] is None
    assert "replaced" not in client.get(url, headers=AUTH).json()  # a PUT's answer only
    db.dispose()


@pytest.mark.parametrize(
    ("reason", "what"),
    [("night image\nthe yard is dark", "a line break"), ("night\timage", "a tab")],
)
def test_a_reason_on_more_than_one_line_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], reason: str, what: str
) -> None:
    url = f"sqlite:///{tmp_path / 'rw.db'}"
    db = Database(url)
    sid = _scene(db)
    with db.session() as s, pytest.raises(InputError, match=f"holds {what} at character"):
        repo.set_scene_unusable_review(s, sid, reason)
    assert main(["--db", url, "scene", "review", str(sid), "--unusable", reason]) == 2
    assert "keep it on one line" in " ".join(capsys.readouterr().err.split())
    r = _client(db, tmp_path).put(
        f"/api/scenes/{sid}/review", json={"unusable": reason}, headers=AUTH
    )
    assert r.status_code == 422 and what in r.text
    with db.session(readonly=True) as s:
        assert repo.get_scene_review(s, sid) is None
        assert repo.get_scene(s, sid).status == "processed"
    db.dispose()


def test_removing_a_declaration_says_to_process_before_analyze(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(common.console, "width", 300)
    url = f"sqlite:///{tmp_path / 'rw.db'}"
    db = Database(url)
    sid = _scene(db)
    with db.session() as s:
        repo.set_scene_unusable_review(s, sid, REASON)
    capsys.readouterr()
    assert main(["--db", url, "scene", "review", str(sid), "--remove"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "Run `railwatch process yard`, then `railwatch analyze yard`" in out
    assert "Run `railwatch analyze yard` to judge" not in out
    db.dispose()


def test_site_remove_json_counts_the_scene_reviews(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'rw.db'}"
    db = Database(url)
    declared, counted, _ = _scene(db), _scene(db), _scene(db)
    with db.session() as s:
        repo.set_scene_unusable_review(s, declared, REASON)
        repo.set_scene_review(s, counted, {"all": 70})
    monkeypatch.setattr(common, "stdin_is_terminal", lambda: True)
    monkeypatch.setattr("builtins.input", lambda *_: "n")
    declined = _json(capsys, "--db", url, "site", "remove", "yard", "--json")
    assert declined["removed"] is False and declined["reviews"] == 0
    gone = _json(capsys, "--db", url, "site", "remove", "yard", "--yes", "--json")
    assert gone["removed"] is True and gone["scenes"] == 3 and gone["reviews"] == 2
    assert set(gone) == set(declined)
    db.dispose()


def test_event_remove_json_declined_has_the_same_keys(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'rw.db'}"
    db = Database(url)
    _scene(db)
    added = _json(capsys, "--db", url, "event", "add", "yard", "2023-10-01", "summit", "--json")
    argv = ["--db", url, "event", "remove", str(added["id"]), "--json"]
    monkeypatch.setattr(common, "stdin_is_terminal", lambda: True)
    monkeypatch.setattr("builtins.input", lambda *_: "n")
    declined = _json(capsys, *argv)
    assert declined == {**added, "removed": False, "alerts_naming_it": 0}
    removed = _json(capsys, *argv, "--yes")
    assert set(removed) == set(declined)
    db.dispose()


@pytest.mark.slow
@pytest.mark.services
def test_the_dashboard_asks_before_declaring_over_a_count_and_says_what_it_replaced(
    tmp_path: Path,
) -> None:
    """A count the analyst gave: *Declare unusable* asks first (dismissed: nothing
    changes), and once accepted says which count it replaced."""
    pytest.importorskip("fastapi")
    pytest.importorskip("uvicorn")
    from helpers import chromium, serve_db
    from web_db import populate

    token = "unusable-confirm-token"
    db = Database(f"sqlite:///{tmp_path / 'e2e.db'}")
    ids = populate(db, tmp_path / "img")
    sid = ids["scene_ids"][4]  # processed, usable: 18 cars found
    with db.session() as s:
        repo.set_scene_review(s, sid, {"all": 21}, note="counted by eye")
    try:
        with serve_db(db, tmp_path / "cache", token=token) as url, chromium() as browser:
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            page.set_default_timeout(60_000)
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            asked: list[str] = []
            answers = [False, True]

            def answer(dialog: Any) -> None:
                asked.append(dialog.message)
                (dialog.accept if answers.pop(0) else dialog.dismiss)()

            page.on("dialog", answer)
            page.goto(f"{url}/sites/{ids['site']}#{sid}")
            page.wait_for_selector("body[data-ready='1']")
            page.fill("#token", token)
            page.click("#signin button[type=submit]")
            page.wait_for_selector("#auth[data-signed-in='1']")
            page.wait_for_selector("#review-declare")
            page.fill("#review-unusable", REASON)
            page.click("#review-declare")  # dismissed: the count stays
            page.wait_for_selector(".review-unusable-msg:has-text('your count is kept')")
            assert len(asked) == 1 and "all 21" in asked[0] and "counted by eye" in asked[0]
            with db.session(readonly=True) as s:
                review = repo.get_scene_review(s, sid)
                assert review is not None and review.counts["all"] == 21
            page.click("#review-declare")  # accepted
            page.wait_for_selector(f"body[data-review-changed='{sid}:unusable']")
            assert len(asked) == 2
            said = page.locator("#review-replaced").text_content() or ""
            assert "It replaced your count (all 21" in said and "counted by eye" in said
            with db.session(readonly=True) as s:
                assert repo.get_scene(s, sid).status == "unusable"
            assert errors == []
    finally:
        db.dispose()
