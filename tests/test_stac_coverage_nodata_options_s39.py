"""The four gaps a review left in session 38's STAC no-data and pixel coverage
(2026-12-06, session 39), on fake local catalogs of small GeoTIFFs:

a) ``--coverage footprint`` (``ingest_stac(coverage="footprint")``): no pixel read, the
   item's footprint over the site recorded, and the scene says so (``coverage_from``);
b) ``--nodata VALUE|none`` (``ingest_stac(nodata=...)``): a provider's invalid nodata
   failed the item at every run with no way round it; now the value given replaces the
   item's (``none``: none applied), and the failed item's line names the option;
c) a colour-table image's item nodata is an index, applied by the pipeline's read, the
   web tiles and the label chips as GDAL applies a palette band's own nodata (they left
   it out while ingest-stac's coverage applied it);
d) a file that declares no nodata, alpha band or colour table has its black fill left
   out of its STAC coverage, as ``process`` reads it (it was counted as data)."""

from __future__ import annotations

import io
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import rasterio
from affine import Affine

from railwatch.errors import InputError
from railwatch.imagery.read import ITEM_NODATA_KEY, item_nodata_of, read_site_window, site_grid
from railwatch.storage import Database, repo

pytest.importorskip("pystac")

from test_scene_identity_s29 import write_items
from test_stac import GSD, ORIGIN, SIZE, site_db
from test_stac_nodata_s38 import EDGE, FILL, _detector, item, write_image


def _scenes(db: Database) -> list[Any]:
    with db.session(readonly=True) as s:
        return list(repo.list_scenes(s, "yard"))


def _site(db: Database) -> Any:
    with db.session(readonly=True) as s:
        return repo.get_site(s, "yard").geometry


def _write(path: Path, data: np.ndarray, **extra: Any) -> Path:
    """``data`` (B, SIZE, SIZE) as a GeoTIFF under the test site (test_stac's grid)."""
    with rasterio.open(
        path, "w", driver="GTiff", width=SIZE, height=SIZE, count=data.shape[0],
        dtype=str(data.dtype), crs="EPSG:32652",
        transform=Affine(GSD, 0, ORIGIN[0], 0, -GSD, ORIGIN[1]), **extra,
    ) as dst:  # fmt: skip
        dst.write(data)
    return path


def _ground(bands: int = 3, seed: int = 5) -> np.ndarray:
    return np.random.default_rng(seed).integers(60, 200, size=(bands, SIZE, SIZE), dtype=np.uint8)


def _no_pixel_read(monkeypatch: pytest.MonkeyPatch) -> None:
    from railwatch.imagery import inspect

    def refuse(*args: Any, **kwargs: Any) -> float:
        raise AssertionError("the site's pixels were read")

    monkeypatch.setattr(inspect, "site_data_coverage", refuse)


def _cli(db_url: str, url: str, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    from railwatch.cli.main import main

    capsys.readouterr()
    code = main(["--db", db_url, "ingest-stac", "yard", "--stac", url, *args])
    captured = capsys.readouterr()
    return code, " ".join((captured.out + captured.err).split())


# ---------------------------------------------------------------- a) --coverage


def test_footprint_coverage_reads_no_pixels_and_the_scene_says_so(
    tmp_path: Path, tmp_db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from railwatch.stac import COVERAGE_FROM_KEY, ingest_stac

    db = site_db(tmp_db_url)
    catalog = write_items(tmp_path / "i.json", item(write_image(tmp_path / "a.tif")))
    _no_pixel_read(monkeypatch)
    summary = ingest_stac(db, "yard", catalog, coverage="footprint")
    assert not summary.failed, summary.as_dict()
    [entry] = summary.ingested
    assert entry[COVERAGE_FROM_KEY] == "footprint"
    [scene] = _scenes(db)
    assert scene.coverage == pytest.approx(1.0)  # the footprint's (the pixels: half)
    assert scene.meta[COVERAGE_FROM_KEY] == "footprint"
    assert scene.meta[ITEM_NODATA_KEY] == FILL  # the item's nodata is still kept


def test_pixel_coverage_is_the_default_and_the_scene_says_so(
    tmp_path: Path, tmp_db_url: str
) -> None:
    from railwatch.stac import COVERAGE_FROM_KEY, ingest_stac

    db = site_db(tmp_db_url)
    catalog = write_items(tmp_path / "i.json", item(write_image(tmp_path / "a.tif")))
    [entry] = ingest_stac(db, "yard", catalog).ingested
    assert COVERAGE_FROM_KEY not in entry
    [scene] = _scenes(db)
    assert scene.meta[COVERAGE_FROM_KEY] == "pixels"
    assert scene.coverage == pytest.approx(0.5, abs=0.03)


def test_footprint_coverage_keeps_an_item_empty_over_the_site(
    tmp_path: Path, tmp_db_url: str
) -> None:
    """Nothing is read, so an item whose pixels hold no data over the site is recorded
    (with the pixels it is skipped: test_stac_nodata_s38)."""
    from railwatch.stac import ingest_stac

    db = site_db(tmp_db_url)
    image = write_image(tmp_path / "a.tif", empty=True)
    summary = ingest_stac(
        db, "yard", write_items(tmp_path / "i.json", item(image)), coverage="footprint"
    )
    assert len(summary.ingested) == 1 and not summary.skipped


def test_a_bad_coverage_mode_is_refused_naming_both(tmp_path: Path, tmp_db_url: str) -> None:
    from railwatch.stac import ingest_stac

    db = site_db(tmp_db_url)
    catalog = write_items(tmp_path / "i.json", item(write_image(tmp_path / "a.tif")))
    with pytest.raises(InputError, match=r"--coverage must be pixels .* or footprint .*'area'"):
        ingest_stac(db, "yard", catalog, coverage="area")
    assert not _scenes(db)


def test_the_cli_takes_coverage_footprint_and_scene_show_says_so(
    tmp_path: Path, tmp_db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from railwatch.cli.main import main

    db = site_db(tmp_db_url)
    catalog = write_items(tmp_path / "i.json", item(write_image(tmp_path / "a.tif")))
    code, out = _cli(tmp_db_url, catalog, capsys, "--coverage", "area")
    assert code == 2 and "--coverage must be pixels" in out, out
    assert not _scenes(db)
    code, out = _cli(tmp_db_url, catalog, capsys, "--coverage", "footprint")
    assert code == 0, out
    assert "1 new scene: coverage of the site taken from the item's footprint" in out
    [scene] = _scenes(db)
    capsys.readouterr()
    assert main(["--db", tmp_db_url, "scene", "show", str(scene.id)]) == 0
    shown = " ".join(capsys.readouterr().out.split())
    assert "100% of the site (the STAC item's footprint's, not measured on the pixels)" in shown
    assert main(["--db", tmp_db_url, "scene", "show", str(scene.id), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["coverage_from"] == "footprint"


def test_ingest_stac_options_of_ingest_need_stac(
    tmp_path: Path, tmp_db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from railwatch.cli.main import main

    site_db(tmp_db_url)
    image = write_image(tmp_path / "a.tif")
    for option, value in (("--coverage", "footprint"), ("--nodata", "0")):
        capsys.readouterr()
        code = main(["--db", tmp_db_url, "ingest", "yard", str(image), option, value])
        out = " ".join(capsys.readouterr().err.split())
        assert code == 2 and f"{option} is an option of STAC ingest: it needs --stac URL" in out
    # and `ingest --stac` passes them on
    catalog = write_items(tmp_path / "i.json", item(image, 300))
    capsys.readouterr()
    code = main(
        ["--db", tmp_db_url, "ingest", "yard", "--stac", catalog, "--nodata", "7",
         "--coverage", "footprint"]
    )  # fmt: skip
    assert code == 0, capsys.readouterr()
    [scene] = _scenes(Database(tmp_db_url))
    assert item_nodata_of(scene.meta) == 7 and scene.meta["coverage_from"] == "footprint"


def test_a_footprint_rerun_takes_a_new_nodata_without_reading_pixels(
    tmp_path: Path, tmp_db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from railwatch.pipeline import process_site
    from railwatch.stac import NODATA_CHANGED, ingest_stac

    db = site_db(tmp_db_url)
    catalog = write_items(tmp_path / "i.json", item(write_image(tmp_path / "a.tif")))
    ingest_stac(db, "yard", catalog)
    assert process_site(db, "yard", detector=_detector()).total == 1
    with db.session() as s:  # as registered before session 38
        (scene,) = repo.list_scenes(s, "yard")
        scene.meta = {k: v for k, v in scene.meta.items() if k != ITEM_NODATA_KEY}
        scene_id, coverage = scene.id, scene.coverage
    _no_pixel_read(monkeypatch)
    [dup] = ingest_stac(db, "yard", catalog, coverage="footprint").duplicates
    assert dup["nodata_taken"] == FILL
    assert "not measured anew (--coverage footprint: no pixel read)" in dup["reason"]
    with db.session(readonly=True) as s:
        scene = repo.get_scene(s, scene_id)
        assert item_nodata_of(scene.meta) == FILL
        assert scene.coverage == coverage
        assert str(scene.detector_version).endswith(NODATA_CHANGED)


# ---------------------------------------------------------------- b) --nodata


@pytest.mark.parametrize(
    ("declared", "why"),
    [(300, "outside the range of uint8 pixels"), ("nan", "an integer type has no NaN")],
)
def test_an_invalid_item_nodata_fails_naming_the_override(
    tmp_path: Path, tmp_db_url: str, declared: Any, why: str
) -> None:
    from railwatch.stac import ingest_stac

    db = site_db(tmp_db_url)
    catalog = write_items(tmp_path / "i.json", item(write_image(tmp_path / "a.tif"), declared))
    [failed] = ingest_stac(db, "yard", catalog).failed
    assert why in failed["reason"]
    assert "--nodata VALUE" in failed["reason"] and "--nodata none" in failed["reason"]
    assert not _scenes(db)


def test_nodata_value_replaces_the_items_invalid_one(tmp_path: Path, tmp_db_url: str) -> None:
    from railwatch.stac import ingest_stac

    db = site_db(tmp_db_url)
    catalog = write_items(tmp_path / "i.json", item(write_image(tmp_path / "a.tif"), 300))
    summary = ingest_stac(db, "yard", catalog, nodata=FILL)
    assert len(summary.ingested) == 1 and not summary.failed, summary.as_dict()
    [scene] = _scenes(db)
    assert scene.meta[ITEM_NODATA_KEY] == FILL
    assert scene.coverage == pytest.approx(0.5, abs=0.03)  # the fill read as no data


def test_nodata_value_replaces_a_valid_item_value_too(tmp_path: Path, tmp_db_url: str) -> None:
    from railwatch.stac import ingest_stac

    db = site_db(tmp_db_url)
    catalog = write_items(tmp_path / "i.json", item(write_image(tmp_path / "a.tif"), 0))
    ingest_stac(db, "yard", catalog, nodata=str(FILL))  # as the CLI passes it
    [scene] = _scenes(db)
    assert scene.meta[ITEM_NODATA_KEY] == FILL


def test_nodata_none_applies_no_item_value(tmp_path: Path, tmp_db_url: str) -> None:
    from railwatch.stac import ingest_stac

    db = site_db(tmp_db_url)
    catalog = write_items(tmp_path / "i.json", item(write_image(tmp_path / "a.tif"), 300))
    summary = ingest_stac(db, "yard", catalog, nodata="none")
    assert len(summary.ingested) == 1 and not summary.failed, summary.as_dict()
    [scene] = _scenes(db)
    assert ITEM_NODATA_KEY not in scene.meta
    assert scene.coverage == pytest.approx(1.0)  # the fill (7, not 0) read as ground


def test_a_nodata_value_the_pixels_cannot_hold_fails_the_item_naming_it(
    tmp_path: Path, tmp_db_url: str
) -> None:
    from railwatch.stac import ingest_stac

    db = site_db(tmp_db_url)
    catalog = write_items(tmp_path / "i.json", item(write_image(tmp_path / "a.tif")))
    [failed] = ingest_stac(db, "yard", catalog, nodata=-1).failed
    assert "--nodata -1 is outside the range of uint8 pixels" in failed["reason"]
    assert "--nodata none" in failed["reason"]
    assert not _scenes(db)


def test_the_files_own_nodata_still_wins_over_the_value_given(
    tmp_path: Path, tmp_db_url: str
) -> None:
    from railwatch.stac import ingest_stac

    db = site_db(tmp_db_url)
    image = write_image(tmp_path / "a.tif", file_nodata=FILL)
    [entry] = ingest_stac(
        db, "yard", write_items(tmp_path / "i.json", item(image, None)), nodata=3
    ).ingested
    assert "--nodata 3 was given, and the file" in json.dumps(entry)
    [scene] = _scenes(db)
    assert ITEM_NODATA_KEY not in scene.meta
    assert scene.coverage == pytest.approx(0.5, abs=0.03)


@pytest.mark.parametrize("text", ["seven", "", "7,0"])
def test_a_bad_nodata_option_is_refused(text: str) -> None:
    from railwatch.stac import parse_nodata_override

    with pytest.raises(InputError, match=r"--nodata must be a number .* or 'none'"):
        parse_nodata_override(text)


def test_nodata_option_parses(tmp_path: Path) -> None:
    from railwatch.stac import NODATA_NONE, parse_nodata_override

    assert parse_nodata_override(None) is None
    assert parse_nodata_override(" None ") == NODATA_NONE
    assert parse_nodata_override("-9999") == -9999.0
    assert math.isnan(float(parse_nodata_override("nan") or 0))


def test_a_rerun_with_nodata_none_takes_the_items_value_away_and_counts_again(
    tmp_path: Path, tmp_db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from railwatch.pipeline import process_site
    from railwatch.stac import NODATA_CHANGED

    db = site_db(tmp_db_url)
    catalog = write_items(tmp_path / "i.json", item(write_image(tmp_path / "a.tif")))
    code, out = _cli(tmp_db_url, catalog, capsys, "--nodata", "seven")
    assert code == 2 and "--nodata must be a number" in out and not _scenes(db)
    assert _cli(tmp_db_url, catalog, capsys)[0] == 0
    [scene] = _scenes(db)
    assert scene.meta[ITEM_NODATA_KEY] == FILL
    assert process_site(db, "yard", detector=_detector()).total == 1
    code, out = _cli(tmp_db_url, catalog, capsys, "--nodata", "none", "--json")
    assert code == 0, out
    [dup] = json.loads(out)["duplicates"]
    assert dup["nodata_taken"] is None
    assert "no no-data value of its item is applied now (--nodata none)" in dup["reason"]
    assert dup["coverage"] == pytest.approx(1.0)
    [scene] = _scenes(db)
    assert ITEM_NODATA_KEY not in scene.meta
    assert scene.coverage == pytest.approx(1.0)
    assert str(scene.detector_version).endswith(NODATA_CHANGED)


# ---------------------------------------------------------------- c) colour tables


def _palette(path: Path, fill: int = FILL) -> Path:
    """A one-band colour-table GeoTIFF whose columns before EDGE hold index ``fill``
    (a colour of the table, opaque), the rest textured indexes; no nodata declared."""
    rng = np.random.default_rng(9)
    index = rng.integers(10, 60, size=(1, SIZE, SIZE), dtype=np.uint8)
    index[:, :, :EDGE] = fill
    _write(path, index)
    with rasterio.open(path, "r+") as ds:
        ds.write_colormap(1, {i: (i * 4 % 256, i * 3 % 256, 200 - i, 255) for i in range(64)})
    with rasterio.open(path) as ds:  # as the readers see it
        assert ds.colorinterp[0].name == "palette" and ds.nodata is None
    return path


def test_the_pipeline_reads_a_palette_images_item_nodata_as_an_index(
    tmp_path: Path, tmp_db_url: str
) -> None:
    """As GDAL reads a palette band's own nodata (index == nodata), and as ingest-stac's
    coverage measured it: the site half no data, in the whole and the lazy read."""
    geom = _site(site_db(tmp_db_url))
    image = _palette(tmp_path / "p.tif")
    grid = site_grid(geom, GSD)
    with_it = read_site_window(image, grid, site_geom=geom, nodata=FILL)
    without = read_site_window(image, grid, site_geom=geom)
    inside = with_it.inside
    assert without.valid[inside].all()
    assert with_it.valid[inside].mean() == pytest.approx(0.5, abs=0.03)
    with read_site_window(image, grid, site_geom=geom, nodata=FILL, lazy=True) as lazy:
        assert np.array_equal(lazy.valid, with_it.valid)
    # GDAL's own rule for such a file, checked: a palette band's nodata masks the index
    own = _write(tmp_path / "own.tif", rasterio.open(image).read(), nodata=FILL)
    with rasterio.open(own) as ds:
        assert (ds.read_masks(1)[:, :EDGE] == 0).all() and (ds.read_masks(1)[:, EDGE:] > 0).all()


def test_ingest_and_process_agree_on_a_palette_images_item_nodata(
    tmp_path: Path, tmp_db_url: str
) -> None:
    from railwatch.pipeline import process_site
    from railwatch.stac import ingest_stac

    db = site_db(tmp_db_url)
    doc = item(_palette(tmp_path / "p.tif"), key="nodata")
    assert len(ingest_stac(db, "yard", write_items(tmp_path / "i.json", doc)).ingested) == 1
    [scene] = _scenes(db)
    assert scene.meta[ITEM_NODATA_KEY] == FILL
    assert scene.coverage == pytest.approx(0.5, abs=0.03)
    assert process_site(db, "yard", detector=_detector()).total == 1
    [scene] = _scenes(db)
    assert scene.quality_coverage == pytest.approx(0.5, abs=0.03)  # was 1.0


def test_the_tiles_show_a_palette_images_item_nodata_transparent(tmp_path: Path) -> None:
    pytest.importorskip("rio_tiler")
    from PIL import Image

    from railwatch.web.routes import tiles
    from test_web_tiles_nodata_s38 import _centre_tile

    tiles._render_params.cache_clear()
    rng = np.random.default_rng(3)
    index = rng.integers(10, 60, size=(1, 256, 256), dtype=np.uint8)
    index[:, :, :128] = FILL
    from imagery_helpers import write_geotiff

    path = write_geotiff(tmp_path / "p.tif", index)
    with rasterio.open(path, "r+") as ds:
        ds.write_colormap(1, {i: (i * 4 % 256, i * 3 % 256, 200 - i, 255) for i in range(64)})

    def alpha(png: bytes | None) -> np.ndarray:
        assert png is not None
        return np.asarray(Image.open(io.BytesIO(png)).convert("RGBA"))[..., 3].astype(int)

    z, x, y = _centre_tile(18)
    plain = alpha(tiles.render_tile(str(path), z, x, y))
    got = alpha(tiles.render_tile(str(path), z, x, y, item_nodata=FILL))
    shown = plain > 0
    assert shown.any()
    assert 0.3 < ((got == 0) & shown).sum() / shown.sum() < 0.7
    assert not (got > plain).any()


def test_label_chips_of_a_palette_image_read_its_item_nodata(tmp_path: Path) -> None:
    from test_label_chips_scaling_s30 import _chip, _site

    db, path, eight = _site(tmp_path, None)
    with rasterio.open(path) as ds:
        profile = ds.profile
    profile.update(count=1, photometric="palette")
    index = np.full((1, *eight.shape[1:]), 20, dtype=np.uint8)
    index[:, :, : eight.shape[2] // 2] = FILL
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(index)
        dst.write_colormap(1, {i: (100 + i, 100 + i, 100 + i, 255) for i in range(64)})
    plain = _chip(db, tmp_path / "plain")
    fill = (plain == 100 + FILL).all(axis=2)
    assert fill.any()  # the fill's index shown as its colour
    with db.session() as s:
        scene = repo.get_scene(s, 1)
        scene.meta = {**(scene.meta or {}), ITEM_NODATA_KEY: FILL}
    got = _chip(db, tmp_path / "item")
    assert (got[fill] == 0).all()
    assert (got[~fill] == plain[~fill]).all()
    db.dispose()


# ---------------------------------------------------------------- d) black fill


def test_undeclared_black_fill_is_not_counted_as_coverage(tmp_path: Path, tmp_db_url: str) -> None:
    """0 in every band over the site's west half (3200 m², the rule's 400 m² and more),
    no nodata anywhere: half covered, as `process` reads it (was 100 %)."""
    from railwatch.pipeline import process_site
    from railwatch.stac import ingest_stac

    db = site_db(tmp_db_url)
    data = _ground()
    data[:, :, :EDGE] = 0
    image = _write(tmp_path / "a.tif", data)
    summary = ingest_stac(db, "yard", write_items(tmp_path / "i.json", item(image, None)))
    assert len(summary.ingested) == 1, summary.as_dict()
    [scene] = _scenes(db)
    assert ITEM_NODATA_KEY not in scene.meta
    assert scene.coverage == pytest.approx(0.5, abs=0.03)
    assert process_site(db, "yard", detector=_detector()).total == 1
    [scene] = _scenes(db)
    assert scene.quality_coverage == pytest.approx(scene.coverage, abs=0.03)


@pytest.mark.parametrize("dark", ["scattered", "small"])
def test_dark_ground_is_never_called_fill(tmp_path: Path, tmp_db_url: str, dark: str) -> None:
    """Guards: the darkest ground, 0 in every band at many scattered pixels, and a patch
    of 0 under 400 m² (here 15 x 15 m), are data."""
    from railwatch.stac import ingest_stac

    db = site_db(tmp_db_url)
    rng = np.random.default_rng(11)
    if dark == "scattered":
        data = rng.integers(0, 3, size=(3, SIZE, SIZE), dtype=np.uint8)  # 1 in 27 all 0
    else:
        data = _ground()
        data[:, 60:90, 60:90] = 0  # 30 x 30 px at 0.5 m: 225 m² over the site
    image = _write(tmp_path / "a.tif", data)
    ingest_stac(db, "yard", write_items(tmp_path / "i.json", item(image, None)))
    [scene] = _scenes(db)
    assert scene.coverage == pytest.approx(1.0)


def test_black_fill_under_an_item_nodata_or_a_palette_is_left_as_it_is(
    tmp_path: Path, tmp_db_url: str
) -> None:
    """Guards: where the item declares another nodata (7), a black area is data, as the
    pipeline reads it (its fill rule applies only where nothing is declared)."""
    from railwatch.stac import ingest_stac

    db = site_db(tmp_db_url)
    data = _ground()
    data[:, :, :EDGE] = 0
    image = _write(tmp_path / "a.tif", data)
    ingest_stac(db, "yard", write_items(tmp_path / "i.json", item(image, FILL)))
    [scene] = _scenes(db)
    assert scene.coverage == pytest.approx(1.0)


def test_a_tiles_etag_with_an_item_nodata_is_not_the_one_drawn_before() -> None:
    """A colour-table scene's tile drawn before session 39 showed its item-nodata fill;
    its ETag (then: the key with ["nodata", value]) must not match the tile drawn now,
    or a browser would be answered 304 and keep the old one. Scenes without an item
    nodata keep theirs."""
    import hashlib

    from railwatch import __version__
    from railwatch.web.routes import tiles

    args = (1, "a.tif", "h", None, None, "linear", (18, 1, 2), None)
    key: list[Any] = ["railwatch-tile", __version__, tiles.RENDERER_VERSION, *args]
    before = hashlib.sha256(json.dumps(key, default=str).encode()).hexdigest()[:32]
    assert tiles.tile_etag(*args) == f'"{before}"'  # unchanged without one
    key.append(["nodata", 7.0])
    before = hashlib.sha256(json.dumps(key, default=str).encode()).hexdigest()[:32]
    assert tiles.tile_etag(*args, 7.0) != f'"{before}"'
