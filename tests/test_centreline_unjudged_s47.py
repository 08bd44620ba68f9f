"""``site edit --tracks``: the lines the check could not judge are named (2026-12-07,
session 47: the real-image walk drew a line 2.5 m off its track, beyond the 2.4 m within
which cars are taken as the line's; it was never warned of, and the message said only
"2 of 4 lines had at least 5 cars near them to judge by", not which two to check)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from railwatch.analysis.centrelines import MIN_CARS
from test_centreline_edit_s42 import _copy, _run, yard  # noqa: F401


def test_the_lines_with_too_few_cars_to_judge_are_named(
    yard: dict[str, Any],  # noqa: F811
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    url = _copy(yard["url"], tmp_path)
    edit = ["--db", url, "site", "edit", "yard", "--tracks"]
    # lines that differ from the site's (a line moved 2 m), then its own again, checked
    assert _run(capsys, *edit, str(yard["moved"]))[0] == 0
    code, out, err = _run(capsys, *edit, str(yard["exact"]), "--json")
    assert code == 0, err
    lines = json.loads(out)["centrelines"]["lines"]
    few = [line["line"] for line in lines if line["cars"] < MIN_CARS]
    assert few and len(few) < len(lines)  # the simulated yard has both kinds
    assert _run(capsys, *edit, str(yard["moved"]))[0] == 0
    code, out, err = _run(capsys, *edit, str(yard["exact"]))
    assert code == 0, err
    judged = len(lines) - len(few)
    assert f"({judged} of {len(lines)} lines had at least {MIN_CARS} cars near them" in out
    named = ", ".join(map(str, few[:-1])) + f" and {few[-1]}" if len(few) > 1 else str(few[0])
    assert f"line{'s' if len(few) > 1 else ''} {named} had fewer within 2.4 m" in out, out
    assert "as a line drawn that far off its track would" in out
    assert "by eye on an image of 1 m or finer" in out
