"""``ingest --json`` / ``ingest-stac --json`` of a batch stopped because its site was
removed while it ran print the JSON summary of what the batch did before it stopped,
with "stopped" saying why, then the error line on stderr and status 1, as a batch with
failed files does (session 32).

Before, a stopped batch printed nothing on stdout: a script reading the JSON got an
empty stream (8f06cfe, ``ingest.stop_if_site_removed``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import railwatch.ingest as ingest_module
from railwatch.cli.main import main
from railwatch.storage import Database, repo
from test_cli_ingest import SITE_UTM, scene_file, to_wgs84


def _remove(url: str, name: str) -> None:
    with Database(url).session() as s:
        repo.remove_site(s, name)


def test_ingest_json_of_a_stopped_batch(
    tmp_path: Path,
    tmp_db_url: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from railwatch.sites import SiteSpec

    with Database(tmp_db_url).session() as s:
        repo.add_site(s, SiteSpec(name="tum", geometry=to_wgs84(SITE_UTM)))
    folder = tmp_path / "batch"
    for i in range(4):
        scene_file(folder, f"tum_2023100{i + 1}.tif", seed=i)
    real = ingest_module._ingest_one
    tried: list[str] = []

    def step(db: Any, summary: Any, path: Path, *args: Any, **kw: Any) -> None:
        if len(tried) == 1:  # after the first file: the site is removed
            _remove(tmp_db_url, "tum")
        tried.append(path.name)
        real(db, summary, path, *args, **kw)

    monkeypatch.setattr(ingest_module, "_ingest_one", step)
    code = main(["--db", tmp_db_url, "ingest", "tum", str(folder), "--json"])
    out, err = capsys.readouterr()
    assert code == 1
    data = json.loads(out)
    assert data["site"] == "tum"
    assert [Path(d["file"]).name for d in data["ingested"]] == ["tum_20231001.tif"]
    assert [Path(d["file"]).name for d in data["failed"]] == ["tum_20231002.tif"]
    assert data["stopped"].startswith("site 'tum' was removed while its images were being")
    assert "the 2 files left were not tried" in data["stopped"]
    err = " ".join(err.split())
    assert err.count("site 'tum' was removed") == 1  # the error line, once


def test_ingest_json_of_a_whole_batch_has_no_stopped(
    tmp_path: Path, tmp_db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from railwatch.sites import SiteSpec

    with Database(tmp_db_url).session() as s:
        repo.add_site(s, SiteSpec(name="tum", geometry=to_wgs84(SITE_UTM)))
    folder = tmp_path / "batch"
    scene_file(folder, "tum_20231001.tif", seed=0)
    code = main(["--db", tmp_db_url, "ingest", "tum", str(folder), "--json"])
    out, _ = capsys.readouterr()
    assert code == 0
    assert "stopped" not in json.loads(out)


def test_ingest_stac_json_of_a_stopped_batch(
    tmp_db_url: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pystac = pytest.importorskip("pystac")
    pytest.importorskip("pystac_client")
    import railwatch.stac as stac_module
    from test_stac import make_cog, site_db
    from test_stac_qa_sources import item_doc

    site_db(tmp_db_url)
    cat = pystac.Catalog("c", "d")
    for k, ident in enumerate(("one", "two", "three")):
        make_cog(tmp_path / f"{ident}.tif", k)
        cat.add_item(pystac.Item.from_dict(item_doc(ident, str(tmp_path / f"{ident}.tif"))))
    cat.normalize_hrefs(str(tmp_path / "cat"))
    cat.save(pystac.CatalogType.SELF_CONTAINED)
    real = stac_module._register
    tried: list[str] = []

    def step(db: Any, summary: Any, item: Any, *args: Any, **kw: Any) -> None:
        if len(tried) == 1:
            _remove(tmp_db_url, "yard")
        tried.append(str(item.id))
        real(db, summary, item, *args, **kw)

    monkeypatch.setattr(stac_module, "_register", step)
    catalog = str(tmp_path / "cat" / "catalog.json")
    code = main(["--db", tmp_db_url, "ingest-stac", "yard", "--stac", catalog, "--json"])
    out, err = capsys.readouterr()
    assert code == 1, (out, err)
    data = json.loads(out)
    assert len(data["ingested"]) == 1 and len(data["failed"]) == 1
    assert data["stopped"].startswith("site 'yard' was removed while its images were being")
    assert "site 'yard' was removed" in " ".join(err.split())
