"""What ``analyze SITE --as-of D --store`` does to alert ids is said where it is done.

The look-back replaces the stored alerts (``repo.replace_alerts``): the unacknowledged
alerts it does not raise are deleted, so the next plain analyze raises them again under
new ids, while acknowledged ones are kept with theirs. The ``--store`` help and
docs/storage.md said nothing of it, and an id noted before vanished unannounced."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from railwatch.analysis.types import Alert as AlertValue
from railwatch.cli.main import main
from railwatch.sites import site_from_bbox
from railwatch.storage import Database, repo

BBOX = "130.60,42.28,130.63,42.30"
DOCS = Path(__file__).resolve().parents[1] / "docs" / "storage.md"


def _alert(day: int) -> AlertValue:
    return AlertValue(
        key=f"record-all-2023-10-{day:02d}",
        kind="record",
        severity="high",
        when=datetime(2023, 10, day, 2, 30, tzinfo=UTC),
        cls="all",
        value=68.0,
        explanation="68 railcars, 4.5x the 5-year record of 15",
        metrics={"record": 15.0},
    )


def test_the_behaviour_the_help_and_docs_describe(tmp_db_url: str) -> None:
    now = [_alert(1), _alert(5), _alert(9)]  # a plain analyze
    as_of = [_alert(1)]  # --as-of 2023-10-02 --store
    with Database(tmp_db_url) as db:
        with db.session() as s:
            repo.add_site(s, site_from_bbox("tum", BBOX))
            repo.replace_alerts(s, "tum", now)
            before = {a.key: a.id for a in repo.list_alerts(s, "tum")}
            repo.acknowledge_alert(s, before["record-all-2023-10-09"], "checked")
        with db.session() as s:
            repo.replace_alerts(s, "tum", as_of)
        with db.session() as s:
            repo.replace_alerts(s, "tum", now)
            after = {a.key: a.id for a in repo.list_alerts(s, "tum")}
    assert after["record-all-2023-10-01"] == before["record-all-2023-10-01"]  # raised by both
    assert after["record-all-2023-10-09"] == before["record-all-2023-10-09"]  # acknowledged
    assert after["record-all-2023-10-05"] != before["record-all-2023-10-05"]  # deleted, new id


def test_the_store_option_says_ids_change(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["analyze", "--help"]) == 0
    text = " ".join(re.sub(r"[│╭╮╰╯─]", " ", capsys.readouterr().out).split())
    assert "the next plain analyze raises them again under new ids" in text
    assert "acknowledged alerts keep theirs" in text


def test_the_storage_docs_say_ids_change() -> None:
    text = " ".join(DOCS.read_text(encoding="utf-8").split())
    assert "the next plain `railwatch analyze SITE` raises them again under new ids" in text
    assert "acknowledged alerts are kept and keep their ids" in text
