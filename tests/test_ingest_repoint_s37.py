"""ingest._repoint: the check, in the writing transaction, that both moves of a scene to
its file's new place (_relocate and _relocate_anew) make (one rule since session 37)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from railwatch import ingest


@dataclass
class _Row:
    uri: str


def test_repoint_moves_a_scene_that_still_reads_its_old_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ingest, "_path_taken", lambda s, site, scene_id, path: None)
    row = _Row("/gone/a.tif")
    new = tmp_path / "a.tif"
    assert ingest._repoint(None, row, ("yard", 7), "/gone/a.tif", new) == (True, None)
    assert row.uri == str(new.resolve())


def test_repoint_leaves_a_scene_another_run_moved_meanwhile(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def never(*args: object) -> int:
        raise AssertionError("the path is not looked up for a scene moved meanwhile")

    monkeypatch.setattr(ingest, "_path_taken", never)
    row = _Row("/elsewhere/a.tif")
    assert ingest._repoint(None, row, ("yard", 7), "/gone/a.tif", tmp_path / "a.tif") == (
        False,
        None,
    )
    assert row.uri == "/elsewhere/a.tif"


def test_repoint_names_the_scene_that_reads_the_path_now(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[tuple[str, int]] = []

    def taken(s: object, site: str, scene_id: int, path: Path) -> int:
        asked.append((site, scene_id))
        return 9

    monkeypatch.setattr(ingest, "_path_taken", taken)
    row = _Row("/gone/a.tif")
    assert ingest._repoint(None, row, ("yard", 7), "/gone/a.tif", tmp_path / "a.tif") == (
        False,
        9,
    )
    assert row.uri == "/gone/a.tif" and asked == [("yard", 7)]
