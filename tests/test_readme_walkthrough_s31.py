"""What a new user met walking through README.md (session 31).

* ``railwatch CMD --help`` in an 80-column terminal broke the text after its first
  paragraph where the docstring broke it, after wrapping it: ``ingest --help`` showed
  "batch: ... Exit status is 1", then "when" alone on a line, then "any file failed ...".
  typer (0.13 and later) keeps a docstring's line breaks in rich markup mode; the help
  is now reflowed, keeping a line of its own for an example and its alternatives.
* docs/architecture.md named the packages but not most of their modules
  (``web/days.py``, new this session, among them): its module map now places every
  module of the package, and names none that is not there.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer

import railwatch
from railwatch.cli.main import build_app, main

SRC = Path(railwatch.__file__).resolve().parent
ARCHITECTURE = Path(__file__).resolve().parents[1] / "docs" / "architecture.md"


def _commands(command: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    yield path, command
    for name, sub in sorted(getattr(command, "commands", {}).items()):
        yield from _commands(sub, (*path, name))


def _help_body(out: str) -> list[list[str]]:
    """The paragraphs of a ``--help`` text between its usage line and its first panel,
    each as its lines (stripped)."""
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if "Usage:" in line) + 1
    end = next((i for i, line in enumerate(lines) if line.startswith("╭")), len(lines))
    paragraphs: list[list[str]] = [[]]
    for line in lines[start:end]:
        if line.strip():
            paragraphs[-1].append(line.strip())
        elif paragraphs[-1]:
            paragraphs.append([])
    return [p for p in paragraphs if p]


def test_ingest_help_fills_its_lines_at_80_columns(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    monkeypatch.delenv("TERMINAL_WIDTH", raising=False)
    assert main(["ingest", "--help"]) == 0
    body = _help_body(capsys.readouterr().out)
    exit_status = next(p for p in body if any("Exit status" in line for line in p))
    # Every line but a paragraph's last is filled to near the width: no "when" alone.
    assert all(len(line) >= 60 for line in exit_status[:-1]), exit_status
    assert "when any file failed" in " ".join(exit_status)


def test_examples_keep_a_line_of_their_own(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("COLUMNS", "120")
    monkeypatch.delenv("TERMINAL_WIDTH", raising=False)
    assert main(["export", "--help"]) == 0
    lines = [line.strip() for line in capsys.readouterr().out.splitlines()]
    assert "Example: railwatch export tumangang --format gpkg --out tumangang.gpkg" in lines
    assert "or: railwatch export tumangang -f csv -o - | head" in lines
    # ... and the rest of a paragraph runs on: one line up to the width.
    assert any(
        line.startswith("gpkg: one GeoPackage") and "geoparquet: a directory" in line
        for line in lines
    )


@pytest.mark.parametrize(
    ("path", "command"),
    list(_commands(typer.main.get_command(build_app()))),
    ids=lambda v: " ".join(v) if isinstance(v, tuple) else "",
)
def test_no_help_paragraph_keeps_a_docstring_line_break(
    path: tuple[str, ...], command: Any
) -> None:
    """A line break inside a paragraph is one before an example or its alternative."""
    for paragraph in (command.help or "").split("\n\n")[1:]:
        for line in paragraph.split("\n")[1:]:
            assert re.match(r"(Example|or[ :,]|then:|Verified set:|\[b\]|\[bold\])", line), (
                f"{' '.join(path)}: a docstring line break is kept before {line!r}"
            )


def _module_map() -> str:
    text = ARCHITECTURE.read_text(encoding="utf-8")
    return text[text.index("## Module map") :]


def _package_modules() -> set[str]:
    return {
        path.relative_to(SRC).as_posix()
        for path in SRC.rglob("*.py")
        if "migrations/versions" not in path.relative_to(SRC).as_posix()
    }


def _named_in_map() -> set[str]:
    """The modules the map names, as paths under src/railwatch: a bullet's package
    (`web/`) and, after a nested package (`routes/`:), that one."""
    named: set[str] = set()
    for bullet in re.split(r"\n- ", _module_map())[1:]:
        head = re.match(r"`([\w/]+/)`:|top level:", bullet)
        assert head, f"a bullet of the module map names no package: {bullet[:60]!r}"
        top = head.group(1) or ""
        if top:  # a package's __init__.py is placed with its package
            named.add(f"{top}__init__.py")
        package = top
        for part_index, part in enumerate(re.split(r"`(\w+/)`:", bullet[head.end() :])):
            if part_index % 2 == 1:
                package = f"{top}{part}"
                named.add(f"{package}__init__.py")
                continue
            for name in re.findall(r"`([\w/]+\.py)`", part):
                named.add(f"{package}{name}")
    return named


def test_the_module_map_places_every_module_of_the_package() -> None:
    unnamed = sorted(_package_modules() - _named_in_map())
    assert not unnamed, f"docs/architecture.md's module map does not place {unnamed}"
    assert "web/days.py" in _named_in_map()


def test_the_module_map_names_only_modules_that_exist() -> None:
    missing = sorted(_named_in_map() - _package_modules())
    assert not missing, f"docs/architecture.md's module map names {missing}, not in the package"
    assert (SRC / "storage" / "migrations" / "versions").is_dir()
