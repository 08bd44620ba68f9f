"""`railwatch process` of several sites while another run processes one of them
(2026-12-06, session 35). An operator's daily ``process --all`` stopped at a site held
elsewhere (a long ``--reprocess`` of one yard, a web job): with ``--workers`` or
``--scheduler`` before any site was processed, in one process at that site, the sites
after it left for another day. Now the held site is left out, said so with who holds it,
the others are processed, and the run ends with status 1 saying which to run again. A
site named alone is refused as before."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select

from railwatch.cli.main import main
from railwatch.storage import Database
from railwatch.storage.models import Scene, Site
from test_distributed import fake_module as fake_module  # the fixture
from test_distributed import setup_db
from test_process_qa_lock import Holder
from test_process_qa_lock import hold as hold  # the fixture
from test_process_qa_lock import url as url  # the fixture


def _statuses(db: Database) -> dict[str, list[str]]:
    with db.session(readonly=True) as s:
        rows = s.execute(select(Site.name, Scene.status).join(Scene, Scene.site_id == Site.id))
        out: dict[str, list[str]] = {}
        for site, status in rows:
            out.setdefault(site, []).append(status)
        return out


@pytest.mark.parametrize("extra", [[], ["--workers", "1"]], ids=["in-process", "workers"])
def test_a_held_site_is_left_out_and_the_others_are_processed(
    url: str,
    tmp_path: Path,
    fake_module: Path,
    hold: Holder,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    extra: list[str],
) -> None:
    import rw_fake_rects

    import railwatch.detect.registry as registry

    for site in ("a", "b", "c"):
        setup_db(url, tmp_path, 2, site=site).dispose()
    fake = rw_fake_rects.BrightRects()
    monkeypatch.setattr(registry, "get_detector", lambda name="default": fake)
    hold(url, "b")
    capsys.readouterr()
    # "b" first: in one process the run stopped there, before "a" and "c"
    assert main(["--db", url, "process", "b", "a", "c", "--json", *extra]) == 75
    out, err = capsys.readouterr()
    rows = {row["site"]: row for row in json.loads(out)}
    assert [rows[s]["processed"] for s in "bac"] == [0, 2, 2]
    assert rows["b"]["busy"] and "is being processed by another railwatch run" in rows["b"]["busy"]
    assert rows["a"]["busy"] is None and rows["c"]["busy"] is None
    err = " ".join(err.split())
    assert "site b not processed: site 'b' is being processed by another railwatch run" in err
    assert "1 site not processed, held by another railwatch run (b)" in err, err
    assert "run process again for it once that run has finished" in err
    assert "has no scenes to process" not in err  # a held site is not an empty one
    assert "Traceback" not in err
    db = Database(url)
    assert _statuses(db) == {"a": ["processed"] * 2, "b": ["ingested"] * 2, "c": ["processed"] * 2}
    db.dispose()


def test_a_held_site_and_a_failed_scene_are_both_in_the_last_line(
    url: str,
    tmp_path: Path,
    fake_module: Path,
    hold: Holder,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A held site and a scene of another site that failed: the run's last line named
    the held site only, so a script's log said nothing of the failure (review, session
    35). Now it names both."""
    import rw_fake_rects

    import railwatch.detect.registry as registry

    for site in ("a", "b"):
        setup_db(url, tmp_path, 2, site=site).dispose()
    next((tmp_path / "a").glob("*.tif")).unlink()
    fake = rw_fake_rects.BrightRects()
    monkeypatch.setattr(registry, "get_detector", lambda name="default": fake)
    hold(url, "b")
    capsys.readouterr()
    assert main(["--db", url, "process", "a", "b"]) == 1
    err = " ".join(capsys.readouterr().err.split())
    assert "1 site not processed, held by another railwatch run (b)" in err, err
    assert "and 1 scene of the others failed (listed above)" in err, err


@pytest.mark.parametrize("extra", [[], ["--workers", "1"]], ids=["in-process", "workers"])
def test_a_held_site_named_alone_is_refused_as_before(
    url: str,
    tmp_path: Path,
    fake_module: Path,
    hold: Holder,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    extra: list[str],
) -> None:
    import rw_fake_rects

    import railwatch.detect.registry as registry

    setup_db(url, tmp_path, 2, site="b").dispose()
    fake = rw_fake_rects.BrightRects()
    monkeypatch.setattr(registry, "get_detector", lambda name="default": fake)
    hold(url, "b")
    capsys.readouterr()
    assert main(["--db", url, "process", "b", *extra]) == 75
    out, err = capsys.readouterr()
    assert "is being processed by another railwatch run" in err and not out.strip()
