"""STAC ingest of local items: which asset is the image and which the mask, items
dated by a start/end range, an asset file that is missing or not an image, and
re-running the same ingest."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from railwatch.storage import Database, repo

pystac = pytest.importorskip("pystac")
pytest.importorskip("pystac_client")

from test_stac import footprint, make_cog, site_db  # noqa: E402


def write_items(path: Path, items: list[dict[str, Any]]) -> str:
    path.write_text(json.dumps({"type": "FeatureCollection", "features": items}))
    return str(path)


def item(ident: str, assets: dict[str, Any], **props: Any) -> dict[str, Any]:
    return {
        "type": "Feature", "stac_version": "1.0.0", "id": ident, "geometry": footprint(),
        "properties": {"datetime": "2023-10-01T02:13:00Z", "gsd": 0.5, **props},
        "assets": assets, "links": [],
    }  # fmt: skip


def tif(href: str, *roles: str) -> dict[str, Any]:
    return {"href": href, "type": "image/tiff; application=geotiff", "roles": list(roles)}


def scene_rows(db: Database) -> list[Any]:
    with db.session(readonly=True) as s:
        return list(repo.list_scenes(s, "yard"))


def test_asset_choice_date_range_and_rerun(tmp_db_url: str, tmp_path: Path) -> None:
    from railwatch.stac import ingest_stac

    make_cog(tmp_path / "visual.tif", 0)
    make_cog(tmp_path / "analytic.tif", 1)
    make_cog(tmp_path / "udm2.tif", 2)
    make_cog(tmp_path / "ranged.tif", 3)  # one image is one scene: "r" has its own
    assets = {
        "thumbnail": {"href": "t.png", "type": "image/png", "roles": ["thumbnail"]},
        "udm2": tif("udm2.tif", "data-mask"),
        "analytic": tif("analytic.tif", "data"),
        "visual": tif("visual.tif", "visual"),
    }
    dates = {"start_datetime": "2023-09-10T00:00:00Z", "end_datetime": "2023-09-12T00:00:00Z"}
    ranged = item("r", {"visual": tif("ranged.tif", "visual")}, datetime=None, **dates)
    url = write_items(tmp_path / "items.json", [item("m", assets), ranged])
    db = site_db(tmp_db_url)
    first = ingest_stac(db, "yard", url)
    assert not first.failed, first.as_dict()
    by_id = {sc.meta["stac_id"]: sc for sc in scene_rows(db)}
    assert by_id["m"].uri == str(tmp_path / "visual.tif")  # visual before analytic
    assert by_id["m"].mask_uri == str(tmp_path / "udm2.tif")
    assert by_id["r"].acquired_at.isoformat().startswith("2023-09-10T00:00")
    again = ingest_stac(db, "yard", url)
    assert not again.ingested and len(again.duplicates) == 2, again.as_dict()
    chosen = ingest_stac(db, "yard", url, asset="analytic")
    assert [e["uri"] for e in chosen.ingested] == [str(tmp_path / "analytic.tif")]
    assert "has no asset 'analytic'" in chosen.failed[0]["reason"]  # item r
    assert len(scene_rows(db)) == 3


def test_missing_or_unreadable_asset_says_what_to_do(
    tmp_db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A missing asset said "cannot read the header of X: X: No such file or
    directory", naming the file twice and not what to do."""
    from railwatch.cli.main import main

    make_cog(tmp_path / "a.tif", 0)
    shutil.copy(tmp_path / "a.tif", tmp_path / "b.tif")
    (tmp_path / "junk.tif").write_text("not a tiff")
    url = write_items(
        tmp_path / "items.json",
        [item("ok", {"image": tif("a.tif")}), item("gone", {"image": tif("sub/nope.tif")}),
         item("junk", {"image": tif("junk.tif")})],
    )  # fmt: skip
    site_db(tmp_db_url).dispose()
    capsys.readouterr()
    # Two of three items failed: status 1 (it was 0 while one was ingested).
    assert main(["--db", tmp_db_url, "ingest-stac", "yard", "--stac", url, "--json"]) == 1
    out = json.loads(capsys.readouterr().out)
    reasons = {e["file"]: e["reason"] for e in out["failed"]}
    nope = tmp_path / "sub" / "nope.tif"
    assert reasons["-/gone"] == (
        f"its image asset {nope} does not exist; check the item's asset href (a relative "
        "one resolves against the item JSON's folder), or pick another asset with --asset"
    )
    assert reasons["-/junk"].startswith(f"cannot read the header of {tmp_path / 'junk.tif'}: ")
    assert str(tmp_path / "junk.tif") not in reasons["-/junk"].split(": ", 1)[1]
    assert reasons["-/junk"].endswith("or pick another asset with --asset")
    assert [e["file"] for e in out["ingested"]] == ["-/ok"]
