"""RAILWATCH_API_TOKEN is read without the spaces and line ends around it, and a blank
one is no token.

A token set with a trailing space or newline (a ``.env`` or Docker env file) could never
be matched: HTTP drops the spaces around a header's value and the server strips the
bearer token it is sent, so every write was refused with "the bearer token is wrong". A
blank token was a token nobody could give, on a server that said writes need it."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr

from railwatch.settings import Settings

TOKEN = "RAILWATCH_API_TOKEN"
SITE = {
    "name": "yard",
    "geometry": {
        "type": "Polygon",
        "coordinates": [[[130.6, 42.28], [130.63, 42.28], [130.63, 42.3], [130.6, 42.28]]],
    },
}


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("RAILWATCH_USABLE_THRESHOLD", "RAILWATCH_REQUIRE_SERVICES", TOKEN):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("RAILWATCH_DB", f"sqlite:///{tmp_path / 'web.db'}")
    monkeypatch.setenv("RAILWATCH_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.chdir(tmp_path)


def _post_site(bearer: str) -> tuple[int, str]:
    pytest.importorskip("fastapi")
    pytest.importorskip("httpx")
    from fastapi.testclient import TestClient

    from railwatch.web.app import create_app

    app = create_app()
    try:
        with TestClient(app) as client:
            r = client.post("/api/sites", json=SITE, headers={"Authorization": bearer})
            return r.status_code, r.text
    finally:
        app.state.db.dispose()


@pytest.mark.parametrize("value", ["s3cret \n", "  s3cret", "s3cret\t"])
def test_a_token_with_spaces_around_it_is_the_token(
    value: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(TOKEN, value)
    status, text = _post_site("Bearer s3cret")
    assert status == 201, text


@pytest.mark.parametrize("value", ["", "   ", "\n"])
def test_a_blank_token_is_no_token(value: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(TOKEN, value)
    assert Settings().api_token is None
    status, text = _post_site("Bearer anything")
    assert status == 403 and "writes are disabled" in text


def test_a_token_given_in_code_is_stripped_too() -> None:
    token = Settings(api_token=SecretStr(" t0ken ")).api_token
    assert token is not None and token.get_secret_value() == "t0ken"
    assert Settings(api_token="t0 ken").api_token == SecretStr("t0 ken")  # type: ignore[arg-type]
