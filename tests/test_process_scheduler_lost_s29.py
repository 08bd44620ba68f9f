"""A Dask scheduler that goes away in the middle of ``process --scheduler`` (session 29).

When the scheduler stopped (a restart, a crash, the network cut), the client's futures
were cancelled, and the run recorded every scene not yet recorded as failed with the
reason ``task failed: NoneType: None``: no fault of theirs, and a reason that said
nothing. Now the run stops with one line saying that the connection was lost and to run
again; the scenes recorded are kept and the others are left as they were, so the next
run does exactly those."""

from __future__ import annotations

import re
import threading
from pathlib import Path

import pytest

from test_distributed import check_consistent, setup_db
from test_distributed import fake_module as fake_module  # the fixture

distributed = pytest.importorskip("distributed")


def test_a_scheduler_gone_mid_run_fails_no_scene_and_a_rerun_finishes(
    tmp_path: Path, tmp_db_url: str, fake_module: Path
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

    try:
        with pytest.raises(ClusterError) as err:
            process_sites_distributed(
                db, ["yard"], detector=det, on_progress=on_progress,
                cluster=ClusterSpec(scheduler=address, no_workers_timeout=20),
            )  # fmt: skip
    finally:
        for thread in closing:
            thread.join(30)
        cluster.close()
    message = str(err.value)
    assert f"lost its connection to the Dask scheduler at {address}" in message, message
    assert "run process again" in message and "\n" not in message
    found = re.search(
        r"(\d+) scenes? (?:was|were) recorded before this, the (\d+) others? w", message
    )
    assert found is not None, message
    recorded, left = int(found.group(1)), int(found.group(2))
    assert recorded + left == 6 and left > 0
    statuses = check_consistent(db, expect_all_processed=False)
    assert statuses == {"processed": recorded, "ingested": left}  # none marked failed
    # the next run does exactly the scenes left
    with (
        distributed.LocalCluster(n_workers=1, processes=False, dashboard_address=None) as again,
        distributed.Client(again) as client,
    ):
        [summary] = process_sites_distributed(db, ["yard"], detector=det, client=client)
    assert len(summary.processed) == left and summary.skipped == recorded
    assert not summary.failed
    check_consistent(db)
    db.dispose()
