"""``process --workers N`` with N out of proportion (session 29).

- The local cluster started N worker processes whatever there was to do: a weekly run
  with one new scene and ``--workers 8`` started 8 processes, each loading the detector.
  Now it starts no more than the scenes to run.
- A huge N (``--workers 1000`` on a laptop) started that many processes, each with its
  own detector (about 1 GB): the machine swapped or ran out of memory. Now more than 4
  per CPU core is refused in one line before anything is done."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from railwatch.errors import ConfigError
from test_distributed import check_consistent, setup_db
from test_distributed import fake_module as fake_module  # the fixture

distributed = pytest.importorskip("distributed")


def test_the_local_cluster_starts_no_more_workers_than_scenes(
    tmp_path: Path, tmp_db_url: str, fake_module: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import rw_fake_rects

    from railwatch.distributed import ClusterSpec, process_sites_distributed

    started: list[int] = []
    real = distributed.LocalCluster

    def spy(**kwargs: Any) -> Any:
        started.append(kwargs["n_workers"])
        return real(**{**kwargs, "processes": False})  # threads: quick to start here

    monkeypatch.setattr(distributed, "LocalCluster", spy)
    db = setup_db(tmp_db_url, tmp_path, 2)
    det = rw_fake_rects.BrightRects()
    [summary] = process_sites_distributed(
        db, ["yard"], detector=det, cluster=ClusterSpec(workers=3)
    )
    assert len(summary.processed) == 2 and started == [2]
    check_consistent(db)
    db.dispose()


def test_local_workers_never_exceed_the_tasks() -> None:
    from railwatch.distributed import ClusterSpec

    assert ClusterSpec(workers=3).local_workers(1) == 1
    assert ClusterSpec(workers=3).local_workers(10) == 3
    assert ClusterSpec(workers=3).local_workers() == 3
    assert ClusterSpec().local_workers(1) == 1


def test_more_than_four_workers_per_core_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    import railwatch.distributed as dist

    monkeypatch.setattr(dist, "_cpu_count", lambda: 2)
    assert dist.ClusterSpec(workers=8).workers == 8
    with pytest.raises(ConfigError) as err:
        dist.ClusterSpec(workers=9)
    message = str(err.value)
    assert "--workers 9 would start 9 worker processes" in message
    assert "2 CPU core(s)" in message and "at most 8" in message and "--scheduler" in message


def test_cli_huge_workers_is_one_line_before_anything(
    tmp_path: Path, fake_module: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from railwatch.cli.main import main

    db = f"sqlite:///{tmp_path / 'rw.db'}"
    setup_db(db, tmp_path, 1).dispose()
    capsys.readouterr()
    code = main(["--db", db, "process", "yard", "--workers", "100000"])
    err = capsys.readouterr().err
    assert code == 2, err  # a bad option value (session 46: was 1, a settings problem)
    assert "--workers 100000 would start 100000 worker processes" in err
    assert not (tmp_path / "rw.db.locks").exists()  # refused before the site was held
