"""New quality rules judge the stored scenes again (session 43).

Until session 43 the quality rules had no version: a scene judged unusable by older
rules (a summer yard at 1.5 m read as 31 % snow before session 42) kept that verdict
until ``railwatch process --reprocess``, while a new detector had every scene counted
again. Every processing version now ends with ``+q{QUALITY_VERSION}``."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from railwatch import pipeline
from railwatch.imagery.quality import QUALITY_VERSION
from railwatch.pipeline import process_site
from railwatch.report.caveats import build_caveats
from railwatch.storage import Database, repo
from test_detect_fakes import BrightBlobDetector
from test_pipeline import site_db  # noqa: F401  (the fixture)
from test_report_caveats_versions import _row


def _detector() -> BrightBlobDetector:
    det = BrightBlobDetector()
    det.name, det.version = "fake", "1"
    return det


def _statuses(db: Database) -> dict[str, tuple[str, str | None]]:
    with db.session() as s:
        return {
            sc.uri.rsplit("/", 1)[-1]: (sc.status, sc.detector_version)
            for sc in repo.list_scenes(s, "yard")
        }


def test_a_scene_judged_unusable_by_older_rules_is_judged_again(
    site_db: tuple[Database, Path],  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    db, _ = site_db
    real = pipeline.assess_quality

    def older_rules(raster: Any, **kw: Any) -> Any:  # they called every image snow
        q = real(raster, **kw)
        return dataclasses.replace(q, usable=False, reasons=("snow covers 31% of the site",))

    with monkeypatch.context() as m:
        m.setattr(pipeline, "QUALITY_VERSION", "0", raising=False)
        m.setattr(pipeline, "assess_quality", older_rules)
        first = process_site(db, "yard", detector=_detector())
    assert len(first.unusable) == 3
    assert {status for status, _ in _statuses(db).values()} == {"unusable"}

    again = process_site(db, "yard", detector=_detector())  # today's rules, no --reprocess
    assert again.skipped == 0 and len(again.processed) == 2 and len(again.unusable) == 1
    now = _statuses(db)
    assert now["fine.tif"] == ("processed", f"1+q{QUALITY_VERSION}")
    assert now["cloudy.tif"][0] == "unusable"  # still cloudy under today's rules
    assert now["coarse.tif"][0] == "processed"
    assert all(v is not None and v.endswith(f"+q{QUALITY_VERSION}") for _, v in now.values())
    assert process_site(db, "yard", detector=_detector()).skipped == 3  # up to date now


def test_the_quality_rules_version_is_not_a_second_detector_in_the_report() -> None:
    q = f"+q{QUALITY_VERSION}"
    rows = [_row(0, "objects", f"2.9{q}"), _row(1, "objects", f"2.9+in3{q}")]
    assert [c for c in build_caveats(rows) if "versions" in c] == []
    rows = [_row(0, "objects", f"2.8{q}"), _row(1, "objects", f"2.9+ind3{q}")]
    (caveat,) = [c for c in build_caveats(rows) if "versions" in c]
    assert "2 detector versions" in caveat and "2.8" in caveat and "+q" not in caveat
