"""A Dask worker killed mid-scene (2026-12-06, session 35): the scene is run again by
Dask and recorded once, and the run's summary now says which scenes were run again and
why (``ProcessSummary.retried``, the CLI's *scene N run again* lines and ``--json``'s
``retried``). Before, a run that lost workers said nothing of it: an operator could not
tell a cluster short of memory from a healthy one."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from test_distributed import check_consistent, setup_db
from test_distributed import fake_module as fake_module  # the fixture

pytest.importorskip("distributed")


@pytest.mark.slow
def test_the_summary_lists_the_scenes_run_again_after_their_worker_died(
    tmp_path: Path, tmp_db_url: str, fake_module: Path
) -> None:
    import rw_fake_rects

    from railwatch.distributed import ClusterSpec, process_sites_distributed

    db = setup_db(tmp_db_url, tmp_path, 4)
    marker = tmp_path / "killed-once"  # the first scene detected kills its worker, once
    det = rw_fake_rects.BrightRects(kill_marker=str(marker))
    one = ClusterSpec(workers=1)
    [summary] = process_sites_distributed(db, ["yard"], detector=det, cluster=one)
    assert marker.exists() and int(marker.read_text()) != os.getpid()  # a worker died
    assert len(summary.processed) == 4 and not summary.failed
    # the scene being detected when its worker died, and any queued on that worker
    assert summary.retried, "the summary says nothing of the worker that died"
    assert {i for i, _ in summary.retried} <= set(summary.processed)
    assert len({i for i, _ in summary.retried}) == len(summary.retried)  # each once
    for _, reason in summary.retried:
        assert "the Dask worker that had its task died before it finished" in reason
        assert "tcp://" in reason and "Dask ran it again" in reason and "\n" not in reason
    check_consistent(db)  # every scene recorded once, whole
    # a worker that does not die: nothing to say
    again = process_sites_distributed(
        db, ["yard"], detector=rw_fake_rects.BrightRects(), cluster=one, reprocess=True
    )
    assert len(again[0].processed) == 4 and again[0].retried == []
    db.dispose()


@pytest.mark.slow
def test_the_cli_says_which_scenes_were_run_again(
    tmp_path: Path,
    fake_module: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    import rw_fake_rects

    import railwatch.detect.registry as registry
    from railwatch.cli.main import main

    url = f"sqlite:///{tmp_path / 'rw.db'}"
    setup_db(url, tmp_path, 3).dispose()
    marker = tmp_path / "killed-once"
    fake = rw_fake_rects.BrightRects(kill_marker=str(marker))
    monkeypatch.setattr(registry, "get_detector", lambda name="default": fake)
    capsys.readouterr()
    assert main(["--db", url, "process", "yard", "--workers", "1", "--json"]) == 0
    [row] = json.loads(capsys.readouterr().out)
    assert marker.exists() and row["processed"] == 3 and not row["failed"]
    assert row["retried"] and all("Dask ran it again" in r["reason"] for r in row["retried"])
    marker.unlink()  # dies once more, on the reprocessing run
    assert main(["--db", url, "process", "yard", "--workers", "1", "--reprocess"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "run again: the Dask worker that had its task died before it finished" in out, out
