"""Distributed processing on a real local Dask cluster: results, incrementality,
idempotence, a worker killed mid-task, and a client killed with SIGKILL mid-run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
from pyproj import Transformer
from sqlalchemy import func, select

from railwatch.ingest import ingest_paths
from railwatch.sites import site_from_bbox
from railwatch.storage import Database, repo
from railwatch.storage.models import Count, Detection, Scene

pytest.importorskip("distributed")

ORIGIN = (500_000.0, 4_680_000.0)
W, H, GSD = 64, 48, 0.5

# The fake detectors live in a module the worker processes can import (PYTHONPATH).
FAKE_SOURCE = textwrap.dedent(
    '''
    import os, signal, time
    from pathlib import Path
    import numpy as np
    from scipy import ndimage
    from railwatch.detect.base import Detection, OrientedBox

    class BrightRects:
        """Finds bright rectangles (grey > 150): one detection each."""
        name = "fake-rects"
        version = "1"

        def __init__(self, delay=0.0, kill_marker=None):
            self.delay = delay
            self.kill_marker = kill_marker

        def detect(self, image, gsd, valid=None):
            if self.kill_marker is not None and not Path(self.kill_marker).exists():
                Path(self.kill_marker).write_text(str(os.getpid()))
                os.kill(os.getpid(), signal.SIGKILL)  # this worker dies mid-task, once
            if self.delay:
                time.sleep(self.delay)
            labels, n = ndimage.label(image.mean(axis=2) > 150)
            out = []
            for sl in ndimage.find_objects(labels):
                h = sl[0].stop - sl[0].start
                w = sl[1].stop - sl[1].start
                cx, cy = (sl[1].start + sl[1].stop) / 2, (sl[0].start + sl[0].stop) / 2
                out.append(Detection(OrientedBox(cx, cy, float(max(w, h)),
                                                 float(min(w, h)), 0.0), cls="boxcar"))
            return out

    class FailsOn(BrightRects):
        """Raises a plain RuntimeError on scenes with ``cars`` cars (the task fails);
        each attempt appends a line to ``attempts``."""

        def __init__(self, cars, attempts):
            super().__init__()
            self.cars = cars
            self.attempts = attempts

        def detect(self, image, gsd, valid=None):
            out = super().detect(image, gsd, valid)
            if len(out) == self.cars:
                with open(self.attempts, "a") as f:
                    f.write("attempt\\n")
                raise RuntimeError("model crashed (simulated)")
            return out
    '''
)


@pytest.fixture
def fake_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    mod_dir = tmp_path / "fakemod"
    mod_dir.mkdir()
    (mod_dir / "rw_fake_rects.py").write_text(FAKE_SOURCE)
    monkeypatch.syspath_prepend(str(mod_dir))
    monkeypatch.setenv(
        "PYTHONPATH", os.pathsep.join(p for p in (str(mod_dir), os.environ.get("PYTHONPATH")) if p)
    )
    return mod_dir


def _scene_pixels(n_cars: int) -> np.ndarray:
    """A dark yard with ``n_cars`` bright 30x6 px (15 x 3 m) rectangles."""
    data = np.full((3, H, W), 60, dtype=np.uint8)
    data[1] += 10
    for k in range(n_cars):
        row = 4 + 10 * k
        data[:, row : row + 6, 10:40] = 220
    return data


def make_scenes(folder: Path, count: int) -> list[Path]:
    """``count`` tiny scenes (distinct pixels, dated by name) with all-clear masks;
    scene k holds k % 4 + 1 cars."""
    from helpers import make_geotiff

    paths = []
    for k in range(count):
        name = f"yard_2023{1 + k // 28:02d}{1 + k % 28:02d}"
        data = _scene_pixels(k % 4 + 1)
        data[2, 0, 0] = k  # distinct content hash
        paths.append(make_geotiff(folder / f"{name}.tif", origin=ORIGIN, gsd=GSD,
                                  width=W, height=H, data=data))  # fmt: skip
        make_geotiff(folder / f"{name}.mask.tif", origin=ORIGIN, gsd=GSD, width=W, height=H,
                     bands=1, data=np.zeros((1, H, W), np.uint8))  # fmt: skip
    return paths


def site_bbox() -> list[float]:
    """WGS84 bbox of the images' inner part (1 m margin)."""
    to_wgs = Transformer.from_crs("EPSG:32652", "EPSG:4326", always_xy=True)
    x0, y1 = ORIGIN[0] + 1, ORIGIN[1] - 1
    x1, y0 = ORIGIN[0] + W * GSD - 1, ORIGIN[1] - H * GSD + 1
    lon0, lat0 = to_wgs.transform(x0, y0)
    lon1, lat1 = to_wgs.transform(x1, y1)
    return [lon0, lat0, lon1, lat1]


def setup_db(url: str, folder: Path, count: int, site: str = "yard") -> Database:
    db = Database(url)
    with db.session() as s:
        repo.add_site(s, site_from_bbox(site, site_bbox()))
    summary = ingest_paths(db, site, make_scenes(folder / site, count))
    assert len(summary.ingested) == count, summary.failed
    return db


def _count_rects(uri: str) -> int:
    import rasterio
    from scipy import ndimage

    with rasterio.open(uri) as src:
        grey = src.read().mean(axis=0)
    return int(ndimage.label(grey > 150)[1])


def check_consistent(db: Database, expect_all_processed: bool = True) -> dict[str, int]:
    """Every processed scene has its 'all' count and exactly its cars as detections."""
    statuses: dict[str, int] = {}
    with db.session(readonly=True) as s:
        for scene in s.scalars(select(Scene)):
            statuses[scene.status] = statuses.get(scene.status, 0) + 1
            n_det = s.scalar(select(func.count()).where(Detection.scene_id == scene.id))
            counts = {
                c.cls: c.count for c in s.scalars(select(Count).where(Count.scene_id == scene.id))
            }
            if scene.status == "processed":
                cars = _count_rects(scene.uri)
                assert n_det == cars, (scene.id, n_det, cars)
                assert counts.get("all") == pytest.approx(cars), (scene.id, counts)
            else:
                assert n_det == 0 and not counts, (scene.id, scene.status)
    if expect_all_processed:
        assert set(statuses) == {"processed"}, statuses
    return statuses


@pytest.mark.slow
def test_local_cluster_processes_incrementally_and_idempotently(
    tmp_path: Path, tmp_db_url: str, fake_module: Path
) -> None:
    import rw_fake_rects

    from railwatch.distributed import ClusterSpec, TaskDone, process_sites_distributed
    from railwatch.pipeline import process_site

    db = setup_db(tmp_db_url, tmp_path, 6)
    det = rw_fake_rects.BrightRects()
    seen: list[tuple[int, int]] = []
    tasks: list[TaskDone] = []
    [summary] = process_sites_distributed(
        db, ["yard"], detector=det, cluster=ClusterSpec(workers=2),
        on_progress=lambda d, t, _s: seen.append((d, t)), on_task=tasks.append,
    )  # fmt: skip
    assert len(summary.processed) == 6 and not summary.failed and summary.skipped == 0
    assert seen == [(k, 6) for k in range(7)]
    # the cluster's task stream: every scene exactly once, numbered 1..6
    assert sorted(t.scene_id for t in tasks) == sorted(summary.processed)
    assert [t.done for t in tasks] == list(range(1, 7)) and {t.total for t in tasks} == {6}
    assert {(t.site, t.status) for t in tasks} == {("yard", "finished")}
    check_consistent(db)
    # Same numbers as the in-process path.
    with db.session(readonly=True) as s:
        dist = [(p.when, p.count) for p in repo.count_series(s, "yard")]
    again = process_sites_distributed(db, ["yard"], detector=det, cluster=ClusterSpec(workers=1))
    assert again[0].total == 0 and again[0].skipped == 6  # incremental: nothing to do
    local = process_site(db, "yard", detector=det, reprocess=True)
    assert len(local.processed) == 6
    with db.session(readonly=True) as s:
        assert [(p.when, p.count) for p in repo.count_series(s, "yard")] == dist
    check_consistent(db)  # reprocessing replaced rows, no duplicates


@pytest.mark.slow
def test_worker_killed_mid_task_is_retried(
    tmp_path: Path, tmp_db_url: str, fake_module: Path
) -> None:
    import rw_fake_rects

    from railwatch.distributed import ClusterSpec, process_sites_distributed

    db = setup_db(tmp_db_url, tmp_path, 4)
    marker = tmp_path / "killed-once"
    det = rw_fake_rects.BrightRects(kill_marker=str(marker))
    tasks: list[int] = []
    [summary] = process_sites_distributed(
        db, ["yard"], detector=det, cluster=ClusterSpec(workers=2),
        on_task=lambda t: tasks.append(t.scene_id),
    )  # fmt: skip
    assert marker.exists()  # a worker really died
    assert int(marker.read_text()) != os.getpid()
    assert len(summary.processed) == 4 and not summary.failed
    assert sorted(tasks) == sorted(summary.processed)  # the retried task reported once
    check_consistent(db)


@pytest.mark.slow
def test_progress_follows_the_cluster_not_the_recording_loop(
    tmp_path: Path, tmp_db_url: str, fake_module: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While the client is still busy with the first result, the task stream keeps
    reporting the scenes the workers finish: progress is driven by the cluster."""
    import threading

    import rw_fake_rects

    from railwatch.distributed import ClusterSpec, TaskDone, open_client, process_sites_distributed

    db = setup_db(tmp_db_url, tmp_path, 5)
    all_done = threading.Event()
    tasks: list[TaskDone] = []
    seen_at_first_record: list[int] = []

    def on_task(event: TaskDone) -> None:
        tasks.append(event)
        if event.done == event.total:
            all_done.set()

    def on_progress(done: int, _total: int, _site: str) -> None:
        if done == 1:  # hold the client's loop until the cluster has finished everything
            all_done.wait(timeout=60)
            seen_at_first_record.append(len(tasks))

    monkeypatch.delenv("MALLOC_TRIM_THRESHOLD_", raising=False)
    with open_client(ClusterSpec(workers=1)) as client:
        [summary] = process_sites_distributed(
            db, ["yard"], detector=rw_fake_rects.BrightRects(), client=client,
            on_progress=on_progress, on_task=on_task,
        )  # fmt: skip
        # the local workers run without Dask's 64 KiB malloc trim threshold (slow here)
        envs = client.run(lambda: (os.environ.get("MALLOC_TRIM_THRESHOLD_"), os.getpid()))
    assert [trim for trim, _ in envs.values()] == [None]
    assert [pid for _, pid in envs.values()] != [os.getpid()]  # a real worker process
    assert seen_at_first_record == [5]  # all 5 reported while only 1 was recorded
    assert len(summary.processed) == 5
    assert sorted(t.scene_id for t in tasks) == sorted(summary.processed)


@pytest.mark.slow
def test_task_that_keeps_raising_is_retried_then_marked_failed(
    tmp_path: Path, tmp_db_url: str, fake_module: Path
) -> None:
    """A task raising after its retries fails its scene only (recorded as failed, no
    rows); the other scenes are recorded; the next run retries just that scene."""
    import rw_fake_rects
    from distributed import Client, LocalCluster

    from railwatch.distributed import ClusterSpec, process_sites_distributed

    db = setup_db(tmp_db_url, tmp_path, 4)  # scenes with 1, 2, 3 and 4 cars
    attempts = tmp_path / "attempts.txt"
    flaky = rw_fake_rects.FailsOn(cars=4, attempts=str(attempts))
    with (
        LocalCluster(n_workers=1, processes=False, dashboard_address=None) as cluster,
        Client(cluster) as client,
    ):
        [first] = process_sites_distributed(
            db, ["yard"], detector=flaky, client=client, cluster=ClusterSpec(retries=2)
        )
        assert attempts.read_text().count("attempt") == 3  # 1 try + 2 retries
        [(failed_id, reason)] = first.failed
        assert "RuntimeError: model crashed (simulated)" in reason
        assert len(first.processed) == 3
        assert check_consistent(db, expect_all_processed=False) == {"processed": 3, "failed": 1}
        [second] = process_sites_distributed(
            db, ["yard"], detector=rw_fake_rects.BrightRects(), client=client
        )
    assert (second.processed, second.skipped) == ([failed_id], 3)
    check_consistent(db)


LAUNCHER = textwrap.dedent(
    """
    import sys

    if __name__ == "__main__":  # worker processes re-import this module (spawn)
        import rw_fake_rects
        import railwatch.detect.registry as registry

        registry.get_detector = lambda name="default": rw_fake_rects.BrightRects(delay=0.4)
        from railwatch.cli.main import main

        sys.exit(main(sys.argv[1:]))
    """
)


@pytest.mark.slow
def test_kill_9_mid_run_then_rerun_processes_every_scene_once(
    tmp_path: Path, tmp_db_url: str, fake_module: Path
) -> None:
    db = setup_db(tmp_db_url, tmp_path, 20)
    launcher = fake_module / "launch.py"
    launcher.write_text(LAUNCHER)
    cmd = [sys.executable, str(launcher), "--db", tmp_db_url, "process", "--all",
           "--workers", "1", "--json"]  # fmt: skip
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True)  # fmt: skip
    deadline = time.monotonic() + 300
    done = 0
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            with db.session(readonly=True) as s:
                done = s.scalar(select(func.count()).where(Scene.status == "processed")) or 0
            if done >= 3:
                break
            time.sleep(0.1)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)  # the client and its cluster, all at once
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL, proc.stderr.read() if proc.stderr else ""
    statuses = check_consistent(db, expect_all_processed=False)
    recorded = statuses.get("processed", 0)
    assert 3 <= recorded < 20 and set(statuses) <= {"processed", "ingested"}, statuses
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=300, check=True)
    # the re-run does exactly the scenes the killed run had not recorded: none lost,
    # none done twice
    [summary] = json.loads(out.stdout)
    assert (summary["processed"], summary["up_to_date"]) == (20 - recorded, recorded), summary
    assert summary["failed"] == []
    check_consistent(db)  # each scene: its cars as detections once, one 'all' count
    with db.session(readonly=True) as s:
        assert s.scalar(select(func.count()).select_from(Scene)) == 20


def test_unpicklable_detector_is_loaded_by_name_on_workers() -> None:
    import threading

    from railwatch.distributed import ClusterSpec, _shippable
    from railwatch.errors import ConfigError

    class Locked:
        name, version = "locked", "1"

        def __init__(self) -> None:
            self.lock = threading.Lock()

        def detect(self, image: object, gsd: float, valid: object = None) -> list[object]:
            return []

    assert _shippable(Locked(), "default") == "default"  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="cannot be sent to Dask workers"):
        _shippable(Locked(), None)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="not both"):
        ClusterSpec(workers=2, scheduler="tcp://127.0.0.1:8786")
    with pytest.raises(ConfigError, match=r"has no scheme: write tcp://127\.0\.0\.1:8786"):
        ClusterSpec(scheduler="127.0.0.1:8786")


def test_cli_scheduler_path_prints_what_the_in_process_path_prints(
    tmp_path: Path,
    fake_module: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    import shutil

    import rw_fake_rects
    from distributed import LocalCluster

    import railwatch.detect.registry as registry
    from railwatch.cli.main import main

    a, b = f"sqlite:///{tmp_path / 'a.db'}", f"sqlite:///{tmp_path / 'b.db'}"
    setup_db(a, tmp_path, 3).dispose()
    shutil.copy(tmp_path / "a.db", tmp_path / "b.db")
    fake = rw_fake_rects.BrightRects()
    monkeypatch.setattr(registry, "get_detector", lambda name="default": fake)
    capsys.readouterr()
    assert main(["--db", a, "process", "--all", "--json"]) == 0
    local = json.loads(capsys.readouterr().out)
    with LocalCluster(n_workers=1, processes=False, dashboard_address=None) as cluster:
        args = ["--db", b, "process", "yard", "--json", "--scheduler", cluster.scheduler_address]
        assert main(args) == 0
        remote = json.loads(capsys.readouterr().out)
        # without --json the bar shows both rows: tasks done on the cluster, scenes recorded
        # (on a terminal: a bar is shown only there, so stderr is made to pass for one)
        from railwatch.cli._common import err_console

        monkeypatch.setattr(err_console, "_force_terminal", True)
        monkeypatch.setattr(err_console, "_is_tty", lambda: True)  # a terminal itself (s35)
        assert main(["--db", b, "process", "yard", "--reprocess", "--scheduler",
                     cluster.scheduler_address]) == 0  # fmt: skip
        bar = capsys.readouterr().err
    assert "tasks done on Dask" in bar and "scenes recorded" in bar, bar
    assert bar.count("3/3") == 2, bar
    assert remote == local and local[0]["processed"] == 3
    args = ["--db", b, "process", "yard", "--workers", "2", "--scheduler", "tcp://127.0.0.1:1"]
    assert main(args) != 0
    assert "not both" in capsys.readouterr().err
