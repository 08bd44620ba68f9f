"""What several commands share (``railwatch.cli._common``): ``--bands`` and
``--radiometry`` mean, read and refuse the same in each command that takes them,
``--date``-like options are read by one parser, and ``ingest`` and ``ingest-stac`` end a
batch in which some inputs failed with the same sentence."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from railwatch.cli._common import (
    bands_option,
    parse_bands_option,
    parse_date_option,
    parse_radiometry_option,
    partly_failed,
    plural_s,
    radiometry_option,
)
from railwatch.cli.main import main
from railwatch.errors import InputError

BANDS_REFUSED = "--bands '1,2': give the red, green and blue band numbers (from 1) as R,G,B"
RADIOMETRY_REFUSED = "--radiometry 'lin': give 'linear' (radiance or reflectance"


def test_parse_bands_option() -> None:
    assert parse_bands_option(None) is None
    assert parse_bands_option(" 3, 2,1") == (3, 2, 1)
    with pytest.raises(InputError) as err:
        parse_bands_option("1,2")
    assert str(err.value).startswith(BANDS_REFUSED)


def test_parse_radiometry_option() -> None:
    assert parse_radiometry_option(None) is None
    assert parse_radiometry_option(" Display ") == "display"
    assert parse_radiometry_option("linear") == "linear"
    with pytest.raises(InputError) as err:
        parse_radiometry_option("lin")
    assert str(err.value).startswith(RADIOMETRY_REFUSED)


def test_parse_date_option() -> None:
    assert parse_date_option(None) is None
    assert parse_date_option("2023-10-05") == datetime(2023, 10, 5, tzinfo=UTC)
    with pytest.raises(InputError, match="--since '2024-02-30' is not a valid calendar date"):
        parse_date_option("2024-02-30", "--since")


def test_option_declarations_carry_the_form_and_the_commands_help() -> None:
    bands = bands_option("help for bands")
    radiometry = radiometry_option("help for radiometry")
    assert bands.metavar == "R,G,B" and bands.help == "help for bands"
    assert radiometry.metavar == "linear|display" and radiometry.help == "help for radiometry"


@pytest.mark.parametrize(
    "command",
    [
        ["ingest", "yard", "{image}"],
        ["ingest", "yard", "--stac", "http://127.0.0.1:9/stac"],
        ["ingest-stac", "yard", "--stac", "http://127.0.0.1:9/stac"],
        ["detect", "{image}"],
        ["eval", "--truth", "{folder}", "--detector", "default"],
    ],
)
def test_every_command_refuses_a_bad_radiometry_alike(
    command: list[str], tmp_path: Path, tmp_db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    image = tmp_path / "yard.tif"
    image.write_bytes(b"")
    args = [a.format(image=image, folder=tmp_path) for a in command]
    assert main(["--db", tmp_db_url, *args, "--radiometry", "lin"]) == 2
    assert f"error: {RADIOMETRY_REFUSED}" in " ".join(capsys.readouterr().err.split())
    assert not (tmp_path / "railwatch-test.db").exists()  # refused before any database


@pytest.mark.parametrize("command", [["ingest", "yard", "{image}"], ["detect", "{image}"]])
def test_every_command_refuses_bad_bands_alike(
    command: list[str], tmp_path: Path, tmp_db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    image = tmp_path / "yard.tif"
    image.write_bytes(b"")
    args = [a.format(image=image) for a in command]
    assert main(["--db", tmp_db_url, *args, "--bands", "1,2"]) == 2
    assert f"error: {BANDS_REFUSED}" in " ".join(capsys.readouterr().err.split())


@pytest.mark.parametrize("command", ["ingest", "ingest-stac", "detect", "eval"])
def test_help_shows_the_shared_radiometry_form(
    command: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    assert main([command, "--help"]) == 0
    out = capsys.readouterr().out
    assert "--radiometry" in out and "linear|display" in out
    if command in ("ingest", "detect"):
        assert "--bands" in out and "R,G,B" in out


def test_plural_s() -> None:
    assert [f"{n} file{plural_s(n)}" for n in (0, 1, 2)] == ["0 files", "1 file", "2 files"]


def test_partly_failed_says_how_many_what_is_kept_and_what_to_do() -> None:
    again = "files already ingested are not ingested twice"
    assert partly_failed(1, 1, 0, "file", again) == (
        "1 of 1 file failed (listed above with the reason); fix what each reason says and "
        "run it again: files already ingested are not ingested twice"
    )
    assert partly_failed(5, 19, 12, "file", again).startswith(
        "5 of 19 files failed (listed above with the reason); the 12 new scenes are kept; fix"
    )
    twice = "items already registered are not registered twice"
    assert partly_failed(1, 2, 1, "STAC item", twice) == (
        "1 of 2 STAC items failed (listed above with the reason); the 1 new scene is kept; fix "
        "what each reason says and run it again: items already registered are not registered twice"
    )
