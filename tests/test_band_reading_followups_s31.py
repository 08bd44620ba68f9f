"""Follow-ups of the readers of a file that is no scene taking its STAC item's scales
(9714f87), session 31:

1. ``railwatch scale`` mixes the bands ``detect`` reads as colour, by the one chooser
   ``imagery.read.file_bands`` (``--bands``, else the sidecar's ``eo:bands``, else the
   file's labels): it ignored the sidecar's ``eo:bands``.
2. ``railwatch import-labels`` writes an image that is not an 8-bit PNG as label reading
   (and so the detector) reads it: PIL's ``convert("RGB")`` clipped a 16-bit grey TIFF to
   white and could not open one of three 16-bit bands; its item and radiometry were
   ignored.
3. A label-reading refusal names the command that was run (``calibrate --labels``,
   ``eval``), not ``train --labels`` always.
4. The JSON beside an image: one that is valid but no STAC item is left alone, one that is
   not valid JSON is refused only where it names a STAC item's keys, by ``ingest``,
   ``detect``, ``scale`` and label reading alike (``imagery.inspect.sidecar_json``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import rasterio
from PIL import Image

import railwatch.detect.api as api
import railwatch.imagery.scale as rail_scale
from railwatch.cli.main import main
from railwatch.detect.eval import read_labelled_truth
from railwatch.detect.labels import _read_pixels, load_labelled_dir
from railwatch.detect.tiling import Window
from railwatch.errors import ImageryError, InputError
from railwatch.export.labels import import_labels
from railwatch.imagery.inspect import inspect_scene, item_scaling_beside
from railwatch.imagery.scale import measure_file
from test_item_scales_readers_s31 import SCALES, _item, _unbalanced, _values, _write
from test_rail_scale import rails_image

# ----------------------------------------------------------------------------- helpers


def _grey_measured(path: Path, monkeypatch: pytest.MonkeyPatch, **kw: Any) -> np.ndarray:
    """The grey mix ``measure_file`` finds rails in, for the whole image."""
    seen: list[np.ndarray] = []
    measure = rail_scale._measure

    def spy(read: Any, h: int, w: int, *args: Any) -> Any:
        seen.append(np.asarray(read((0, 0, w, h))).copy())
        return measure(read, h, w, *args)

    monkeypatch.setattr(rail_scale, "_measure", spy)
    measure_file(path, **kw)
    monkeypatch.undo()
    return seen[0]


def _correlation(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.corrcoef(a.ravel().astype(np.float64), b.ravel().astype(np.float64))[0, 1])


def _detect(path: Path, monkeypatch: pytest.MonkeyPatch) -> np.ndarray:
    """The whole image as ``detect_file`` hands it to the detector; no network runs."""
    seen: list[np.ndarray] = []

    def run_tiles(read: Any, width: int, height: int, *args: Any, **kwargs: Any) -> list[Any]:
        img, _ = read(Window(0, 0, width, height))
        seen.append(np.asarray(img).copy())
        return []

    monkeypatch.setattr(api, "_run_tiles", run_tiles)
    api.detect_file(path, detector=object(), radiometry="display")  # type: ignore[arg-type]
    monkeypatch.undo()
    return seen[0]


def _truth(image: Path) -> None:
    """One car outlined in pixels beside ``image`` (0.5 m: 14 m x 3 m), radiometry said."""
    car = [[20, 20], [48, 20], [48, 26], [20, 26], [20, 20]]
    image.with_name(image.stem + ".truth.geojson").write_text(
        json.dumps({
            "type": "FeatureCollection", "crs": None, "radiometry": "display",
            "features": [{"type": "Feature", "properties": {"class": "gondola"},
                          "geometry": {"type": "Polygon", "coordinates": [car]}}],
        })
    )  # fmt: skip


# ------------------------------------------------------------------ 1. scale's bands

EO_BANDS = [{"common_name": n} for n in ("nir", "blue", "green", "red")]


def test_scale_mixes_the_bands_the_sidecar_names_as_detect_chooses_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A NIR, blue, green, red file (8-bit): its item's eo:bands make red 4, green 3,
    blue 2; band 1 is noise. ``scale`` mixed bands 1, 2, 3 (noise in the grey)."""
    rails = rails_image(8.0, 30.0, seed=3)[:, :, 0]
    noise = np.random.default_rng(1).integers(0, 256, rails.shape).astype(np.uint8)
    path = tmp_path / "nbgr.tif"
    with rasterio.open(
        path, "w", driver="GTiff", width=rails.shape[1], height=rails.shape[0], count=4,
        dtype="uint8",
    ) as dst:  # fmt: skip
        dst.write(np.stack([noise, rails, rails, rails]))
    item = {
        "type": "Feature", "stac_version": "1.0.0", "id": "nbgr", "geometry": None,
        "properties": {"datetime": "2023-10-01T02:13:00Z"},
        "assets": {"image": {"href": path.name, "eo:bands": EO_BANDS}},
    }  # fmt: skip
    path.with_suffix(".json").write_text(json.dumps(item))
    grey = _grey_measured(path, monkeypatch)
    assert _correlation(grey, rails) > 0.99  # red, green, blue: the rails only
    from railwatch.imagery.read import file_bands  # session 31

    with rasterio.open(path) as ds:
        assert file_bands(ds, path) == ([4, 3, 2], False)  # detect's and labels' chooser
    found = measure_file(path)
    assert found.scale.measured, found.scale.reason
    # --bands (detect's, and now scale's) chooses them the same way
    path.with_suffix(".json").unlink()
    np.testing.assert_array_equal(_grey_measured(path, monkeypatch, bands=(4, 3, 2)), grey)
    assert _correlation(_grey_measured(path, monkeypatch), rails) < 0.95  # 1, 2, 3: noise


def test_the_scale_command_takes_bands(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rails = rails_image(8.0, 30.0, seed=3)[:, :, 0]
    noise = np.random.default_rng(1).integers(0, 256, rails.shape).astype(np.uint8)
    path = tmp_path / "nbgr.png"
    Image.fromarray(np.stack([noise, rails, rails, rails], axis=-1)).save(path)  # RGBA
    assert main(["scale", str(path), "--bands", "4,3,2", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["measured"] is True
    assert main(["scale", str(path), "--bands", "5,3,2"]) != 0
    assert "band 5 does not exist" in " ".join(capsys.readouterr().err.split())


# ------------------------------------------------------------- 2. import-labels' PNGs


def _dota(root: Path, image: Path) -> Path:
    """A DOTA folder labelling ``image`` (moved into its images/) with one car."""
    (root / "images").mkdir(parents=True)
    (root / "labelTxt").mkdir()
    moved = root / "images" / image.name
    image.rename(moved)
    (root / "labelTxt" / f"{image.stem}.txt").write_text(
        "gsd:0.5\n20 20 48 20 48 26 20 26 gondola 0\n"
    )
    return moved


def test_import_labels_writes_a_16_bit_image_as_the_detector_reads_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Three 16-bit bands stored with SCALES, the item declaring them and the visual
    radiometry: PIL could not open the file (the import was refused); now the PNG is the
    grey ground the detector sees."""
    image = _write(tmp_path / "yard.tif", _values(), SCALES)
    _item(image, SCALES)
    doc = json.loads(image.with_suffix(".json").read_text())
    doc["properties"]["radiometry"] = "display"
    image.with_suffix(".json").write_text(json.dumps(doc))
    src = tmp_path / "src"
    moved = _dota(src, image)
    (src / "images" / "yard.json").write_text(json.dumps(doc))
    import_labels(src, "dota", tmp_path / "out")
    png = np.asarray(Image.open(tmp_path / "out" / "images" / "yard.png"))
    assert png.dtype == np.uint8 and png.shape == (128, 128, 3)
    np.testing.assert_array_equal(png, _read_pixels(moved, 128, 128, "display"))
    assert _unbalanced(png) <= 1.0  # the item's scales: grey
    np.testing.assert_array_equal(png, _detect(moved, monkeypatch))  # what detect sees


def test_import_labels_does_not_clip_a_16_bit_grey_tiff(tmp_path: Path) -> None:
    values = (3000 + 3000 * _values()).astype(np.uint16)  # far above 255
    image = tmp_path / "grey.tif"
    with rasterio.open(
        image, "w", driver="GTiff", width=128, height=128, count=1, dtype="uint16"
    ) as dst:
        dst.write(values[None])
    src = tmp_path / "src"
    moved = _dota(src, image)
    import_labels(src, "dota", tmp_path / "out")
    png = np.asarray(Image.open(tmp_path / "out" / "images" / "grey.png").convert("RGB"))
    assert png.std() > 10  # was 255 everywhere
    np.testing.assert_array_equal(png, _read_pixels(moved, 128, 128, "linear"))


def test_import_labels_refuses_an_item_it_cannot_apply_before_writing(tmp_path: Path) -> None:
    image = _write(tmp_path / "yard.tif", _values(), SCALES)
    src = tmp_path / "src"
    moved = _dota(src, image)
    _item(moved, [0.0001, 0, 0.0004])
    with pytest.raises(InputError) as err:
        import_labels(src, "dota", tmp_path / "out")
    text = " ".join(str(err.value).split())
    assert "for band 2" in text and "run `railwatch import-labels` again" in text
    assert not (tmp_path / "out" / "images").exists()


# ------------------------------------------------------ 3. the command named in refusals


def _bad_item_folder(folder: Path) -> None:
    folder.mkdir()
    image = _write(folder / "yard.tif", _values(), SCALES)
    _item(image, SCALES[:2])  # another number of bands than the file's
    _truth(image)


def test_calibrate_labels_names_calibrate(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import railwatch.detect.calibration as calibration

    monkeypatch.setattr(calibration, "check_detector_weights", lambda *a, **k: None)
    weights = tmp_path / "w.onnx"
    weights.write_bytes(b"not read here")
    _bad_item_folder(tmp_path / "lab")
    assert main(["calibrate", str(weights), "--labels", str(tmp_path / "lab")]) != 0
    err = " ".join(capsys.readouterr().err.split())
    assert "lists 2 band(s)" in err
    assert "run `railwatch calibrate --labels` again" in err and "train --labels" not in err


def test_eval_names_eval_and_train_names_train(tmp_path: Path) -> None:
    _bad_item_folder(tmp_path / "lab")
    with pytest.raises(InputError, match=r"run `railwatch eval` again"):
        read_labelled_truth(tmp_path / "lab")
    with pytest.raises(InputError, match=r"run `railwatch train --labels` again"):
        load_labelled_dir(tmp_path / "lab")


# ------------------------------------------------------------ 4. the JSON beside a file

NAME = "yard_2023-10-05"  # a date in the name: ingest needs no item

#: another tool's JSON: valid, a `properties` object, no `type: Feature`/`stac_version`;
#: read as the item before, its scales of 0 refused
NOT_AN_ITEM = {
    "properties": {"datetime": "2021-01-01T00:00:00Z", "tool": "other"},
    "assets": {"image": {"href": f"{NAME}.tif", "raster:bands": [{"scale": 0}] * 3}},
}
#: not JSON, naming nothing of an item: another tool's
NOT_JSON = "[settings]\nexposure = 3\n"
#: a STAC item cut short
CUT_ITEM = '{"type": "Feature", "stac_version": "1.0.0", "id": "yard", "prop'


def _image_with(tmp_path: Path, beside: str) -> Path:
    folder = tmp_path / "f"
    folder.mkdir()
    image = _write(folder / f"{NAME}.tif", _values(), SCALES)
    image.with_suffix(".json").write_text(beside)
    _truth(image)
    return image


def _read_by_each(image: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, object]:
    """What each reader of ``image`` makes of it (the exception where it refuses)."""
    out: dict[str, object] = {}
    readers = {
        "ingest": lambda: (inspect_scene(image), item_scaling_beside(image)),
        "detect": lambda: _detect(image, monkeypatch),
        "scale": lambda: measure_file(image),
        "labels": lambda: load_labelled_dir(image.parent),
    }
    for name, read in readers.items():
        try:
            out[name] = read()
        except (ImageryError, InputError) as err:
            out[name] = err
    return out


@pytest.mark.parametrize("beside", [json.dumps(NOT_AN_ITEM), NOT_JSON, ""])
def test_another_tools_file_beside_the_image_is_left_alone_by_every_reader(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, beside: str
) -> None:
    image = _image_with(tmp_path, beside)
    read = _read_by_each(image, monkeypatch)
    refused = {k: v for k, v in read.items() if isinstance(v, Exception)}
    assert not refused
    ingest = read["ingest"]
    assert isinstance(ingest, tuple)
    info, (declared, _) = ingest
    assert info.date_source == "filename" and "sidecar" not in info.metadata
    assert declared is None


def test_an_item_cut_short_is_refused_by_every_reader(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    image = _image_with(tmp_path, CUT_ITEM)
    read = _read_by_each(image, monkeypatch)
    for name, got in read.items():
        assert isinstance(got, ImageryError | InputError), name
        text = " ".join(str(got).split())
        assert f"sidecar {NAME}.json next to {NAME}.tif is not valid JSON" in text, name
        assert 'names "stac_version" as a STAC item does: fix or remove it' in text, name


def test_label_reading_refuses_its_own_sidecar_cut_short(tmp_path: Path) -> None:
    """Label reading reads ``{"gsd": ...}`` from NAME.json: one cut short is refused
    there (it names "gsd"), where the other readers leave it alone."""
    folder = tmp_path / "f"
    folder.mkdir()
    Image.fromarray(np.full((128, 128, 3), 90, np.uint8)).save(folder / "a.png")
    _truth(folder / "a.png")
    (folder / "a.json").write_text('{"gsd": 0.5')
    cut = r"gsd sidecar: sidecar a\.json .* not valid JSON .* names \"gsd\": fix or"
    with pytest.raises(InputError, match=cut):
        load_labelled_dir(folder)
    (folder / "a.json").write_text(NOT_JSON)  # another tool's: the gsd is missing
    with pytest.raises(InputError, match=r"no ground sample distance|gsd"):
        load_labelled_dir(folder)
    (folder / "a.json").write_text('{"gsd": 0.5}')
    (read,) = load_labelled_dir(folder).images
    assert read.native_gsd == 0.5
