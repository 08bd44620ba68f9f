"""``railwatch scene list`` / ``show`` on coarse images: a 10 m image says whether a long
train is present (it read "≈0" under the car-equivalents legend), and a 3 m count says
whether it rests on the site's centrelines or on lines found in the image."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from shapely.geometry import box

from railwatch.cli import _common
from railwatch.cli.main import main
from railwatch.counting import SceneCount
from railwatch.sites import SiteSpec
from railwatch.storage import Database, repo
from report_db import CRS, IMG_H_M, IMG_W_M, SITE_UTM, X0, Y0, FakeInfo, FakeQuality, to_wgs84


def _db(tmp_path: Path) -> tuple[str, list[int]]:
    """Three coarse scenes: 10 m without a long train, 10 m with one, and 3 m read along
    lines found in the image (the site has no centrelines)."""
    url = f"sqlite:///{tmp_path / 'coarse.db'}"
    db = Database(url)
    ids = []
    with db.session() as s:
        site = repo.add_site(s, SiteSpec(name="yard", geometry=to_wgs84(SITE_UTM)))
        for day, gsd, count in (
            (1, 10.0, SceneCount(0.0, 0.0, 0.0, {}, 0, "presence", track_m=420.0, tracks="found")),
            (2, 10.0, SceneCount(1.0, 1.0, 1.0, {}, 0, "presence", track_m=410.0, tracks="found")),
            (
                3,
                3.0,
                SceneCount(
                    12.5, 9.0, 18.0, {"railcar": (12.5, 9.0, 18.0)}, 0, "length",
                    track_m=640.0, tracks="found",
                ),
            ),
        ):  # fmt: skip
            info = FakeInfo(
                uri=f"/imagery/yard_{day}.tif",
                content_hash=f"{day:064d}",
                acquired=datetime(2024, 7, day, 2, 0, tzinfo=UTC),
                crs=CRS,
                footprint=to_wgs84(box(X0, Y0 - IMG_H_M, X0 + IMG_W_M, Y0)),
                gsd=gsd,
                width=40,
                height=20,
            )
            scene, _ = repo.add_scene(s, site, info, 1.0)
            repo.record_scene_result(s, scene.id, FakeQuality(0.97), [], count, "test", "1")
            ids.append(int(scene.id))
    db.dispose()
    return url, ids


def test_scene_list_says_long_train_not_a_count(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, _ = _db(tmp_path)
    monkeypatch.setattr(_common.console, "width", 120)
    assert main(["--db", url, "scene", "list", "yard"]) == 0
    out = capsys.readouterr().out
    counts = [line.split("│")[6].strip() for line in out.splitlines() if line.startswith("│")]
    assert counts == ["no long train", "long train", "≈12.5"], out  # was ≈0, ≈1
    assert "10 m and coarser imagery tells only whether a long train is present" in out
    assert main(["--db", url, "scene", "list", "yard", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [d["count"]["long_train_present"] for d in data] == [False, True, None]


def test_scene_show_says_where_the_track_lines_came_from(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, (empty, train, coarse) = _db(tmp_path)
    monkeypatch.setattr(_common.console, "width", 200)
    assert main(["--db", url, "scene", "show", str(coarse)]) == 0
    out = capsys.readouterr().out
    assert "640 m of track read, along lines found in the image" in out, out
    assert "railcar" not in out  # a 3 m count tells the total only
    assert "all 12.5 [9-18] car equivalents" in out
    assert main(["--db", url, "scene", "show", str(empty)]) == 0
    out = capsys.readouterr().out
    assert "no long train" in out and "all 0" not in out, out
    assert main(["--db", url, "scene", "show", str(train), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["coarse"] == {"tracks": "found", "track_m": 410.0}


def test_count_scene_records_lines_given_or_found() -> None:
    """count_scene says where a coarse count's track lines came from (scene show reads it
    from the scene's metadata, where record_scene_result puts it)."""
    from pyproj import Transformer
    from shapely.geometry import LineString, MultiLineString

    from railwatch.counting import count_scene
    from railwatch.sim import SceneParams, render_scene

    scene = render_scene(SceneParams(seed=5, size_px=(120, 120), gsd=3.0, n_cars=20))
    everywhere = np.ones(scene.image.shape[:2], dtype=bool)
    raster = SimpleNamespace(
        image=scene.image,
        valid=everywhere,
        inside=everywhere,
        mask=None,
        grid=SimpleNamespace(gsd=3.0, crs=scene.crs, transform=scene.transform),
    )
    quality = SimpleNamespace(clear_fraction=1.0, coverage=1.0, haze_fraction=0.0)
    found = count_scene([], raster, quality)
    assert found.tracks == "found"
    tr = Transformer.from_crs(scene.crs, "EPSG:4326", always_xy=True)
    lines = MultiLineString(
        [LineString(np.column_stack(tr.transform(*np.asarray(t.coords).T))) for t in scene.tracks]
    )
    given = count_scene([], raster, quality, tracks_wgs84=lines)
    assert given.tracks == "given" and given.track_m
