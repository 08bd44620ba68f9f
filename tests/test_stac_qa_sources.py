"""STAC ingest of local static sources: a catalog, a collection, a single item and an
item collection (FeatureCollection) file, relative asset hrefs, and bad JSON at the
top or inside a catalog."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from railwatch.storage import Database, repo

pystac = pytest.importorskip("pystac")
pytest.importorskip("pystac_client")

from test_stac import footprint, make_cog, site_db  # noqa: E402


def item_doc(ident: str, href: str, **props: Any) -> dict[str, Any]:
    return {
        "type": "Feature", "stac_version": "1.0.0", "id": ident, "geometry": footprint(),
        "properties": {"datetime": "2023-10-01T02:13:00Z", "gsd": 0.5, **props},
        "assets": {"image": {"href": href, "type": "image/tiff", "roles": ["data"]}},
        "links": [],
    }  # fmt: skip


def stac_ids(db: Database) -> list[str]:
    with db.session(readonly=True) as s:
        return sorted(sc.meta["stac_id"] for sc in repo.list_scenes(s, "yard"))


def test_collection_item_and_item_collection_files(tmp_db_url: str, tmp_path: Path) -> None:
    """A collection.json, an item JSON or an item collection was refused: "Could not
    open Client ..., expected type=Catalog, found type=Collection" (or Feature,
    FeatureCollection)."""
    from railwatch.stac import ingest_stac

    make_cog(tmp_path / "a.tif", 0)
    db = site_db(tmp_db_url)
    extent = pystac.Extent(
        pystac.SpatialExtent([[-180, -90, 180, 90]]), pystac.TemporalExtent([[None, None]])
    )
    coll = pystac.Collection("yards", "test", extent)
    coll.add_item(pystac.Item.from_dict(item_doc("c1", str(tmp_path / "a.tif"))))
    coll.normalize_hrefs(str(tmp_path / "coll"))
    coll.save(pystac.CatalogType.SELF_CONTAINED)
    summary = ingest_stac(db, "yard", str(tmp_path / "coll" / "collection.json"))
    assert [e["file"] for e in summary.ingested] == ["yards/c1"], summary.as_dict()
    # An item file with a relative asset href, given by a relative path (another image:
    # one image is one scene).
    make_cog(tmp_path / "a2.tif", 2)
    (tmp_path / "one.json").write_text(json.dumps(item_doc("i1", "./a2.tif")))
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(tmp_path)
        summary = ingest_stac(db, "yard", "one.json")
    assert [e["uri"] for e in summary.ingested] == [str(tmp_path / "a2.tif")], summary.as_dict()
    # An item collection (a saved search) with relative hrefs; a bad feature fails alone.
    sub = tmp_path / "sub"
    sub.mkdir()
    make_cog(sub / "b.tif", 1)
    features = [item_doc("f1", "b.tif"), {"type": "Feature", "id": "broken"}]
    (sub / "items.json").write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    summary = ingest_stac(db, "yard", str(sub / "items.json"))
    assert [e["uri"] for e in summary.ingested] == [str(sub / "b.tif")], summary.as_dict()
    assert [e["file"] for e in summary.failed] == [f"{sub / 'items.json'} (feature 2)"]
    assert "cannot read this STAC item" in summary.failed[0]["reason"]
    assert stac_ids(db) == ["c1", "f1", "i1"]


def test_a_bad_item_in_a_catalog_fails_alone(tmp_db_url: str, tmp_path: Path) -> None:
    """A missing, malformed or invalid item file stopped the whole ingest ("reading items
    from ...: HREF ... does not resolve to a STAC object") after the items before it."""
    from railwatch.stac import ingest_stac

    db = site_db(tmp_db_url)
    cat = pystac.Catalog("c", "d")
    for k, ident in enumerate(("good1", "gone", "badjson", "nodate", "good2")):
        make_cog(tmp_path / f"{ident}.tif", k)  # one image is one scene: each its own
        cat.add_item(pystac.Item.from_dict(item_doc(ident, str(tmp_path / f"{ident}.tif"))))
    cat.normalize_hrefs(str(tmp_path / "cat"))
    cat.save(pystac.CatalogType.SELF_CONTAINED)
    (tmp_path / "cat" / "gone" / "gone.json").unlink()
    (tmp_path / "cat" / "badjson" / "badjson.json").write_text("{oops")
    nodate = tmp_path / "cat" / "nodate" / "nodate.json"
    doc = json.loads(nodate.read_text())
    doc["properties"]["datetime"] = None
    nodate.write_text(json.dumps(doc))
    summary = ingest_stac(db, "yard", str(tmp_path / "cat" / "catalog.json"))
    assert stac_ids(db) == ["good1", "good2"]
    reasons = {Path(e["file"]).stem: e["reason"] for e in summary.failed}
    assert "no such file; fix it, or remove the item link to it" in reasons["gone"]
    assert "not valid JSON (line 1, column 2" in reasons["badjson"]
    assert "start_datetime and end_datetime must be supplied" in reasons["nodate"]


@pytest.mark.parametrize(
    ("content", "says"),
    [
        ("[1, 2]", "its JSON is a list, not an object"),
        ('{"hello": 1}', 'its JSON has no "type", not a STAC Catalog, Collection, Item'),
        ('{"type": "Polygon"}', 'its JSON has "type": "Polygon", not a STAC Catalog'),
        ('{"type": "FeatureCollection"}', 'a FeatureCollection without a "features" list'),
        (b"II*\x00\xc0\xff", "not a text (JSON) file"),
        (
            json.dumps({**item_doc("x", "a.tif"), "properties": {"datetime": None}}),
            "cannot read STAC item",
        ),
    ],
)
def test_cli_bad_top_level_files_say_what_is_wrong(
    tmp_db_url: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    content: str | bytes,
    says: str,
) -> None:
    """A JSON list, a non-STAC object or a binary file gave "'list' object has no
    attribute 'get'", "found type=None" or a UTF-8 decoding error."""
    from railwatch.cli.main import main

    site_db(tmp_db_url).dispose()
    path = tmp_path / "in.json"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    capsys.readouterr()
    assert main(["--db", tmp_db_url, "ingest-stac", "yard", "--stac", str(path)]) == 1
    err = " ".join(capsys.readouterr().err.split())
    assert says in err and "Traceback" not in err, err
    assert stac_ids(Database(tmp_db_url)) == []
