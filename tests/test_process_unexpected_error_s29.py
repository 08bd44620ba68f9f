"""Without Dask, an error ``process_scene`` does not expect (a RuntimeError from a
library, here the detector's) stopped ``process_site`` at that scene: the CLI said
"internal error", the scene was not marked failed, and every re-run stopped there, so
the site's later scenes were never counted. The scene now fails with the error, as a
Dask task that raised does, and the others are counted."""

from __future__ import annotations

from pathlib import Path

import pytest

from railwatch.detect.base import Detection, Detector
from railwatch.pipeline import process_site
from railwatch.storage import repo
from test_distributed import setup_db


class _Crashes(Detector):
    name = "crashes"
    version = "1"

    def __init__(self, on_call: int) -> None:
        self.on_call, self.calls = on_call, 0

    def detect(self, image, gsd, valid=None) -> list[Detection]:  # type: ignore[no-untyped-def]
        self.calls += 1
        if self.calls == self.on_call:
            raise RuntimeError("onnxruntime: bad allocation (simulated)")
        return []


def test_an_unexpected_error_fails_its_scene_and_the_run_goes_on(
    tmp_path: Path, tmp_db_url: str
) -> None:
    db = setup_db(tmp_db_url, tmp_path, 4)
    summary = process_site(db, "yard", detector=_Crashes(on_call=2))
    assert len(summary.processed) == 3
    [(failed_id, reason)] = summary.failed
    assert reason == "task failed: RuntimeError: onnxruntime: bad allocation (simulated)"
    with db.session(readonly=True) as s:
        statuses = {sc.id: sc.status for sc in repo.list_scenes(s, repo.get_site(s, "yard"))}
    assert statuses[failed_id] == "failed"
    assert sorted(statuses.values()) == ["failed", "processed", "processed", "processed"]
    # the next run retries just that scene
    again = process_site(db, "yard", detector=_Crashes(on_call=0))
    assert (again.processed, again.skipped) == ([failed_id], 3)


def test_ctrl_c_still_stops_the_run(tmp_path: Path, tmp_db_url: str) -> None:
    class _Interrupted(_Crashes):
        def detect(self, image, gsd, valid=None) -> list[Detection]:  # type: ignore[no-untyped-def]
            raise KeyboardInterrupt

    db = setup_db(tmp_db_url, tmp_path, 2)
    with pytest.raises(KeyboardInterrupt):
        process_site(db, "yard", detector=_Interrupted(on_call=1))
