"""A `process --reprocess` run stopped part-way on a Dask cluster says to give
--reprocess again (session 33): it said "run process again …, it goes on with the scenes
not recorded yet", but a plain run takes every scene this detector already counted as
up to date and redoes none of them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from test_distributed import check_consistent, setup_db
from test_distributed import fake_module as fake_module  # the fixture
from test_distributed_killed import _bounded
from test_distributed_killed import killer as killer  # the fixture

distributed = pytest.importorskip("distributed")
dask = pytest.importorskip("dask")


@pytest.mark.slow
def test_a_reprocess_run_left_without_workers_says_to_reprocess_again(
    tmp_path: Path, tmp_db_url: str, killer: Any
) -> None:
    from railwatch.distributed import ClusterError, ClusterSpec, process_sites_distributed

    db = setup_db(tmp_db_url, tmp_path, 4)
    with (
        dask.config.set({"distributed.deploy.lost-worker-timeout": "0s"}),
        distributed.LocalCluster(
            n_workers=1, processes=True, dashboard_address=None, silence_logs=50
        ) as cluster,
        distributed.Client(cluster) as client,
    ):

        def run() -> object:
            return process_sites_distributed(
                db, ["yard"], detector=killer, client=client, reprocess=True,
                cluster=ClusterSpec(no_workers_timeout=2),
            )  # fmt: skip

        with pytest.raises(ClusterError) as err:
            _bounded(run)
    message = str(err.value)
    assert "has had no workers for 2 s" in message, message
    assert "run process --reprocess again (it starts over" in message, message
    assert "it goes on with the scenes not recorded yet" not in message
    statuses = check_consistent(db, expect_all_processed=False)
    assert set(statuses) <= {"processed", "ingested"}, statuses
    db.dispose()
