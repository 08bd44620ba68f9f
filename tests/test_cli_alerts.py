"""``railwatch alert ack``: acknowledging an alert that already was."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from shapely.geometry import box

from railwatch.analysis.types import Alert
from railwatch.cli.main import main
from railwatch.sites import SiteSpec
from railwatch.storage import Database, repo


def _one_alert(url: str) -> int:
    db = Database(url)
    with db.session() as s:
        site = repo.add_site(s, SiteSpec(name="yard", geometry=box(130.6, 42.42, 130.61, 42.43)))
        when = datetime(2024, 3, 18, tzinfo=UTC)
        repo.replace_alerts(
            s, site, [Alert("record:all:2024-03-18", "record", "high", when, "all", 9.0, "x")]
        )
        return int(repo.list_alerts(s, "yard")[0].id)


def test_ack_again_keeps_the_note_and_says_so(
    tmp_db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A second `alert ack` once replaced the first note (or erased it, without --note):
    now it keeps it, adds a new one after it, and says what the notes read."""
    aid = _one_alert(tmp_db_url)
    db = ("--db", tmp_db_url)
    assert main([*db, "alert", "ack", str(aid), "--note", "checked against 38 North"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert out == f"Alert {aid} (record, high, 2024-03-18) acknowledged."
    assert main([*db, "alert", "ack", str(aid)]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "already acknowledged" in out and "checked against 38 North" in out
    assert out.endswith("; nothing changed.")
    assert main([*db, "alert", "ack", str(aid), "--note", "seen again"]) == 0
    raw = capsys.readouterr().out
    out = " ".join(raw.split())
    assert "already acknowledged" in out and "with the note 'checked against 38 North'" in out
    assert "note added, the notes now read: checked against 38 North " in out
    assert out.endswith(" UTC: seen again")
    # one note a line (a literal \n between them until session 37)
    assert "\\n" not in raw
    assert "\n  checked against 38 North\n  " in raw
