"""What the product says must not depend on how loaded the machine is (2026-12-06,
session 43: the landing CI of session 42 and an audit of the tests that a loaded 2-core
CI machine could fail by timing).

Where Dask's own connection to a scheduler's port runs out of time (its retries on a
refused port outlast the wait, or its event loop starves), one plain TCP connection
decides what is said:

- a port nothing listens on read "accepted the connection but did not answer as a Dask
  scheduler" (the landing CI of session 42): it is "nothing listens";
- a port that accepts connections and never answers as Dask does read "nothing
  answered on port N of HOST ... (a wrong host, a firewall ...)": it is "accepted the
  connection but did not answer", as it says on a quiet machine."""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import Any

import pytest

distributed = pytest.importorskip("distributed")


def _wait_ran_out(*args: Any, **kwargs: Any) -> Any:
    async def never() -> None:
        raise TimeoutError  # as when the retries outlast asyncio.wait_for

    return never()


def _connect_ran_out_of_time(addr: str, *args: Any, **kwargs: Any) -> Any:
    async def timed_out() -> None:  # as distributed.comm.core.connect ends then
        raise OSError(f"Timed out trying to connect to {addr} after 1 s")

    return timed_out()


def _refusal(
    monkeypatch: pytest.MonkeyPatch, connect: Callable[..., Any], *, listening: bool
) -> tuple[int, str]:
    """The port of a local socket, listening (accepts connections, never answers) or
    only bound (connections refused), and the error opening a client on it gives when
    Dask's connection is ``connect``."""
    from railwatch.distributed import ClusterError, ClusterSpec, open_client

    monkeypatch.setattr(distributed.comm, "connect", connect)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        if listening:
            sock.listen(8)
        port = sock.getsockname()[1]
        with (
            pytest.raises(ClusterError) as caught,
            open_client(ClusterSpec(scheduler=f"tcp://127.0.0.1:{port}", connect_timeout=1.0)),
        ):
            pass
    return port, str(caught.value)


def test_a_refused_port_whose_retries_time_out_is_called_closed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _, message = _refusal(monkeypatch, _wait_ran_out, listening=False)
    assert "cannot reach the Dask scheduler" in message, message
    assert "nothing listens on port" in message and "did not answer" not in message


def test_a_listening_port_that_never_answers_still_says_so(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _, message = _refusal(monkeypatch, _wait_ran_out, listening=True)
    assert "did not answer as a Dask scheduler within 1 s" in message, message


def test_a_listening_port_whose_connection_attempts_ran_out_of_time_did_not_answer(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    port, message = _refusal(monkeypatch, _connect_ran_out_of_time, listening=True)
    address = f"tcp://127.0.0.1:{port}"
    assert f"{address} accepted the connection but did not answer as a Dask scheduler" in (
        message
    ), message
    assert "within 1 s" in message and "nothing answered" not in message


def test_a_closed_port_whose_connection_attempts_ran_out_of_time_is_closed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    port, message = _refusal(monkeypatch, _connect_ran_out_of_time, listening=False)
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
