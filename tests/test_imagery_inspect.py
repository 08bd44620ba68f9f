"""inspect_scene: headers, hash, GSD, footprint, dates, sidecars and bad input."""

from __future__ import annotations

import hashlib
import json
import math
import os
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
import rasterio
import rasterio.crs
import rasterio.shutil
import shapely
from PIL import Image
from pyproj import Transformer
from shapely.geometry import Point, Polygon, box

from imagery_helpers import (
    ORIGIN_X,
    ORIGIN_Y,
    UTM52,
    image_box_wgs84,
    north_up,
    utm_box_wgs84,
    write_geotiff,
    yard_scene,
)
from railwatch.errors import ImageryError, NoOverlapError
from railwatch.imagery import (
    CorruptImageError,
    EmptyImageError,
    MissingCRSError,
    MissingDateError,
    NotGeoreferencedError,
    UnsupportedFormatError,
    check_overlap,
    inspect_scene,
    site_coverage,
)

DAY = datetime(2023, 10, 5, 12, tzinfo=UTC)  # a name's day alone: noon (session 32)


def small(tmp_path: Path, name: str = "yard_2023-10-05.tif", **kw: object) -> Path:
    return write_geotiff(tmp_path / name, yard_scene(96, 128), **kw)  # type: ignore[arg-type]


# ---------------------------------------------------------------- basics


def test_inspect_utm_scene(tmp_path: Path) -> None:
    path = small(tmp_path)
    info = inspect_scene(path)
    assert info.uri == str(path.resolve())
    assert info.content_hash == hashlib.sha256(path.read_bytes()).hexdigest()
    assert info.crs == "EPSG:32652"
    assert info.gsd == pytest.approx(0.5)
    assert (info.width, info.height, info.band_count, info.dtype) == (128, 96, 3, "uint8")
    assert info.acquired == DAY and info.date_source == "filename"
    assert info.sensor is None and info.mask_uri is None
    # the footprint is the image outline in WGS84, near Tumangang
    expected = image_box_wgs84(0, 0, 128, 96)
    assert info.footprint.symmetric_difference(expected).area < 1e-3 * expected.area
    assert info.footprint.contains(Point(130.6082, 42.4213))


def test_same_content_same_hash(tmp_path: Path) -> None:
    a = small(tmp_path)
    b = tmp_path / "copy" / a.name
    b.parent.mkdir()
    b.write_bytes(a.read_bytes())
    assert inspect_scene(a).content_hash == inspect_scene(b).content_hash


def test_sixteen_bit_four_band_and_one_band_headers(tmp_path: Path) -> None:
    data16 = (yard_scene(64, 64).astype(np.uint16) * 40)[[0, 1, 2, 0]]
    info = inspect_scene(write_geotiff(tmp_path / "a_20231005.tif", data16))
    assert (info.band_count, info.dtype) == (4, "uint16")
    grey = yard_scene(64, 64)[0]
    info = inspect_scene(write_geotiff(tmp_path / "b_20231005.tif", grey))
    assert (info.band_count, info.dtype) == (1, "uint8")


# ---------------------------------------------------------------- resolution


def test_gsd_geographic_crs_in_metres(tmp_path: Path) -> None:
    res = 5e-6  # degrees
    path = write_geotiff(
        tmp_path / "geo_20231005.tif",
        yard_scene(64, 64),
        crs="EPSG:4326",
        transform=north_up(130.6081, 42.4214, res),
    )
    info = inspect_scene(path)
    lat = math.radians(42.4214)
    m_per_deg_lat = 111132.95 - 559.85 * math.cos(2 * lat)
    m_per_deg_lon = 111412.88 * math.cos(lat) - 93.5 * math.cos(3 * lat)
    assert info.metadata["gsd_y"] == pytest.approx(res * m_per_deg_lat, rel=1e-3)
    assert info.metadata["gsd_x"] == pytest.approx(res * m_per_deg_lon, rel=1e-3)
    assert info.gsd == pytest.approx(math.sqrt(res * m_per_deg_lat * res * m_per_deg_lon), rel=1e-3)


def test_gsd_feet_crs(tmp_path: Path) -> None:
    # New York Long Island state plane, US survey feet: 2 ft pixels = 0.6096 m
    path = write_geotiff(
        tmp_path / "ny_20231005.tif",
        yard_scene(64, 64),
        crs="EPSG:2263",
        transform=north_up(985000, 200000, 2.0),
    )
    info = inspect_scene(path)
    assert info.gsd == pytest.approx(2 * 1200 / 3937, rel=1e-4)
    assert info.footprint.contains(Point(-73.95, 40.72)) or info.footprint.bounds[0] < -73.9


def test_gsd_web_mercator_is_ground_metres(tmp_path: Path) -> None:
    x, y = Transformer.from_crs("EPSG:4326", "EPSG:3857", always_xy=True).transform(
        130.6081, 42.4214
    )
    path = write_geotiff(
        tmp_path / "merc_20231005.tif",
        yard_scene(64, 64),
        crs="EPSG:3857",
        transform=north_up(x, y, 1.0),
    )
    # Web Mercator metres shrink by cos(latitude) on the ground
    assert inspect_scene(path).gsd == pytest.approx(math.cos(math.radians(42.42)), rel=0.01)


# ---------------------------------------------------------------- footprint & coverage


def test_footprint_and_coverage_across_utm_zones(tmp_path: Path) -> None:
    # An image in zone 52 that straddles 132 E, the border with zone 53.
    to52 = Transformer.from_crs("EPSG:4326", UTM52, always_xy=True)
    x0, y0 = to52.transform(131.99, 42.42)
    path = write_geotiff(
        tmp_path / "edge_20231005.tif",
        yard_scene(100, 100),
        res=20.0,
        origin=(round(x0), round(y0)),
    )
    info = inspect_scene(path)
    # its corners, transformed directly, are the footprint's corners
    to_wgs = Transformer.from_crs(UTM52, "EPSG:4326", always_xy=True)
    for c, r in ((0, 0), (100, 0), (100, 100), (0, 100)):
        lon, lat = to_wgs.transform(round(x0) + 20.0 * c, round(y0) - 20.0 * r)
        assert info.footprint.buffer(1e-7).contains(Point(lon, lat))
    assert info.footprint.bounds[2] > 132.0 > info.footprint.bounds[0]
    # a site entirely in zone 53, about half of it under the image; the expected
    # coverage is computed independently, in the image's own CRS
    assert isinstance(info.footprint, Polygon)
    east = max(lon for lon, _ in info.footprint.exterior.coords)
    lat0, lat1 = info.footprint.bounds[1] + 0.003, info.footprint.bounds[3] - 0.003
    site = box(132.0005, lat0, east + (east - 132.0005), lat1)
    native = shapely.transform(
        site.segmentize(0.0005), lambda xy: np.column_stack(to52.transform(xy[:, 0], xy[:, 1]))
    )
    image = box(round(x0), round(y0) - 2000.0, round(x0) + 2000.0, round(y0))
    expected = native.intersection(image).area / native.area
    assert 0.3 < expected < 0.7
    assert site_coverage(info.footprint, site) == pytest.approx(expected, abs=0.005)


def test_valid_data_footprint_with_nodata(tmp_path: Path) -> None:
    data = yard_scene(128, 128)
    data[:, :, :64] = 0
    info = inspect_scene(small_with(tmp_path, data, nodata=0))
    assert info.metadata["footprint_from"] == "valid-data"
    left = image_box_wgs84(4, 4, 60, 124)
    right = image_box_wgs84(68, 4, 124, 124)
    assert site_coverage(info.footprint, left) < 0.02
    assert site_coverage(info.footprint, right) > 0.98


def small_with(tmp_path: Path, data: np.ndarray, **kw: object) -> Path:
    return write_geotiff(tmp_path / "nd_2023-10-05.tif", data, **kw)  # type: ignore[arg-type]


def test_check_overlap(tmp_path: Path) -> None:
    info = inspect_scene(small(tmp_path))
    site = image_box_wgs84(64, 48, 192, 144)  # a quarter of it under the image
    assert check_overlap(info, site, site_name="tumangang") == pytest.approx(0.25, abs=0.02)
    far = utm_box_wgs84(ORIGIN_X + 5000, ORIGIN_Y, ORIGIN_X + 5100, ORIGIN_Y + 100)
    with pytest.raises(NoOverlapError, match=r"does not overlap site tumangang \(0 pixels\)"):
        check_overlap(info, far, site_name="tumangang")
    # touching the image along a sliver thinner than a pixel is no overlap either
    sliver = image_box_wgs84(127.9, 10, 300, 20)
    with pytest.raises(NoOverlapError):
        check_overlap(info, sliver)


# ---------------------------------------------------------------- dates and sidecars


def _stac(path: Path, when: str | None, **extra: object) -> Path:
    item = {
        "type": "Feature",
        "stac_version": "1.0.0",
        "id": path.stem,
        "properties": {"datetime": when, **extra},
        "assets": {
            "image": {"href": path.name, "roles": ["data"]},
            "mask": {"href": path.stem + ".mask.tif", "roles": ["quality"]},
        },
    }
    side = path.with_suffix(".json")
    side.write_text(json.dumps(item))
    return side


def test_date_precedence_option_stac_tag_filename(tmp_path: Path) -> None:
    path = small(
        tmp_path,
        name="20200101_000000_scene.tif",
        tags={"TIFFTAG_DATETIME": "2021:02:03 04:05:06"},
    )
    _stac(path, "2022-03-04T05:06:07+09:00")
    option = datetime(2023, 10, 5, 14, 0, tzinfo=UTC)
    info = inspect_scene(path, date=option)
    assert (info.acquired, info.date_source) == (option, "option")
    info = inspect_scene(path)
    assert (info.acquired, info.date_source) == (datetime(2022, 3, 3, 20, 6, 7, tzinfo=UTC), "stac")
    path.with_suffix(".json").unlink()
    # TIFFTAG_DATETIME is when the file was written (2021): the name's date wins
    info = inspect_scene(path)
    assert (info.acquired, info.date_source) == (datetime(2020, 1, 1, tzinfo=UTC), "filename")
    untitled = small(tmp_path, name="scene.tif", tags={"TIFFTAG_DATETIME": "2021:02:03 04:05:06"})
    info = inspect_scene(untitled)
    assert (info.acquired, info.date_source) == (
        datetime(2021, 2, 3, 4, 5, 6, tzinfo=UTC),
        "tiff-tag",
    )
    plain = small(tmp_path, name="20200101_000000_plain.tif")
    info = inspect_scene(plain)
    assert (info.acquired, info.date_source) == (datetime(2020, 1, 1, tzinfo=UTC), "filename")


def test_naive_option_date_is_utc(tmp_path: Path) -> None:
    info = inspect_scene(small(tmp_path, name="x.tif"), date=datetime(2023, 10, 5, 6))
    assert info.acquired == datetime(2023, 10, 5, 6, tzinfo=UTC)


def test_imagery_domain_tag_and_sensor(tmp_path: Path) -> None:
    path = small(
        tmp_path,
        name="noname.tif",
        tag_domains={
            "IMAGERY": {
                "ACQUISITIONDATETIME": "2023-10-05 05:32:12",
                "SATELLITEID": "WV03",
                "CLOUDCOVER": "12",
            }
        },
    )
    info = inspect_scene(path)
    assert info.acquired == datetime(2023, 10, 5, 5, 32, 12, tzinfo=UTC)
    assert info.date_source == "tiff-tag"
    assert info.sensor == "WV03"
    assert info.metadata["cloud_cover"] == 12.0


def test_stac_sidecar_metadata_and_mask(tmp_path: Path) -> None:
    path = small(tmp_path, name="scene_a.tif")
    mask = write_geotiff(tmp_path / "scene_a.mask.tif", np.zeros((96, 128), np.uint8))
    _stac(
        path,
        "2023-10-05T05:32:12Z",
        gsd=0.5,
        platform="SkySat-sim",
        constellation="SkySat-sim",
        **{
            "eo:cloud_cover": 3.5,
            "view:off_nadir": 12.0,
            "view:sun_elevation": 38.0,
            "view:sun_azimuth": 160.0,
        },
    )
    info = inspect_scene(path)
    assert info.date_source == "stac"
    assert info.acquired == datetime(2023, 10, 5, 5, 32, 12, tzinfo=UTC)
    assert info.sensor == "SkySat-sim"
    assert info.mask_uri == str(mask.resolve())
    md = info.metadata
    assert (md["cloud_cover"], md["off_nadir"], md["sun_elevation"], md["sun_azimuth"]) == (
        3.5, 12.0, 38.0, 160.0,
    )  # fmt: skip
    assert md["stac_gsd"] == 0.5 and md["stac_id"] == "scene_a"
    json.dumps(md)  # storable as JSON


def test_stac_without_datetime_falls_back(tmp_path: Path) -> None:
    path = small(tmp_path, name="scene_2023-10-05.tif")
    _stac(path, None)
    info = inspect_scene(path)
    assert info.date_source == "filename"


def test_planet_metadata_json(tmp_path: Path) -> None:
    path = small(tmp_path, name="psscene.tif")
    (tmp_path / "psscene_metadata.json").write_text(
        json.dumps(
            {
                "id": "psscene",
                "properties": {
                    "acquired": "2023-10-05T01:02:03.5Z",
                    "cloud_cover": 0.07,
                    "satellite_id": "2431",
                    "view_angle": 3.1,
                },
            }
        )
    )
    info = inspect_scene(path)
    assert info.date_source == "stac"
    assert info.acquired == datetime(2023, 10, 5, 1, 2, 3, 500000, tzinfo=UTC)
    assert info.sensor == "2431"
    assert info.metadata["cloud_cover"] == pytest.approx(7.0)
    assert info.metadata["off_nadir"] == 3.1


def test_mask_beside_without_stac(tmp_path: Path) -> None:
    path = small(tmp_path)
    mask = write_geotiff(tmp_path / (path.stem + ".mask.tif"), np.zeros((96, 128), np.uint8))
    assert inspect_scene(path).mask_uri == str(mask.resolve())


def test_invalid_sidecar_json(tmp_path: Path) -> None:
    """A STAC item cut short is refused; since session 31 a file that is not JSON and
    names none of an item's keys (another tool's) is left alone."""
    path = small(tmp_path)
    path.with_suffix(".json").write_text('{"type": "Feature", "stac_version": "1.0.0", "pro')
    with pytest.raises(ImageryError, match=r"sidecar yard_2023-10-05\.json .* not valid JSON"):
        inspect_scene(path)
    path.with_suffix(".json").write_text("{not json")
    assert inspect_scene(path).date_source == "filename"


def test_missing_date_message(tmp_path: Path) -> None:
    path = small(tmp_path, name="scene.tif")
    with pytest.raises(MissingDateError) as err:
        inspect_scene(path)
    assert str(err.value) == (
        "no acquisition date found for scene.tif: give it (date=YYYY-MM-DD in Python, "
        "--date YYYY-MM-DD on the command line), or add a STAC sidecar scene.json, or put "
        "the date in the filename"
    )


def test_impossible_filename_date_is_refused(tmp_path: Path) -> None:
    path = small(tmp_path, name="scene_20231345.tif")
    with pytest.raises(MissingDateError, match="20231345 in the file name is not a valid date"):
        inspect_scene(path)


# ---------------------------------------------------------------- bad input


def test_truncated_tiff(tmp_path: Path) -> None:
    path = small(tmp_path, tiled=True)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) * 2 // 3])
    with pytest.raises(CorruptImageError, match="corrupt or truncated"):
        inspect_scene(path)


def test_truncated_cog_with_header_first(tmp_path: Path) -> None:
    src = write_geotiff(tmp_path / "src.tif", yard_scene(512, 512), tiled=True)
    cog = tmp_path / "cog_2023-10-05.tif"
    rasterio.shutil.copy(src, cog, driver="COG")
    data = cog.read_bytes()
    cog.write_bytes(data[: len(data) - 20000])
    with pytest.raises(CorruptImageError, match="corrupt or truncated"):
        inspect_scene(cog)


@pytest.mark.parametrize("head", [b"", b"II*\x00", b"\x89PNG\r\n\x1a\n"])
def test_corrupt_files(tmp_path: Path, head: bytes) -> None:
    path = tmp_path / "bad_2023-10-05.tif"
    path.write_bytes(head + os.urandom(4000) if head else b"")
    with pytest.raises(CorruptImageError, match="corrupt or truncated"):
        inspect_scene(path)


def test_unsupported_format(tmp_path: Path) -> None:
    path = tmp_path / "notes_2023-10-05.txt"
    path.write_text("railcars: 73\n" * 50)
    with pytest.raises(UnsupportedFormatError, match="ingest needs a GeoTIFF/COG"):
        inspect_scene(path)


@pytest.mark.parametrize("suffix", [".png", ".jpg"])
def test_screenshot_not_georeferenced(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"screenshot_2023-10-05{suffix}"
    Image.fromarray(np.moveaxis(yard_scene(64, 64), 0, -1)).save(path)
    with pytest.raises(NotGeoreferencedError) as err:
        inspect_scene(path)
    world = path.with_suffix({".png": ".pgw", ".jpg": ".jgw"}[suffix]).name
    assert str(err.value) == (  # as a folder's picture is told (session 41)
        f"{path.name} is not georeferenced (no world file {world}, no geotransform in "
        f"{path.name}.aux.xml): `railwatch detect {path.name} --gsd M` counts its cars alone "
        f"(M metres per pixel); to ingest it, give it a world file {world} and its CRS in "
        f"{path.name}.aux.xml (as export-labels writes them), or ingest the GeoTIFF it was "
        "made from"
    )


def test_missing_crs(tmp_path: Path) -> None:
    path = small(tmp_path, crs=None)
    with pytest.raises(MissingCRSError, match="has a geotransform but no CRS"):
        inspect_scene(path)


def test_all_nodata(tmp_path: Path) -> None:
    path = small_with(tmp_path, np.zeros((3, 64, 64), np.uint8), nodata=0)
    with pytest.raises(EmptyImageError, match="no valid pixels"):
        inspect_scene(path)


def test_nan_only_float(tmp_path: Path) -> None:
    path = small_with(tmp_path, np.full((3, 64, 64), np.nan, np.float32))
    with pytest.raises(EmptyImageError, match=r"no valid pixels .*NaN"):
        inspect_scene(path)


def test_transparent_only(tmp_path: Path) -> None:
    data = np.concatenate([yard_scene(64, 64), np.zeros((1, 64, 64), np.uint8)])
    path = small_with(tmp_path, data, alpha=True)
    with pytest.raises(EmptyImageError):
        inspect_scene(path)


def test_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(ImageryError, match="no such file"):
        inspect_scene(tmp_path / "nope.tif")
    with pytest.raises(ImageryError, match="is a directory"):
        inspect_scene(tmp_path)


def test_remote_uri_refused(tmp_path: Path) -> None:
    with pytest.raises(UnsupportedFormatError, match="only local files"):
        inspect_scene("s3://bucket/scene.tif")
    path = small(tmp_path)
    assert inspect_scene(f"file://{path}").uri == str(path.resolve())


@pytest.mark.filterwarnings("ignore::rasterio.errors.NotGeoreferencedWarning")
def test_gcp_only_image_is_refused(tmp_path: Path) -> None:
    from rasterio.control import GroundControlPoint

    path = tmp_path / "gcps_2023-10-05.tif"
    gcps = [
        GroundControlPoint(row=0, col=0, x=ORIGIN_X, y=ORIGIN_Y),
        GroundControlPoint(row=0, col=64, x=ORIGIN_X + 32, y=ORIGIN_Y),
        GroundControlPoint(row=64, col=0, x=ORIGIN_X, y=ORIGIN_Y - 32),
    ]
    with rasterio.open(
        path, "w", driver="GTiff", width=64, height=64, count=3, dtype="uint8"
    ) as dst:
        dst.write(yard_scene(64, 64))
        dst.gcps = (gcps, rasterio.crs.CRS.from_string(UTM52))
    with pytest.raises(UnsupportedFormatError, match="ground control points"):
        inspect_scene(path)


@pytest.mark.parametrize("how", ["nodata", "alpha", "internal-mask", "nan"])
def test_valid_data_footprint_from_overview(tmp_path: Path, how: str) -> None:
    data = yard_scene(512, 512).astype(np.float32 if how == "nan" else np.uint8)
    path = tmp_path / f"ovr_{how}_2023-10-05.tif"
    if how == "nodata":
        data = np.maximum(data, 1)
        data[:, :, :256] = 0
        write_geotiff(path, data, nodata=0, tiled=True, overviews=(2, 4, 8))
    elif how == "nan":
        data[:, :, :256] = np.nan
        write_geotiff(path, data, tiled=True, overviews=(2, 4, 8))
    elif how == "alpha":
        alpha = np.full((1, 512, 512), 255, np.uint8)
        alpha[:, :, :256] = 0
        write_geotiff(path, np.concatenate([data, alpha]), alpha=True, overviews=(2, 4, 8))
    else:
        write_geotiff(path, data, tiled=True)
        mask = np.full((512, 512), 255, np.uint8)
        mask[:, :256] = 0
        with rasterio.Env(GDAL_TIFF_INTERNAL_MASK=True), rasterio.open(path, "r+") as ds:
            ds.write_mask(mask)
            ds.build_overviews([2, 4, 8])
    info = inspect_scene(path)
    assert info.metadata["has_overviews"] and info.metadata["footprint_from"] == "valid-data"
    assert site_coverage(info.footprint, image_box_wgs84(16, 16, 240, 496)) < 0.03
    assert site_coverage(info.footprint, image_box_wgs84(272, 16, 496, 496)) > 0.97


def test_sun_of_scene_metadata() -> None:
    from railwatch.imagery.inspect import sun_of

    assert sun_of({"sun_azimuth": 160.0, "sun_elevation": 35.5}) == (160.0, 35.5)
    assert sun_of({"sun_azimuth": -20, "sun_elevation": "12"}) == (340.0, 12.0)
    assert sun_of({"sun_azimuth": 160.0}) is None
    assert sun_of({"sun_azimuth": 160.0, "sun_elevation": -3.0}) is None  # night
    assert sun_of({"sun_azimuth": "n/a", "sun_elevation": 30}) is None
    assert sun_of(None) is None and sun_of({}) is None
