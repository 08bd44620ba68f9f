"""`railwatch analyze SITE --json` gives what its summary line says (session 30).

The summary line says how many images were read and the changes to the stored alerts,
``reopened`` (acknowledged alerts whose severity rose) and, since 1b72ba8,
``changed_since_ack`` (acknowledged alerts that say something else at the same or a
lower severity, still acknowledged, marked) among them; ``--json`` gave only ``site``,
``as_of``, ``stored`` and the alerts shown, so a script could not tell that an
acknowledged alert had changed under its acknowledgement.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from railwatch.cli.main import main
from railwatch.storage import Database
from railwatch.storage.models import Alert
from test_cli_analyze import _store_counts

CHANGES = ("created", "unchanged", "updated", "removed", "retired", "reopened")


def _analyze(base: list[str], capsys: pytest.CaptureFixture[str], *args: str) -> Any:
    capsys.readouterr()
    assert main([*base, "analyze", "yard", *args, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


@pytest.fixture
def base(tmp_path: Path) -> list[str]:
    url = f"sqlite:///{tmp_path / 'rw.db'}"
    _store_counts(url)
    return ["--db", url]


def _edit(base: list[str], kind: str, **values: Any) -> int:
    """Acknowledge the yard's stored ``kind`` alert and make it hold ``values`` (as if
    acknowledged before a recount): the next analysis raises it as it is now."""
    db = Database(base[1])
    try:
        with db.session() as s:
            row = next(a for a in s.query(Alert) if a.kind == kind and a.cls == "all")
            row.acknowledged = True
            s.execute(update(Alert).where(Alert.id == row.id).values(**values))
            return int(row.id)
    finally:
        db.dispose()


def test_json_gives_the_counts_and_changes_of_the_summary_line(
    base: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    first = _analyze(base, capsys)
    n = first["alerts_total"]
    assert n >= 2 and first["stored"] is True
    assert (first["points"], first["usable"], first["after"]) == (121, 121, 0)
    assert [first[k] for k in CHANGES] == [n, 0, 0, 0, 0, 0]
    assert first["changed_since_ack"] == 0
    # the spike acknowledged at another count: changed since acknowledged
    spike = _edit(base, "spike", value=49.0, explanation="49 railcars (as acknowledged)")
    # the quality alert acknowledged at a lower severity: its severity rises, reopened
    _edit(base, "quality", severity="info")
    again = _analyze(base, capsys)
    assert (again["updated"], again["reopened"], again["changed_since_ack"]) == (2, 1, 1)
    assert again["unchanged"] == n - 2 and again["alerts_total"] == n
    capsys.readouterr()
    assert main([*base, "alerts", "yard", "--unacked", "--json"]) == 0
    marked = {a["id"]: a for a in json.loads(capsys.readouterr().out)}[spike]
    assert marked["acknowledged"] and marked["changed_since_ack"]["value"] == 49.0
    # nothing changed: nothing reported
    once_more = _analyze(base, capsys)
    assert (once_more["unchanged"], once_more["updated"], once_more["changed_since_ack"]) == (
        n,
        0,
        0,
    )


def test_shown_alerts_and_the_total(base: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    out = _analyze(base, capsys, "--min-severity", "high")
    assert out["alerts_total"] > len(out["alerts"])
    assert all(a["severity"] == "high" for a in out["alerts"])


def test_a_look_back_gives_no_changes(base: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    back = _analyze(base, capsys, "--as-of", "2022-01-01")
    assert back["stored"] is False
    assert all(back[k] is None for k in (*CHANGES, "changed_since_ack"))
    assert back["after"] > 0 and back["points"] == 121
    assert back["usable"] == 37  # "37 usable of 37 images up to ...; 84 images after it"
