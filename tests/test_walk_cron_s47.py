"""railwatch run unattended, as cron runs it (2026-12-07, session 47).

A daily job (ingest, process, analyze, mail the new alerts) run with no terminal, a C
locale and a minimal environment found:

* ``alerts --since YESTERDAY`` is the image's day: the alerts of an image delivered
  late were never listed, and those of one day were listed on two. ``alerts
  --changed-since TIME`` lists what ``analyze`` stored (raised or changed) since TIME.
* ``--debug`` raised the error out of the console script: Python's status 1 replaced 2
  (an input error) and 70 (an internal one); its logging was mostly rasterio's DEBUG
  lines.
* An output stream that cannot write UTF-8 (``PYTHONUTF8=0`` or
  ``PYTHONIOENCODING=ascii`` under ``LANG=C``; Latin-1) ended ``railwatch alerts`` with
  "internal error: UnicodeEncodeError", status 70.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from shapely.geometry import box

from railwatch.analysis.types import Alert
from railwatch.cli import main as cli_main
from railwatch.cli._common import make_streams_safe
from railwatch.cli.main import main
from railwatch.sites import SiteSpec
from railwatch.storage import Database, repo

SITE = "yard-s47"
CONSOLE_SCRIPT = (
    "import sys; sys.argv[0] = 'railwatch'; from railwatch.cli.main import main; sys.exit(main())"
)
#: an explanation with what railwatch writes in alerts: an en dash, a times, a dot
TEXT = "31 railcars (interval 26–56) on 2026-10-20, 2.2× the usual 14 · a spike."


def _alert(key_day: str, value: float, when: datetime) -> Alert:
    return Alert(
        key=f"spike-all-{key_day}",
        kind="spike",
        severity="medium",
        when=when,
        cls="all",
        value=value,
        explanation=TEXT.replace("31", f"{value:.0f}", 1),
        metrics={"baseline": 14.0},
    )


#: the yard's images: one of November, then one of October delivered late
NOV = _alert("2026-11-02", 29.0, datetime(2026, 11, 2, 2, 0, tzinfo=UTC))
OCT = _alert("2026-10-20", 31.0, datetime(2026, 10, 20, 2, 0, tzinfo=UTC))


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database(f"sqlite:///{tmp_path / 'cron.db'}")
    with database.session() as s:
        repo.add_site(s, SiteSpec(name=SITE, geometry=box(130.607, 42.420, 130.609, 42.422)))
    yield database
    database.dispose()


def _cron_env(tmp_path: Path, **more: str) -> dict[str, str]:
    """What cron gives a job: a C locale, a minimal PATH, an empty HOME, no TERM nor
    COLUMNS (and nothing of railwatch's but what is added)."""
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    env = {"HOME": str(home), "PATH": "/usr/bin:/bin", "LANG": "C", "LC_ALL": "C", **more}
    if "PYTHONPATH" in os.environ:  # the railwatch under test
        env["PYTHONPATH"] = os.environ["PYTHONPATH"]
    return env


def _run(tmp_path: Path, args: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", CONSOLE_SCRIPT, *args],
        capture_output=True,
        cwd=tmp_path,
        env=_cron_env(tmp_path, **env),
        timeout=120,
        check=False,
        text=True,
        encoding="utf-8",
        errors="replace",
    )


# -- alerts --changed-since ----------------------------------------------------------


def _listed(capsys: pytest.CaptureFixture[str], *args: str) -> list[dict[str, object]]:
    assert main(["alerts", SITE, "--json", *args]) == 0
    rows: list[dict[str, object]] = json.loads(capsys.readouterr().out)
    return rows


def test_changed_since_lists_what_analyze_stored_since_the_last_run(
    db: Database, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Day 1 stores the November alert; day 2 an image of October, delivered late,
    raises its own alert. --since the day before lists nothing of day 2; --changed-since
    the time day 1 listed its alerts lists exactly it."""
    monkeypatch.setenv("RAILWATCH_DB", db.url)
    with db.session() as s:
        repo.replace_alerts(s, SITE, [NOV])
    first = _listed(capsys, "--changed-since", "1970-01-01T00:00:00Z", "--unacked")
    assert [a["key"] for a in first] == [NOV.key]
    listed_at = datetime.now(UTC).isoformat()  # as `date -u +%Y-%m-%dT%H:%M:%S.%NZ`

    with db.session() as s:  # day 2: the late image; the November alert stays as it was
        repo.replace_alerts(s, SITE, [NOV, OCT])
    assert _listed(capsys, "--since", "2026-11-03") == []  # the image's day: missed
    new = _listed(capsys, "--changed-since", listed_at, "--unacked")
    assert [a["key"] for a in new] == [OCT.key]
    assert new[0]["day"] == "2026-10-20"

    again_at = datetime.now(UTC).isoformat()  # the same day run again: nothing new
    with db.session() as s:
        repo.replace_alerts(s, SITE, [NOV, OCT])
    assert _listed(capsys, "--changed-since", again_at) == []
    assert main(["alerts", SITE, "--changed-since", again_at]) == 0
    assert capsys.readouterr().out.strip() == "No alerts matching the filters."

    # re-analysis changes the November alert (another count): listed as changed
    changed_at = datetime.now(UTC).isoformat()
    nov = _alert("2026-11-02", 35.0, NOV.when)
    with db.session() as s:
        repo.replace_alerts(s, SITE, [nov, OCT])
    changed = _listed(capsys, "--changed-since", changed_at)
    assert [(a["key"], a["value"]) for a in changed] == [(NOV.key, 35.0)]
    # acknowledged, it is left out with --unacked; acknowledging changes nothing else
    acked_at = datetime.now(UTC).isoformat()
    assert main(["alert", "ack", str(changed[0]["id"]), "--note", "seen"]) == 0
    capsys.readouterr()
    assert _listed(capsys, "--changed-since", changed_at, "--unacked") == []
    assert _listed(capsys, "--changed-since", acked_at) == []


def test_changed_since_takes_a_zone_and_refuses_what_is_no_time(
    db: Database, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("RAILWATCH_DB", db.url)
    with db.session() as s:
        repo.replace_alerts(s, SITE, [NOV])
    # 09:00 at UTC+9 is midnight UTC: a time with its zone is that instant
    assert len(_listed(capsys, "--changed-since", "1970-01-01T09:00:00+09:00")) == 1
    assert _listed(capsys, "--changed-since", "9999-01-01") == []
    assert main(["alerts", SITE, "--changed-since", "yesterday"]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "error: --changed-since 'yesterday'" in err


# -- --debug keeps the exit status --------------------------------------------------


def test_debug_shows_the_traceback_and_keeps_status_2(tmp_path: Path) -> None:
    """Before: status 1 (Python's, the error raised out of main) and no `error:` line."""
    args = ["--debug", "--db", f"sqlite:///{tmp_path / 'x.db'}", "alerts", "--since"]
    run = _run(tmp_path, [*args, "2026-13-01"])
    assert run.returncode == 2, run.stderr[-2000:]
    assert "Traceback (most recent call last)" in run.stderr
    last = run.stderr.strip().splitlines()[-1]
    assert last.startswith("error: --since '2026-13-01' is not a valid calendar date")
    assert run.stdout == ""


def test_debug_keeps_status_70_for_an_internal_error_of_the_console_script(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The console script calls main() without argv; main(argv) from Python still raises
    the internal error under --debug (tests/test_cli_lazy_import_error_r4_s38.py)."""
    load = cli_main.command_app

    def command_app(name: str) -> object:
        if name == "site":
            raise KeyError("PROJ_DATA")
        return load(name)

    monkeypatch.setattr(cli_main, "command_app", command_app)
    monkeypatch.setenv("RAILWATCH_DB", f"sqlite:///{tmp_path / 'x.db'}")
    monkeypatch.setattr(sys, "argv", ["railwatch", "--debug", "site", "list"])
    assert main() == 70
    err = capsys.readouterr().err
    assert "Traceback (most recent call last)" in err and "KeyError: 'PROJ_DATA'" in err
    assert "internal error: KeyError: 'PROJ_DATA' (the traceback is above" in " ".join(err.split())
    with pytest.raises(KeyError):
        main(["--debug", "site", "list"])


def test_debug_logs_railwatch_at_debug_and_other_libraries_from_info(tmp_path: Path) -> None:
    """rasterio's DEBUG lines were 63 of the 104 lines of `--debug ingest` of one bad file."""
    probe = (
        "import logging, sys; from railwatch.cli.main import main; "
        "sys.argv = ['railwatch', '--debug', 'alerts', '--since', 'x']; code = main(); "
        "print(logging.getLogger('railwatch.ingest').getEffectiveLevel(), "
        "logging.getLogger('rasterio._env').getEffectiveLevel(), code)"
    )
    run = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        cwd=tmp_path,
        env=_cron_env(tmp_path),
        timeout=120,
        check=False,
        text=True,
    )
    assert run.stdout.split() == ["10", "20", "2"], run.stderr[-2000:]


# -- output streams that cannot write UTF-8 -------------------------------------------


def test_streams_that_cannot_write_utf8_are_made_safe() -> None:
    ascii_out = io.TextIOWrapper(io.BytesIO(), encoding="ascii")
    latin = io.TextIOWrapper(io.BytesIO(), encoding="latin-1")
    utf8 = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
    make_streams_safe([ascii_out, latin, utf8, object()])
    assert ascii_out.encoding == "utf-8" and utf8.errors == "strict"
    for stream in (ascii_out, latin):
        stream.write("5–15 · 2.2×")
        stream.flush()
    assert ascii_out.buffer.getvalue().decode("utf-8") == "5–15 · 2.2×"
    assert latin.buffer.getvalue().decode("latin-1") == "5?15 · 2.2×"


@pytest.mark.parametrize("env", [{"PYTHONUTF8": "0"}, {"PYTHONIOENCODING": "ascii"}])
def test_alerts_in_a_c_locale_without_utf8(
    db: Database, tmp_path: Path, env: dict[str, str]
) -> None:
    """Before: "internal error: UnicodeEncodeError: 'ascii' codec can't encode character
    '\\xb7'", status 70, nothing on stdout."""
    with db.session() as s:
        repo.replace_alerts(s, SITE, [NOV])
    run = subprocess.run(
        [sys.executable, "-c", CONSOLE_SCRIPT, "--db", db.url, "alerts", SITE],
        capture_output=True,
        cwd=tmp_path,
        env=_cron_env(tmp_path, **env),
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stderr.decode("utf-8", "replace")[-2000:]
    out = run.stdout.decode("utf-8")
    assert "(interval 26–56)" in out and "2.2× the usual 14 · a spike." in out
    assert "\x1b" not in out and "\r" not in out
    # one row a line, not cut at 80 columns: the whole explanation on the alert's line
    rows = [line.rstrip(" │|") for line in out.splitlines() if "#1 " in line]
    assert len(rows) == 1 and rows[0].endswith("a spike.")
    assert run.stderr == b""
