"""A table too wide for the terminal (or ``COLUMNS``) is printed as one block of
"header  value" lines per row, every value whole.

Laid out narrower than its columns need, rich shrank every column and cut each cell to
an ellipsis: at ``COLUMNS=40`` `railwatch scene list` lost its id column altogether and
showed each date as "2024-03-01 0…", `site list` each name as "…" (nothing said that
anything was cut).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from rich.table import Table
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

BBOX = "130.6072,42.4208,130.6090,42.4220"


@pytest.fixture(autouse=True)
def _plain_output(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    monkeypatch.delenv("TTY_COMPATIBLE", raising=False)


def _site(url: str, name: str = "tumangang-border-yard") -> None:
    assert main(["--db", url, "site", "add", name, "--bbox", BBOX]) == 0


def test_site_list_at_40_columns_shows_every_name_and_figure(
    tmp_db_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _site(tmp_db_url)
    _site(tmp_db_url, "Туманган")
    monkeypatch.setenv("COLUMNS", "40")
    capsys.readouterr()
    assert main(["--db", tmp_db_url, "site", "list"]) == 0
    out = capsys.readouterr().out
    assert "…" not in out
    assert max(len(line.rstrip()) for line in out.splitlines()) <= 40
    lines = [line.rstrip() for line in out.splitlines()]
    assert "name (tags)  tumangang-border-yard" in lines
    assert "name (tags)  Туманган" in lines
    assert lines.count("km²          0.020") == 2


def test_scene_list_at_40_columns_keeps_ids_and_dates(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'scenes.db'}"
    db = Database(url)
    with db.session() as s:
        site = repo.add_site(s, SiteSpec(name="yard", geometry=to_wgs84(SITE_UTM)))
        for day, total in ((1, 234.0), (2, 225.0)):
            info = FakeInfo(
                uri=f"/imagery/yard_2024070{day}.tif",
                content_hash=f"{day:064d}",
                acquired=datetime(2024, 7, day, 2, 0, tzinfo=UTC),
                crs=CRS,
                footprint=to_wgs84(box(X0, Y0 - IMG_H_M, X0 + IMG_W_M, Y0)),
                gsd=0.5,
                width=100,
                height=100,
                sensor="SkySat-sim",
            )
            scene, _ = repo.add_scene(s, site, info, 1.0)
            count = FakeCount(total, total - 1, total + 1, {}, 0, method="objects")
            repo.record_scene_result(s, scene.id, FakeQuality(0.97), [], count, "test", "1")
    monkeypatch.setenv("COLUMNS", "40")
    assert main(["--db", url, "scene", "list", "yard"]) == 0
    out = capsys.readouterr().out
    assert "…" not in out
    lines = [line.rstrip() for line in out.splitlines()]
    assert lines[0] == "Scenes of yard"
    assert [line for line in lines if line.startswith("id ")] == [
        "id                      1",
        "id                      2",
    ]
    # the local time at the site, UTC+9 nominal at 130.6°E (session 32: the UTC time)
    assert "acquired UTC+9 nominal  2024-07-01 11:00" in lines
    assert "acquired UTC+9 nominal  2024-07-02 11:00" in lines
    assert "count                   234" in lines and "count                   225" in lines
    assert max(len(line) for line in lines) <= 40


def test_a_table_that_fits_is_still_a_table(
    tmp_db_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _site(tmp_db_url)
    monkeypatch.setenv("COLUMNS", "80")
    capsys.readouterr()
    assert main(["--db", tmp_db_url, "site", "list"]) == 0
    out = capsys.readouterr().out
    row = next(line for line in out.splitlines() if "tumangang-border-yard" in line)
    assert row.startswith("│") and "0.020" in row


def test_print_table_folds_a_long_value_and_joins_a_two_line_header(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "30")
    table = Table(title="Railcars detected", caption="a caption")
    table.add_column("image", no_wrap=True)
    table.add_column("total\n(90 %)", no_wrap=True)
    path = "/data/imagery/tumangang/2024/scene_2024-03-18.tif"
    table.add_row(path, "34 (26–56)")
    _common.print_table(table)
    out = capsys.readouterr().out
    lines = [line.rstrip() for line in out.splitlines()]
    assert lines[0] == "Railcars detected" and lines[-1] == "a caption"
    assert "total (90 %)  34 (26–56)" in lines
    assert "…" not in out and max(len(line) for line in lines) <= 30
    # the path is folded over lines, every character kept
    assert "".join(line[len("total (90 %)  ") :] for line in lines[1:-2]) == path


def test_width_needed_counts_no_wrap_cells_whole() -> None:
    """rich's own measure of a table takes a no-wrap cell's longest word as its minimum
    ("2024-03-01" of "2024-03-01 02:00"): too narrow, the cell was cut."""
    table = Table()
    table.add_column("id", no_wrap=True)
    table.add_column("acquired UTC", no_wrap=True)
    table.add_row("1", "2024-03-01 02:00")
    # borders 3, padding 2 x 2, cells 2 and 16
    assert _common.table_width_needed(table, _common.console) == 3 + 4 + 2 + 16
