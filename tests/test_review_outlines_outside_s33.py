"""``railwatch scene review ID --cars FILE`` says how many of the outlines lie outside
the site and were not counted (session 33: "all 49 ... from 50 outlines" left the
analyst to guess where the 50th went); `scene show` says it too."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from shapely.geometry import box, mapping

from railwatch.cli import _common
from railwatch.cli.main import main
from railwatch.sites import SiteSpec
from railwatch.storage import Database, repo
from report_db import (
    SITE_UTM,
    X0,
    Y0,
    FakeCount,
    add_counted_scene,
    to_wgs84,
)


def _scene(db: Database) -> int:
    with db.session() as s:
        site = repo.add_site(s, SiteSpec(name="yard", geometry=to_wgs84(SITE_UTM)))
        count = FakeCount(61.0, 55.0, 70.0, {"boxcar": (61.0, 55.0, 70.0)}, 0)
        return add_counted_scene(s, site, datetime(2023, 10, 5, 2, 0, tzinfo=UTC), 0.5, count, 1)


def _car(x: float, y: float) -> dict[str, object]:
    body = to_wgs84(box(x - 7, y - 1.5, x + 7, y + 1.5))
    return {
        "type": "Feature",
        "geometry": mapping(body),
        "properties": {"class": "boxcar", "covered": False, "score": 0.9},
    }


@pytest.mark.parametrize(("outside", "words"), [(1, "1 lies"), (2, "2 lie")])
def test_outlines_outside_the_site_are_said_not_counted(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    outside: int,
    words: str,
) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("RAILWATCH_DB", url)
    monkeypatch.setattr(_common.console, "width", 200)
    sid = _scene(Database(url))
    y = Y0 - 100.0
    inside = [_car(X0 + 100 + 15 * i, y) for i in range(3)]
    beyond = [_car(X0 + 20, y - 10 * i) for i in range(outside)]  # the site starts at X0 + 50
    path = tmp_path / "truth.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": inside + beyond}))
    assert main(["scene", "review", str(sid), "--cars", str(path)]) == 0
    out = " ".join(capsys.readouterr().out.split())
    n = 3 + outside
    assert "all 3" in out
    assert f"from {n} outlines ({words} outside the site: not counted)" in out
    assert main(["scene", "show", str(sid)]) == 0
    shown = " ".join(capsys.readouterr().out.split())
    assert f"from {n} outlines ({words} outside the site: not counted)" in shown
    # every outline in the site: nothing more said
    path.write_text(json.dumps({"type": "FeatureCollection", "features": inside}))
    assert main(["scene", "review", str(sid), "--cars", str(path)]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "from 3 outlines;" in out and "outside" not in out
