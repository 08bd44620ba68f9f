"""An ``ingest`` / ``ingest-stac`` batch whose site is removed while it runs stops at
the first file that fails for it, with one message saying so: how many images it had
stored (gone with the site) and that the rest were not tried; the command exits
non-zero (session 32).

Before, the batch went on: the file that met the removal failed with "site 'X' was
removed while ..." (or "no site named 'X'"), and every later file with "no site named
'X' ... add one with `railwatch site add`", one line each. The site is removed here
between two files (a hook on the per-file step), on SQLite.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import railwatch.ingest as ingest_module
from railwatch.cli.main import main
from railwatch.errors import NotFoundError
from railwatch.storage import Database, repo
from test_cli_ingest import SITE_UTM, scene_file, to_wgs84


@pytest.fixture
def site(tmp_db_url: str) -> str:
    """Site 'tum' over the test images of test_cli_ingest."""
    from railwatch.sites import SiteSpec

    with Database(tmp_db_url).session() as s:
        repo.add_site(s, SiteSpec(name="tum", geometry=to_wgs84(SITE_UTM)))
    return tmp_db_url


def _remove(url: str, name: str) -> None:
    with Database(url).session() as s:
        repo.remove_site(s, name)


def test_ingest_stops_when_its_site_is_removed(
    tmp_path: Path, site: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "batch"
    for i in range(4):
        scene_file(folder, f"tum_2023100{i + 1}.tif", seed=i)
    real = ingest_module._ingest_one
    tried: list[str] = []

    def step(db: Any, summary: Any, path: Path, *args: Any, **kw: Any) -> None:
        if len(tried) == 1:  # after the first file: the site is removed
            _remove(site, "tum")
        tried.append(path.name)
        real(db, summary, path, *args, **kw)

    monkeypatch.setattr(ingest_module, "_ingest_one", step)
    code = main(["--db", site, "ingest", "tum", str(folder), "--json"])
    out, err = capsys.readouterr()
    err = " ".join(err.split())
    assert code != 0
    assert tried == ["tum_20231001.tif", "tum_20231002.tif"]  # the rest not tried
    # --json prints what the batch did before it stopped (test_ingest_site_removed_json_s32k)
    assert json.loads(out)["stopped"]
    assert err.count("site 'tum'") == 1 and "no site named" not in err  # said once
    assert (
        "site 'tum' was removed while its images were being ingested (by another railwatch "
        "command or the dashboard), so the batch stopped at file " in err
    )
    assert "tum_20231002.tif" in err and "tum_20231003.tif" not in err
    assert (
        "the 1 file stored by this run went with the site, and the 2 files left were not tried"
        in err
    )
    assert "Add the site again (`railwatch site add`)" in err


def test_ingest_stac_stops_when_its_site_is_removed(
    tmp_db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pystac = pytest.importorskip("pystac")
    pytest.importorskip("pystac_client")
    import railwatch.stac as stac_module
    from test_stac import make_cog, site_db
    from test_stac_qa_sources import item_doc

    db = site_db(tmp_db_url)
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
    with pytest.raises(NotFoundError) as caught:
        stac_module.ingest_stac(db, "yard", str(tmp_path / "cat" / "catalog.json"))
    text = str(caught.value)
    assert len(tried) == 2
    assert text.startswith(
        "site 'yard' was removed while its images were being ingested (by another railwatch "
        "command or the dashboard), so the batch stopped at item "
    )
    assert "the 1 item stored by this run went with the site, and the rest were not tried" in text
