"""QA: SIGTERM (``kill PID``, ``timeout 5 railwatch ...``, a service manager's stop)
ended the program at once with no message (status -15): nothing said why it stopped,
and nothing unwound. It now behaves as Ctrl-C does: the command unwinds (the scene
being processed rolls back, the per-site processing lock is let go), one line on
stderr and status 143."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from railwatch.cli import main as cli_main
from railwatch.storage import Database
from railwatch.storage.models import Scene
from test_distributed import check_consistent, setup_db
from test_distributed import fake_module as fake_module  # the fixture

#: ``railwatch process yard`` with a detector that writes a marker file when it starts
#: its second scene, then waits there (for SIGTERM). After ``main`` returns, the script
#: takes the site's processing lock itself: it says "lock free" only when the run let
#: its lock go (a lock still held by this process refuses a second holder). Detection
#: runs in the main thread here: on worker threads the run waits for the tiles in
#: flight before it ends, as it does on Ctrl-C, and this one never ends.
RUN = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    import rw_fake_rects
    import railwatch.detect.api as api
    import railwatch.detect.registry as registry
    from railwatch.cli.main import main

    url, marker = sys.argv[1], Path(sys.argv[2])

    class Stuck(rw_fake_rects.BrightRects):
        calls = 0

        def detect(self, image, gsd, valid=None):
            Stuck.calls += 1
            if Stuck.calls == 2:
                marker.write_text("in scene 2")
                time.sleep(600)
            return super().detect(image, gsd, valid)

    registry.get_detector = lambda name="default": Stuck()
    api.default_workers = lambda: 1  # detect in the main thread, where SIGTERM lands
    rc = main(["--db", url, "process", "yard"])
    from railwatch.pipeline import processing_lock
    from railwatch.storage import Database
    with processing_lock(Database(url), ["yard"]):
        print("lock free", flush=True)
    sys.exit(rc)
    """
)


def _wait_for(path: Path, proc: subprocess.Popen[str]) -> None:
    """Wait until ``path`` exists (the run got there), or fail if the run ended."""
    for _ in range(1200):  # a bound on the wait, not a timing assertion
        if path.exists():
            return
        if proc.poll() is not None:
            out, err = proc.communicate()
            pytest.fail(f"the run ended before it got there ({proc.returncode}): {out}{err}")
        time.sleep(0.1)
    proc.kill()
    pytest.fail("the run never got to its second scene")


@pytest.mark.slow
def test_sigterm_during_process_unwinds_like_ctrl_c(tmp_path: Path, fake_module: Path) -> None:
    url = f"sqlite:///{tmp_path / 'rw.db'}"
    setup_db(url, tmp_path, 3).dispose()
    marker = tmp_path / "marker"
    proc = subprocess.Popen(
        [sys.executable, "-c", RUN, url, str(marker)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        _wait_for(marker, proc)
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=120)
    finally:
        proc.kill()
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err
    last = err.strip().splitlines()[-1]
    # how far it got, since session 47: "Terminated with 1 of 3 scenes of site yard done; ..."
    assert re.fullmatch(
        r"Terminated with \d+ of \d+ scenes? of site \S+ done; the database keeps every scene "
        r"recorded so far\." + re.escape(cli_main._GO_ON),
        last,
    ), err
    assert proc.returncode == 143, err
    assert out.strip() == "lock free", (out, err)
    db = Database(url)
    # the first scene is recorded; the one being detected rolled back (not 'failed')
    with db.session(readonly=True) as s:
        statuses = sorted(sc.status for sc in s.scalars(select(Scene)))
    assert statuses == ["ingested", "ingested", "processed"]
    check_consistent(db, expect_all_processed=False)
    db.dispose()


@pytest.mark.slow
def test_sigterm_while_a_command_waits_is_one_line_and_143(tmp_path: Path) -> None:
    """`site add --geojson -` reading a standard input that stays open: nothing added."""
    url = f"sqlite:///{tmp_path / 'rw.db'}"
    Database(url).dispose()  # `site list` below reads it (a missing one is refused)
    started = tmp_path / "started"
    code = (
        "import sys; from pathlib import Path; import railwatch.cli.site as site; "
        "from railwatch.cli.main import main; read = site._stdin_text; "
        f"site._stdin_text = lambda: (Path({str(started)!r}).write_text('x'), read())[1]; "
        "sys.exit(main(sys.argv[1:]))"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code, "--db", url, "site", "add", "yard", "--geojson", "-"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        _wait_for(started, proc)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert "Traceback" not in err, err
    # one transaction, rolled back: no "the database keeps every scene recorded so far"
    assert err.strip().splitlines() == ["Terminated."], err
    assert proc.returncode == 143
    assert cli_main.main(["--db", url, "site", "list", "--json"]) == 0


def test_the_handler_is_only_in_place_while_main_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    seen: list[object] = []

    def spy(argv: object, console: object) -> int:
        seen.append(signal.getsignal(signal.SIGTERM))
        return 0

    before = signal.getsignal(signal.SIGTERM)
    mp = pytest.MonkeyPatch()
    mp.setattr(cli_main, "_run", spy)
    try:
        assert cli_main.main(["site", "list"]) == 0
    finally:
        mp.undo()
    assert signal.getsignal(signal.SIGTERM) == before
    if before is signal.SIG_DFL:
        assert seen == [cli_main._on_sigterm]
    else:  # a test runner's own handler is left alone
        assert seen == [before]


def test_sigterm_in_a_command_says_terminated(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The handler's exception goes the way of Ctrl-C, with its own line and status."""

    def terminated(argv: object, console: object) -> int:
        cli_main._started = True
        cli_main._command = "process"
        cli_main._terminated = True
        raise cli_main.Terminated

    monkeypatch.setattr(cli_main, "_run", terminated)
    assert cli_main.main(["site", "list"]) == 143
    assert capsys.readouterr().err == (
        "Terminated; the database keeps every scene recorded so far." + cli_main._GO_ON + "\n"
    )
