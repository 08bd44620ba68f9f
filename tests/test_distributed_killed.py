"""A scene whose task kills its worker (out of memory, a segfault in GDAL) on a real
local Dask cluster of worker processes (nanny).

Dask's scheduler blames every task that was on a worker when it died, not only the one
that killed it, and fails each with ``KilledWorker`` after
``distributed.scheduler.allowed-failures`` deaths: innocent scenes were recorded as
failed. Now each scene failed so is tried again alone; only the one that really kills
its worker fails, with a reason that says so."""

from __future__ import annotations

import faulthandler
import sys
import textwrap
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest

from test_distributed import check_consistent, setup_db
from test_distributed import fake_module as fake_module  # the fixture

distributed = pytest.importorskip("distributed")
dask = pytest.importorskip("dask")

T = TypeVar("T")

#: A run must end within this (a hang fails the test instead of blocking the suite).
DEADLINE_S = 150

KILLER_SOURCE = textwrap.dedent(
    '''
    import os
    from rw_fake_rects import BrightRects

    class KillsOn(BrightRects):
        """Kills its worker process (as the OOM killer would) on scenes with ``cars``
        cars, every time; each attempt appends a line to ``attempts``."""

        def __init__(self, cars, attempts):
            super().__init__()
            self.cars = cars
            self.attempts = attempts

        def detect(self, image, gsd, valid=None):
            out = super().detect(image, gsd, valid)
            if len(out) == self.cars:
                with open(self.attempts, "a") as f:
                    f.write(f"{os.getpid()}\\n")
                os._exit(1)
            return out
    '''
)


def _bounded(call: Callable[[], T]) -> T:
    """``call()`` in a thread, failed (with every thread's stack) if it outlasts
    :data:`DEADLINE_S`."""
    result: list[T] = []
    error: list[BaseException] = []

    def target() -> None:
        try:
            result.append(call())
        except BaseException as err:  # handed to the test's thread
            error.append(err)

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(DEADLINE_S)
    if thread.is_alive():
        faulthandler.dump_traceback(file=sys.stderr, all_threads=True)
        pytest.fail(f"the distributed run did not end within {DEADLINE_S} s (hung)")
    if error:
        raise error[0]
    return result[0]


@pytest.fixture
def killer(fake_module: Path, tmp_path: Path) -> Any:
    (fake_module / "rw_fake_killer.py").write_text(KILLER_SOURCE)
    import rw_fake_killer

    return rw_fake_killer.KillsOn(cars=1, attempts=str(tmp_path / "attempts.txt"))


@pytest.mark.slow
@pytest.mark.parametrize("allowed_failures", [0, 1])
def test_only_the_scene_that_kills_its_worker_fails(
    tmp_path: Path, tmp_db_url: str, killer: Any, allowed_failures: int
) -> None:
    """Scene 0 (1 car) kills its worker each time it runs. With every task placed on the
    one worker at once (``worker-saturation: inf``), each death blamed the scenes
    queued behind it too, and they were recorded as failed with ``KilledWorker``; and
    a local cluster whose nanny was closed after a death waited for ever."""
    from railwatch.distributed import ClusterSpec, TaskDone, process_sites_distributed
    from railwatch.pipeline import ProcessSummary

    db = setup_db(tmp_db_url, tmp_path, 4)  # scenes with 1, 2, 3 and 4 cars
    progress: list[tuple[int, int]] = []
    tasks: list[TaskDone] = []
    config = {
        "distributed.scheduler.allowed-failures": allowed_failures,
        "distributed.scheduler.worker-saturation": float("inf"),
        # Dask's LocalCluster closed a nanny for good when its worker was not back 15 s
        # after a death (a slow machine, deaths in a row): with 0 s, at the first death
        "distributed.deploy.lost-worker-timeout": "0s",
    }

    def run() -> list[ProcessSummary]:
        return process_sites_distributed(
            db, ["yard"], detector=killer, cluster=ClusterSpec(workers=1),
            on_progress=lambda d, t, _s: progress.append((d, t)), on_task=tasks.append,
        )  # fmt: skip

    with dask.config.set(config):
        [summary] = _bounded(run)
    deaths = Path(killer.attempts).read_text().split()
    assert len(deaths) >= allowed_failures + 1  # its worker really died, each time
    assert len(summary.processed) == 3, summary.failed  # every innocent scene counted
    [(failed_id, reason)] = summary.failed
    assert "the Dask worker process died while processing this scene" in reason
    assert "out of memory" in reason and "--workers" in reason, reason
    assert "\n" not in reason
    assert check_consistent(db, expect_all_processed=False) == {"processed": 3, "failed": 1}
    # the progress bars: every scene once, the total never changes
    assert progress == [(k, 4) for k in range(5)]
    assert sorted(t.scene_id for t in tasks) == sorted([*summary.processed, failed_id])
    assert [t.done for t in tasks] == [1, 2, 3, 4] and {t.total for t in tasks} == {4}
    db.dispose()


@pytest.mark.slow
def test_a_cluster_left_without_workers_stops_the_run_with_one_line(
    tmp_path: Path, tmp_db_url: str, killer: Any
) -> None:
    """On a cluster railwatch did not start, the killed worker's nanny is closed (as
    Dask's LocalCluster does when the worker is not back in time): no worker is left,
    and the run waited for ever. Now it stops, and records no scene as failed."""
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
                db, ["yard"], detector=killer, client=client,
                cluster=ClusterSpec(no_workers_timeout=2),
            )  # fmt: skip

        with pytest.raises(ClusterError) as err:
            _bounded(run)
    message = str(err.value)
    assert "has had no workers for 2 s" in message and "start workers" in message, message
    assert "others were left as they were" in message and "\n" not in message
    assert Path(killer.attempts).read_text()  # the worker really died
    statuses = check_consistent(db, expect_all_processed=False)
    assert set(statuses) <= {"processed", "ingested"}, statuses  # none marked failed
    db.dispose()


@pytest.mark.slow
def test_a_result_lost_with_its_worker_is_computed_again_not_failed(
    tmp_path: Path, tmp_db_url: str, fake_module: Path
) -> None:
    """Scene 1 finishes on the worker; before the client fetches its result, the worker
    dies processing scene 2 (3 cars, the killer): the result is lost and Dask computes
    it again. The client recorded it as failed (``task failed: NoneType: None``) or
    waited on it for ever; now it waits for the new result and counts the scene."""
    (fake_module / "rw_fake_killer.py").write_text(KILLER_SOURCE)
    import rw_fake_killer

    from railwatch.distributed import process_sites_distributed

    killer = rw_fake_killer.KillsOn(cars=3, attempts=str(tmp_path / "attempts.txt"))
    db = setup_db(tmp_db_url, tmp_path, 4)  # scenes with 1, 2, 3 and 4 cars
    config = {
        "distributed.scheduler.allowed-failures": 0,
        "distributed.scheduler.worker-saturation": float("inf"),
        "distributed.deploy.lost-worker-timeout": "10 minutes",
    }
    with (
        dask.config.set(config),
        distributed.LocalCluster(
            n_workers=1, processes=True, dashboard_address=None, silence_logs=50
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        [first_worker] = client.nthreads()

        def hold_the_client(done: int, _total: int, _site: str) -> None:
            """After the first scene is recorded, wait until the worker holding the next
            finished scene has died (the scheduler dropped it)."""
            if done != 1:
                return
            for _ in range(1200):  # at most about a minute
                if first_worker not in client.nthreads():
                    return
                threading.Event().wait(0.05)

        def run() -> list[Any]:
            return process_sites_distributed(
                db, ["yard"], detector=killer, client=client, on_progress=hold_the_client
            )

        [summary] = _bounded(run)
    assert Path(killer.attempts).read_text()  # the worker really died
    assert len(summary.failed) == 1, summary.failed  # not the scene whose result was lost
    [(_, reason)] = summary.failed
    assert "died while processing this scene" in reason, reason
    assert len(summary.processed) == 3
    assert check_consistent(db, expect_all_processed=False) == {"processed": 3, "failed": 1}
    db.dispose()
