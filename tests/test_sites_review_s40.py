"""Review of the site definition path (2026-12-06, session 40): faults a user hit with
`railwatch site add/edit` and their fixes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from shapely.geometry import MultiPolygon

from railwatch.cli.main import main
from railwatch.errors import GeometryError
from railwatch.rails import RAIL_CENTRES_M
from railwatch.sites import site_from_geojson

YARD = [[8.50, 47.37], [8.52, 47.37], [8.52, 47.38], [8.50, 47.38], [8.50, 47.37]]
YARD_WKT = "((8.50 47.37, 8.52 47.37, 8.52 47.38, 8.50 47.38, 8.50 47.37))"


# ------------------------------------------------- an empty part of a MultiPolygon


@pytest.mark.parametrize(
    "text",
    [
        f"MULTIPOLYGON ({YARD_WKT}, EMPTY)",
        json.dumps({"type": "MultiPolygon", "coordinates": [[YARD], [[]]]}),
    ],
    ids=["wkt", "geojson-empty-ring"],
)
def test_an_empty_part_of_a_multipolygon_is_refused_not_hung_on(text: str) -> None:
    # a MultiPolygon with an empty polygon among its parts made the parts' distance
    # check look for that part's nearest neighbour for ever (its box is NaN): `site
    # add` hung (a subprocess, so that a hang fails the test instead of the run)
    code = (
        "import sys\n"
        "from railwatch.errors import GeometryError\n"
        "from railwatch.sites import GeoJSONText, site_from_geojson\n"
        "try:\n"
        "    site_from_geojson('yard', GeoJSONText(sys.stdin.read()))\n"
        "except GeometryError as err:\n"
        "    print(err)\n"
    )
    try:
        run = subprocess.run(
            [sys.executable, "-c", code],
            input=text,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
    except subprocess.TimeoutExpired:
        pytest.fail("site_from_geojson did not return on a MultiPolygon with an empty part")
    assert run.returncode == 0, run.stderr
    assert "polygon 1 is empty (it has no positions): remove it from the MultiPolygon" in (
        run.stdout
    )


def test_a_multipolygon_part_without_rings_is_named_in_a_clear_message(
    tmp_path: Path, tmp_db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # it was "not a valid GeoJSON geometry: list index out of range"
    path = tmp_path / "yard.geojson"
    path.write_text(json.dumps({"type": "MultiPolygon", "coordinates": [[YARD], []]}))
    with pytest.raises(GeometryError, match=r"\(polygon 1\) is empty .*remove it from"):
        site_from_geojson("yard", path)
    capsys.readouterr()
    assert main(["--db", tmp_db_url, "site", "add", "yard", "--geojson", str(path)]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "polygon 1) is empty" in err and "list index" not in err
    assert not (tmp_path / "railwatch-test.db").exists()  # refused before the database


# --------------------------------------------- `railwatch scale` on a palette image


def test_scale_measures_a_palette_image_on_its_colours(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # `railwatch scale` (and detect's --gsd check) read a palette PNG's indexes as grey:
    # in no order of brightness, its rails were no dark lines, "no rail pairs found"
    from PIL import Image

    from railwatch.imagery.scale import measure_file
    from test_rail_scale import rails_image

    rgb = rails_image(8.0, 30.0, size=400)
    Image.fromarray(rgb).save(tmp_path / "rails.png")
    quantised = Image.fromarray(rgb).quantize(colors=64)
    entries = quantised.getpalette()
    assert entries is not None
    table = np.asarray(entries[: 64 * 3]).reshape(64, 3)
    order = np.random.default_rng(1).permutation(64)  # entries in no order of brightness
    index = np.argsort(order)[np.asarray(quantised)].astype(np.uint8)
    palette = Image.fromarray(index, mode="P")
    palette.putpalette(table[order].flatten().tolist())
    palette.save(tmp_path / "rails_palette.png")
    assert Image.open(tmp_path / "rails_palette.png").mode == "P"

    as_rgb = measure_file(tmp_path / "rails.png").scale
    found = measure_file(tmp_path / "rails_palette.png").scale
    assert as_rgb.measured and as_rgb.gsd is not None
    assert found.measured, found.reason
    assert found.gsd == pytest.approx(as_rgb.gsd, rel=0.02)
    assert main(["scale", str(tmp_path / "rails_palette.png")]) == 0
    assert "m per pixel" in capsys.readouterr().out


# ------------------------- coordinates far outside the area their 'crs' member's CRS is for


def _square(code: str, x: float, y: float, side: float = 1000.0) -> dict[str, object]:
    ring = [[x, y], [x + side, y], [x + side, y + side], [x, y + side], [x, y]]
    crs = {"type": "name", "properties": {"name": code}}
    return {"type": "Polygon", "crs": crs, "coordinates": [ring]}


@pytest.mark.parametrize(
    ("code", "x", "y", "lands"),
    [
        ("EPSG:32632", 2_600_000, 1_200_000, "10.2863°N 27.8543°E"),  # Swiss LV95 numbers
        ("EPSG:2056", 462_000, 5_246_000, "72.6175°N 57.9437°W"),  # UTM 32N numbers
        ("EPSG:32632", 462_000, 52_460_000, "67.8579°N 170.1084°W"),  # a digit too many
    ],
)
def test_coordinates_far_outside_their_crs_area_are_refused(
    tmp_path: Path,
    tmp_db_url: str,
    capsys: pytest.CaptureFixture[str],
    code: str,
    x: float,
    y: float,
    lands: str,
) -> None:
    # they were reprojected to a place thousands of km away and stored there as the site
    path = tmp_path / "yard.geojson"
    path.write_text(json.dumps(_square(code, x, y)))
    capsys.readouterr()
    assert main(["--db", tmp_db_url, "site", "add", "yard", "--geojson", str(path)]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert f"the GeoJSON 'crs' member names {code}" in err
    assert f"fall around {lands}" in err and "outside the area" in err
    assert not (tmp_path / "railwatch-test.db").exists()
    # the same as track centrelines of a site there
    tracks = tmp_path / "tracks.geojson"
    line = {
        "type": "LineString",
        "crs": _square(code, x, y)["crs"],
        "coordinates": [[x, y], [x + 900, y + 900]],
    }
    tracks.write_text(json.dumps(line))
    with pytest.raises(GeometryError, match="outside the area"):
        site_from_geojson("yard", {"type": "Polygon", "coordinates": [YARD]}, tracks=tracks)


@pytest.mark.parametrize(
    ("code", "x", "y", "west"),
    [
        ("EPSG:2056", 2_611_000, 1_267_000, 7.58),  # Basel in LV95
        ("EPSG:32632", 462_000, 5_246_000, 8.49),  # Zurich in UTM 32N
        ("EPSG:32632", 200_000, 5_246_000, 5.03),  # 1° west of its zone
        ("EPSG:32660", 800_000, 5_000_000, -179.19),  # its zone's east edge, across ±180°
        ("EPSG:5972", 462_000, 5_246_000, 8.49),  # UTM 32N with Norway's heights
    ],
)
def test_coordinates_in_or_near_their_crs_area_are_read(
    code: str, x: float, y: float, west: float
) -> None:
    spec = site_from_geojson("yard", _square(code, x, y))
    assert spec.geometry.bounds[0] == pytest.approx(west, abs=0.01)
    assert spec.area_km2 == pytest.approx(1.0, rel=0.01)


# ------------------------- a Feature's GeometryCollection (a KML MultiGeometry, converted)


def _kml_feature(geometries: list[dict[str, Any]]) -> dict[str, Any]:
    """A Feature as `ogr2ogr -f GeoJSON` writes a KML Placemark with a MultiGeometry:
    a GeometryCollection, its positions with KML's altitude."""
    return {
        "type": "FeatureCollection",
        "name": "yard",
        "features": [
            {
                "type": "Feature",
                "properties": {"Name": "yard", "description": None},
                "geometry": {"type": "GeometryCollection", "geometries": geometries},
            }
        ],
    }


def test_a_features_geometry_collection_is_read_as_its_members(
    tmp_path: Path, tmp_db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # the KML a user is told to convert with ogr2ogr: its MultiGeometry of polygons was
    # refused as "a GeometryCollection: to make a box around a point give W,S,E,N",
    # though the same GeometryCollection given alone is read
    east = [[x + 0.03, y] for x, y in YARD]
    site = tmp_path / "yard.geojson"
    polygons: list[dict[str, Any]] = [
        {"type": "Polygon", "coordinates": [[[*p, 0.0] for p in ring]]} for ring in (YARD, east)
    ]
    site.write_text(json.dumps(_kml_feature(polygons)))
    tracks = tmp_path / "tracks.geojson"
    lines: list[dict[str, Any]] = [
        {"type": "LineString", "coordinates": [[8.505, 47.372, 0.0], [8.515, 47.378, 0.0]]},
        {"type": "LineString", "coordinates": [[8.535, 47.372, 0.0], [8.545, 47.378, 0.0]]},
    ]
    tracks.write_text(json.dumps(_kml_feature(lines)))
    spec = site_from_geojson("yard", site, tracks=tracks)
    assert isinstance(spec.geometry, MultiPolygon) and len(spec.geometry.geoms) == 2
    assert spec.tracks is not None and len(spec.tracks.geoms) == 2
    db = ["--db", tmp_db_url]
    argv = ["site", "add", "yard", "--geojson", str(site), "--tracks", str(tracks), "--json"]
    assert main([*db, *argv]) == 0
    added = json.loads(capsys.readouterr().out)
    assert added["geometry"]["type"] == "MultiPolygon" and added["tracks"]
    # a member that is no polygon is named as such, with its place in the collection
    polygons.append({"type": "Point", "coordinates": [8.51, 47.375]})
    with pytest.raises(GeometryError, match="feature 0 geometry 2 must be a Polygon or Multi"):
        site_from_geojson("yard", _kml_feature(polygons))


# --------------------------------- newline-delimited GeoJSON (GDAL's GeoJSONSeq)


@pytest.mark.parametrize("option", ["--geojson", "--tracks"])
def test_newline_delimited_geojson_is_said_to_be_so_with_what_to_do(
    tmp_path: Path, tmp_db_url: str, capsys: pytest.CaptureFixture[str], option: str
) -> None:
    # it was "not valid JSON (line 2, column 1: Extra data)", nothing said of what to do
    geometries: list[dict[str, Any]]
    if option == "--geojson":
        rings = [YARD, [[x + 0.03, y] for x, y in YARD]]
        geometries = [{"type": "Polygon", "coordinates": [r]} for r in rings]
        argv = ["site", "add", "yard", "--geojson"]
    else:
        geometries = [
            {"type": "LineString", "coordinates": [[8.505, 47.372], [8.515, 47.378]]},
            {"type": "LineString", "coordinates": [[8.506, 47.372], [8.516, 47.378]]},
        ]
        argv = ["site", "add", "yard", "--bbox", "8.50,47.37,8.52,47.38", "--tracks"]
    path = tmp_path / "yard.geojsonl"
    features = [{"type": "Feature", "properties": {}, "geometry": g} for g in geometries]
    path.write_text("".join(json.dumps(f) + "\n" for f in features))
    capsys.readouterr()
    assert main(["--db", tmp_db_url, *argv, str(path)]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "holds one GeoJSON object after another (line 2 starts another" in err
    assert "give them as one FeatureCollection" in err and "Extra data" not in err
    # a stray character after one object is not taken for a sequence
    path.write_text(json.dumps(features[0]) + "\n}\n")
    assert main(["--db", tmp_db_url, *argv, str(path)]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "is not valid JSON (line 2, column 1: Extra data)" in err


# ------------------------------------------------- Esri JSON and TopoJSON, no GeoJSON


ESRI_RING = [[8.50, 47.37], [8.52, 47.37], [8.52, 47.38], [8.50, 47.37]]


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        ({"rings": [ESRI_RING], "spatialReference": {"wkid": 4326}}, "Esri JSON (ArcGIS)"),
        (
            {
                "geometryType": "esriGeometryPolygon",
                "features": [{"attributes": {}, "geometry": {"rings": [ESRI_RING]}}],
            },
            "Esri JSON (ArcGIS)",
        ),
        ({"features": [{"attributes": {}, "geometry": {"rings": [ESRI_RING]}}]}, "Esri JSON"),
        ({"type": "Topology", "objects": {}, "arcs": []}, "TopoJSON"),
    ],
)
def test_esri_json_and_topojson_are_named_with_how_to_convert_them(
    data: dict[str, Any], kind: str
) -> None:
    # Esri JSON was "not GeoJSON: it has no 'type' member", nothing said of what to do;
    # TopoJSON "type 'Topology', not a GeoJSON geometry type: use one of Point, ..."
    with pytest.raises(GeometryError) as raised:
        site_from_geojson("yard", data)
    assert f"is {kind}" in str(raised.value) and "ogr2ogr -f GeoJSON" in str(raised.value)


def test_json_without_a_type_says_what_to_give() -> None:
    with pytest.raises(GeometryError, match="no 'type' member; give a GeoJSON Feature"):
        site_from_geojson("yard", {"coordinates": [YARD]})


# ------------------------------- malformed text that was an internal error or misread


@pytest.mark.parametrize(
    ("text", "said"),
    [
        # an integer too large for a float: OverflowError, an internal error
        (
            '{"type": "Polygon", "coordinates": [[[8' + "0" * 400 + ", 47.37], [8.52, 47.37], "
            "[8.52, 47.38], [8.5, 47.38], [8" + "0" * 400 + ", 47.37]]]}",
            "has a non-finite coordinate in [80000",
        ),
        # brackets nested past Python's recursion limit: RecursionError, an internal error
        ("[" * 100_000 + "]" * 100_000, "nests its brackets deeper than any GeoJSON does"),
        (
            '{"type": "Polygon", "coordinates": ' + "[" * 100_000 + "]" * 100_000 + "}",
            "nests its brackets deeper than any GeoJSON does",
        ),
        # WKT of an empty geometry was "not valid JSON" with advice to convert it
        ("POLYGON EMPTY", "geometry is empty: draw a polygon around the yard"),
        ("MULTIPOLYGON Z EMPTY", "geometry is empty: draw a polygon around the yard"),
    ],
    ids=["huge-integer", "deep-list", "deep-coordinates", "wkt-empty", "wkt-z-empty"],
)
def test_malformed_site_text_gets_a_clear_error(
    tmp_path: Path, tmp_db_url: str, capsys: pytest.CaptureFixture[str], text: str, said: str
) -> None:
    path = tmp_path / "yard.txt"
    path.write_text(text)
    capsys.readouterr()
    assert main(["--db", tmp_db_url, "site", "add", "yard", "--geojson", str(path)]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert said in err
    assert "internal error" not in err and "not valid JSON" not in err


# ------------------------------------- `railwatch scale` on a file with declared no data


@pytest.mark.filterwarnings("ignore::rasterio.errors.NotGeoreferencedWarning")
@pytest.mark.parametrize(
    ("dtype", "fill", "gain"),
    [("float32", -9999.0, 1 / 255), ("uint16", 65535, 100), ("uint16", 65535, 16)],
    ids=["float", "16-bit", "12-bit"],
)
def test_scale_leaves_out_a_files_no_data(
    tmp_path: Path, dtype: str, fill: float, gain: float
) -> None:
    # the fill of a float or 16-bit file, read as luminance, made the strongest lines and
    # edges of the blocks it lies in: "no rail pairs found" beside well-visible rails
    import rasterio

    from railwatch.imagery.scale import measure_file
    from test_rail_scale import rails_image

    rgb = np.moveaxis(rails_image(8.0, 30.0, size=400), -1, 0)
    data = (rgb.astype(np.float32) * gain).astype(dtype)  # 12-bit: values up to 4080
    data[:, :, :60] = fill  # a strip of no data along one side
    path = tmp_path / "rails.tif"
    profile = {"driver": "GTiff", "width": 400, "height": 400, "count": 3, "dtype": dtype}
    with rasterio.open(path, "w", nodata=fill, **profile) as out:
        out.write(data)
    found = measure_file(path).scale
    assert found.measured, found.reason
    assert found.gsd == pytest.approx(RAIL_CENTRES_M / 8.0, rel=0.03)


# ---------------------- positions of four numbers (a measure or time; WKT's ZM)


def test_positions_with_a_fourth_number_are_read_as_lon_lat() -> None:
    # RFC 7946: a position has two or more numbers; positions [lon, lat, height, time]
    # and WKT's POLYGON ZM were refused with advice to "check the brackets"
    ring = [[x, y, 400.0, 1.7e9 + i] for i, (x, y) in enumerate(YARD)]
    ring[-1] = list(ring[0])
    line = {"type": "LineString", "coordinates": [[8.505, 47.372, 400, 1], [8.515, 47.378, 401, 2]]}
    spec = site_from_geojson("yard", {"type": "Polygon", "coordinates": [ring]}, tracks=line)
    assert spec.geometry.equals(
        site_from_geojson("plain", {"type": "Polygon", "coordinates": [YARD]}).geometry
    )
    assert spec.tracks is not None and spec.tracks.has_z is False
    assert spec.tracks.geoms[0].coords[0] == (8.505, 47.372)
    zm = "POLYGON ZM ((" + ", ".join(f"{x} {y} 1 2" for x, y in YARD) + "))"
    assert site_from_geojson("zm", zm).geometry.equals(spec.geometry)
    # five numbers or more are still taken for flattened positions
    flat = [[8.50, 47.37, 8.52, 47.37, 8.52, 47.38, 8.50, 47.38, 8.50, 47.37]]
    with pytest.raises(GeometryError, match="check the brackets"):
        site_from_geojson("flat", {"type": "Polygon", "coordinates": [flat]})


# ------------- a feature without a shape among others: what to do with it is said


def _collection(*geometries: dict[str, Any] | None) -> dict[str, Any]:
    features = [{"type": "Feature", "properties": {}, "geometry": g} for g in geometries]
    return {"type": "FeatureCollection", "features": features}


@pytest.mark.parametrize(
    ("data", "said"),
    [
        (
            _collection({"type": "Polygon", "coordinates": [YARD]}, None),
            "feature 1 has no geometry (null): remove that feature from the FeatureCollection",
        ),
        (
            _collection(
                {"type": "Polygon", "coordinates": [YARD]}, {"type": "Polygon", "coordinates": []}
            ),
            "feature 1 is empty: remove it from the FeatureCollection, or draw its polygon",
        ),
        (
            {"type": "Feature", "properties": {}, "geometry": None},
            "feature has no geometry (null): give a polygon around the yard",
        ),
    ],
    ids=["null-among-others", "empty-among-others", "null-alone"],
)
def test_a_feature_without_a_shape_is_said_with_what_to_do(data: dict[str, Any], said: str) -> None:
    # "feature 1 has no geometry (null)" said nothing of what to do, and an empty
    # feature among others was told to "draw a polygon around the yard"
    with pytest.raises(GeometryError) as raised:
        site_from_geojson("yard", data)
    assert said in str(raised.value)


# ---------------------------- metres under a 'crs' member that names WGS84 lon/lat


@pytest.mark.parametrize("where", ["file", "feature"])
def test_metres_under_a_wgs84_crs_member_say_to_correct_the_member(where: str) -> None:
    # they were told to "add a GeoJSON 'crs' member naming its CRS", which the file had
    ring = [[462000, 5246000], [463000, 5246000], [463000, 5247000], [462000, 5246000]]
    named = {"type": "name", "properties": {"name": "urn:ogc:def:crs:OGC:1.3:CRS84"}}
    data = _collection({"type": "Polygon", "coordinates": [ring]})
    (data if where == "file" else data["features"][0])["crs"] = named
    with pytest.raises(GeometryError) as raised:
        site_from_geojson("yard", data)
    said = str(raised.value)
    assert "(462000, 5246000), which looks projected (metres)" in said
    assert "'crs' member names WGS84 lon/lat: correct the member" in said
    assert "add a GeoJSON 'crs' member" not in said
    # without a member, the advice to add one stays
    with pytest.raises(GeometryError, match="or add a GeoJSON 'crs' member naming its CRS"):
        site_from_geojson("yard", {"type": "Polygon", "coordinates": [ring]})


# ------------- swapped track lines: no advice to remove a stored site (and its data)


def test_swapped_tracks_do_not_advise_removing_the_site(
    tmp_path: Path, tmp_db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # `site edit --tracks` with lat,lon lines was told "for the site: remove it and add
    # it again": removing a site deletes its scenes, counts, events and alerts
    db = ["--db", tmp_db_url]
    assert main([*db, "site", "add", "yard", "--bbox", "8.50,47.37,8.52,47.38"]) == 0
    tracks = tmp_path / "tracks.geojson"
    swapped = {"type": "LineString", "coordinates": [[47.372, 8.505], [47.378, 8.515]]}
    tracks.write_text(json.dumps(swapped))
    capsys.readouterr()
    assert main([*db, "site", "edit", "yard", "--tracks", str(tracks)]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "but they would with the two numbers of each position swapped" in err
    assert "remove it" not in err
    assert "a stored site's polygon cannot be changed: add the site anew under another" in err


def test_a_shapely_multipolygon_with_an_empty_part_is_not_stored(tmp_db_url: str) -> None:
    # given in Python (SiteSpec, assess_file's site) it passed validation and was stored
    from shapely import wkt

    from railwatch.sites import SiteSpec, validate_site_geometry
    from railwatch.storage import Database, repo

    geom = wkt.loads(f"MULTIPOLYGON ({YARD_WKT}, EMPTY)")
    assert isinstance(geom, MultiPolygon)
    with pytest.raises(GeometryError, match="site polygon 1 is empty"):
        validate_site_geometry(geom)
    with Database(tmp_db_url) as db:
        with pytest.raises(GeometryError, match="polygon 1 is empty"), db.session() as s:
            repo.add_site(s, SiteSpec("yard", geom))
        with db.session(readonly=True) as s:
            assert repo.list_sites(s) == []


# ----------------- "did you mean" with two sites whose names differ only in case


def test_did_you_mean_names_every_site_of_a_name_in_either_case(
    tmp_db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # of 'ZRH' and 'zrh' only one was kept: 'zrh ' (a pasted space) was asked "did you
    # mean 'ZRH'?", another site, which `site remove` would then have deleted
    db = ["--db", tmp_db_url]
    for name in ("ZRH", "zrh"):
        assert main([*db, "site", "add", name, "--bbox", "8.50,47.37,8.52,47.38"]) == 0
    capsys.readouterr()
    assert main([*db, "site", "show", "zrh "]) == 1
    err = " ".join(capsys.readouterr().err.split())
    assert "did you mean 'zrh' or 'ZRH'?" in err
    assert main([*db, "site", "remove", "ZRh", "--yes"]) == 1
    err = " ".join(capsys.readouterr().err.split())
    assert "did you mean 'ZRH' or 'zrh'?" in err
