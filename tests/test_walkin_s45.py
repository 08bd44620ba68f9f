"""The front of the workflow walked as an analyst (2026-12-07, session 45): sites,
local imagery, STAC intake, exports, backup and restore, each fault found with the
test that would have caught it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import rasterio

from imagery_helpers import write_geotiff
from railwatch.cli.main import main
from railwatch.imagery.read import rgb_bands


def _url(path: Path) -> str:
    return f"sqlite:///{path}"


# ------------------------------------------------------------------ bands


def test_band_descriptions_win_over_gdals_default_rgba_labels(tmp_path: Path) -> None:
    """Four 8-bit bands written by rasterio or GDAL without a photometric option are
    labelled red, green, blue and alpha, also when the bands' descriptions say blue,
    green, red, NIR (a BGRN product written from numpy): bands 1,2,3 were read as red,
    green, blue, so chips (export-labels) and quality judged red and blue swapped."""
    data = np.full((4, 8, 8), 30, dtype=np.uint8)
    path = write_geotiff(tmp_path / "bgrn.tif", data)
    with rasterio.open(path, "r+") as ds:
        for i, name in enumerate(("blue", "green", "red", "nir"), start=1):
            ds.set_band_description(i, name)
    with rasterio.open(path) as ds:
        assert ds.colorinterp[0].name == "red"  # GDAL's default labels, as found
        assert rgb_bands(ds) == [3, 2, 1]


# ------------------------------------------------------------------ dates


@pytest.mark.parametrize(
    ("sidecar", "says"),
    [
        (
            {"type": "Feature", "properties": {"datetime": "05/03/2026 10:00"}},
            'fix the date in its STAC sidecar scene.json (its datetime "05/03/2026 10:00" '
            "cannot be read as a date and time; write it as RFC 3339",
        ),
        (
            {"type": "Feature", "properties": {"datetime": None}},
            "fix the date in its STAC sidecar scene.json (it has no datetime; write it",
        ),
        (
            {"properties": {"acquired": "2026-03-05T09:00:00Z"}},
            "make scene.json beside it a STAC item with its datetime",
        ),
    ],
)
def test_a_sidecar_that_is_there_is_not_said_as_one_to_add(
    tmp_path: Path, sidecar: dict[str, Any], says: str
) -> None:
    """A file with no date of its own beside a STAC sidecar whose datetime could not be
    read (or a JSON that is no STAC item) was told "or add a STAC sidecar scene.json",
    the file that is there: the bad date was dropped without a word."""
    from railwatch.imagery import inspect_scene
    from railwatch.imagery.inspect import MissingDateError

    path = write_geotiff(tmp_path / "scene.tif", np.full((3, 8, 8), 90, dtype=np.uint8))
    path.with_suffix(".json").write_text(json.dumps(sidecar))
    with pytest.raises(MissingDateError) as err:
        inspect_scene(path)
    assert says in str(err.value)
    assert "add a STAC sidecar" not in str(err.value)


# ------------------------------------------------------------------ STAC


def _stac_items(tmp_path: Path, items: list[dict[str, Any]]) -> str:
    path = tmp_path / "items.json"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": items}))
    return str(path)


def test_a_stac_item_with_no_datetime_is_named_with_what_to_write(
    tmp_db_url: str, tmp_path: Path
) -> None:
    """An item with no datetime (nor start/end_datetime) failed with pystac's words
    ("cannot read this STAC item: Invalid Item: If datetime is None, a start_datetime
    and end_datetime must be supplied.; fix it"), naming neither the item nor what to
    write."""
    pytest.importorskip("pystac")
    from railwatch.stac import ingest_stac
    from test_stac import footprint, make_cog, site_db

    make_cog(tmp_path / "v.tif", 0)
    doc = {
        "type": "Feature", "stac_version": "1.0.0", "id": "nodate", "geometry": footprint(),
        "properties": {}, "links": [],
        "assets": {"visual": {"href": "v.tif", "type": "image/tiff; application=geotiff"}},
    }  # fmt: skip
    db = site_db(tmp_db_url)
    summary = ingest_stac(db, "yard", _stac_items(tmp_path, [doc]))
    (failed,) = summary.failed
    assert "STAC item nodate" in failed["reason"], failed
    assert "no acquisition time" in failed["reason"] and "datetime" in failed["reason"]
    assert "Invalid Item" not in failed["reason"]


def test_a_stac_item_with_no_assets_does_not_say_pick_one_among_none(
    tmp_db_url: str, tmp_path: Path
) -> None:
    """It said "item a has no image asset among none: name one with --asset"; there is
    none to name."""
    pytest.importorskip("pystac")
    from railwatch.stac import ingest_stac
    from test_stac import footprint, site_db

    doc = {
        "type": "Feature", "stac_version": "1.0.0", "id": "a", "geometry": footprint(),
        "properties": {"datetime": "2023-10-01T02:13:00Z"}, "links": [], "assets": {},
    }  # fmt: skip
    db = site_db(tmp_db_url)
    summary = ingest_stac(db, "yard", _stac_items(tmp_path, [doc]))
    (failed,) = summary.failed
    assert failed["reason"].startswith("item a has no assets"), failed
    assert "among none" not in failed["reason"] and "--asset" not in failed["reason"]


def test_a_truncated_local_stac_asset_is_said_corrupt_with_gdals_reason(
    tmp_db_url: str, tmp_path: Path
) -> None:
    """A local asset cut short failed with "Read failed. See previous exception for
    details.; check that GDAL can read it" (the reason was GDAL's previous error), where
    `railwatch ingest` of the same file says it is corrupt or truncated."""
    pytest.importorskip("pystac")
    from railwatch.stac import ingest_stac
    from test_stac import footprint, make_cog, site_db

    whole = make_cog(tmp_path / "whole.tif", 0)
    with rasterio.open(whole) as ds:  # cut inside the first block, which holds the site
        cut = int(ds.get_tag_item("BLOCK_OFFSET_0_0", "TIFF", bidx=1)) + 100
    (tmp_path / "cut.tif").write_bytes(whole.read_bytes()[:cut])
    doc = {
        "type": "Feature", "stac_version": "1.0.0", "id": "cut", "geometry": footprint(),
        "properties": {"datetime": "2023-10-01T02:13:00Z"}, "links": [],
        "assets": {"visual": {"href": "cut.tif", "type": "image/tiff; application=geotiff"}},
    }  # fmt: skip
    db = site_db(tmp_db_url)
    summary = ingest_stac(db, "yard", _stac_items(tmp_path, [doc]))
    (failed,) = summary.failed
    assert "corrupt or truncated: re-download or re-export it" in failed["reason"], failed
    assert "See previous exception" not in failed["reason"]


# ------------------------------------------------------------------ restore


def test_restore_of_a_missing_backup_says_so_before_asking_to_confirm(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`railwatch restore TYPO.db` over a database asked for --yes first ("restoring
    replaces the database ...; pass --yes to confirm"), and only with --yes said there
    was no backup there."""
    url = _url(tmp_path / "railwatch.db")
    assert main(["--db", url, "site", "add", "yard", "--bbox", "30.49,50.39,30.51,50.41"]) == 0
    capsys.readouterr()
    missing = tmp_path / "nothere.db"
    assert main(["--db", url, "restore", str(missing)]) == 2
    err = capsys.readouterr().err
    assert f"no backup at {missing}" in err and "--yes" not in err


# ------------------------------------------------------------------ scene show


def test_a_scene_pending_again_is_not_said_ingested_by_the_detector(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`ingest --bands` on a processed scene makes it pending again, keeping the detector
    of its earlier run: `scene show` said "status ingested by railwatch-default 2.9"."""
    from shapely.geometry import box

    from railwatch.imagery import inspect_scene
    from railwatch.ingest import ingest_paths
    from railwatch.sites import SiteSpec
    from railwatch.storage import Database, repo

    data = np.full((4, 64, 64), 90, dtype=np.uint8)
    path = write_geotiff(tmp_path / "yard_2023-10-05.tif", data, photometric="MINISBLACK")
    url = _url(tmp_path / "rw.db")
    db = Database(url)
    with db.session() as s:
        aoi = box(*inspect_scene(path).footprint.buffer(-0.00005).bounds)
        repo.add_site(s, SiteSpec(name="yard", geometry=aoi))
    ingest_paths(db, "yard", [path])
    with db.session() as s:
        (scene,) = repo.list_scenes(s, "yard")
        scene.status, scene.detector, scene.detector_version = "processed", "det", "2.9"
        scene_id = scene.id
    with db.session() as s:
        assert repo.set_scene_bands(s, scene_id, (3, 2, 1))
    db.dispose()
    capsys.readouterr()
    assert main(["--db", url, "scene", "show", str(scene_id)]) == 0
    (status,) = [line for line in capsys.readouterr().out.splitlines() if "status" in line]
    assert "ingested by det" not in status
    assert "ingested (processed before by det 2.9; `railwatch process` reads it again)" in status


# ------------------------------------------------------------------ site tags


def test_a_tag_holding_a_comma_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`site add --tag "x,y" --tag z` stored two tags, which every export wrote as
    "x,y,z": three when read back."""
    from railwatch.errors import InputError
    from railwatch.limits import check_tags

    with pytest.raises(InputError, match="holds a comma"):
        check_tags(["x,y", "z"])
    url = _url(tmp_path / "rw.db")
    bbox = "30.49,50.39,30.51,50.41"
    assert main(["--db", url, "site", "add", "yard", "--bbox", bbox, "-t", "x, y"]) == 2
    assert "give each tag on its own (--tag x --tag y" in capsys.readouterr().err


# ------------------------------------------------------------------ export-labels


def test_export_labels_of_a_site_with_nothing_processed_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """It wrote an empty dataset (annotations.json of no image) and exited 0: "wrote 0
    chips with 0 labelled cars from 0 scenes", nothing saying why."""
    url = _url(tmp_path / "rw.db")
    assert main(["--db", url, "site", "add", "yard", "--bbox", "30.49,50.39,30.51,50.41"]) == 0
    capsys.readouterr()
    out = tmp_path / "labels"
    assert main(["--db", url, "export-labels", "yard", "-f", "coco", "-o", str(out)]) == 1
    err = capsys.readouterr().err
    assert "no scene of yard is processed and usable" in err
    assert "railwatch process yard" in err
    assert not out.exists()


def test_scene_show_says_a_forced_date_as_the_options_that_gave_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`scene show` said "acquired ... (from forced)" and "(from option)"."""
    from shapely.geometry import box

    from railwatch.imagery import inspect_scene
    from railwatch.sites import SiteSpec
    from railwatch.storage import Database, repo

    path = write_geotiff(tmp_path / "yard_2023-10-05.tif", np.full((3, 64, 64), 90, np.uint8))
    url = _url(tmp_path / "rw.db")
    db = Database(url)
    with db.session() as s:
        aoi = box(*inspect_scene(path).footprint.buffer(-0.00005).bounds)
        repo.add_site(s, SiteSpec(name="yard", geometry=aoi))
    db.dispose()
    args = ["--db", url, "ingest", "yard", str(path), "--date", "2023-10-06", "--force-date"]
    assert main(args) == 0
    capsys.readouterr()
    assert main(["--db", url, "scene", "show", "1"]) == 0
    out = capsys.readouterr().out
    assert "(from --date with --force-date)" in out and "from forced" not in out


def test_a_stac_quality_mask_named_with_asset_is_not_registered_as_the_image(
    tmp_db_url: str, tmp_path: Path
) -> None:
    """`ingest-stac --asset mask` registered each item's quality mask (codes 0-4) as the
    image of a scene, to be counted; masks alike were "already there" as the first."""
    pytest.importorskip("pystac")
    from railwatch.stac import ingest_stac
    from test_stac import footprint, make_cog, site_db

    make_cog(tmp_path / "v.tif", 0)
    make_cog(tmp_path / "m.tif", 1)
    tif = "image/tiff; application=geotiff"
    doc = {
        "type": "Feature", "stac_version": "1.0.0", "id": "a", "geometry": footprint(),
        "properties": {"datetime": "2023-10-01T02:13:00Z"}, "links": [],
        "assets": {
            "visual": {"href": "v.tif", "type": tif, "roles": ["visual"]},
            "udm": {"href": "m.tif", "type": tif, "roles": ["quality"]},
        },
    }  # fmt: skip
    db = site_db(tmp_db_url)
    summary = ingest_stac(db, "yard", _stac_items(tmp_path, [doc]), asset="udm")
    assert not summary.ingested
    (failed,) = summary.failed
    assert "asset 'udm' of item a is its quality mask" in failed["reason"], failed
    assert "--asset (visual)" in failed["reason"]
