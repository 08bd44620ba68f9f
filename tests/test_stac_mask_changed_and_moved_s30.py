"""`ingest-stac` over an item whose scene's quality mask changed (or went away) since it
was registered, and which now names another mask: the scene took the new one, but the
item's line and `mask_taken` said only that the old one changed ('the scene takes the
item's mask as it is now'; `changed`), as if the same file had been taken as it is now.
Now both are said: the old mask's change and the new href taken."""

from __future__ import annotations

from pathlib import Path

import pytest

from railwatch.ingest import MASK_STAMP_KEY, mask_stamp

pytest.importorskip("pystac")
pytest.importorskip("pystac_client")

from test_integrity_stac_mask_s29 import _registered, _scene, item_with_mask, write_mask
from test_scene_identity_s29 import write_items


@pytest.mark.parametrize("old", ["changed", "went away"])
def test_a_changed_mask_and_a_new_href_are_both_said(
    tmp_db_url: str, tmp_path: Path, old: str
) -> None:
    from railwatch.stac import ingest_stac

    db, mask, catalog = _registered(tmp_db_url, tmp_path)
    before = _scene(db)
    if old == "changed":
        write_mask(mask, cloud_rows=8)
    else:
        mask.unlink()
    new = write_mask(tmp_path / "a.v2.mask.tif", cloud_rows=16)
    write_items(Path(catalog), item_with_mask("a", tmp_path / "a.tif", new))
    [entry] = ingest_stac(db, "yard", catalog).duplicates
    assert entry["reason"] == (
        f"already ingested as scene {before.id}; its quality mask {mask} {old} since it "
        f"was registered, and the item names another quality mask now, {new}: the scene "
        "takes it, and `railwatch process` counts it again"
    )
    assert entry["mask_taken"] == f"{old}, other href"
    after = _scene(db)
    assert after.mask_uri == str(new) and after.meta[MASK_STAMP_KEY] == mask_stamp(str(new))


def test_a_changed_mask_still_named_says_it_is_taken_as_it_is_now(
    tmp_db_url: str, tmp_path: Path
) -> None:
    from railwatch.stac import ingest_stac

    db, mask, catalog = _registered(tmp_db_url, tmp_path)
    write_mask(mask, cloud_rows=8)
    [entry] = ingest_stac(db, "yard", catalog).duplicates
    assert entry["reason"].endswith(
        f"its quality mask {mask} changed since it was registered: the scene takes the "
        "item's mask as it is now, and `railwatch process` counts it again"
    )
    assert entry["mask_taken"] == "changed"
