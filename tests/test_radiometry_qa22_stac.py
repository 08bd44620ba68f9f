"""``ingest-stac --radiometry`` (and ``ingest --stac URL --radiometry``): a STAC item
whose asset is a visual product stored in 16 bits could not be declared display (the
option was refused, or unknown), so it was always stretched and gamma-encoded as linear
data and stored unusable. It is now recorded per item as for files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from railwatch.storage import Database, repo

pytest.importorskip("pystac")
pytest.importorskip("pystac_client")

from test_stac import GSD, ORIGIN, SIZE, make_cog, site_db
from test_stac_qa22_summary import item, write_items


def make_cog16(path: Path) -> Path:
    import rasterio
    from affine import Affine

    data = np.random.default_rng(1).integers(0, 255, (3, SIZE, SIZE)).astype(np.uint16) * 257
    with rasterio.open(
        path, "w", driver="COG", width=SIZE, height=SIZE, count=3, dtype="uint16",
        crs="EPSG:32652", transform=Affine(GSD, 0, ORIGIN[0], 0, -GSD, ORIGIN[1]),
        blocksize=128, compress="deflate",
    ) as dst:  # fmt: skip
        dst.write(data)
    return path


def radiometries(db: Database) -> dict[str, Any]:
    with db.session(readonly=True) as s:
        return {sc.meta["stac_id"]: sc.meta.get("radiometry") for sc in repo.list_scenes(s, "yard")}


def run(db_url: str, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    from railwatch.cli.main import main

    capsys.readouterr()
    code = main(["--db", db_url, *args])
    captured = capsys.readouterr()
    return code, " ".join((captured.out + captured.err).split())


def test_ingest_stac_records_the_radiometry_of_16_bit_items(
    tmp_db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    make_cog16(tmp_path / "v16.tif")
    make_cog(tmp_path / "v8.tif", 0)
    url = write_items(tmp_path / "items.json", [item("v16", "v16.tif"), item("v8", "v8.tif")])
    db = site_db(tmp_db_url)

    code, text = run(tmp_db_url, capsys, "ingest-stac", "yard", "--stac", url)
    assert code == 0, text
    assert radiometries(db) == {"v16": None, "v8": None}  # linear, the default

    # given again: the 16-bit item already there takes it (and is counted again)
    code, text = run(
        tmp_db_url, capsys, "ingest-stac", "yard", "--stac", url, "--radiometry", "display"
    )
    assert code == 0, text
    assert radiometries(db) == {"v16": "display", "v8": None}
    assert "its radiometry is now display (`railwatch process` counts it again)" in text
    assert "1 8-bit image read as it is: --radiometry is for 16-bit and float images" in text

    # ingest --stac passes it on (it was refused)
    code, text = run(
        tmp_db_url, capsys, "ingest", "yard", "--stac", url, "--radiometry", "linear", "--json"
    )
    assert code == 0, text
    assert radiometries(db) == {"v16": "linear", "v8": None}


def test_a_new_item_is_registered_with_it_and_a_bad_value_is_refused(
    tmp_db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    make_cog16(tmp_path / "v16.tif")
    url = write_items(tmp_path / "items.json", [item("v16", "v16.tif")])
    db = site_db(tmp_db_url)
    code, text = run(tmp_db_url, capsys, "ingest-stac", "yard", "--stac", url, "--radiometry", "x")
    assert code == 2 and "--radiometry 'x': give 'linear'" in text
    assert radiometries(db) == {}
    code, text = run(
        tmp_db_url, capsys, "ingest-stac", "yard", "--stac", url, "--radiometry", "display"
    )
    assert code == 0, text
    assert radiometries(db) == {"v16": "display"}
