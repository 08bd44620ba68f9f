"""Usage errors say ``error:`` as railwatch's own errors do (2026-12-06, session 38).

click's usage errors (unknown option, missing argument, bad value) were written by
click's ``UsageError.show()``, which hard-codes ``Error: ...``, while every other error
of railwatch reads ``error: ...`` (with later lines indented under the first). Now the
usage line and click's ``Try '... -h' for help.`` come first, as before, then the
message with railwatch's prefix; the exit status stays 2, ``railwatch`` or a group given
no command still shows its help, and the hint for a root option given after the command
still follows. Both copies of click (``click`` and typer's ``typer._click``) are said so.
"""

from __future__ import annotations

import io
from pathlib import Path

import click
import pytest
from rich.console import Console

from railwatch.cli import main as cli_main
from railwatch.cli.main import main


def _err_lines(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, list[str]]:
    capsys.readouterr()
    code = main(argv)
    out = capsys.readouterr()
    assert out.out == ""
    return code, out.err.splitlines()


def test_an_unknown_option_says_error_after_the_usage(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    code, lines = _err_lines(["site", "list", "--bogus"], capsys)
    assert code == 2
    assert lines == [
        "Usage: railwatch site list [OPTIONS]",
        "Try 'railwatch site list -h' for help.",
        "",
        "error: No such option: --bogus",
    ]


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["site", "show"], "error: Missing argument 'name'."),
        (
            ["process", "--usable-threshold", "3", "x"],
            "error: Invalid value for '--usable-threshold': ",
        ),
        (["sitee", "list"], "error: No such command 'sitee'. Did you mean 'site'"),
    ],
)
def test_missing_argument_bad_value_and_unknown_command_say_error(
    argv: list[str],
    said: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    code, lines = _err_lines(argv, capsys)
    assert code == 2
    assert lines[0].startswith("Usage: railwatch ")
    assert lines[1].startswith("Try 'railwatch") and lines[1].endswith(" -h' for help.")
    assert lines[2] == ""
    assert lines[3].startswith(said)
    assert not any(line.startswith("Error:") for line in lines)


def test_the_root_option_hint_still_follows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    code, lines = _err_lines(["site", "list", "--db", "sqlite:///x.db"], capsys)
    assert code == 2
    assert lines[3] == "error: No such option: --db"
    assert lines[4].startswith("--db is an option of railwatch itself")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("argv", [[], ["site"]])
def test_no_command_still_shows_the_help(
    argv: list[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COLUMNS", "100")
    assert main(argv) == 2
    out = capsys.readouterr()
    assert "Usage: railwatch" in out.out + out.err
    assert "error:" not in (out.out + out.err).lower()


def _said(exc: Exception) -> str:
    buffer = io.StringIO()
    console = Console(file=buffer, width=80, color_system=None, soft_wrap=True)
    cli_main._say_usage_error(exc, console)
    return buffer.getvalue()


def test_a_usage_error_of_either_click_copy_reads_alike() -> None:
    import typer._click as vendored  # type: ignore[import-not-found,unused-ignore]
    from typer.core import TyperCommand

    said = []
    for module, command_class in ((click, click.Command), (vendored, TyperCommand)):
        command = command_class("go")
        ctx = module.Context(command, info_name="railwatch go")
        ctx.help_option_names = ["-h", "--help"]
        error = module.exceptions.UsageError("first line\nsecond line", ctx)
        said.append(_said(error))
    assert said[0] == said[1]
    assert said[0].splitlines() == [
        "Usage: railwatch go [OPTIONS]",
        "Try 'railwatch go -h' for help.",
        "",
        "error: first line",
        "       second line",
    ]


def test_a_click_exception_without_context_is_one_error_line() -> None:
    assert _said(click.ClickException("cannot go")) == "error: cannot go\n"


def test_no_args_is_help_of_plain_click_shows_the_help(
    capsys: pytest.CaptureFixture[str],
) -> None:
    command = click.Group("yard", help="The yard's commands.")
    ctx = click.Context(command, info_name="yard")
    assert _said(click.exceptions.NoArgsIsHelpError(ctx)) == ""
    assert "The yard's commands." in capsys.readouterr().err
