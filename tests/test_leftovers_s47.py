"""Leftovers of earlier sessions fixed on 2026-12-07 (session 47).

1. ``railwatch ingest-stac`` neither recorded nor said (but as a bare log line) that a
   4th band GDAL labels alpha is read as data; overviews built while GDAL took that band
   as alpha (black where it is 0) were read by the coverage, the pipeline's decimated
   reads and the map tiles.
2. An 8-bit image stored in 16 bits multiplied by a factor other than 257 (x4) was read
   as linear radiometry and stored unusable ("63 % snow") without a word of why.
3. An int64 or uint64 file registered by ``ingest-stac`` failed in ``process`` with
   "KeyError: 'int64'".
4. ``railwatch process`` interrupted did not say how many scenes were done of how many.
5. "image(s)", "scene(s)", "review(s)" and "100% of the count wide".
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import rasterio
from rasterio.enums import ColorInterp, Resampling

from imagery_helpers import image_box_wgs84, write_geotiff, yard_scene
from railwatch.cli.main import main
from railwatch.imagery import read_site_window, site_grid
from railwatch.imagery.inspect import (
    ALPHA_AS_DATA_KEY,
    data_view,
    eight_bit_values,
    site_data_coverage,
)
from railwatch.storage import Database, repo

SIZE = 400
SITE = image_box_wgs84(20, 20, SIZE - 20, SIZE - 20)


# ------------------------------------------------------------------ helpers


def _rgb(size: int = SIZE) -> np.ndarray:
    return np.clip(yard_scene(size, size).astype("uint16"), 1, 255).astype("uint8")


def _nir(size: int = SIZE) -> np.ndarray:
    """A NIR band: a full range of values, 0 over the left half (water)."""
    nir = np.random.default_rng(3).integers(25, 230, (size, size)).astype("uint8")
    nir[:, : size // 2] = 0
    return nir


def _rgbn(path: Path, size: int = SIZE, **kw: Any) -> Path:
    """RGB and NIR written as RGB with an extra sample: GDAL labels band 4 alpha."""
    out = write_geotiff(path, np.concatenate([_rgb(size), _nir(size)[None]]), alpha=True, **kw)
    with rasterio.open(out) as ds:
        assert ds.colorinterp[3] == ColorInterp.alpha
    return out


def _site(url: str, tmp_path: Path, site: Any = SITE) -> None:
    geo = tmp_path / "site.geojson"
    geo.write_text(
        json.dumps({"type": "Feature", "properties": {}, "geometry": site.__geo_interface__})
    )
    assert main(["--db", url, "site", "add", "yard", "--geojson", str(geo)]) == 0


def _items(tmp_path: Path, *images: Path, size: int = SIZE) -> str:
    """A static item collection of one item per image (ids: the file stems)."""
    box = image_box_wgs84(0, 0, size, size)
    ring = [list(p) for p in box.__geo_interface__["coordinates"][0]]
    feats = [
        {
            "type": "Feature",
            "stac_version": "1.0.0",
            "id": image.stem,
            "collection": "yards",
            "geometry": {"type": "Polygon", "coordinates": [ring]},
            "bbox": list(box.bounds),
            "properties": {"datetime": "2024-06-17T02:13:00Z", "gsd": 0.5},
            "assets": {"image": {"href": image.name, "type": "image/tiff; application=geotiff"}},
            "links": [],
        }
        for image in images
    ]
    path = tmp_path / "items.json"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": feats}))
    return str(path)


def _scenes(url: str) -> list[Any]:
    db = Database(url)
    try:
        with db.session(readonly=True) as s:
            return list(repo.list_scenes(s, "yard"))
    finally:
        db.dispose()


def _write16(path: Path, data: np.ndarray) -> Path:
    return write_geotiff(path, data.astype("uint16"), photometric="RGB")


def _linear12(size: int = SIZE) -> np.ndarray:
    """True 12-bit linear radiance: a gamma-decoded scene with sensor noise."""
    rng = np.random.default_rng(0)
    lin = (yard_scene(size, size).astype(float) / 255) ** 2.2 * 3000 + rng.normal(
        60, 8, (3, size, size)
    )
    return np.clip(lin, 1, 4095).astype("uint16")


# ------------------------------------------------------------------ 1. ingest-stac


def test_ingest_stac_says_and_records_a_band_labelled_alpha_read_as_data(
    tmp_path: Path,
    tmp_db_url: str,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    pytest.importorskip("pystac")
    image = _rgbn(tmp_path / "rgbn.tif")
    _site(tmp_db_url, tmp_path)
    catalog = _items(tmp_path, image)
    capsys.readouterr()
    with caplog.at_level(logging.WARNING, logger="railwatch.imagery.inspect"):
        assert main(["--db", tmp_db_url, "ingest-stac", "yard", "--stac", catalog]) == 0
    out, err = capsys.readouterr()
    text = " ".join(err.split())
    assert "1 STAC item found" in out
    # as ingest says it: the item's warning, with the way back, once
    assert "warning: yards/rgbn: in its file rgbn.tif, band 4 is labelled alpha" in text
    assert "gdal_translate -b 1 -b 2 -b 3 -mask 4 rgbn.tif OUT.tif" in text
    assert text.count("band 4 is labelled alpha") == 1
    assert not [r for r in caplog.records if "labelled alpha" in r.getMessage()]  # no log line
    [scene] = _scenes(tmp_db_url)
    assert scene.meta[ALPHA_AS_DATA_KEY]["band"] == 4
    assert scene.coverage == pytest.approx(1.0)
    # a re-run has nothing new to say
    assert main(["--db", tmp_db_url, "ingest-stac", "yard", "--stac", catalog]) == 0
    assert "labelled alpha" not in capsys.readouterr().err


def test_ingest_stac_json_has_it_in_the_items_warning(
    tmp_path: Path, tmp_db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("pystac")
    image = _rgbn(tmp_path / "rgbn.tif")
    _site(tmp_db_url, tmp_path)
    catalog = _items(tmp_path, image)
    capsys.readouterr()
    assert main(["--db", tmp_db_url, "ingest-stac", "yard", "--stac", catalog, "--json"]) == 0
    [entry] = json.loads(capsys.readouterr().out)["ingested"]
    assert "band 4 is labelled alpha" in entry["warning"]
    assert "-mask 4 rgbn.tif OUT.tif" in entry["warning"]


def _alpha_overviews(path: Path, size: int = 1024) -> Path:
    """RGB + NIR labelled alpha, its overviews built as GDAL builds them so: black
    (0 in the colour bands) wherever the NIR is 0."""
    out = _rgbn(path, size, tiled=True)
    with rasterio.open(out, "r+") as ds:
        ds.build_overviews([2, 4, 8], Resampling.average)
    with rasterio.open(out) as ds:
        small = ds.read(out_shape=(4, size // 8, size // 8))
        assert (small[:3, :, : size // 16 - 1] == 0).all()  # what GDAL made of them
    return out


def test_overviews_built_with_the_band_taken_as_alpha_are_left_out(tmp_path: Path) -> None:
    size = 1024
    path = _alpha_overviews(tmp_path / "ovr.tif", size)
    site = image_box_wgs84(10, 10, size - 10, size - 10)
    # ingest-stac's coverage: was 0.5 (the overviews' black half read as fill)
    assert site_data_coverage(str(path), site) == pytest.approx(1.0, abs=0.01)
    # the pipeline's decimated read (whole-image quality) and the map tiles' view
    grid = site_grid(site, 4.0)
    with read_site_window(str(path), grid, site_geom=site, lazy=True, overviews=True) as w:
        image = w.image[:, :]
        assert w.valid[w.inside].all()
        assert not (image == 0).all(axis=-1)[w.inside].any()
    with rasterio.open(path) as ds, data_view(ds) as view:
        shown = view.read([1, 2, 3], out_shape=(3, size // 8, size // 8))
        assert not (shown == 0).all(axis=0).any()  # was black over the left half
    from railwatch.imagery.inspect import alpha_built_overviews

    with rasterio.open(path) as ds:
        assert alpha_built_overviews(ds)


def test_other_overviews_are_still_read(tmp_path: Path) -> None:
    """Overviews built before the band was labelled alpha, and those of a true RGBA file,
    are the file's: read as before."""
    from railwatch.imagery.inspect import alpha_built_overviews

    size = 1024
    plain = write_geotiff(
        tmp_path / "before.tif",
        np.concatenate([_rgb(size), _nir(size)[None]]),
        photometric="RGB",
        overviews=(2, 4, 8),
        tiled=True,
    )
    with rasterio.open(plain, "r+") as ds:
        ds.colorinterp = [*ds.colorinterp[:3], ColorInterp.alpha]
    alpha = np.full((1, size, size), 255, "uint8")
    alpha[:, :, : size // 2] = 0
    rgba = write_geotiff(
        tmp_path / "rgba.tif",
        np.concatenate([_rgb(size), alpha]),
        alpha=True,
        overviews=(2, 4, 8),
        tiled=True,
    )
    for path in (plain, rgba):
        with rasterio.open(path) as ds:
            assert not alpha_built_overviews(ds), path.name


# ------------------------------------------------------------------ 2. x4 radiometry


def test_eight_bit_values_scaled_by_another_factor_are_recognised(tmp_path: Path) -> None:
    from railwatch.imagery.inspect import eight_bit_words

    rgb8 = yard_scene(SIZE, SIZE).astype("uint16")
    rgb8[:, 0, 0] = 255  # a full 8-bit range
    cases = {
        "x4": rgb8 * 4,  # none above 1020
        "x256": rgb8 * 256,  # the high byte
        "x257": rgb8 * 257,
    }
    for code, data in cases.items():
        with rasterio.open(_write16(tmp_path / f"{code}.tif", data)) as ds:
            assert eight_bit_values(ds) == code
    assert eight_bit_words("x4") == "all multiples of 4, none above 1020 = 255 x 4"
    assert eight_bit_words("x257") == "multiples of 257"


def test_true_linear_sensor_data_is_not_taken_for_eight_bit(tmp_path: Path) -> None:
    linear = _linear12()
    with rasterio.open(_write16(tmp_path / "lin12.tif", linear)) as ds:
        assert eight_bit_values(ds) is None
    # quantised to multiples of 4 (a 10-bit product shifted up): over 4 beyond 8 bits
    quantised = (linear // 4) * 4
    assert int(quantised.max()) // 4 > 255
    with rasterio.open(_write16(tmp_path / "lin12x4.tif", quantised)) as ds:
        assert eight_bit_values(ds) is None
    # dark data whose values over the factor stay in the lower half of 8 bits
    dark = np.clip(linear // 16, 1, 120).astype("uint16") * 64
    with rasterio.open(_write16(tmp_path / "dark.tif", dark)) as ds:
        assert eight_bit_values(ds) is None


def test_ingest_and_process_say_what_to_do_with_a_x4_visual_product(
    tmp_path: Path, tmp_db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    rgb8 = yard_scene(SIZE, SIZE).astype("uint16")
    image = _write16(tmp_path / "x4_20240601.tif", rgb8 * 4)
    linear = _write16(tmp_path / "lin_20240602.tif", _linear12())
    _site(tmp_db_url, tmp_path)
    capsys.readouterr()
    assert main(["--db", tmp_db_url, "ingest", "yard", str(image), str(linear)]) == 0
    err = " ".join(capsys.readouterr().err.split())
    assert "x4_20240601.tif: its uint16 values are 8-bit ones (all multiples of 4" in err
    assert "--radiometry display" in err
    assert "lin_20240602.tif" not in err  # true linear data: no hint
    assert main(["--db", tmp_db_url, "process", "yard"]) == 0
    err = " ".join(capsys.readouterr().err.split())
    by_file = {Path(s.uri).name: s for s in _scenes(tmp_db_url)}
    x4 = by_file["x4_20240601.tif"]
    assert x4.status == "unusable"  # read as linear: washed out, taken for snow
    reasons = " ".join(x4.reasons or ())
    assert "its values are 8-bit ones (all multiples of 4" in reasons
    assert "ingest it again with --radiometry display" in reasons
    assert f"hint: 1 unusable scene of yard ({x4.id}) holds 8-bit values" in err
    # the way out: ingested again so, it is counted
    assert main(["--db", tmp_db_url, "ingest", "yard", str(image), "--radiometry", "display"]) == 0
    assert main(["--db", tmp_db_url, "process", "yard"]) == 0
    capsys.readouterr()
    by_file = {Path(s.uri).name: s for s in _scenes(tmp_db_url)}
    assert by_file["x4_20240601.tif"].status == "processed"


def test_ingest_stac_says_it_too(
    tmp_path: Path, tmp_db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("pystac")
    rgb8 = yard_scene(SIZE, SIZE).astype("uint16")
    image = _write16(tmp_path / "x4.tif", rgb8 * 4)
    _site(tmp_db_url, tmp_path)
    catalog = _items(tmp_path, image)
    capsys.readouterr()
    assert main(["--db", tmp_db_url, "ingest-stac", "yard", "--stac", catalog]) == 0
    err = " ".join(capsys.readouterr().err.split())
    assert "warning: yards/x4: its uint16 values are 8-bit ones (all multiples of 4" in err
    assert "run `railwatch ingest-stac` again with --radiometry display" in err
    [scene] = _scenes(tmp_db_url)
    assert scene.meta["eight_bit_values"] == "x4"


# ------------------------------------------------------------------ 3. int64


def _int64(path: Path, dtype: str) -> Path:
    data = np.concatenate([_rgb(), _nir()[None]]).astype(dtype)
    return write_geotiff(path, data, alpha=True)


def test_ingest_stac_refuses_64_bit_integers_saying_what_to_do(
    tmp_path: Path, tmp_db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("pystac")
    images = [_int64(tmp_path / f"{t}.tif", t) for t in ("int64", "uint64")]
    _site(tmp_db_url, tmp_path)
    catalog = _items(tmp_path, *images)
    capsys.readouterr()
    assert main(["--db", tmp_db_url, "ingest-stac", "yard", "--stac", catalog]) == 1
    out = " ".join(capsys.readouterr().out.split())
    for t in ("int64", "uint64"):
        assert f"failed yards/{t}: {t}.tif has pixel type {t}" in out
        assert f"gdal_translate -ot UInt16 {t}.tif OUT.tif" in out
    assert _scenes(tmp_db_url) == []


def test_a_64_bit_file_with_a_band_labelled_alpha_is_read(tmp_path: Path) -> None:
    """A scene of it registered before: its data view (a VRT) raised KeyError: 'int64'."""
    for dtype in ("int64", "uint64"):
        path = _int64(tmp_path / f"{dtype}.tif", dtype)
        grid = site_grid(SITE, 0.5)
        raster = read_site_window(str(path), grid, site_geom=SITE)
        assert raster.valid[raster.inside].all()


# ------------------------------------------------------------------ 4. interrupted


def test_an_interrupted_process_says_how_many_scenes_were_done(
    tmp_path: Path,
    tmp_db_url: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import railwatch.pipeline as pipeline

    for k in range(3):
        rgb = np.clip(yard_scene(200, 200, seed=k), 1, 255).astype("uint8")
        write_geotiff(tmp_path / f"yard_2024060{k + 1}.tif", rgb, photometric="RGB")
    _site(tmp_db_url, tmp_path, image_box_wgs84(10, 10, 190, 190))
    assert (
        main(["--db", tmp_db_url, "ingest", "yard", *map(str, sorted(tmp_path.glob("*.tif")))]) == 0
    )
    real = pipeline.process_scene
    calls: list[int] = []

    def interrupted(job: Any, detector: Any) -> Any:
        calls.append(job.scene_id)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(job, detector)

    monkeypatch.setattr(pipeline, "process_scene", interrupted)
    capsys.readouterr()
    assert main(["--db", tmp_db_url, "process", "yard"]) == 130
    err = " ".join(capsys.readouterr().err.split())
    assert "Interrupted with 1 of 3 scenes of site yard done; the database keeps every" in err
    assert "Run the same command again to go on" in err
    assert sorted(s.status for s in _scenes(tmp_db_url)).count("ingested") == 2


def test_the_progress_of_several_sites_in_words() -> None:
    from railwatch.cli.process import _progress_words

    words = _progress_words(["a", "b", "c"], {"a": (5, 5), "b": (0, 1)})
    assert words == "5 of 5 scenes of site a done, 0 of 1 scene of site b done, 1 site not begun"
    assert _progress_words(["a", "b"], {"": (3, 10)}) == "3 of 10 scenes done"


# ------------------------------------------------------------------ 5. words


def test_ingest_stac_counts_new_scenes_in_words(
    tmp_path: Path, tmp_db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("pystac")
    image = write_geotiff(tmp_path / "a.tif", _rgb(), photometric="RGB")
    _site(tmp_db_url, tmp_path)
    catalog = _items(tmp_path, image)
    capsys.readouterr()
    assert main(["--db", tmp_db_url, "ingest-stac", "yard", "--stac", catalog]) == 0
    out = capsys.readouterr().out
    assert "1 STAC item found: 1 new scene, 0 already there" in out
    assert main(["--db", tmp_db_url, "ingest-stac", "yard", "--stac", catalog]) == 0
    assert "0 new scenes, 1 already there" in capsys.readouterr().out


def test_no_message_says_image_s_scene_s_or_review_s() -> None:
    """Every message of the package counts its images, scenes and reviews in words (the
    CLI's ``train``, which another engineer works on, excepted until it is changed)."""
    import railwatch

    root = Path(railwatch.__file__).resolve().parent
    found = []
    for path in root.rglob("*.py"):
        if path.relative_to(root).as_posix() == "cli/train.py":
            continue
        for n, line in enumerate(path.read_text().splitlines(), 1):
            code = line.split("#", 1)[0]
            said = any(w in code for w in ("image(s)", "scene(s)", "review(s)"))
            if said and '"""' not in line and '"' in code:
                found.append(f"{path.name}:{n}: {line.strip()}")
    assert [f for f in found if "until session 47" not in f] == []


def test_the_width_of_an_interval_in_words() -> None:
    from railwatch.cli.scene import spread_words

    assert spread_words(0.4) == "40% as wide as the count"
    assert spread_words(1.0) == "as wide as the count itself"
    assert spread_words(0.999) == "as wide as the count itself"
    assert spread_words(2.3) == "2.3 times as wide as the count"
    js = (Path(__file__).resolve().parents[1] / "src/railwatch/web/static/js/site.js").read_text()
    assert "}% of the count wide" not in js and "as wide as the count itself" in js


def test_a_stopped_dask_run_counts_its_scenes_in_words() -> None:
    from railwatch.distributed import _recorded_before

    assert _recorded_before(1, 2) == (
        "1 scene was recorded before this, the 1 other was left as it was"
    )
    assert _recorded_before(3, 6) == (
        "3 scenes were recorded before this, the 3 others were left as they were"
    )
