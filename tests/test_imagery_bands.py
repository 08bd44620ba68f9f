"""Which bands are red, green and blue: labels, STAC eo:bands, --bands, and the warning
for four or more unlabelled bands (blue-green-red-NIR products read as RGB swap red and
blue)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import rasterio
from shapely.geometry import mapping

from imagery_helpers import ORIGIN_X, ORIGIN_Y, utm_box_wgs84, write_geotiff
from railwatch.cli.main import main
from railwatch.detect.api import detect_file
from railwatch.errors import InputError
from railwatch.imagery.inspect import rgb_from_names, rgb_of, sidecar_metadata
from railwatch.imagery.read import (
    parse_rgb_bands,
    read_site_window,
    rgb_bands,
    site_grid,
    unlabelled_bands,
)
from railwatch.storage import Database, repo

# Blue, green, red, NIR planes of a 60 x 60 m scene at 0.5 m: a pure red square on
# dark ground, so reading the bands in the wrong order turns it blue.
SIZE = 120


def bgrn() -> np.ndarray:
    data = np.full((4, SIZE, SIZE), 30, dtype=np.uint8)
    data[2, 40:80, 40:80] = 220  # red band
    data[3] = 120  # NIR
    return data


def write_bgrn(path: Path, descriptions: tuple[str, ...] | None = None) -> Path:
    # As multispectral products are stored: one grey plane per band, no colour labels
    # (GDAL's default for four 8-bit bands would be RGB and alpha).
    write_geotiff(path, bgrn(), photometric="MINISBLACK")
    if descriptions is not None:
        with rasterio.open(path, "r+") as ds:
            for i, name in enumerate(descriptions, start=1):
                ds.set_band_description(i, name)
    return path


def stac_sidecar(image: Path, names: list[str]) -> Path:
    item = {
        "type": "Feature",
        "stac_version": "1.0.0",
        "id": image.stem,
        "properties": {"datetime": "2023-10-05T02:13:00Z"},
        "geometry": None,
        "assets": {
            "visual": {"href": "other.tif", "eo:bands": [{"common_name": "red"}]},
            "analytic": {
                "href": image.name,
                "eo:bands": [{"name": f"b{i + 1}", "common_name": n} for i, n in enumerate(names)],
            },
        },
    }
    path = image.with_suffix(".json")
    path.write_text(json.dumps(item))
    return path


def test_names_give_the_rgb_bands_and_ambiguous_names_give_none() -> None:
    assert rgb_from_names(["Blue", "green", "RED", "nir"]) == (3, 2, 1)
    assert rgb_from_names(["red", "green", "blue"]) == (1, 2, 3)
    assert rgb_from_names(["red", "red", "green", "blue"]) is None
    assert rgb_from_names(["coastal", "blue", "green", None]) is None
    assert rgb_from_names([]) is None


@pytest.mark.parametrize("text", ["3,2", "a,b,c", "0,1,2", "1,2,3,4", ""])
def test_parse_rgb_bands_refuses_what_is_not_three_band_numbers(text: str) -> None:
    with pytest.raises(InputError, match="R,G,B"):
        parse_rgb_bands(text)


def test_parse_rgb_bands() -> None:
    assert parse_rgb_bands(" 3, 2,1") == (3, 2, 1)


def test_unlabelled_four_bands_are_guessed_and_flagged(tmp_path: Path) -> None:
    with rasterio.open(write_bgrn(tmp_path / "a.tif")) as ds:
        assert rgb_bands(ds) == [1, 2, 3]
        assert unlabelled_bands(ds)
    with rasterio.open(write_bgrn(tmp_path / "b.tif", ("Blue", "Green", "Red", "NIR"))) as ds:
        assert rgb_bands(ds) == [3, 2, 1]
        assert not unlabelled_bands(ds)
        assert rgb_bands(ds, bands=(1, 2, 3)) == [1, 2, 3]  # given bands win
        with pytest.raises(InputError, match="has 4 bands: band 5 does not exist"):
            rgb_bands(ds, bands=(5, 2, 1))


def test_site_window_reads_the_given_bands_as_colour(tmp_path: Path) -> None:
    path = write_bgrn(tmp_path / "a.tif")
    site = utm_box_wgs84(ORIGIN_X + 20, ORIGIN_Y - 40, ORIGIN_X + 40, ORIGIN_Y - 20)
    grid = site_grid(site, 0.5)
    guessed = read_site_window(path, grid, site_geom=site).image
    right = read_site_window(path, grid, site_geom=site, bands=(3, 2, 1)).image
    centre = (grid.height // 2, grid.width // 2)
    assert right[centre].tolist() == [220, 30, 30]  # the red square is red
    assert guessed[centre].tolist() == [30, 30, 220]  # read as 1,2,3 it is blue


def test_stac_sidecar_names_the_bands_of_its_asset(tmp_path: Path) -> None:
    path = write_bgrn(tmp_path / "scene.tif")
    stac_sidecar(path, ["blue", "green", "red", "nir"])
    meta = sidecar_metadata(path)
    assert meta["rgb_bands"] == [3, 2, 1]
    assert rgb_of(meta) == (3, 2, 1)
    assert rgb_of({"rgb_bands": [0, 1, 2]}) is None
    assert rgb_of({"rgb_bands": "3,2,1"}) is None


def test_detect_file_reads_bands_from_the_sidecar_or_flags_a_guess(tmp_path: Path) -> None:
    plain = write_bgrn(tmp_path / "plain.tif")
    result = detect_file(plain)
    assert result.bands == (1, 2, 3) and result.bands_guessed
    assert detect_file(plain, bands=(3, 2, 1)).bands == (3, 2, 1)
    labelled = write_bgrn(tmp_path / "labelled.tif")
    stac_sidecar(labelled, ["blue", "green", "red", "nir"])
    result = detect_file(labelled)
    assert result.bands == (3, 2, 1) and not result.bands_guessed


def test_cli_detect_warns_about_unlabelled_bands(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_bgrn(tmp_path / "plain.tif")
    assert main(["detect", str(path), "-o", str(tmp_path / "a.geojson")]) == 0
    err = " ".join(capsys.readouterr().err.split())
    assert "none is labelled red, green or blue" in err and "--bands 3,2,1" in err
    assert main(["detect", str(path), "--bands", "3,2,1", "-o", str(tmp_path / "b.geojson")]) == 0
    assert "labelled" not in capsys.readouterr().err
    assert main(["detect", str(path), "--bands", "3,2,9"]) == 2
    assert "band 9 does not exist" in " ".join(capsys.readouterr().err.split())


def test_ingest_warns_and_bands_can_be_set_afterwards(
    tmp_path: Path, tmp_db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    site = tmp_path / "site.geojson"
    box = utm_box_wgs84(ORIGIN_X + 10, ORIGIN_Y - 50, ORIGIN_X + 50, ORIGIN_Y - 10)
    site.write_text(json.dumps(mapping(box)))
    assert main(["--db", tmp_db_url, "site", "add", "yard", "--geojson", str(site)]) == 0
    path = write_bgrn(tmp_path / "yard_20231005T021300.tif")
    capsys.readouterr()
    assert main(["--db", tmp_db_url, "ingest", "yard", str(path)]) == 0
    err = " ".join(capsys.readouterr().err.split())
    assert "4 bands, none labelled red, green or blue" in err
    db = Database(tmp_db_url)
    with db.session(readonly=True) as s:
        (scene,) = repo.list_scenes(s, "yard")
        assert rgb_of(scene.meta) is None and scene.meta["bands_unlabelled"] is True
    # the same file again with its bands: recorded on the scene already there
    assert main(["--db", tmp_db_url, "ingest", "yard", str(path), "--bands", "3,2,1"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "already ingested" in out
    with db.session(readonly=True) as s:
        (scene,) = repo.list_scenes(s, "yard")
        assert rgb_of(scene.meta) == (3, 2, 1) and scene.status == "ingested"
    from railwatch.pipeline import pending_jobs

    jobs, _ = pending_jobs(db, "yard", detector=None)  # type: ignore[arg-type]
    assert [j.rgb_bands for j in jobs] == [(3, 2, 1)]
    assert main(["--db", tmp_db_url, "ingest", "yard", str(path), "--bands", "4,3,5"]) == 1
    assert "band 5 does not exist" in " ".join(capsys.readouterr().out.split())


def test_stac_item_bands_are_those_of_the_chosen_asset() -> None:
    from railwatch.imagery.inspect import parse_stac_item

    doc = {
        "properties": {"datetime": "2023-10-05T02:13:00Z"},
        "assets": {
            "visual": {
                "href": "https://example.test/a/visual.tif",
                "eo:bands": [{"name": n} for n in ("red", "green", "blue")],
            },
            "analytic": {  # STAC 1.1 "bands" with eo:common_name
                "href": "https://example.test/a/analytic.tif",
                "bands": [{"eo:common_name": n} for n in ("blue", "green", "red", "nir")],
            },
        },
    }
    where = Path("/a/analytic.tif")
    analytic = parse_stac_item(doc, where, image="https://example.test/a/analytic.tif")
    assert analytic.metadata["rgb_bands"] == [3, 2, 1]
    visual = parse_stac_item(doc, where, image="https://example.test/a/visual.tif")
    assert visual.metadata["rgb_bands"] == [1, 2, 3]
    assert "rgb_bands" not in parse_stac_item(doc, where, image="elsewhere.tif").metadata


@pytest.mark.parametrize(
    ("crs", "scale"),
    [
        ("EPSG:3857", 1.0 / np.cos(np.radians(42.4214))),  # Web Mercator "metres"
        ("EPSG:4326", None),  # degrees
        ("EPSG:32652", 1.0),  # UTM: true metres
    ],
)
def test_detect_measures_the_ground_pixel_size_in_any_crs(
    tmp_path: Path, crs: str, scale: float | None
) -> None:
    """Before, `detect` took a Web Mercator image's pixel size in its CRS units (0.68 m
    for 0.5 m ground pixels at Tumangang's 42.4° N), 35 % off the scale the detector
    needs to about 10 %."""
    from pyproj import Transformer
    from rasterio.transform import from_origin

    from railwatch.detect.api import gsd_of

    x, y = Transformer.from_crs("EPSG:4326", crs, always_xy=True).transform(130.6081, 42.4214)
    if scale is None:  # 0.5 m on the ground in degrees, at the image's latitude
        res_x, res_y = 0.5 / (111_320.0 * np.cos(np.radians(42.4214))), 0.5 / 110_950.0
    else:
        res_x = res_y = 0.5 * scale
    path = tmp_path / "img.tif"
    profile = {"driver": "GTiff", "width": 200, "height": 200, "count": 3, "dtype": "uint8"}
    with rasterio.open(path, "w", crs=crs, transform=from_origin(x, y, res_x, res_y), **profile):
        pass
    with rasterio.open(path) as ds:
        assert gsd_of(ds) == pytest.approx(0.5, rel=0.01)
