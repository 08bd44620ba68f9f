"""``railwatch ingest`` on folders as analysts keep them: --date given for a folder of
dated files, the same bytes under a dated and an undated name, broken links, links to
folders (and one back up the tree), hidden files, two sites, a re-run after a failure."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import shapely
from pyproj import Transformer
from shapely.geometry import mapping

from helpers import make_geotiff
from railwatch.cli.main import main
from railwatch.imagery.scan import scan_paths

UTM = "EPSG:32652"
ORIGIN = (632_000.0, 4_683_000.0)
SITE_UTM = shapely.box(632_050.0, 4_682_850.0, 632_150.0, 4_682_950.0)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def db(tmp_path: Path, tmp_db_url: str, capsys: pytest.CaptureFixture[str]) -> str:
    tr = Transformer.from_crs(UTM, "EPSG:4326", always_xy=True)
    site = shapely.transform(SITE_UTM, lambda xy: np.column_stack(tr.transform(xy[:, 0], xy[:, 1])))
    geojson = tmp_path / "site.geojson"
    geojson.write_text(json.dumps(mapping(site)))
    for name in ("tum", "other"):
        code, _, err = run(
            capsys, "--db", tmp_db_url, "site", "add", name, "--geojson", str(geojson)
        )
        assert code == 0, err
    return tmp_db_url


def image(path: Path, seed: int, **kw: Any) -> Path:
    data = np.random.default_rng(seed).integers(20, 230, size=(3, 200, 200), dtype=np.uint8)
    return make_geotiff(
        path, crs=UTM, origin=ORIGIN, gsd=1.0, width=200, height=200, data=data, **kw
    )


def ingest(capsys: pytest.CaptureFixture[str], db: str, *args: str) -> tuple[int, dict[str, Any]]:
    code, out, err = run(capsys, "--db", db, "ingest", *args, "--json")
    assert "Traceback" not in out + err
    return code, json.loads(out)


def by_file(entries: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {Path(e["file"]).name: e for e in entries}


def test_date_option_fills_in_only_files_without_a_date(
    tmp_path: Path, db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """`ingest SITE FOLDER --date D` gave every file D, also those dated by their name or
    tags, collapsing the series to one day (the help says it is for files without one)."""
    folder = tmp_path / "imgs"
    image(folder / "yard_20231005.tif", 1)
    image(folder / "yard_20231006T021300.tif", 2)
    image(folder / "undated.tif", 3)
    code, out = ingest(capsys, db, "tum", str(folder), "--date", "2023-10-07T09:00+09:00")
    assert code == 0
    got = by_file(out["ingested"])
    assert got["yard_20231005.tif"]["acquired_at"] == "2023-10-05T03:00:00+00:00"  # noon UTC+9
    assert got["yard_20231006T021300.tif"]["acquired_at"] == "2023-10-06T02:13:00+00:00"
    assert "--date is for files that carry none" in got["yard_20231005.tif"]["note"]
    assert got["undated.tif"]["acquired_at"] == "2023-10-07T00:00:00+00:00"
    assert got["undated.tif"]["date_source"] == "option" and "note" not in got["undated.tif"]
    # the table says which files kept their own date
    image(folder / "yard_20231008.tif", 4)
    code, text, _ = run(capsys, "--db", db, "ingest", "tum", str(folder), "--date", "2023-10-07")
    assert code == 0
    assert "1 file kept its own date" in " ".join(text.split())
    assert "yard_20231008.tif: 2023-10-08 03:00 UTC (from filename)" in text


def test_undated_copy_of_a_dated_file_is_a_duplicate_whatever_the_order(
    tmp_path: Path, db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """`a_copy.tif` (sorted first) failed for want of a date, or took --date, while the
    same bytes as `yard_20231005.tif` were ingested right after it."""
    folder = tmp_path / "imgs"
    dated = image(folder / "yard_20231005.tif", 1)
    (folder / "a_copy.tif").write_bytes(dated.read_bytes())
    code, out = ingest(capsys, db, "tum", str(folder))
    assert code == 0 and not out["failed"]
    assert [e["acquired_at"][:10] for e in out["ingested"]] == ["2023-10-05"]
    assert by_file(out["duplicates"])["a_copy.tif"]["scene_id"] == out["ingested"][0]["scene_id"]
    code, out = ingest(capsys, db, "other", str(folder), "--date", "2024-01-01")
    assert [e["acquired_at"][:10] for e in out["ingested"]] == ["2023-10-05"]
    assert list(by_file(out["duplicates"])) == ["a_copy.tif"]


def test_links_hidden_files_and_loops(
    tmp_path: Path, db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    store = tmp_path / "store"
    image(store / "linked_20231009.tif", 9)
    folder = tmp_path / "imgs"
    image(folder / "sub" / "deep" / "yard_20231005.tif", 1)
    image(folder / ".hidden" / "yard_20231006.tif", 2)
    image(folder / ".yard_20231007.tif", 3)
    (folder / "store").symlink_to(store)  # a link to a folder: was not searched
    (folder / "sub" / "up").symlink_to(folder)  # a loop: searched once
    (folder / "broken_20231011.tif").symlink_to(folder / "gone.tif")
    assert sorted(p.name for p in scan_paths([folder])) == [
        "broken_20231011.tif",
        "linked_20231009.tif",
        "yard_20231005.tif",
    ]
    code, out = ingest(capsys, db, "tum", str(folder))
    assert code == 1  # the broken link failed (the others are kept); was 0 before session 22
    assert sorted(e["acquired_at"][:10] for e in out["ingested"]) == ["2023-10-05", "2023-10-09"]
    (failed,) = out["failed"]
    # was "unexpected error: FileNotFoundError: [Errno 2] ..."
    assert "broken_20231011.tif is a broken link" in failed["reason"]
    assert "fix the link or remove it" in failed["reason"]


def test_rerun_after_a_failed_ingest_and_two_sites(
    tmp_path: Path, db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "imgs"
    bare = image(folder / "bare.tif", 1)
    (folder / "corrupt_20231006.tif").write_bytes(b"II*\x00" + b"\x00" * 100)
    # corrupt for long: written to just now, it is taken as a copy still running (session 49)
    long_ago = time.time() - 3600
    os.utime(folder / "corrupt_20231006.tif", (long_ago, long_ago))
    code, out = ingest(capsys, db, "tum", str(folder))
    assert code == 1 and len(out["failed"]) == 2 and not out["ingested"]
    reasons = by_file(out["failed"])
    assert "--date YYYY-MM-DD on the command line" in reasons["bare.tif"]["reason"]
    assert "corrupt or truncated" in reasons["corrupt_20231006.tif"]["reason"]
    # fixed and run again: ingested once, nothing left over from the failed run
    (folder / "corrupt_20231006.tif").unlink()
    bare.rename(folder / "bare_20231005.tif")
    code, out = ingest(capsys, db, "tum", str(folder))
    assert code == 0 and len(out["ingested"]) == 1 and not out["failed"]
    code, out = ingest(capsys, db, "other", str(folder))  # the same file to another site
    assert code == 0 and len(out["ingested"]) == 1
    code, text, _ = run(capsys, "--db", db, "scene", "list", "tum", "--json")
    assert [s["acquired_at"][:10] for s in json.loads(text)] == ["2023-10-05"]
