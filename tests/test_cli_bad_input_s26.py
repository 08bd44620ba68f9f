"""Session 26 bad-input audit of the command line (sites, ingest, process, scene, event,
detect): each test here failed before its fix; what was already fine is not repeated."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import shapely
from pyproj import Transformer
from shapely.geometry import mapping

from helpers import make_geotiff
from railwatch.cli.main import main
from railwatch.storage import Database, repo

UTM = "EPSG:32652"
ORIGIN = (632_000.0, 4_683_000.0)
SITE_UTM = shapely.box(632_050.0, 4_682_850.0, 632_150.0, 4_682_950.0)
TO_WGS84 = Transformer.from_crs(UTM, "EPSG:4326", always_xy=True)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, " ".join(err.split())


def wgs84(geom: Any) -> Any:
    return shapely.transform(
        geom, lambda xy: np.column_stack(TO_WGS84.transform(xy[:, 0], xy[:, 1]))
    )


def site_db(tmp_path: Path, url: str, capsys: pytest.CaptureFixture[str]) -> str:
    """``url`` with the site ``tum`` (a 100 m square in UTM 52N)."""
    geojson = tmp_path / "site.geojson"
    geojson.write_text(json.dumps(mapping(wgs84(SITE_UTM))))
    code, _, err = run(capsys, "--db", url, "site", "add", "tum", "--geojson", str(geojson))
    assert code == 0, err
    return url


@pytest.fixture
def db(tmp_path: Path, tmp_db_url: str, capsys: pytest.CaptureFixture[str]) -> str:
    return site_db(tmp_path, tmp_db_url, capsys)


def image(path: Path, seed: int = 1, **kw: Any) -> Path:
    data = np.random.default_rng(seed).integers(20, 230, size=(3, 200, 200), dtype=np.uint8)
    return make_geotiff(
        path, crs=UTM, origin=ORIGIN, gsd=1.0, width=200, height=200, data=data, **kw
    )


# ------------------------------------------------------------------------------ ids

#: Each command that takes a record's id, with what its "no such id" says.
ID_COMMANDS = [
    (["scene", "show"], "no scene with id {}: see `railwatch scene list SITE`"),
    (["scene", "review", "{}", "--count", "3"], "no scene with id {}: see"),
    (["scene", "cars"], "no scene with id {}: see"),
    (["event", "edit", "{}", "--date", "2024-01-01"], "no event with id {}: see"),
    (["event", "remove", "{}", "--yes"], "no event with id {}: see"),
    (["alert", "ack"], "no alert with id {}: a re-analysis removes"),
]


def _argv(command: list[str], value: int) -> list[str]:
    if "{}" not in command:
        command = [*command, "{}"]
    return [str(value) if part == "{}" else part for part in command]


@pytest.mark.parametrize(("command", "said"), ID_COMMANDS)
def test_an_id_past_what_sqlite_holds_is_no_such_id(
    db: str, capsys: pytest.CaptureFixture[str], command: list[str], said: str
) -> None:
    """An id past 2**63 - 1 (a pasted hash or timestamp) was an internal error
    (OverflowError: Python int too large to convert to SQLite INTEGER), status 70."""
    huge = 99_999_999_999_999_999_999
    code, out, err = run(capsys, "--db", db, *_argv(command, huge))
    assert code == 1, err
    assert err.startswith("error: " + said.format(huge)), err
    assert "internal error" not in err and out == ""


@pytest.mark.services
@pytest.mark.parametrize(("command", "said"), ID_COMMANDS)
def test_an_id_past_a_postgresql_integer_is_no_such_id(
    tmp_path: Path,
    postgres_url: str,
    capsys: pytest.CaptureFixture[str],
    command: list[str],
    said: str,
) -> None:
    """PostgreSQL's INTEGER ends at 2**31 - 1: 3,000,000,000 was refused by the server
    (NumericValueOutOfRange), an internal error."""
    url = site_db(tmp_path, postgres_url, capsys)
    code, _, err = run(capsys, "--db", url, *_argv(command, 3_000_000_000))
    assert code == 1, err
    assert err.startswith("error: " + said.format(3_000_000_000)), err


def test_import_reviews_with_a_scene_id_past_any_database_is_refused(
    tmp_path: Path, db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """The scene_id column of a corrected export with a number past 2**63 - 1 was an
    internal error; it is refused (status 2), since session 26b by the CSV reader with
    its line, as the reader's other errors are."""
    csv = tmp_path / "counts.csv"
    csv.write_text("date,count,scene_id\n2024-03-01,5,99999999999999999999\n")
    code, _, err = run(capsys, "--db", db, "scene", "import-reviews", "tum", str(csv))
    assert code == 2, err
    assert err == (
        "error: line 2: scene_id 99999999999999999999 is not a scene id (ids go up to "
        "2147483647): check that column, or leave it empty"
    )
    with Database(db).session(readonly=True) as s:
        assert repo.list_scenes(s, "tum") == []


# --------------------------------------------------------------------------- ingest


def test_a_file_without_georeferencing_prints_no_python_warning(
    tmp_path: Path, db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """`ingest SITE screenshot.png` printed rasterio's NotGeoreferencedWarning (two lines
    naming rasterio/__init__.py) on stderr before the reason it is refused."""
    import warnings

    from PIL import Image

    png = tmp_path / "screen_20240109.png"
    Image.fromarray(np.full((64, 64, 3), 90, dtype=np.uint8)).save(png)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        code, out, err = run(capsys, "--db", db, "ingest", "tum", str(png))
    assert code == 1
    assert "screen_20240109.png is not georeferenced" in " ".join(out.split())
    # only rasterio's warnings are this test's business: a ResourceWarning of an earlier
    # test's database connection, collected by the garbage collector here, is not
    rasterio_warnings = [
        str(w.message)
        for w in caught
        if "rasterio" in (w.filename or "") or "Georeferenced" in w.category.__name__
    ]
    assert rasterio_warnings == []
    assert err.startswith("error: nothing ingested into site tum"), err


@pytest.mark.parametrize(
    ("options", "said"),
    [
        (["--since", "2024-01-01"], "--since is a STAC search option: it needs --stac URL"),
        (["--max-cloud", "0"], "--max-cloud is a STAC search option: it needs --stac URL"),
        (
            ["--collection", "skysat", "--until", "2024-01-01", "--asset", "visual"],
            "--collection, --until, --asset are STAC search options: they need --stac URL",
        ),
    ],
)
def test_stac_search_options_without_stac_are_refused(
    tmp_path: Path,
    db: str,
    capsys: pytest.CaptureFixture[str],
    options: list[str],
    said: str,
) -> None:
    """`ingest SITE folder/ --since 2024-01-01` ingested the folder's files of every year
    (status 0): the STAC options were silently ignored for files."""
    old = image(tmp_path / "imgs" / "yard_20231005.tif")
    code, _, err = run(capsys, "--db", db, "ingest", "tum", str(old.parent), *options)
    assert code == 2
    assert err.startswith(f"error: {said}; the files and folders named are ingested whole")
    with Database(db).session(readonly=True) as s:
        assert repo.list_scenes(s, "tum") == []


# ---------------------------------------------------------------------------- sites


def _tracks_file(path: Path, *lines: list[tuple[float, float]]) -> Path:
    """A FeatureCollection of one LineString per line (UTM 52N positions, in lon/lat)."""
    features = [
        {"type": "Feature", "properties": {}, "geometry": mapping(wgs84(shapely.LineString(ln)))}
        for ln in lines
    ]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return path


def test_a_track_line_of_zero_length_is_refused(
    tmp_path: Path, db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A centreline whose positions are all one point (a double click in QGIS, a line
    snapped to itself) was accepted: the cars within 10 m of it were all that was kept,
    and every scene of the site was then counted about 0."""
    along = [(632_060.0, 4_682_900.0), (632_140.0, 4_682_900.0)]
    point = [(632_100.0, 4_682_880.0), (632_100.0, 4_682_880.0)]
    tracks = _tracks_file(tmp_path / "tracks.geojson", along, point)
    code, _, err = run(capsys, "--db", db, "site", "edit", "tum", "--tracks", str(tracks))
    assert code == 2
    assert err == (
        "error: tracks feature 1 has zero length (all its positions are the same point): "
        "draw each centreline along its track, from one end to the other"
    )
    with Database(db).session(readonly=True) as s:
        assert repo.get_site(s, "tum").tracks is None
    site = tmp_path / "site.geojson"
    code, _, err = run(
        capsys, "--db", db, "site", "add", "yard2", "--geojson", str(site), "--tracks", str(tracks)
    )
    assert code == 2 and "tracks feature 1 has zero length" in err
    # the lines that run along their tracks are taken as before
    fine = _tracks_file(tmp_path / "fine.geojson", along)
    code, _, err = run(capsys, "--db", db, "site", "edit", "tum", "--tracks", str(fine))
    assert code == 0, err


def test_a_zero_length_part_of_a_multilinestring_is_named() -> None:
    from railwatch.errors import GeometryError
    from railwatch.sites import load_tracks

    multi = {
        "type": "MultiLineString",
        "coordinates": [[[8.589, 47.529], [8.589, 47.531]], [[8.59, 47.53], [8.59, 47.53]]],
    }
    with pytest.raises(GeometryError, match=r"^tracks geometry \(its coordinates\[1\]\) has zero"):
        load_tracks(multi)
    assert len(load_tracks({**multi, "coordinates": multi["coordinates"][:1]}).geoms) == 1


# -------------------------------------------------------------------------- process


@pytest.mark.parametrize("as_json", [False, True])
def test_process_of_a_site_without_scenes_says_to_ingest_first(
    db: str, capsys: pytest.CaptureFixture[str], as_json: bool
) -> None:
    """`process SITE` before any ingest printed a table of zeros (status 0) and nothing
    of why: a new analyst took it for images in which nothing was found."""
    code, out, err = run(capsys, "--db", db, "process", "tum", *(["--json"] if as_json else []))
    assert code == 0, err
    assert err == (
        "note: site tum has no scenes to process: ingest its images first (`railwatch "
        "ingest tum FOLDER`), then run process again."
    )
    if as_json:  # stdout stays one JSON document
        assert json.loads(out)[0]["processed"] == 0


# --------------------------------------------------------------------------- detect


def _truncated_tiff(path: Path, *, crs: str | None) -> Path:
    data = np.random.default_rng(3).integers(0, 255, size=(3, 512, 512), dtype=np.uint8)
    make_geotiff(
        path,
        crs=crs,
        origin=ORIGIN,
        width=512,
        height=512,
        data=data,
        tiled=True,
        blockxsize=256,
        blockysize=256,
    )
    raw = path.read_bytes()
    path.write_bytes(raw[: len(raw) * 2 // 3])
    return path


@pytest.mark.parametrize(
    ("crs", "options"), [(UTM, []), (None, ["--gsd", "auto"]), (None, ["--gsd", "0.5"])]
)
def test_detect_of_a_truncated_tiff_says_it_is_truncated(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], crs: str | None, options: list[str]
) -> None:
    """A truncated GeoTIFF read "cannot read pixels of F: Read failed. See previous
    exception for details." (ingest said "corrupt or truncated: re-download or
    re-export it"); its scale measured from the rails (--gsd auto, a TIFF without a CRS)
    likewise."""
    img = _truncated_tiff(tmp_path / "cut.tif", crs=crs)
    code, out, err = run(capsys, "detect", str(img), "-o", str(tmp_path / "cars.geojson"), *options)
    assert code == 1 and out == ""
    assert err.startswith("error: cut.tif is corrupt or truncated ("), err
    assert err.endswith("): re-download or re-export it"), err
    assert "See previous exception" not in err
    assert not (tmp_path / "cars.geojson").exists()


@pytest.mark.parametrize(
    ("gsd", "said"),
    [
        ("1e-9", "--gsd 1e-09 m per pixel is not the scale of an aerial or satellite image "
         "(degrees? give metres): give metres per pixel between 0.01 and 1000, e.g. --gsd 0.5"),
        ("5000", "--gsd 5000 m per pixel is not the scale of an aerial or satellite image: "
         "give metres per pixel between 0.01 and 1000, e.g. --gsd 0.5"),
    ],
)  # fmt: skip
def test_a_gsd_out_of_range_is_refused_before_the_rails_are_measured(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], gsd: str, said: str
) -> None:
    """`detect screenshot.png --gsd 1e-9` first printed a note that the rails could not
    check that scale, then the refusal of the scale: one line, the refusal."""
    from PIL import Image

    png = tmp_path / "screen.png"
    Image.fromarray(np.full((96, 96, 3), 90, dtype=np.uint8)).save(png)
    code, out, err = run(capsys, "detect", str(png), "--gsd", gsd)
    assert code == 2 and out == ""
    assert err == f"error: {said}"


# ---------------------------------------------------------------------------- scene


@pytest.mark.parametrize("options", [["--class", "tank=5"], ["--covered", "2"]])
def test_review_with_types_but_no_total_says_the_total_is_needed(
    db: str, capsys: pytest.CaptureFixture[str], options: list[str]
) -> None:
    """`scene review ID --class tank=5` was told to "give your count (--count N, with
    --class CLASS=N ...)": as if --class had not been given."""
    code, _, err = run(capsys, "--db", db, "scene", "review", "1", *options)
    assert code == 2
    assert err == (
        "error: --class and --covered go with --count N: give your count of all the "
        "railcars over the site too (the types not given keep the detector's count)"
    )


# ----------------------------------------------------------------------- imagery


@pytest.mark.parametrize(
    ("bands", "count", "said"),
    [
        ((3, 2, 1), 1, "has 1 band: bands 3 and 2 do not exist"),
        ((5, 5, 4), 3, "has 3 bands: bands 5 and 4 do not exist"),
        ((1, 1, 3), 2, "has 2 bands: band 3 does not exist"),
        ((6, 5, 4), 3, "has 3 bands: bands 6, 5 and 4 do not exist"),
    ],
)
def test_bands_a_file_lacks_are_said_in_english(
    bands: tuple[int, int, int], count: int, said: str
) -> None:
    """A 1-band file given --bands 3,2,1 read "band 3, 2 does not exist"."""
    from railwatch.errors import InputError
    from railwatch.imagery.read import check_rgb_bands

    with pytest.raises(InputError) as caught:
        check_rgb_bands(bands, count, "f.tif")
    assert str(caught.value) == f"f.tif {said} (bands are numbered from 1)"
