"""``railwatch ingest-stac`` prints a new item's warning in its summary, as ``railwatch
ingest`` prints a file's: an item whose ``raster:bands`` declare other scales and
offsets than its file declares (the file's are used, fc1377c) was said only in
``--json`` and the log, so a run on screen did not show it."""

from __future__ import annotations

from pathlib import Path

import pytest

from railwatch.cli.main import main

pytest.importorskip("pystac")

from test_scene_identity_s29 import write_items
from test_stac import site_db
from test_stac_item_scaling_s30 import OFFSETS, SCALES, declared, item, write_reflectance


def test_a_new_items_warning_is_printed(
    tmp_path: Path, tmp_db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    image = write_reflectance(tmp_path / "a.tif", SCALES, OFFSETS)
    site_db(tmp_db_url).dispose()
    catalog = write_items(tmp_path / "items.json", item(image, declared([1e-4] * 3, [0.0] * 3)))
    capsys.readouterr()
    assert main(["--db", tmp_db_url, "ingest-stac", "yard", "--stac", catalog]) == 0
    out, err = capsys.readouterr()
    assert "1 new scene," in out
    text = " ".join(err.split())
    assert "warning: yards/a:" in text  # the item, as the summary names it
    assert "the file's are used" in text
    assert "0.0001, 0.0002, 0.0004 and -0.1, 0, 0" in text
    # said once: a run over the same catalog has nothing new to say
    assert main(["--db", tmp_db_url, "ingest-stac", "yard", "--stac", catalog]) == 0
    assert "warning:" not in capsys.readouterr().err


def test_json_is_unchanged(
    tmp_path: Path, tmp_db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """``--json`` keeps it in the item's ``warning`` and prints nothing else."""
    import json

    image = write_reflectance(tmp_path / "a.tif", SCALES, OFFSETS)
    site_db(tmp_db_url).dispose()
    catalog = write_items(tmp_path / "items.json", item(image, declared([1e-4] * 3, [0.0] * 3)))
    capsys.readouterr()
    assert main(["--db", tmp_db_url, "ingest-stac", "yard", "--stac", catalog, "--json"]) == 0
    out, err = capsys.readouterr()
    [entry] = json.loads(out)["ingested"]
    assert "the file's are used" in entry["warning"]
    assert "warning:" not in err
