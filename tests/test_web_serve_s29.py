"""``railwatch serve`` on a loopback address other than 127.0.0.1 (session 29): it
answers requests for the address it listens on and printed."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("httpx")
uvicorn = pytest.importorskip("uvicorn")

from fastapi.testclient import TestClient  # noqa: E402

from railwatch.cli.main import main  # noqa: E402


def _can_bind(address: str) -> bool:
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind((address, 0))
    except OSError:
        return False
    return True


@pytest.mark.skipif(not _can_bind("127.0.0.2"), reason="127.0.0.2 is not a local address here")
def test_serve_on_another_loopback_address_answers_requests_for_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Every request to http://127.0.0.2:PORT/, the address serve printed, was a 400
    "invalid Host header": the DNS-rebinding check knew only 127.0.0.1, localhost and
    [::1]."""
    apps: list[Any] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: apps.append((app, kw)))
    monkeypatch.delenv("RAILWATCH_API_TOKEN", raising=False)
    db = f"sqlite:///{tmp_path / 's29.db'}"
    assert main(["--db", db, "serve", "--host", "127.0.0.2", "--port", "8123"]) == 0
    assert "http://127.0.0.2:8123/" in " ".join(capsys.readouterr().err.split())
    ((app, kw),) = apps
    assert kw["host"] == "127.0.0.2"
    client = TestClient(app, base_url="http://127.0.0.2:8123")
    assert client.get("/api/sites").status_code == 200
    assert client.get("/").status_code == 200
    # the usual names still, and still nothing else (DNS rebinding)
    assert client.get("/api/sites", headers={"Host": "localhost:8123"}).status_code == 200
    refused = client.get("/api/sites", headers={"Host": "evil.example:8123"})
    assert refused.status_code == 400
    assert "127.0.0.2" in refused.json()["detail"]


def test_loopback_hosts_add_the_listen_address_once() -> None:
    from railwatch.cli.serve import loopback_hosts

    usual = ["127.0.0.1", "localhost", "[::1]", "::1"]
    assert loopback_hosts("127.0.0.1") == usual
    assert loopback_hosts("::1") == usual
    assert loopback_hosts("127.0.0.2") == [*usual, "127.0.0.2"]
    assert loopback_hosts("0:0:0:0:0:0:0:1") == [*usual, "[0:0:0:0:0:0:0:1]"]
