"""What a new analyst is told (session 33, walking the README on a site of their own):
a corrupt TIFF given to `detect` or `scale` says what to do, `scene show` prints counts
as the other commands do, and `process` names the command that judges its new results."""

from __future__ import annotations

from pathlib import Path

import pytest

from railwatch.cli.scene import _counts_text, _review_text
from railwatch.errors import ImageryError
from railwatch.imagery.read import open_raster


def test_a_tiff_gdal_cannot_read_says_corrupt_and_what_to_do(tmp_path: Path) -> None:
    """A file with a TIFF header and a cut-off directory: GDAL's words alone
    ("garbage.tif: TIFFReadDirectory:Failed to read directory at offset ...") said
    neither what was wrong nor what to do, where ingest says it is corrupt."""
    bad = tmp_path / "garbage.tif"
    bad.write_bytes(b"II*\x00garbage")
    with pytest.raises(ImageryError) as info:
        open_raster(bad)
    text = str(info.value)
    assert "corrupt or truncated" in text
    assert "re-download or re-export it" in text
    assert "TIFFReadDirectory" in text  # GDAL's reason is kept, in brackets
    assert "garbage.tif: TIFF" not in text  # the name is said once, not repeated by GDAL


def test_scene_show_prints_counts_and_intervals_as_the_other_commands() -> None:
    """Stored intervals are fractional (13.29): `scene show` printed them as stored,
    the alerts and the report at one decimal at most. Since 2026-12-07 (session 45) the
    bounds of a whole count of cars are rounded outward to whole cars, as the alerts
    word them; car equivalents keep one decimal."""
    counts = {
        "all": {"count": 6.0, "low": 5.0, "high": 13.29, "method": "objects"},
        "railcar": {"count": 5.0, "low": 4.0, "high": 11.24, "method": "objects"},
    }
    assert _counts_text(counts) == "all 6 [5-14]; railcar 5 [4-12]"
    length = {"all": {"count": 51.86, "low": 15.5, "high": 251.74, "method": "length"}}
    assert _counts_text(length).startswith("all 51.9 [15.5-251.7] car equivalents")
    review = {
        "counts": {"all": 12.0},
        "detector_counts": {"all": {"count": 9.0, "low": 8.0, "high": 18.39}},
        "cars": None,
        "applied": True,
        "note": "",
        "reviewed_at": "2026-12-05T18:45:00+00:00",
    }
    assert "the detector's count: 9 [8-19]" in _review_text(review)


@pytest.fixture
def one_site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    from railwatch.cli.main import main
    from railwatch.detect import registry
    from test_detect_fakes import BrightBlobDetector

    url = f"sqlite:///{tmp_path / 'rw.db'}"
    assert main(["--db", url, "site", "add", "yard", "--bbox", "8.587,47.528,8.593,47.532"]) == 0
    monkeypatch.setattr(registry, "get_detector", lambda name="default": BrightBlobDetector())
    return url


def _run_process(
    url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    *,
    processed: list[int],
    unusable: list[int],
    extra: tuple[str, ...] = (),
) -> tuple[str, str]:
    from railwatch.cli import process as process_cmd
    from railwatch.cli.main import main
    from railwatch.pipeline import ProcessSummary

    def fake(*_args: object) -> list[ProcessSummary]:
        return [
            ProcessSummary("yard", "fake", "1", processed=processed, unusable=unusable, skipped=3)
        ]

    monkeypatch.setattr(process_cmd, "_in_process", fake)
    capsys.readouterr()
    assert main(["--db", url, "process", "yard", *extra]) == 0
    captured = capsys.readouterr()
    return captured.out, " ".join(captured.err.split())


def test_process_names_the_command_that_judges_its_new_results(
    one_site: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`process` stores counts, not alerts: a report written next headlined "no usable
    image since 2024-08-01" over a latest usable image of 2024-11-01. The run now says
    which command judges what it added."""
    _, err = _run_process(one_site, monkeypatch, capsys, processed=[1, 2], unusable=[3])
    assert "next: `railwatch analyze yard` judges 3 new results of yard" in err
    assert "stored alerts" in err
    # nothing new (all up to date), or --json (stdout holds the JSON alone): no hint
    _, err = _run_process(one_site, monkeypatch, capsys, processed=[], unusable=[])
    assert "railwatch analyze" not in err
    out, err = _run_process(
        one_site, monkeypatch, capsys, processed=[1], unusable=[], extra=("--json",)
    )
    assert "railwatch analyze" not in err and "railwatch analyze" not in out


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["ingest", "yard", "many/"], "Run the same command again to go on"),
        (["process", "yard"], "Run the same command again to go on"),
        (["process", "yard", "--reprocess"], "run again processes every scene again"),
    ],
)
def test_an_interrupt_says_how_to_go_on(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    expected: str,
) -> None:
    """Ctrl-C in `ingest` (1 of 40 files recorded) said only "Interrupted; the database
    keeps every scene recorded so far.": not that running it again goes on, nor that
    `process --reprocess` run again starts over (68 of 223 demo scenes had been done)."""
    from railwatch.cli import main as cli_main

    def interrupted(args: object, console: object) -> int:
        cli_main._started = True
        cli_main._command = argv[0]
        raise KeyboardInterrupt

    monkeypatch.setattr(cli_main, "_run", interrupted)
    assert cli_main.main(argv) == 130
    err = capsys.readouterr().err
    assert err.startswith("Interrupted; the database keeps every scene recorded so far. ")
    assert expected in err
    if "--reprocess" in argv:
        assert "without --reprocess, it processes only those not yet processed" in err


def test_scene_to_review_prints_the_interval_as_the_other_commands(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`scene to-review`'s reason printed a 3 m image's stored interval as stored,
    "interval 15.5-251.74", beside its count "≈51.9"."""
    from datetime import UTC, datetime

    from shapely.geometry import box

    from railwatch.cli import _common
    from railwatch.cli.main import main
    from railwatch.sites import SiteSpec
    from railwatch.storage import Database, repo
    from report_db import (
        CRS,
        IMG_H_M,
        IMG_W_M,
        SITE_UTM,
        X0,
        Y0,
        FakeCount,
        FakeInfo,
        FakeQuality,
        to_wgs84,
    )

    url = f"sqlite:///{tmp_path / 'scenes.db'}"
    db = Database(url)
    with db.session() as s:
        site = repo.add_site(s, SiteSpec(name="yard", geometry=to_wgs84(SITE_UTM)))
        info = FakeInfo(
            uri="/imagery/yard_20241201.tif",
            content_hash=f"{1:064d}",
            acquired=datetime(2024, 12, 1, 16, 0, tzinfo=UTC),
            crs=CRS,
            footprint=to_wgs84(box(X0, Y0 - IMG_H_M, X0 + IMG_W_M, Y0)),
            gsd=3.0,
            width=100,
            height=100,
            sensor="PlanetScope-sim",
        )
        scene, _ = repo.add_scene(s, site, info, 1.0)
        count = FakeCount(51.86, 15.5, 251.74, {}, 0, method="length")
        repo.record_scene_result(s, scene.id, FakeQuality(0.97), [], count, "test", "1")
    db.dispose()
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.setattr(_common.console, "width", 200)
    assert main(["--db", url, "scene", "to-review", "yard"]) == 0
    out = capsys.readouterr().out
    assert "interval 15.5-251.7," in out, out
