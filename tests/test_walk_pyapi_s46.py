"""railwatch from a notebook, walked as a data scientist (2026-12-07, session 46).

What the walk found, each checked here:

- ``site_alerts(since=...)`` with a time without a zone (a naive ``datetime``, or ISO
  text ``2023-10-05T02:30``) failed as ``StorageError: database read failed ...: naive
  datetime``, as if the database were at fault; ``railwatch alerts --since`` takes such
  a time as UTC, and so does ``analyze_counts``.
- ``analyze_counts`` given a pandas DataFrame iterated its column names ("counts[0] is
  'date'"), a Series its values, a dict its keys, without saying how to pass them; the
  rows of ``frame.to_numpy()`` and ``to_records`` were refused as "no pair", a NumPy
  ``datetime64`` as "not a date", a nullable column's ``pd.NA`` as "not a number" (a
  NaN is a gap), and a missing date (``NaT``) failed deep inside as a ``TypeError``
  ("Cannot compare NaT with datetime.date object").
- ``detect_array`` given a PIL image or a list failed with ``AttributeError: ... has no
  attribute 'ndim'``, with ``gsd=None`` with a ``TypeError`` from ``detect.coarse``;
  ``detect_file(gsd="0.5")`` with a ``TypeError`` ("'<=' not supported").
- ``detect_file(tracks="yard.tracks.geojson")``, the file ``railwatch detect --tracks``
  takes and ``write_scene`` writes, failed with ``AttributeError: 'str' object has no
  attribute 'is_empty'``.
- ``railwatch.Database(Path("x.db"))`` failed with ``TypeError: expected string or
  bytes-like object`` from SQLAlchemy's URL parser.
- ``assess_file(path, "yard")``, a stored site's name, was told "bbox 'yard' is not four
  numbers".
- ``to_geodataframe`` of an image without cars had no ``class_scores`` column, which
  the frame of an image with cars has.
- ``repr(DetectionResult)`` ran to thousands of characters (every detection with its
  class scores), ``repr(RenderedScene)`` too (every array, every car's polygons): a
  notebook cell showed a wall of text.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
import pytest

import railwatch
from railwatch.detect.base import Detection, OrientedBox
from railwatch.errors import InputError

BBOX = (130.6066, 42.4205, 130.6096, 42.4223)

#: Monthly counts of 8-12 cars over three years: the alert rules have history to judge.
PAIRS = [(date(2020 + k // 12, k % 12 + 1, 15), 8 + k % 5) for k in range(36)]
AS_OF = date(2023, 1, 31)


def _kinds(alerts: list[railwatch.Alert]) -> list[tuple[str, str, datetime]]:
    return [(a.kind, a.severity, a.when) for a in alerts]


# --------------------------------------------------------------------------- site_alerts


@pytest.fixture
def empty_site_db(tmp_path: Path) -> Path:
    """A railwatch database with one site and nothing processed."""
    from railwatch.storage import repo

    path = tmp_path / "walk.db"
    with railwatch.Database(f"sqlite:///{path}") as db, db.session() as session:
        repo.add_site(session, railwatch.site_from_bbox("yard", BBOX))
    return path


@pytest.mark.parametrize("since", [datetime(2023, 10, 5, 2, 30), "2023-10-05T02:30"])
def test_site_alerts_takes_a_time_without_zone_as_utc(empty_site_db: Path, since: object) -> None:
    aware = railwatch.site_alerts(
        empty_site_db, "yard", since=datetime(2023, 10, 5, 2, 30, tzinfo=UTC)
    )
    assert railwatch.site_alerts(empty_site_db, "yard", since=since) == aware == []  # type: ignore[arg-type]


# --------------------------------------------------------------------------- analyze_counts


def test_analyze_counts_says_how_to_pass_a_frame_a_series_or_a_dict() -> None:
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame({"date": [d for d, _ in PAIRS], "count": [n for _, n in PAIRS]})
    with pytest.raises(InputError, match=r"counts is a DataFrame: .*itertuples\(index=False\)"):
        railwatch.analyze_counts(frame)
    with pytest.raises(InputError, match=r"counts is a Series: .*series\.items\(\)"):
        railwatch.analyze_counts(frame.set_index("date")["count"])
    with pytest.raises(InputError, match=r"counts is a dict: .*d\.items\(\)"):
        railwatch.analyze_counts(dict(PAIRS))  # type: ignore[arg-type]
    events = pd.DataFrame({"day": [date(2021, 1, 1)], "label": ["summit"]})
    with pytest.raises(InputError, match=r"events is a DataFrame: .*\['day', 'label'\]"):
        railwatch.analyze_counts(PAIRS, events)
    # what the messages say to do works
    by_pairs = _kinds(railwatch.analyze_counts(PAIRS, as_of=AS_OF))
    rows = frame[["date", "count"]].itertuples(index=False)
    assert _kinds(railwatch.analyze_counts(rows, as_of=AS_OF)) == by_pairs
    series = frame.set_index("date")["count"]
    assert _kinds(railwatch.analyze_counts(series.items(), as_of=AS_OF)) == by_pairs


def test_analyze_counts_takes_numpy_rows_and_dates() -> None:
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(
        {"date": pd.to_datetime([d.isoformat() for d, _ in PAIRS]), "count": [n for _, n in PAIRS]}
    )
    by_pairs = _kinds(railwatch.analyze_counts(PAIRS, as_of=AS_OF))
    assert by_pairs
    for rows in (frame.to_numpy(), frame.to_records(index=False)):
        assert _kinds(railwatch.analyze_counts(rows, as_of=AS_OF)) == by_pairs
    days = [(np.datetime64(d.isoformat()), np.int64(n)) for d, n in PAIRS]
    assert _kinds(railwatch.analyze_counts(days, as_of=AS_OF)) == by_pairs  # type: ignore[arg-type]


def test_analyze_counts_reads_pd_na_as_a_gap_and_refuses_a_missing_date() -> None:
    pd = pytest.importorskip("pandas")
    counts = pd.array([n for _, n in PAIRS[:-1]] + [None], dtype="Int64")  # nullable ints
    frame = pd.DataFrame({"date": [d for d, _ in PAIRS], "count": counts})
    gap = [*PAIRS[:-1], (PAIRS[-1][0], None)]
    rows = frame.itertuples(index=False)
    assert _kinds(railwatch.analyze_counts(rows, as_of=AS_OF)) == _kinds(
        railwatch.analyze_counts(gap, as_of=AS_OF)
    )
    for missing in (pd.NaT, np.datetime64("NaT")):
        with pytest.raises(InputError, match=r"counts\[1\]: the date is missing \(NaT\)"):
            railwatch.analyze_counts([PAIRS[0], (missing, 3)])  # type: ignore[list-item]


# --------------------------------------------------------------------------- detection


def test_detect_array_says_to_give_a_numpy_array_and_a_number() -> None:
    from PIL import Image

    rgb = np.zeros((64, 64, 3), np.uint8)
    with pytest.raises(InputError, match=r"image is of type Image, not a NumPy array.*asarray"):
        railwatch.detect_array(Image.fromarray(rgb), 0.5)  # type: ignore[arg-type]
    with pytest.raises(InputError, match=r"image is of type list, not a NumPy array"):
        railwatch.detect_array(rgb.tolist(), 0.5)  # type: ignore[arg-type]
    with pytest.raises(
        InputError, match=r"gsd None is not a number.*detect_array\(\.\.\., gsd=0.5\)"
    ):
        railwatch.detect_array(rgb, None)  # type: ignore[arg-type]


def test_detect_file_says_a_gsd_given_as_text_is_no_number(tmp_path: Path) -> None:
    from PIL import Image

    png = tmp_path / "yard.png"
    Image.fromarray(np.zeros((64, 64, 3), np.uint8)).save(png)
    with pytest.raises(
        InputError, match=r"gsd '0.5' is not a number.*detect_file\(\.\.\., gsd=0.5\)"
    ):
        railwatch.detect_file(png, gsd="0.5")  # type: ignore[arg-type]


def test_a_detection_result_shows_in_one_short_line() -> None:
    cars = tuple(
        Detection(OrientedBox(1000.0 + 20 * k, 5000.0, 13.0, 3.1, 45.0), "tank", 0.9,
                  extra={f"p_{c}": 0.1 for c in ("boxcar", "gondola", "hopper", "tank")})
        for k in range(40)
    )  # fmt: skip
    result = railwatch.DetectionResult(
        "sim/yard.tif", cars, "EPSG:32652", 0.5, 800, 600, detector="railwatch-default",
        detector_version="2.9", counts={"tank": 40},
    )  # fmt: skip
    shown = repr(result)
    assert len(shown) < 300, shown
    assert shown == (
        "DetectionResult(source='sim/yard.tif', method='objects', total=40, counts={'tank': 40}, "
        "crs='EPSG:32652', gsd=0.5, size=(800, 600), detector='railwatch-default 2.9')"
    )


def test_a_geodataframe_without_cars_has_the_columns_of_one_with_cars() -> None:
    pytest.importorskip("geopandas")
    car = Detection(OrientedBox(632000.0, 4697800.0, 13.0, 3.1, 45.0), "tank", 0.9,
                    extra={"p_tank": 0.9, "p_boxcar": 0.1})  # fmt: skip
    args = ("yard.tif", "EPSG:32652", 0.5, 800, 600)
    with_cars = railwatch.DetectionResult(args[0], (car,), *args[1:], detector="x")
    without = railwatch.DetectionResult(args[0], (), *args[1:], detector="x")
    full = railwatch.to_geodataframe(with_cars)
    empty = railwatch.to_geodataframe(without)
    assert list(empty.columns) == list(full.columns)
    assert len(empty) == 0 and empty.crs == full.crs


def test_a_rendered_scene_shows_in_one_short_line() -> None:
    params = railwatch.SceneParams(seed=3, gsd=0.5, size_px=(160, 120), n_cars=4)
    scene = railwatch.render_scene(params)
    shown = repr(scene)
    assert len(shown) < 300, shown
    assert shown.startswith("RenderedScene(seed=3, gsd=0.5, size_px=(160, 120), crs='EPSG:")
    assert f"cars={len(scene.truth)}, truth_counts={scene.truth_counts()!r})" in shown


def test_detect_file_takes_track_centrelines_as_a_geojson_file(tmp_path: Path) -> None:
    from railwatch.sites import load_tracks

    params = railwatch.SceneParams(seed=5, gsd=0.5, size_px=(240, 200), n_cars=6)
    paths = railwatch.write_scene(railwatch.render_scene(params), tmp_path, "yard", preview=False)
    assert paths.tracks is not None
    lines = load_tracks(paths.tracks)
    by_geometry = railwatch.detect_file(paths.image, tracks=lines)
    assert by_geometry.tracks == "given" and by_geometry.off_track is not None
    for given in (paths.tracks, str(paths.tracks), paths.tracks.read_text()):
        by_file = railwatch.detect_file(paths.image, tracks=given)
        assert by_file.detections == by_geometry.detections
        assert (by_file.tracks, by_file.off_track) == (by_geometry.tracks, by_geometry.off_track)
    with pytest.raises(InputError, match=r"tracks 5 \(int\): give the track centrelines"):
        railwatch.detect_file(paths.image, tracks=5)  # type: ignore[arg-type]


def test_a_database_given_a_path_object_says_to_give_a_url(tmp_path: Path) -> None:
    from railwatch.errors import ConfigError

    path = tmp_path / "x.db"
    with pytest.raises(ConfigError, match=r"is a PosixPath, not a URL: give 'sqlite:///.*x\.db'"):
        railwatch.Database(path)  # type: ignore[arg-type]
    assert not path.exists()


def test_assess_file_given_a_site_name_says_it_takes_the_area(tmp_path: Path) -> None:
    tif = tmp_path / "yard.tif"
    tif.write_bytes(b"")  # never read: the site is judged first
    with pytest.raises(InputError, match=r"site 'yard' is no bbox: .*not a stored site's name"):
        railwatch.assess_file(tif, "yard")
