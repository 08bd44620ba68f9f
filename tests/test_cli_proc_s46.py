"""tests/_cli_proc.py (2026-12-07, session 46): a command forked off the helper gives what
the same command gives in a fresh ``python -c`` process: its status, stdout and stderr,
its own process, its folder and ``sys.argv``, and what an import wrote first."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from _cli_proc import RUN, run_cli


def _fresh(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", RUN, *args],
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def test_a_forked_command_says_what_a_fresh_process_says(tmp_path: Path) -> None:
    env = {**os.environ, "NO_COLOR": "1", "TERM": "dumb"}
    for args in (
        ["--version"],
        ["--db", f"sqlite:///{tmp_path / 'none.db'}", "site", "show", "nowhere", "--json"],
    ):
        fresh, forked = _fresh(args, tmp_path, env), run_cli(args, tmp_path, env)
        assert forked.args == fresh.args
        got = (forked.returncode, forked.stdout, forked.stderr)
        assert got == (fresh.returncode, fresh.stdout, fresh.stderr)
    assert forked.returncode == 1 and forked.stderr.startswith("error: no database at ")


def test_a_forked_command_is_a_process_of_its_own(tmp_path: Path) -> None:
    """Its own pid, folder and argv, stdin /dev/null and stdout a pipe, its atexit
    handlers run as a script's are; and what the helper's imports wrote to stdout (here:
    sitecustomize's, at start-up) is at the head of each command's output."""
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "sitecustomize.py").write_text(
        "import atexit, os, stat, sys\n"
        "print('imported')\n"
        "atexit.register(lambda: print(os.getpid(), os.getcwd(), sys.argv,"
        " stat.S_ISFIFO(os.fstat(1).st_mode), os.readlink('/proc/self/fd/0')))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "site")}
    args = ["--version"]
    fresh = _fresh(args, tmp_path, env)
    forked = [run_cli(args, tmp_path, env) for _ in range(2)]
    lines = [done.stdout.splitlines() for done in (fresh, *forked)]
    assert [len(lines_) for lines_ in lines] == [3, 3, 3], lines
    pids = {line[2].split()[0] for line in lines}
    assert len(pids) == 3 and str(os.getpid()) not in pids
    assert {(line[0], line[1], line[2].split(" ", 1)[1]) for line in lines} == {
        ("imported", lines[0][1], f"{tmp_path} ['-c', '--version'] True /dev/null")
    }
    assert {done.stderr for done in forked} == {fresh.stderr}
