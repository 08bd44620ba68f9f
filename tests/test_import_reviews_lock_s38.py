"""``railwatch scene import-reviews`` locks each scene before it reads the scene's review
and counts (2026-12-06, session 38). What the import says of a scene ("unchanged", the
review its line replaced) comes from those reads; before, they were made before the
scene's lock (taken only by the write), so a review another writer committed in between
was written over without being said, and a scene could be called unchanged on counts
that were no longer its own."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from railwatch.cli.main import main
from railwatch.storage import Database, repo
from report_db import FakeCount
from test_scene_review import _scene
from test_scene_review_stored_s38 import cli_db  # noqa: F401


def test_each_scene_is_locked_before_its_review_is_read(
    cli_db: Database,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    counted = _scene(cli_db)  # 2023-10-05: 61
    declared = _scene(cli_db, count=FakeCount(50, 45, 60, {}, 3))  # 2023-10-06
    same = _scene(cli_db, count=FakeCount(40, 35, 45, {}, 3))  # 2023-10-07: 40 again
    with cli_db.session() as s:
        repo.set_scene_review(s, counted, {"all": 70}, note="by eye")
    events: list[tuple[str, int]] = []
    lock, read = repo.lock_scene, repo.get_scene_review

    def locking(session: Any, scene_id: int) -> Any:
        events.append(("lock", scene_id))
        return lock(session, scene_id)

    def reading(session: Any, scene_id: int) -> Any:
        events.append(("read", scene_id))
        return read(session, scene_id)

    monkeypatch.setattr(repo, "lock_scene", locking)
    monkeypatch.setattr(repo, "get_scene_review", reading)
    path = tmp_path / "hand.csv"
    path.write_text(
        "date,count,scene_id,unusable\n"
        f"2023-10-05,72,{counted},\n"
        f'2023-10-06,,{declared},"night image"\n'
        f"2023-10-07,40,{same},\n"
    )
    capsys.readouterr()
    assert main(["scene", "import-reviews", "yard", str(path)]) == 0, capsys.readouterr().err
    for scene_id in (counted, declared, same):
        mine = [kind for kind, sid in events if sid == scene_id]
        assert mine and mine[0] == "lock", (scene_id, mine)
