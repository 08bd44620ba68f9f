"""Review of georeferenced export-labels chips (2026-12-06, session 35).

Since 94831dc each export-labels chip has its world file and CRS beside it, so
``railwatch eval --truth`` reads an export's cars in the chip's CRS. Predictions made in
pixels of those chips (``railwatch detect chip.png --gsd`` on a chip exported before,
or on the plain copies ``import-labels`` writes) were then refused as "different
frames". Now the side in pixels is placed in the CRS of its georeferenced image and the
report says so; what cannot be placed (an image that is not georeferenced, pixels that
are not the image's) is refused saying what to do.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import rasterio
from affine import Affine

from railwatch.cli.main import main
from railwatch.detect.eval import evaluate_dirs, summarise
from railwatch.errors import InputError
from railwatch.export.label_chips import MANIFEST, WORLD_FILE_SUFFIX, to_ground
from report_db import CRS
from test_evaltruth_qa24_labels import _exported, _imported, _oracle


@pytest.fixture(scope="module")
def db_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    from railwatch.storage import Database
    from report_db import populate

    tmp = tmp_path_factory.mktemp("export_review_s35")
    url = f"sqlite:///{tmp / 'rw.db'}"
    populate(Database(url), tmp / "scenes")
    return url


def _eval(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, Any], str]:
    rc = main(["eval", *args, "--json"])
    out = capsys.readouterr()
    return rc, (json.loads(out.out) if rc == 0 else {}), out.err


def _on_ground(pred: Path, export: Path, out: Path) -> None:
    """``pred``'s pixel predictions of each chip as `railwatch detect` writes them for
    the georeferenced chip: in its CRS, by the export's chip transforms."""
    scenes = json.loads((export / MANIFEST).read_text())["scenes"]
    where = {c: (e["crs"], t) for e in scenes for c, t in e["chip_transforms"].items()}
    out.mkdir()
    for path in pred.iterdir():
        doc = json.loads(path.read_text())
        crs, transform = where[path.name.removesuffix(".detections.geojson")]
        for f in doc["features"]:
            ring = f["geometry"]["coordinates"][0]
            f["geometry"]["coordinates"] = [[list(p) for p in to_ground(ring, transform)]]
        doc["crs"] = {"type": "name", "properties": {"name": crs}}
        (out / path.name).write_text(json.dumps(doc))


def test_pixel_predictions_of_georeferenced_chips_are_placed_in_their_crs(
    db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The regression: a perfect detector's pixel predictions of the chips (made on the
    plain copies import-labels writes) against the export's georeferenced chips were
    refused ("different frames"); they are placed in the chips' CRS and all match."""
    dota = tmp_path / "dota"
    _exported(db_url, "dota", dota, capsys)
    coco = _imported(db_url, tmp_path, capsys)
    pred = tmp_path / "pixels"
    _oracle(coco / "railwatch_labels.json", pred)
    rc, report, err = _eval(["--truth", str(dota), "--pred", str(pred)], capsys)
    assert rc == 0, err
    assert report["overall"]["iou0.5"]["f1"] == 1.0
    rows = [row for row in report["scenes"] if row["pred"]]
    assert rows and report["overall"]["count"]["mae"] == 0
    for row in rows:
        name = row["name"].rsplit("/", 1)[-1]
        assert row["frame_moved"] == (
            f"predictions in pixels of {name}.png placed in {CRS} by its world file "
            f"{name}{WORLD_FILE_SUFFIX}"
        )
    assert "placed in the CRS by its image's georeference" in " ".join(err.split())


def test_predictions_in_the_chips_crs_need_no_move(
    db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dota = tmp_path / "dota"
    _exported(db_url, "dota", dota, capsys)
    coco = _imported(db_url, tmp_path, capsys)
    _oracle(coco / "railwatch_labels.json", tmp_path / "pixels")
    ground = tmp_path / "ground"
    _on_ground(tmp_path / "pixels", dota, ground)
    rc, report, err = _eval(["--truth", str(dota), "--pred", str(ground)], capsys)
    assert rc == 0, err
    assert report["overall"]["iou0.5"]["f1"] == 1.0
    assert not any("frame_moved" in row for row in report["scenes"])
    assert "different frames" not in err
    # the plain copies (pixels) against pixel predictions: one frame, as before
    rc, report, err = _eval(["--truth", str(coco), "--pred", str(tmp_path / "pixels")], capsys)
    assert rc == 0, err
    assert report["overall"]["iou0.5"]["f1"] == 1.0
    assert not any("frame_moved" in row for row in report["scenes"])


def test_crs_predictions_against_chips_without_their_georeference_are_refused_saying_why(
    db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Truly ambiguous: the truth's chips lost their world file and CRS (the plain copies
    import-labels writes), the predictions are in the CRS: nothing says where the chip's
    pixels lie on the ground."""
    dota = tmp_path / "dota"
    _exported(db_url, "dota", dota, capsys)
    coco = _imported(db_url, tmp_path, capsys)
    _oracle(coco / "railwatch_labels.json", tmp_path / "pixels")
    ground = tmp_path / "ground"
    _on_ground(tmp_path / "pixels", dota, ground)
    rc, _, err = _eval(["--truth", str(coco), "--pred", str(ground)], capsys)
    assert rc != 0
    said = " ".join(err.split())
    assert "different frames (pixels vs EPSG:32652)" in said
    assert "is not georeferenced" in said, said
    assert "NAME.pgw and NAME.png.aux.xml" in said


def test_pixels_of_another_image_are_refused_not_placed(
    db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Pixel predictions of the whole scene (not of the chip) would land on the wrong
    ground: refused, naming the chip's size."""
    dota = tmp_path / "dota"
    _exported(db_url, "dota", dota, capsys)
    coco = _imported(db_url, tmp_path, capsys)
    pred = tmp_path / "pixels"
    _oracle(coco / "railwatch_labels.json", pred)
    path = next(p for p in sorted(pred.iterdir()) if json.loads(p.read_text())["features"])
    doc = json.loads(path.read_text())
    for f in doc["features"]:
        ring = f["geometry"]["coordinates"][0]
        f["geometry"]["coordinates"] = [[[x + 600.0, y + 300.0] for x, y in ring]]
    path.write_text(json.dumps(doc))
    rc, _, err = _eval(["--truth", str(dota), "--pred", str(pred)], capsys)
    assert rc != 0
    said = " ".join(err.split())
    assert "lies outside" in said and "not this image's pixels" in said


# A truth file in pixels ("crs": null) beside an image in longitude/latitude, and
# predictions in that CRS: the truth is placed in the CRS (then both in metres).
_LONLAT = Affine(6.1e-6, 0.0, 129.6, 0.0, -4.5e-6, 42.3)  # about 0.5 m square pixels


def _car(cx: float, cy: float, angle: float) -> np.ndarray:
    """A 28 x 6 pixel car (14 x 3 m) at ``(cx, cy)``, ``angle`` degrees: its 4 corners."""
    a = np.radians(angle)
    u, v = np.array([np.cos(a), np.sin(a)]) * 14.0, np.array([-np.sin(a), np.cos(a)]) * 3.0
    c = np.array([cx, cy])
    return np.array([c - u - v, c + u - v, c + u + v, c - u + v])


def _fc(rings: list[np.ndarray], crs: Any) -> dict[str, Any]:
    feats = [
        {
            "type": "Feature",
            "geometry": {"type": "Polygon", "coordinates": [[*r.tolist(), r[0].tolist()]]},
            "properties": {"class": "gondola"},
        }
        for r in rings
    ]
    return {"type": "FeatureCollection", "crs": crs, "gsd": 0.5, "features": feats}


def _yard(tmp: Path, *, georeferenced: bool = True) -> tuple[Path, Path]:
    truth, pred = tmp / "truth", tmp / "pred"
    truth.mkdir()
    pred.mkdir()
    profile: dict[str, Any] = {"driver": "GTiff", "width": 200, "height": 160, "count": 3}
    if georeferenced:
        profile.update(crs="EPSG:4326", transform=_LONLAT)
    with rasterio.open(truth / "yard.tif", "w", dtype="uint8", **profile) as dst:
        dst.write(np.full((3, 160, 200), 90, dtype=np.uint8))
    cars = [_car(40, 40, 0), _car(100, 80, 30), _car(150, 120, -60)]
    (truth / "yard.truth.geojson").write_text(json.dumps(_fc(cars, None)))
    ground = [np.array([_LONLAT * (x, y) for x, y in r]) for r in cars]
    epsg = {"type": "name", "properties": {"name": "EPSG:4326"}}
    (pred / "yard.detections.geojson").write_text(json.dumps(_fc(ground, epsg)))
    return truth, pred


def test_a_pixel_truth_beside_a_lonlat_image_is_placed_with_its_image(tmp_path: Path) -> None:
    truth, pred = _yard(tmp_path)
    scenes = evaluate_dirs(truth, pred_dir=pred)
    moved = "truth in pixels of yard.tif placed in EPSG:4326 by its geotransform"
    assert scenes[0].frame_moved == moved
    report = summarise(scenes)
    assert report["overall"]["iou0.5"]["f1"] == 1.0
    assert report["scenes"][0]["frame_moved"].startswith("truth in pixels of yard.tif")


def test_a_pixel_truth_beside_an_image_without_a_crs_is_refused(tmp_path: Path) -> None:
    truth, pred = _yard(tmp_path, georeferenced=False)
    with pytest.raises(InputError, match=r"its image yard\.tif is not georeferenced"):
        evaluate_dirs(truth, pred_dir=pred)
    (truth / "yard.tif").unlink()
    with pytest.raises(InputError, match=r"no image yard\.tif/\.png is beside"):
        evaluate_dirs(truth, pred_dir=pred)
