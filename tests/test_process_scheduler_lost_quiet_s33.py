"""A Dask scheduler gone mid-run stops ``process --scheduler`` with one line (session 33).

The run stopped with railwatch's one line (*the Dask cluster cancelled the task of scene
N … lost its connection to the Dask scheduler …*, session 29), but above it Dask's client
logged ``ERROR distributed.client`` with a 30-line traceback (its reconnection attempts,
``ConnectionRefusedError`` then ``CancelledError``) when the run closed it: an operator
read a crash above the line that says what happened and what to do. The client is now
closed with Dask's logging of that reconnection silenced; the error itself is unchanged.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import pytest

from test_distributed import fake_module as fake_module  # the fixture
from test_distributed import setup_db

distributed = pytest.importorskip("distributed")


def test_a_scheduler_gone_mid_run_logs_no_dask_traceback(
    tmp_path: Path, tmp_db_url: str, fake_module: Path, caplog: pytest.LogCaptureFixture
) -> None:
    import rw_fake_rects

    from railwatch.distributed import ClusterError, ClusterSpec, process_sites_distributed

    db = setup_db(tmp_db_url, tmp_path, 6)
    det = rw_fake_rects.BrightRects(delay=0.3)  # one scene at a time on one thread
    cluster = distributed.LocalCluster(
        n_workers=1, threads_per_worker=1, processes=False, protocol="tcp",
        dashboard_address=None,
    )  # fmt: skip
    address = cluster.scheduler_address
    closing: list[threading.Thread] = []

    def on_progress(done: int, _total: int, _site: str) -> None:
        if done == 1 and not closing:  # the scheduler stops after the first scene
            closing.append(threading.Thread(target=cluster.close))
            closing[0].start()

    caplog.set_level(logging.ERROR, logger="distributed")
    try:
        with pytest.raises(ClusterError, match="lost its connection to the Dask scheduler"):
            process_sites_distributed(
                db, ["yard"], detector=det, on_progress=on_progress,
                cluster=ClusterSpec(scheduler=address, no_workers_timeout=20),
            )  # fmt: skip
        logged = [
            f"{r.name}: {r.getMessage()} {r.exc_text or ''}"
            for r in caplog.records
            if r.name.startswith("distributed") and r.levelno >= logging.ERROR
        ]
    finally:
        for thread in closing:
            thread.join(30)
        cluster.close()
        db.dispose()
    assert logged == [], logged
