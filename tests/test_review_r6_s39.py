"""Review r6 of session 39's own commits (2026-12-06): the faults it found, each
reproduced (the reproductions under /var/tmp/s39/r6/)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("pystac")

from railwatch.imagery.read import ITEM_NODATA_KEY
from railwatch.storage import Database
from test_scene_identity_s29 import write_items
from test_stac import site_db
from test_stac_coverage_nodata_options_s39 import _cli, _scenes, _write
from test_stac_nodata_s38 import item


def test_nodata_nan_on_a_registered_float_scene_is_named_as_given(
    tmp_path: Path, tmp_db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """``--nodata nan`` over a float image's scene that took its item's -9999: the
    item's value is no longer applied, and the line names the option as given (it said
    '--nodata none', an option the run was not given)."""
    db = site_db(tmp_db_url)
    data = np.random.default_rng(3).uniform(100, 900, size=(3, 512, 512)).astype("float32")
    data[:, :, :80] = -9999  # half the site is fill
    path = _write(tmp_path / "f.tif", data)
    doc = item(path, -9999)
    for band in doc["assets"]["image"]["raster:bands"]:
        band["data_type"] = "float32"
    url = write_items(tmp_path / "i.json", doc)
    code, _ = _cli(tmp_db_url, url, capsys)
    assert code == 0
    (scene,) = _scenes(db)
    assert scene.meta[ITEM_NODATA_KEY] == -9999
    code, out = _cli(tmp_db_url, url, capsys, "--nodata", "nan")
    assert code == 0
    (scene,) = _scenes(db)
    assert ITEM_NODATA_KEY not in scene.meta
    assert "no no-data value of its item is applied now" in out
    assert "--nodata none" not in out
    assert "--nodata nan" in out
    code, out = _cli(tmp_db_url, url, capsys, "--nodata", "nan")  # again: nothing to do
    assert code == 0 and "applied now" not in out


def test_a_version_table_of_two_rows_is_refused_in_words(tmp_db_url: str) -> None:
    """A version table holding two rows (edited by hand or another tool): refused with
    what is wrong and what to do, as a StorageError, the database unchanged (Alembic's
    CommandError "more than one head present" reached the CLI as an internal error)."""
    from sqlalchemy import create_engine, text

    from railwatch.errors import StorageError
    from railwatch.storage.migrate import HEAD_REVISION, stored_revisions

    Database(tmp_db_url).dispose()
    engine = create_engine(tmp_db_url)
    try:
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO alembic_version VALUES ('0004_site_areas')"))
        with pytest.raises(StorageError) as err:
            Database(tmp_db_url)
        words = str(err.value)
        assert "2 rows" in words and "alembic_version" in words
        assert "0004_site_areas" in words and HEAD_REVISION in words
        assert "DELETE FROM alembic_version" in words
        assert sorted(stored_revisions(engine) or ()) == ["0004_site_areas", HEAD_REVISION]
    finally:
        engine.dispose()


def test_an_empty_version_table_is_given_its_row_not_recreated(tmp_db_url: str) -> None:
    """A railwatch database whose version table is there but empty: the words give the
    INSERT alone (they said to CREATE TABLE alembic_version, which fails as it exists);
    following them opens the database again."""
    from sqlalchemy import create_engine, text

    from railwatch.errors import StorageError
    from railwatch.storage.migrate import HEAD_REVISION, stored_revisions

    Database(tmp_db_url).dispose()
    engine = create_engine(tmp_db_url)
    try:
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM alembic_version"))
        with pytest.raises(StorageError) as err:
            Database(tmp_db_url)
        words = str(err.value)
        assert "CREATE TABLE alembic_version" not in words
        insert = words[words.index("INSERT INTO") :]
        # the newest revision its tables show (scene_reviews: 0003), as for a lost table
        assert insert == "INSERT INTO alembic_version VALUES ('0003_scene_reviews')"
        with engine.begin() as conn:
            conn.execute(text(insert))
        Database(tmp_db_url).dispose()  # upgraded from 0003 to the head
        assert stored_revisions(engine) == (HEAD_REVISION,)
    finally:
        engine.dispose()
