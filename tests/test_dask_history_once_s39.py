"""A Dask run sends the site's car history once, not once a job (review r5, 2026-12-06,
session 39).

A scene of a site without track centrelines counted car by car is judged by where the
site's other images saw cars too: its job carries the footprints of its 20 nearest such
scenes (``SceneJob.history``). ``client.map`` sends every job at once, and each job
pickled its own copy: 40,000 footprints made each job 4.1 MB, 1,000 jobs 4 GB through
the scheduler. Now each scene's footprints are sent once (the result of one task) and
the jobs go without them, their tasks depending on those of their scenes; the verdicts
are those of the in-process run."""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import pytest
import shapely
from sqlalchemy import select

from railwatch.pipeline import process_site
from railwatch.storage import Database
from railwatch.storage.models import Detection, Scene
from test_track_clear_s39 import _db, _ingest, _scenes, detector, yard  # noqa: F401

pytest.importorskip("distributed")

#: Copies of the clear image's cars in the database: a history of thousands of footprints.
COPIES = 100


class _Recording:
    """A Dask client that keeps the pickled size of what each ``map`` and ``submit``
    sends (a future, or a list of futures, is a reference: not counted)."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self.sent = 0

    def _measure(self, value: Any) -> None:
        from distributed import Future

        if isinstance(value, Future) or (
            isinstance(value, list) and all(isinstance(v, Future) for v in value)
        ):
            return
        self.sent += len(pickle.dumps(value))

    def map(self, func: Any, *iterables: Any, **kwargs: Any) -> Any:
        items = [list(it) for it in iterables]
        for it in items:
            for value in it:
                self._measure(value)
        return self._client.map(func, *items, **kwargs)

    def submit(self, func: Any, *args: Any, **kwargs: Any) -> Any:
        for value in args:
            self._measure(value)
        return self._client.submit(func, *args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


def _history_of_clear(db: Database) -> tuple[int, int]:
    """Multiply the clear image's cars (``COPIES`` times); how many footprints it has
    then and their pickled size."""
    with db.session() as s:
        rows = list(s.scalars(select(Detection).where(Detection.inside.is_(True))))
        for _ in range(COPIES - 1):
            s.add_all(
                Detection(
                    scene_id=d.scene_id,
                    cls=d.cls,
                    score=d.score,
                    covered=d.covered,
                    covered_score=d.covered_score,
                    inside=True,
                    geometry_wkb=d.geometry_wkb,
                    native_wkb=d.native_wkb,
                    native_crs=d.native_crs,
                )
                for d in rows
            )
    with db.session() as s:
        wkbs = list(s.scalars(select(Detection.geometry_wkb).where(Detection.inside.is_(True))))
    return len(wkbs), len(pickle.dumps(tuple(shapely.from_wkb(wkbs))))


def _detections(db: Database) -> dict[str, int]:
    """Each scene's detections, by its file's name."""
    with db.session() as s:
        return {Path(sc.uri).stem: len(sc.detections) for sc in s.scalars(select(Scene))}


@pytest.fixture(scope="module")
def runs(
    tmp_path_factory: pytest.TempPathFactory,
    yard: dict[str, Any],  # noqa: F811
    detector: Any,  # noqa: F811
) -> dict[str, Any]:
    """The same site (no tracks; the clear image counted, its cars copied into a large
    history) with its two clouded images processed in this process and on Dask."""
    from distributed import Client, LocalCluster

    from railwatch.distributed import ClusterSpec, process_sites_distributed

    dbs = {}
    for how in ("local", "dask"):
        db = _db(tmp_path_factory.mktemp(how), yard, tracks=False)
        _ingest(db, yard["paths"]["clear"])
        process_site(db, "yard", detector=detector)
        footprints, history_bytes = _history_of_clear(db)
        _ingest(db, yard["paths"]["cloud_over_cars"], yard["paths"]["cloud_away"])
        dbs[how] = db
    process_site(dbs["local"], "yard", detector=detector)
    with (
        LocalCluster(n_workers=1, processes=False, dashboard_address=None) as cluster,
        Client(cluster) as client,
    ):
        recording = _Recording(client)
        [summary] = process_sites_distributed(
            dbs["dask"],
            ["yard"],
            detector=detector,
            detector_name="default",
            client=recording,
            cluster=ClusterSpec(),
        )
    assert len(summary.processed) + len(summary.unusable) == 2 and not summary.failed
    return {
        "dbs": dbs,
        "sent": recording.sent,
        "footprints": footprints,
        "history_bytes": history_bytes,
    }


def test_dask_judges_as_the_local_run(runs: dict[str, Any]) -> None:
    """Same statuses, reasons, clear shares and counts; the history decided one."""
    local, dask = (_scenes(runs["dbs"][how]) for how in ("local", "dask"))
    assert dask == local
    assert local["cloud_over_cars"]["status"] == "unusable"
    reason = local["cloud_over_cars"]["reasons"][0]
    assert "of where cars stood in the site's earlier images" in reason
    assert local["cloud_away"]["count"] is not None
    assert _detections(runs["dbs"]["dask"]) == _detections(runs["dbs"]["local"])


def test_the_history_is_sent_once(runs: dict[str, Any]) -> None:
    """Both jobs' history is the clear image's footprints: sent once (with the jobs'
    own few kB), where each job carried its own copy (twice those bytes)."""
    assert runs["footprints"] >= 1000
    assert runs["sent"] < 1.5 * runs["history_bytes"], (runs["sent"], runs["history_bytes"])
