"""``railwatch scene import-reviews`` declares images unusable (2026-12-06, session 37):
an ``unusable`` column holding the analyst's reason (empty: the line is a count) does
what ``railwatch scene review ID --unusable REASON`` does, for a failed image too. A line
with both a count and a reason is refused with its number, the import stays all or none,
and an image declared already for the same reason is not written again. Before, the file
had no way to say so: the column was refused as unknown, and an export's line of a
failed image was passed over."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from railwatch.cli import _common
from railwatch.cli.main import main
from railwatch.storage import Database, repo
from railwatch.storage.models import Scene
from report_db import FakeCount
from test_import_reviews_s28 import _export, _write
from test_scene_review import _scene, _stored

REASON = "night image: the yard is dark"
DECLARED = f"unusable by analyst review: {REASON}"


@pytest.fixture(params=["sqlite", "postgresql"])
def cli_db(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Database]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'cli.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
    monkeypatch.setenv("RAILWATCH_DB", url)
    monkeypatch.setattr(_common.console, "width", 200)
    monkeypatch.setattr(_common.err_console, "width", 200)
    database = Database(url)
    yield database
    database.dispose()


def _state(db: Database, scene_id: int) -> tuple[str, list[str], Any]:
    with db.session(readonly=True) as s:
        sc = s.get(Scene, scene_id)
        assert sc is not None
        review = repo.get_scene_review(s, scene_id)
        return sc.status, list(sc.reasons), None if review is None else review.reviewed_at


def _import(path: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(["scene", "import-reviews", "yard", str(path), *args])
    out, err = capsys.readouterr()
    return code, " ".join(out.split()), " ".join(err.split())


def _three(db: Database) -> tuple[int, int, int]:
    """A counted image (61), a failed one, and another counted one (50)."""
    first = _scene(db)
    failed = _scene(db)
    third = _scene(db, count=FakeCount(50, 45, 60, {}, 3))
    with db.session() as s:
        repo.mark_scene_failed(s, failed, "cannot read the file: truncated at its source")
    return first, failed, third


def test_an_export_with_reasons_declares_its_images_unusable_a_failed_one_too(
    cli_db: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first, failed, third = _three(cli_db)
    rows = _export(tmp_path, capsys)
    by_id = {int(r["scene_id"]): r for r in rows}
    assert by_id[failed]["status"] == "failed"
    for r in rows:
        r["unusable"] = ""
    by_id[first]["count"] = ""  # declared: its count emptied
    by_id[first]["unusable"] = REASON
    by_id[failed]["unusable"] = "file corrupt at its source"
    by_id[third]["count"] = "52"
    path = tmp_path / "reviewed.csv"
    _write(path, rows)
    code, out, err = _import(path, capsys, "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["recorded"] == [{"scene_id": third, "counts": {"all": 52.0}, "replaced": None}]
    assert data["unusable"] == [
        {"scene_id": first, "reason": REASON, "replaced": None},
        {"scene_id": failed, "reason": "file corrupt at its source", "replaced": None},
    ]
    assert data["unchanged"] == []
    first_state = _state(cli_db, first)
    assert first_state[:2] == ("unusable", [DECLARED])
    assert _state(cli_db, failed)[:2] == (
        "unusable",
        ["unusable by analyst review: file corrupt at its source"],
    )
    assert _stored(cli_db, first) == {}  # a gap, never a zero
    assert _stored(cli_db, third)["all"][0] == 52.0
    # the same file again: nothing is rewritten
    code, out, err = _import(path, capsys, "--json")
    assert code == 0, err
    again = json.loads(out)
    assert again["recorded"] == [] and again["unusable"] == []
    assert again["unchanged"] == sorted([first, failed, third])
    assert _state(cli_db, first) == first_state


def test_a_declaration_over_a_count_says_what_it_replaced(
    cli_db: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first = _scene(cli_db)
    with cli_db.session() as s:
        repo.set_scene_review(s, first, {"all": 73}, note="counted by eye")
    path = tmp_path / "hand.csv"
    path.write_text(f'date,count,scene_id,unusable\n2023-10-05,,{first},"{REASON}"\n')
    code, out, err = _import(path, capsys)
    assert code == 0, err
    assert f'scene {first}: unusable - "{REASON}"' in out
    assert f"railwatch scene review {first} --remove" in out
    assert "It replaced your earlier review of" in out and "all 73" in out
    assert "counted by eye" in out
    assert "declared 1 image unusable" in out
    assert _state(cli_db, first)[:2] == ("unusable", [DECLARED])
    # --json gives the review it replaced, as `scene review --unusable --json` does
    second = _scene(cli_db)
    with cli_db.session() as s:
        repo.set_scene_review(s, second, {"all": 74})
    path.write_text(f"date,count,scene_id,unusable\n2023-10-06,,{second},{REASON}\n")
    code, out, err = _import(path, capsys, "--json")
    assert code == 0, err
    (entry,) = json.loads(out)["unusable"]
    assert entry["replaced"]["counts"]["all"] == 74.0
    assert entry["replaced"]["unusable"] is None


def test_a_line_with_a_count_and_a_reason_is_refused_and_nothing_is_stored(
    cli_db: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _first, failed, third = _three(cli_db)
    path = tmp_path / "both.csv"
    path.write_text(
        "date,count,scene_id,unusable\n"
        f"2023-10-06,,{failed},file corrupt\n"
        f"2023-10-07,50,{third},clouds over the yard\n"
    )
    code, _out, err = _import(path, capsys)
    assert code == 2
    assert "line 3: gives both a count (50) and an unusable reason" in err
    assert "empty the count to declare it, or the unusable cell to keep the count" in err
    assert _state(cli_db, failed)[0] == "failed"  # line 2 was not applied either
    assert _state(cli_db, third)[0] == "processed"


def test_a_bad_line_after_a_declaration_leaves_the_database_unchanged(
    cli_db: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first, _failed, third = _three(cli_db)
    with cli_db.session() as s:
        repo.set_scene_review(s, first, {"all": 73})
    path = tmp_path / "bad.csv"
    # line 3: a count that does not fit the site (refused by the review itself)
    path.write_text(
        f"date,count,scene_id,unusable\n2023-10-05,,{first},{REASON}\n2023-10-07,100000,{third},\n"
    )
    code, _out, err = _import(path, capsys)
    assert code == 2, err
    assert "line 3" in err
    assert _state(cli_db, first)[0] == "processed"  # its count review kept
    assert _stored(cli_db, first)["all"][0] == 73.0
    assert _stored(cli_db, third)["all"][0] == 50.0


def test_a_hand_line_without_scene_id_takes_its_days_one_image_of_any_state(
    cli_db: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _first, failed, _third = _three(cli_db)
    path = tmp_path / "hand.csv"
    path.write_text(f"date,count,unusable\n2023-10-06,,{REASON}\n")
    code, _out, err = _import(path, capsys)
    assert code == 0, err
    assert _state(cli_db, failed)[:2] == ("unusable", [DECLARED])
    # a day without an image is refused, naming the line
    path.write_text(f"date,count,unusable\n2023-10-20,,{REASON}\n")
    code, _out, err = _import(path, capsys)
    assert code == 2
    assert "line 2 (2023-10-20) is a day at site 'yard'" in err
    assert "which has no image" in err and "railwatch scene list yard" in err


def test_a_scene_both_counted_and_declared_is_refused_naming_both_lines(
    cli_db: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first, _failed, _third = _three(cli_db)
    path = tmp_path / "twice.csv"
    path.write_text(
        f"date,count,scene_id,unusable\n2023-10-05,70,{first},\n2023-10-05,,{first},{REASON}\n"
    )
    code, _out, err = _import(path, capsys)
    assert code == 2
    assert f"line 2 (2023-10-05) counts scene {first} and line 3 (2023-10-05) declares it" in err
    path.write_text(
        f"date,count,scene_id,unusable\n2023-10-05,,{first},{REASON}\n2023-10-05,70,{first},\n"
    )
    code, _out, err = _import(path, capsys)
    assert code == 2
    assert f"line 2 (2023-10-05) declares scene {first} unusable and line 3" in err
    path.write_text(
        f"date,count,scene_id,unusable\n2023-10-05,,{first},{REASON}\n2023-10-05,,{first},clouds\n"
    )
    code, _out, err = _import(path, capsys)
    assert code == 2
    assert "both declare scene" in err and "for different reasons" in err
    assert _state(cli_db, first)[0] == "processed"
    assert _stored(cli_db, first)["all"][0] == 61.0


def test_a_reason_over_two_lines_is_refused_with_its_line(
    cli_db: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first = _scene(cli_db)
    path = tmp_path / "quote.csv"
    path.write_text(f'date,count,scene_id,unusable\n2023-10-05,,{first},"night\nimage"\n')
    code, _out, err = _import(path, capsys)
    assert code == 2
    assert "line 2: the unusable value" in err and "spans several lines" in err
    assert _state(cli_db, first)[0] == "processed"


def test_the_help_names_the_unusable_column(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scene", "import-reviews", "--help"]) == 0
    text = " ".join(capsys.readouterr().out.replace("│", " ").split())
    assert "An optional unusable column (this command's only) declares an image unusable" in text
    assert "railwatch scene review ID --remove" in text


def test_a_reason_the_review_refuses_is_named_by_its_line(
    cli_db: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first, _failed, third = _three(cli_db)
    path = tmp_path / "tab.csv"
    path.write_text(
        f'date,count,scene_id,unusable\n2023-10-05,,{first},"night\timage"\n'
        f"2023-10-07,55,{third},\n"
    )
    code, _out, err = _import(path, capsys)
    assert code == 2
    assert f"line 2 (2023-10-05), of 2023-10-05 at the site (scene {first}):" in err
    assert "holds a tab at character 6: keep it on one line" in err
    assert _state(cli_db, first)[0] == "processed"
    assert _stored(cli_db, third)["all"][0] == 50.0  # the count of line 3 was not kept
