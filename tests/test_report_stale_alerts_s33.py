"""A report says when the stored alerts are stale (session 33).

``railwatch process`` stores new results without analysing them, and the report built
its headline from the stored alerts: written straight after processing a new usable
image, it headlined "No usable image of this site since ..." above that image as the
latest usable one, and a new record went unmentioned. The report now analyses the stored
results without storing anything and, when that would change the stored alerts, warns
(the CLI's warning lines, the API's ``warnings``) and says so on its first page. The
stored alerts stay its content (they carry the analysts' acknowledgements and notes)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from counted_site import LATE, WELLINGTON, add_counted_site, steady_then_rise
from railwatch.analysis.store import analyze_site
from railwatch.cli.main import main
from railwatch.report.builder import build_report_data
from railwatch.storage import Database
from railwatch.storage.models import Alert, Count, Scene, to_wkb

SITE = "wellington"
#: the last of the 120 steady images, 10 days before LATE
LAST_STEADY = LATE - timedelta(days=10)
#: the note's words in the report and the warning's
STALE = "analysing the stored results now would change them"


def _steady_site(tmp_path: Path, *, analysed_as_of: datetime) -> Database:
    """120 steady images (8-12 cars every 10 days), analysed and stored as of
    ``analysed_as_of``."""
    db = Database(f"sqlite:///{tmp_path / 'stale.db'}")
    add_counted_site(db, SITE, WELLINGTON, steady_then_rise()[:-1])
    with db.session() as s:
        analyze_site(s, SITE, as_of=analysed_as_of)
    return db


def _process_new_image(db: Database, when: datetime, cars: float) -> None:
    """One more processed, usable, counted image, as ``railwatch process`` stores it
    (no analysis)."""
    with db.session() as s:
        site_id = s.scalar(select(Scene.site_id).limit(1))
        n = s.scalar(select(func.count()).select_from(Scene)) or 0
        sc = Scene(
            site_id=site_id, uri=f"/nowhere/new{n}.tif", content_hash=f"{n + 1000:064x}",
            acquired_at=when, crs="EPSG:4326", footprint_wkb=to_wkb(WELLINGTON),
            date_source="option", gsd=0.5, width=10, height=10, band_count=3,
            dtype="uint8", coverage=1.0, status="processed", usable=True,
            clear_fraction=1.0, processed_at=datetime.now(UTC),
        )  # fmt: skip
        s.add(sc)
        s.flush()
        s.add(
            Count(
                scene_id=sc.id, cls="all", count=cars, low=cars - 2, high=cars + 2,
                method="objects", detector="test", version="1",
            )
        )  # fmt: skip


def _alerts(db: Database) -> list[tuple[str, str, str, bool, str]]:
    with db.session(readonly=True) as s:
        return [
            (a.key, a.severity, a.explanation, a.active, str(a.updated_at))
            for a in s.scalars(select(Alert).order_by(Alert.id))
        ]


def _report(db: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[str, str]:
    """``railwatch report`` of the site: its exit code checked, (HTML text, stderr)."""
    out = tmp_path / "r.html"
    capsys.readouterr()
    assert main(["--db", db.url, "report", SITE, "-o", str(out)]) == 0
    err = " ".join(capsys.readouterr().err.split())
    return " ".join(out.read_text(encoding="utf-8").split()), err


def test_a_silence_ended_by_a_processed_image_is_said_to_be_stale(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # analysed 200 days after the last image: an ongoing silence is stored
    db = _steady_site(tmp_path, analysed_as_of=LAST_STEADY + timedelta(days=200))
    silence = f"quality:all:{(LAST_STEADY + timedelta(hours=12)).date().isoformat()}"
    before = _alerts(db)
    assert any(key == silence for key, *_ in before), before
    _process_new_image(db, LAST_STEADY + timedelta(days=100), 10.0)  # ends the silence

    data = build_report_data(db, SITE)
    assert STALE in data.headline.summary  # on the first page, HTML and PDF alike
    assert "No usable image of this site since" in data.headline.summary  # stored alert kept
    assert "1 changed (quality " in data.headline.summary
    assert "over now" in data.headline.summary
    assert f"railwatch analyze {SITE}" in data.headline.summary
    assert "1 image was processed since the stored alerts last changed" in data.headline.summary

    html, err = _report(db, tmp_path, capsys)
    assert "warning:" in err and STALE in err and f"railwatch analyze {SITE}" in err
    assert STALE in html
    assert _alerts(db) == before  # the report stored nothing


def test_a_new_record_processed_since_is_said_to_be_stale(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = _steady_site(tmp_path, analysed_as_of=LATE)
    before = _alerts(db)
    _process_new_image(db, LATE, 50.0)  # 50 cars where there were 8-12: a record
    data = build_report_data(db, SITE)
    assert STALE in data.headline.summary
    assert "new (record " in data.headline.summary
    html, err = _report(db, tmp_path, capsys)
    assert STALE in err and STALE in html
    assert _alerts(db) == before


@pytest.mark.parametrize(
    "as_of", [LAST_STEADY + timedelta(days=200), LAST_STEADY, datetime.now(UTC)]
)
def test_a_site_analysed_and_unchanged_gets_no_note(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], as_of: datetime
) -> None:
    # analysed as of any day after its last image (the demo analyses as of its last image,
    # `railwatch analyze` as of today): a silence going on is no stale alert
    db = _steady_site(tmp_path, analysed_as_of=as_of)
    assert STALE not in build_report_data(db, SITE).headline.summary
    html, err = _report(db, tmp_path, capsys)
    assert STALE not in err and "warning:" not in err
    assert STALE not in html


def test_a_change_outside_the_period_is_not_the_reports(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = _steady_site(tmp_path, analysed_as_of=LATE)
    _process_new_image(db, LATE, 50.0)
    early = LATE - timedelta(days=400)
    data = build_report_data(db, SITE, date_to=early.date())
    assert STALE not in data.headline.summary
    assert STALE in build_report_data(db, SITE, date_from=early.date()).headline.summary


def test_the_api_answers_the_warning(tmp_path: Path) -> None:
    pytest.importorskip("fastapi")
    pytest.importorskip("httpx")
    from fastapi.testclient import TestClient
    from pydantic import SecretStr

    from railwatch.settings import Settings
    from railwatch.web.app import create_app

    db = _steady_site(tmp_path, analysed_as_of=LAST_STEADY + timedelta(days=200))
    token = "s3cret-token-for-stale-s33"
    settings = Settings(db=db.url, api_token=SecretStr(token), cache_dir=tmp_path / "cache")
    client = TestClient(create_app(settings, db))
    auth = {"Authorization": f"Bearer {token}"}

    r = client.post(f"/api/sites/{SITE}/reports", json={}, headers=auth)
    assert r.status_code == 201, r.text
    assert not any(STALE in w for w in r.json()["warnings"])

    _process_new_image(db, LAST_STEADY + timedelta(days=100), 10.0)
    before = _alerts(db)
    r = client.post(f"/api/sites/{SITE}/reports", json={"pdf": True}, headers=auth)
    assert r.status_code == 201, r.text
    stale = [w for w in r.json()["warnings"] if STALE in w]
    # the API's request, not the CLI's command (session 49, tests/test_walk_rest_s49.py)
    assert len(stale) == 1 and f"POST /api/sites/{SITE}/analyze" in stale[0], r.json()
    html = client.get(r.json()["links"]["html"])
    assert STALE in " ".join(html.text.split())
    assert client.get(r.json()["links"]["pdf"]).status_code == 200
    assert _alerts(db) == before
