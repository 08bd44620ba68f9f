"""The readers of a file that is no scene read it with the scales and offsets the STAC
item beside it declares, as ``railwatch ingest`` records them for its scene and
``process`` reads it (session 30 left them out): ``railwatch detect`` (the windows the
detector gets), label reading for ``train --labels`` (the pixels kept per image) and
``railwatch scale`` (the grey mix the rails are found in). All three take them from
``imagery.read.file_item_scaling`` (``imagery.inspect.item_scaling_beside``, the rule
``ingest`` uses: the file's own win, 8-bit read as stored, a broken item refused) and
apply them through ``imagery.read.scene_scaling``.

The images: 16-bit grey ground stored band by band with different scales (0.0001,
0.0002, 0.0004, as Sentinel-2-like reflectance whose COG carries none); read with
another scale (0.0001 for every band, or none: the same read), ``--radiometry display``
puts red, green and blue out of balance, read with the item's they are grey again. A band
stored inverted (scale -0.0001, offset 1) reads the right way round only with the item's.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import rasterio
from affine import Affine

import railwatch.detect.api as api
import railwatch.imagery.scale as rail_scale
from railwatch.cli.main import main
from railwatch.detect.labels import _read_pixels, load_labelled_dir
from railwatch.detect.tiling import Window
from railwatch.errors import ImageryError, InputError
from railwatch.imagery.read import FileItemScaling, file_item_scaling
from railwatch.imagery.scale import RAIL_CENTRES_M, measure_file
from test_rail_scale import rails_image

SIZE, GSD = 128, 0.5
#: the scale of each band of the stored grey ground (offset 0)
SCALES = [0.0001, 0.0002, 0.0004]
#: another scale, the same for every band (reads as the file without an item)
SAME = [0.0001, 0.0001, 0.0001]
#: band 1 stored inverted
INVERTED_SCALES, INVERTED_OFFSETS = [-0.0001, 0.0002, 0.0004], [1.0, 0.0, 0.0]


def _values(size: int = SIZE) -> np.ndarray:
    """Grey reflectance 0.05-0.30 (one plane)."""
    return 0.05 + 0.25 * np.random.default_rng(5).random((size, size))


def _write(
    path: Path,
    values: np.ndarray,
    scales: list[float],
    offsets: list[float] | None = None,
    *,
    declare: bool = False,
) -> Path:
    """A uint16 GeoTIFF of ``values`` (one plane, or one per band) stored band by band
    with ``scales``/``offsets``; with ``declare`` the file declares them itself."""
    offsets = offsets or [0.0] * len(scales)
    planes = values if values.ndim == 3 else np.stack([values] * len(scales))
    stored = np.stack(
        [np.round((p - o) / s) for p, s, o in zip(planes, scales, offsets, strict=True)]
    ).astype(np.uint16)
    with rasterio.open(
        path, "w", driver="GTiff", width=stored.shape[2], height=stored.shape[1],
        count=len(scales), dtype="uint16", crs="EPSG:32652",
        transform=Affine(GSD, 0, 500_000.0, 0, -GSD, 4_700_000.0),
    ) as dst:  # fmt: skip
        dst.write(stored)
        if declare:
            dst.scales = tuple(scales)
            dst.offsets = tuple(offsets)
    return path


def _item(image: Path, scales: list[Any], offsets: list[Any] | None = None) -> Path:
    """The STAC item ``NAME.json`` beside ``image``, its image asset declaring
    ``scales``/``offsets`` as its ``raster:bands``."""
    offsets = offsets or [0.0] * len(scales)
    doc: dict[str, Any] = {
        "type": "Feature", "stac_version": "1.0.0", "id": image.stem, "geometry": None,
        "properties": {"datetime": "2023-10-01T02:13:00Z", "gsd": GSD},
        "assets": {"image": {"href": image.name, "raster:bands": [
            {"data_type": "uint16", "scale": s, "offset": o}
            for s, o in zip(scales, offsets, strict=True)
        ]}},
        "links": [],
    }  # fmt: skip
    path = image.with_suffix(".json")
    path.write_text(json.dumps(doc))
    return path


def _unbalanced(rgb: np.ndarray) -> float:
    """Largest mean difference between two of the three planes (grey: about 0)."""
    means = rgb.reshape(-1, 3).astype(np.float64).mean(axis=0)
    return float(means.max() - means.min())


def _correlation(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.corrcoef(a.ravel().astype(np.float64), b.ravel().astype(np.float64))[0, 1])


# ----------------------------------------------------------------------------- detect


def _detect_input(
    path: Path, monkeypatch: pytest.MonkeyPatch, radiometry: str = "display"
) -> tuple[np.ndarray, api.DetectionResult]:
    """The whole image as ``detect_file`` hands it to the detector (its tile reader over
    one window), and the result; no network runs."""
    seen: list[np.ndarray] = []

    def run_tiles(read: Any, width: int, height: int, *args: Any, **kwargs: Any) -> list[Any]:
        img, _ = read(Window(0, 0, width, height))
        seen.append(np.asarray(img).copy())
        return []

    monkeypatch.setattr(api, "_run_tiles", run_tiles)
    result = api.detect_file(path, detector=object(), radiometry=radiometry)  # type: ignore[arg-type]
    (img,) = seen
    return img, result


def test_detect_reads_a_file_with_the_scales_its_sidecar_item_declares(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    item = _write(tmp_path / "a.tif", _values(), SCALES)
    _item(item, SCALES)
    other = _write(tmp_path / "b.tif", _values(), SCALES)
    _item(other, SAME)
    bare = _write(tmp_path / "c.tif", _values(), SCALES)
    img, result = _detect_input(item, monkeypatch)
    assert _unbalanced(img) <= 1.0  # grey ground reads grey
    other_img, other_result = _detect_input(other, monkeypatch)
    assert _unbalanced(other_img) > 50  # read with another scale: out of balance
    bare_img, bare_result = _detect_input(bare, monkeypatch)
    np.testing.assert_array_equal(bare_img, other_img)  # one scale for all: as stored
    assert bare_result.item_scaling is not None and bare_result.item_scaling.scaling is None
    beside = result.item_scaling
    assert beside is not None and beside.scaling == (tuple(SCALES), (0.0, 0.0, 0.0))
    assert beside.item == "a.json" and beside.note is None
    assert beside.words is not None
    assert "its STAC item a.json declares (raster:bands: scale 0.0001, 0.0002, 0.0004" in (
        beside.words
    )
    assert other_result.item_scaling is not None
    assert other_result.item_scaling.scaling == (tuple(SAME), (0.0, 0.0, 0.0))


def test_detect_reads_a_band_the_item_declares_inverted_the_right_way_round(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    v = _values()
    path = _write(tmp_path / "a.tif", v, INVERTED_SCALES, INVERTED_OFFSETS)
    _item(path, INVERTED_SCALES, INVERTED_OFFSETS)
    img, _ = _detect_input(path, monkeypatch, radiometry="linear")
    assert _correlation(img[..., 0], img[..., 1]) > 0.95
    path.with_suffix(".json").unlink()  # read as stored: band 1 is the negative
    img, _ = _detect_input(path, monkeypatch, radiometry="linear")
    assert _correlation(img[..., 0], img[..., 1]) < -0.8  # its negative


def test_detect_the_files_own_scales_win_and_the_result_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    own = _write(tmp_path / "a.tif", _values(), SCALES, declare=True)
    _item(own, SAME)
    img, result = _detect_input(own, monkeypatch)
    assert _unbalanced(img) <= 1.0  # the file's scales, not the item's
    assert result.item_scaling is not None and result.item_scaling.scaling is None
    assert result.item_scaling.words is None
    assert result.item_scaling.note is not None
    assert "the file's are used" in result.item_scaling.note


def test_detect_refuses_an_item_whose_scales_cannot_be_applied(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _write(tmp_path / "a.tif", _values(), SCALES)
    _item(path, [0.0001, 0, 0.0004])
    with pytest.raises(ImageryError, match=r"for band 2 .*run `railwatch detect` again"):
        _detect_input(path, monkeypatch)


def test_the_detect_command_says_where_the_scales_came_from(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def run_tiles(read: Any, width: int, height: int, *args: Any, **kwargs: Any) -> list[Any]:
        read(Window(0, 0, width, height))
        return []

    monkeypatch.setattr(api, "_run_tiles", run_tiles)
    path = _write(tmp_path / "a.tif", _values(), SCALES)
    _item(path, SCALES)
    out = tmp_path / "a.geojson"
    assert main(["detect", str(path), "--radiometry", "display", "-o", str(out)]) == 0
    err = " ".join(capsys.readouterr().err.split())
    assert (
        "note: a.tif: its bands' scale and offset are those its STAC item a.json declares "
        "(raster:bands: scale 0.0001, 0.0002, 0.0004, offset 0, 0, 0)"
    ) in err
    doc = json.loads(out.read_text())
    assert doc["band_scaling"] == {"scale": SCALES, "offset": [0.0, 0.0, 0.0], "from": "a.json"}


# ----------------------------------------------------------------------------- labels


def _labelled(folder: Path, scales: list[float] | None) -> Path:
    """A labelled image of ``folder`` (stored with SCALES; its item declaring
    ``scales`` when given) with one car outlined in pixels."""
    folder.mkdir()
    image = _write(folder / "yard.tif", _values(), SCALES)
    if scales is not None:
        _item(image, scales)
    car = [[20, 20], [48, 20], [48, 26], [20, 26], [20, 20]]  # 14 m x 3 m at 0.5 m
    (folder / "yard.truth.geojson").write_text(
        json.dumps({
            "type": "FeatureCollection", "crs": None, "radiometry": "display",
            "features": [{"type": "Feature", "properties": {"class": "gondola"},
                          "geometry": {"type": "Polygon", "coordinates": [car]}}],
        })
    )  # fmt: skip
    return image


def test_label_reading_uses_the_scales_the_images_item_declares(tmp_path: Path) -> None:
    _labelled(tmp_path / "item", SCALES)
    _labelled(tmp_path / "other", SAME)
    _labelled(tmp_path / "none", None)
    (read,) = load_labelled_dir(tmp_path / "item").images
    (other,) = load_labelled_dir(tmp_path / "other").images
    (bare,) = load_labelled_dir(tmp_path / "none").images
    assert _unbalanced(read.image) <= 1.0
    assert _unbalanced(other.image) > 50
    np.testing.assert_array_equal(other.image, bare.image)


def test_label_pixels_read_a_band_the_item_declares_inverted_the_right_way_round(
    tmp_path: Path,
) -> None:
    path = _write(tmp_path / "a.tif", _values(), INVERTED_SCALES, INVERTED_OFFSETS)
    _item(path, INVERTED_SCALES, INVERTED_OFFSETS)
    pixels = _read_pixels(path, SIZE, SIZE, "linear")
    assert _correlation(pixels[..., 0], pixels[..., 1]) > 0.95
    path.with_suffix(".json").unlink()
    pixels = _read_pixels(path, SIZE, SIZE, "linear")
    assert _correlation(pixels[..., 0], pixels[..., 1]) < -0.8  # its negative


def test_label_reading_lists_an_item_it_cannot_apply(tmp_path: Path) -> None:
    image = _labelled(tmp_path / "bad", SCALES)
    _item(image, SCALES[:2])  # another number of bands than the file's
    with pytest.raises(InputError) as err:
        load_labelled_dir(tmp_path / "bad")
    text = " ".join(str(err.value).split())
    assert "lists 2 band(s)" in text and "yard.tif has 3" in text
    assert "run `railwatch train --labels` again" in text


# ----------------------------------------------------------------------------- scale

SPACING = 8.0


def _rails() -> np.ndarray:
    """Rails SPACING px apart on grey ground, as values in [0, 1] (one plane)."""
    return rails_image(SPACING, 30.0, seed=3)[:, :, 0].astype(np.float64) / 255.0


def _grey_measured(path: Path, monkeypatch: pytest.MonkeyPatch) -> np.ndarray:
    """The grey mix ``measure_file`` finds rails in, for the whole image."""
    seen: list[np.ndarray] = []
    measure = rail_scale._measure

    def spy(read: Any, h: int, w: int, *args: Any) -> Any:
        seen.append(np.asarray(read((0, 0, w, h))).copy())
        return measure(read, h, w, *args)

    monkeypatch.setattr(rail_scale, "_measure", spy)
    measure_file(path)
    monkeypatch.undo()
    return seen[0]


def test_scale_mixes_the_bands_by_the_scales_their_item_declares(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    v = _rails()
    inverted = _write(tmp_path / "inv.tif", v[None], [-0.0001], [1.0])
    _item(inverted, [-0.0001], [1.0])
    grey = _grey_measured(inverted, monkeypatch)
    assert _correlation(grey, v) > 0.95  # rails dark, as the pipeline reads them
    found = measure_file(inverted)
    assert found.scale.measured, found.scale.reason
    assert found.scale.gsd == pytest.approx(RAIL_CENTRES_M / SPACING, rel=0.05)
    assert found.item_scaling is not None and found.item_scaling.item == "inv.json"
    inverted.with_suffix(".json").unlink()  # read as stored: the rails turn bright
    assert _correlation(_grey_measured(inverted, monkeypatch), v) < -0.8  # its negative

    # three bands of other values, each stored with its own scale
    planes = np.stack([v, 0.5 * v + 0.2, v])
    mixed = _write(tmp_path / "rgb.tif", planes, SCALES)
    _item(mixed, SCALES)
    by_item = _grey_measured(mixed, monkeypatch)
    own = _write(tmp_path / "own.tif", planes, SCALES, declare=True)
    np.testing.assert_array_equal(by_item, _grey_measured(own, monkeypatch))
    _item(mixed, SAME)
    by_other = _grey_measured(mixed, monkeypatch)
    assert not np.allclose(by_item, by_other, atol=1e-2)  # mixed in other proportions


def test_the_scale_command_says_where_the_scales_came_from(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    inverted = _write(tmp_path / "inv.tif", _rails()[None], [-0.0001], [1.0])
    _item(inverted, [-0.0001], [1.0])
    assert main(["scale", str(inverted), "--json"]) == 0
    captured = capsys.readouterr()
    err = " ".join(captured.err.split())
    assert "note: inv.tif: its bands' scale and offset are those its STAC item inv.json" in err
    doc = json.loads(captured.out)
    assert doc["band_scaling"] == {"scale": [-0.0001], "offset": [1.0], "from": "inv.json"}
    assert doc["gsd"] == pytest.approx(RAIL_CENTRES_M / SPACING, rel=0.05)


def test_file_item_scaling_is_the_rule_ingest_records(tmp_path: Path) -> None:
    """8-bit files are read as stored, a file without an item gets nothing."""
    path = tmp_path / "a.tif"
    with rasterio.open(
        path, "w", driver="GTiff", width=8, height=8, count=3, dtype="uint8",
        crs="EPSG:32652", transform=Affine(GSD, 0, 500_000.0, 0, -GSD, 4_700_000.0),
    ) as dst:  # fmt: skip
        dst.write(np.full((3, 8, 8), 90, dtype=np.uint8))
    _item(path, SCALES)
    assert file_item_scaling(path, command="x").scaling is None
    bare = _write(tmp_path / "b.tif", _values(8), SCALES)
    assert file_item_scaling(bare, command="x") == FileItemScaling()
