"""r4's review of railwatch.api (session 36): a notebook's wrong inputs are InputErrors
that say what to pass, not an AttributeError, IndexError or TypeError from inside.

- ``count_cars`` / ``to_geojson`` / ``to_geodataframe`` of a path, or of
  ``detect_array``'s list of detections, failed with "'str' object has no attribute
  'source'";
- ``analyze_counts``'s events given as a day alone (``[date(2023, 9, 13)]``: TypeError
  "not subscriptable") or a one-member tuple (IndexError) are said to need
  ``(day, label)`` pairs;
- ``analyze_counts`` of an export's CSV (a site's ``day`` and ``local_zone`` columns)
  took its days in UTC where ``railwatch analyze --counts`` takes the site's zone, so
  their alerts' keys and texts differed by a day.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import railwatch
from railwatch.errors import InputError


@pytest.mark.parametrize("name", ["count_cars", "to_geojson"])
@pytest.mark.parametrize("given", ["sim/yard.tif", []])
def test_a_result_not_of_detect_file_is_said(name: str, given: Any) -> None:
    kind = type(given).__name__
    with pytest.raises(InputError, match=rf"{name} takes what railwatch.detect_file returns "
                       rf"\(a DetectionResult\), not a {kind}"):  # fmt: skip
        getattr(railwatch, name)(given)


@pytest.mark.parametrize(
    "events",
    [[date(2023, 9, 13)], [("2023-09-13",)], [("2023-09-13", "summit", "extra")], ["summit"]],
)
def test_an_event_that_is_not_a_pair_is_said(events: Any) -> None:
    counts = [("2023-09-01", 3), ("2023-09-20", 4)]
    with pytest.raises(InputError, match=r"event 0 is .*: give \(day, label\) pairs"):
        railwatch.analyze_counts(counts, events)
    # a pair is still an event
    railwatch.analyze_counts(counts, [("2023-09-13", "summit")])


def _export_csv(path: Path, zone_column: bool) -> None:
    """Counts as `railwatch export --format csv` writes them, of a site at UTC+9: each
    image at 20:00 UTC, the next day there (its day column and, optionally, local_zone)."""
    head = "scene_id,date,count,site,day" + (",local_zone" if zone_column else "")
    lines = [head]
    times = [datetime(2020, 1, 1, 20, tzinfo=UTC) + timedelta(days=30 * k) for k in range(40)]
    counts = [8 + k % 4 for k in range(40)]
    times.append(datetime(2023, 5, 10, 20, tzinfo=UTC))
    counts.append(60)
    for k, (t, n) in enumerate(zip(times, counts, strict=True)):
        day = (t + timedelta(hours=9)).date()
        lines.append(f"{k + 1},{t:%Y-%m-%dT%H:%M:%SZ},{n},yard,{day}" + (",UTC+9" * zone_column))
    path.write_text("\n".join(lines) + "\n")


@pytest.mark.parametrize("zone_column", [True, False])
@pytest.mark.parametrize("as_of", ["2023-05-10", "2023-06-01"])
def test_analyze_counts_of_an_export_takes_the_sites_days_as_the_cli(
    tmp_path: Path, zone_column: bool, as_of: str
) -> None:
    # the API read an export's times as UTC days (keys and texts a day early at UTC+9),
    # where `analyze --counts` reads the site's zone from its day / local_zone columns
    from railwatch.cli.main import build_app

    csv = tmp_path / "export.csv"
    _export_csv(csv, zone_column)
    args = ["analyze", "--counts", str(csv), "--json", "--min-severity", "info"]
    run = CliRunner().invoke(build_app(), [*args, "--as-of", as_of])
    assert run.exit_code == 0, run.output
    cli = [(a["key"], a["severity"], a["explanation"]) for a in json.loads(run.stdout)]
    mine = railwatch.analyze_counts(csv, as_of=date.fromisoformat(as_of))
    assert cli and [(a.key, a.severity, a.explanation) for a in mine] == cli
    assert any(a.key == "record:all:2023-05-11" for a in mine) == (as_of == "2023-06-01")


@pytest.fixture(scope="module")
def small_yard(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A simulated 0.5 m GeoTIFF and the same image as a PNG (pixel coordinates)."""
    from PIL import Image

    root = tmp_path_factory.mktemp("api_inputs")
    scene = railwatch.render_scene(
        railwatch.SceneParams(seed=5, gsd=0.5, size_px=(300, 240), n_cars=6)
    )
    tif = railwatch.write_scene(scene, root, "yard", preview=False).image
    png = root / "yard.png"
    Image.fromarray(scene.image).save(png)
    return tif, png


@pytest.mark.parametrize("name", ["to_geojson", "to_geodataframe"])
def test_to_crs_that_cannot_be_is_an_input_error(name: str, small_yard: tuple[Path, Path]) -> None:
    # pyproj's CRSError ("Internal Proj Error: proj_create: crs not found"), and for a PNG
    # the CLI's "(drop --wgs84)"
    if name == "to_geodataframe":
        pytest.importorskip("geopandas")
    tif, png = small_yard
    convert = getattr(railwatch, name)
    result = railwatch.detect_file(tif)
    with pytest.raises(InputError, match=r"to_crs 'EPSG:99999' is not a CRS .*EPSG:4326"):
        convert(result, to_crs="EPSG:99999")
    pixels = railwatch.detect_file(png, gsd=0.5)
    with pytest.raises(InputError, match=r"yard.png is not georeferenced.*give no to_crs"):
        convert(pixels, to_crs="EPSG:4326")
    convert(result, to_crs="EPSG:4326")  # a CRS is still taken


@pytest.mark.parametrize("member", ["count", "low", "high", "gsd"])
def test_a_count_point_whose_number_is_text_is_said(member: str) -> None:
    # c46c7e0 said what is wrong with plain pairs and dates; a CountPoint whose count
    # (as read from a CSV by hand: "3") is text still failed in NumPy ("ufunc 'isfinite'
    # not supported"), through analyze_counts too
    from dataclasses import replace

    from railwatch.analysis.types import CountPoint

    points = [
        CountPoint(when=datetime(2023, 1, k, tzinfo=UTC), count=3.0, low=2.0, high=5.0, gsd=0.5)
        for k in range(1, 12)
    ]
    text: dict[str, Any] = {member: "3"}  # a wrong type on purpose
    points[4] = replace(points[4], **text)
    message = rf"points\[4\]: {member} '3' is a str, not a number"
    with pytest.raises(InputError, match=message):
        railwatch.analyze_series(points)
    with pytest.raises(InputError, match=message):
        railwatch.analyze_counts(points)
    railwatch.analyze_series([*points[:4], *points[5:]])  # numbers are taken


def _rise() -> list[Any]:
    from railwatch.analysis.types import CountPoint

    points = [
        CountPoint(when=datetime(2018 + k // 12, k % 12 + 1, 15, tzinfo=UTC), count=8 + k % 5)
        for k in range(66)
    ]
    return [*points, CountPoint(when=datetime(2023, 9, 18, tzinfo=UTC), count=60)]


@pytest.mark.parametrize(
    "events", [[(date(2023, 9, 13), "summit")], [date(2023, 9, 13)], ["summit"], "summit"]
)
def test_analyze_series_says_what_an_event_is(events: Any) -> None:
    # "'tuple' object has no attribute 'when'" once a rule raised an alert to relate
    with pytest.raises(InputError, match=r"events.* not an Event|events 'summit' is text"):
        railwatch.analyze_series(_rise(), events)
    linked = railwatch.analyze_series(_rise(), [railwatch.Event(date(2023, 9, 13), "summit")])
    assert linked[-1].event_label == "summit"


def test_analyze_series_and_counts_say_what_settings_are() -> None:
    # "'dict' object has no attribute 'interval_history'"
    with pytest.raises(InputError, match=r"settings .* is a dict, not an AlertSettings"):
        railwatch.analyze_series(_rise(), settings={"event_window_days": 3})  # type: ignore[arg-type]
    with pytest.raises(InputError, match=r"settings .* is a dict, not an AlertSettings"):
        railwatch.analyze_counts([("2023-01-01", 3)], settings={"x": 1})  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """test_python_api_s36's small demo database: site tumangang, five images, analysed."""
    from test_python_api_s36 import _write_demo_database

    return _write_demo_database(tmp_path_factory.mktemp("api_inputs_db"))


def test_site_readers_say_a_site_is_named(demo_db: Path) -> None:
    # a site's id failed as "argument of type 'int' is not iterable"
    for read in (railwatch.site_counts, railwatch.site_alerts):
        with pytest.raises(InputError, match=r"site 1 \(int\) is not a name: give the site's name"):
            read(demo_db, 1)  # type: ignore[arg-type]


def test_site_alerts_since_takes_iso_text(demo_db: Path) -> None:
    # "combine() argument 1 must be datetime.date, not str"
    every = railwatch.site_alerts(demo_db, "tumangang")
    day = date.fromisoformat(every[0]["day"])  # the newest
    since = railwatch.site_alerts(demo_db, "tumangang", since=day)
    assert 0 < len(since) < len(every)
    assert railwatch.site_alerts(demo_db, "tumangang", since=day.isoformat()) == since
    with pytest.raises(InputError, match=r"since: 'yesterday' is not a date"):
        railwatch.site_alerts(demo_db, "tumangang", since="yesterday")


def test_assess_file_of_a_png_says_what_to_call(small_yard: tuple[Path, Path]) -> None:
    # it said "use `railwatch detect --gsd` for screenshots; ingest needs a GeoTIFF/COG"
    from railwatch.imagery.inspect import NotGeoreferencedError

    tif, png = small_yard
    site = railwatch.site_from_bbox("yard", (130.6066, 42.4205, 130.6096, 42.4223))
    said = r"yard.png is not georeferenced: assess_file .* railwatch.detect_file\(path, gsd=...\)"
    with pytest.raises(NotGeoreferencedError, match=said) as err:
        railwatch.assess_file(png, site)
    assert "--gsd" not in str(err.value)
    railwatch.assess_file(tif, site)  # a GeoTIFF is judged
