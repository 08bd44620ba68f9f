"""``process --scheduler`` with a wrong address (session 29).

- An address Dask cannot parse (no port, a port that is not a number, the dashboard's
  ``http://`` URL) was Dask's ValueError: ``internal error: ValueError: missing port
  number in address '127.0.0.1'`` (status 70), after the sites were locked and their
  scenes listed. Now it is refused when the options are read, in one line.
- A port that accepts the connection and never answers as a Dask scheduler (the
  dashboard's HTTP port, another service, a silent proxy) held ``process`` for ever:
  ``distributed.Client``'s timeout bounds the connection, not Dask's handshake. Now the
  run stops after ``ClusterSpec.connect_timeout`` (20 s) with one line.
"""

from __future__ import annotations

import http.server
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from railwatch.errors import ConfigError

distributed = pytest.importorskip("distributed")


@pytest.mark.parametrize(
    ("address", "says"),
    [
        ("tcp://127.0.0.1", "does not end in HOST:PORT"),
        ("tcp://127.0.0.1:abc", "does not end in HOST:PORT"),
        ("tcp://sched:8786/", "does not end in HOST:PORT"),
        ("http://127.0.0.1:8787", "is a web address"),
        ("grpc://sched:8786", "which Dask does not know"),
    ],
)
def test_an_address_dask_cannot_read_is_refused_with_the_options(address: str, says: str) -> None:
    from railwatch.distributed import ClusterSpec

    with pytest.raises(ConfigError, match="tcp://HOST:PORT") as err:
        ClusterSpec(scheduler=address)
    assert says in str(err.value) and address in str(err.value)


@pytest.mark.parametrize("address", ["tcp://sched:8786", "tls://[::1]:8786", "TCP://a.b.c:1"])
def test_addresses_dask_reads_are_taken(address: str) -> None:
    from railwatch.distributed import ClusterSpec

    assert ClusterSpec(scheduler=address).scheduler == address


def test_cli_bad_address_is_one_line_and_touches_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from railwatch.cli.main import main
    from test_distributed import setup_db

    db = f"sqlite:///{tmp_path / 'rw.db'}"
    setup_db(db, tmp_path, 1).dispose()  # a scene to run: Dask was reached only then
    capsys.readouterr()
    code = main(["--db", db, "process", "yard", "--scheduler", "tcp://127.0.0.1"])
    err = capsys.readouterr().err
    assert code == 2, err  # a bad option value (session 46: was 1, a settings problem)
    assert "internal error" not in err and "ValueError" not in err
    assert "does not end in HOST:PORT" in err
    assert not (tmp_path / "rw.db.locks").exists()  # refused before the site was held


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts connections (the kernel's backlog) and never answers."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        yield sock.getsockname()[1]


@pytest.fixture
def http_port() -> Iterator[int]:
    """An HTTP server (as Dask's dashboard is): it answers Dask's handshake with a 400."""

    class Quiet(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


def _open_within(
    address: str, seconds: float, connect_timeout: float = 1.0
) -> BaseException | None:
    """Try to open a client on ``address`` (``connect_timeout`` s to answer); the error,
    or None if it connected. Fails the test when the attempt has not ended after
    ``seconds``."""
    from railwatch.distributed import ClusterSpec, open_client

    outcome: list[BaseException | None] = []

    def attempt() -> None:
        try:
            with open_client(ClusterSpec(scheduler=address, connect_timeout=connect_timeout)):
                outcome.append(None)
        except BaseException as err:
            outcome.append(err)

    thread = threading.Thread(target=attempt, daemon=True)
    thread.start()
    thread.join(seconds)
    assert outcome, f"connecting to {address} still hangs after {seconds} s"
    return outcome[0]


@pytest.mark.parametrize("kind", ["silent", "http"])
def test_a_port_that_never_answers_as_dask_stops_the_run(
    kind: str, request: pytest.FixtureRequest
) -> None:
    from railwatch.distributed import ClusterError

    port = request.getfixturevalue(f"{kind}_port")
    address = f"tcp://127.0.0.1:{port}"
    err = _open_within(address, 60)  # fails the test on a hang; the check ends in ~3 s
    assert isinstance(err, ClusterError), repr(err)
    message = str(err)
    assert "did not answer as a Dask scheduler within 1 s" in message
    assert address in message and "tcp://HOST:PORT" in message and "\n" not in message


def test_a_closed_port_says_it_cannot_be_reached() -> None:
    from railwatch.distributed import ClusterError

    # a port nothing listens on, held bound (never listening) while it is tried: closed
    # first, another test's server could take it in between (the fresh-clone CI of
    # session 38 found one there: "accepted the connection but did not answer")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        err = _open_within(f"tcp://127.0.0.1:{port}", 60)
    assert isinstance(err, ClusterError), repr(err)
    assert "cannot reach the Dask scheduler" in str(err) and "dask scheduler" in str(err)


def test_a_real_scheduler_over_tcp_still_connects() -> None:
    with distributed.LocalCluster(
        n_workers=1, processes=False, protocol="tcp", dashboard_address=None
    ) as cluster:
        assert cluster.scheduler_address.startswith("tcp://")
        # a scheduler that answers: a long timeout costs nothing, and 1 s was the whole
        # client's start on a loaded machine (session 43)
        assert _open_within(cluster.scheduler_address, 120, connect_timeout=60) is None
