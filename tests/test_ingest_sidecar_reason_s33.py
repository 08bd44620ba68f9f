"""`railwatch ingest` given only sidecars (session 33: a new analyst named a simulated
image's STAC item JSON, and its mask): the error said "the file was refused, for the
reasons listed above" above a list that gave no reason, and a STAC item was called "a
metadata or label file"."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from railwatch.cli.main import main


def _site(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'rw.db'}"
    assert main(["--db", url, "site", "add", "yard", "--bbox", "8.587,47.528,8.593,47.532"]) == 0
    return url


def test_a_stac_item_named_alone_says_to_use_ingest_stac(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = _site(tmp_path)
    item = tmp_path / "yard_2024-03-01.json"
    item.write_text(
        json.dumps(
            {
                "type": "Feature",
                "stac_version": "1.0.0",
                "id": "yard_2024-03-01",
                "geometry": None,
                "properties": {"datetime": "2024-03-01T10:00:00Z"},
                "assets": {"image": {"href": "./elsewhere/yard_2024-03-01.tif"}},
                "links": [],
            }
        )
    )
    capsys.readouterr()
    assert main(["--db", url, "ingest", "yard", str(item)]) == 1
    err = " ".join(capsys.readouterr().err.split())
    assert (
        "nothing ingested into site yard: the file was refused: yard_2024-03-01.json is a STAC item"
        in err
    )
    assert f"`railwatch ingest-stac yard --stac {item}`" in err


def test_sidecars_named_alone_are_refused_with_their_reasons(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = _site(tmp_path)
    mask = tmp_path / "yard_2024-03-01.mask.tif"
    mask.write_bytes(b"II*\x00")
    truth = tmp_path / "yard_2024-03-01.truth.geojson"
    truth.write_text('{"type": "FeatureCollection", "features": []}')
    capsys.readouterr()
    assert main(["--db", url, "ingest", "yard", str(mask), str(truth)]) == 1
    err = " ".join(capsys.readouterr().err.split())
    assert "all 2 files were refused: yard_2024-03-01.mask.tif is a quality mask" in err
    assert "yard_2024-03-01.truth.geojson is a metadata or label file" in err
    assert "name the image (or its folder)" in err
