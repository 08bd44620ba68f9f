"""A 16-bit file that holds 8-bit values is flagged at ingest (session 28).

A visual product stored in 16 bits (8-bit values x257, or 0-255 in a uint16 file, as
a GIS "save as UInt16" writes) ingested without --radiometry is read as linear
radiance: stretched with a display gamma, a clear yard came out as "unusable: snow
covers 61 % of the site", with nothing at ingest to say why. Ingest now warns and
names --radiometry display; real 16-bit data, 8-bit files and files ingested with
--radiometry are not flagged."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import rasterio

from helpers import make_geotiff
from railwatch.cli.main import main
from railwatch.imagery.inspect import eight_bit_values

UTM = "EPSG:32652"
ORIGIN = (632_000.0, 4_683_000.0)
BBOX = "130.6020,42.2860,130.6040,42.2875"  # inside the 300 m image at ORIGIN


def _eight(seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(1, 256, size=(3, 300, 300)).astype(np.uint16)


def _tif(path: Path, data: np.ndarray, **kw: Any) -> Path:
    return make_geotiff(
        path,
        crs=UTM,
        origin=ORIGIN,
        gsd=1.0,
        width=300,
        height=300,
        dtype=str(data.dtype),
        data=data,
        tags={"TIFFTAG_DATETIME": "2023:10:05 02:30:00"},
        **kw,
    )


@pytest.fixture
def db(tmp_db_url: str, capsys: pytest.CaptureFixture[str]) -> str:
    assert main(["--db", tmp_db_url, "site", "add", "yard", "--bbox", BBOX]) == 0, capsys
    capsys.readouterr()
    return tmp_db_url


def _ingest(capsys: pytest.CaptureFixture[str], db: str, *args: str) -> dict[str, Any]:
    code = main(["--db", db, "ingest", "yard", *args, "--json"])
    out, err = capsys.readouterr()
    assert code == 0, out + err
    return {Path(e["file"]).name: e for e in json.loads(out)["ingested"]}


def test_eight_bit_values_in_sixteen_bits_are_flagged(
    db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    x257 = _tif(tmp_path / "x257.tif", _eight() * 257)
    low = _tif(tmp_path / "low.tif", _eight(1))
    real = _tif(tmp_path / "real.tif", (_eight(2) * 37 + 120).astype(np.uint16))
    byte = _tif(tmp_path / "byte.tif", _eight(3).astype(np.uint8))
    rows = _ingest(capsys, db, str(x257), str(low), str(real), str(byte))
    assert "multiples of 257" in rows["x257.tif"]["warning"]
    assert "between 0 and 255" in rows["low.tif"]["warning"]
    for name in ("x257.tif", "low.tif"):
        assert "--radiometry display" in rows[name]["warning"]
    assert "warning" not in rows["real.tif"]
    assert "warning" not in rows["byte.tif"]


def test_no_warning_when_radiometry_is_given(
    db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    x257 = _tif(tmp_path / "x257.tif", _eight() * 257)
    rows = _ingest(capsys, db, str(x257), "--radiometry", "linear")
    assert "warning" not in rows["x257.tif"]


def test_nodata_and_zero_fill_are_left_out(tmp_path: Path) -> None:
    data = _eight() * 257
    data[:, :50] = 65535  # the nodata value, not a multiple of 257 times an 8-bit value
    data[:, 50:100] = 0
    path = _tif(tmp_path / "fill.tif", data, nodata=65535)
    with rasterio.open(path) as ds:
        assert eight_bit_values(ds) == "x257"
    data[0, 150, 150] = 1000  # one real 16-bit value: not a display product
    path = _tif(tmp_path / "mixed.tif", data, nodata=65535)
    with rasterio.open(path) as ds:
        assert eight_bit_values(ds) is None


def test_cog_with_resampled_overviews_is_judged_on_its_own_pixels(tmp_path: Path) -> None:
    from rasterio.shutil import copy

    src = _tif(tmp_path / "x257.tif", _eight() * 257)
    cog = tmp_path / "x257.cog.tif"
    copy(src, cog, driver="COG", overview_resampling="average", blocksize=128)
    with rasterio.open(cog) as ds:
        assert ds.overviews(1)
        assert eight_bit_values(ds) == "x257"
