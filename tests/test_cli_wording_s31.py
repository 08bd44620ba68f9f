"""Small defects a new user's walkthrough found (session 31).

- Counts said with a plural noun whatever the count: "1 alerts of tumangang"
  (`railwatch alerts`), "wrote 1 chips ... from 1 scenes" (`export-labels`), "1 images"
  in the calibration source `calibrate --labels` prints and stores, and the like
  elsewhere (`site remove`, `analyze`, `import-labels`).
- `export-labels` of a 4-band file that declares both a nodata value and an alpha band
  printed rasterio's raw ``NodataShadowWarning`` with its source line. The alpha band is
  the file's mask, as the pipeline's warp and GDAL's dataset mask take it
  (``imagery.inspect.shadowed_alpha``); the readers now read it so without the warning,
  and the range a 16-bit file is stretched by (``stretch_ranges``) and ingest's footprint
  follow the same rule (they applied the nodata value band by band instead).
- `eval --site SITE` with no reviewed scene exited 2 (a usage error) while nothing on the
  command line was wrong: it is 1, as README's exit-status table says.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
import pytest
import rasterio
from PIL import Image
from rasterio.errors import NodataShadowWarning

from imagery_helpers import write_geotiff, yard_scene
from railwatch.analysis.types import Alert as AlertValue
from railwatch.cli.main import main
from railwatch.sites import site_from_bbox
from railwatch.storage import Database, repo
from report_db import populate

BBOX = "130.60,42.28,130.63,42.30"


def _one_line(text: str) -> str:
    return " ".join(text.split())


# --- plurals -----------------------------------------------------------------------------


@pytest.fixture()
def db(tmp_db_url: str) -> Iterator[Database]:
    database = Database(tmp_db_url)
    with database.session() as s:
        repo.add_site(s, site_from_bbox("tum", BBOX))
    yield database
    database.dispose()


def _spike(day: int) -> AlertValue:
    return AlertValue(
        key=f"spike:all:2024-03-{day:02d}",
        kind="spike",
        severity="medium",
        when=datetime(2024, 3, day, 2, 30, tzinfo=UTC),
        cls="all",
        value=40.0,
        explanation="40 railcars, against a usual 12",
        metrics={"baseline": 12.0, "z": 6.1},
    )


def test_alerts_of_one_alert_says_alert(db: Database, capsys: pytest.CaptureFixture[str]) -> None:
    with db.session() as s:
        repo.replace_alerts(s, "tum", [_spike(1)])
    capsys.readouterr()
    assert main(["--db", db.url, "alerts", "tum"]) == 0
    out = _one_line(capsys.readouterr().out)
    assert "1 alert of tum" in out and "1 alerts" not in out
    with db.session() as s:
        repo.replace_alerts(s, "tum", [_spike(1), _spike(2)])
    assert main(["--db", db.url, "alerts", "tum"]) == 0
    assert "2 alerts of tum" in _one_line(capsys.readouterr().out)


def test_site_remove_of_one_scene_says_scene(
    db: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    with db.session() as s:
        repo.replace_alerts(s, "tum", [_spike(1)])
    capsys.readouterr()
    assert main(["--db", db.url, "site", "remove", "tum", "--yes"]) == 0
    out = _one_line(capsys.readouterr().out)
    assert "0 scenes, 0 detections, 0 counts, 0 events and 1 alert." in out


@pytest.fixture()
def yard(tmp_path: Path) -> Iterator[Database]:
    """The report tests' site: scene 1 has 5 cars, with its detections."""
    database = Database(f"sqlite:///{tmp_path / 'rw.db'}")
    populate(database, tmp_path / "scenes")
    yield database
    database.dispose()


def test_export_labels_of_one_scene_says_chip_and_scene(
    yard: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    out_dir = tmp_path / "labels"
    assert main(["--db", yard.url, "export-labels", "--scene", "1", "--out", str(out_dir)]) == 0
    out = _one_line(capsys.readouterr().out)
    assert "wrote 1 chip with 5 labelled cars from 1 scene to" in out, out
    # and import-labels of that one image: "1 image", not "1 images"
    args = ["import-labels", str(out_dir), "-f", "coco", "--out", str(tmp_path / "imported")]
    assert main(args) == 0
    assert "imported 1 image, 5 cars" in _one_line(capsys.readouterr().out)


def test_calibration_on_one_labelled_image_says_image_and_car(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The source `calibrate --labels` prints ("calibrated on ...") and stores."""
    import railwatch.detect.api as api
    from railwatch.detect.calibration import calibrate_on_labels
    from railwatch.detect.labels import LabelledCar, LabelledImage, LabelledSet

    car = LabelledCar(
        polygon=np.array([[20.0, 30.0], [52.0, 30.0], [52.0, 36.0], [20.0, 36.0]]),
        cls="tank",
        covered=False,
    )
    image = LabelledImage(
        name="one",
        image_path=tmp_path / "one.tif",
        label_path=tmp_path / "one.geojson",
        image=np.zeros((64, 64, 3), np.uint8),
        gsd=0.5,
        native_gsd=0.5,
        cars=(car,),
    )
    monkeypatch.setattr(api, "detect_array", lambda *a, **k: [])  # the detector finds none
    cal = calibrate_on_labels(None, LabelledSet(root=tmp_path, images=(image,)))
    assert f"labelled images in {tmp_path}: 1 image, 1 car, pooled at" in cal.source


def test_analyze_counts_file_of_one_alert_says_alert(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`analyze --counts FILE`: "N usable counts" and the table's "1 alert"."""
    rows = ["date,count"]
    rows += [f"2023-{m:02d}-{d:02d},10" for m in range(1, 13) for d in (1, 15)]
    rows.append("2024-01-10,60")
    counts = tmp_path / "counts.csv"
    counts.write_text("\n".join(rows) + "\n", encoding="utf-8")
    capsys.readouterr()
    args = ["analyze", "--counts", str(counts), "--as-of", "2024-01-11"]
    assert main([*args, "--min-severity", "high"]) == 0  # the spike alone
    out = _one_line(capsys.readouterr().out)
    assert ": 1 alert, 25 usable counts" in out, out


# --- nodata and alpha --------------------------------------------------------------------


def _rgba_with_nodata(path: Path, dtype: str = "uint8", *, like: Path | None = None) -> Path:
    """A 4-band RGBA TIFF that declares nodata 0 too: its left half transparent (alpha
    0) and filled white, its other pixels opaque, a black block among them."""
    top = 65535 if dtype == "uint16" else 255
    if like is not None:
        with rasterio.open(like) as src:
            h, w, transform, crs = src.height, src.width, src.transform, src.crs
    else:
        h, w, transform, crs = 200, 200, None, "EPSG:32652"
    rgb = yard_scene(h, w).astype(dtype) * (257 if dtype == "uint16" else 1)
    rgb[:, :, : w // 2] = round(top * 0.94)
    rgb[:, h // 2 : h // 2 + 30, w // 2 + 30 : w // 2 + 60] = 0  # opaque black
    alpha = np.full((1, h, w), top, dtype)
    alpha[:, :, : w // 2] = 0
    kwargs = {"transform": transform, "crs": str(crs)} if like is not None else {}
    return write_geotiff(path, np.concatenate([rgb, alpha]), nodata=0, alpha=True, **kwargs)


def _shadow_warnings(record: list[warnings.WarningMessage]) -> list[str]:
    return [str(w.message) for w in record if issubclass(w.category, NodataShadowWarning)]


def test_export_labels_of_an_rgba_file_with_nodata_prints_no_rasterio_warning(
    yard: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with yard.session() as s:
        path = Path(repo.get_scene(s, 1).uri)
    _rgba_with_nodata(path, like=path)
    capsys.readouterr()
    out_dir = tmp_path / "labels"
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        code = main(["--db", yard.url, "export-labels", "--scene", "1", "--out", str(out_dir)])
    assert code == 0
    assert _shadow_warnings(record) == []
    assert "Warning" not in capsys.readouterr().err
    (png,) = (out_dir / "images").glob("*.png")
    chip = np.asarray(Image.open(png).convert("RGB"))
    # the alpha band is the mask: the transparent half is no data (black), not white
    assert not (chip == 255).all(axis=2).any()


def test_every_reader_takes_the_alpha_band_without_the_warning(tmp_path: Path) -> None:
    """Detect's windows, web tiles' masks, ingest's footprint and the 16-bit stretch read a
    nodata-and-alpha file by its alpha band, as the pipeline's warp does."""
    from rasterio.windows import Window

    from railwatch.detect.api import _masks_of, window_valid
    from railwatch.export.geometry import transform_polygon
    from railwatch.imagery.inspect import data_mask, inspect_scene, shadowed_alpha
    from railwatch.imagery.read import read_site_window, site_grid, stretch_ranges

    path = _rgba_with_nodata(tmp_path / "rgba16.tif", "uint16")
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        with rasterio.open(path) as ds:
            assert shadowed_alpha(ds) == 4
            mask = data_mask(ds) > 0
            rw = Window(0, 0, ds.width, ds.height)
            raw = ds.read([1, 2, 3], window=rw)
            valid = window_valid(ds, [1, 2, 3], rw, raw, _masks_of(ds, [1, 2, 3], 0.5))
            ranges = stretch_ranges(ds, [1, 2, 3])
        info = inspect_scene(path, date=date(2024, 5, 1))
        grid = site_grid(info.footprint, 0.5, crs="EPSG:32652")
        pipeline = read_site_window(str(path), grid)
    assert _shadow_warnings(record) == []
    # the pipeline: the transparent half is no data, the opaque black block is data
    assert not mask[:, :100].any() and mask[:, 100:].all()
    assert valid is not None and np.array_equal(valid, mask)
    assert pipeline.valid.sum() == pytest.approx(mask.sum(), rel=0.02)
    # ingest's footprint is the opaque half (100 x 200 px of 0.5 m), its black block
    # included (cut out before: the nodata value applied as well as the alpha band)
    utm = transform_polygon(info.footprint, "EPSG:4326", "EPSG:32652")
    assert utm.area == pytest.approx(100 * 200 * 0.25, rel=0.01)
    # the stretch is of the opaque ground: the white fill under alpha 0 is left out (it
    # was in, with the nodata value's masks band by band)
    assert ranges is not None and (ranges[1] < 0.9 * 65535).all()


# --- eval --site without reviews ---------------------------------------------------------


def test_eval_of_a_site_without_reviews_is_status_1(
    db: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    """Nothing on the command line is wrong (status 2 is for that): the site has nothing
    to score yet, said with what to do; an unknown site is status 1 too."""
    capsys.readouterr()
    assert main(["--db", db.url, "eval", "--site", "tum"]) == 1
    err = _one_line(capsys.readouterr().err)
    assert "site 'tum' has no reviewed scene to score" in err and "scene review ID" in err
    assert main(["--db", db.url, "eval", "--site", "nosuch"]) == 1
