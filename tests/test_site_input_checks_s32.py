"""What ``site add`` can check of a site's coordinates without imagery (session 32).

A site given as lat,lon is refused when a number is beyond ±90 (since before session
28); when both are within ±90 it is a valid place elsewhere. What can still be seen
without an image: a part of a multi-part site written the other way round from the
rest (parts thousands of km apart), track lines that meet the site only once swapped,
a 'crs' member naming a projected CRS over coordinates in degrees, and, for the
analyst, where the site landed (latitude first, N/E) in the ``site add`` line and in
``process``'s note for a site without scenes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from shapely.geometry import MultiPolygon

from railwatch.cli.main import main
from railwatch.errors import GeometryError
from railwatch.sites import site_from_bbox, site_from_geojson

LON, LAT = 4.90, 52.38  # Amsterdam's yard


def _ring(lon: float, lat: float, d: float = 0.004) -> list[list[list[float]]]:
    return [[[lon, lat], [lon + d, lat], [lon + d, lat + d], [lon, lat + d], [lon, lat]]]


def _features(*rings: list[list[list[float]]]) -> dict[str, Any]:
    return {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "properties": {}, "geometry": {"type": "Polygon", "coordinates": r}}
            for r in rings
        ],
    }


def test_two_parts_one_written_as_lat_lon_are_refused() -> None:
    data = _features(_ring(LON, LAT), _ring(LAT + 0.005, LON))  # the second as lat,lon
    with pytest.raises(GeometryError) as err:
        site_from_geojson("ams", data)
    msg = str(err.value)
    assert "feature 0 and feature 1 lie 6,8" in msg and "km apart" in msg
    assert "52.3820°N 4.9020°E" in msg  # where each lies, latitude first
    assert "one is written as lat,lon" in msg and "RFC 7946" in msg


def test_the_one_part_of_three_written_as_lat_lon_is_named() -> None:
    data = _features(_ring(LON, LAT), _ring(LON + 0.01, LAT), _ring(LAT + 0.005, LON))
    with pytest.raises(GeometryError) as err:
        site_from_geojson("ams", data)
    msg = str(err.value)
    assert msg.startswith("site GeoJSON feature 2 lies 6,8")
    assert "with the two numbers of each of its positions swapped it would lie" in msg
    assert "it looks written as lat,lon" in msg


def test_parts_far_apart_otherwise_are_refused_as_two_places() -> None:
    data = _features(_ring(LON, LAT), _ring(4.47, 51.92))  # Amsterdam and Rotterdam, 58 km
    two = site_from_geojson("two", data).geometry
    assert isinstance(two, MultiPolygon) and len(two.geoms) == 2  # still one site
    data = _features(_ring(LON, LAT), _ring(13.40, 52.52))  # Amsterdam and Berlin
    with pytest.raises(GeometryError) as err:
        site_from_geojson("two", data)
    msg = str(err.value)
    assert "feature 0 and feature 1 lie 5" in msg and "more than the 100 km one site" in msg
    assert "add each place as a site of its own" in msg


def test_a_projected_crs_member_over_degrees_is_named() -> None:
    member = {"type": "name", "properties": {"name": "EPSG:32652"}}
    data = {"type": "Polygon", "coordinates": _ring(130.6081, 42.4214), "crs": member}
    with pytest.raises(GeometryError) as err:
        site_from_geojson("tum", data)
    msg = str(err.value)
    assert "names EPSG:32652 (WGS 84 / UTM zone 52N), a projected CRS in metres" in msg
    assert "look like degrees of longitude and latitude" in msg
    assert "remove the 'crs' member" in msg
    assert "smaller than one railcar" not in msg
    # the same member over metres is read as before
    x, y = 550_000.0, 4_696_000.0  # about 129.61 E, 42.42 N in UTM 52N
    ring = [[x, y], [x + 300, y], [x + 300, y + 300], [x, y + 300], [x, y]]
    spec = site_from_geojson("tum", {"type": "Polygon", "coordinates": [ring], "crs": member})
    assert 0.08 < spec.area_km2 < 0.1 and 129 < spec.geometry.centroid.x < 130


def test_tracks_that_meet_the_site_only_swapped_say_so() -> None:
    line = {
        "type": "LineString",
        "coordinates": [[LAT + 0.001, LON + 0.001], [LAT + 0.003, LON + 0.003]],
    }
    box = f"{LON},{LAT},{LON + 0.004},{LAT + 0.004}"
    with pytest.raises(GeometryError) as err:
        site_from_bbox("ams", box, tracks=line)
    msg = str(err.value)
    assert "but they would with the two numbers of each position swapped" in msg
    # a bbox is no file: it said "one of the two files" (session 40)
    assert "the bbox is given latitude first or the tracks file is written as lat,lon" in msg
    # lines simply elsewhere keep the message they had
    far = {"type": "LineString", "coordinates": [[4.47, 51.92], [4.48, 51.93]]}
    with pytest.raises(GeometryError, match="none of the track lines touch the site polygon: "):
        site_from_bbox("ams", box, tracks=far)


def _cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, " ".join(out.split()), " ".join(err.split())


def test_site_add_refuses_with_status_2(
    tmp_db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "site.geojson"
    path.write_text(json.dumps(_features(_ring(LON, LAT), _ring(LAT + 0.005, LON))))
    code, _, err = _cli(capsys, "--db", tmp_db_url, "site", "add", "ams", "--geojson", str(path))
    assert code == 2 and "one is written as lat,lon" in err


def test_site_add_says_where_the_site_landed(
    tmp_db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    swapped = f"{LAT},{LON},{LAT + 0.004},{LON + 0.004}"
    code, out, _ = _cli(capsys, "--db", tmp_db_url, "site", "add", "ams", "--bbox", swapped)
    assert code == 0
    assert "(around 4.9020°N 52.3820°E)" in out  # the Indian Ocean, for the analyst to see


def test_process_of_a_swappable_site_without_scenes_says_where_it_is(
    tmp_db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    swapped = f"{LAT},{LON},{LAT + 0.004},{LON + 0.004}"
    assert main(["--db", tmp_db_url, "site", "add", "ams", "--bbox", swapped]) == 0
    capsys.readouterr()
    code, _, err = _cli(capsys, "--db", tmp_db_url, "process", "ams")
    assert code == 0
    assert err.startswith("note: site ams has no scenes to process")
    assert "check where the site is: around 4.9020°N 52.3820°E" in err
    assert "GeoJSON and --bbox give each position as lon,lat" in err
