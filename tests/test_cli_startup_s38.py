"""``railwatch --version``, ``--help`` and completion import no command's module.

Until session 38 (2026-12-06) ``build_app`` imported every module of ``railwatch.cli``
to register its commands, and with them numpy, SQLAlchemy, alembic, shapely, pyproj,
OpenCV and SciPy: about two seconds of CPU before ``--version`` printed a line, and
every command imported the modules of all the others. The root group now lists the
commands from ``railwatch.cli._commands.COMMANDS`` and imports a command's module when
that command is used. These tests check what each run imports (``sys.modules`` at the
end of a real run, in a subprocess), that the table matches what the modules register (and
says which entries to write when it does not), and that ``--help``, completion, the
"Did you mean" of a mistyped command and ``--debug`` read as before."""

from __future__ import annotations

import importlib
import os
import pkgutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

import railwatch.cli as cli_pkg
from railwatch.cli import _commands
from railwatch.cli import main as cli_main
from railwatch.cli._commands import COMMANDS, Entry

#: Packages none of ``--version`` and ``--help`` needs.
HEAVY = (
    "numpy",
    "rasterio",
    "sqlalchemy",
    "alembic",
    "onnxruntime",
    "matplotlib",
    "cv2",
    "torch",
    "scipy",
    "shapely",
    "pyproj",
    "PIL",
    "pandas",
)
#: Packages no command that reads the database's records (site, alerts, event) needs.
DETECTOR_AND_CHARTS = ("onnxruntime", "torch", "matplotlib", "cv2", "scipy", "rasterio")
#: ... nor pyproj: reading sites reads no CRS and measures nothing (``railwatch.sites``
#: and ``railwatch.storage.records`` import it where used since session 38; numpy and
#: shapely they need: a site's geometry is read as shapely's, the alert rules use numpy)
NOT_FOR_READING = (*DETECTOR_AND_CHARTS, "pyproj")

#: What the console script runs (pyproject.toml's [project.scripts]).
CONSOLE_SCRIPT = (
    "import sys; sys.argv[0] = 'railwatch'; from railwatch.cli.main import main; sys.exit(main())"
)
#: The same, then the names of the modules imported, written to the file RW_MODULES names
#: (``-X importtime`` does not show a module imported with ``importlib.import_module``).
PROBE = """
import os, sys
sys.argv[0] = "railwatch"
from railwatch.cli.main import main
try:
    code = main()
finally:
    with open(os.environ["RW_MODULES"], "w") as file:
        file.write("\\n".join(sorted(sys.modules)))
sys.exit(code)
"""


def _imported(args: list[str], cwd: Path) -> tuple[set[str], subprocess.CompletedProcess[str]]:
    """The modules a run of ``railwatch ARGS`` imported (``sys.modules`` at its end)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAILWATCH_")}
    env["RW_MODULES"] = str(cwd / "modules.txt")
    run = subprocess.run(
        [sys.executable, "-c", PROBE, *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=300,
    )
    return set((cwd / "modules.txt").read_text().split()), run


def _command_modules(modules: set[str]) -> set[str]:
    return {
        m
        for m in modules
        if m.startswith("railwatch.cli.")
        and not m.startswith(("railwatch.cli._", "railwatch.cli.main"))
    }


@pytest.mark.parametrize(
    ("args", "status"),
    [(["--version"], 0), (["--help"], 0), (["-h"], 0), ([], 2)],  # no command: help, status 2
)
def test_version_and_help_import_nothing_heavy(
    args: list[str], status: int, tmp_path: Path
) -> None:
    modules, run = _imported(args, tmp_path)
    assert run.returncode == status, run.stderr[-2000:]
    assert "railwatch" in run.stdout
    assert "typer" in modules
    assert sorted(m for m in HEAVY if m in modules) == []
    assert sorted(_command_modules(modules)) == []


@pytest.fixture(scope="module")
def empty_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    from railwatch.storage.db import Database

    path = tmp_path_factory.mktemp("db") / "rw.db"
    Database(f"sqlite:///{path}").dispose()
    return f"sqlite:///{path}"


@pytest.mark.parametrize(
    ("args", "own", "status"),
    [
        (["site", "list"], {"site"}, 0),
        # alerts lays its table out with analyze's helpers and opens the database with
        # site's open_db; event too
        (["alerts"], {"alerts", "analyze", "site"}, 0),
        (["event", "list", "yard"], {"event", "site"}, 1),  # no site named yard
    ],
)
def test_a_light_command_imports_only_the_modules_it_uses(
    args: list[str], own: set[str], status: int, empty_db: str, tmp_path: Path
) -> None:
    modules, run = _imported(["--db", empty_db, *args], tmp_path)
    assert run.returncode == status, run.stderr[-2000:]
    assert "Traceback" not in run.stderr
    assert sorted(m for m in NOT_FOR_READING if m in modules) == []
    assert _command_modules(modules) == {f"railwatch.cli.{name}" for name in own}


def _eager_commands() -> tuple[dict[str, Any], dict[str, str]]:
    """Every module of railwatch.cli registered on one app, as build_app did before
    session 38: the root's commands in typer's order, and each name's module."""
    app = typer.Typer(**cli_main._APP_SETTINGS)
    owner: dict[str, str] = {}
    for info in sorted(pkgutil.iter_modules(cli_pkg.__path__), key=lambda m: m.name):
        if info.name.startswith("_") or info.name == "main":
            continue
        module = importlib.import_module(f"railwatch.cli.{info.name}")
        if getattr(module, "register", None) is None:
            continue
        module.register(app)
        for name in cli_main.typer_group(cli_main.command_app(info.name)).commands:
            owner[name] = info.name
    cli_main._one_line_short_help(app)
    cli_main._help_paragraphs_reflowed(app)
    return dict(cli_main.typer_group(app).commands), owner


def _entry(name: str, command: Any, module: str) -> Entry:
    group = hasattr(command, "list_commands")
    return Entry(
        name=name,
        module=module,
        summary=command.help if group or command.short_help is None else command.short_help,
        group=group,
        panel=getattr(command, "rich_help_panel", None) or None,
    )


def _source(entry: Entry) -> str:
    """``entry`` as it is written in COMMANDS (before ruff format)."""
    words, lines, line = entry.summary.split(" "), [], ""
    for word in words:
        if line and len(line) + 1 + len(word) > 72:
            lines.append(line + " ")
            line = word
        else:
            line = f"{line} {word}" if line else word
    lines.append(line)
    text = ["    Entry(", f"        {entry.name!r},", f"        {entry.module!r},"]
    text += [f"        {part!r}" for part in lines[:-1]] + [f"        {lines[-1]!r},"]
    if entry.group or entry.panel:
        text.append(f"        group={entry.group},")
    if entry.panel:
        text.append(f"        panel={entry.panel!r},")
    return "\n".join([*text, "    ),"])


def test_the_table_lists_every_command_as_its_module_registers_it() -> None:
    """A command added (or a summary changed) without its entry in COMMANDS: the message
    holds the table as it should read."""
    commands, owner = _eager_commands()
    expected = [_entry(name, command, owner[name]) for name, command in commands.items()]
    assert list(COMMANDS) == expected, (
        "railwatch.cli._commands.COMMANDS does not match the commands the modules of "
        "railwatch.cli register; write it as follows (then run ruff format):\n"
        + "\n".join(_source(entry) for entry in expected)
    )


def test_every_command_listed_resolves_to_its_own_help() -> None:
    app = cli_main.build_app()
    root: Any = typer.main.get_command(app)
    with root.make_context("railwatch", ["--version"], resilient_parsing=True) as ctx:
        names = root.list_commands(ctx)
    assert names == [entry.name for entry in COMMANDS]
    listing = CliRunner().invoke(app, ["--help"], env={"COLUMNS": "200"})
    assert listing.exit_code == 0
    for name in names:
        assert f" {name} " in listing.output, f"--help does not list {name}"
        result = CliRunner().invoke(app, [name, "--help"], env={"COLUMNS": "200"})
        assert result.exit_code == 0, (name, result.output)
        assert f"Usage: railwatch {name} " in result.output


def _help_and_completions(root: Any, capsys: pytest.CaptureFixture[str]) -> tuple[str, list[Any]]:
    capsys.readouterr()
    with root.make_context("railwatch", ["--version"], resilient_parsing=True) as ctx:
        root.get_help(ctx)
        help_text = capsys.readouterr().out
        completions = [(c.value, c.help) for c in root.shell_complete(ctx, "")]
    return help_text, completions


@pytest.mark.parametrize("columns", ["80", "120"])
def test_help_and_completion_read_as_with_every_command_loaded(
    columns: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The list of commands made from COMMANDS (nothing loaded) is the one the loaded
    commands make: names, summaries, panels; and completion's names and help."""
    monkeypatch.setenv("COLUMNS", columns)
    lazy: Any = typer.main.get_command(cli_main.build_app())
    assert not any(lazy.commands.is_loaded(e.name) for e in COMMANDS)
    lazy_help, lazy_completions = _help_and_completions(lazy, capsys)
    assert not any(lazy.commands.is_loaded(e.name) for e in COMMANDS)

    loaded: Any = typer.main.get_command(cli_main.build_app())
    for name in list(loaded.commands):
        assert loaded.commands[name].name == name  # loads it
    assert all(loaded.commands.is_loaded(e.name) for e in COMMANDS)
    loaded_help, loaded_completions = _help_and_completions(loaded, capsys)

    assert "Pipeline" in lazy_help and " site " in lazy_help
    assert lazy_help == loaded_help
    assert lazy_completions == loaded_completions
    assert len(lazy_completions) >= len(COMMANDS)


def test_a_mistyped_command_still_gets_a_suggestion(capsys: pytest.CaptureFixture[str]) -> None:
    """typer suggests from the group's commands by name, which lists them unloaded."""
    assert cli_main.main(["sitee", "list"]) == 2
    err = capsys.readouterr().err
    assert "No such command 'sitee'" in err and "Did you mean 'site'" in err


def test_a_module_missing_from_the_table_is_registered_at_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A command added without its entry works all the same (and is listed)."""
    monkeypatch.setattr(_commands, "COMMANDS", tuple(e for e in COMMANDS if e.module != "scale"))
    app = cli_main.build_app()
    assert [c.name for c in app.registered_commands] == ["scale"]
    listing = CliRunner().invoke(app, ["--help"], env={"COLUMNS": "200"})
    assert listing.exit_code == 0 and " scale " in listing.output
    result = CliRunner().invoke(app, ["scale", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0 and "Usage: railwatch scale " in result.output


def test_debug_shows_no_alembic_plugin_lines(tmp_path: Path) -> None:
    """alembic logs each plugin it sets up when imported: a command now imports it
    after ``--debug`` set up logging, and those lines (nothing of the run) came out.
    (Since session 39 alembic is imported only to migrate: an older database here, which
    it upgrades; an up-to-date one, as ``alerts`` read before, imports none, nor, since
    session 51, a new one, made at the head without it.)"""
    from railwatch.storage.migrate import upgrade

    env = {k: v for k, v in os.environ.items() if not k.startswith("RAILWATCH_")}
    old_db = f"sqlite:///{tmp_path / 'old.db'}"
    upgrade(old_db, "0004_site_areas")
    add = ["site", "add", "yard", "--bbox", "8.58,47.52,8.60,47.54"]
    run = subprocess.run(
        [sys.executable, "-c", CONSOLE_SCRIPT, "--debug", "--db", old_db, *add],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    assert "alembic.runtime.migration" in run.stderr  # --debug's logging is on
    assert "setup plugin" not in run.stderr
