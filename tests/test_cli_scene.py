"""``railwatch scene list``: the count of each image, readable at 80 columns."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
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

LONG_REASON = "only 27 % of the site is covered by the image, and haze covers most of the rest"


def _db(tmp_path: Path) -> str:
    """Four scenes: 234 cars (0.5 m), 76 car equivalents (3 m), one unusable with a long
    reason, 225 cars (0.5 m)."""
    url = f"sqlite:///{tmp_path / 'scenes.db'}"
    db = Database(url)
    with db.session() as s:
        site = repo.add_site(s, SiteSpec(name="yard", geometry=to_wgs84(SITE_UTM)))
        for day, total, gsd, method in (
            (1, 234.0, 0.5, "objects"),
            (2, 76.04, 3.0, "length"),
            (3, None, 0.5, "objects"),
            (4, 225.0, 0.5, "objects"),
        ):
            info = FakeInfo(
                uri=f"/imagery/yard_2024070{day}_a_rather_long_file_name.tif",
                content_hash=f"{day:064d}",
                acquired=datetime(2024, 7, day, 2, 0, tzinfo=UTC),
                crs=CRS,
                footprint=to_wgs84(box(X0, Y0 - IMG_H_M, X0 + IMG_W_M, Y0)),
                gsd=gsd,
                width=100,
                height=100,
                sensor="PlanetScope-sim" if gsd > 1 else "SkySat-sim",
            )
            scene, _ = repo.add_scene(s, site, info, 1.0)
            if total is None:
                quality = FakeQuality(0.2, usable=False, reasons=(LONG_REASON,))
                repo.record_scene_result(s, scene.id, quality, [], None, "test", "1")
                continue
            count = FakeCount(total, total - 1, total + 1, {}, 0, method=method)
            repo.record_scene_result(s, scene.id, FakeQuality(0.97), [], count, "test", "1")
    return url


def _rows(out: str) -> dict[str, list[str]]:
    """Table rows by id: the cells of each line that starts with an id."""
    rows: dict[str, list[str]] = {}
    for line in out.splitlines():
        cells = [c.strip() for c in line.strip("│┃ ").split("│")]
        if cells and cells[0].isdigit():
            rows[cells[0]] = cells
    return rows


@pytest.mark.parametrize("width", [80, 120])
def test_scene_list_shows_each_images_count(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, width: int
) -> None:
    url = _db(tmp_path)
    monkeypatch.setattr(_common.console, "width", width)
    assert main(["--db", url, "scene", "list", "yard"]) == 0
    out = capsys.readouterr().out
    rows = _rows(out)
    # every id and date in full, and the count column: cars, car equivalents (≈), a gap
    assert sorted(rows) == ["1", "2", "3", "4"], out
    # at the site's local time, UTC+9 nominal at 130.6°E (session 32: the UTC time, 02:00)
    assert [r[1] for r in rows.values()] == [f"2024-07-0{d} 11:00" for d in (1, 2, 3, 4)]
    assert [r[5] for r in rows.values()] == ["234", "≈76", "-", "225"], out
    assert "unusable (only 27" in rows["3"][7 if width >= 100 else 6]
    assert "≈: car equivalents from occupied track length" in out
    assert all(len(line) <= width for line in out.splitlines())
    assert ("SkySat-sim" in out) == (width >= 100)


def test_scene_list_json_has_the_count(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = _db(tmp_path)
    assert main(["--db", url, "scene", "list", "yard", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [d["count"] and (d["count"]["total"], d["count"]["method"]) for d in data] == [
        (234.0, "objects"),
        (76.04, "length"),
        None,
        (225.0, "objects"),
    ]
