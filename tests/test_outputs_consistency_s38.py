"""Small inconsistencies between railwatch's outputs, fixed in session 38 (2026-12-06).

1. ``railwatch analyze SITE --json`` gave the alerts without the stored alert's id,
   which the table shows and ``railwatch alert ack ID`` takes.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from railwatch.cli.main import main
from test_cli_analyze import _csv, _store_counts


def _json(capsys: pytest.CaptureFixture[str], *args: str) -> Any:
    capsys.readouterr()
    assert main(list(args)) == 0
    return json.loads(capsys.readouterr().out)


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'rw.db'}"
    _store_counts(url)
    return url


def test_analyze_site_json_gives_each_stored_alert_its_id(
    db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    out = _json(capsys, "--db", db_url, "analyze", "yard", "--json")
    alerts = out["alerts"]
    assert len(alerts) >= 2
    stored = _json(capsys, "--db", db_url, "alerts", "yard", "--json", "--all")
    ids = {a["key"]: a["id"] for a in stored}
    assert [a["id"] for a in alerts] == [ids[a["key"]] for a in alerts]
    assert all(isinstance(a["id"], int) for a in alerts)
    assert next(iter(alerts[0])) == "id"  # first, as in `railwatch alerts --json`
    # the id is the one `railwatch alert ack ID` takes
    spike = next(a for a in alerts if a["kind"] == "spike")
    acked = _json(capsys, "--db", db_url, "alert", "ack", str(spike["id"]), "--json")
    assert acked["id"] == spike["id"] and acked["key"] == spike["key"]
    assert acked["acknowledged"] is True


def test_analyze_look_back_ids_only_where_stored(
    db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    _json(capsys, "--db", db_url, "analyze", "yard", "--json")
    # a look-back stores nothing: its alerts have no id (null, the key is there)
    back = _json(capsys, "--db", db_url, "analyze", "yard", "--as-of", "2024-01-01", "--json")
    assert back["stored"] is False and back["alerts"]
    assert all(a["id"] is None for a in back["alerts"])
    # with --store they are the stored alerts, with their ids
    kept = _json(
        capsys, "--db", db_url, "analyze", "yard", "--as-of", "2024-01-01", "--store", "--json"
    )
    stored = _json(capsys, "--db", db_url, "alerts", "yard", "--json", "--all")
    ids = {a["key"]: a["id"] for a in stored}
    assert kept["stored"] is True and kept["alerts"]
    assert [a["id"] for a in kept["alerts"]] == [ids[a["key"]] for a in kept["alerts"]]


def test_analyze_counts_json_id_is_null(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    alerts = _json(capsys, "analyze", "--counts", str(_csv(tmp_path)), "--json")
    assert alerts and all("id" in a and a["id"] is None for a in alerts)
