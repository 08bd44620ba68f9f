"""Review r4 (2026-12-06, session 39): what the docs and messages tell a user to run.

A message of ``pipeline`` (a coarse scene's result not recorded because one of its
references changed) said the change came from "`railwatch scene bands` run meanwhile",
and docs/storage.md named the same command: there is no ``scene bands`` command (the
colour bands of an image already ingested are replaced by ``railwatch ingest --bands``).
This checks every command that a message of the package names in backticks
(```railwatch CMD``` or ```railwatch GROUP SUB```), docstrings left out, against the
commands ``railwatch`` has.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import typer

import railwatch
from railwatch.cli.main import build_app

SRC = Path(railwatch.__file__).resolve().parent

#: `railwatch WORD` or `railwatch WORD WORD` in single backticks (a command a message
#: tells the user to run), not ``railwatch ...`` (a module in reStructuredText).
NAMED = re.compile(r"(?<!`)`railwatch ([a-z][a-z-]*)(?: ([a-z][a-z-]*))?")


def _commands(command: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    yield path, command
    for name, sub in sorted(getattr(command, "commands", {}).items()):
        yield from _commands(sub, (*path, name))


def _docstrings(tree: ast.AST) -> set[int]:
    """The ids of the docstring nodes of a module, its classes and functions."""
    found: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                found.add(id(body[0].value))
    return found


def _named_commands(tree: ast.AST) -> Iterator[tuple[int, tuple[str, ...]]]:
    """(line, words) of each command named in the string literals (f-strings' text
    included) of ``tree``, docstrings left out."""
    skip = _docstrings(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip:
            for match in NAMED.finditer(node.value):
                yield node.lineno, tuple(w for w in match.groups() if w)


def unknown_commands(source: str, known: set[tuple[str, ...]]) -> list[str]:
    """The commands named in ``source``'s messages that ``railwatch`` does not have: a
    first word that is no command, or a second word that is no command of its group."""
    groups = {path for path in known if any(len(k) == 2 and k[0] == path[0] for k in known)}
    wrong = []
    for line, words in sorted(_named_commands(ast.parse(source))):
        no_command = words[:1] not in known
        no_subcommand = len(words) == 2 and words[:1] in groups and words not in known
        if no_command or no_subcommand:
            wrong.append(f"line {line}: railwatch {' '.join(words)}")
    return wrong


def _known() -> set[tuple[str, ...]]:
    root = typer.main.get_command(build_app())
    return {path for path, _ in _commands(root) if path}


def test_the_reader_finds_a_command_that_does_not_exist() -> None:
    known = _known()
    source = (
        'def f(n):\n    """`railwatch scene bands` in a docstring is not a message."""\n'
        '    return f"scene {n} changed (`railwatch scene bands` run meanwhile)"\n'
        'OK = "see `railwatch scene list SITE` and `railwatch ingest --bands`"\n'
        'GROUP = "`railwatch site`, `railwatch nosuch`"\n'
    )
    assert unknown_commands(source, known) == [
        "line 3: railwatch scene bands",
        "line 5: railwatch nosuch",
    ]


def test_every_command_a_message_names_exists() -> None:
    known = _known()
    wrong = [
        f"{path.relative_to(SRC.parent)} {where}"
        for path in sorted(SRC.rglob("*.py"))
        for where in unknown_commands(path.read_text(encoding="utf-8"), known)
    ]
    assert not wrong, "messages name commands railwatch does not have:\n" + "\n".join(wrong)
