"""QA: ``railwatch CMD --help`` in an 80-column terminal cut option names with an
ellipsis (``calibrate``: ``--coarse-one-si…``, ``--coarse-two-si…``,
``--class-thresho…``, ``--no-string-pai…``; ``quantize``: ``--no-space-to-d…``) and
words of the help (``process``: ``RAILWATCH_USABLE_THRES…``). typer lays the options out
as a rich table whose columns all shrink with an ellipsis; option names now never wrap
and the rest folds, so nothing is cut, whatever the command."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
import typer

from railwatch.cli.main import build_app, main


def _commands(command: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    yield path, command
    for name, sub in sorted(getattr(command, "commands", {}).items()):
        yield from _commands(sub, (*path, name))


COMMANDS = list(_commands(typer.main.get_command(build_app())))


def test_every_command_is_checked() -> None:
    names = {" ".join(path) for path, _ in COMMANDS}
    assert {"", "calibrate", "process", "site add", "event add", "alert ack"} <= names
    assert len(names) >= 30


@pytest.mark.parametrize("columns", ["80", "100"])
@pytest.mark.parametrize(
    ("path", "command"), COMMANDS, ids=[" ".join(p) or "railwatch" for p, _ in COMMANDS]
)
def test_help_never_cuts_an_option_name(
    path: tuple[str, ...],
    command: Any,
    columns: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("COLUMNS", columns)
    monkeypatch.delenv("TERMINAL_WIDTH", raising=False)
    assert main([*path, "--help"]) == 0
    out = capsys.readouterr().out
    assert "…" not in out, out
    assert max(len(line) for line in out.splitlines()) <= int(columns)
    words = set(re.findall(r"-[-\w]+", out))
    for param in command.params:
        for name in (*param.opts, *param.secondary_opts):
            if name.startswith("-"):
                assert name in words, f"{' '.join(path)} --help: {name} not shown whole\n{out}"
