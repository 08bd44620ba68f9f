"""Review r1 of da3357f (session 38): ``scene review ID --count N`` on an image counted by
occupied track length (3 m) said "Stored besides your counts: kept from the detector:
railcar 8.1 [3.5-17]" and ``--json``'s ``stored_counts`` gave that row as a count: the
detector's ``railcar`` row of a length count, a class the method does not tell, which
every reader (series, exports, the scene's own text) gives as unknown, never a count."""

from __future__ import annotations

import json

import pytest

from railwatch.storage import Database
from report_db import FakeCount
from test_scene_review import _scene
from test_scene_review_stored_s38 import _run, cli_db  # noqa: F401

#: a 3 m image counted by occupied length: the detector stores `railcar` beside `all`
LENGTH = FakeCount(8.14, 3.54, 16.98, {"railcar": (8.14, 3.54, 16.98)}, 0, method="length")


def test_a_length_count_review_says_nothing_kept_of_untold_classes(
    cli_db: Database,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    sid = _scene(cli_db, gsd=3.0, count=LENGTH)
    out = " ".join(_run(capsys, str(sid), "--count", "9").split())
    assert "all 9" in out
    assert "Stored besides" not in out and "kept from the detector" not in out
    data = json.loads(_run(capsys, str(sid), "--count", "9", "--json"))
    assert {k: (v["count"], v["source"]) for k, v in data["stored_counts"].items()} == {
        "all": (9.0, "analyst")
    }
    # removed: the detector's total is back, its untold railcar row still not a count
    data = json.loads(_run(capsys, str(sid), "--remove", "--json"))
    assert {k: (v["count"], v["source"]) for k, v in data["stored_counts"].items()} == {
        "all": (8.14, "detector")
    }
