"""QA: Ctrl-C at any point of a run is one line on stderr and status 130.

During start-up (about a second of imports: typer, rich, pydantic) Ctrl-C printed
Python's traceback (~30 lines ending in KeyboardInterrupt): the console script imports
``railwatch.cli.main`` before ``main()`` runs, outside any ``try``, and ``main()``
built the app before its own ``try``."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from helpers import sigint_default
from railwatch.cli import main as cli_main

# what the console script generated from pyproject.toml's [project.scripts] runs
CONSOLE_SCRIPT = "import sys; from railwatch.cli.main import main; sys.exit(main())"


def test_importing_the_entry_point_loads_nothing_heavy() -> None:
    code = (
        "import sys; import railwatch.cli.main; "
        "print(sorted(m for m in ('typer', 'rich', 'click', 'pydantic', 'sqlalchemy', "
        "'railwatch.settings', 'railwatch.cli._common') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"


def test_interrupt_while_building_the_app_is_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def interrupted() -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(cli_main, "build_app", interrupted)
    try:
        code = cli_main.main(["site", "list"])
    except KeyboardInterrupt:  # a real one would stop the whole test run
        pytest.fail("KeyboardInterrupt escaped main()")
    assert code == 130
    assert capsys.readouterr().err == "Interrupted.\n"


@pytest.mark.slow
@pytest.mark.parametrize("delay", [0.4, 1.0, 4.0])
def test_ctrl_c_at_any_time_exits_130_without_a_traceback(tmp_path: Path, delay: float) -> None:
    """SIGINT during the imports (0.4 s, 1 s) and once the command waits for its
    input (4 s: `site add --geojson -` reads standard input, which stays open).

    The delay counts from the script's first statement: a signal that fell while the
    interpreter itself still started (no railwatch code run yet, as on a loaded machine
    0.4 s after the start) is Python's, not railwatch's (session 43)."""
    db = ["--db", f"sqlite:///{tmp_path / 'rw.db'}"]
    started = tmp_path / "started"
    script = f"open({str(started)!r}, 'w').close(); {CONSOLE_SCRIPT}"
    proc = subprocess.Popen(
        [sys.executable, "-c", script, *db, "site", "add", "yard", "--geojson", "-"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=sigint_default,
    )
    try:
        deadline = time.monotonic() + 60  # a bound on the interpreter's start, not a measure
        while not started.exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)
        assert started.exists(), "the interpreter never ran the script"
        time.sleep(delay)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err
    assert proc.returncode == 130, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Interrupted"), err


def _interrupt_in(
    monkeypatch: pytest.MonkeyPatch, command: str, interrupt: type[KeyboardInterrupt]
) -> None:
    """Make ``railwatch COMMAND`` raise ``interrupt`` once it runs (after the root
    callback, as a Ctrl-C or SIGTERM in the middle of the command would). The command
    is changed in the app of its module, which the root group loads when the command
    is used (session 38: ``build_app`` no longer registers every command itself)."""
    load = cli_main.command_app

    def boom() -> None:
        if interrupt is cli_main.Terminated:
            cli_main._terminated = True  # as the SIGTERM handler does before raising
        raise interrupt

    def command_app(module: str) -> object:
        app = load(module)
        found = [c for c in app.registered_commands if c.name == command]
        assert found, f"no command {command!r} in railwatch.cli.{module}"
        found[0].callback = boom
        found[0].no_args_is_help = False  # simulate's
        return app

    monkeypatch.setattr(cli_main, "command_app", command_app)


@pytest.mark.parametrize(
    "command", ["train", "calibrate", "quantize", "simulate", "detect", "eval"]
)
@pytest.mark.parametrize(
    ("interrupt", "line", "code"),
    [(KeyboardInterrupt, "Interrupted.", 130), (cli_main.Terminated, "Terminated.", 143)],
)
def test_a_command_without_a_database_says_no_database_line(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    command: str,
    interrupt: type[KeyboardInterrupt],
    line: str,
    code: int,
) -> None:
    """These commands have no database: "the database keeps every scene recorded so
    far" was printed for them all the same."""
    _interrupt_in(monkeypatch, command, interrupt)
    assert cli_main.main([command]) == code
    assert capsys.readouterr().err == f"{line}\n"


@pytest.mark.parametrize("command", ["process", "ingest", "ingest-stac"])
@pytest.mark.parametrize(
    ("interrupt", "word", "code"),
    [(KeyboardInterrupt, "Interrupted", 130), (cli_main.Terminated, "Terminated", 143)],
)
def test_a_command_that_records_scenes_says_they_are_kept(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    command: str,
    interrupt: type[KeyboardInterrupt],
    word: str,
    code: int,
) -> None:
    _interrupt_in(monkeypatch, command, interrupt)
    assert cli_main.main([command]) == code
    assert capsys.readouterr().err == (
        f"{word}; the database keeps every scene recorded so far.{cli_main._GO_ON}\n"
    )
