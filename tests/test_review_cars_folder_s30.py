"""`railwatch scene review ID --cars FOLDER` says the path is a folder and what to give.

It said "cannot read GeoJSON somefolder: [Errno 21] Is a directory: 'somefolder'", the
raw OS error; `site add --geojson FOLDER` says "... is a folder: give the path of a
GeoJSON file", and so does the reader of review outlines and eval files now.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from railwatch.cli.main import main
from railwatch.detect.geojson import read_geojson, read_geojson_object
from railwatch.errors import InputError
from railwatch.sites import SiteSpec
from railwatch.storage import Database, repo
from report_db import (
    SITE_UTM,
    FakeCount,
    add_counted_scene,
    to_wgs84,
)


def test_a_folder_is_named_a_folder(tmp_path: Path) -> None:
    folder = tmp_path / "somefolder"
    folder.mkdir()
    for read in (read_geojson_object, read_geojson):
        with pytest.raises(InputError) as info:
            read(folder)
        msg = str(info.value)
        assert msg == f"{folder} is a folder: give the path of a GeoJSON file"
        assert "Errno" not in msg


def test_another_os_error_says_why_without_the_raw_errno(tmp_path: Path) -> None:
    parent = tmp_path / "export.geojson"  # a file taken for a folder
    parent.write_text('{"type": "FeatureCollection", "features": []}')
    with pytest.raises(InputError, match="give a GeoJSON file you can read") as info:
        read_geojson_object(parent / "cars.geojson")
    assert "Errno" not in str(info.value) and "Not a directory" in str(info.value)


def test_scene_review_cars_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'review.db'}"
    monkeypatch.setenv("RAILWATCH_DB", url)
    db = Database(url)
    with db.session() as s:
        site = repo.add_site(s, SiteSpec(name="yard", geometry=to_wgs84(SITE_UTM)))
        when = datetime(2023, 10, 5, 2, 0, tzinfo=UTC)
        scene_id = add_counted_scene(s, site, when, 0.5, FakeCount(28, 23, 50, {}, 0), 5)
    db.dispose()
    folder = tmp_path / "somefolder"
    folder.mkdir()
    monkeypatch.chdir(tmp_path)
    assert main(["scene", "review", str(scene_id), "--cars", "somefolder"]) != 0
    err = " ".join(capsys.readouterr().err.split())
    assert "somefolder is a folder: give the path of a GeoJSON file" in err
    assert "Errno" not in err
    db = Database(url)
    with db.session() as s:  # nothing recorded
        assert repo.get_scene_review(s, scene_id) is None
    db.dispose()
