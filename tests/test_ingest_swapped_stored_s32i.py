"""``railwatch ingest`` never tells the analyst to remove a site that holds data
(session 32, review of the run-level swapped verdict).

A site with images stored, given a batch of images only over the place with its lon and
lat exchanged, ended on "the site's coordinates look swapped ... remove it (`railwatch
site remove`) and add it again": the removal deletes every image, count, review and
event. An image stored over the site as it is shows its coordinates are right: no
verdict then (as ``ingest-stac`` since ebebbc0). Where the verdict is given (a site
without images) the advice adds the site anew under another name first (a site's polygon
cannot be edited) and says what a removal of the old one would take with it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from railwatch.cli.main import main
from test_ingest_swapped_site_s32 import _image

LON = 4.90
BOX = f"{LON - 0.002},9.998,{LON + 0.002},10.002"  # 4.9 E 10 N, lon,lat: right


def _db(url: str, capsys: pytest.CaptureFixture[str]) -> str:
    assert main(["--db", url, "site", "add", "eq", "--bbox", BOX]) == 0
    capsys.readouterr()
    return url


def test_a_site_with_images_stored_is_not_said_to_look_swapped(
    tmp_db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = _db(tmp_db_url, capsys)
    _image(tmp_path / "here" / "here.tif", LON, 10.0)
    assert main(["--db", db, "ingest", "eq", str(tmp_path / "here")]) == 0
    capsys.readouterr()
    _image(tmp_path / "mirror" / "mirror.tif", 10.0, LON)  # 10 E 4.9 N only
    code = main(["--db", db, "ingest", "eq", str(tmp_path / "mirror")])
    out, err = capsys.readouterr()
    assert code == 1  # nothing ingested: the file was refused
    assert "look swapped" not in out + err
    assert "site remove" not in out + err  # neither the run nor the file says remove it
    assert "for the reasons listed above" in err
    code = main(["--db", db, "ingest", "eq", str(tmp_path / "mirror"), "--json"])
    summary = json.loads(capsys.readouterr().out)
    assert "site_swapped" not in summary
    assert summary["skipped"][0]["site_swapped"] is True  # the file's own hint stays
    assert "add it again under a new name" in summary["skipped"][0]["reason"]
    assert main(["--db", db, "site", "show", "eq", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["scenes"] == 1  # the stored image is there


def test_a_site_without_images_is_told_to_add_a_new_one_first(
    tmp_db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = _db(tmp_db_url, capsys)
    _image(tmp_path / "mirror" / "mirror.tif", 10.0, LON)
    code = main(["--db", db, "ingest", "eq", str(tmp_path / "mirror")])
    err = " ".join(capsys.readouterr().err.split())
    assert code == 1
    assert "the site's coordinates look swapped" in err
    assert "add it again under a new name" in err
    assert "here --bbox 9.998,4.898,10.002,4.902" in err  # the box, lon,lat
    assert "`railwatch site edit` keeps it" in err
    assert "then `railwatch site remove eq` removes this one: it holds no image nor event" in err
    assert "remove it (" not in err  # no removal first

    assert main(["--db", db, "event", "add", "eq", "2024-01-02", "works"]) == 0
    capsys.readouterr()
    code = main(["--db", db, "ingest", "eq", str(tmp_path / "mirror"), "--json"])
    note = json.loads(capsys.readouterr().out)["site_swapped"]
    assert "its 1 event would go with it: add it to the new site first" in note
