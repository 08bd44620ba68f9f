"""``railwatch ingest``: UTM GeoTIFF round trip, coverage, bad files, duplicates, exit codes."""

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
from railwatch.storage import Database, repo

UTM = "EPSG:32652"
# Image: 200 x 200 px at 1 m, top-left (632000, 4683000) in UTM 52N (Tumangang).
ORIGIN = (632_000.0, 4_683_000.0)
# Site: 200 m x 100 m whose western half lies on the image, eastern half off its edge.
SITE_UTM = shapely.box(632_100.0, 4_682_850.0, 632_300.0, 4_682_950.0)


def to_wgs84(geom: Any) -> Any:
    tr = Transformer.from_crs(UTM, "EPSG:4326", always_xy=True)
    return shapely.transform(geom, lambda xy: np.column_stack(tr.transform(xy[:, 0], xy[:, 1])))


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, " ".join(err.split())


@pytest.fixture
def site(tmp_path: Path, tmp_db_url: str, capsys: pytest.CaptureFixture[str]) -> str:
    geojson = tmp_path / "site.geojson"
    geojson.write_text(json.dumps(mapping(to_wgs84(SITE_UTM))))
    code, _, err = run(capsys, "--db", tmp_db_url, "site", "add", "tum", "--geojson", str(geojson))
    assert code == 0, err
    return tmp_db_url


def scene_file(folder: Path, name: str, *, seed: int = 0, **kw: Any) -> Path:
    rng = np.random.default_rng(seed)
    data = rng.integers(20, 230, size=(3, 200, 200), dtype=np.uint8)
    opts: dict[str, Any] = {"origin": ORIGIN, "gsd": 1.0, "width": 200, "height": 200}
    opts.update(kw)
    if "data" not in kw:
        opts["data"] = data[:, : opts["height"], : opts["width"]]
    return make_geotiff(folder / name, crs=UTM, **opts)


def test_utm_geotiff_round_trip_with_site_crossing_the_image_edge(
    tmp_path: Path, site: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = scene_file(tmp_path / "imgs", "tum_20231005T021300.tif")
    code, out, err = run(capsys, "--db", site, "ingest", "tum", str(path), "--json")
    assert code == 0, err
    summary = json.loads(out)
    assert len(summary["ingested"]) == 1 and summary["failed"] == [] == summary["skipped"]
    entry = summary["ingested"][0]
    assert entry["acquired_at"] == "2023-10-05T02:13:00+00:00"
    assert entry["date_source"] == "filename"
    # The western half of the site lies on the image.
    expected = SITE_UTM.intersection(shapely.box(632_000, 4_682_800, 632_200, 4_683_000)).area
    assert 0.0 < entry["coverage"] < 1.0
    assert entry["coverage"] == pytest.approx(expected / SITE_UTM.area, abs=0.01)

    with Database(site).session() as s:
        scene = repo.get_scene(s, entry["scene_id"])
        assert scene.crs == UTM and scene.gsd == pytest.approx(1.0)
        assert (scene.width, scene.height, scene.band_count, scene.dtype) == (200, 200, 3, "uint8")
        assert len(scene.content_hash) == 64 and scene.uri.endswith("tum_20231005T021300.tif")
        # the footprint, back in UTM, is the image square
        back = shapely.transform(
            scene.footprint,
            lambda xy: np.column_stack(
                Transformer.from_crs("EPSG:4326", UTM, always_xy=True).transform(xy[:, 0], xy[:, 1])
            ),
        )
        assert back.bounds == pytest.approx((632_000, 4_682_800, 632_200, 4_683_000), abs=1.0)

    code, out, _ = run(capsys, "--db", site, "scene", "list", "tum", "--json")
    assert code == 0 and [d["id"] for d in json.loads(out)] == [entry["scene_id"]]
    code, out, _ = run(capsys, "--db", site, "scene", "show", str(entry["scene_id"]))
    text = " ".join(out.split())
    assert code == 0 and "acquired 2023-10-05T02:13:00+00:00 (from filename)" in text
    assert "coverage 50% of the site" in text


def test_same_file_twice_is_one_scene(
    tmp_path: Path, site: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = scene_file(tmp_path, "a_20231005.tif")
    copy = tmp_path / "copy" / "renamed_20231005.tif"
    copy.parent.mkdir()
    copy.write_bytes(path.read_bytes())
    assert run(capsys, "--db", site, "ingest", "tum", str(path))[0] == 0
    code, out, err = run(capsys, "--db", site, "ingest", "tum", str(path), str(copy))
    text = " ".join(out.split())
    assert code == 0, err
    assert "Ingested 0 new scenes" in text and "2 already ingested" in text
    assert "already ingested: " in text and "(scene 1)" in text


def test_folder_with_a_corrupt_and_a_non_intersecting_file(
    tmp_path: Path, site: str, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "batch"
    for i in range(12):
        scene_file(folder, f"tum_202310{i + 1:02d}.tif", seed=i)
    scene_file(folder / "sub", "far_20231020.tif", origin=(700_000.0, 4_700_000.0))
    good = scene_file(tmp_path, "x_20231021.tif", seed=99)
    (folder / "corrupt_20231022.tif").write_bytes(good.read_bytes()[:900])
    # corrupt for long: written to just now, it is taken as a copy still running (session 49)
    long_ago = time.time() - 3600
    os.utime(folder / "corrupt_20231022.tif", (long_ago, long_ago))
    (folder / "garbage_20231023.tif").write_bytes(b"this is not an image at all" * 10)
    scene_file(folder, "nodate.tif", seed=77)  # distinct content: not a duplicate
    nan = np.full((1, 200, 200), np.nan, dtype=np.float32)
    scene_file(folder, "nan_20231024.tif", data=nan, bands=1, dtype="float32", nodata=np.nan)
    make_geotiff(folder / "nocrs_20231025.tif", crs=None)
    # touches the site only along its eastern edge: 0 pixels of overlap
    scene_file(folder, "edge_20231026.tif", origin=(632_300.0, 4_683_000.0))
    (folder / "readme.txt").write_text("not a raster: ignored by the scan")
    (folder / "tum_20231001.mask.tif").write_bytes(b"sidecar: ignored")

    code, out, err = run(capsys, "--db", site, "ingest", "tum", str(folder), "--json")
    # 1: five files failed (listed with their reason); the 12 others are kept
    assert code == 1, err
    assert "error: 5 of 19 files failed (listed above with the reason); the 12 new scenes" in err
    summary = json.loads(out)
    assert len(summary["ingested"]) == 12
    skipped = sorted(Path(d["file"]).name for d in summary["skipped"])
    assert skipped == ["edge_20231026.tif", "far_20231020.tif"]
    assert all("does not overlap site tum" in d["reason"] for d in summary["skipped"])
    failed = {Path(d["file"]).name: d["reason"] for d in summary["failed"]}
    assert set(failed) == {
        "corrupt_20231022.tif", "garbage_20231023.tif", "nodate.tif", "nan_20231024.tif",
        "nocrs_20231025.tif",
    }  # fmt: skip
    assert "corrupt or truncated" in failed["corrupt_20231022.tif"]
    assert "--date" in failed["nodate.tif"]
    assert "no valid pixels" in failed["nan_20231024.tif"]
    assert "no CRS" in failed["nocrs_20231025.tif"]

    # the human summary lists every bad file with its reason at the end
    code, out, err = run(capsys, "--db", site, "ingest", "tum", str(folder))
    text = " ".join(out.split())
    assert code == 1  # the summary first, then the error as its last line
    assert " ".join(err.split()).endswith(
        "error: 5 of 19 files failed (listed above with the reason); fix what each reason "
        "says and run it again: files already ingested are not ingested twice"
    )
    assert "Ingested 0 new scenes into tum (12 already ingested, 2 not overlapping" in text
    assert "5 bad files" in text and "nodate.tif" in text and "far_20231020.tif" in text


def test_date_option_and_all_failed_exit_code(
    tmp_path: Path, site: str, capsys: pytest.CaptureFixture[str]
) -> None:
    nodate = scene_file(tmp_path, "nodate.tif")
    code, out, err = run(capsys, "--db", site, "ingest", "tum", str(nodate), "--json")
    assert code == 1 and "--date" in json.loads(out)["failed"][0]["reason"]
    # not "unreadable or outside the site": the reason (no date) is the listed one
    assert "nothing ingested into site tum: the file was refused" in " ".join(err.split())
    code, out, err = run(
        capsys, "--db", site, "ingest", "tum", str(nodate), "--date", "2023-10-05T11:30+09:00",
        "--json",
    )  # fmt: skip
    assert code == 0, err
    assert json.loads(out)["ingested"][0]["acquired_at"] == "2023-10-05T02:30:00+00:00"

    far = scene_file(tmp_path, "far_20231005.tif", origin=(700_000.0, 4_700_000.0))
    code, out, err = run(capsys, "--db", site, "ingest", "tum", str(far))
    assert code == 1 and "does not overlap site tum" in out
    assert "nothing ingested into site tum: the file was refused, for the reasons" in err
    code, out, _ = run(capsys, "--db", site, "ingest", "tum", str(tmp_path / "missing.tif"))
    assert code == 2 and "no such file" in " ".join(out.split())  # a command-line mistake


def test_ingest_input_errors(tmp_path: Path, site: str, capsys: pytest.CaptureFixture[str]) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    # a folder of no image is named by mistake; one of no file at all is a quiet day of a
    # drop folder, status 0 since session 48 (tests/test_leftovers_s48.py)
    (empty / "readme.txt").write_text("no image here")
    code, _, err = run(capsys, "--db", site, "ingest", "tum", str(empty))
    assert code == 2 and "no image files found" in err
    code, _, err = run(capsys, "--db", site, "ingest", "nosuch", str(empty))
    assert code == 1 and "no site named 'nosuch'" in err
    path = scene_file(tmp_path, "a.tif")
    code, _, err = run(capsys, "--db", site, "ingest", "tum", str(path), "--date", "5/10/2023")
    assert code == 2 and "not ISO 8601" in err


def test_future_date_option_is_refused(
    tmp_path: Path, site: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """--date 2099-01-01 was stored as the acquisition time (status 0): a scene that an
    analysis as of today silently leaves out."""
    nodate = scene_file(tmp_path, "nodate.tif")
    code, out, _ = run(capsys, "--db", site, "scene", "list", "tum", "--json")
    before = out
    code, _, err = run(capsys, "--db", site, "ingest", "tum", str(nodate), "--date", "2099-01-01")
    # a day alone is noon at the site: 03:00 UTC at UTC+9 (session 32)
    assert code == 2 and "2099-01-01 03:00 UTC is in the future" in " ".join(err.split())
    assert run(capsys, "--db", site, "scene", "list", "tum", "--json")[1] == before
    code, _, err = run(capsys, "--db", site, "ingest-stac", "tum", "--stac", "x", "--since", "May")
    assert code == 2 and "--since 'May' is not ISO 8601" in err  # it said --date


def test_unexpected_error_in_one_file_and_interruption(
    tmp_path: Path, site: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import railwatch.imagery as imagery

    folder = tmp_path / "batch"
    for i in range(4):
        scene_file(folder, f"tum_2023100{i + 1}.tif", seed=i)
    real = imagery.inspect_scene

    def flaky(path: Any, **kw: Any) -> Any:
        if Path(path).name == "tum_20231002.tif":
            raise ZeroDivisionError("boom")
        if Path(path).name == "tum_20231004.tif" and interrupt:
            raise KeyboardInterrupt
        return real(path, **kw)

    monkeypatch.setattr(imagery, "inspect_scene", flaky)
    interrupt = True
    from railwatch.ingest import ingest_paths

    with pytest.raises(KeyboardInterrupt):  # Ctrl-C during the 4th file
        ingest_paths(Database(site), "tum", [folder])
    with Database(site).session(readonly=True) as s:
        names = [Path(sc.uri).name for sc in repo.list_scenes(s, "tum")]
    assert names == ["tum_20231001.tif", "tum_20231003.tif"]  # whole scenes, nothing else

    interrupt = False
    code, out, _ = run(capsys, "--db", site, "ingest", "tum", str(folder), "--json")
    summary = json.loads(out)
    assert code == 1 and len(summary["ingested"]) == 1 and len(summary["duplicates"]) == 2
    assert summary["failed"][0]["reason"] == "unexpected error: ZeroDivisionError: boom"


def test_mistyped_year_date_option_is_refused(
    tmp_path: Path, site: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """--date 0023-10-05 (a mistyped 2023) was stored as the acquisition time (status 0),
    and `railwatch report` of the site then failed with an internal error (its chart
    cannot draw year 23)."""
    nodate = scene_file(tmp_path, "nodate.tif")
    before = run(capsys, "--db", site, "scene", "list", "tum", "--json")[1]
    code, _, err = run(capsys, "--db", site, "ingest", "tum", str(nodate), "--date", "0023-10-05")
    assert code == 2 and "--date 0023-10-05 is before 1900: check the year" in err
    assert run(capsys, "--db", site, "scene", "list", "tum", "--json")[1] == before
