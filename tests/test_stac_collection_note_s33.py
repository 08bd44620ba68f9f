"""``ingest-stac --collection`` that names no collection of the catalog (session 33: a new
analyst's ``--collection sentinel`` over a catalog of ``skysat-sim`` listed every item as
skipped and ended with status 0, as a catalog with nothing new does, without a word on
which collections the items are in)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

pystac = pytest.importorskip("pystac")
pytest.importorskip("pystac_client")

from test_stac import make_cog, site_db  # noqa: E402
from test_stac_qa22_summary import item, run  # noqa: E402


def _catalog(tmp_path: Path, collections: list[str | None]) -> str:
    catalog = pystac.Catalog("c", "a catalog")
    for k, collection in enumerate(collections):
        make_cog(tmp_path / f"{k}.tif", k)
        extra: dict[str, Any] = {} if collection is None else {"collection": collection}
        catalog.add_item(pystac.Item.from_dict(item(f"i{k}", str(tmp_path / f"{k}.tif"), **extra)))
    catalog.normalize_hrefs(str(tmp_path / "catalog"))
    catalog.save(pystac.CatalogType.SELF_CONTAINED)
    return str(tmp_path / "catalog" / "catalog.json")


def test_a_collection_id_no_item_is_in_names_the_items_collections(
    tmp_db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = _catalog(tmp_path, ["skysat-sim", "skysat-sim", "planet"])
    site_db(tmp_db_url).dispose()
    code, text = run(tmp_db_url, url, capsys, "--collection", "sentinel")
    assert code == 0, text  # as documented: no item taken is no failure
    assert "3 skipped" in text
    assert (
        "note: no item found is in the --collection given; the 3 items found are in "
        "planet, skysat-sim: check the collection id"
    ) in text
    # one item of the collection given: the others are skipped as before, no note
    code, text = run(tmp_db_url, url, capsys, "--collection", "planet")
    assert code == 0 and "1 new scene," in text, text
    assert "no item found is in the --collection given" not in text
