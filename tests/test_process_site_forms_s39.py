"""A site named twice in one ``process`` run, once in each Unicode form of its name
(NFC, as stored, and NFD, "u" and a combining diaeresis, as macOS and some keyboards
give it), is one site processed once, as a site named twice alike is: on Dask every
scene's task key was made twice and the run died ("the Dask cluster cancelled the task
of scene N, which this run did not ask for"), and in-process the CLI printed the site
twice. Found in review r2 of session 39 (2026-12-06)."""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path
from typing import Any

import pytest

from test_distributed import check_consistent, setup_db
from test_distributed import fake_module as fake_module  # the fixture

distributed = pytest.importorskip("distributed")

NFC = unicodedata.normalize("NFC", "Zürich")
NFD = unicodedata.normalize("NFD", "Zürich")


@pytest.fixture
def client() -> Any:
    with (
        distributed.LocalCluster(n_workers=1, processes=False, dashboard_address=None) as cluster,
        distributed.Client(cluster) as c,
    ):
        yield c


def test_a_site_named_in_both_forms_is_processed_once_on_dask(
    tmp_path: Path, tmp_db_url: str, fake_module: Path, client: Any
) -> None:
    import rw_fake_rects

    from railwatch.distributed import process_sites_distributed

    db = setup_db(tmp_db_url, tmp_path, 3, site=NFC)
    summaries = process_sites_distributed(
        db, [NFD, NFC], detector=rw_fake_rects.BrightRects(), client=client
    )
    assert [(s.site, len(s.processed), s.skipped) for s in summaries] == [(NFD, 3, 0)]
    check_consistent(db)
    db.dispose()


def test_the_cli_lists_a_site_named_in_both_forms_once(
    tmp_path: Path,
    tmp_db_url: str,
    fake_module: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    import rw_fake_rects

    import railwatch.detect.registry as registry
    from railwatch.cli.main import main

    setup_db(tmp_db_url, tmp_path, 2, site=NFC).dispose()
    fake = rw_fake_rects.BrightRects()
    monkeypatch.setattr(registry, "get_detector", lambda name="default": fake)
    capsys.readouterr()
    assert main(["--db", tmp_db_url, "process", NFC, NFD, "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["site"], r["processed"], r["up_to_date"]) for r in rows] == [(NFC, 2, 0)]
