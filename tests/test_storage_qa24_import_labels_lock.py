"""QA (session 24): ``import-labels --site`` only looks the site up, and no longer takes
SQLite's write lock to do it: while ``railwatch process`` held it (a long scene), the
command waited the whole busy timeout (30 s) and then failed with "stayed locked by
another writer", though it writes nothing to the database."""

from __future__ import annotations

from pathlib import Path

import pytest

from railwatch.cli.main import main
from railwatch.sites import site_from_bbox
from railwatch.storage import Database, make_engine, repo
from railwatch.storage import db as db_module

BBOX = "130.60,42.28,130.63,42.30"


def test_import_labels_checks_its_site_while_another_process_writes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'rw.db'}"
    with Database(url) as db, db.session() as s:
        repo.add_site(s, site_from_bbox("tum", BBOX))
    # a short busy timeout, so that waiting for the writer fails the test at once
    monkeypatch.setattr(db_module, "SQLITE_BUSY_TIMEOUT_MS", 200)
    src = tmp_path / "labels"
    (src / "images").mkdir(parents=True)
    (src / "labels").mkdir()
    writer = make_engine(url)
    try:
        with writer.begin() as conn:  # another process's write transaction (BEGIN IMMEDIATE)
            conn.exec_driver_sql("UPDATE sites SET description = 'being edited'")
            argv = ["--db", url, "import-labels", str(src), "-f", "dota", "--site", "tum",
                    "--out", str(tmp_path / "train")]  # fmt: skip
            rc = main(argv)
            err = capsys.readouterr().err
            assert "locked" not in err, err
            # the site was found, and the folder checked next (it has no DOTA labels)
            assert rc == 2 and "labelTxt not found" in err, err
    finally:
        writer.dispose()
