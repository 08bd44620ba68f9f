"""The command line as a script sees it (session 35 audit, 2026-12-06).

Every command that takes ``--json`` is run in its own process with stdout piped (not a
terminal), ``NO_COLOR=1`` and ``TERM=dumb``: stdout must parse as one JSON document and
whatever else the command says (notes, warnings, progress) goes to stderr. Then the
defects the audit found and fixed: ``-o -`` of ``detect`` and ``scene cars`` wrote a file
named '-' (now standard output, as for ``export -f csv -o -``), ``--out -`` of the
commands that write folders or weights made a folder or file named '-' (now refused,
status 2), ``demo`` had no ``-o`` and ``detect`` no ``--out`` (the names every other
command uses), ``event add``/``event edit`` had no ``--json`` (``site add``/``site
edit`` have), and ``simulate``'s spinner was written into logs when ``FORCE_COLOR`` is
set (as CI runners do).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import typer.main

from _cli_proc import run_cli
from railwatch.cli.main import build_app, main

pytestmark = pytest.mark.slow

BBOX = "130.6075,42.4209,130.6087,42.4219"
CENTER = "130.6081,42.4214"


@dataclass(frozen=True)
class Yard:
    """A database with one site of two processed simulated scenes, in ``folder``."""

    folder: Path
    url: str


def _quiet_env(**extra: str) -> dict[str, str]:
    """The environment of a cron job or a pipe: no COLUMNS, no forced colour."""
    env = {
        k: v for k, v in os.environ.items() if k not in ("COLUMNS", "FORCE_COLOR", "TTY_COMPATIBLE")
    }
    env.update(extra)
    return env


def _run(
    args: list[str], cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``python -c RUN ARGS`` in its own process, stdout and stderr pipes, stdin
    /dev/null, forked off a helper that has done the imports (``tests/_cli_proc.py``;
    session 46: the 33 JSON commands took 33.7 s of CPU as fresh processes, 19.8 s so)."""
    env = _quiet_env(NO_COLOR="1", TERM="dumb") if env is None else env
    return run_cli(args, cwd, env, timeout=600)


@pytest.fixture(scope="module")
def yard(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Yard]:
    """Made in another process (one, to save start-up time), so that this one holds no
    connection to the database that `restore` would be refused for."""
    folder = tmp_path_factory.mktemp("cli_consistency")
    url = f"sqlite:///{folder / 'rw.db'}"
    runs: list[list[str]] = []
    for seed, day in ((3, "2024-03-01"), (4, "2024-04-01")):
        argv = ["simulate", "--scene", "--size", "200x200", "--cars", str(seed + 2)]
        runs.append([*argv, "--seed", str(seed), "--date", day, "--center", CENTER, "-o", "sim"])
    runs.append(["--db", url, "site", "add", "yard", "--bbox", BBOX])
    runs.append(["--db", url, "ingest", "yard", "sim"])
    runs.append(["--db", url, "process", "yard"])
    runs.append(["--db", url, "event", "add", "yard", "2024-03-15", "summit"])
    script = (
        "import json, sys; from railwatch.cli.main import main\n"
        "for argv in json.loads(sys.argv[1]):\n"
        "    assert main(argv) == 0, argv\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, json.dumps(runs)],
        cwd=folder,
        env=_quiet_env(),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    (folder / "truth").mkdir()
    shutil.copy(folder / "sim" / "sim_3.truth.geojson", folder / "truth")
    (folder / "counts.csv").write_text("date,count\n2024-03-01,6\n")
    yield Yard(folder, url)


#: Every command with --json, in an order that builds on what the ones before did, and
#: its exit status there (`scale` cannot measure a 200 px simulated yard: 1, with JSON).
JSON_COMMANDS: list[tuple[str, int]] = [
    ("site list --json", 0),
    ("site show yard --json", 0),
    ("site add other --bbox 8.587,47.528,8.593,47.532 --json", 0),
    ("site edit yard -d hello --json", 0),
    ("site remove other --yes --json", 0),
    ("event add yard 2024-03-20 flood --json", 0),
    ("event edit 1 --label summit2 --json", 0),
    ("event list yard --json", 0),
    ("event list yard -n 1 --json", 0),  # the note of those left out on stderr (s50)
    ("event remove 2 --yes --json", 0),
    ("ingest yard sim --json", 0),
    ("ingest-stac yard --stac sim/sim_3.json --json", 0),
    ("process yard --json", 0),
    ("scene list yard --json", 0),
    ("scene list yard --limit 1 --json", 0),  # as `alerts --limit` (session 50)
    ("scene show 1 --json", 0),
    ("scene to-review yard --json", 0),
    ("scene import-reviews yard counts.csv --json", 0),
    ("scene review 1 --remove --json", 0),
    ("analyze yard --json", 0),
    ("analyze yard --store --json", 0),
    ("alerts yard --json", 0),
    ("alert list yard --json", 0),
    ("alert ack 1 --note checked --json", 0),
    ("export yard -f csv -o exported.csv --json", 0),
    ("export yard -f geojson -o exported --json", 0),
    ("report yard --out r.html --since 2024-03-01 --until 2024-04-30 --json", 0),
    ("detect sim/sim_3.tif --out-dir pred --json", 0),
    ("eval --truth truth --pred pred --json", 0),
    ("scale sim/sim_3.tif --json", 1),
    ("export-labels yard --format dota --out labels --json", 0),
    ("import-labels labels --format dota --out imported --gsd 0.5 --json", 0),
    ("simulate --scene --size 100x100 --cars 2 --seed 9 --out sim2 --json", 0),
    ("backup copy.db --json", 0),
    ("restore copy.db --yes --json", 0),
]


def test_json_output_is_json_alone_on_stdout(yard: Yard) -> None:
    """Every command of JSON_COMMANDS, in its order, in one test: each builds on those
    before it (a review to remove, predictions to evaluate, labels to import, a backup
    to restore), which pytest-xdist ran on other workers when each was a test of its own
    (four failed in the fresh-clone CI run, session 35)."""
    problems = []
    for command, status in JSON_COMMANDS:
        done = _run(["--db", yard.url, *command.split()], yard.folder)
        try:
            assert done.returncode == status, f"status {done.returncode}"
            json.loads(done.stdout)  # one JSON document, nothing else
            assert "\x1b[" not in done.stdout + done.stderr  # NO_COLOR / TERM=dumb
            if status:
                assert done.stderr.startswith("error: "), "stderr does not start with error:"
        except (AssertionError, ValueError) as err:
            problems.append(f"{command}: {err}; stderr: {done.stderr.strip()}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(
    "command",
    ["site show yrad --json", "scene show 999 --json", "event list nowhere --json"],
)
def test_an_error_goes_to_stderr_alone(yard: Yard, command: str) -> None:
    done = _run(["--db", yard.url, *command.split()], yard.folder)
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr.startswith("error: ") and done.stderr.count("\n") == 1


#: Commands with --json checked elsewhere, and where: `demo` renders and processes 223
#: images (minutes); its test runs it on three tiny scenes with the CLI in-process.
JSON_ELSEWHERE = {
    "demo": "tests/test_cli_json_s36.py::test_demo_json_is_the_summary",
    # session 37: a tiny real train, calibrate and quantize in one test (about 30 s)
    **dict.fromkeys(
        ("train", "calibrate", "quantize"),
        "tests/test_cli_json_train_s37.py::test_train_calibrate_and_quantize_json_say_what_they_wrote",
    ),
    # session 41: removed and declined, each one JSON document on stdout
    "scene remove": (
        "tests/test_scene_remove_s41.py::test_remove_deletes_the_scene_and_its_rows_only"
    ),
    # session 46: the copy as JSON, one document on stdout, in its own process
    "copy-db": "tests/test_copy_db_cli_s46.py::test_copy_db_json_is_one_json_document_on_stdout",
}


def test_every_json_option_is_in_the_list() -> None:
    """A command given --json later is added to JSON_COMMANDS (and so checked), or to
    JSON_ELSEWHERE with the test that checks it."""
    cli = typer.main.get_command(build_app())
    with_json: set[str] = set()

    def walk(cmd: object, path: list[str]) -> None:
        subs = getattr(cmd, "commands", None)
        if subs:
            for name, sub in subs.items():
                walk(sub, [*path, name])
        elif any("--json" in getattr(p, "opts", ()) for p in getattr(cmd, "params", ())):
            with_json.add(" ".join(path))

    walk(cli, [])
    listed = {c.split(" --")[0].split(" ")[0] for c, _ in JSON_COMMANDS}
    listed |= {" ".join(c.split(" ")[:2]) for c, _ in JSON_COMMANDS}
    listed |= set(JSON_ELSEWHERE)
    assert with_json <= listed, sorted(with_json - listed)


def test_detect_o_dash_writes_the_geojson_to_stdout(yard: Yard, tmp_path: Path) -> None:
    """`detect IMG -o -` wrote a file named '-' and said "wrote -"."""
    image = yard.folder / "sim" / "sim_3.tif"
    done = _run(["detect", str(image), "-o", "-"], tmp_path)
    assert done.returncode == 0, done.stderr
    collection = json.loads(done.stdout)
    assert collection["type"] == "FeatureCollection" and collection["features"]
    assert "Railcars detected" in done.stderr  # the summary, on stderr
    assert "wrote the GeoJSON to standard output" in done.stderr
    assert list(tmp_path.iterdir()) == []


def test_detect_o_dash_with_json_is_refused(yard: Yard, tmp_path: Path) -> None:
    image = yard.folder / "sim" / "sim_3.tif"
    done = _run(["detect", str(image), "-o", "-", "--json"], tmp_path)
    assert done.returncode == 2 and done.stdout == ""
    assert "give one of them (-o FILE --json for both)" in done.stderr
    assert list(tmp_path.iterdir()) == []


def test_detect_takes_out_as_other_commands_do(yard: Yard, tmp_path: Path) -> None:
    image = yard.folder / "sim" / "sim_3.tif"
    target = tmp_path / "cars.geojson"
    done = _run(["detect", str(image), "--out", str(target), "--json"], tmp_path)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)[0]["output"] == str(target)
    assert json.loads(target.read_text())["type"] == "FeatureCollection"


def test_scene_cars_o_dash_is_stdout(
    yard: Yard, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`scene cars ID -o -` wrote a file named '-' and said to give `--cars -` back."""
    monkeypatch.chdir(tmp_path)
    assert main(["--db", yard.url, "scene", "cars", "1", "-o", "-"]) == 0
    out = capsys.readouterr()
    assert json.loads(out.out)["type"] == "FeatureCollection" and out.err == ""
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["simulate", "--scene", "--out", "-"], "--out - (standard output) is not for simulate"),
        (["simulate", "--scenario", "tumangang", "-o", "-"], "is not for simulate"),
        (["demo", "--out", "-"], "--out - (standard output) is not for demo"),
        (["train", "-o", "-"], "--out - (standard output) is not for train"),
    ],
)
def test_out_dash_is_refused_where_a_folder_or_weights_are_written(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    says: str,
) -> None:
    """'-' is standard output elsewhere; these made a folder (or weights) named '-'."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("RAILWATCH_CACHE_DIR", str(tmp_path / "cache"))
    assert main(argv) == 2
    out = capsys.readouterr()
    assert out.out == "" and says in out.err
    assert not (tmp_path / "-").exists()


def test_demo_takes_o_as_other_commands_do() -> None:
    cli = typer.main.get_command(build_app())
    demo = cli.commands["demo"]  # type: ignore[attr-defined]
    out = next(p for p in demo.params if p.name == "out")
    assert set(out.opts) == {"--out", "-o"}


def test_event_add_and_edit_print_json(yard: Yard, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert main(["--db", yard.url, "event", "add", "yard", "2024-05-01", "strike", "--json"]) == 0
    added = json.loads(capsys.readouterr().out)
    assert added["site"] == "yard" and added["date"] == "2024-05-01"
    assert added["label"] == "strike" and isinstance(added["id"], int)
    argv = ["--db", yard.url, "event", "edit", str(added["id"]), "-d", "rail strike", "--json"]
    assert main(argv) == 0
    edited = json.loads(capsys.readouterr().out)
    assert edited == {**added, "description": "rail strike"}


def test_simulate_shows_no_spinner_in_a_log_with_force_color(tmp_path: Path) -> None:
    """FORCE_COLOR (CI runners set it) made rich take a log file for a terminal: the
    spinner's frames and cursor codes went into the log."""
    env = _quiet_env(FORCE_COLOR="1")
    argv = ["simulate", "--scene", "--size", "100x100", "--cars", "1", "--out", "sim"]
    done = _run(argv, tmp_path, env)
    assert done.returncode == 0, done.stderr
    assert "writing scene" not in done.stderr and "\x1b[?25l" not in done.stderr


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (
            ["site", "list", "--db", "sqlite:///x.db"],
            "--db is an option of railwatch itself: give it before the command "
            "(railwatch --db URL site list ...) (or set RAILWATCH_DB).",
        ),
        (["scene", "list", "yard", "--debug"], "(railwatch --debug scene list ...)."),
    ],
)
def test_a_root_option_after_the_command_says_where_it_goes(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    says: str,
) -> None:
    """`railwatch site list --db URL` (a cron line) got only "No such option: --db"."""
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    out = capsys.readouterr()
    assert (
        out.out == "" and f"No such option: {argv[-1 if argv[-1] == '--debug' else -2]}" in out.err
    )
    assert says in out.err
    assert list(tmp_path.iterdir()) == []


def test_every_date_option_says_its_form() -> None:
    """`ingest --since` said only "STAC: first date." (ingest-stac's: ISO 8601, UTC)."""
    cli = typer.main.get_command(build_app())
    dates = {"--since", "--until", "--date", "--from", "--to", "--as-of"}
    vague: list[str] = []

    def walk(cmd: object, path: list[str]) -> None:
        subs = getattr(cmd, "commands", None)
        if subs:
            for name, sub in subs.items():
                walk(sub, [*path, name])
            return
        for param in getattr(cmd, "params", ()):
            if set(getattr(param, "opts", ())) & dates:
                text = getattr(param, "help", "") or ""
                if "YYYY-MM-DD" not in text and "ISO 8601" not in text:
                    vague.append(f"{' '.join(path)} {param.opts[0]}")

    walk(cli, [])
    assert vague == []
