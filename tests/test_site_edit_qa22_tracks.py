"""QA (session 22): ``railwatch site edit --tracks`` / ``--no-tracks``.

There was no way to give an existing site its track centrelines (which a small site's
1.5-5 m images need: without them they fail with "no track line was found") short of
removing the site, with all its scenes, counts, events and alerts, and adding it again.
New lines change what the counted scenes measured (along the lines at 1.5 m and
coarser; finer, only cars within 10 m of them are kept), so those scenes, and only
those, are counted again by the next ``railwatch process``; they keep their counts
until then."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from shapely.geometry import MultiLineString, box, mapping

from railwatch.cli.main import main
from railwatch.imagery import inspect_scene
from railwatch.imagery.quality import QUALITY_VERSION
from railwatch.ingest import ingest_paths
from railwatch.pipeline import pending_jobs, process_site, processing_lock
from railwatch.sites import SiteSpec
from railwatch.storage import Database, repo
from railwatch.storage.repo import COARSE_KEY, TRACKS_CHANGED
from test_detect_fakes import BrightBlobDetector
from test_pipeline import _scene, _tracks_wgs84

Q = f"+q{QUALITY_VERSION}"  # ends every processing version (session 43)


def _detector() -> BrightBlobDetector:
    det = BrightBlobDetector()
    det.name, det.version = "fake", "1"
    return det


def _site(tmp_path: Path, *, tracks: MultiLineString | None) -> Database:
    """A ~80 x 50 m yard with a 0.5 m and a 3 m image (counted), and a cloudy 0.5 m and a
    cloudy 3 m one (unusable), processed once."""
    imgs = tmp_path / "imgs"
    fine = _scene(imgs, "fine", datetime(2023, 10, 5, 2, tzinfo=UTC), gsd=0.5)
    _scene(imgs, "coarse", datetime(2023, 10, 6, 2, tzinfo=UTC), gsd=3.0)
    _scene(imgs, "cloudy", datetime(2023, 10, 7, 2, tzinfo=UTC), gsd=0.5, cloud_cover=0.9)
    _scene(imgs, "cloudy3", datetime(2023, 10, 8, 2, tzinfo=UTC), gsd=3.0, cloud_cover=0.9)
    db = Database(f"sqlite:///{tmp_path / 'rw.db'}")
    aoi = box(*inspect_scene(fine).footprint.buffer(-0.0005).bounds)
    with db.session() as s:
        repo.add_site(s, SiteSpec(name="yard", geometry=aoi, tracks=tracks))
    assert len(ingest_paths(db, "yard", [imgs]).ingested) == 4
    process_site(db, "yard", detector=_detector())
    return db


def _scenes(db: Database) -> dict[str, dict[str, Any]]:
    """Each scene by file name: status, version, counts, the coarse track record."""
    with db.session(readonly=True) as s:
        return {
            sc.uri.rsplit("/", 1)[-1].removesuffix(".tif"): {
                "id": sc.id,
                "status": sc.status,
                "version": sc.detector_version,
                "counts": sorted((c.cls, c.count) for c in sc.counts),
                "coarse": (sc.meta or {}).get(COARSE_KEY),
            }
            for sc in repo.list_scenes(s, "yard")
        }


def _pending(db: Database) -> list[str]:
    jobs, _ = pending_jobs(db, "yard", detector=_detector())
    return sorted(job.uri.rsplit("/", 1)[-1].removesuffix(".tif") for job in jobs)


def _write_tracks(tmp_path: Path, lines: MultiLineString) -> str:
    path = tmp_path / "tracks.geojson"
    path.write_text(json.dumps({"type": "Feature", "properties": {}, "geometry": mapping(lines)}))
    return str(path)


def _edit(db: Database, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["--db", db.url, "site", "edit", "yard", *args])
    out, err = capsys.readouterr()
    return code, " ".join(out.split()), " ".join(err.split())


def test_new_tracks_recount_the_counted_scenes_and_keep_their_counts_until_then(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    all_lines = _tracks_wgs84()
    db = _site(tmp_path, tracks=all_lines)
    before = _scenes(db)
    assert {k: v["status"] for k, v in before.items()} == {
        "fine": "processed",
        "coarse": "processed",
        "cloudy": "unusable",
        "cloudy3": "unusable",
    }
    assert _pending(db) == []
    fewer = MultiLineString(list(all_lines.geoms)[1:6])

    code, out, err = _edit(db, capsys, "--tracks", _write_tracks(tmp_path, fewer))

    assert code == 0, err
    assert "Edited site yard: track centrelines replaced (5 lines)." in out
    assert (
        "2 counted scenes will be counted again by `railwatch process yard` (1 at 1.5 m and "
        "coarser, measured along the lines; 1 finer, whose cars are kept within 10 m of "
        "them); their counts are kept until then."
    ) in out, out
    # the counted scenes are pending (not the unusable ones, judged without the lines),
    # and keep their counts and detections until they are counted again
    assert _pending(db) == ["coarse", "fine"]
    marked = _scenes(db)
    for name in ("fine", "coarse"):
        assert marked[name]["status"] == "processed"
        assert marked[name]["counts"] == before[name]["counts"]
        assert marked[name]["version"] == f"{before[name]['version']}{TRACKS_CHANGED}"
    for name in ("cloudy", "cloudy3"):
        assert marked[name] == before[name]
    with db.session(readonly=True) as s:
        assert repo.site_spec(repo.get_site(s, "yard")).tracks == fewer

    summary = process_site(db, "yard", detector=_detector())

    after = _scenes(db)
    assert sorted(summary.processed) == sorted([after["fine"]["id"], after["coarse"]["id"]])
    assert summary.skipped == 2 and not summary.failed
    assert after["coarse"]["version"] == before["coarse"]["version"]  # marker gone
    assert after["fine"]["version"] == before["fine"]["version"]
    # the 3 m image is now measured along the 5 lines given, not the 17 before
    coarse_before, coarse_after = before["coarse"]["coarse"], after["coarse"]["coarse"]
    assert coarse_after["tracks"] == "given"
    assert 0 < coarse_after["track_m"] < coarse_before["track_m"]
    assert _pending(db) == []
    db.dispose()


def test_tracks_given_to_a_site_without_them_count_its_3m_images(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The case the command is for: a small site's 3 m image failed ("no track line was
    found ... give the site its track centrelines"); its lines are given without
    removing the site, and the next run counts it."""
    db = _site(tmp_path, tracks=None)
    before = _scenes(db)
    assert before["coarse"]["status"] == "failed"
    assert before["fine"]["status"] == "processed"

    code, out, err = _edit(db, capsys, "--tracks", _write_tracks(tmp_path, _tracks_wgs84()))

    assert code == 0, err
    assert "track centrelines added (17 lines)" in out
    # the fine scene was counted without lines: it is counted again (cars off the
    # lines are now left out); the failed 3 m one is processed in any case
    assert "1 counted scene will be counted again by `railwatch process yard` (1 finer" in out
    assert "its count is kept until then" in out
    assert "1 scene not counted yet (new, or failed) will be processed by" in out
    assert _pending(db) == ["coarse", "fine"]
    with db.session(readonly=True) as s:  # nothing else of the site is lost
        assert repo.site_stats(s, "yard").scenes == 4

    process_site(db, "yard", detector=_detector())

    after = _scenes(db)
    assert after["coarse"]["status"] == "processed"
    record = after["coarse"]["coarse"]
    assert {k: record[k] for k in ("tracks", "track_m")} == {
        "tracks": "given",
        "track_m": pytest.approx(639.0, abs=30),
    }
    assert isinstance(record["occupied"], list)  # where cars were read (session 30)
    assert "all" in dict(after["coarse"]["counts"])
    # the fine image's count is now of the cars on the lines only
    fine_before = dict(before["fine"]["counts"])["all"]
    fine_after = dict(after["fine"]["counts"])["all"]
    assert fine_after <= fine_before
    assert _pending(db) == []
    db.dispose()


def test_no_tracks_recounts_and_says_what_3m_images_then_need(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = _site(tmp_path, tracks=_tracks_wgs84())
    code, out, err = _edit(db, capsys, "--no-tracks", "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["tracks"] is None
    assert {k: data["recount"][k] for k in ("changed", "scenes", "coarse", "finer")} == {
        "changed": True,
        "scenes": 2,
        "coarse": 1,
        "finer": 1,
    }
    assert data["recount"]["command"] == "railwatch process yard"
    assert _pending(db) == ["coarse", "fine"]
    # a second edit before the run marks nothing twice
    code, out, _ = _edit(db, capsys, "--no-tracks")
    assert code == 0 and "track centrelines unchanged (the site has none)" in out
    assert "No counted scene" not in out  # nothing changed: nothing said about recounts
    assert {v["version"] for v in _scenes(db).values() if v["status"] == "processed"} == {
        f"1{Q}{TRACKS_CHANGED}",
        f"1+length{_length_version()}{Q}{TRACKS_CHANGED}",
    }
    db.dispose()


def _length_version() -> str:
    from railwatch.detect.coarse import ESTIMATOR_VERSION
    from railwatch.imagery.register import REGISTRATION_VERSION

    return f"{ESTIMATOR_VERSION}+reg{REGISTRATION_VERSION}"


def test_the_same_tracks_again_change_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = _tracks_wgs84()
    db = _site(tmp_path, tracks=lines)
    before = _scenes(db)
    code, out, err = _edit(db, capsys, "--tracks", _write_tracks(tmp_path, lines))
    assert code == 0, err
    assert "track centrelines unchanged (the site has these lines)" in out
    assert "counted again" not in out
    assert _scenes(db) == before and _pending(db) == []
    db.dispose()


def test_tracks_are_not_changed_under_a_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A run in progress counts along the lines it read when it began, and would record
    those counts as up to date: the edit is refused while the site is being processed
    (description and tags, which no count depends on, are not)."""
    db = _site(tmp_path, tracks=_tracks_wgs84())
    before = _scenes(db)
    path = _write_tracks(tmp_path, MultiLineString(list(_tracks_wgs84().geoms)[2:4]))
    with processing_lock(db, ["yard"]):
        code, _, err = _edit(db, capsys, "--tracks", path, "--description", "x")
        assert code == 75  # busy (session 48)
        assert "track centrelines of site 'yard' cannot be changed while a railwatch run" in err
        code, _, err = _edit(db, capsys, "--description", "x")
        assert code == 0, err
    assert _scenes(db) == before
    with db.session(readonly=True) as s:
        site = repo.get_site(s, "yard")
        assert site.description == "x"
        assert repo.site_spec(site).tracks == _tracks_wgs84()
    db.dispose()


def test_tracks_outside_the_site_change_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Checked as at `site add`, and the whole edit is refused: the description given
    with them is not half-applied."""
    db = _site(tmp_path, tracks=_tracks_wgs84())
    before = _scenes(db)
    far = MultiLineString(
        [[(x + 1.0, y) for x, y in line.coords] for line in _tracks_wgs84().geoms]
    )
    code, _, err = _edit(db, capsys, "--tracks", _write_tracks(tmp_path, far), "-d", "new")
    assert code == 2
    assert "none of the track lines touch the site polygon" in err
    assert _scenes(db) == before
    with db.session(readonly=True) as s:
        assert repo.get_site(s, "yard").description == ""
    db.dispose()


def test_a_recount_that_fails_keeps_the_count_and_stays_pending(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = _site(tmp_path, tracks=_tracks_wgs84())
    before = _scenes(db)
    path = _write_tracks(tmp_path, MultiLineString(list(_tracks_wgs84().geoms)[1:6]))
    assert _edit(db, capsys, "--tracks", path)[0] == 0
    (tmp_path / "imgs" / "coarse.tif").rename(tmp_path / "coarse.tif")  # file gone

    summary = process_site(db, "yard", detector=_detector())

    assert len(summary.failed) == 1
    after = _scenes(db)
    assert after["coarse"]["status"] == "processed"
    assert after["coarse"]["counts"] == before["coarse"]["counts"]
    assert _pending(db) == ["coarse"]  # still counted along the earlier lines
    with db.session(readonly=True) as s:
        error = repo.get_scene(s, int(after["coarse"]["id"])).error
    assert error is not None and f"{TRACKS_CHANGED}, is kept" in error
    db.dispose()
