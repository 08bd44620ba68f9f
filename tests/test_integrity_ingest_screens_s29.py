"""The ingest screens said that an image was already ingested, not why: `railwatch
ingest` printed "already ingested: FILE (scene N)" when the scene was a STAC item's
(the same file content, or its asset href), and `ingest-stac` listed an item already
there only when --radiometry changed it. Both now show why it is that scene, and what
was done to it; a plain re-run lists no item."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("pystac")
pytest.importorskip("pystac_client")

from test_scene_identity_s29 import stac_item, write_items
from test_stac import make_cog, site_db


def run(db_url: str, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    from railwatch.cli.main import main

    capsys.readouterr()
    code = main(["--db", db_url, *args])
    captured = capsys.readouterr()
    return code, " ".join((captured.out + captured.err).split())


def test_ingest_says_which_stac_item_a_file_is(
    tmp_db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    image = make_cog(tmp_path / "a.tif", 0)
    copy = tmp_path / "copy" / "b.tif"
    copy.parent.mkdir()
    copy.write_bytes(image.read_bytes())
    site_db(tmp_db_url)
    url = write_items(tmp_path / "items.json", stac_item("a", str(image)))
    code, text = run(tmp_db_url, capsys, "ingest-stac", "yard", "--stac", url)
    assert code == 0 and "1 new scene," in text, text
    code, text = run(
        tmp_db_url, capsys, "ingest", "yard", str(copy), "--date", "2023-10-01", "--bands", "3,2,1"
    )
    assert code == 0, text
    assert (
        f"already ingested: {copy} (scene 1, same file content as STAC item yards/a); "
        "its colour bands are now 3,2,1 (`railwatch process` reads it again)"
    ) in text


def test_ingest_stac_says_which_file_or_item_an_item_is(
    tmp_db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    image = make_cog(tmp_path / "a.tif", 0)
    site_db(tmp_db_url)
    code, text = run(tmp_db_url, capsys, "ingest", "yard", str(image), "--date", "2023-10-01")
    assert code == 0, text
    url = write_items(tmp_path / "items.json", stac_item("a", str(image)))
    code, text = run(tmp_db_url, capsys, "ingest-stac", "yard", "--stac", url)
    assert code == 0, text
    assert "0 new scenes, 1 already there" in text
    assert f"already there: yards/a (scene 1, same file content as file {image})" in text
    other = write_items(tmp_path / "o.json", stac_item("b", str(image), collection="archive"))
    code, text = run(tmp_db_url, capsys, "ingest-stac", "yard", "--stac", other)
    assert code == 0 and "already there: archive/b (scene 1, same file content as file" in text


def test_a_plain_rerun_lists_no_item(
    tmp_db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    image = make_cog(tmp_path / "a.tif", 0)
    site_db(tmp_db_url)
    url = write_items(tmp_path / "items.json", stac_item("a", str(image)))
    assert run(tmp_db_url, capsys, "ingest-stac", "yard", "--stac", url)[0] == 0
    code, text = run(tmp_db_url, capsys, "ingest-stac", "yard", "--stac", url)
    assert code == 0 and "0 new scenes, 1 already there" in text
    assert "already there:" not in text
