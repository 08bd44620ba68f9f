"""Session 40 follow-ups (2026-12-06).

* ``railwatch export-labels`` cuts a scene into chips that overlap, a car in an overlap
  a label of each (since 1c3b055 it says the distinct cars, and its manifest gives
  ``cars`` beside ``objects``). ``railwatch import-labels`` ("imported 8 images, 10
  cars") and ``railwatch train --labels`` (its "10 labelled cars are few" warning) still
  counted those labels as cars. They now say the distinct cars where the manifest gives
  them (and the labels where they differ), and "labelled objects" where the distinct
  cars cannot be known (chips without a manifest, or labels changed since export).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

import railwatch.detect.train as detect_train
from railwatch.cli.main import main
from railwatch.errors import InputError
from railwatch.storage import Database, repo
from report_db import PLANS, populate

CARS = PLANS[0].n  # scene 1's cars; its 8 chips of 160 px label each car twice


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("chips")
    url = f"sqlite:///{tmp / 'rw.db'}"
    db = Database(url)
    populate(db, tmp / "scenes")
    db.dispose()
    out = tmp / "dota"
    argv = ["--db", url, "export-labels", "--scene", "1", "--chip", "160", "--format", "dota"]
    assert main([*argv, "--out", str(out)]) == 0
    (entry,) = json.loads((out / "railwatch_export.json").read_text())["scenes"]
    assert (entry["cars"], entry["objects"]) == (CARS, 2 * CARS)
    return out


def _said(capsys: pytest.CaptureFixture[str]) -> str:
    got = capsys.readouterr()
    return " ".join((got.out + got.err).split())


def _train_labels(
    labels: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> str:
    """What train --labels says of the labels (stopped before any crop is drawn)."""

    def stop() -> None:
        raise InputError("stopped by the test before training")

    monkeypatch.setattr(detect_train, "require_train_extra", stop)
    argv = ["train", "--labels", str(labels), "--out", str(tmp_path / "w.onnx"), "--scenes", "1"]
    assert main(argv) != 0
    said = _said(capsys)
    assert "stopped by the test before training" in said
    return said


def test_import_and_train_say_the_distinct_cars_of_overlapping_chips(
    exported: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    out = tmp_path / "set"
    assert main(["import-labels", str(exported), "--format", "dota", "--out", str(out)]) == 0
    said = _said(capsys)
    assert f"imported 8 images, {CARS} cars in {2 * CARS} labels (" in said
    assert "chips overlap, and a car in the overlap is labelled in each" in said
    assert json.loads((out / "railwatch_labels.json").read_text())["cars"] == CARS
    again = tmp_path / "again"
    argv = ["import-labels", str(exported), "--format", "dota", "--out", str(again), "--json"]
    assert main(argv) == 0
    summary = json.loads(capsys.readouterr().out)
    assert (summary["cars"], summary["objects"]) == (CARS, 2 * CARS)
    for labels in (out, exported):  # the imported set, and the export's DOTA folder itself
        said = _train_labels(labels, tmp_path, monkeypatch, capsys)
        assert f"{CARS} cars in {2 * CARS} labels (" in said
        assert f"warning: {CARS} labelled cars are few to fine-tune on" in said
        assert f"{2 * CARS} labelled cars" not in said
        # DOTA carries no covered flag: its labels, not cars, teach nothing of tarpaulins
        assert f"the {2 * CARS} labels of 8 such image(s)" in said


def test_chips_without_a_manifest_are_labelled_objects(
    exported: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    bare = tmp_path / "bare"
    shutil.copytree(exported, bare)
    (bare / "railwatch_export.json").unlink()
    out = tmp_path / "set"
    argv = ["import-labels", str(bare), "--format", "dota", "--out", str(out), "--gsd", "0.5"]
    assert main(argv) == 0
    said = _said(capsys)
    assert f"imported 8 images, {2 * CARS} labelled objects (" in said
    assert "how many distinct cars is not known" in said
    assert f"{2 * CARS} cars" not in said
    assert json.loads((out / "railwatch_labels.json").read_text())["cars"] is None
    for labels in (out, bare):
        said = _train_labels(labels, tmp_path, monkeypatch, capsys)
        assert f"{2 * CARS} labelled objects (" in said
        assert f"warning: {2 * CARS} labelled objects (distinct cars not known" in said
        assert f"{2 * CARS} labelled cars" not in said


def test_labels_changed_since_export_are_not_counted_as_its_cars(
    exported: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    changed = tmp_path / "changed"
    shutil.copytree(exported, changed)
    label = next(
        p for p in sorted((changed / "labelTxt").glob("*.txt"))
        if len([ln for ln in p.read_text().splitlines() if ln and ":" not in ln]) > 0
    )  # fmt: skip
    lines = label.read_text().splitlines()
    drop = next(k for k, ln in enumerate(lines) if ln and ":" not in ln)
    label.write_text("\n".join(lines[:drop] + lines[drop + 1 :]) + "\n")
    said = _train_labels(changed, tmp_path, monkeypatch, capsys)
    assert f"{2 * CARS - 1} labelled objects (" in said
    assert f"{CARS} cars in" not in said


# ---------------------------------------------------------------------------------------
# 2. A coarse scene of a site without track centrelines, which cannot be read without
#    them, is listed by `railwatch process` and `scene list` as "not counted, the site has
#    no track centrelines" with what to do (7e11872); the web API and dashboard and the
#    report showed it as a plain failure ("processing failed").

_BBOX = "130.6050,42.4190,130.6110,42.4238"  # over simulate's default yard


@pytest.fixture(scope="module")
def no_tracks(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """Site ``yard`` (no track centrelines) with two 10 m scenes processed: one not
    counted for want of centrelines, one whose file is gone (a plain failure)."""
    tmp = tmp_path_factory.mktemp("no_tracks")
    for name, seed in (("g10", "7"), ("gone", "8")):
        assert main(
            ["simulate", "--scene", "--gsd", "10", "--cars", "40", "--seed", seed,
             "--out", str(tmp), "--name", name]
        ) == 0  # fmt: skip
    url = f"sqlite:///{tmp / 'rw.db'}"
    assert main(["--db", url, "site", "add", "yard", "--bbox", _BBOX]) == 0
    assert main(["--db", url, "ingest", "yard", str(tmp / "g10.tif"), str(tmp / "gone.tif")]) == 0
    (tmp / "gone.tif").unlink()
    assert main(["--db", url, "process", "yard"]) == 1
    db = Database(url)
    with db.session(readonly=True) as s:
        ids = {sc.uri.rsplit("/", 1)[-1]: sc.id for sc in repo.list_scenes(s, "yard")}
    db.dispose()
    return {"url": url, "tmp": tmp, "tracks": ids["g10.tif"], "gone": ids["gone.tif"]}


def test_web_api_marks_a_scene_that_needs_track_centrelines(
    no_tracks: dict[str, object], capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("fastapi")
    from fastapi.testclient import TestClient
    from pydantic import SecretStr

    from railwatch.settings import Settings
    from railwatch.web.app import create_app

    capsys.readouterr()
    db = Database(str(no_tracks["url"]))
    tmp = Path(str(no_tracks["tmp"]))
    app = create_app(Settings(db=db.url, api_token=SecretStr("t"), cache_dir=tmp / "c"), db)
    try:
        client = TestClient(app)
        items = client.get("/api/sites/yard/scenes").json()["items"]
        by_id = {it["id"]: it for it in items}
        mine, gone = by_id[no_tracks["tracks"]], by_id[no_tracks["gone"]]
        assert (mine["status"], mine["needs_tracks"]) == ("failed", True)
        # the API's request, not the CLI's command (session 41: tests/test_web_words_s41)
        assert "(PATCH /api/sites/yard with them as `tracks`)" in mine["error"]
        assert (gone["status"], gone["needs_tracks"]) == ("failed", False)
        one = client.get(f"/api/scenes/{no_tracks['tracks']}").json()
        assert one["needs_tracks"] is True
        assert "(PATCH /api/sites/yard with them as `tracks`)" in one["error"]
        assert client.get(f"/api/scenes/{no_tracks['gone']}").json()["needs_tracks"] is False
        # the dashboard's page script says it as the CLI does, offline (served by the app)
        js = client.get("/static/js/site.js")
        assert js.status_code == 200
        assert "needs_tracks" in js.text and "the site has no track centrelines" in js.text
    finally:
        db.dispose()


def test_web_job_result_counts_the_scenes_that_need_track_centrelines(
    no_tracks: dict[str, object], capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("fastapi")
    import time

    from fastapi.testclient import TestClient
    from pydantic import SecretStr

    from railwatch.settings import Settings
    from railwatch.web.app import create_app

    capsys.readouterr()
    db = Database(str(no_tracks["url"]))
    tmp = Path(str(no_tracks["tmp"]))
    app = create_app(Settings(db=db.url, api_token=SecretStr("t"), cache_dir=tmp / "c3"), db)
    try:
        with TestClient(app) as c:
            r = c.post("/api/sites/yard/jobs", json={}, headers={"Authorization": "Bearer t"})
            assert r.status_code == 202, r.text
            job = r.json()
            deadline = time.monotonic() + 120  # a bound on waiting, not a timing asserted
            while job["status"] in ("queued", "running") and time.monotonic() < deadline:
                time.sleep(0.1)
                job = c.get(f"/api/jobs/{job['id']}").json()
            assert job["status"] == "succeeded", job
            # both failed scenes are tried again: one for want of centrelines, one file gone
            assert (job["result"]["failed"], job["result"]["needs_tracks"]) == (2, 1)
    finally:
        db.dispose()


def test_report_says_a_scene_needs_track_centrelines_not_that_processing_failed(
    no_tracks: dict[str, object], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "r.html"
    assert main(["--db", str(no_tracks["url"]), "report", "yard", "-o", str(out)]) == 0
    capsys.readouterr()
    text = " ".join(out.read_text().split())
    assert "not counted, the site has no track centrelines" in text
    assert "railwatch site edit yard --tracks FILE" in text
    # the two images: one for want of centrelines, one a plain failure (its file gone)
    assert "processing failed 1" in text and "no track centrelines 1" in text
    assert "2 of 2 images could not be counted" in text
    assert "1 of them is a coarse image that cannot be read without the site" in text


@pytest.mark.slow
@pytest.mark.services
def test_dashboard_shows_a_scene_that_needs_track_centrelines(
    no_tracks: dict[str, object], capsys: pytest.CaptureFixture[str]
) -> None:
    """The site page in headless Chromium, offline: the scene's entry and info line say it
    is not counted for want of the site's track centrelines, and its review box what to
    do; the scene whose file is gone is still a failure."""
    pytest.importorskip("uvicorn")
    from pydantic import SecretStr

    from helpers import chromium, live_server
    from railwatch.settings import Settings
    from railwatch.web.app import create_app

    capsys.readouterr()
    db = Database(str(no_tracks["url"]))
    tmp = Path(str(no_tracks["tmp"]))
    app = create_app(Settings(db=db.url, api_token=SecretStr("t"), cache_dir=tmp / "c2"), db)
    sid, gone = no_tracks["tracks"], no_tracks["gone"]
    try:
        with live_server(app) as url, chromium() as browser:
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            page.set_default_timeout(60_000)
            errors: list[str] = []
            away: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on("request", lambda r: away.append(r.url) if not r.url.startswith(url) else None)
            page.goto(f"{url}/sites/yard#{sid}")
            page.wait_for_selector("body[data-ready='1']")
            entry = page.locator(f"button.scene[data-scene='{sid}']")
            assert (entry.locator(".c").text_content() or "") == "needs track centrelines"
            title = entry.get_attribute("title") or ""
            assert "PATCH /api/sites/yard with them as `tracks`" in title
            box = page.wait_for_selector("#review .review-needs-tracks")
            said = " ".join((box.text_content() if box else "").split())
            assert "Not counted: this 10 m image cannot be read without the site's track" in said
            assert "give the site its track centrelines (PATCH /api/sites/yard with" in said
            info = " ".join((page.locator("#scene-info").text_content() or "").split())
            assert "not counted, the site has no track centrelines" in info
            other = page.locator(f"button.scene[data-scene='{gone}'] .c").text_content()
            assert other == "failed"
            assert errors == [] and away == []
    finally:
        db.dispose()
