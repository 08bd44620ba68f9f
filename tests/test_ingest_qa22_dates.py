"""``railwatch ingest --date D --force-date``: a file's own date is wrong (a TIFF DateTime
that is the processing day, a name with an export date), and the analyst dates it; also
files already ingested, which are dated anew."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import shapely
from pyproj import Transformer
from shapely.geometry import mapping

from helpers import make_geotiff
from railwatch.cli.main import main
from railwatch.storage import Database, repo

UTM = "EPSG:32652"
ORIGIN = (632_000.0, 4_683_000.0)
SITE_UTM = shapely.box(632_050.0, 4_682_850.0, 632_150.0, 4_682_950.0)
# A TIFF DateTime written by the software that made the file, not the satellite.
PROCESSED = {"TIFFTAG_DATETIME": "2024:01:15 10:30:00"}


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, " ".join(err.split())


@pytest.fixture
def db(tmp_path: Path, tmp_db_url: str, capsys: pytest.CaptureFixture[str]) -> str:
    tr = Transformer.from_crs(UTM, "EPSG:4326", always_xy=True)
    site = shapely.transform(SITE_UTM, lambda xy: np.column_stack(tr.transform(xy[:, 0], xy[:, 1])))
    geojson = tmp_path / "site.geojson"
    geojson.write_text(json.dumps(mapping(site)))
    code, _, err = run(capsys, "--db", tmp_db_url, "site", "add", "tum", "--geojson", str(geojson))
    assert code == 0, err
    return tmp_db_url


def image(path: Path, seed: int, **kw: Any) -> Path:
    data = np.random.default_rng(seed).integers(20, 230, size=(3, 200, 200), dtype=np.uint8)
    return make_geotiff(
        path, crs=UTM, origin=ORIGIN, gsd=1.0, width=200, height=200, data=data, **kw
    )


def ingest_json(
    capsys: pytest.CaptureFixture[str], db: str, *args: str
) -> tuple[int, dict[str, Any], str]:
    code, out, err = run(capsys, "--db", db, "ingest", *args, "--json")
    assert "Traceback" not in out + err
    return code, (json.loads(out) if out.strip() else {}), err


def by_file(entries: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {Path(e["file"]).name: e for e in entries}


def test_force_date_dates_files_over_their_own_date_and_keeps_it(
    tmp_path: Path, db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A file whose TIFF DateTime is the day it was processed was stored under that day,
    and --date could not change it (it is for files without a date)."""
    folder = tmp_path / "imgs"
    image(folder / "tagged.tif", 1, tags=PROCESSED)
    image(folder / "yard_20231006.tif", 2)
    image(folder / "undated.tif", 3)
    code, out, err = ingest_json(
        capsys, db, "tum", str(folder), "--date", "2023-10-05T02:13", "--force-date"
    )
    assert code == 0, err
    got = by_file(out["ingested"])
    assert {e["acquired_at"] for e in got.values()} == {"2023-10-05T02:13:00+00:00"}
    assert got["tagged.tif"]["date_source"] == "forced"
    assert got["tagged.tif"]["file_date"] == {
        "acquired_at": "2024-01-15T10:30:00+00:00",
        "date_source": "tiff-tag",
    }
    assert got["yard_20231006.tif"]["date_source"] == "forced"
    assert got["yard_20231006.tif"]["file_date"]["date_source"] == "filename"
    # a file without a date of its own got --date as it always did: nothing was replaced
    assert got["undated.tif"]["date_source"] == "option" and "file_date" not in got["undated.tif"]
    with Database(db).session() as s:
        scene = repo.get_scene(s, got["tagged.tif"]["scene_id"])
        assert scene.date_source == "forced"
        assert scene.acquired_at.isoformat() == "2023-10-05T02:13:00+00:00"
        assert scene.meta["file_date"]["acquired_at"] == "2024-01-15T10:30:00+00:00"


def test_force_date_output_says_which_file_got_which_date_from_where(
    tmp_path: Path, db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "imgs"
    image(folder / "tagged.tif", 1, tags=PROCESSED)
    image(folder / "undated.tif", 3)
    code, out, err = run(
        capsys, "--db", db, "ingest", "tum", str(folder), "--date", "2023-10-05", "--force-date"
    )
    text = " ".join(out.split())
    assert code == 0, err
    assert "1 file dated 2023-10-05 03:00 UTC by --date (it carries no date of its own)" in text
    assert "1 file dated by --date over its own date (--force-date):" in text
    assert "tagged.tif: 2023-10-05 03:00 UTC (its own: 2024-01-15 10:30 UTC from tiff-tag)" in text


def test_without_force_date_the_output_points_to_it(
    tmp_path: Path, db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = image(tmp_path / "tagged.tif", 1, tags=PROCESSED)
    code, out, err = run(capsys, "--db", db, "ingest", "tum", str(path), "--date", "2023-10-05")
    text = " ".join(out.split())
    assert code == 0, err
    assert "--force-date gives them --date" in text
    assert "tagged.tif: 2024-01-15 10:30 UTC (from tiff-tag)" in text


def test_force_date_redates_a_file_already_ingested(
    tmp_path: Path, db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """An already ingested scene kept its wrong date: a second ingest with --date said
    'already ingested' and changed nothing, and no command could correct it."""
    path = image(tmp_path / "tagged.tif", 1, tags=PROCESSED)
    code, first, err = ingest_json(capsys, db, "tum", str(path))
    assert code == 0, err
    scene_id = first["ingested"][0]["scene_id"]
    assert first["ingested"][0]["acquired_at"].startswith("2024-01-15")
    # --date alone does not touch it
    code, out, err = ingest_json(capsys, db, "tum", str(path), "--date", "2023-10-05")
    assert code == 0 and out["duplicates"][0]["acquired_at"].startswith("2024-01-15")
    code, out, err = ingest_json(
        capsys, db, "tum", str(path), "--date", "2023-10-05", "--force-date"
    )
    assert code == 0, err
    dup = out["duplicates"][0]
    assert dup["scene_id"] == scene_id
    assert dup["acquired_at"] == "2023-10-05T03:00:00+00:00" and dup["date_source"] == "forced"
    assert dup["redated_from"] == {
        "acquired_at": "2024-01-15T10:30:00+00:00",
        "date_source": "tiff-tag",
    }
    # dated anew twice: the file's own date stays the one it carries, not the first --date
    code, text, err = run(
        capsys, "--db", db, "ingest", "tum", str(path), "--date", "2023-10-06", "--force-date"
    )
    flat = " ".join(text.split())
    assert code == 0, err
    assert "dated 2023-10-06 03:00 UTC by --force-date (was 2023-10-05 03:00 UTC from forced)" in (
        flat
    )
    assert "run `railwatch analyze tum` again" in flat
    with Database(db).session() as s:
        scene = repo.get_scene(s, scene_id)
        assert scene.acquired_at.isoformat() == "2023-10-06T03:00:00+00:00"
        assert scene.date_source == "forced"
        assert scene.meta["file_date"] == {
            "acquired_at": "2024-01-15T10:30:00+00:00",
            "date_source": "tiff-tag",
        }
    code, listed, _ = run(capsys, "--db", db, "scene", "list", "tum", "--json")
    assert code == 0 and json.loads(listed)[0]["acquired_at"].startswith("2023-10-06")


def test_force_date_without_date_is_refused_before_anything_is_written(
    tmp_path: Path, db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = image(tmp_path / "tagged.tif", 1, tags=PROCESSED)
    code, _, err = run(capsys, "--db", db, "ingest", "tum", str(path), "--force-date")
    assert code != 0 and "--force-date needs --date" in err
    with Database(db).session() as s:
        assert repo.list_scenes(s, "tum") == []
