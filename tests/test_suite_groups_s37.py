"""tests/conftest.py's grouping for ``make test`` (session 37): under ``--dist loadgroup``
the tests of a module that share a module-scoped fixture run on one worker, which builds
the fixture once; pytest-xdist dealt them out to both workers by turns, and each built it
(the demo databases, simulated yards and trained models of about 95 modules)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent

#: A module whose four tests share a module-scoped fixture that notes the worker that
#: built it, and a module of plain tests that note their workers.
SHARED = """
import os
from pathlib import Path

import pytest

LOG = Path(os.environ["RW_GROUP_LOG"])


@pytest.fixture(scope="module")
def built() -> str:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    with LOG.open("a") as f:
        f.write(f"built {worker}\\n")
    return worker


@pytest.mark.parametrize("k", range(4))
def test_shared(built: str, k: int) -> None:
    with LOG.open("a") as f:
        f.write(f"shared {os.environ.get('PYTEST_XDIST_WORKER', 'main')}\\n")
"""

PLAIN = """
import os
from pathlib import Path

import pytest

LOG = Path(os.environ["RW_GROUP_LOG"])


@pytest.mark.parametrize("k", range(4))
def test_plain(k: int) -> None:
    with LOG.open("a") as f:
        f.write(f"plain {os.environ.get('PYTEST_XDIST_WORKER', 'main')}\\n")
"""

GROUPED = """
import os
from pathlib import Path

import pytest

LOG = Path(os.environ["RW_GROUP_LOG"])
pytestmark = pytest.mark.xdist_group("own")


@pytest.fixture(scope="module")
def built() -> None:
    with LOG.open("a") as f:
        f.write(f"own-built {os.environ.get('PYTEST_XDIST_WORKER', 'main')}\\n")


@pytest.mark.parametrize("k", range(2))
def test_own(built: None, k: int) -> None:
    pass
"""


def _run(folder: Path, *args: str) -> list[tuple[str, str]]:
    """Run pytest with ARGS in ``folder`` (the suite's conftest.py copied in); the
    (event, worker) lines the inner tests wrote."""
    log = folder / "log.txt"
    shutil.copy(HERE / "conftest.py", folder / "conftest.py")
    # and the module its hooks import (the new databases of a test, session 49)
    shutil.copy(HERE / "_fresh_db.py", folder / "_fresh_db.py")
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args],
        cwd=folder,
        # an outer xdist worker's PYTEST_XDIST_* would be taken as the inner run's own
        env={
            **{k: v for k, v in os.environ.items() if not k.startswith("PYTEST_XDIST")},
            "RW_GROUP_LOG": str(log),
        },
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    lines = log.read_text().splitlines()
    return [(line.split()[0], line.split()[1]) for line in lines]


@pytest.fixture
def suite(tmp_path: Path) -> Path:
    (tmp_path / "test_shared.py").write_text(SHARED)
    (tmp_path / "test_plain.py").write_text(PLAIN)
    (tmp_path / "test_grouped.py").write_text(GROUPED)
    # the inner run's rootdir is tmp_path: no pyproject of ours, only what the test gives
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    return tmp_path


def test_a_module_fixture_is_built_once_under_loadgroup(suite: Path) -> None:
    """Without the grouping the first four units went to the two workers by turns
    (gw0: shared[0], shared[2]; gw1: shared[1], shared[3]) and both built the fixture."""
    events = _run(suite, "-n", "2", "--dist", "loadgroup")
    built = [w for e, w in events if e == "built"]
    shared = {w for e, w in events if e == "shared"}
    assert len(built) == 1, events
    assert shared == set(built), events
    # a module's own xdist_group mark is kept: its fixture is built once too
    assert len([w for e, w in events if e == "own-built"]) == 1, events
    # plain tests stay units of their own (all four ran)
    assert len([w for e, w in events if e == "plain"]) == 4, events


def test_without_xdist_nothing_is_grouped(suite: Path) -> None:
    """A plain run (no -n) is left as it was: every test runs, the fixture built once."""
    events = _run(suite)
    assert [e for e, _ in events].count("built") == 1
    assert {w for _, w in events} == {"main"}
    assert len([e for e, _ in events if e == "shared"]) == 4
