"""An alert's class is ``class`` wherever alerts are output (2026-12-06, session 38).

The filters name it ``class`` (``railwatch alerts --class``, the API's ``?class=``)
and, since 5e3e73f, so does the REST counts API; the alerts JSON (``railwatch alerts
--json``, ``alert ack --json``, ``analyze --json``, the API's alerts,
``railwatch.site_alerts``) called it ``cls``. Each now gives ``class``, with ``cls``
beside it (the same value, right after it) for the scripts that read the old name.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import railwatch
from railwatch.cli.main import main
from railwatch.storage import Database
from test_alert_dict_s36 import SITE, db  # noqa: F401
from test_cli_analyze import _csv, _store_counts


def _class_then_cls(alert: dict[str, Any]) -> None:
    """``class`` and ``cls`` both given, the same value, ``cls`` right after ``class``."""
    keys = list(alert)
    assert "class" in keys, keys
    assert keys[keys.index("class") + 1] == "cls", keys
    assert alert["class"] == alert["cls"]


def test_cli_alerts_json_names_the_class_class(
    db: Database,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("RAILWATCH_DB", db.url)
    assert main(["alerts", SITE, "--json"]) == 0
    alerts = json.loads(capsys.readouterr().out)
    assert {a["class"] for a in alerts} == {"all", "tank"}
    for a in alerts:
        _class_then_cls(a)
    # the filter and the output name the same thing
    assert main(["alerts", SITE, "--json", "--class", "tank"]) == 0
    tank = json.loads(capsys.readouterr().out)
    assert [a["class"] for a in tank] == ["tank"]
    # `alert ack --json` gives the members of `alerts --json`
    assert main(["alert", "ack", str(tank[0]["id"]), "--json"]) == 0
    acked = json.loads(capsys.readouterr().out)
    _class_then_cls(acked)
    assert acked["class"] == "tank"


def test_site_alerts_names_the_class_class(db: Database) -> None:  # noqa: F811
    mine = railwatch.site_alerts(db, SITE)
    assert {a["class"] for a in mine} == {"all", "tank"}
    for a in mine:
        _class_then_cls(a)


def test_analyze_json_names_the_class_class(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    assert main(["analyze", "--counts", str(_csv(tmp_path)), "--json"]) == 0
    alerts = json.loads(capsys.readouterr().out)
    assert alerts
    for a in alerts:
        _class_then_cls(a)
        assert a["class"] == "all"
    url = f"sqlite:///{tmp_path / 'rw.db'}"
    _store_counts(url)
    assert main(["--db", url, "analyze", "yard", "--json"]) == 0
    stored = json.loads(capsys.readouterr().out)["alerts"]
    assert stored
    for a in stored:
        _class_then_cls(a)


def test_web_api_alerts_name_the_class_class(db: Database, tmp_path: Path) -> None:  # noqa: F811
    pytest.importorskip("fastapi")
    from fastapi.testclient import TestClient
    from pydantic import SecretStr

    from railwatch.settings import Settings
    from railwatch.web.app import create_app

    settings = Settings(db=db.url, api_token=SecretStr("s38-token"), cache_dir=tmp_path / "c")
    client = TestClient(create_app(settings, db))
    for url in (f"/api/sites/{SITE}/alerts", f"/api/alerts?site={SITE}", "/api/alerts"):
        items = client.get(url).json()["items"]
        assert {a["class"] for a in items} == {"all", "tank"}, url
        for a in items:
            _class_then_cls(a)
    tank = client.get(f"/api/alerts?site={SITE}&class=tank").json()["items"]
    assert [a["class"] for a in tank] == ["tank"]
    one = client.get(f"/api/alerts/{tank[0]['id']}").json()
    _class_then_cls(one)
    acked = client.post(
        f"/api/alerts/{tank[0]['id']}/acknowledge",
        json={"note": "ok"},
        headers={"Authorization": "Bearer s38-token"},
    )
    assert acked.status_code == 200, acked.text
    _class_then_cls(acked.json())
    # the OpenAPI schema names both, `class` first
    schema = client.get("/api/openapi.json")
    if schema.status_code == 404:
        schema = client.get("/openapi.json")
    props = list(schema.json()["components"]["schemas"]["Alert"]["properties"])
    assert props[props.index("class") + 1] == "cls"
