"""One wording of 'changed since acknowledged' for the CLI, the report and the dashboard
(storage.repo.changed_since_words; the dashboard's site.js follows it). Before, three
copies said 'on scene 7', 'on another image' and 'on image #7' for the same change."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from railwatch.storage.repo import changed_since_words

MARK = {"value": 40.0, "severity": "medium", "explanation": "40 railcars", "scene_id": 7}


def test_the_three_cases() -> None:
    same: dict[str, Any] = {"severity": "medium", "scene_id": 7}
    assert changed_since_words(MARK, value=36.0, **same) == (
        "changed since acknowledged: was 40 (medium)"
    )
    assert changed_since_words(MARK, value=40.0, **same) == (
        "changed since acknowledged: was 40 (medium): 40 railcars"
    )
    assert changed_since_words(MARK, value=40.0, severity="medium", scene_id=9) == (
        "changed since acknowledged: was 40 (medium) on another image (scene 7)"
    )
    none = {**MARK, "value": None, "scene_id": None}
    assert changed_since_words(none, value=3.5, severity="low", scene_id=9) == (
        "changed since acknowledged: was no count (medium) on no image"
    )
    assert "was 36.5 (" in changed_since_words({**MARK, "value": 36.5}, value=1.0, **same)


def test_the_cli_and_the_report_use_it_and_the_dashboard_words_it_alike() -> None:
    src = Path(__file__).resolve().parents[1] / "src" / "railwatch"
    for module in ("cli/alerts.py", "report/data.py"):
        assert "changed_since_words(" in (src / module).read_text(), module
    js = (src / "web/static/js/site.js").read_text()
    assert re.search(r"on another image \(scene \$\{was\.scene_id\}\)", js)
    assert "on image #" not in js
