"""A closed scheduler port is called closed even when Dask's own retries run out of time.

The landing CI of session 42 (a loaded 2-core machine) read a port nothing listened on
as "accepted the connection but did not answer as a Dask scheduler": Dask's retries on
the refused port outlasted the wait, and a timeout was taken for a silent service."""

from __future__ import annotations

import socket
from typing import Any

import pytest

distributed = pytest.importorskip("distributed")


def _slow_connect(*args: Any, **kwargs: Any) -> Any:
    async def never() -> None:
        raise TimeoutError  # as when the retries outlast asyncio.wait_for

    return never()


def test_a_refused_port_whose_retries_time_out_is_called_closed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from railwatch.distributed import ClusterError, ClusterSpec, open_client

    monkeypatch.setattr(distributed.comm, "connect", _slow_connect)
    with socket.socket() as sock:  # bound, never listening: connections are refused
        sock.bind(("127.0.0.1", 0))
        address = f"tcp://127.0.0.1:{sock.getsockname()[1]}"
        with (
            pytest.raises(ClusterError) as caught,
            open_client(ClusterSpec(scheduler=address, connect_timeout=1.0)),
        ):
            pass
    message = str(caught.value)
    assert "cannot reach the Dask scheduler" in message, message
    assert "nothing listens on port" in message and "did not answer" not in message


def test_a_listening_port_that_never_answers_still_says_so(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from railwatch.distributed import ClusterError, ClusterSpec, open_client

    monkeypatch.setattr(distributed.comm, "connect", _slow_connect)
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        address = f"tcp://127.0.0.1:{server.getsockname()[1]}"
        with (
            pytest.raises(ClusterError) as caught,
            open_client(ClusterSpec(scheduler=address, connect_timeout=1.0)),
        ):
            pass
    assert "did not answer as a Dask scheduler within 1 s" in str(caught.value)
