"""The entry point: exit codes and one-line errors (regressions found in review)."""

from __future__ import annotations

import pytest

from railwatch.cli.main import main


def test_usage_error_is_exit_2_not_internal_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["site", "list", "--bogus"]) == 2
    err = capsys.readouterr().err
    assert "No such option: --bogus" in err
    assert "internal error" not in err


def test_bad_option_value_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["process", "--usable-threshold", "3", "x"]) == 2
    assert "--usable-threshold" in capsys.readouterr().err


def test_error_text_with_markup_is_printed_verbatim(
    tmp_path: object, capsys: pytest.CaptureFixture[str]
) -> None:
    db = f"sqlite:///{tmp_path}/rw.db"
    assert main(["--db", db, "site", "add", "yard", "--bbox", "130.6,42.42,130.61,42.43"]) == 0
    assert main(["--db", db, "site", "show", "a[/]"]) == 1
    err = capsys.readouterr().err
    assert "a[/]" in err and "Traceback" not in err


def test_command_exit_code_is_returned(tmp_path: object) -> None:
    # `ingest` of only bad files exits non-zero; the code must reach the shell.
    bad = f"{tmp_path}/nothing_here.tif"
    db = f"sqlite:///{tmp_path}/rw.db"
    assert main(["--db", db, "site", "add", "s", "--bbox", "130.60,42.41,130.61,42.42"]) == 0
    assert main(["--db", db, "ingest", "s", bad]) != 0


def test_version() -> None:
    assert main(["--version"]) == 0


def test_command_list_has_one_paragraph_per_command(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The docstrings' line breaks showed in `railwatch --help`'s command list: at 200
    columns calibrate's summary still broke after 'store the' (and demo's after
    'cached after the'), a ragged list."""
    monkeypatch.setenv("COLUMNS", "200")
    assert main(["--help"]) == 0
    lines = capsys.readouterr().out.splitlines()
    calibrate = next(line for line in lines if "│ calibrate" in line)
    assert "store the result in the card next to the weights" in calibrate
    demo = next(line for line in lines if "│ demo" in line)
    assert "(cached after the first run)" in demo
