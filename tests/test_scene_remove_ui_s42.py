"""The dashboard removes an image ingested by mistake (2026-12-06, session 42).

Session 41 added `railwatch scene remove` and DELETE /api/scenes/{id}; the site page had
no control for it. Under its image list a button now removes the selected image, after a
confirmation (it deletes the image's stored results), and shows the list, the alerts and
the chart without it; a refusal is said beside the button in the API's words
(web.errors.API_HINTS). A read-only server shows no button."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from railwatch.storage import Database, repo


def test_the_site_page_serves_the_control_wired_to_the_delete(tmp_path: Path) -> None:
    """Without a browser: the page has the button's place, its script sends the DELETE
    after a confirmation, and the request it sends removes the image (then a 404 in the
    API's words, as the button shows it)."""
    pytest.importorskip("fastapi")
    from fastapi.testclient import TestClient
    from pydantic import SecretStr

    from railwatch.settings import Settings
    from railwatch.web.app import create_app
    from web_db import populate

    db = Database(f"sqlite:///{tmp_path / 'rw.db'}")
    ids = populate(db, tmp_path / "img")
    app = create_app(Settings(db=db.url, api_token=SecretStr("t"), cache_dir=tmp_path / "c"), db)
    try:
        web = TestClient(app, headers={"Authorization": "Bearer t"})
        page = web.get(f"/sites/{ids['site']}")
        assert page.status_code == 200
        assert 'id="scene-actions"' in page.text
        js = web.get("/static/js/site.js").text
        assert 'id: "scene-remove"' in js
        assert "window.confirm(" in js
        assert 'api(`/api/scenes/${sc.id}`, { method: "DELETE" })' in js
        sid = ids["scene_ids"][1]
        r = web.delete(f"/api/scenes/{sid}")
        assert r.status_code == 200, r.text
        assert r.json()["deleted"] == sid
        listed = web.get(f"/api/sites/{ids['site']}/scenes").json()["items"]
        assert sid not in [sc["id"] for sc in listed]
        again = web.delete(f"/api/scenes/{sid}")
        assert again.status_code == 404
        detail = again.json()["detail"]
        assert f"no scene with id {sid}" in detail
        assert "/api/sites/SITE/scenes" in detail and "railwatch scene list" not in detail
    finally:
        db.dispose()


@pytest.mark.slow
@pytest.mark.services
def test_the_dashboard_removes_the_selected_image_after_asking(tmp_path: Path) -> None:
    pytest.importorskip("fastapi")
    pytest.importorskip("uvicorn")
    from helpers import chromium, serve_db
    from web_db import populate

    token = "scene-remove-token"
    db = Database(f"sqlite:///{tmp_path / 'e2e.db'}")
    ids = populate(db, tmp_path / "img")
    sid = ids["scene_ids"][4]  # the image the site's alert cites
    other = ids["scene_ids"][1]
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
            page.wait_for_selector(".alert")  # the alert citing the image
            button = page.locator("#scene-remove")
            assert "2023-10-05" in (button.text_content() or "")
            # asked first: dismissed, nothing is removed
            asked: list[str] = []

            def dismiss(dialog: Any) -> None:
                asked.append(dialog.message)
                dialog.dismiss()

            page.once("dialog", dismiss)
            button.click()
            page.wait_for_timeout(300)
            assert asked and f"scene {sid}" in asked[0]
            assert "detections, counts and review are deleted" in asked[0]
            with db.session(readonly=True) as s:
                assert repo.get_scene(s, sid).id == sid
            assert page.locator(f"#scenes button[data-scene='{sid}']").count() == 1
            # accepted: removed, and the page shows the site without it
            page.once("dialog", lambda d: d.accept())
            button.click()
            page.wait_for_selector(f"body[data-scene-removed='{sid}']")
            with db.session(readonly=True) as s:
                assert sid not in [sc.id for sc in repo.list_scenes(s, ids["site"])]
                assert repo.list_alerts(s, ids["site"]) == []  # unacknowledged: deleted
            assert page.locator(f"#scenes button[data-scene='{sid}']").count() == 0
            assert page.locator("#scenes button.scene").count() == len(ids["scene_ids"]) - 1
            said = page.locator("#scene-removed").text_content() or ""
            assert f"Removed the image of 2023-10-05 (scene {sid})" in said
            assert "1 alert citing it" in said and "analyze" in said
            assert page.locator(".alert").count() == 0
            # the next image is selected, with its own button
            assert page.locator("#scenes button.scene.active").get_attribute("data-scene") == str(
                ids["scene_ids"][5]
            )
            # an image removed meanwhile (another analyst, the CLI): the API's refusal,
            # in its words, beside the button; nothing else removed
            with db.session() as s:
                repo.remove_scenes(s, [other])
            page.click(f"#scenes button[data-scene='{other}']")
            page.wait_for_selector("#scene-remove:has-text('2023-07-03')")
            page.once("dialog", lambda d: d.accept())
            page.click("#scene-remove")
            page.wait_for_selector(f"body[data-scene-remove-failed='{other}']")
            msg = page.locator("#scene-remove-msg").text_content() or ""
            assert f"Not removed: no scene with id {other}" in msg
            assert "/api/sites/SITE/scenes" in msg and "railwatch scene list" not in msg
            with db.session(readonly=True) as s:
                assert len(repo.list_scenes(s, ids["site"])) == len(ids["scene_ids"]) - 2
            assert errors == []
    finally:
        db.dispose()


@pytest.mark.slow
@pytest.mark.services
def test_a_read_only_dashboard_has_no_remove_button(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("RAILWATCH_API_TOKEN", raising=False)  # no token: read-only
    pytest.importorskip("fastapi")
    pytest.importorskip("uvicorn")
    from helpers import chromium, serve_db
    from web_db import populate

    db = Database(f"sqlite:///{tmp_path / 'ro.db'}")
    ids = populate(db, tmp_path / "img")
    try:
        with serve_db(db, tmp_path / "cache") as url, chromium() as browser:
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            page.set_default_timeout(60_000)
            page.goto(f"{url}/sites/{ids['site']}")
            page.wait_for_selector("body[data-ready='1']")
            assert page.locator("#scenes button.scene.active").count() == 1
            assert page.locator("#scene-remove").count() == 0
    finally:
        db.dispose()
