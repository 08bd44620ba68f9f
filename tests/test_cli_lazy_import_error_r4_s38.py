"""An error while a command's module is imported is that error, never "No such command".

Since e9dee74 (session 38) the root group imports a command's module when the command is
used (``railwatch.cli._commands.LazyCommands``). click looks a command up with
``commands.get(name)``, and ``Mapping.get`` took a ``KeyError`` raised by that import (a
module-level ``os.environ[...]``, a lookup in a package's tables) for "no such command":
``railwatch site list`` said "No such command 'site'. Did you mean 'site'?", status 2, and
``--debug`` showed no traceback. Before e9dee74 it was an internal error (status 70) with
its traceback under ``--debug``, as it is again. Review r4, session 38."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import typer

from railwatch.cli import main as cli_main


def _import_fails(monkeypatch: pytest.MonkeyPatch, module: str, error: Exception) -> list[str]:
    """Make importing ``railwatch.cli.MODULE`` (what the root group loads) raise ``error``;
    the modules loaded are appended to the list returned."""
    load = cli_main.command_app
    loaded: list[str] = []

    def command_app(name: str) -> Any:
        loaded.append(name)
        if name == module:
            raise error
        return load(name)

    monkeypatch.setattr(cli_main, "command_app", command_app)
    return loaded


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAILWATCH_DB", f"sqlite:///{tmp_path / 'rw.db'}")
    monkeypatch.chdir(tmp_path)


def test_a_key_error_importing_a_command_is_an_internal_error(
    db: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _import_fails(monkeypatch, "site", KeyError("PROJ_DATA"))
    assert cli_main.main(["site", "list"]) == 70
    err = capsys.readouterr().err
    assert "No such command" not in err
    assert "KeyError" in err and "PROJ_DATA" in err


def test_debug_shows_the_key_error_raised_importing_a_command(
    db: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    _import_fails(monkeypatch, "site", KeyError("PROJ_DATA"))
    with pytest.raises(KeyError, match="PROJ_DATA"):
        cli_main.main(["--debug", "site", "list"])


def test_looking_a_command_up_imports_only_its_module(monkeypatch: pytest.MonkeyPatch) -> None:
    """``in`` answers from the table; ``get`` loads the command asked for, and gives the
    default for a name that is no command."""
    loaded = _import_fails(monkeypatch, "none", KeyError("none"))
    root: Any = typer.main.get_command(cli_main.build_app())
    commands = root.commands
    assert "site" in commands and "alert" in commands and "nosuch" not in commands
    assert loaded == []
    assert commands.get("nosuch") is None and commands.get("nosuch", 1) == 1
    assert loaded == []
    assert commands.get("site").name == "site"
    assert loaded == ["site"]
    assert commands.get("alert").name == "alert"  # railwatch.cli.alerts
    assert loaded == ["site", "alerts"]
