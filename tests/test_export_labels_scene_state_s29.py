"""export-labels --scene of a scene that is not processed and usable says why, truly.

An unusable scene (cloud) and a failed one read "has no detections yet: run
`railwatch process` first", which for them changes nothing.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from railwatch.errors import InputError
from railwatch.export.label_chips import export_labels
from railwatch.storage import Database, repo
from report_db import PLANS, populate


@pytest.fixture()
def db(tmp_path: Path) -> Database:
    database = Database(f"sqlite:///{tmp_path / 'rw.db'}")
    populate(database, tmp_path / "scenes")
    return database


def test_an_unusable_scene_is_named_unusable_with_its_reasons(db: Database, tmp_path: Path) -> None:
    unusable = 1 + next(i for i, p in enumerate(PLANS) if not p.usable)
    with pytest.raises(InputError) as err:
        export_labels(db, tmp_path / "out", "coco", scene_id=unusable)
    text = str(err.value)
    assert f"scene {unusable} is unusable (cloud 70% of the site)" in text
    assert "railwatch process" not in text
    assert not (tmp_path / "out").exists()


def test_a_failed_scene_says_it_failed_and_why(db: Database, tmp_path: Path) -> None:
    with db.session() as s:
        repo.mark_scene_failed(s, 1, "cannot read band 2")
    with pytest.raises(InputError, match=r"scene 1 failed to process \(cannot read band 2\)"):
        export_labels(db, tmp_path / "out", "dota", scene_id=1)


def test_an_ingested_scene_still_says_to_process_it(db: Database, tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from report_db import add_ingested_scene

    with db.session() as s:
        sid = add_ingested_scene(s, repo.get_site(s, "testyard"), datetime(2023, 5, 1, tzinfo=UTC),
                                 0.5, 77).id  # fmt: skip
    with pytest.raises(InputError, match=r"no detections yet: run `railwatch process` first"):
        export_labels(db, tmp_path / "out", "dota", scene_id=sid)
