"""QA (session 22): ``railwatch process --all --workers N`` on a SQLite database of
many sites holds one lock file per site for the whole run. With the usual soft limit
of 1,024 open files, 1,000 sites (the size docs/scaling.md plans for) stopped with
"cannot open the lock file …: Too many open files" before any scene ran. The soft
limit is now raised as far as the hard limit allows, and when that is not enough the
message says why and what to do."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

resource = pytest.importorskip("resource")

HOLD = textwrap.dedent(
    """
    import resource, sys
    from railwatch.pipeline import processing_lock
    from railwatch.storage import Database

    url, sites, soft, hard = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    db = Database(url)
    try:
        with processing_lock(db, [f"site{i}" for i in range(sites)]):
            print("held", sites)
    except Exception as err:
        print(type(err).__name__, err)
    """
)


def _hold(url: str, sites: int, soft: int, hard: int) -> str:
    out = subprocess.run(
        [sys.executable, "-c", HOLD, url, str(sites), str(soft), str(hard)],
        capture_output=True, text=True, timeout=300, check=True,
    )  # fmt: skip
    return out.stdout.strip()


def _hard_limit() -> int:
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    return sys.maxsize if hard == resource.RLIM_INFINITY else int(hard)


def test_many_sites_fit_under_a_low_soft_limit(tmp_path: Path) -> None:
    if _hard_limit() < 2000:
        pytest.skip("the hard limit of open files here is too low to raise the soft one")
    url = f"sqlite:///{tmp_path / 'many.db'}"
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]  # kept as it is
    assert _hold(url, 600, 256, hard) == "held 600"


def test_a_hard_limit_too_low_says_what_to_do(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'many.db'}"
    said = _hold(url, 600, 256, 256)
    assert said.startswith("StorageError cannot open the lock file"), said
    assert "600 locks (one per site) are held open at once" in said
    assert "ulimit -n" in said and "fewer sites per run" in said


@pytest.mark.services
def test_postgresql_lock_table_full_says_what_to_do(postgres_url: str) -> None:
    """PostgreSQL keeps advisory locks in its shared lock table (max_locks_per_transaction
    × max_connections slots, 6,400 with the defaults): a run over more sites than that
    said only "locking failed (…): out of shared memory". The locks it took are
    released, so a smaller run goes ahead."""
    from railwatch.errors import StorageError
    from railwatch.pipeline import processing_lock
    from railwatch.storage import Database

    db = Database(postgres_url)
    with db.engine.connect() as conn:
        per_xact = int(conn.exec_driver_sql("SHOW max_locks_per_transaction").scalar() or 64)
        conns = int(conn.exec_driver_sql("SHOW max_connections").scalar() or 100)
    sites = [f"site{i}" for i in range(3 * per_xact * conns)]
    with pytest.raises(StorageError) as err, processing_lock(db, sites):
        pass
    message = str(err.value)
    assert f"cannot hold {len(sites)} locks (one per site) at once" in message
    assert "max_locks_per_transaction" in message and "fewer sites per run" in message
    with processing_lock(db, sites[:100]):
        pass
    db.dispose()
