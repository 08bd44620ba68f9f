"""Session 26 audit of reports and exports against bad input: an output path that is
another site's image, and reports of sites with no count (only 10 m images, images not
processed yet, only unusable images)."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from pathlib import Path

import pytest

from railwatch.cli.main import main
from railwatch.report.builder import build_report_data
from railwatch.sites import SiteSpec
from railwatch.storage import Database, repo
from report_db import (
    SITE_UTM,
    T0,
    FakeCount,
    FakeQuality,
    add_counted_scene,
    add_ingested_scene,
    populate,
    to_wgs84,
)


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _add_site(db: Database, name: str) -> None:
    with db.session() as s:
        repo.add_site(s, SiteSpec(name=name, geometry=to_wgs84(SITE_UTM)))


def _add_scene(
    db: Database, site: str, key: int, *, usable: bool | None, gsd: float = 0.5, count: float = 0
) -> None:
    """A scene of ``site``: ingested only (``usable`` None), unusable, or counted."""
    with db.session() as s:
        row = repo.get_site(s, site)
        when = T0 + timedelta(days=10 * key)
        if usable:
            method = "presence" if gsd >= 10 else "objects"
            add_counted_scene(
                s, row, when, gsd, FakeCount(count, 0, max(count, 1), {}, 0, method=method), key
            )
            return
        scene = add_ingested_scene(s, row, when, gsd, key)
        if usable is False:
            quality = FakeQuality(0.2, cloud_fraction=0.8, usable=False, reasons=("cloud 80%",))
            repo.record_scene_result(s, scene.id, quality, [], None, "test", "1")


@pytest.fixture()
def two_sites(tmp_path: Path) -> tuple[str, Path]:
    """testyard (with image files) and a second site, 'other', with one counted scene."""
    url = f"sqlite:///{tmp_path / 'rw.db'}"
    db = Database(url)
    populate(db, tmp_path / "scenes")
    _add_site(db, "other")
    _add_scene(db, "other", 900, usable=True, count=4)
    db.dispose()
    return url, tmp_path / "scenes" / "scene_00.tif"


@pytest.mark.parametrize(
    "command",
    [
        ["export", "other", "-f", "csv"],
        ["report", "other"],
        ["report", "other", "--pdf"],
    ],
)
def test_output_over_an_image_of_another_site_is_refused(
    two_sites: tuple[str, Path], capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    """`railwatch report other -o yard/scene_00.tif` replaced an image of testyard with
    the report of 'other': only the reported site's own images were checked."""
    url, image = two_sites
    before = _digest(image)
    assert main(["--db", url, *command, "--out", str(image)]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "is an image of site 'testyard'" in err and "give --out another file name" in err
    assert _digest(image) == before


def test_output_beside_other_sites_images_is_still_written(
    two_sites: tuple[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    url, image = two_sites
    out = image.with_name("other.csv")
    assert main(["--db", url, "export", "other", "-f", "csv", "--out", str(out)]) == 0
    assert out.read_text(encoding="utf-8").startswith("date,day,local_zone,scene_id")


@pytest.fixture()
def db(tmp_path: Path) -> Database:
    return Database(f"sqlite:///{tmp_path / 'rw.db'}")


def test_report_of_only_10m_images_does_not_say_no_usable_image(db: Database) -> None:
    """A site seen only at 10 m (usable images, long-train flags, no count) was headed
    "No usable image of coarse10" above "Images 4 usable of 4"."""
    _add_site(db, "coarse10")
    for key, flag in ((1, 0), (2, 1)):
        _add_scene(db, "coarse10", key, usable=True, gsd=10.0, count=flag)
    summary = build_report_data(db, "coarse10").headline.summary
    assert "No usable image" not in summary
    assert summary.startswith("No count of cars at coarse10 in this period: its 2 usable images")
    assert "only tell whether a long train is present" in summary
    assert "(latest, 2022-01-30: a long train was present)" in summary


def test_report_of_images_not_processed_says_to_process_them(
    db: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A report of freshly ingested images said only "No usable image" (as if they had
    been judged unusable), and `railwatch report` gave no warning."""
    _add_site(db, "fresh")
    _add_scene(db, "fresh", 1, usable=None)
    _add_scene(db, "fresh", 2, usable=None)
    summary = build_report_data(db, "fresh").headline.summary
    assert "None of its 2 images in this period could be counted (not processed 2)" in summary
    assert "Run `railwatch process fresh` to count them." in summary
    out = tmp_path / "fresh.html"
    assert main(["--db", str(db.url), "report", "fresh", "--out", str(out)]) == 0
    err = " ".join(capsys.readouterr().err.split())
    assert "warning:" in err and "Run `railwatch process fresh` to count them." in err


def test_report_of_only_unusable_images_says_why(db: Database) -> None:
    _add_site(db, "cloudy")
    _add_scene(db, "cloudy", 1, usable=False)
    summary = build_report_data(db, "cloudy").headline.summary
    assert summary.startswith("No usable image of cloudy in this period")
    assert "Its only image in this period could not be counted (cloud 1)." in summary
    assert "railwatch process" not in summary


def test_export_to_a_pipe_is_refused_with_what_to_give(db: Database, tmp_path: Path) -> None:
    """`export SITE -f csv -o /dev/stdout | cat` failed with 'No such file or directory:
    ...tmp' (the temporary file beside /proc/PID/fd/pipe:[N]); a FIFO stands in for it."""
    import os

    from railwatch.errors import InputError
    from railwatch.export.gis import export_site

    _add_site(db, "other")
    for name, fmt, hint in (("out.csv", "csv", True), ("out.gpkg", "gpkg", False)):
        fifo = tmp_path / name
        os.mkfifo(fifo)
        with pytest.raises(InputError, match="is not a regular file") as err:
            export_site(db, "other", fmt, fifo)
        assert ("--out -" in str(err.value)) is hint
