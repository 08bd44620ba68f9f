"""An analyst declares a scene unusable by their own judgement (2026-12-06, session 36):
``railwatch scene review ID --unusable "REASON"`` (``PUT /api/scenes/{id}/review`` with
``unusable``). The scene is a gap in the series with the reason "unusable by analyst
review: REASON", ``railwatch process`` skips it (a failed scene too: the way out of a
file bad at its source, which failed every run, exit status 1), also with a new
detector version or ``--reprocess``, and removing the review (``--remove``) has it
processed again. Before, a scene could only be given a count, and a failed one could
not be reviewed at all."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from railwatch.cli import _common
from railwatch.cli.main import main
from railwatch.errors import InputError
from railwatch.storage import Database, repo
from railwatch.storage.models import Scene
from report_db import FakeCount, FakeQuality
from test_distributed import fake_module as fake_module  # the fixture
from test_distributed import setup_db
from test_scene_review import _scene, _stored

REASON = "night image: the yard is dark"


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'unusable.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
    database = Database(url)
    yield database
    database.dispose()


def _state(db: Database, scene_id: int) -> tuple[str, bool | None, list[str], str | None]:
    with db.session(readonly=True) as s:
        sc = s.get(Scene, scene_id)
        assert sc is not None
        return sc.status, sc.usable, list(sc.reasons), sc.error


def test_a_counted_scene_declared_unusable_is_a_gap_and_comes_back(db: Database) -> None:
    sid = _scene(db)
    other = _scene(db)
    with db.session() as s:
        repo.set_scene_review(s, sid, {"all": 73})  # a count first: replaced
    with db.session() as s:
        review = repo.set_scene_unusable_review(s, sid, f"  {REASON} ")
        assert repo.unusable_reason(review) == REASON
    assert _state(db, sid) == ("unusable", False, [f"unusable by analyst review: {REASON}"], None)
    assert _stored(db, sid) == {}  # no count at all: a gap, never a zero
    with db.session(readonly=True) as s:
        points = {p.scene_id: p for p in repo.count_series(s, "yard")}
        assert not points[sid].is_usable and points[sid].count is None
        assert points[other].is_usable
        assert repo.reviewed_unusable_ids(s, "yard") == {sid}
    # a run that read the scene before the review records after it: the verdict stands
    again = FakeCount(64.0, 58.0, 72.0, {}, 10)
    with db.session() as s:
        repo.record_scene_result(s, sid, FakeQuality(0.97), [], again, "default", "2.9")
    with db.session() as s:
        repo.mark_scene_failed(s, sid, "file vanished")
    assert _state(db, sid)[:2] == ("unusable", False)
    assert _stored(db, sid) == {}
    with db.session() as s:
        repo.remove_scene_review(s, sid)
    assert _state(db, sid) == ("ingested", None, [], None)  # pending: process reads it again
    with db.session(readonly=True) as s:
        assert repo.get_scene_review(s, sid) is None
        assert repo.reviewed_unusable_ids(s, "yard") == set()


def test_a_count_of_a_scene_declared_unusable_is_refused_saying_how(db: Database) -> None:
    sid = _scene(db)
    with db.session() as s:
        repo.set_scene_unusable_review(s, sid, REASON)
    with db.session() as s, pytest.raises(InputError) as err:
        repo.set_scene_review(s, sid, {"all": 5})
    message = str(err.value)
    assert f"unusable by your review ({REASON})" in message
    assert f"railwatch scene review {sid} --remove" in message


def test_a_reason_is_required(db: Database) -> None:
    sid = _scene(db)
    with db.session() as s, pytest.raises(InputError, match="say why the image is unusable"):
        repo.set_scene_unusable_review(s, sid, "   ")
    assert _state(db, sid)[0] == "processed"


def _process(url: str, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, Any, str]:
    capsys.readouterr()
    code = main(["--db", url, "process", "yard", "--json", *args])
    out, err = capsys.readouterr()
    return code, json.loads(out), " ".join(err.split())


def test_process_skips_a_failed_scene_declared_unusable(
    tmp_path: Path,
    tmp_db_url: str,
    fake_module: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    import rw_fake_rects

    import railwatch.detect.registry as registry

    monkeypatch.setattr(_common.console, "width", 200)
    fake = rw_fake_rects.BrightRects()
    monkeypatch.setattr(registry, "get_detector", lambda name="default": fake)
    db = setup_db(tmp_db_url, tmp_path, 3)
    with db.session(readonly=True) as s:
        bad, *good = [sc for sc in repo.list_scenes(s, "yard")]
        bad_id, bad_uri = bad.id, bad.uri
    Path(bad_uri).unlink()  # bad at its source: every run fails on it
    code, rows, err = _process(tmp_db_url, capsys)
    assert code == 1 and len(rows[0]["failed"]) == 1
    assert 'railwatch scene review ID --unusable "REASON"' in err

    capsys.readouterr()
    assert main(["--db", tmp_db_url, "scene", "review", str(bad_id), "--unusable", REASON]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert f'unusable - "{REASON}"' in out
    capsys.readouterr()
    assert main(["--db", tmp_db_url, "scene", "show", str(bad_id)]) == 0
    shown_text = " ".join(capsys.readouterr().out.split())
    assert "status unusable by analyst review" in shown_text  # whose verdict it is
    declared = [f"unusable by analyst review: {REASON}"]
    assert _state(db, bad_id) == ("unusable", False, declared, None)

    code, rows, err = _process(tmp_db_url, capsys)
    assert code == 0, err
    assert rows[0]["failed"] == [] and rows[0]["reviewed_unusable"] == 1
    assert rows[0]["processed"] == 0 and rows[0]["up_to_date"] == 2
    assert "has no scenes to process" not in err
    # a new detector version, and --reprocess: still skipped, the review kept
    fake.version = "2"
    code, rows, err = _process(tmp_db_url, capsys, "--reprocess")
    assert code == 0, err
    assert rows[0]["processed"] == 2 and rows[0]["reviewed_unusable"] == 1
    assert _state(db, bad_id)[0] == "unusable"
    # the table says it too
    capsys.readouterr()
    assert main(["--db", tmp_db_url, "process", "yard"]) == 0
    assert "yard: 1 scene skipped as unusable by analyst review" in " ".join(
        capsys.readouterr().out.split()
    )
    # the scene as `scene show --json` gives it: the review says why
    capsys.readouterr()
    assert main(["--db", tmp_db_url, "scene", "show", str(bad_id), "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["review"]["unusable"] == REASON and shown["review"]["applied"] is True
    assert shown["review"]["counts"] == {}
    # the analysis reads it as a gap
    capsys.readouterr()
    assert main(["--db", tmp_db_url, "analyze", "yard"]) == 0
    with db.session(readonly=True) as s:
        points = {p.scene_id: p for p in repo.count_series(s, "yard")}
    assert not points[bad_id].is_usable and points[bad_id].count is None

    # removed: processed again (and fails again: the file is still missing)
    capsys.readouterr()
    assert main(["--db", tmp_db_url, "scene", "review", str(bad_id), "--remove"]) == 0
    assert "the next `railwatch process yard` reads it again" in " ".join(
        capsys.readouterr().out.split()
    )
    code, rows, err = _process(tmp_db_url, capsys)
    assert code == 1 and [f["scene_id"] for f in rows[0]["failed"]] == [bad_id]
    assert rows[0]["reviewed_unusable"] == 0
    assert len(good) == 2
    db.dispose()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--unusable", REASON, "--count", "5"], "give --unusable REASON or a count"),
        (["--unusable", REASON, "--note", "x"], "give the reason there, without --note"),
        (["--unusable", REASON, "--remove"], "--remove takes no counts, --cars nor --unusable"),
    ],
)
def test_the_cli_refuses_unusable_with_what_does_not_go_with_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    db = Database(url)
    sid = _scene(db)
    assert main(["--db", url, "scene", "review", str(sid), *args]) == 2
    assert message in " ".join(capsys.readouterr().err.split())
    assert _state(db, sid)[0] == "processed"
    db.dispose()


def test_the_web_api_declares_a_scene_unusable_and_removes_it(tmp_path: Path) -> None:
    pytest.importorskip("fastapi")
    from fastapi.testclient import TestClient
    from pydantic import SecretStr

    from railwatch.settings import Settings
    from railwatch.web.app import create_app

    db = Database(f"sqlite:///{tmp_path / 'web.db'}")
    sid = _scene(db)
    settings = Settings(db=db.url, api_token=SecretStr("t"), cache_dir=tmp_path / "cache")
    client = TestClient(create_app(settings, db))
    auth = {"Authorization": "Bearer t"}
    url = f"/api/scenes/{sid}/review"
    both = client.put(url, json={"unusable": REASON, "counts": {"all": 3}}, headers=auth)
    assert both.status_code == 422
    r = client.put(url, json={"unusable": REASON}, headers=auth)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["unusable"] == REASON and body["counts"] == {} and body["applied"] is True
    assert _state(db, sid)[2] == [f"unusable by analyst review: {REASON}"]
    got = client.get(url, headers=auth).json()
    assert got["unusable"] == REASON
    gone = client.delete(url, headers=auth)
    assert gone.status_code == 200 and gone.json()["removed"] is True
    assert _state(db, sid)[0] == "ingested"
    db.dispose()


def test_the_report_counts_an_analysts_verdict_as_its_own_cause() -> None:
    """Whatever words the analyst's reason uses ("clouds the check missed"), the report's
    tally of why images have no count names the analyst's review, not "cloud"."""
    from railwatch.report.caveats import reason_kind

    assert reason_kind(("unusable by analyst review: clouds the check missed",)) == (
        "analyst review"
    )
    assert reason_kind(("clouds cover 70 % of the site",)) == "cloud"


def test_new_colour_bands_and_eval_keep_the_verdict(db: Database) -> None:
    """New colour bands had a processed scene read anew (status ``ingested``): one an
    analyst declared unusable stays so; ``eval --site`` says why it has nothing to
    score."""
    from railwatch.review import evaluate_reviews

    sid = _scene(db)
    counted = _scene(db)
    with db.session() as s:
        repo.set_scene_unusable_review(s, sid, REASON)
        repo.set_scene_review(s, counted, {"all": 70})
    with db.session() as s:
        assert repo.set_scene_bands(s, sid, (3, 2, 1))
    assert _state(db, sid)[:2] == ("unusable", False)
    with db.session(readonly=True) as s:
        ev = evaluate_reviews(s, "yard")
    assert ev.counts_only == 1
    assert {
        "scene_id": sid,
        "reason": f"declared unusable by the analyst ({REASON}): no count to score",
    } in list(ev.left_out)


@pytest.mark.slow
@pytest.mark.services
def test_the_dashboard_declares_an_image_unusable_and_takes_it_back(tmp_path: Path) -> None:
    """The site page's review box, in headless Chromium: *Declare unusable* with a reason
    makes the image a gap (its line says why), and *Remove review* has it processed
    again."""
    pytest.importorskip("fastapi")
    pytest.importorskip("uvicorn")
    from helpers import chromium, serve_db
    from web_db import populate

    token = "unusable-e2e-token"
    db = Database(f"sqlite:///{tmp_path / 'e2e.db'}")
    ids = populate(db, tmp_path / "img")
    sid = ids["scene_ids"][4]  # processed, usable: 18 cars found
    try:
        with serve_db(db, tmp_path / "cache", token=token) as url, chromium() as browser:
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            page.set_default_timeout(60_000)
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(f"{url}/sites/{ids['site']}#{sid}")
            page.wait_for_selector("body[data-ready='1']")
            page.fill("#token", token)
            page.click("#signin button[type=submit]")
            page.wait_for_selector("#auth[data-signed-in='1']")
            page.wait_for_selector("#review-declare")
            page.click("#review-declare")  # no reason: refused on the page
            page.wait_for_selector(".review-unusable-msg:has-text('say why')")
            assert _state(db, sid)[0] == "processed"
            page.fill("#review-unusable", REASON)
            page.click("#review-declare")
            page.wait_for_selector(f"body[data-review-changed='{sid}:unusable']")
            assert _state(db, sid)[:3] == (
                "unusable",
                False,
                [f"unusable by analyst review: {REASON}"],
            )
            assert REASON in (page.locator(".review-unusable").text_content() or "")
            info = page.locator("#scene-info").text_content() or ""
            assert f"unusable: unusable by analyst review: {REASON}" in info
            page.click("#review-remove")
            page.wait_for_selector(f"body[data-review-changed='{sid}:none']")
            assert _state(db, sid)[0] == "ingested"
            assert errors == []
    finally:
        db.dispose()
