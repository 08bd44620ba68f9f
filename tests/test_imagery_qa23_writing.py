"""A file that is still being written (a download, a copy) while ``ingest`` hashes and
inspects it: before, its scene was recorded with the hash of the bytes there when it was
hashed, and ``process`` then failed it as "changed since ingest" while a second ingest
added the finished file as another scene (two scenes for one image, one failed for
good). Now the file is refused, nothing is recorded, and a later run ingests it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from imagery_helpers import ORIGIN_X, ORIGIN_Y, utm_box_wgs84, write_geotiff, yard_scene
from railwatch.cli.main import main
from railwatch.storage import Database, repo


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out


def test_a_file_that_grows_while_it_is_ingested_is_refused_and_ingested_once_complete(
    tmp_path: Path, tmp_db_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: Any
) -> None:
    import railwatch.imagery as imagery

    site = utm_box_wgs84(ORIGIN_X + 10, ORIGIN_Y - 90, ORIGIN_X + 90, ORIGIN_Y - 10)
    geojson = tmp_path / "site.geojson"
    geojson.write_text(json.dumps(site.__geo_interface__))
    code, _ = _run(capsys, "--db", tmp_db_url, "site", "add", "yard", "--geojson", str(geojson))
    assert code == 0
    path = write_geotiff(tmp_path / "scene_2024-05-01.tif", yard_scene(200, 200))
    hash_file = imagery.file_sha256

    def hash_then_the_writer_goes_on(p: Path) -> str:
        digest = hash_file(p)
        with open(p, "ab") as fh:  # the download writes its next bytes
            fh.write(b"\0" * 4096)
        return digest

    monkeypatch.setattr(imagery, "file_sha256", hash_then_the_writer_goes_on)
    code, out = _run(capsys, "--db", tmp_db_url, "ingest", "yard", str(path), "--json")
    summary = json.loads(out)
    # still being copied: left for the next run, no failure (status 1 until session 49),
    # and nothing done: 75, run it again later (0 for a while in session 49)
    assert code == 75 and not summary["ingested"] and not summary["failed"]
    reason = summary["in_transit"][0]["reason"]
    assert "changed while it was ingested" in reason and "grew by 4,096 bytes" in reason
    db = Database(tmp_db_url)
    with db.session(readonly=True) as s:
        assert repo.list_scenes(s, "yard") == []

    monkeypatch.setattr(imagery, "file_sha256", hash_file)  # the download is complete
    code, out = _run(capsys, "--db", tmp_db_url, "ingest", "yard", str(path), "--json")
    assert code == 0 and len(json.loads(out)["ingested"]) == 1
    with db.session(readonly=True) as s:
        (scene,) = repo.list_scenes(s, "yard")
        assert scene.content_hash == hash_file(path)


def test_an_image_that_misses_the_site_says_where_it_lies(
    tmp_path: Path, tmp_db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Degrees written as metres under a UTM CRS (a wrong CRS) put an image thousands of
    km off; 'does not overlap site yard (0 pixels)' gave no clue."""
    from affine import Affine

    site = utm_box_wgs84(ORIGIN_X + 10, ORIGIN_Y - 90, ORIGIN_X + 90, ORIGIN_Y - 10)
    geojson = tmp_path / "site.geojson"
    geojson.write_text(json.dumps(site.__geo_interface__))
    code, _ = _run(capsys, "--db", tmp_db_url, "site", "add", "yard", "--geojson", str(geojson))
    assert code == 0
    wrong = Affine(0.000006, 0, 130.6081, 0, -0.000004, 42.4214)  # degrees, CRS UTM 52N
    path = write_geotiff(tmp_path / "scene_2024-05-01.tif", yard_scene(100, 100), transform=wrong)
    code, out = _run(capsys, "--db", tmp_db_url, "ingest", "yard", str(path), "--json")
    (skipped,) = json.loads(out)["skipped"]
    reason = skipped["reason"]
    assert reason.startswith("does not overlap site yard (0 pixels): the image lies around")
    assert "0.0004°N 124.5124°E, 4,738 km from the site" in reason
    assert "check its CRS (EPSG:32652) and geotransform" in reason
