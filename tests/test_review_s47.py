"""Review of session 47's changes (2026-12-07, session 47).

1. ``imagery.inspect.alpha_built_overviews`` took any non-black pixel under a black
   overview pixel for ground its overviews had blacked out: at the edge of a black fill
   (a rotated footprint's collar) a few faint pixels average to 0 in overviews built as
   any others are, and such a file's overviews were left out (every decimated read then
   read the full resolution; over http(s), every tile of a COG).
2. ``imagery.inspect.eight_bit_values`` said "x4" of two 16-bit values that happen to be
   multiples of 4 (1000 and 1004): a few values share a common factor by chance.
3. ``railwatch process``'s hint of 8-bit values listed every unusable scene's id.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import numpy as np
import pytest
import rasterio
from rasterio.enums import ColorInterp

from imagery_helpers import write_geotiff, yard_scene
from railwatch.imagery.inspect import alpha_as_data, alpha_built_overviews, eight_bit_values


def test_faint_pixels_at_a_fill_edge_are_no_alpha_built_overviews(tmp_path: Path) -> None:
    size = 1024
    rng = np.random.default_rng(3)
    rgb = np.clip(yard_scene(size, size).astype("uint16"), 30, 255).astype("uint8")
    nir = rng.integers(25, 230, (size, size)).astype("uint8")
    data = np.concatenate([rgb, nir[None]])
    data[:, :, : size // 2] = 0  # black fill over the left half
    data[:, ::8, size // 2 - 1] = 5  # the footprint's edge: a few faint pixels
    # overviews built as for any file (band 4 labelled alpha only after)
    path = write_geotiff(
        tmp_path / "fill.tif", data, photometric="RGB", overviews=(2, 4, 8), tiled=True
    )
    with rasterio.open(path, "r+") as ds:
        ds.colorinterp = [*ds.colorinterp[:3], ColorInterp.alpha]
    with rasterio.open(path) as ds:
        assert alpha_as_data(ds) is not None
        small = ds.read(out_shape=(4, size // 8, size // 8))
        assert (small[:, :, size // 16 - 1] == 0).all()  # the edge blocks average to 0
        assert ds.read(1, window=((0, 8), (size // 2 - 8, size // 2))).any()  # not below
        assert not alpha_built_overviews(ds)


def test_a_few_values_sharing_a_factor_are_not_eight_bit_ones(tmp_path: Path) -> None:
    data = np.zeros((1, 512, 512), "uint16")
    data[0, 256, 256] = 1000
    data[0, 300, 300] = 1004  # both multiples of 4, 1004 / 4 = 251
    path = write_geotiff(tmp_path / "two.tif", data)
    with rasterio.open(path) as ds:
        assert eight_bit_values(ds) is None
    # an 8-bit image x4 (dozens of levels) still is one
    rgb8 = yard_scene(400, 400).astype("uint16")
    rgb8[:, 0, 0] = 255
    path = write_geotiff(tmp_path / "x4.tif", rgb8 * 4, photometric="RGB")
    with rasterio.open(path) as ds:
        assert eight_bit_values(ds) == "x4"


def test_the_eight_bit_hint_names_the_first_scenes_only(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """3. ``railwatch process``'s hint of unusable scenes holding 8-bit values listed
    every id: a site of a visual product ingested without ``--radiometry`` has hundreds."""
    from contextlib import contextmanager

    from railwatch.cli.process import _say_eight_bit
    from railwatch.pipeline import ProcessSummary

    ids = list(range(1, 26))
    rows = [(i, {"eight_bit_values": "x257"}) for i in ids]

    class _Session:
        def execute(self, _query: Any) -> Any:
            return type("R", (), {"all": staticmethod(lambda: rows)})()

    class _Db:
        @contextmanager
        def session(self, readonly: bool = False) -> Iterator[_Session]:
            yield _Session()

    summary = ProcessSummary(site="yard", detector="d", version="1", unusable=ids)
    _say_eight_bit(cast(Any, _Db()), [summary])
    err = " ".join(capsys.readouterr().err.split())
    assert "hint: 25 unusable scenes of yard (1, 2, 3, 4, 5, 6, 7, 8, 9, 10 and 15 more)" in err
    assert "11," not in err
