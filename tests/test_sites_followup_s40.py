"""Follow-up of the site input review (2026-12-06, session 40): messages a user got
from `railwatch site add` that did not fit their case, and their fixes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from railwatch.cli.main import main
from railwatch.errors import GeometryError
from railwatch.sites import site_from_geojson

YARD = [[8.50, 47.37], [8.52, 47.37], [8.52, 47.38], [8.50, 47.38], [8.50, 47.37]]
LINES = [
    [[8.501, 47.375], [8.519, 47.375]],
    [[8.501, 47.376], [8.519, 47.376]],
]


def _feature(geometry: dict[str, Any]) -> dict[str, Any]:
    return {"type": "Feature", "properties": {}, "geometry": geometry}


#: one file of the yard's polygon and its track lines, as geojson.io writes it
MIXED = {
    "type": "FeatureCollection",
    "features": [
        _feature({"type": "Polygon", "coordinates": [YARD]}),
        *(_feature({"type": "LineString", "coordinates": line}) for line in LINES),
    ],
}


def _err(capsys: pytest.CaptureFixture[str]) -> str:
    return " ".join(capsys.readouterr().err.split())


# ------------------------------------------- one file of the site and its tracks


def test_a_file_of_polygons_and_lines_gives_the_site_and_its_tracks(
    tmp_path: Path, tmp_db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # the site add told to give the lines with --tracks; that file (the same one) was
    # then refused there for its polygon
    path = tmp_path / "yard.geojson"
    path.write_text(json.dumps(MIXED))
    assert main(["--db", tmp_db_url, "site", "add", "yard", "--geojson", str(path)]) == 2
    err = _err(capsys)
    assert "feature 1 must be a Polygon or MultiPolygon, got LineString" in err
    assert "holds the site's polygons and its track lines together" in err
    assert "--geojson FILE --tracks FILE" in err
    argv = ["--db", tmp_db_url, "site", "add", "yard", "--geojson", str(path)]
    assert main([*argv, "--tracks", str(path)]) == 0
    assert "with track centrelines" in capsys.readouterr().out
    assert main(["--db", tmp_db_url, "site", "show", "yard", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["tracks"]


def test_the_same_mixed_geojson_in_python_splits_into_site_and_tracks() -> None:
    spec = site_from_geojson("yard", MIXED, tracks=json.dumps(MIXED))
    assert spec.geometry.geom_type == "Polygon"
    assert spec.geometry.bounds == (8.50, 47.37, 8.52, 47.38)
    assert spec.tracks is not None and len(spec.tracks.geoms) == 2


def test_a_mixed_tracks_file_for_another_site_is_told_what_to_do(tmp_path: Path) -> None:
    # the lines are taken only when the site is the same file: with another site (or a
    # bbox) the polygon is not the site's and not a track, and is refused, saying how
    path = tmp_path / "yard.geojson"
    path.write_text(json.dumps(MIXED))
    other = {"type": "Polygon", "coordinates": [YARD]}
    with pytest.raises(GeometryError) as info:
        site_from_geojson("yard", other, tracks=path)
    msg = str(info.value)
    assert "tracks feature 0 is a Polygon" in msg
    assert "--geojson FILE --tracks FILE" in msg
    assert "remove the polygons" in msg


# ------------------------------------------------------ a bbox in decimal commas


@pytest.mark.parametrize(
    "text",
    [
        "8,5 47,37 8,6 47,38",
        "8,5,47,37,8,6,47,38",
        "8,5;47,37;8,6;47,38",
        "8,5, 47,37, 8,6, 47,38",
    ],
    ids=["spaces", "commas", "semicolons", "comma-space"],
)
def test_a_bbox_in_decimal_commas_is_said_to_be_so(
    text: str, tmp_db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # it was "bbox needs 4 numbers W,S,E,N, got 8" (or "not four numbers"), with no
    # word of the decimal separator
    assert main(["--db", tmp_db_url, "site", "add", "yard", "--bbox", text]) == 2
    err = _err(capsys)
    assert "decimal commas" in err
    assert "--bbox 8.5,47.37,8.6,47.38" in err


def test_a_bbox_with_points_is_read_as_before() -> None:
    from railwatch.sites import parse_bbox

    assert parse_bbox("8.5 47.37 8.6 47.38") == (8.5, 47.37, 8.6, 47.38)
    assert parse_bbox("8,47,9,48") == (8.0, 47.0, 9.0, 48.0)
    with pytest.raises(GeometryError, match="needs 4 numbers W,S,E,N, got 8"):
        parse_bbox("8.5,47.37,8.6,47.38,8.5,47.37,8.6,47.38")


# ------------------------- swapped track lines: worded for how the site was given

SWAPPED = {"type": "LineString", "coordinates": [[47.375, 8.501], [47.375, 8.519]]}


def test_swapped_tracks_for_a_bbox_site_name_the_bbox(
    tmp_path: Path, tmp_db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # it said "one of the two files is written as lat,lon" of a site given by --bbox
    tracks = tmp_path / "tracks.geojson"
    tracks.write_text(json.dumps(SWAPPED))
    argv = ["--db", tmp_db_url, "site", "add", "yard", "--bbox", "8.50,47.37,8.52,47.38"]
    assert main([*argv, "--tracks", str(tracks)]) == 2
    err = _err(capsys)
    assert "but they would with the two numbers of each position swapped" in err
    assert "two files" not in err
    assert "the bbox is given latitude first or the tracks file is written as lat,lon" in err
    assert "W,S,E,N (lon,lat,lon,lat)" in err


def test_swapped_lines_in_the_sites_own_file_name_that_file() -> None:
    mixed = json.loads(json.dumps(MIXED))
    for feature in mixed["features"][1:]:
        feature["geometry"]["coordinates"] = [p[::-1] for p in feature["geometry"]["coordinates"]]
    with pytest.raises(GeometryError) as info:
        site_from_geojson("yard", mixed, tracks=mixed)
    msg = str(info.value)
    assert "two files" not in msg
    assert "the file's polygons or its lines are written as lat,lon" in msg


def test_tracks_elsewhere_than_a_bbox_site_name_the_bbox() -> None:
    from railwatch.sites import site_from_bbox

    far = {"type": "LineString", "coordinates": [[9.501, 47.375], [9.519, 47.375]]}
    with pytest.raises(GeometryError) as info:
        site_from_bbox("yard", "8.50,47.37,8.52,47.38", tracks=far)
    assert "check that the bbox and the tracks file describe the same place" in str(info.value)


# ------------------- a shapely GeometryCollection as a site: a hint that fits it


def test_a_shapely_collection_of_polygons_is_not_told_to_box_a_point(tmp_db_url: str) -> None:
    # a SiteSpec (or assess_file's site) of a shapely GeometryCollection was told "to
    # make a box around a point give W,S,E,N", whatever the collection held
    from shapely.geometry import GeometryCollection, LineString, Point, box

    from railwatch.sites import SiteSpec, validate_site_geometry
    from railwatch.storage import Database, repo

    parts = [box(8.50, 47.37, 8.52, 47.38), box(8.53, 47.37, 8.54, 47.38)]
    collection = GeometryCollection(parts)
    spec = SiteSpec(name="yard", geometry=collection)  # type: ignore[arg-type]
    with Database(tmp_db_url) as db:
        with pytest.raises(GeometryError) as info, db.session() as s:
            repo.add_site(s, spec)
        with db.session(readonly=True) as s:
            assert repo.list_sites(s) == []
    msg = str(info.value)
    assert "box around a point" not in msg
    assert "GeometryCollection of Polygon" in msg
    assert "MultiPolygon" in msg and "site_from_geojson" in msg
    with_line = GeometryCollection([*parts, LineString([(8.501, 47.375), (8.519, 47.375)])])
    with pytest.raises(GeometryError, match="give them as the site's tracks"):
        validate_site_geometry(with_line)
    # a collection of points keeps the box hint, which fits it
    with pytest.raises(GeometryError, match="box around a point"):
        validate_site_geometry(GeometryCollection([Point(8.5, 47.37)]))


def test_site_from_geojson_reads_a_shapely_geometry() -> None:
    # it was a TypeError ("expected str, bytes or os.PathLike object")
    from shapely.geometry import GeometryCollection, box

    parts = [box(8.50, 47.37, 8.52, 47.38), box(8.53, 47.37, 8.54, 47.38)]
    spec = site_from_geojson("yard", GeometryCollection(parts))
    assert spec.geometry.geom_type == "MultiPolygon"
    assert spec.geometry.equals(parts[0].union(parts[1]))
    assert site_from_geojson("yard", parts[0]).geometry.equals(parts[0])


def test_site_add_help_says_how_to_give_a_mixed_file(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["site", "add", "--help"]) == 0
    out = " ".join(capsys.readouterr().out.replace("│", " ").split())
    assert "is given as both: --geojson FILE --tracks FILE" in out
