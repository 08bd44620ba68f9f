"""`railwatch detect`: the faults review r1 (session 39) left for after the CLI was free.

- an image given twice (``a/scene.tif a/./scene.tif``, a link to it) is said to be given
  twice, not "a/scene.tif and a/scene.tif would both be written";
- an output that is no JSON (``-o OTHER.tif``) is refused before detection, not after;
- ``--wgs84`` on an image of GCPs or RPCs says how to map it, as without ``--wgs84``;
- the GeoJSON's top-level ``gsd`` is written to 6 significant digits;
- a 16-bit copy of an 8-bit image read with the default radiometry gets a hint;
- 64-bit integer images are refused by ``detect`` as ``ingest`` refuses them;
- a PNG with a world file and a ``.prj`` GDAL does not read is said so by ``detect``.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import rasterio
from rasterio.crs import CRS
from rasterio.errors import NotGeoreferencedWarning

from imagery_helpers import write_geotiff
from railwatch.cli.main import main
from railwatch.imagery.inspect import UnsupportedFormatError, inspect_scene


def _rgb(h: int = 96, w: int = 96) -> np.ndarray:
    return np.random.default_rng(0).integers(0, 255, (3, h, w), dtype=np.uint8)


def _err(capsys: pytest.CaptureFixture[str]) -> str:
    return " ".join(capsys.readouterr().err.split())


# 1. one image given twice


def test_one_image_spelled_twice_is_said_to_be_given_twice(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a").mkdir()
    write_geotiff(tmp_path / "a" / "scene.tif", _rgb())
    assert main(["detect", "a/scene.tif", "a/./scene.tif"]) == 2
    err = _err(capsys)
    assert "a/scene.tif is given twice: give it once" in err
    assert "would both be written" not in err
    assert not (tmp_path / "a" / "scene.detections.geojson").exists()


def test_an_image_and_a_link_to_it_are_said_to_be_the_same_image(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    img = write_geotiff(tmp_path / "scene.tif", _rgb())
    link = tmp_path / "link.tif"
    link.symlink_to(img)
    assert main(["detect", str(img), str(link), "--out-dir", str(tmp_path / "out")]) == 2
    err = _err(capsys)
    assert f"{img} and {link} are the same image (given twice): give it once" in err
    assert not (tmp_path / "out").exists()


# 2. an output that is no JSON, refused before the image is detected


@pytest.mark.parametrize("how", [["-o", "other.tif"], []])
def test_an_output_that_is_an_image_is_refused_before_detection(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    how: list[str],
) -> None:
    import railwatch.detect.api

    def detected(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the image was detected before its output was checked")

    monkeypatch.setattr(railwatch.detect.api, "detect_file", detected)
    img = write_geotiff(tmp_path / "yard.tif", _rgb())
    # -o OTHER.tif, or the default output beside the image holding an image
    other = tmp_path / (how[1] if how else "yard.detections.geojson")
    write_geotiff(other, _rgb())
    before = other.read_bytes()
    args = [how[0], str(other)] if how else []
    assert main(["detect", str(img), *args]) == 2
    err = _err(capsys)
    assert f"cannot write detections to {other}: the file there is a TIFF image" in err
    assert "the image was detected" not in err
    assert other.read_bytes() == before


# 3. --wgs84 on an image of ground control points or RPCs


def _unmapped(path: Path, how: str) -> Path:
    from rasterio.control import GroundControlPoint
    from rasterio.rpc import RPC

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NotGeoreferencedWarning)
        with rasterio.open(
            path, "w", driver="GTiff", width=96, height=96, count=3, dtype="uint8"
        ) as ds:
            ds.write(_rgb())
            if how == "gcps":
                points = [
                    GroundControlPoint(r, c, 618000 + 0.5 * c, 5266000 - 0.5 * r)
                    for r, c in ((0, 0), (0, 96), (96, 0), (96, 96))
                ]
                ds.gcps = (points, CRS.from_epsg(32632))
            else:
                ds.rpcs = RPC(
                    height_off=300, height_scale=500, lat_off=47.5, lat_scale=0.01,
                    line_den_coeff=[1.0] + [0.0] * 19, line_num_coeff=[0, 0, -1.0] + [0.0] * 17,
                    line_off=48, line_scale=48, long_off=10.5, long_scale=0.01,
                    samp_den_coeff=[1.0] + [0.0] * 19, samp_num_coeff=[0, 1.0] + [0.0] * 18,
                    samp_off=48, samp_scale=48,
                )  # fmt: skip
    return path


@pytest.mark.parametrize(
    ("how", "said", "command"),
    [
        ("gcps", "It has ground control points but no map grid", "gdalwarp -t_srs EPSG:CODE"),
        ("rpcs", "It has RPCs (the sensor's model) but no map grid", "gdalwarp -rpc"),
    ],
)
def test_wgs84_on_an_image_of_gcps_or_rpcs_says_how_to_map_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], how: str, said: str, command: str
) -> None:
    img = _unmapped(tmp_path / "l1b.tif", how)
    assert main(["detect", str(img), "--wgs84", "--gsd", "0.5"]) == 2
    err = _err(capsys)
    assert "l1b.tif is not georeferenced: --wgs84 needs a georeferenced image" in err
    assert said in err and command in err and "l1b.tif OUT.tif" in err


# 4. the GeoJSON's gsd, as it is shown


def test_gsd_for_display_keeps_six_significant_digits() -> None:
    from railwatch.detect.geojson import gsd_for_display

    assert gsd_for_display(0.30000000000120003) == 0.3
    assert gsd_for_display(0.300340812345) == 0.300341
    assert gsd_for_display(10.0) == 10.0
    assert gsd_for_display(0.0123456789) == 0.0123457


def test_detect_writes_the_gsd_rounded(tmp_path: Path) -> None:
    img = write_geotiff(tmp_path / "yard.tif", _rgb(), res=0.30000000000120003)
    out = tmp_path / "yard.geojson"
    assert main(["detect", str(img), "-o", str(out)]) == 0
    fc = json.loads(out.read_text())
    assert fc["gsd"] == 0.3
    assert '"gsd": 0.3,' in out.read_text()


# 5. an 8-bit image stored in 16 bits, read as radiance by default


def _uint16(path: Path, data: np.ndarray) -> Path:
    return write_geotiff(path, data.astype(np.uint16))


@pytest.mark.parametrize("factor", [257, 1])
def test_a_16_bit_copy_of_an_8_bit_image_gets_a_hint(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], factor: int
) -> None:
    img = _uint16(tmp_path / "visual.tif", _rgb().astype(np.uint16) * factor)
    out = tmp_path / "visual.geojson"
    assert main(["detect", str(img), "-o", str(out)]) == 0
    err = _err(capsys)
    assert "hint: visual.tif:" in err and "--radiometry display" in err
    said = "multiples of 257" if factor == 257 else "all between 0 and 255"
    assert f"its values are 8-bit ones ({said})" in err
    # the default unchanged: read as linear, as before
    assert json.loads(out.read_text())["radiometry"] == "linear"


@pytest.mark.parametrize(
    ("data", "args"),
    [
        # a real 12-bit analytic image: values of every kind
        (np.random.default_rng(1).integers(0, 4096, (3, 96, 96)), []),
        # the telltale case, but the radiometry was chosen
        (_rgb().astype(np.int64) * 257, ["--radiometry", "linear"]),
        (_rgb().astype(np.int64) * 257, ["--radiometry", "display"]),
    ],
)
def test_no_hint_for_other_16_bit_images_or_a_chosen_radiometry(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], data: np.ndarray, args: list[str]
) -> None:
    img = _uint16(tmp_path / "scene.tif", data)
    assert main(["detect", str(img), "-o", str(tmp_path / "scene.geojson"), *args]) == 0
    assert "hint:" not in _err(capsys)


# 6. 64-bit integer images: refused by detect as by ingest


@pytest.mark.parametrize("dtype", ["int64", "uint64"])
def test_detect_refuses_64_bit_integers_as_ingest_does(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], dtype: str
) -> None:
    img = write_geotiff(tmp_path / "wide.tif", _rgb().astype(dtype))
    out = tmp_path / "wide.geojson"
    assert main(["detect", str(img), "-o", str(out)]) == 2
    said = f"wide.tif has pixel type {dtype}, which railwatch cannot read"
    err = _err(capsys)
    assert said in err and "gdal_translate -ot UInt16 wide.tif OUT.tif" in err
    assert not out.exists()
    with pytest.raises(UnsupportedFormatError, match=said):
        inspect_scene(img)


# 7. a PNG with a world file and a .prj GDAL does not read


@pytest.mark.parametrize("scale_check", [[], ["--no-scale-check"]])
def test_detect_names_the_prj_gdal_does_not_read_beside_a_png(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], scale_check: list[str]
) -> None:
    png = tmp_path / "yard.png"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NotGeoreferencedWarning)
        with rasterio.open(
            png, "w", driver="PNG", width=96, height=96, count=3, dtype="uint8"
        ) as ds:
            ds.write(_rgb())
    (tmp_path / "yard.pgw").write_text("0.5\n0\n0\n-0.5\n618000.25\n5266000.25\n")
    (tmp_path / "yard.prj").write_text(CRS.from_epsg(32632).to_wkt(version="WKT1_ESRI"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NotGeoreferencedWarning)
        with rasterio.open(png) as ds:
            assert ds.crs is None and not ds.transform.is_identity  # GDAL leaves the .prj
    assert main(["detect", str(png), *scale_check]) == 2
    err = _err(capsys)
    assert "yard.png is not georeferenced" in err
    assert "GDAL does not read the CRS in yard.prj beside it" in err
    assert "gdal_edit.py -a_srs yard.prj yard.png" in err
    # and --wgs84 says it too
    assert main(["detect", str(png), "--wgs84", "--gsd", "0.5"]) == 2
    assert "gdal_edit.py -a_srs yard.prj yard.png" in _err(capsys)
