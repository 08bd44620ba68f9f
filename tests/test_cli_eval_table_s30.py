"""`railwatch eval` tables: no precision, recall or F1 where no box was scored.

`railwatch eval --site SITE` on a site whose reviews are counts only (`scene review ID
--count N`: no outlines, so no box to match) showed P, R and F1 of 1 at both IoUs, as if
the detector had found every car and nothing else.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from railwatch.cli import _common
from railwatch.cli.main import main
from railwatch.sites import SiteSpec
from railwatch.storage import Database, repo
from report_db import (
    SITE_UTM,
    FakeCount,
    add_counted_scene,
    to_wgs84,
)


@pytest.fixture
def url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'eval.db'}"
    monkeypatch.setenv("RAILWATCH_DB", url)
    monkeypatch.setattr(_common.console, "width", 120)
    db = Database(url)
    with db.session() as s:
        site = repo.add_site(s, SiteSpec(name="yard", geometry=to_wgs84(SITE_UTM)))
        when = datetime(2023, 10, 5, 2, 0, tzinfo=UTC)
        scene_id = add_counted_scene(s, site, when, 0.5, FakeCount(28, 23, 50, {}, 0), 5)
    with db.session() as s:
        repo.set_scene_review(s, scene_id, {"all": 41})
    db.dispose()
    return url


def _row(out: str, label: str) -> list[str]:
    line = next(ln for ln in out.splitlines() if ln.startswith(f"│ {label} "))
    return [cell.strip() for cell in line.strip("│").split("│")]


def test_counts_only_reviews_score_no_boxes(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["eval", "--site", "yard"]) == 0
    out = capsys.readouterr().out
    # no box was matched, and the heading says so (session 40: "boxes matched")
    assert out.startswith("Detection evaluation (1 scene): no box labels; ")
    head, counts = out.split("Counts per scene")
    assert _row(head, "all") == ["all", "0", "–", "–", "–", "–", "–", "–"]
    assert _row(counts, "all")[1] == "13"  # the count error is scored: 41 against 28
