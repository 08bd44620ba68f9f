"""One image is one scene of a site, whichever route reached it: two STAC items naming
the same asset href (local or http), a file ingested both from a STAC catalog and by
`railwatch ingest` (either order, also as a copy at another path), re-runs of both, and a
database whose STAC scenes were registered under the item's identity before session 29
(re-runs find them, nothing new is recorded, their identity stays)."""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from railwatch.ingest import FILE_STAMP_KEY, ingest_paths
from railwatch.storage import Database, repo

pystac = pytest.importorskip("pystac")
pytest.importorskip("pystac_client")

import test_stac  # noqa: E402
from test_stac import footprint, make_cog, site_db  # noqa: E402

files_server = test_stac.files_server  # the fixture: a static HTTP server with Range reads

#: The metadata key listing the other STAC items of a scene (docs/storage.md).
STAC_ALIASES_KEY = "stac_aliases"
WHEN = datetime(2023, 10, 1, 2, 13, tzinfo=UTC)


def stac_item(
    ident: str, href: str, *, collection: str | None = "yards", checksum: str | None = None
) -> dict[str, Any]:
    asset: dict[str, Any] = {"href": href, "type": "image/tiff; application=geotiff"}
    if checksum is not None:
        asset["file:checksum"] = checksum
    doc: dict[str, Any] = {
        "type": "Feature", "stac_version": "1.0.0", "id": ident, "geometry": footprint(),
        "properties": {"datetime": "2023-10-01T02:13:00Z", "gsd": 0.5, "eo:cloud_cover": 3.0},
        "assets": {"image": asset}, "links": [],
    }  # fmt: skip
    if collection is not None:
        doc["collection"] = collection
    return doc


def write_items(path: Path, *items: dict[str, Any]) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"type": "FeatureCollection", "features": list(items)}))
    return str(path)


def scenes(db: Database) -> list[Any]:
    with db.session(readonly=True) as s:
        return list(repo.list_scenes(s, "yard"))


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def multihash(path: Path) -> str:
    return "1220" + sha256(path)


@pytest.fixture
def hashes(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Path]]:
    """The files hashed (``file_sha256``) from now on."""
    from railwatch.imagery import inspect

    seen: list[Path] = []
    real = inspect.file_sha256

    def counting(path: Path) -> str:
        seen.append(Path(path))
        return real(path)

    monkeypatch.setattr(inspect, "file_sha256", counting)
    monkeypatch.setattr("railwatch.imagery.file_sha256", counting, raising=False)
    yield seen


def test_two_items_with_one_local_asset_are_one_scene(tmp_db_url: str, tmp_path: Path) -> None:
    """(a) A re-published item (another collection and id) whose image asset is the same
    file, named by an absolute and by a relative href: one scene, the second item filed as
    already ingested with why, and listed among the scene's aliases; the first item's
    metadata stay."""
    from railwatch.stac import ingest_stac

    (tmp_path / "data").mkdir()
    image = make_cog(tmp_path / "data" / "a.tif", 0)
    first = write_items(tmp_path / "cat1" / "items.json", stac_item("a", str(image)))
    second = write_items(
        tmp_path / "cat2" / "items.json",
        stac_item("a-v2", "../data/a.tif", collection="archive"),
    )
    db = site_db(tmp_db_url)
    one = ingest_stac(db, "yard", first)
    assert len(one.ingested) == 1 and not one.failed, one.as_dict()
    sid = one.ingested[0]["scene_id"]
    two = ingest_stac(db, "yard", second)
    assert not two.ingested and not two.failed, two.as_dict()
    (dup,) = two.duplicates
    assert dup["scene_id"] == sid
    assert (
        dup["reason"] == f"already ingested as scene {sid} (same asset href as STAC item yards/a)"
    )
    assert dup["matched"] == "same asset href"
    (scene,) = scenes(db)
    assert scene.meta["stac_id"] == "a" and scene.meta["stac_collection"] == "yards"
    assert scene.meta[STAC_ALIASES_KEY] == ["archive/a-v2"]
    assert scene.content_hash == sha256(image)  # a local asset: its file's SHA-256
    # both items in one catalog, run again: nothing new, the alias not listed twice
    both = write_items(
        tmp_path / "cat3" / "items.json",
        stac_item("a", str(image)),
        stac_item("a-v2", str(image), collection="archive"),
    )
    again = ingest_stac(db, "yard", both)
    assert not again.ingested and len(again.duplicates) == 2, again.as_dict()
    assert again.duplicates[0]["reason"] == f"already ingested as scene {sid}"
    assert [sc.meta[STAC_ALIASES_KEY] for sc in scenes(db)] == [["archive/a-v2"]]


def test_two_items_with_one_http_asset_are_one_scene(
    tmp_db_url: str, tmp_path: Path, files_server: tuple[str, Path]
) -> None:
    """(a) Over http: an item without a checksum naming the href of an item already
    registered is that scene (two scenes of one URL would both read its bytes); the
    scene keeps the item's identity (a remote asset is not hashed), as before."""
    from railwatch.stac import ingest_stac

    base, root = files_server
    image = make_cog(root / "a.tif", 0)
    href = f"{base}/a.tif"
    db = site_db(tmp_db_url)
    one = ingest_stac(db, "yard", write_items(tmp_path / "1.json", stac_item("a", href)))
    assert len(one.ingested) == 1, one.as_dict()
    sid = one.ingested[0]["scene_id"]
    two = ingest_stac(
        db, "yard", write_items(tmp_path / "2.json", stac_item("a", href, collection="mirror"))
    )
    assert not two.ingested and len(two.duplicates) == 1, two.as_dict()
    assert two.duplicates[0]["reason"] == (
        f"already ingested as scene {sid} (same asset href as STAC item yards/a)"
    )
    assert len(scenes(db)) == 1
    assert scenes(db)[0].content_hash != sha256(image)  # remote: the item's identity, as before


def test_local_file_then_stac_item_is_one_scene(
    tmp_db_url: str, tmp_path: Path, hashes: list[Path]
) -> None:
    """(b) A file ingested by `railwatch ingest`, then reached through a local STAC item
    (its path; a copy of it at another path): one scene; re-runs of both add nothing,
    and the STAC re-run hashes no file."""
    from railwatch.stac import ingest_stac

    image = make_cog(tmp_path / "a.tif", 0)
    copy = tmp_path / "copies" / "a-copy.tif"
    copy.parent.mkdir()
    shutil.copy(image, copy)
    db = site_db(tmp_db_url)
    local = ingest_paths(db, "yard", [image], date=WHEN)
    assert len(local.ingested) == 1, local.as_dict()
    sid = local.ingested[0]["scene_id"]
    url = write_items(
        tmp_path / "items.json", stac_item("a", str(image)), stac_item("c", str(copy))
    )
    stac = ingest_stac(db, "yard", url)
    assert not stac.ingested and not stac.failed, stac.as_dict()
    same, other = stac.duplicates
    assert same["reason"] == (
        f"already ingested as scene {sid} (same file content as file {image.resolve()})"
    )
    assert other["scene_id"] == sid and other["matched"] == "same file content"
    (scene,) = scenes(db)
    assert scene.meta[STAC_ALIASES_KEY] == ["yards/a", "yards/c"]
    assert "stac_collection" not in scene.meta  # the first route's description stays
    hashes.clear()
    again = ingest_stac(db, "yard", url)
    assert not again.ingested and len(again.duplicates) == 2, again.as_dict()
    assert hashes == [copy]  # the copy is not the scene's path: hashed to be known
    local_again = ingest_paths(db, "yard", [image, copy], date=WHEN)
    assert not local_again.ingested and len(local_again.duplicates) == 2
    assert len(scenes(db)) == 1


def test_stac_item_then_local_file_is_one_scene(
    tmp_db_url: str, tmp_path: Path, hashes: list[Path]
) -> None:
    """(b) A local STAC item's file, then `railwatch ingest` of it (and of a copy): one
    scene, described by the item; re-runs of both add nothing, and a re-run of the STAC
    ingest hashes no file."""
    from railwatch.stac import ingest_stac

    image = make_cog(tmp_path / "a.tif", 0)
    copy = tmp_path / "elsewhere.tif"
    shutil.copy(image, copy)
    url = write_items(tmp_path / "items.json", stac_item("a", image.as_uri()))
    db = site_db(tmp_db_url)
    stac = ingest_stac(db, "yard", url)
    assert len(stac.ingested) == 1, stac.as_dict()
    sid = stac.ingested[0]["scene_id"]
    (scene,) = scenes(db)
    assert scene.content_hash == sha256(image)
    assert set(scene.meta[FILE_STAMP_KEY]) == {"size", "mtime_ns", "ctime_ns"}
    local = ingest_paths(db, "yard", [image, copy], date=WHEN)
    assert not local.ingested and not local.failed, local.as_dict()
    for dup in local.duplicates:
        assert dup["reason"] == (
            f"already ingested as scene {sid} (same file content as STAC item yards/a)"
        )
    (scene,) = scenes(db)
    assert scene.meta["stac_id"] == "a" and scene.meta["cloud_cover"] == 3.0
    hashes.clear()
    again = ingest_stac(db, "yard", url)
    assert not again.ingested and again.duplicates[0]["reason"] == (
        f"already ingested as scene {sid}"
    )
    assert hashes == []
    assert not ingest_paths(db, "yard", [image], date=WHEN).ingested
    assert len(scenes(db)) == 1
    # The file replaced by another image: still the item's scene (one path, one scene,
    # as before), and `railwatch ingest` says the file is not the one registered.
    make_cog(image, 5)
    rerun = ingest_stac(db, "yard", url)
    assert not rerun.ingested and rerun.duplicates[0]["scene_id"] == sid, rerun.as_dict()
    replaced = ingest_paths(db, "yard", [image], date=WHEN)
    assert not replaced.ingested and replaced.duplicates[0]["reason"] == (
        f"already ingested as scene {sid} (same asset href as STAC item yards/a); the file "
        "is no longer the one that item registered (its SHA-256 differs): it was replaced "
        "since, and the scene reads it as it is now"
    )
    assert len(scenes(db)) == 1


def test_a_database_from_before_keeps_its_scenes(
    tmp_db_url: str, tmp_path: Path, hashes: list[Path]
) -> None:
    """A scene registered from a local STAC item before session 29 carries the item's
    identity (SHA-256 of ``stac-item:COLLECTION/ID:HREF``), not its file's. A re-run finds
    it without hashing; another item with the same href and `railwatch ingest` of the
    file are that scene; its content_hash (its identity, which reviews name) stays."""
    from railwatch.stac import ingest_stac

    image = make_cog(tmp_path / "a.tif", 0)
    url = write_items(tmp_path / "items.json", stac_item("a", str(image)))
    db = site_db(tmp_db_url)
    assert len(ingest_stac(db, "yard", url).ingested) == 1
    legacy = hashlib.sha256(f"stac-item:yards/a:{image}".encode()).hexdigest()
    with db.session() as s:  # the row as railwatch wrote it before session 29
        (scene,) = repo.list_scenes(s, "yard")
        scene.content_hash = legacy
        scene.meta = {k: v for k, v in scene.meta.items() if k != FILE_STAMP_KEY}
        sid = scene.id
    hashes.clear()
    again = ingest_stac(db, "yard", url)
    assert not again.ingested and again.duplicates[0]["reason"] == (
        f"already ingested as scene {sid}"
    )
    assert hashes == []
    other = ingest_stac(
        db, "yard", write_items(tmp_path / "o.json", stac_item("b", str(image), collection=None))
    )
    assert not other.ingested and other.duplicates[0]["reason"] == (
        f"already ingested as scene {sid} (same asset href as STAC item yards/a)"
    )
    local = ingest_paths(db, "yard", [image], date=WHEN)
    assert not local.ingested and not local.failed, local.as_dict()
    assert local.duplicates[0]["reason"] == (
        f"already ingested as scene {sid} (same asset href as STAC item yards/a)"
    )
    (scene,) = scenes(db)
    assert scene.content_hash == legacy and scene.meta[STAC_ALIASES_KEY] == ["-/b"]


def test_checksums_still_tell_images_apart(tmp_db_url: str, tmp_path: Path) -> None:
    """An item with a ``file:checksum`` keeps it as its identity (its file is not
    hashed): a copy ingested by `railwatch ingest` before is found by it; a second item
    naming that copy by its path, without a checksum, is that scene too."""
    from railwatch.stac import ingest_stac

    image = make_cog(tmp_path / "a.tif", 0)
    moved = tmp_path / "b.tif"
    shutil.copy(image, moved)
    db = site_db(tmp_db_url)
    sid = ingest_paths(db, "yard", [moved], date=WHEN).ingested[0]["scene_id"]
    url = write_items(
        tmp_path / "items.json", stac_item("a", str(image), checksum=multihash(image))
    )
    stac = ingest_stac(db, "yard", url)
    assert not stac.ingested and stac.duplicates[0]["scene_id"] == sid, stac.as_dict()
    # a second item naming the moved file by path is that scene too
    other = ingest_stac(db, "yard", write_items(tmp_path / "b.json", stac_item("b", str(moved))))
    assert not other.ingested and other.duplicates[0]["scene_id"] == sid, other.as_dict()
    assert len(scenes(db)) == 1
