"""Images georeferenced another way than a CRS and a geotransform are refused by ingest
with what to do: an image with only RPCs (a sensor model: Maxar, Airbus, Planet basic
products) was told "not georeferenced: use `railwatch detect --gsd` for screenshots";
an image without CRS whose CRS lies in an ESRI ``NAME.prj`` beside it (which GDAL never
reads for a GeoTIFF) was not told where its CRS is nor how to write it in."""

from __future__ import annotations

from pathlib import Path

import pytest
import rasterio
from rasterio.rpc import RPC

from imagery_helpers import UTM52, write_geotiff, yard_scene
from railwatch.cli.main import main
from railwatch.imagery import MissingCRSError, UnsupportedFormatError, inspect_scene

SIZE = 120


def _rpc_image(path: Path) -> Path:
    rpc = RPC(
        height_off=300, height_scale=500, lat_off=42.42, lat_scale=0.003,
        line_den_coeff=[1] + [0] * 19, line_num_coeff=[0, 0, -1] + [0] * 17, line_off=60,
        line_scale=60, long_off=130.6, long_scale=0.004, samp_den_coeff=[1] + [0] * 19,
        samp_num_coeff=[0, 1] + [0] * 18, samp_off=60, samp_scale=60,
    )  # fmt: skip
    with rasterio.open(
        path, "w", driver="GTiff", width=SIZE, height=SIZE, count=3, dtype="uint8", rpcs=rpc
    ) as dst:
        dst.write(yard_scene(SIZE, SIZE))
    return path


def test_an_image_with_only_rpcs_is_told_to_orthorectify_with_them(tmp_path: Path) -> None:
    path = _rpc_image(tmp_path / "scene_2024-05-01.tif")
    with pytest.raises(UnsupportedFormatError) as err:
        inspect_scene(path)
    message = str(err.value)
    assert "RPC" in message and "gdalwarp -rpc" in message
    assert "screenshot" not in message and "--gsd" not in message


def test_ingest_lists_the_rpc_image_with_its_reason(
    tmp_path: Path, tmp_db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _rpc_image(tmp_path / "scene_2024-05-01.tif")
    bbox = "130.6,42.41,130.61,42.42"
    assert main(["--db", tmp_db_url, "site", "add", "yard", "--bbox", bbox]) == 0
    capsys.readouterr()
    assert main(["--db", tmp_db_url, "ingest", "yard", str(path)]) == 1
    out = " ".join(capsys.readouterr().out.split())
    assert "georeferenced only by RPCs" in out and "Traceback" not in out


def test_a_crs_in_a_prj_beside_the_image_is_named_with_the_command_that_writes_it_in(
    tmp_path: Path,
) -> None:
    path = write_geotiff(tmp_path / "scene_2024-05-01.tif", yard_scene(SIZE, SIZE), crs=None)
    prj = path.with_suffix(".prj")
    prj.write_text(rasterio.crs.CRS.from_user_input(UTM52).to_wkt(version="WKT1_ESRI"))
    with pytest.raises(MissingCRSError) as err:
        inspect_scene(path)
    message = str(err.value)
    assert "scene_2024-05-01.prj" in message
    assert "gdal_edit.py -a_srs scene_2024-05-01.prj scene_2024-05-01.tif" in message
    prj.unlink()
    with pytest.raises(MissingCRSError) as err:
        inspect_scene(path)
    assert ".prj" not in str(err.value) and "EPSG:CODE" in str(err.value)


def test_projected_coordinates_under_a_degrees_crs_are_said_to_be_a_wrong_crs(
    tmp_path: Path,
) -> None:
    """UTM metres labelled EPSG:4326 was 'cannot compute the ground resolution of this
    image's CRS', with nothing to do."""
    path = write_geotiff(tmp_path / "scene_2024-05-01.tif", yard_scene(SIZE, SIZE), crs="EPSG:4326")
    with pytest.raises(MissingCRSError) as err:
        inspect_scene(path)
    message = str(err.value)
    assert "no longitude and latitude" in message and "EPSG:4326" in message
    assert "gdal_edit.py -a_srs EPSG:CODE scene_2024-05-01.tif" in message
