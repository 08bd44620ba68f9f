"""Dask workers that load the run's detector by name (session 29).

The default detector does not pickle (its ONNX sessions hold locks), so each worker
loads it by its registry name and keeps it for the worker's life. Its version, recorded
with every scene and used to tell which scenes are up to date, was the client's alone:

- on a long-lived cluster (``--scheduler``) a worker kept the detector an earlier run
  loaded: after the weights (or the model card's thresholds) changed, the scenes were
  counted with the old ones and recorded under the new version, never counted again;
- a worker with another railwatch, other weights or another precision counted with
  those, recorded under the client's version.

Now a worker reloads a detector whose version is not the run's, and one that still
differs stops the run (no scene changed) saying what differs."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from test_distributed import check_consistent, setup_db
from test_distributed import fake_module as fake_module  # the fixture

distributed = pytest.importorskip("distributed")


@pytest.fixture
def client() -> Iterator[Any]:
    """A cluster whose worker threads share this process (and its detector cache)."""
    from railwatch.distributed import _worker_detector

    _worker_detector.cache_clear()
    with (
        distributed.LocalCluster(n_workers=1, processes=False, dashboard_address=None) as cluster,
        distributed.Client(cluster) as c,
    ):
        yield c
    _worker_detector.cache_clear()


def _locked(version: str, *, finds: bool = True) -> Any:
    """A bright-rectangle detector of ``version`` that does not pickle (so the workers
    load it by name); ``finds=False``: it finds nothing (other weights)."""
    import rw_fake_rects

    class Locked(rw_fake_rects.BrightRects):
        def __init__(self) -> None:
            super().__init__()
            self.version = version
            self.lock = threading.Lock()

        def detect(self, image: np.ndarray, gsd: float, valid: Any = None) -> list[Any]:
            return super().detect(image, gsd, valid) if finds else []

    return Locked()


def test_a_detector_a_worker_kept_from_before_its_weights_changed_is_loaded_again(
    tmp_path: Path, tmp_db_url: str, fake_module: Path, client: Any, monkeypatch: Any
) -> None:
    import railwatch.detect.registry as registry
    from railwatch.distributed import _worker_detector, process_sites_distributed

    db = setup_db(tmp_db_url, tmp_path, 3)
    # an earlier run on this cluster loaded the weights of then (they found nothing)
    monkeypatch.setattr(registry, "get_detector", lambda name="default": _locked("1", finds=False))
    assert _worker_detector("default:/models/yard.onnx").version == "1"
    # the weights were retrained since: the client loads version 2, as would a new worker
    monkeypatch.setattr(registry, "get_detector", lambda name="default": _locked("2"))
    [summary] = process_sites_distributed(
        db, ["yard"], detector=_locked("2"), detector_name="default:/models/yard.onnx",
        client=client,
    )  # fmt: skip
    assert len(summary.processed) == 3 and not summary.failed
    check_consistent(db)  # counted with version 2's weights: each scene's cars
    db.dispose()


def test_a_worker_whose_detector_differs_stops_the_run_and_changes_no_scene(
    tmp_path: Path, tmp_db_url: str, fake_module: Path, client: Any, monkeypatch: Any
) -> None:
    import railwatch.detect.registry as registry
    from railwatch.distributed import WorkerSetupError, process_sites_distributed
    from railwatch.pipeline import process_site

    db = setup_db(tmp_db_url, tmp_path, 3)
    assert len(process_site(db, "yard", detector=_locked("1")).processed) == 3
    # the workers' railwatch (or weights) is another: they always load version 1
    monkeypatch.setattr(registry, "get_detector", lambda name="default": _locked("1", finds=False))
    with pytest.raises(WorkerSetupError) as err:
        process_sites_distributed(
            db, ["yard"], detector=_locked("2"), detector_name="default", client=client
        )
    message = str(err.value)
    assert "loaded detector 'default' as fake-rects 1, not fake-rects 2" in message, message
    assert "on every worker" in message and "3 others were left as they were" in message
    check_consistent(db)  # still version 1's results: each scene's cars
    db.dispose()
