"""16-bit imagery that is already display-encoded (a visual product stored in 16 bits:
8-bit values x257, or x12 + 100) read as linear data was stretched and gamma-encoded a
second time: the quality estimate saw snow and haze and the scene was stored unusable.
``railwatch ingest --radiometry display`` declares it; the scene is then mapped linearly
and counted, and a scene declared so after it was counted is counted again."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import rasterio
from affine import Affine
from shapely.geometry import box, mapping

from railwatch.cli.main import main
from railwatch.errors import InputError
from railwatch.imagery import inspect_scene
from railwatch.imagery.quality import QUALITY_VERSION
from railwatch.imagery.read import (
    parse_radiometry,
    radiometry_of,
    stretch_ranges,
    stretch_to_uint8,
    to_rgb8,
)
from railwatch.pipeline import STRETCHED_NOTE, process_site
from railwatch.storage import Database, repo

Q = f"+q{QUALITY_VERSION}"  # ends every processing version (session 43)


class NoCars:
    name = "none"
    version = "1"

    def detect(self, image: Any, gsd: float, valid: Any = None) -> list[Any]:
        return []


def eight_bit(seed: int = 0) -> np.ndarray:
    """(3, 64, 64) uint8 that spans 0..255 in every band, with a dim-to-bright ramp."""
    rng = np.random.default_rng(seed)
    data = rng.integers(30, 200, size=(3, 64, 64)).astype(np.uint8)
    data[:, 0, :2] = [[0, 255]]
    return data


@pytest.mark.parametrize("encode", [lambda v: v * 257, lambda v: v * 12 + 100])
def test_display_encoded_16_bit_reads_back_as_the_8_bit_image(encode: Any) -> None:
    v = eight_bit()
    sixteen = encode(v.astype(np.uint16))
    valid = np.ones(v.shape[1:], dtype=bool)
    got = to_rgb8(sixteen, valid, radiometry="display")
    assert np.abs(got.astype(int) - np.moveaxis(v, 0, -1).astype(int)).max() <= 1
    # read as linear (the default), the same pixels are brightened by the display gamma
    linear = to_rgb8(sixteen, valid)
    assert linear.mean() > got.mean() + 25


def test_display_keeps_the_colour_balance_one_range_for_all_bands() -> None:
    """Per-band stretching would white-balance a display image: a reddish scene (red
    20..220, blue 20..120) stays reddish."""
    rng = np.random.default_rng(3)
    v = np.stack(
        [
            rng.integers(20, 221, (64, 64)),
            rng.integers(20, 171, (64, 64)),
            rng.integers(20, 121, (64, 64)),
        ]
    ).astype(np.uint16)
    got = to_rgb8(v * 257, np.ones((64, 64), dtype=bool), radiometry="display")
    assert got[..., 0].max() >= 250 and got[..., 2].max() < 150


def test_stretch_ranges_and_stretch_to_uint8_take_the_radiometry(tmp_path: Path) -> None:
    v = eight_bit(1).astype(np.uint16) * 257
    v[2] //= 2  # a dimmer blue band keeps its own place in the one range
    path = tmp_path / "d.tif"
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=64,
        height=64,
        count=3,
        dtype="uint16",
        crs="EPSG:32652",
        transform=Affine(0.5, 0, 632_000, 0, -0.5, 4_683_000),
    ) as dst:
        dst.write(v)
    with rasterio.open(path) as ds:
        lin = stretch_ranges(ds, [1, 2, 3])
        disp = stretch_ranges(ds, [1, 2, 3], radiometry="display")
    assert lin is not None and disp is not None
    assert len(set(disp[0])) == 1 and len(set(disp[1])) == 1  # one range for the three
    assert lin[1][2] < disp[1][2]  # linear: the blue band stretched to its own top
    lo, hi = float(disp[0][0]), float(disp[1][0])
    mid = np.array([(lo + hi) / 2])
    assert abs(int(stretch_to_uint8(mid, lo, hi, radiometry="display")[0]) - 128) <= 1
    assert int(stretch_to_uint8(mid, lo, hi)[0]) > 180  # 0.5 ** (1 / 2.2) * 255 = 186


def test_radiometry_values() -> None:
    assert parse_radiometry(" Display ") == "display"
    with pytest.raises(InputError, match=r"'linear'.*'display'"):
        parse_radiometry("srgb")
    assert radiometry_of({"radiometry": "display"}) == "display"
    assert radiometry_of({}) == radiometry_of(None) == radiometry_of({"radiometry": 3}) == "linear"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, " ".join(err.split())


@pytest.fixture
def yard(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[str, Path, Path]:
    """A database with a site over a simulated clear scene, the scene written as 8-bit
    and as display-encoded 16-bit (x12 + 100), each without a quality mask."""
    from railwatch.sim import SceneParams, render_scene, write_scene

    when = datetime(2023, 10, 5, 2, tzinfo=UTC)
    scene = render_scene(SceneParams(seed=7, size_px=(200, 200), n_cars=12, date=when))
    eight = write_scene(scene, tmp_path / "render", "eight", preview=False).image
    with rasterio.open(eight) as ds:
        profile, data = ds.profile, ds.read()
    profile.update(dtype="uint16")
    sixteen = tmp_path / "imgs" / "visual16_20231005.tif"
    sixteen.parent.mkdir()
    with rasterio.open(sixteen, "w", **profile) as dst:
        dst.write(data.astype(np.uint16) * 12 + 100)
    plain = tmp_path / "imgs8" / "visual8_20231006.tif"
    plain.parent.mkdir()
    with rasterio.open(plain, "w", **{**profile, "dtype": "uint8"}) as dst:
        dst.write(data)
    url = f"sqlite:///{tmp_path / 'rw.db'}"
    site = tmp_path / "site.geojson"
    site.write_text(
        json.dumps(mapping(box(*inspect_scene(eight).footprint.buffer(-0.0002).bounds)))
    )
    code, _, err = run(capsys, "--db", url, "site", "add", "yard", "--geojson", str(site))
    assert code == 0, err
    return url, sixteen, plain


def _scene(url: str) -> Any:
    db = Database(url)
    with db.session(readonly=True) as s:
        (scene,) = [sc for sc in repo.list_scenes(s, "yard") if sc.dtype == "uint16"]
        s.expunge(scene)
    db.dispose()
    return scene


def test_display_encoded_16_bit_is_usable_when_declared_and_counted_again_when_declared_late(
    yard: tuple[str, Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    url, sixteen, _ = yard
    code, _, err = run(capsys, "--db", url, "ingest", "yard", str(sixteen))
    assert code == 0, err
    db = Database(url)
    process_site(db, "yard", detector=NoCars())
    before = _scene(url)
    # read as linear: gamma-encoded twice, estimated as snow/haze, unusable, and the
    # reason now says what to do
    assert before.usable is False and before.clear_fraction < 0.5
    assert before.reasons[-1] == STRETCHED_NOTE and "--radiometry display" in STRETCHED_NOTE
    assert before.detector_version == f"1+in3{Q}"

    code, out, err = run(
        capsys, "--db", url, "ingest", "yard", str(sixteen), "--radiometry", "display", "--json"
    )
    assert code == 0, err
    (dup,) = json.loads(out)["duplicates"]
    assert "its radiometry is now display (`railwatch process` counts it again)" in dup["reason"]
    summary = process_site(db, "yard", detector=NoCars())
    assert summary.skipped == 0 and len(summary.processed) == 1
    after = _scene(url)
    assert after.meta["radiometry"] == "display"
    assert after.usable is True and after.clear_fraction > 0.95
    assert after.detector_version == f"1+ind3{Q}"
    # nothing changed: nothing to do
    assert process_site(db, "yard", detector=NoCars()).skipped == 1
    # declared linear again: counted again as linear
    code, _, err = run(
        capsys, "--db", url, "ingest", "yard", str(sixteen), "--radiometry", "linear"
    )
    assert code == 0, err
    process_site(db, "yard", detector=NoCars())
    assert _scene(url).detector_version == f"1+in3{Q}"
    db.dispose()


def test_radiometry_given_at_first_ingest_is_stored_and_8_bit_files_are_told(
    yard: tuple[str, Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    url, sixteen, plain = yard
    code, out, err = run(
        capsys, "--db", url, "ingest", "yard", str(sixteen), str(plain), "--radiometry", "display"
    )
    text = " ".join(out.split())
    assert code == 0, err
    assert "1 8-bit file read as it is: --radiometry is for 16-bit and float files." in text
    assert _scene(url).meta["radiometry"] == "display"
    db = Database(url)
    with db.session(readonly=True) as s:
        eight = next(sc for sc in repo.list_scenes(s, "yard") if sc.dtype == "uint8")
        assert "radiometry" not in eight.meta
    process_site(db, "yard", detector=NoCars())
    assert _scene(url).usable is True
    db.dispose()


def test_bad_radiometry_is_refused_before_anything_is_written(
    yard: tuple[str, Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    url, sixteen, _ = yard
    code, _, err = run(capsys, "--db", url, "ingest", "yard", str(sixteen), "--radiometry", "srgb")
    assert code != 0 and "--radiometry 'srgb'" in err and "'display'" in err
    # STAC ingest takes it too (test_radiometry_qa22_stac.py), checked the same way
    code, _, err = run(
        capsys, "--db", url, "ingest", "yard", "--stac", "cat.json", "--radiometry", "srgb"
    )
    assert code != 0 and "--radiometry 'srgb'" in err
    db = Database(url)
    with db.session(readonly=True) as s:
        assert repo.list_scenes(s, "yard") == []
    db.dispose()


def test_a_dim_window_of_a_display_encoded_scene_stays_dim(tmp_path: Path) -> None:
    """The window is mapped by the whole scene's range, as detect and the web tiles map
    it: a hazy or dim part of a clear scene is not stretched to full contrast (which
    would hide haze from the quality rules, which read absolute brightness)."""
    from pyproj import Transformer

    from railwatch.imagery.read import read_site_window, site_grid

    rng = np.random.default_rng(5)
    v = np.empty((3, 200, 400), dtype=np.uint8)
    v[:, :, :200] = rng.integers(0, 256, size=(3, 200, 200))  # bright, full-range half
    v[:, :, 200:] = rng.integers(90, 131, size=(3, 200, 200))  # a flat, hazy half
    path = tmp_path / "d.tif"
    x0, y0 = 632_000.0, 4_683_000.0
    with rasterio.open(
        path, "w", driver="GTiff", width=400, height=200, count=3, dtype="uint16",
        crs="EPSG:32652", transform=Affine(0.5, 0, x0, 0, -0.5, y0),
    ) as dst:  # fmt: skip
        dst.write(v.astype(np.uint16) * 257)
    to_wgs84 = Transformer.from_crs("EPSG:32652", "EPSG:4326", always_xy=True)
    lon0, lat0 = to_wgs84.transform(x0 + 120, y0 - 80)  # well inside the hazy half
    lon1, lat1 = to_wgs84.transform(x0 + 180, y0 - 20)
    grid = site_grid(box(lon0, lat0, lon1, lat1), 0.5, crs="EPSG:32652")
    got = read_site_window(path, grid, radiometry="display")
    hazy = got.image[got.valid]
    assert hazy.size and hazy.min() >= 85 and hazy.max() <= 135  # as in the 8-bit file
    # the window's own range would have stretched it to about 0..255
    own = to_rgb8(v[:, :, 200:].astype(np.uint16) * 257, np.ones((200, 200), bool),
                  radiometry="display")  # fmt: skip
    assert own.min() < 10 and own.max() > 245
