"""`railwatch scene remove ID [ID ...]` (2026-12-06, session 41): a scene ingested by
mistake (a duplicate file, the wrong site) is removed with everything that is its alone
(detections, counts, the analyst's review), in one transaction, the image file kept;
alerts citing it are deleted, or kept inactive with their acknowledgement and note when
acknowledged; other scenes' rows are untouched; the same file ingested again is a new
scene. It asks on a terminal, is refused without one unless --yes, refuses unknown ids
(removing none of the ids given) and a site being processed. Before, there was no such
command: a scene could only be declared unusable, a gap in the series."""

from __future__ import annotations

import io
import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

import railwatch.cli._common as common
from railwatch.cli.main import main
from railwatch.pipeline import processing_lock
from railwatch.storage import Database, repo
from railwatch.storage.models import Alert, Count, Detection, Scene, SceneReview
from report_db import SITE_NAME, populate


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, " ".join(err.split())


@pytest.fixture
def stored(tmp_path: Path, tmp_db_url: str) -> dict[str, Any]:
    """The report test site: scenes with real files, detections and counts, an alert
    citing the last scene; the last scene also reviewed by an analyst."""
    db = Database(tmp_db_url)
    ids = populate(db, tmp_path / "imgs")
    last = ids["scene_ids"][-1]
    with db.session() as s:
        repo.set_scene_review(s, last, {"all": 18.0}, note="counted by hand")
    db.dispose()
    return {**ids, "url": tmp_db_url, "last": last, "path": Path(tmp_db_url[len("sqlite:///") :])}


def _rows(url: str) -> dict[str, Any]:
    """Each scene's detections and counts, the reviews, and the alerts, as stored."""
    db = Database(url)
    with db.session(readonly=True) as s:
        scenes = {
            sc.id: (
                sc.uri,
                sc.content_hash,
                sorted(
                    (d.cls, d.score, d.geometry_wkb)
                    for d in s.scalars(select(Detection).where(Detection.scene_id == sc.id))
                ),
                sorted(
                    (c.cls, c.count, c.low, c.high, c.detector)
                    for c in s.scalars(select(Count).where(Count.scene_id == sc.id))
                ),
            )
            for sc in s.scalars(select(Scene))
        }
        reviews = {r.scene_id: r.counts for r in s.scalars(select(SceneReview))}
        alerts = {
            a.id: (a.key, a.scene_id, a.active, a.acknowledged, a.ack_note)
            for a in s.scalars(select(Alert))
        }
        orphans = {
            table.__tablename__: s.scalar(
                select(func.count())
                .select_from(table)
                .where(table.scene_id.not_in(select(Scene.id)))
            )
            for table in (Detection, Count, SceneReview)
        }
    db.dispose()
    return {"scenes": scenes, "reviews": reviews, "alerts": alerts, "orphans": orphans}


def _checked(path: Path) -> None:
    con = sqlite3.connect(path)
    try:
        assert [r[0] for r in con.execute("PRAGMA integrity_check")] == ["ok"]
        assert list(con.execute("PRAGMA foreign_key_check")) == []
    finally:
        con.close()


def test_remove_deletes_the_scene_and_its_rows_only(
    stored: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    url, last = stored["url"], stored["last"]
    before = _rows(url)
    assert before["scenes"][last][2] and before["scenes"][last][3]  # it has rows to remove
    [alert_id] = [i for i, a in before["alerts"].items() if a[1] == last]
    file = Path(before["scenes"][last][0])
    data = file.read_bytes()

    code, out, err = run(capsys, "--db", url, "scene", "remove", str(last), "--yes", "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["removed"] is True
    assert doc["analyze"] == [f"railwatch analyze {SITE_NAME}"]
    [gone] = doc["scenes"]
    assert gone["scene_id"] == last and gone["site"] == SITE_NAME
    assert gone["uri"] == str(file)
    assert gone["detections"] == len(before["scenes"][last][2])
    assert gone["counts"] == len(before["scenes"][last][3])
    assert gone["reviews"] == 1
    assert gone["alerts_removed"] == [alert_id] and gone["alerts_retired"] == []

    after = _rows(url)
    assert last not in after["scenes"]
    assert after["scenes"] == {k: v for k, v in before["scenes"].items() if k != last}
    assert after["reviews"] == {}  # the removed scene's review went with it
    assert alert_id not in after["alerts"]  # not acknowledged: deleted
    assert after["orphans"] == {"detections": 0, "counts": 0, "scene_reviews": 0}
    _checked(stored["path"])
    assert file.read_bytes() == data  # the image file is left as it is


def test_an_acknowledged_alert_citing_it_is_kept_with_its_note(
    stored: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    url, last = stored["url"], stored["last"]
    db = Database(url)
    with db.session() as s:
        alert_id = s.scalars(select(Alert.id).where(Alert.scene_id == last)).one()
        repo.acknowledge_alert(s, alert_id, "checked with the port's manifest")
    db.dispose()
    code, out, err = run(capsys, "--db", url, "scene", "remove", str(last), "--yes")
    assert code == 0, err
    text = " ".join(out.split())
    assert f"kept 1 acknowledged alert citing it, inactive, with its note: {alert_id}" in text
    assert f"Run `railwatch analyze {SITE_NAME}`" in text
    _key, scene_id, active, acked, note = _rows(url)["alerts"][alert_id]
    assert (scene_id, active, acked, note) == (
        None,
        False,
        True,
        "checked with the port's manifest",
    )
    # a re-analysis keeps it as it keeps every acknowledged alert it no longer raises
    code, _, err = run(capsys, "--db", url, "analyze", SITE_NAME)
    assert code == 0, err
    assert _rows(url)["alerts"][alert_id][2:] == (False, True, "checked with the port's manifest")
    _checked(stored["path"])


def test_unknown_ids_remove_nothing(
    stored: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    url, last = stored["url"], stored["last"]
    before = _rows(url)
    code, _, err = run(capsys, "--db", url, "scene", "remove", str(last), "999", "--yes")
    assert code != 0
    assert "no scene with id 999: see `railwatch scene list SITE`" in err
    assert _rows(url) == before


def test_it_asks_on_a_terminal_and_is_refused_without_one(
    stored: dict[str, Any], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, ids = stored["url"], stored["scene_ids"]
    before = _rows(url)
    monkeypatch.setattr("sys.stdin", io.StringIO(""))  # not a terminal: nothing asked
    code, _, err = run(capsys, "--db", url, "scene", "remove", str(ids[0]))
    assert code == 2, err
    assert "pass --yes to confirm" in err and "standard input is not a terminal" in err
    assert _rows(url) == before

    monkeypatch.setattr(common, "stdin_is_terminal", lambda: True)
    monkeypatch.setattr("builtins.input", lambda *_: "n")
    code, out, err = run(capsys, "--db", url, "scene", "remove", str(ids[0]), str(ids[1]), "--json")
    assert code == 0, err
    assert json.loads(out) == {"removed": False, "scenes": [], "analyze": []}
    # the question lists each scene: id, site, date, file and what goes with it
    assert f"scene {ids[0]} (site '{SITE_NAME}', " in err and f"scene {ids[1]} (" in err
    assert before["scenes"][ids[0]][0] in err and "detections" in err
    assert _rows(url) == before

    monkeypatch.setattr("builtins.input", lambda *_: "y")
    code, out, err = run(capsys, "--db", url, "scene", "remove", str(ids[0]), str(ids[1]))
    assert code == 0, err
    assert sorted(set(before["scenes"]) - set(_rows(url)["scenes"])) == sorted(ids[:2])


def test_a_site_being_processed_is_refused(
    stored: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    url, last = stored["url"], stored["last"]
    before = _rows(url)
    db = Database(url)
    with processing_lock(db, [SITE_NAME]):  # as `railwatch process` holds it
        code, _, err = run(capsys, "--db", url, "scene", "remove", str(last), "--yes")
    db.dispose()
    assert code != 0
    assert "cannot be removed while a railwatch run processes it" in err
    assert _rows(url) == before


def test_the_same_file_ingested_again_is_a_new_scene(
    stored: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    url, last = stored["url"], stored["last"]
    file = _rows(url)["scenes"][last][0]
    # while the scene is there, ingest says the file is already ingested
    code, out, err = run(
        capsys, "--db", url, "ingest", SITE_NAME, file, "--date", "2023-02-04", "--json"
    )
    assert code == 0, err
    assert json.loads(out)["ingested"] == []
    assert run(capsys, "--db", url, "scene", "remove", str(last), "--yes")[0] == 0
    code, out, err = run(
        capsys, "--db", url, "ingest", SITE_NAME, file, "--date", "2023-02-04", "--json"
    )
    assert code == 0, err
    [entry] = json.loads(out)["ingested"]
    assert entry["scene_id"] > last  # a new scene: ids are never reused
    scenes = _rows(url)["scenes"]
    assert scenes[entry["scene_id"]][0] == file
    assert scenes[entry["scene_id"]][2:] == ([], [])  # nothing of the removed scene came back
    _checked(stored["path"])


@pytest.mark.services
def test_on_postgresql_the_cascades_and_alerts_are_the_same(
    tmp_path: Path, postgres_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """PostgreSQL's own foreign keys (cascades, the alert's SET NULL) and locks (the
    sites' rows, their alerts, the scenes) give the same result as SQLite's."""
    db = Database(postgres_url)
    ids = populate(db, tmp_path / "imgs")
    first, last = ids["scene_ids"][0], ids["scene_ids"][-1]
    with db.session() as s:
        repo.set_scene_review(s, last, {"all": 18.0}, note="counted by hand")
        alert_id = s.scalars(select(Alert.id).where(Alert.scene_id == last)).one()
        repo.acknowledge_alert(s, alert_id, "seen")
    db.dispose()
    before = _rows(postgres_url)
    code, out, err = run(
        capsys, "--db", postgres_url, "scene", "remove", str(last), str(first), "--yes", "--json"
    )
    assert code == 0, err
    doc = json.loads(out)
    assert [g["scene_id"] for g in doc["scenes"]] == [last, first]
    assert doc["scenes"][0]["alerts_retired"] == [alert_id] and doc["scenes"][0]["reviews"] == 1
    after = _rows(postgres_url)
    assert after["scenes"] == {k: v for k, v in before["scenes"].items() if k not in (first, last)}
    assert after["reviews"] == {}
    assert after["orphans"] == {"detections": 0, "counts": 0, "scene_reviews": 0}
    assert after["alerts"][alert_id] == ("record-test", None, False, True, "seen")


def test_api_delete_needs_the_token_and_waits_for_no_run(stored: dict[str, Any]) -> None:
    """DELETE /api/scenes/{id}: 401 without the token, 409 while the site is processed
    (nothing deleted either time), then the scene removed as the CLI removes it; a
    second DELETE is a 404."""
    pytest.importorskip("fastapi")
    pytest.importorskip("httpx")
    from fastapi.testclient import TestClient
    from pydantic import SecretStr

    from railwatch.settings import Settings
    from railwatch.web.app import create_app

    url, last = stored["url"], stored["last"]
    before = _rows(url)
    db = Database(url)
    token = "scene-remove-token"
    cache = stored["path"].parent / "cache"
    client = TestClient(
        create_app(Settings(db=url, api_token=SecretStr(token), cache_dir=cache), db)
    )
    auth = {"Authorization": f"Bearer {token}"}
    assert client.delete(f"/api/scenes/{last}").status_code == 401
    with processing_lock(Database(url), [SITE_NAME]):
        r = client.delete(f"/api/scenes/{last}", headers=auth)
    assert r.status_code == 409, r.text
    assert "cannot be removed while a railwatch run processes it" in r.json()["detail"]
    assert _rows(url) == before
    r = client.delete(f"/api/scenes/{last}", headers=auth)
    assert r.status_code == 200, r.text
    doc = r.json()
    [alert_id] = [i for i, a in before["alerts"].items() if a[1] == last]
    assert doc["deleted"] == last and doc["site"] == SITE_NAME
    assert doc["file"] == Path(before["scenes"][last][0]).name  # a name, never the path
    assert (doc["detections"], doc["counts"], doc["reviews"]) == (
        len(before["scenes"][last][2]),
        len(before["scenes"][last][3]),
        1,
    )
    assert doc["alerts_removed"] == [alert_id] and doc["alerts_retired"] == []
    assert _rows(url)["scenes"] == {k: v for k, v in before["scenes"].items() if k != last}
    r = client.delete(f"/api/scenes/{last}", headers=auth)
    assert r.status_code == 404 and "no scene with id" in r.json()["detail"]
    db.dispose()
    _checked(stored["path"])
