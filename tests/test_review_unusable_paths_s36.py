"""A scene an analyst declared unusable (``railwatch scene review ID --unusable REASON``)
stays so along the paths that used to flip it back (second review, session 36):

- ``railwatch ingest`` describing the scene anew from its changed sidecars (or a moved
  file whose sidecars were not stamped, ``ingest._refresh_scene``) set it 'ingested'
  while the review stayed: ``process`` skipped it for the review, so it stood pending
  for ever, neither a gap with its reason nor counted;
- a ``process`` run whose job was made before the declaration wrote, on a failure, its
  error on the declared scene and counted it failed (exit status 1 for a cron job), and
  on a result counted it processed although nothing of it was recorded. Both now record
  nothing and count the scene unusable, as it stands.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from railwatch.cli.main import main
from railwatch.ingest import ingest_paths
from railwatch.pipeline import (
    ProcessSummary,
    SceneOutcome,
    pending_jobs,
    process_scene,
    process_site,
    record_outcome,
)
from railwatch.storage import Database, repo
from test_imagery_qa24_stamp import _detector, _scene
from test_imagery_qa24_stamp import aux_image as aux_image  # the fixture
from test_sidecars_changed_meanwhile_s30 import _moved

REASON = "night image: the yard is dark"


def _scene_id(db: Database) -> int:
    with db.session(readonly=True) as s:
        (sc,) = repo.list_scenes(s, "yard")
        return int(sc.id)


def _declare(db: Database, scene_id: int) -> None:
    with db.session() as s:
        repo.set_scene_unusable_review(s, scene_id, REASON)


def _verdict(db: Database) -> tuple[str, bool | None, list[str], str | None]:
    with db.session(readonly=True) as s:
        (sc,) = repo.list_scenes(s, "yard")
        return sc.status, sc.usable, list(sc.reasons or []), sc.error


def test_ingest_describing_a_declared_scene_anew_keeps_it_unusable(
    aux_image: tuple[Database, Path],
) -> None:
    db, path = aux_image
    assert len(process_site(db, "yard", detector=_detector()).processed) == 1
    scene_id = _scene_id(db)
    _declare(db, scene_id)
    declared = _verdict(db)

    _moved(path)  # its aux.xml changed: described anew from it
    [dup] = ingest_paths(db, "yard", [path]).duplicates
    assert "described from them again" in dup["reason"]
    assert "stays unusable as an analyst declared it" in dup["reason"]
    assert f"scene review {scene_id} --remove" in dup["reason"]
    assert _verdict(db) == declared  # 'ingested', usable None before
    assert declared[0] == "unusable" and declared[2] == [f"unusable by analyst review: {REASON}"]
    assert _scene(db)[3] == 0  # no counts: a gap
    summary = process_site(db, "yard", detector=_detector())
    assert summary.processed == [] and summary.failed == []

    with db.session() as s:
        repo.remove_scene_review(s, scene_id)
    assert len(process_site(db, "yard", detector=_detector()).processed) == 1
    assert _verdict(db)[0] == "processed" and _scene(db)[3] > 0


def test_a_result_read_before_the_declaration_is_not_counted_processed(
    aux_image: tuple[Database, Path],
) -> None:
    db, _ = aux_image
    ((job,), _) = pending_jobs(db, "yard", detector=_detector())
    outcome = process_scene(job, _detector())
    assert outcome.error is None and outcome.quality is not None and outcome.quality.usable
    _declare(db, job.scene_id)
    declared = _verdict(db)

    got = record_outcome(db, outcome, _detector())
    assert _verdict(db) == declared and _scene(db)[3] == 0
    summary = ProcessSummary("yard", "fake", "1")
    summary.add(job.scene_id, got)
    assert summary.processed == [] and summary.failed == []
    assert summary.unusable == [job.scene_id]
    assert got.quality is not None and got.quality.reasons == tuple(declared[2])


def test_a_failure_read_before_the_declaration_writes_no_error(
    aux_image: tuple[Database, Path],
) -> None:
    db, _ = aux_image
    assert len(process_site(db, "yard", detector=_detector()).processed) == 1
    ((job,), _) = pending_jobs(db, "yard", detector=_detector(), reprocess=True)
    _declare(db, job.scene_id)
    declared = _verdict(db)

    for invalidates in (False, True):
        failure = SceneOutcome(
            job.scene_id, None, error="the file went away", invalidates=invalidates
        )
        got = record_outcome(db, failure, _detector())
        assert _verdict(db) == declared  # error None: no 'processing again failed'
        summary = ProcessSummary("yard", "fake", "1")
        summary.add(job.scene_id, got)
        assert summary.failed == [] and summary.unusable == [job.scene_id]


def test_declaring_a_counted_scene_unusable_says_which_count_it_replaced(
    aux_image: tuple[Database, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The analyst's count review is deleted when they declare the scene unusable: the
    command says which (their count and note, to give again after ``--remove``); with
    ``--json``, ``replaced`` holds it (null when there was none)."""
    db, _ = aux_image
    url = f"sqlite:///{tmp_path / 'rw.db'}"
    assert len(process_site(db, "yard", detector=_detector()).processed) == 1
    scene = str(_scene_id(db))
    assert main(["--db", url, "scene", "review", scene, "--count", "70", "--note", "hand"]) == 0
    capsys.readouterr()
    assert main(["--db", url, "scene", "review", scene, "--unusable", REASON]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "It replaced your earlier review of" in out and "all 70" in out
    assert '"hand"' in out
    assert main(["--db", url, "scene", "review", scene, "--unusable", "dark", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["unusable"] == "dark" and data["replaced"]["unusable"] == REASON
    assert main(["--db", url, "scene", "review", scene, "--remove", "--json"]) == 0
    removed = json.loads(capsys.readouterr().out)
    assert removed["removed"] is True and set(removed) == set(data)  # the same keys
    assert removed["replaced"] is None
    # pending again, and no one's verdict: not 'status ingested by analyst review'
    assert main(["--db", url, "scene", "show", scene]) == 0
    shown = " ".join(capsys.readouterr().out.split())
    assert "status ingested" in shown and "analyst" not in shown
    assert main(["--db", url, "scene", "review", scene, "--unusable", "dark", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["replaced"] is None
