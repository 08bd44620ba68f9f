"""``railwatch scene review ID --count N`` says what it stored besides the analyst's
numbers (2026-12-06, session 38): the types and covered count kept from the detector,
and the ``railcar`` (type unsure) rest of the total that replaces the detector's untyped
cars; ``--json`` gives each stored row with its source. Before, ``--count 9`` on a scene
of 3 boxcars and 10 untyped cars printed "all 9" and stored ``railcar 6`` and ``boxcar
3`` without a word. And the scene is locked (its site's row held first) before the
review it replaces is read."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from railwatch.cli import _common
from railwatch.cli.main import main
from railwatch.storage import Database, repo
from report_db import FakeCount
from test_scene_review import _scene

UNTYPED = FakeCount(13, 11, 15, {"boxcar": (3, 2, 4), "railcar": (10, 8, 12)}, 2)


@pytest.fixture
def cli_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Database]:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("RAILWATCH_DB", url)
    monkeypatch.setattr(_common.console, "width", 300)
    monkeypatch.setattr(_common.err_console, "width", 300)
    database = Database(url)
    yield database
    database.dispose()


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    capsys.readouterr()
    code = main(["scene", "review", *args])
    out, err = capsys.readouterr()
    assert code == 0, err
    return out


def test_a_total_says_what_was_kept_and_what_became_the_untyped_rest(
    cli_db: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    sid = _scene(cli_db, count=UNTYPED)
    out = " ".join(_run(capsys, str(sid), "--count", "9").split())
    assert "kept from the detector: boxcar 3 [2-4], covered 2;" in out  # no interval: s41
    assert "railcar (type unsure) 6: the cars of your total that no type accounts for" in out
    data = json.loads(_run(capsys, str(sid), "--count", "9", "--json"))
    stored = data["stored_counts"]
    assert {k: (v["count"], v["source"]) for k, v in stored.items()} == {
        "all": (9.0, "analyst"),
        "boxcar": (3.0, "detector"),
        "covered": (2.0, "detector"),
        "railcar": (6.0, "rest"),
    }


def test_a_review_giving_every_class_adds_no_line(
    cli_db: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    sid = _scene(cli_db, count=UNTYPED)
    out = _run(
        capsys,
        str(sid),
        "--count",
        "9",
        "--class",
        "boxcar=4",
        "--class",
        "railcar=5",
        "--covered",
        "1",
    )
    assert "Stored besides" not in out
    data = json.loads(_run(capsys, str(sid), "--remove", "--json"))
    # removed: the detector's rows are back, each said so
    assert {k: v["source"] for k, v in data["stored_counts"].items()} == dict.fromkeys(
        ("all", "boxcar", "covered", "railcar"), "detector"
    )


def lock_order(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The calls of ``repo.hold_site``, ``lock_scene`` and ``get_scene_review``, in order
    ("hold", "lock", "read"), recorded from now on."""
    events: list[str] = []
    hold, lock, read = repo.hold_site, repo.lock_scene, repo.get_scene_review

    def holding(session: Any, name: Any, doing: str) -> Any:
        events.append("hold")
        return hold(session, name, doing)

    def locking(session: Any, scene_id: int) -> Any:
        events.append("lock")
        return lock(session, scene_id)

    def reading(session: Any, scene_id: int) -> Any:
        events.append("read")
        return read(session, scene_id)

    monkeypatch.setattr(repo, "hold_site", holding)
    monkeypatch.setattr(repo, "lock_scene", locking)
    monkeypatch.setattr(repo, "get_scene_review", reading)
    return events


def test_the_scene_is_locked_before_the_review_it_replaces_is_read(
    cli_db: Database, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    sid = _scene(cli_db, count=UNTYPED)
    events = lock_order(monkeypatch)
    _run(capsys, str(sid), "--count", "9")
    assert events[:3] == ["hold", "lock", "read"], events
