"""What the product says must not depend on how loaded the machine is (2026-12-06,
session 43: an audit of the tests that a loaded 2-core CI machine could fail by timing).

A scheduler port that accepts connections and never answers as Dask does read "cannot
reach the Dask scheduler ...: nothing answered on port N of HOST ... (a wrong host, a
firewall or the network in between)" when Dask's own connection attempts ran out of time
before one was made (its event loop starved on a loaded machine; a plain connection to
the port is made at once): the port answers, so it is the port's service that did not
answer as Dask, as it says on a quiet machine."""

from __future__ import annotations

import socket
from typing import Any

import pytest

distributed = pytest.importorskip("distributed")


def _connect_ran_out_of_time(addr: str, *args: Any, **kwargs: Any) -> Any:
    async def timed_out() -> None:  # as distributed.comm.core.connect ends then
        raise OSError(f"Timed out trying to connect to {addr} after 1 s")

    return timed_out()


def test_a_listening_port_whose_connection_attempts_ran_out_of_time_did_not_answer(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from railwatch.distributed import ClusterError, ClusterSpec, open_client

    monkeypatch.setattr(distributed.comm, "connect", _connect_ran_out_of_time)
    with socket.socket() as server:  # accepts connections (the backlog), never answers
        server.bind(("127.0.0.1", 0))
        server.listen(8)
        address = f"tcp://127.0.0.1:{server.getsockname()[1]}"
        with (
            pytest.raises(ClusterError) as caught,
            open_client(ClusterSpec(scheduler=address, connect_timeout=1.0)),
        ):
            pass
    message = str(caught.value)
    assert f"{address} accepted the connection but did not answer as a Dask scheduler" in (
        message
    ), message
    assert "within 1 s" in message and "nothing answered" not in message


def test_a_closed_port_whose_connection_attempts_ran_out_of_time_is_closed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from railwatch.distributed import ClusterError, ClusterSpec, open_client

    monkeypatch.setattr(distributed.comm, "connect", _connect_ran_out_of_time)
    with socket.socket() as sock:  # bound, never listening: connections are refused
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        with (
            pytest.raises(ClusterError) as caught,
            open_client(ClusterSpec(scheduler=f"tcp://127.0.0.1:{port}", connect_timeout=1.0)),
        ):
            pass
    message = str(caught.value)
    assert f"nothing listens on port {port} of 127.0.0.1" in message, message
    assert "did not answer" not in message


def test_a_host_that_never_answers_is_still_said_so(monkeypatch: pytest.MonkeyPatch) -> None:
    """Where the plain connection does not get through either (a host that drops the
    connection attempts), the message is the one of before."""
    import railwatch.distributed as rd

    monkeypatch.setattr(distributed.comm, "connect", _connect_ran_out_of_time)
    monkeypatch.setattr(rd, "_tcp_probe", lambda *_: TimeoutError("timed out"))
    with (
        pytest.raises(rd.ClusterError) as caught,
        rd.open_client(rd.ClusterSpec(scheduler="tcp://127.0.0.1:9", connect_timeout=1.0)),
    ):
        pass
    message = str(caught.value)
    assert "cannot reach the Dask scheduler at tcp://127.0.0.1:9" in message, message
    assert "nothing answered on port 9 of 127.0.0.1 within 1 s" in message
