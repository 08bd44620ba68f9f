"""Removing a site while a run processes it (another process, or a web job) is refused
at once, and nothing is deleted: before, the scenes were deleted under the run, which
then failed with a misleading "no scene with id N"."""

from __future__ import annotations

from pathlib import Path

import pytest

from railwatch.cli.main import main
from railwatch.pipeline import processing_lock
from railwatch.storage import Database, repo

BBOX = "130.60,42.40,130.61,42.41"


@pytest.fixture()
def url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'rw.db'}"
    assert main(["--db", url, "site", "add", "yard", "--bbox", BBOX]) == 0
    return url


def _sites(url: str) -> list[str]:
    db = Database(url)
    with db.session() as s:
        names = [site.name for site in repo.list_sites(s)]
    db.dispose()
    return names


def test_cli_site_remove_is_refused_while_the_site_is_processed(
    url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    db = Database(url)
    with processing_lock(db, ["yard"]):  # as `railwatch process yard` holds it
        code = main(["--db", url, "site", "remove", "yard", "--yes"])
    err = " ".join(capsys.readouterr().err.split())
    assert code != 0
    assert "cannot be removed while a railwatch run processes it" in err
    assert "wait for it to finish and run again, or stop that run first" in err
    assert _sites(url) == ["yard"]
    assert main(["--db", url, "site", "remove", "yard", "--yes"]) == 0  # once it has ended
    assert _sites(url) == []
    db.dispose()


def test_api_delete_is_a_409_while_another_run_processes_the_site(url: str, tmp_path: Path) -> None:
    pytest.importorskip("fastapi")
    pytest.importorskip("httpx")
    from fastapi.testclient import TestClient
    from pydantic import SecretStr

    from railwatch.settings import Settings
    from railwatch.web.app import create_app

    token = "remove-test-token"
    db = Database(url)
    settings = Settings(db=url, api_token=SecretStr(token), cache_dir=tmp_path / "cache")
    client = TestClient(create_app(settings, db))
    auth = {"Authorization": f"Bearer {token}"}
    with processing_lock(Database(url), ["yard"]):
        r = client.delete("/api/sites/yard", headers=auth)
    assert r.status_code == 409, r.text
    assert "cannot be removed while a railwatch run processes it" in r.json()["detail"]
    assert _sites(url) == ["yard"]
    assert client.delete("/api/sites/yard", headers=auth).status_code == 200
    db.dispose()
