"""`site remove` says, before it deletes, everything it deletes: every alert (also the
acknowledged ones that re-analysis no longer raises, with their notes) and the
analyst's own counts of the site's scenes. It counted the active alerts only and said
nothing of the reviews."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest

from railwatch.cli.main import main
from railwatch.storage import Database, repo
from railwatch.storage.models import Alert
from report_db import SITE_NAME, populate


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, " ".join(out.split()), " ".join(err.split())


def test_the_question_counts_every_alert_and_the_reviews(
    tmp_path: Path,
    tmp_db_url: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    db = Database(tmp_db_url)
    ids = populate(db, tmp_path / "imgs")
    with db.session() as s:  # the stored alert, acknowledged with a note
        alert_id = s.query(Alert).one().id
        repo.acknowledge_alert(s, alert_id, "checked against the port's manifest")
    cli = ("--db", tmp_db_url)
    assert main([*cli, "analyze", SITE_NAME]) == 0  # no longer raised: kept, inactive
    assert (
        main(
            [
                *cli,
                "scene",
                "review",
                str(ids["scene_ids"][-1]),
                "--count",
                "19",
                "--class",
                "boxcar=6",
                "--class",
                "gondola=6",
                "--class",
                "tank=6",
            ]
        )
        == 0
    )
    capsys.readouterr()
    with db.session() as s:
        kept = s.get(Alert, alert_id)
        assert kept is not None and not kept.active and kept.acknowledged
        n_alerts = s.query(Alert).count()
    assert n_alerts > 1

    monkeypatch.setattr("sys.stdin", io.StringIO(""))  # not a terminal: nothing asked
    code, _, err = run(capsys, *cli, "site", "remove", SITE_NAME)
    assert code == 2, err
    assert f"{n_alerts} alerts (1 acknowledged, with its note)" in err
    assert "1 scene review (counts made by hand)" in err

    code, out, err = run(capsys, *cli, "site", "remove", SITE_NAME, "--yes")
    assert code == 0, err
    removed = re.search(r"(\d+) alerts\.", out)
    assert removed is not None and int(removed.group(1)) == n_alerts  # as the question said
