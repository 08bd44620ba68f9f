"""railwatch as a Python library (session 36): the lazy public names of the root package,
the thin entry points of ``railwatch.api``, and docs/python.md, every example of which is
run here so that the page cannot rot.

Until session 36 ``railwatch`` exported only ``RailwatchError``: a notebook had to find
``railwatch.detect.api.detect_file``, compute the count's interval itself from
``counting.count_interval`` and the default detector's calibration, turn boxes into
GeoJSON with ``detect.geojson.to_feature_collection`` and its arguments, read a site
window with four functions of three modules to judge an image's quality, and build
``CountPoint`` values to run the alert rules on a list of counts (a ``(date, count)``
tuple failed deep inside NumPy: "ufunc 'isfinite' not supported").
"""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import railwatch
from railwatch.analysis.types import CountPoint
from railwatch.errors import DetectionError, InputError, NotFoundError

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "docs" / "python.md"
STUB = ROOT / "src" / "railwatch" / "__init__.pyi"

pytestmark = pytest.mark.xdist_group("python_api_s36")

#: The demo database's site in the page: a yard at Tumangang (the simulator's default
#: place), W,S,E,N.
BBOX = (130.6066, 42.4205, 130.6096, 42.4223)
#: (day, cars, cloud cover) of the images of the test's demo database: the last is cloudy.
VISITS = (("2023-06-01", 8, 0.0), ("2023-07-01", 10, 0.0), ("2023-08-01", 9, 0.0),
          ("2023-09-01", 9, 0.6), ("2023-10-05", 40, 0.0))  # fmt: skip


def _hand_counts() -> list[tuple[date, int]]:
    """The page's counts: monthly 8-12 cars from 2018 to mid-2023, then the rise."""
    counts = [(date(2018 + k // 12, k % 12 + 1, 15), 8 + k % 5) for k in range(66)]
    return [*counts, (date(2023, 9, 18), 23), (date(2023, 9, 25), 46), (date(2023, 10, 5), 73)]


def _write_demo_database(root: Path) -> Path:
    """``root/railwatch-demo/railwatch-demo.db`` as ``make demo`` leaves one, small: site
    tumangang with five simulated 0.5 m images (one cloudy), processed and analysed."""
    from railwatch.analysis.store import analyze_and_store
    from railwatch.ingest import ingest_paths
    from railwatch.pipeline import process_site
    from railwatch.storage import Database, repo

    images = root / "railwatch-demo" / "images"
    for k, (day, cars, cloud) in enumerate(VISITS):
        when = datetime.fromisoformat(day).replace(hour=2, tzinfo=UTC)
        params = railwatch.SceneParams(
            seed=k, layout_seed=1, gsd=0.5, size_px=(500, 400), n_cars=cars, cloud_cover=cloud,
            date=when,
        )  # fmt: skip
        railwatch.write_scene(railwatch.render_scene(params), images, f"t_{day}", preview=False)
    path = root / "railwatch-demo" / "railwatch-demo.db"
    db = Database(f"sqlite:///{path}")
    try:
        with db.session() as s:
            repo.add_site(s, railwatch.site_from_bbox("tumangang", BBOX))
        ingest_paths(db, "tumangang", [images])
        process_site(db, "tumangang")
        analyze_and_store(db, "tumangang")
    finally:
        db.dispose()
    return path


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The folder the page's examples run in: the test's demo database and hand counts."""
    root = tmp_path_factory.mktemp("python_page")
    _write_demo_database(root)
    lines = ["date,count", *(f"{d.isoformat()},{n}" for d, n in _hand_counts())]
    (root / "hand_counts.csv").write_text("\n".join(lines) + "\n")
    return root


def _examples() -> list[tuple[int, str]]:
    """Each ```python block of docs/python.md with the line it starts on."""
    text = PAGE.read_text(encoding="utf-8")
    return [
        (text[: m.start()].count("\n") + 2, m.group(1))
        for m in re.finditer(r"^```python\n(.*?)^```", text, re.MULTILINE | re.DOTALL)
    ]


# --------------------------------------------------------------------------- the page


def test_every_example_of_the_page_runs(
    workdir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("geopandas", reason="the page's GeoDataFrame example needs the gis extra")
    pytest.importorskip("pandas", reason="the page's tables need pandas")
    monkeypatch.chdir(workdir)
    examples = _examples()
    assert len(examples) >= 10, "docs/python.md lost its examples"
    namespace: dict[str, Any] = {"__name__": "docs_python_md"}
    for line, code in examples:  # in order, one namespace: as a notebook runs them
        exec(compile(code, f"{PAGE}:{line}", "exec"), namespace)
    out = capsys.readouterr().out
    # what the page says the examples give, where it does not hang on the detector's
    # version: the shapes of the results and the alert rules' verdicts
    ns = namespace
    assert ns["result"].total == len(ns["cars"]) == ns["count"].total > 0
    assert ns["count"].low <= ns["count"].total <= ns["count"].high
    assert sum(n for n, _, _ in ns["count"].by_class.values()) == ns["count"].total
    assert len(ns["collection"]["features"]) == ns["result"].total
    assert json.loads(Path(workdir, "yard.geojson").read_text())["type"] == "FeatureCollection"
    assert ns["quality"].usable is False and ns["quality"].source == "mask"
    assert "2023-09-25 shift high Kim–Putin summit" in out
    assert "[('record', 'medium'), ('spike', 'low')]" in out
    assert [p.usable for p in ns["points"]] == [cloud == 0.0 for _, _, cloud in VISITS]
    assert ns["alerts"] and all(a["site"] == "tumangang" for a in ns["alerts"])
    assert "did you mean 'tumangang'?" in out
    assert "counts[0]: count 'seventy' is not a number" in out
    assert [p.usable for p in railwatch.site_counts("notebook.db", "yard")] == [False, True]


def test_the_page_shows_every_public_name() -> None:
    text = PAGE.read_text(encoding="utf-8")
    missing = [n for n in railwatch.__all__ if n != "__version__" and f"`{n}`" not in text]
    assert not missing, f"docs/python.md does not name {missing}"


def test_readme_and_architecture_link_the_page() -> None:
    assert "(docs/python.md)" in (ROOT / "README.md").read_text(encoding="utf-8")
    assert "(python.md)" in (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")


# --------------------------------------------------------------------------- the names


def test_import_railwatch_stays_light() -> None:
    # the modules `import railwatch` adds to those a bare interpreter has (a .pth file or
    # a coverage hook may import some at start-up)
    code = (
        "import sys; before = set(sys.modules); import railwatch; "
        "print(' '.join(sorted(set(sys.modules) - before)))"
    )
    added = set(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                               check=True).stdout.split())  # fmt: skip
    heavy = {"numpy", "rasterio", "sqlalchemy", "shapely", "cv2", "onnxruntime", "typing"}
    assert not heavy & added
    assert {m for m in added if m.startswith("railwatch")} == {"railwatch", "railwatch.errors"}


def test_each_public_name_is_its_modules_object_and_the_stub_agrees() -> None:
    import importlib

    lazy: dict[str, str] = railwatch._LAZY  # type: ignore[attr-defined]
    for name, module in lazy.items():
        assert getattr(railwatch, name) is getattr(importlib.import_module(module), name), name
        layer = module.split(".")[1]
        assert layer not in ("cli", "web"), f"{name}: the core never imports the CLI or web"
    stub: dict[str, str] = {}
    for node in ast.parse(STUB.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.ImportFrom):
            for alias in node.names:
                assert alias.asname == alias.name, f"{alias.name}: re-export as itself"
                stub[alias.name] = node.module or ""
    assert stub == {**lazy, "RailwatchError": "railwatch.errors"}
    assert set(railwatch.__all__) == {*stub, "__version__"}
    assert set(railwatch.__all__) <= set(dir(railwatch))
    with pytest.raises(AttributeError, match="no attribute 'detect_files'"):
        _ = railwatch.detect_files  # type: ignore[attr-defined]


def test_no_module_of_the_package_takes_a_public_name_from_the_root() -> None:
    # the root's names reach up to any layer: taken from it by a module, they would hide
    # an upward import from tests/test_layers.py
    lazy: dict[str, str] = railwatch._LAZY  # type: ignore[attr-defined]
    src = ROOT / "src" / "railwatch"
    found = []
    for path in sorted(src.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module == "railwatch" and not node.level:
                found += [f"{path.relative_to(src)}:{node.lineno} {a.name}" for a in node.names
                          if a.name in lazy]  # fmt: skip
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id == "railwatch"
                and node.attr in lazy
            ):
                found.append(f"{path.relative_to(src)}:{node.lineno} railwatch.{node.attr}")
    assert not found, f"import these from their own modules: {found}"


# --------------------------------------------------------------------------- the same as the CLI


@pytest.fixture(scope="module")
def yard(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("python_yard")
    scene = railwatch.render_scene(
        railwatch.SceneParams(seed=3, gsd=0.5, size_px=(600, 500), n_cars=25)
    )
    return railwatch.write_scene(scene, root, "yard", preview=False).image


def test_count_cars_gives_what_railwatch_detect_prints(yard: Path, tmp_path: Path) -> None:
    from railwatch.cli.main import build_app

    out = tmp_path / "cars.geojson"
    run = CliRunner().invoke(build_app(), ["detect", str(yard), "-o", str(out), "--json"])
    assert run.exit_code == 0, run.output
    row = json.loads(run.stdout)[0]
    count = railwatch.count_cars(railwatch.detect_file(yard))
    assert (count.total, count.low, count.high) == (row["total"], row["low"], row["high"])
    assert {c: n for c, (n, _, _) in count.by_class.items()} == row["by_class"]
    assert count.covered == row["covered"]
    written = json.loads(out.read_text())
    mine = railwatch.to_geojson(railwatch.detect_file(yard))
    assert mine["features"] == written["features"]
    assert mine["crs"] == written["crs"] and mine["gsd"] == written["gsd"]


def test_count_cars_refuses_a_result_of_another_detector(yard: Path) -> None:
    from dataclasses import replace

    result = replace(railwatch.detect_file(yard), detector="onnx:yolo.onnx", detector_version="1")
    with pytest.raises(InputError, match=r"detected by onnx:yolo.onnx 1.*pass the detector"):
        railwatch.count_cars(result)


def test_count_cars_of_a_coarse_image_without_track_is_no_count() -> None:
    from railwatch.detect.api import DetectionResult
    from railwatch.detect.coarse import CoarseEstimate

    nothing = CoarseEstimate(0.0, 0.0, 0.0, 0.0, "length", False, track_m=0.0)
    result = DetectionResult("a.tif", (), "EPSG:32652", 3.0, 100, 100, "length", nothing)
    with pytest.raises(DetectionError, match=r"no track line was read.*not 0"):
        railwatch.count_cars(result)
    read = CoarseEstimate(12.5, 8.0, 20.0, 175.0, "length", False, track_m=900.0)
    count = railwatch.count_cars(
        DetectionResult("a.tif", (), "EPSG:32652", 3.0, 100, 100, "length", read, tracks="found")
    )
    assert (count.total, count.low, count.high, count.method) == (12.5, 8.0, 20.0, "length")
    assert count.by_class == {"railcar": (12.5, 8.0, 20.0)} and count.track_m == 900.0


def test_to_geodataframe_of_no_car_keeps_the_crs(yard: Path) -> None:
    pytest.importorskip("geopandas")
    from dataclasses import replace

    empty = railwatch.to_geodataframe(replace(railwatch.detect_file(yard), detections=()))
    assert len(empty) == 0 and str(empty.crs) == "EPSG:32652"
    assert {"geometry", "class", "score"} <= set(empty.columns)


def test_assess_file_judges_as_process_did(workdir: Path) -> None:
    from railwatch.storage import Database, repo

    db = Database(f"sqlite:///{workdir / 'railwatch-demo' / 'railwatch-demo.db'}", create=False)
    try:
        with db.session(readonly=True) as s:
            scenes = repo.list_scenes(s, "tumangang")
            stored = [(sc.uri, sc.usable, sc.clear_fraction) for sc in scenes]
    finally:
        db.dispose()
    assert len(stored) == len(VISITS)
    site = railwatch.site_from_bbox("tumangang", BBOX)
    for uri, usable, clear in stored:  # (a scene's coverage is ingest's, of its footprint)
        q = railwatch.assess_file(uri, site)
        assert (q.usable, q.clear_fraction) == (usable, pytest.approx(clear, abs=1e-9))
    assert [u for _, u, _ in stored].count(False) == 1  # the cloudy image
    # a bbox and a polygon are the same site
    uri = stored[0][0]
    assert railwatch.assess_file(uri, BBOX) == railwatch.assess_file(uri, site.geometry)
    with pytest.raises(InputError, match="from 0 to 1"):
        railwatch.assess_file(uri, site, threshold=80)
    with pytest.raises(InputError, match="give a SiteSpec"):
        railwatch.assess_file(uri, 42)  # type: ignore[arg-type]


def test_analyze_counts_of_a_csv_gives_what_railwatch_analyze_counts_gives(
    workdir: Path,
) -> None:
    from railwatch.cli.main import build_app

    csv = workdir / "hand_counts.csv"
    args = ["analyze", "--counts", str(csv), "--json", "--min-severity", "info", "--as-of"]
    run = CliRunner().invoke(build_app(), [*args, "2024-03-01", "--event", "2023-09-13=summit"])
    assert run.exit_code == 0, run.output
    cli = [(a["key"], a["severity"], a["explanation"]) for a in json.loads(run.stdout)]
    mine = railwatch.analyze_counts(csv, [("2023-09-13", "summit")], as_of=date(2024, 3, 1))
    assert [(a.key, a.severity, a.explanation) for a in mine] == cli
    assert any(a.kind == "quality" for a in mine)  # the silence up to as_of


def test_analyze_counts_of_pairs_is_analyze_series_of_their_points() -> None:
    from railwatch.analysis.alerts import analyze_series
    from railwatch.analysis.types import Event

    pairs = _hand_counts()
    points = [
        # pairs are hand counts: method "manual", as a CSV's lines (session 40: every
        # count alert names its method since a92b7e2)
        CountPoint(
            when=datetime(d.year, d.month, d.day, tzinfo=UTC),
            count=n,
            date_only=True,
            method="manual",
        )
        for d, n in pairs
    ]
    expected = analyze_series(points, [Event(date(2023, 9, 13), "summit")])
    # as of the last count's day, which analyze_series takes without as_of (analyze_counts
    # takes now, as `railwatch analyze` does, since session 37)
    last = date(2023, 10, 5)
    assert railwatch.analyze_counts(pairs, [(date(2023, 9, 13), "summit")], as_of=last) == expected
    as_text = [(d.isoformat(), n) for d, n in pairs]
    assert railwatch.analyze_counts(as_text, [("2023-09-13", "summit")], as_of=last) == expected
    summit = [Event(date(2023, 9, 13), "summit")]
    assert railwatch.analyze_counts(points, summit, as_of=last) == expected
    # None is a gap (an unusable image), never 0: a drop would be read from a 0
    gap = railwatch.analyze_counts([*pairs[:66], (date(2023, 7, 15), None)])
    zero = railwatch.analyze_counts([*pairs[:66], (date(2023, 7, 15), 0)])
    assert not any(a.kind == "drop" for a in gap) and any(a.kind == "drop" for a in zero)


def test_analyze_counts_takes_a_pandas_frame_nan_as_a_gap() -> None:
    pd = pytest.importorskip("pandas")
    pairs: list[tuple[date, float | None]] = [*_hand_counts()[:66], (date(2023, 7, 15), None)]
    frame = pd.DataFrame(
        {"date": pd.to_datetime([d for d, _ in pairs]), "count": [n for _, n in pairs]}
    )
    assert frame["count"].isna().sum() == 1  # None became NaN
    as_of = date(2023, 7, 15)
    alerts = railwatch.analyze_counts(frame[["date", "count"]].itertuples(index=False), as_of=as_of)
    assert alerts == railwatch.analyze_counts(pairs, as_of=as_of)
    assert not any(a.kind == "drop" for a in alerts)  # the NaN is a gap, not a 0


def test_analyze_counts_takes_days_at_the_site() -> None:
    # at UTC-7 a date alone is noon there (19:00 UTC), not 00:00 UTC (the day before there)
    pairs = _hand_counts()
    alerts = railwatch.analyze_counts(pairs, utc_offset=timedelta(hours=-7))
    last = [a for a in alerts if a.value == 73.0]
    assert last and all(a.when == datetime(2023, 10, 5, 19, tzinfo=UTC) for a in last)
    assert all(a.key.endswith("2023-10-05") for a in last)


@pytest.mark.parametrize(
    ("counts", "message"),
    [
        ([(1, 2)], r"counts\[0\]: 1 is not a date: give a date"),
        ([("2023-13-01", 2)], r"'2023-13-01' is not a date"),
        ([5], r"counts\[0\] is 5: give \(when, count\) pairs"),
        ([("2023-10-05", -3)], r"count -3 must be a finite number, 0 or more"),
        ([("2023-10-05", float("inf"))], r"must be a finite number"),
    ],
)
def test_analyze_counts_says_what_is_wrong_with_a_count(counts: Any, message: str) -> None:
    with pytest.raises(InputError, match=message):
        railwatch.analyze_counts(counts)


def test_analyze_counts_of_a_csv_of_several_sites_asks_for_one(tmp_path: Path) -> None:
    csv = tmp_path / "two.csv"
    csv.write_text("date,count,site\n2023-01-01,3,a\n2023-02-01,4,b\n2023-03-01,5,a\n")
    with pytest.raises(InputError, match=r"counts of 2 sites \('a', 'b'\): pick one"):
        railwatch.analyze_counts(csv)
    assert railwatch.analyze_counts(csv, site="a") == railwatch.analyze_counts(
        [("2023-01-01", 3), ("2023-03-01", 5)]
    )
    with pytest.raises(InputError, match="not in the site column"):
        railwatch.analyze_counts(csv, site="c")


def test_site_alerts_are_what_railwatch_alerts_json_lists(workdir: Path) -> None:
    from railwatch.cli.main import build_app

    db = workdir / "railwatch-demo" / "railwatch-demo.db"
    args = ["--db", f"sqlite:///{db}", "alerts", "tumangang", "--json", "--min-severity", "info"]
    run = CliRunner().invoke(build_app(), [*args, "--class", "all"])
    assert run.exit_code == 0, run.output
    cli = json.loads(run.stdout)
    mine = railwatch.site_alerts(db, "tumangang", cls="all")
    assert cli and len(mine) == len(cli)
    for a, b in zip(mine, cli, strict=True):
        assert {k: a[k] for k in b} == b  # every member of the CLI's, the same
        assert set(a) - set(b) <= {"created_at"}


def test_site_readers_create_no_database(tmp_path: Path) -> None:
    from railwatch.storage.db import NoDatabaseError

    missing = tmp_path / "typo.db"
    with pytest.raises(NoDatabaseError, match="no database at"):
        railwatch.site_counts(missing, "tumangang")
    assert not missing.exists()


def test_site_alerts_filters_as_railwatch_alerts(workdir: Path) -> None:
    db = workdir / "railwatch-demo" / "railwatch-demo.db"
    every = railwatch.site_alerts(db, "tumangang")
    assert every and [a["when"] for a in every] == sorted((a["when"] for a in every), reverse=True)
    assert railwatch.site_alerts(db, "tumangang", min_severity="high") == [
        a for a in every if a["severity"] == "high"
    ]
    assert railwatch.site_alerts(db, "tumangang", cls="all") == [
        a for a in every if a["cls"] == "all"
    ]
    with pytest.raises(InputError, match="min_severity 'urgent': use one of info, low"):
        railwatch.site_alerts(db, "tumangang", min_severity="urgent")
    with pytest.raises(NotFoundError, match="did you mean 'tumangang'"):
        railwatch.site_alerts(f"sqlite:///{db}", "tumangnag")


#: Public members without a docstring, left to their module's owner this session
#: (detect/api.py was being edited by another engineer): remove when documented.
UNDOCUMENTED = {"DetectionResult.total"}


def test_each_public_name_and_its_members_say_what_they_are() -> None:
    import inspect

    missing = []
    for name in railwatch.__all__:
        if name == "__version__":
            continue
        obj = getattr(railwatch, name)
        if not inspect.getdoc(obj):
            missing.append(name)
        if inspect.isclass(obj):
            for member, value in vars(obj).items():
                public = not member.startswith("_") and (
                    callable(value) or isinstance(value, property)
                )
                if public and not value.__doc__ and f"{name}.{member}" not in UNDOCUMENTED:
                    missing.append(f"{name}.{member}")
    assert not missing, f"no docstring: {missing}"
