"""Scale paths on a real PostgreSQL server: two concurrent ``process`` runs on different
sites, then an incremental re-run; the same checks as on SQLite."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from railwatch.pipeline import ProcessSummary, process_site
from railwatch.storage import Database
from test_distributed import check_consistent, setup_db
from test_distributed import fake_module as fake_module  # the fixture

pytestmark = pytest.mark.services


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_two_concurrent_process_runs_on_different_sites(
    backend: str, tmp_path: Path, tmp_db_url: str, request: pytest.FixtureRequest, fake_module: Path
) -> None:
    import rw_fake_rects

    url = request.getfixturevalue("postgres_url") if backend == "postgresql" else tmp_db_url
    setup_db(url, tmp_path, 5, site="east")
    setup_db(url, tmp_path, 5, site="west")
    det = rw_fake_rects.BrightRects(delay=0.02)
    results: dict[str, ProcessSummary] = {}
    errors: list[BaseException] = []

    def run(site: str) -> None:
        try:
            results[site] = process_site(Database(url), site, detector=det)
        except BaseException as err:  # reported by the main thread
            errors.append(err)

    threads = [threading.Thread(target=run, args=(site,)) for site in ("east", "west")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    assert {s: len(r.processed) for s, r in results.items()} == {"east": 5, "west": 5}
    db = Database(url)
    check_consistent(db)
    again = process_site(db, "east", detector=det)
    assert again.total == 0 and again.skipped == 5


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
