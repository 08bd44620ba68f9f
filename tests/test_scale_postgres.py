"""Concurrent writers and the scale paths on both backends: two ``railwatch process``
runs (real processes) on different sites at once, on SQLite (they serialise on the
write lock) and on a real PostgreSQL server; a SQLite lock held too long gives a clear
error; a distributed run on PostgreSQL."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from sqlalchemy import func, select

from railwatch.storage import Database
from railwatch.storage.models import Scene, Site
from test_distributed import check_consistent, setup_db
from test_distributed import fake_module as fake_module  # the fixture

# ``railwatch`` with the fake detector of test_distributed. With RW_RENDEZVOUS_MINE and
# RW_RENDEZVOUS_OTHER, the first detection waits until the other run has reached its own
# first detection: both runs are then provably processing at the same time.
LAUNCHER = textwrap.dedent(
    """
    import os, sys, time
    from pathlib import Path

    if __name__ == "__main__":
        import rw_fake_rects
        import railwatch.detect.registry as registry
        import railwatch.storage.db as dbmod

        if os.environ.get("RW_BUSY_TIMEOUT_MS"):
            dbmod.SQLITE_BUSY_TIMEOUT_MS = int(os.environ["RW_BUSY_TIMEOUT_MS"])

        class Rendezvous(rw_fake_rects.BrightRects):
            met = False

            def detect(self, image, gsd, valid=None):
                mine = os.environ.get("RW_RENDEZVOUS_MINE")
                if mine and not self.met:
                    Path(mine).touch()
                    other = Path(os.environ["RW_RENDEZVOUS_OTHER"])
                    deadline = time.monotonic() + 240
                    while not other.exists() and time.monotonic() < deadline:
                        time.sleep(0.05)
                    if not other.exists():
                        sys.exit("rendezvous: the other run never started detecting")
                    self.met = True
                return super().detect(image, gsd, valid)

        registry.get_detector = lambda name="default": Rendezvous(delay=0.05)
        from railwatch.cli.main import main

        sys.exit(main(sys.argv[1:]))
    """
)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.services)])
def backend_url(request: pytest.FixtureRequest, tmp_db_url: str) -> str:
    if request.param == "postgresql":
        return str(request.getfixturevalue("postgres_url"))
    return tmp_db_url


def _launcher(fake_module: Path) -> Path:
    path = fake_module / "launch_concurrent.py"
    path.write_text(LAUNCHER)
    return path


@pytest.mark.slow
def test_two_concurrent_process_runs_on_different_sites(
    backend_url: str, tmp_path: Path, fake_module: Path
) -> None:
    for site in ("east", "west"):
        setup_db(backend_url, tmp_path, 5, site=site).dispose()
    launcher = _launcher(fake_module)
    procs = {}
    for me, other in (("east", "west"), ("west", "east")):
        env = {
            **os.environ,
            "RW_RENDEZVOUS_MINE": str(tmp_path / f"{me}.detecting"),
            "RW_RENDEZVOUS_OTHER": str(tmp_path / f"{other}.detecting"),
        }
        cmd = [sys.executable, str(launcher), "--db", backend_url, "process", me, "--json"]
        procs[me] = subprocess.Popen(
            cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
        )
    outputs = {}
    for site, proc in procs.items():
        out, err = proc.communicate(timeout=360)
        assert proc.returncode == 0, err
        outputs[site] = json.loads(out)
    for site in ("east", "west"):
        [summary] = outputs[site]
        assert (summary["site"], summary["processed"], summary["failed"]) == (site, 5, [])
    db = Database(backend_url)
    check_consistent(db)
    with db.session(readonly=True) as s:
        rows = s.execute(select(Site.name, func.count(Scene.id)).join(Scene).group_by(Site.name))
        per_site = {name: n for name, n in rows}
    assert per_site == {"east": 5, "west": 5}
    # incremental and idempotent afterwards: nothing left to do, nothing added
    again = subprocess.run(
        [sys.executable, str(launcher), "--db", backend_url, "process", "--all", "--json"],
        capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    assert [(r["processed"], r["up_to_date"]) for r in json.loads(again.stdout)] == [(0, 5)] * 2
    check_consistent(db)
    db.dispose()


@pytest.mark.slow
def test_sqlite_process_run_blocked_too_long_says_so(tmp_db_url: str, fake_module: Path) -> None:
    """Another writer holds the SQLite lock past the busy timeout: ``process`` stops
    with a one-line message naming the cause and the way out; no scene is touched."""
    tmp = fake_module.parent
    setup_db(tmp_db_url, tmp, 2).dispose()
    launcher = _launcher(fake_module)
    env = {**os.environ, "RW_BUSY_TIMEOUT_MS": "500"}
    cmd = [sys.executable, str(launcher), "--db", tmp_db_url, "process", "yard"]
    holder = sqlite3.connect(tmp_db_url.removeprefix("sqlite:///"), isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        blocked = subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=env)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert blocked.returncode != 0
    assert "stayed locked by another writer for 0.5 s" in blocked.stderr, blocked.stderr
    assert "Traceback" not in blocked.stderr
    db = Database(tmp_db_url)
    assert check_consistent(db, expect_all_processed=False) == {"ingested": 2}
    done = subprocess.run([*cmd, "--json"], capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)[0]["processed"] == 2
    check_consistent(db)
    db.dispose()


@pytest.mark.services
def test_distributed_run_on_postgresql(
    tmp_path: Path, postgres_url: str, fake_module: Path
) -> None:
    import rw_fake_rects
    from distributed import Client, LocalCluster

    from railwatch.distributed import process_sites_distributed

    db = setup_db(postgres_url, tmp_path, 4)
    det = rw_fake_rects.BrightRects()
    with (
        LocalCluster(n_workers=1, processes=False, dashboard_address=None) as cluster,
        Client(cluster) as client,
    ):
        [first] = process_sites_distributed(db, ["yard"], detector=det, client=client)
        [again] = process_sites_distributed(db, ["yard"], detector=det, client=client)
    assert len(first.processed) == 4 and not first.failed
    assert again.total == 0 and again.skipped == 4
    check_consistent(db)
    db.dispose()
