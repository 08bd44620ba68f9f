"""QA (session 22): distributed runs that went wrong for reasons that are not a scene's.

- Workers that cannot load the run's detector (its extra, weights or railwatch itself
  missing or different there): every task raised, and each scene was marked failed,
  its stored detections and counts deleted; a ``--reprocess`` or a new detector version
  on a badly set-up cluster emptied the whole count series. Now the run stops with one
  line and the scenes keep what they had.
- A site named twice (``process yard yard --workers 2``) made every scene's task key
  twice: Dask cancelled the duplicates and the run died with ``FutureCancelledError``
  (an internal error) after one scene.
- Ctrl-C during ``process --workers N``: the terminal's SIGINT reached the local
  cluster's nanny and worker processes too, and each printed its KeyboardInterrupt
  traceback around railwatch's one line."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sqlalchemy import func, select

from helpers import sigint_default
from railwatch.storage import Database
from railwatch.storage.models import Scene
from test_distributed import LAUNCHER, check_consistent, setup_db
from test_distributed import fake_module as fake_module  # the fixture

distributed = pytest.importorskip("distributed")


@pytest.fixture
def client() -> Any:
    with (
        distributed.LocalCluster(n_workers=1, processes=False, dashboard_address=None) as cluster,
        distributed.Client(cluster) as c,
    ):
        yield c


def _processed_db(url: str, tmp_path: Path, count: int = 4) -> Database:
    import rw_fake_rects

    from railwatch.pipeline import process_site

    db = setup_db(url, tmp_path, count)
    assert len(process_site(db, "yard", detector=rw_fake_rects.BrightRects()).processed) == count
    check_consistent(db)
    return db


class _Unpicklable:
    """A detector that cannot travel to the workers (it holds a lock): they load it by
    its registry name."""

    name, version = "fake-rects", "1"

    def __init__(self) -> None:
        self.lock = threading.Lock()

    def detect(self, image: np.ndarray, gsd: float, valid: object = None) -> list[object]:
        return []


def test_workers_that_cannot_load_the_named_detector_change_no_scene(
    tmp_path: Path, tmp_db_url: str, fake_module: Path, client: Any
) -> None:
    from railwatch.distributed import WorkerSetupError, process_sites_distributed

    db = _processed_db(tmp_db_url, tmp_path)
    with pytest.raises(WorkerSetupError) as err:
        process_sites_distributed(
            db, ["yard"], detector=_Unpicklable(),  # type: ignore[arg-type]
            detector_name="onnx:/no/such/model.onnx", client=client, reprocess=True,
        )  # fmt: skip
    message = str(err.value)
    assert "cannot load detector 'onnx:/no/such/model.onnx'" in message
    assert "on every worker" in message and "4 others were left as they were" in message
    assert "\n" not in message
    check_consistent(db)  # every scene still processed, its detections and counts kept
    db.dispose()


def test_detector_object_that_does_not_reach_the_workers_changes_no_scene(
    tmp_path: Path,
    tmp_db_url: str,
    fake_module: Path,
    client: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The detector object's task fails on the cluster (as when the workers cannot
    unpickle it: its module is not installed there)."""
    import rw_fake_rects

    import railwatch.distributed as dist

    def not_installed(detector: object) -> object:
        raise ModuleNotFoundError("No module named 'vendor_model'")

    monkeypatch.setattr(dist, "_detector_value", not_installed)
    db = _processed_db(tmp_db_url, tmp_path)
    with pytest.raises(dist.WorkerSetupError, match=r"cannot load the detector .*vendor_model"):
        dist.process_sites_distributed(
            db, ["yard"], detector=rw_fake_rects.BrightRects(), client=client, reprocess=True
        )
    check_consistent(db)
    db.dispose()


def test_a_scene_that_raises_is_still_marked_failed(
    tmp_path: Path, tmp_db_url: str, fake_module: Path, client: Any
) -> None:
    """The scene's own failure (its task raised after its retries) is still recorded
    as before: only the cluster's failures stop the run."""
    import rw_fake_rects

    from railwatch.distributed import ClusterSpec, process_sites_distributed

    db = setup_db(tmp_db_url, tmp_path, 4)
    flaky = rw_fake_rects.FailsOn(cars=2, attempts=str(tmp_path / "attempts.txt"))
    [summary] = process_sites_distributed(
        db, ["yard"], detector=flaky, client=client, cluster=ClusterSpec(retries=0)
    )
    assert len(summary.processed) == 3 and len(summary.failed) == 1
    assert check_consistent(db, expect_all_processed=False) == {"processed": 3, "failed": 1}
    db.dispose()


def test_a_site_named_twice_is_processed_once(
    tmp_path: Path, tmp_db_url: str, fake_module: Path, client: Any
) -> None:
    import rw_fake_rects

    from railwatch.distributed import process_sites_distributed

    db = setup_db(tmp_db_url, tmp_path, 4)
    summaries = process_sites_distributed(
        db, ["yard", "yard"], detector=rw_fake_rects.BrightRects(), client=client
    )
    assert [(s.site, len(s.processed), s.skipped) for s in summaries] == [("yard", 4, 0)]
    check_consistent(db)
    db.dispose()


def test_cli_site_named_twice_is_one_row(
    tmp_path: Path,
    tmp_db_url: str,
    fake_module: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    import rw_fake_rects

    import railwatch.detect.registry as registry
    from railwatch.cli.main import main

    setup_db(tmp_db_url, tmp_path, 2).dispose()
    fake = rw_fake_rects.BrightRects()
    monkeypatch.setattr(registry, "get_detector", lambda name="default": fake)
    capsys.readouterr()
    assert main(["--db", tmp_db_url, "process", "yard", "yard", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["site"], r["processed"], r["up_to_date"]) for r in rows] == [("yard", 2, 0)]


@pytest.mark.slow
def test_ctrl_c_during_a_local_cluster_run_is_one_line(
    tmp_path: Path, tmp_db_url: str, fake_module: Path
) -> None:
    """SIGINT to the whole process group (what a terminal's Ctrl-C does) once scenes
    are being recorded: status 130, railwatch's line and no traceback from the
    cluster's processes; whole scenes only."""
    # 30 scenes: the run is interrupted after 2, and the other 28 (0.4 s each) leave a
    # loaded machine's polling loop 11 s to see them (with 12 it had 4 s, session 43)
    db = setup_db(tmp_db_url, tmp_path, 30)
    launcher = fake_module / "launch.py"
    launcher.write_text(LAUNCHER)  # detections take 0.4 s each
    cmd = [sys.executable, str(launcher), "--db", tmp_db_url, "process", "yard",
           "--workers", "1"]  # fmt: skip
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True, preexec_fn=sigint_default)  # fmt: skip
    deadline = time.monotonic() + 300  # a limit for a broken run, not a measurement
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            with db.session(readonly=True) as s:
                done = s.scalar(select(func.count()).where(Scene.status == "processed")) or 0
            if done >= 2:
                break
            time.sleep(0.1)
        assert proc.poll() is None, "the run ended before it could be interrupted"
        os.killpg(proc.pid, signal.SIGINT)
        _, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
    assert proc.returncode == 130, err
    assert re.search(
        r"Interrupted with \d+ of \d+ scenes? of site \S+ done; the database keeps every "
        r"scene recorded so far\.",
        err,
    ), err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err
    statuses = check_consistent(db, expect_all_processed=False)
    assert set(statuses) <= {"processed", "ingested"} and statuses["processed"] >= 2
    db.dispose()


@pytest.mark.slow
def test_a_failing_task_leaves_no_dask_report_on_stderr(
    tmp_path: Path, tmp_db_url: str, fake_module: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    """The scene's failure is in the summary (and the CLI's list); the local cluster's
    worker printed a 7-line "Compute Failed" report for each of the task's 3 attempts
    on stderr too."""
    import rw_fake_rects

    from railwatch.distributed import ClusterSpec, process_sites_distributed

    db = setup_db(tmp_db_url, tmp_path, 4)
    flaky = rw_fake_rects.FailsOn(cars=2, attempts=str(tmp_path / "attempts.txt"))
    capfd.readouterr()
    [summary] = process_sites_distributed(
        db, ["yard"], detector=flaky, cluster=ClusterSpec(workers=1)
    )
    err = capfd.readouterr().err
    [(_, reason)] = summary.failed
    assert "model crashed (simulated)" in reason
    assert "Compute Failed" not in err and "Traceback" not in err, err
    db.dispose()


def test_cli_process_all_without_sites_says_so(
    tmp_db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """``process --all`` on a database without sites printed an empty table."""
    from railwatch.cli.main import main

    Database(tmp_db_url).dispose()
    assert main(["--db", tmp_db_url, "process", "--all", "--workers", "1"]) == 0
    out = capsys.readouterr().out
    assert "No sites to process: add one with `railwatch site add" in out
    assert "┃" not in out  # no table
    assert main(["--db", tmp_db_url, "process", "--all", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []


KILLS_ON = """
import os, signal
from rw_fake_rects import BrightRects

class KillsOn(BrightRects):
    \"\"\"Kills its worker on every attempt at scenes with ``cars`` cars.\"\"\"

    def __init__(self, cars):
        super().__init__()
        self.cars = cars

    def detect(self, image, gsd, valid=None):
        out = super().detect(image, gsd, valid)
        if len(out) == self.cars:
            os.kill(os.getpid(), signal.SIGKILL)
        return out
"""


@pytest.mark.slow
def test_a_worker_that_dies_with_the_detector_on_it_is_not_a_setup_failure(
    tmp_path: Path, tmp_db_url: str, fake_module: Path
) -> None:
    """One worker, and a scene that kills it at every try: the detector object's data
    dies with the worker too (its future "lost", then computed again). That scene fails
    with Dask's KilledWorker; the run must go on, not stop as if the workers could not
    load the detector (it did, when "lost" was read as a setup failure)."""
    (fake_module / "rw_fake_kills.py").write_text(KILLS_ON)
    import rw_fake_kills

    from railwatch.distributed import ClusterSpec, process_sites_distributed

    db = setup_db(tmp_db_url, tmp_path, 4)  # scenes with 1, 2, 3 and 4 cars
    [summary] = process_sites_distributed(
        db, ["yard"], detector=rw_fake_kills.KillsOn(cars=2), cluster=ClusterSpec(workers=1)
    )
    assert summary.total == 4
    assert summary.failed and all("KilledWorker" in why for _, why in summary.failed)
    assert 2 in [scene_id for scene_id, _ in summary.failed]  # the scene with 2 cars
    check_consistent(db, expect_all_processed=False)
    db.dispose()
