"""The dashboard declares a failed image unusable (2026-12-06, session 37): its review box
was empty for every image that is not processed and usable, so a file bad at its source,
which fails every run, could be declared unusable only with the CLI or the API. A failed
image now has the form (what happened, why declare, the reason), a declared one its
reason and the button that brings it back, and brought back it is pending, with the
form again. A read-only server says the form needs the API token."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from railwatch.storage import Database, repo

REASON = "file corrupt at its source"


@pytest.mark.slow
@pytest.mark.services
def test_the_dashboard_declares_a_failed_image_unusable_and_brings_it_back(
    tmp_path: Path,
) -> None:
    pytest.importorskip("fastapi")
    pytest.importorskip("uvicorn")
    from helpers import chromium, serve_db
    from web_db import populate

    token = "declare-failed-token"
    db = Database(f"sqlite:///{tmp_path / 'e2e.db'}")
    ids = populate(db, tmp_path / "img")
    sid = ids["scene_ids"][4]  # processed, usable; then failed
    with db.session() as s:
        repo.mark_scene_failed(s, sid, "cannot read the file: truncated")
    try:
        with serve_db(db, tmp_path / "cache", token=token) as url, chromium() as browser:
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            page.set_default_timeout(60_000)
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(f"{url}/sites/{ids['site']}#{sid}")
            page.wait_for_selector("body[data-ready='1']")
            # what happened to the image, and why one would declare it
            page.wait_for_selector(".review-not-counted")
            said = page.locator(".review-not-counted").text_content() or ""
            assert "Processing failed on this image" in said and "truncated" in said
            page.fill("#token", token)
            page.click("#signin button[type=submit]")
            page.wait_for_selector("#auth[data-signed-in='1']")
            page.wait_for_selector("#review-declare")
            page.click("#review-declare")  # no reason: asked for one, nothing sent
            page.wait_for_selector(".review-unusable-msg:has-text('say why the image is unusable')")
            with db.session(readonly=True) as s:
                assert repo.get_scene(s, sid).status == "failed"
            page.fill("#review-unusable", REASON)
            page.click("#review-declare")
            page.wait_for_selector(f"body[data-review-changed='{sid}:unusable']")
            shown = page.locator(".review-unusable").text_content() or ""
            assert "Declared unusable" in shown and REASON in shown
            assert page.locator("#review-remove").is_visible()
            with db.session(readonly=True) as s:
                scene = repo.get_scene(s, sid)
                assert scene.status == "unusable"
                assert list(scene.reasons) == [f"unusable by analyst review: {REASON}"]
            info = page.locator("#scene-info").text_content() or ""
            assert f"unusable by analyst review: {REASON}" in info
            page.click("#review-remove")  # brought back: pending, processed by the next run
            page.wait_for_selector(f"body[data-review-changed='{sid}:none']")
            page.wait_for_selector(".review-not-counted:has-text('not processed yet')")
            assert page.locator("#review-declare").is_visible()
            with db.session(readonly=True) as s:
                assert repo.get_scene(s, sid).status == "ingested"
                assert repo.get_scene_review(s, sid) is None
            assert errors == []
    finally:
        db.dispose()


@pytest.mark.slow
@pytest.mark.services
def test_a_read_only_dashboard_says_declaring_needs_the_token(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("RAILWATCH_API_TOKEN", raising=False)  # no token: read-only
    pytest.importorskip("fastapi")
    pytest.importorskip("uvicorn")
    from helpers import chromium, serve_db
    from web_db import populate

    db = Database(f"sqlite:///{tmp_path / 'ro.db'}")
    ids = populate(db, tmp_path / "img")
    sid = ids["scene_ids"][4]
    with db.session() as s:
        repo.mark_scene_failed(s, sid, "cannot read the file: truncated")
    try:
        with serve_db(db, tmp_path / "cache") as url, chromium() as browser:
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            page.set_default_timeout(60_000)
            errors: list[Any] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(f"{url}/sites/{ids['site']}#{sid}")
            page.wait_for_selector("body[data-ready='1']")
            page.wait_for_selector(".review-off:has-text('needs the API token')")
            assert page.locator("#review-declare").count() == 0
            assert "Processing failed" in (page.locator(".review-not-counted").text_content() or "")
            assert errors == []
    finally:
        db.dispose()
