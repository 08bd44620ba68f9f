"""``railwatch serve``: a bad --host or an address that cannot be bound is one clear line
(status 2 for a malformed address, 1 for one that cannot be used now) before uvicorn
starts; before, uvicorn logged 'Name or service not known' and exited with status 3, and
'exa_mple..com' was an internal error (an IDNA UnicodeError, status 70)."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi")
uvicorn = pytest.importorskip("uvicorn")

from railwatch.cli.main import main  # noqa: E402
from railwatch.errors import ConfigError, InputError  # noqa: E402
from railwatch.web.security import check_listen_address  # noqa: E402


@pytest.fixture
def runs(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """uvicorn.run replaced: the calls it got (a server never starts in these tests)."""
    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: calls.append(kw))
    monkeypatch.setenv("RAILWATCH_API_TOKEN", "a-long-random-token-for-the-tests")
    return calls


def serve(capsys: pytest.CaptureFixture[str], tmp_path: Path, *argv: str) -> tuple[int, str]:
    code = main(["--db", f"sqlite:///{tmp_path / 's.db'}", "serve", *argv])
    _, err = capsys.readouterr()
    return code, " ".join(err.split())


@pytest.mark.parametrize(
    ("host", "message"),
    [
        ("999.1.1.1", "--host 999.1.1.1 is not an IPv4 address: it has four numbers of 0-255"),
        ("256.0.0.1", "--host 256.0.0.1 is not an IPv4 address"),
        ("exa_mple..com", "--host 'exa_mple..com' is not an IP address or a host name"),
        ("http://0.0.0.0", "--host 'http://0.0.0.0' is not an IP address or a host name"),
        ("127.0.0.1:8000", "--host '127.0.0.1:8000' is not an IP address or a host name"),
        ("", "--host '' is not an IP address or a host name"),
    ],
)
def test_malformed_host_is_an_input_error(
    runs: list[dict[str, Any]],
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    host: str,
    message: str,
) -> None:
    code, err = serve(capsys, tmp_path, "--host", host)
    assert code == 2, err
    assert err.startswith(f"error: {message}")
    assert "internal error" not in err and runs == []


def test_port_in_use_is_said_before_starting(
    runs: list[dict[str, Any]], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        code, err = serve(capsys, tmp_path, "--port", str(port))
    assert code == 1
    assert f"cannot listen on 127.0.0.1:{port}: the port is already in use" in err
    assert runs == []


def test_address_of_another_machine(
    runs: list[dict[str, Any]], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, err = serve(capsys, tmp_path, "--host", "192.0.2.1")  # TEST-NET-1, never local
    assert code == 1
    assert "192.0.2.1 is not an address of this machine" in err and runs == []


def test_port_out_of_range_is_a_usage_error(
    runs: list[dict[str, Any]], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    for port in ("0", "70000"):
        assert main(["--db", f"sqlite:///{tmp_path / 's.db'}", "serve", "--port", port]) == 2
        assert "Invalid value for '--port'" in capsys.readouterr().err
    with pytest.raises(InputError, match="--port 70000 is not a TCP port: use 1-65535"):
        check_listen_address("127.0.0.1", 70000)
    assert runs == []


def test_good_addresses_start_as_before(
    runs: list[dict[str, Any]], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    with socket.socket() as probe:  # a free port
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    for host in ("127.0.0.1", "localhost", "0.0.0.0"):
        code, err = serve(capsys, tmp_path, "--host", host, "--port", str(port))
        assert code == 0, err
        assert runs[-1]["host"] == host and runs[-1]["port"] == port
    if socket.has_ipv6:
        try:
            check_listen_address("::1", port)
        except ConfigError:
            pytest.skip("no IPv6 loopback here")
        # brackets were passed on to uvicorn, which could not resolve '[::1]' (status 3)
        code, err = serve(capsys, tmp_path, "--host", "[::1]", "--port", str(port))
        assert code == 0, err
        assert runs[-1]["host"] == "::1"
        assert f"http://[::1]:{port}/" in err


def test_a_family_the_machine_lacks_is_skipped_as_uvicorn_does(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """'localhost' resolving to 127.0.0.1 and an IPv6 address the machine does not have
    (IPv6 disabled) still serves on 127.0.0.1, as asyncio's create_server does."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    v4 = (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))
    v6 = (socket.AF_INET6, socket.SOCK_STREAM, 6, "", ("2001:db8::1", port, 0, 0))
    monkeypatch.setattr(socket, "getaddrinfo", lambda *a, **k: [v4, v6])
    assert check_listen_address("localhost", port) == "localhost"
    monkeypatch.setattr(socket, "getaddrinfo", lambda *a, **k: [v6])
    with pytest.raises(ConfigError, match="cannot listen on localhost"):
        check_listen_address("localhost", port)
