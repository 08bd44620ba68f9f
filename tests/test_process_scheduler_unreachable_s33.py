"""``process --scheduler`` where no Dask scheduler answers: what the error says (session 33).

Before 2026-12-05 every address where the connection failed read the same, *cannot reach
the Dask scheduler at tcp://… (OSError: Timed out trying to connect to tcp://… after
20 s)*: a port where nothing listens (connection refused), a host name that does not
exist (the docs' ``tcp://scheduler:8786`` given as it is) and a host that never answers.
A port where another service answers at once (a proxy's or web server's ``HTTP/1.1 400``,
an SSH banner) read *cannot reach the Dask scheduler … (MemoryError: Unable to allocate
3.07 EiB …)*: Dask had read those bytes as a frame length. Now each says what happened.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

distributed = pytest.importorskip("distributed")


def _open_error(address: str, connect_timeout: float = 1.0) -> BaseException:
    """The error of opening a client on ``address`` (1 s to connect unless told)."""
    from railwatch.distributed import ClusterSpec, open_client

    try:
        with open_client(ClusterSpec(scheduler=address, connect_timeout=connect_timeout)):
            pass
    except Exception as err:
        return err
    raise AssertionError(f"a client opened on {address}")


def test_a_host_name_that_does_not_exist_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    from railwatch.distributed import ClusterError

    real = socket.getaddrinfo

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host == "scheduler":  # as a resolver answers for a name it does not know
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    err = _open_error("tcp://scheduler:8786")
    assert isinstance(err, ClusterError), repr(err)
    message = str(err)
    assert "cannot reach the Dask scheduler at tcp://scheduler:8786" in message
    assert "the host name 'scheduler' is not known here" in message
    assert "Timed out" not in message and "\n" not in message


def test_a_port_where_nothing_listens_says_so() -> None:
    from railwatch.distributed import ClusterError

    # a port nothing listens on, held bound (never listening) while it is tried: closed
    # first, another test's server could take it in between (session 43)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        err = _open_error(f"tcp://127.0.0.1:{port}")
    assert isinstance(err, ClusterError), repr(err)
    message = str(err)
    assert f"nothing listens on port {port} of 127.0.0.1" in message
    assert "connection was refused" in message and "`dask scheduler`" in message


@pytest.fixture
def answering_port() -> Iterator[int]:
    """A port where a non-Dask service answers at once and closes (as an HTTP proxy
    answers bytes it cannot parse)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                return
            with conn:
                conn.settimeout(2)
                try:
                    conn.recv(1024)
                    conn.sendall(b"HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\n")
                except OSError:
                    pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield server.getsockname()[1]
    finally:
        stop.set()
        server.close()


def test_another_service_answering_is_not_called_out_of_memory(answering_port: int) -> None:
    from railwatch.distributed import ClusterError

    address = f"tcp://127.0.0.1:{answering_port}"
    # it answers at once: a long timeout costs nothing, and a loaded machine's slow
    # connection is not taken for a silent port (session 43)
    err = _open_error(address, connect_timeout=60)
    assert isinstance(err, ClusterError), repr(err)
    message = str(err)
    assert f"{address} accepted the connection but answered with something that is not " in (
        message
    )
    assert "Dask's protocol" in message and "tcp://HOST:PORT" in message
    assert not message.startswith("cannot reach") and "\n" not in message


def test_cli_says_it_in_one_line_and_touches_no_scene(
    tmp_path: Path, answering_port: int, capsys: pytest.CaptureFixture[str]
) -> None:
    from railwatch.cli.main import main
    from railwatch.storage.models import Scene
    from test_distributed import setup_db

    db = f"sqlite:///{tmp_path / 'rw.db'}"
    database = setup_db(db, tmp_path, 2)
    capsys.readouterr()
    address = f"tcp://127.0.0.1:{answering_port}"
    code = main(["--db", db, "process", "yard", "--scheduler", address])
    err = capsys.readouterr().err
    assert code == 1, err
    assert "not Dask's protocol" in " ".join(err.split()), err
    assert "internal error" not in err and "Traceback" not in err
    with database.session(readonly=True) as s:
        assert s.scalars(select(Scene.status)).all() == ["ingested", "ingested"]
        assert s.scalar(select(func.count()).select_from(Scene)) == 2
    database.dispose()
