"""Session 28: ``railwatch scene review`` refuses a total or covered count given twice
with two values (``--count 5 --class all=3``): it recorded one of them without a word."""

from __future__ import annotations

from pathlib import Path

import pytest

from railwatch.cli import _common
from railwatch.cli.main import main
from railwatch.storage import Database
from test_scene_review import _scene, _stored


@pytest.fixture
def cli_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Database:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("RAILWATCH_DB", url)
    monkeypatch.setattr(_common.console, "width", 120)
    return Database(url)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--count", "70", "--class", "all=65"], "--count 70 and --class all=65 disagree"),
        (["--class", "all=65", "--count", "70"], "--count 70 and --class all=65 disagree"),
        (
            ["--count", "70", "--covered", "30", "--class", "covered=20"],
            "--covered 30 and --class covered=20 disagree",
        ),
    ],
)
def test_a_count_given_twice_with_two_values_is_refused(
    cli_db: Database, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    sid = _scene(cli_db)
    assert main(["scene", "review", str(sid), *args]) == 2
    assert message in capsys.readouterr().err
    assert _stored(cli_db, sid)["all"] == (61.0, 55.0, 70.0, "default")


def test_the_same_value_given_twice_is_recorded(
    cli_db: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    sid = _scene(cli_db)
    args = ["--count", "70", "--class", "all=70", "--covered", "30", "--class", "covered=30"]
    assert main(["scene", "review", str(sid), *args]) == 0
    stored = _stored(cli_db, sid)
    assert stored["all"][0] == 70.0 and stored["covered"][0] == 30.0
