"""``ingest-stac``: the exit status when some items fail, and a summary that accounts
for every item found (items outside the site, of another collection or without a
geometry were dropped from a static catalog without a word)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from railwatch.storage import Database, repo

pystac = pytest.importorskip("pystac")
pytest.importorskip("pystac_client")

from test_stac import footprint, make_cog, site_db  # noqa: E402


def item(ident: str, href: str, *, dx: float = 0.0, **extra: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "type": "Feature", "stac_version": "1.0.0", "id": ident, "geometry": footprint(dx),
        "properties": {"datetime": "2023-10-01T02:13:00Z", "gsd": 0.5},
        "assets": {"image": {"href": href, "type": "image/tiff", "roles": ["data"]}},
        "links": [],
    }  # fmt: skip
    doc.update(extra)
    return doc


def write_items(path: Path, items: list[dict[str, Any]]) -> str:
    path.write_text(json.dumps({"type": "FeatureCollection", "features": items}))
    return str(path)


def stac_ids(db: Database) -> list[str]:
    with db.session(readonly=True) as s:
        return sorted(sc.meta["stac_id"] for sc in repo.list_scenes(s, "yard"))


def run(db_url: str, url: str, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    from railwatch.cli.main import main

    capsys.readouterr()
    code = main(["--db", db_url, "ingest-stac", "yard", "--stac", url, *args])
    captured = capsys.readouterr()
    return code, " ".join((captured.out + captured.err).split())


def test_partial_failure_exits_1_and_keeps_the_scenes_registered(
    tmp_db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """One item ingested and one failed exited 0: a script could not tell that an item
    was missing. Now any failed item is status 1, after the summary, and the scenes
    that were registered stay; a second run registers nothing twice."""
    make_cog(tmp_path / "a.tif", 0)
    url = write_items(tmp_path / "items.json", [item("ok", "a.tif"), item("gone", "missing.tif")])
    db = site_db(tmp_db_url)
    code, text = run(tmp_db_url, url, capsys)
    assert code == 1, text
    assert "2 STAC items found: 1 new scene, 0 already there, 0 skipped, 1 failed" in text
    assert "failed -/gone: its image asset" in text
    assert "error: 1 of 2 STAC items failed (listed above with the reason); the 1 new " in text
    assert "items already registered are not registered twice" in text
    assert stac_ids(db) == ["ok"]
    # --json: the JSON on stdout, the same status.
    from railwatch.cli.main import main

    capsys.readouterr()
    assert main(["--db", tmp_db_url, "ingest-stac", "yard", "--stac", url, "--json"]) == 1
    out = json.loads(capsys.readouterr().out)
    assert [e["file"] for e in out["duplicates"]] == ["-/ok"]
    assert [e["file"] for e in out["failed"]] == ["-/gone"]
    assert stac_ids(db) == ["ok"]


def test_no_failure_exits_0_also_when_nothing_is_found_or_all_are_skipped(
    tmp_db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    make_cog(tmp_path / "a.tif", 0)
    url = write_items(tmp_path / "items.json", [item("ok", "a.tif")])
    site_db(tmp_db_url).dispose()
    code, text = run(tmp_db_url, url, capsys)
    assert code == 0 and "1 STAC item found: 1 new scene," in text, text
    code, text = run(tmp_db_url, url, capsys, "--since", "2024-01-01")
    assert code == 0 and "1 skipped" in text, text
    assert (
        "skipped -/ok: acquired 2023-10-01 02:13 UTC, before --since 2024-01-01 00:00 UTC" in text
    )
    empty = write_items(tmp_path / "empty.json", [])
    code, text = run(tmp_db_url, empty, capsys)
    assert code == 0, text
    assert f"yard: no STAC item found at {empty} for this site" in text


def test_every_item_of_a_static_catalog_is_accounted_for(
    tmp_db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Items of a static catalog outside the site, of another collection than
    --collection, or without a geometry, were dropped before the summary: "1 new
    scene(s), 0 already there, 0 skipped, 0 failed" for a catalog of four items."""
    make_cog(tmp_path / "a.tif", 0)
    make_cog(tmp_path / "b.tif", 1)  # one image is one scene: "other" has its own
    catalog = pystac.Catalog("c", "a catalog of four items")
    for doc in (
        item("in", str(tmp_path / "a.tif"), collection="yards"),
        item("far", str(tmp_path / "a.tif"), dx=5000.0, collection="yards"),
        item("other", str(tmp_path / "b.tif"), collection="ports"),
        item("nogeom", str(tmp_path / "a.tif"), collection="yards", geometry=None),
    ):
        if doc["geometry"] is None:
            doc.pop("bbox", None)
        catalog.add_item(pystac.Item.from_dict(doc))
    catalog.normalize_hrefs(str(tmp_path / "catalog"))
    catalog.save(pystac.CatalogType.SELF_CONTAINED)
    url = str(tmp_path / "catalog" / "catalog.json")
    db = site_db(tmp_db_url)
    code, text = run(tmp_db_url, url, capsys, "--collection", "yards")
    assert code == 0, text
    assert "4 STAC items found: 1 new scene, 0 already there, 3 skipped, 0 failed" in text
    assert "skipped yards/far: outside the site (its footprint does not meet site yard)" in text
    assert "skipped ports/other: in collection ports, not in --collection yards" in text
    assert "skipped yards/nogeom: no geometry" in text
    assert stac_ids(db) == ["in"]
    # The library's summary (and --json) has every item in exactly one list.
    from railwatch.stac import ingest_stac

    summary = ingest_stac(db, "yard", url)
    listed = summary.duplicates + summary.skipped + summary.failed + summary.ingested
    assert sorted(e["file"] for e in listed) == [
        "ports/other", "yards/far", "yards/in", "yards/nogeom",
    ]  # fmt: skip
    assert [e["file"] for e in summary.duplicates] == ["yards/in"]
    assert [e["file"] for e in summary.ingested] == ["ports/other"]  # no --collection
    assert not summary.failed


def test_many_skipped_items_are_listed_up_to_20_on_screen(
    tmp_db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    make_cog(tmp_path / "a.tif", 0)
    items = [item(f"far{k:02d}", "a.tif", dx=5000.0 + k) for k in range(25)]
    url = write_items(tmp_path / "items.json", items)
    site_db(tmp_db_url).dispose()
    code, text = run(tmp_db_url, url, capsys)
    assert code == 0, text
    assert "25 STAC items found: 0 new scenes, 0 already there, 25 skipped" in text
    assert text.count("skipped -/far") == 20
    assert "... and 5 more skipped (--json lists them all)" in text
