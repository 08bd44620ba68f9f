"""Small follow-ups of a stored site's local days (session 31).

Since session 31 a stored site's days are its local days (its nominal solar zone), but
a few places still gave UTC: `railwatch alert ack` named the alert's UTC day, the
`scene to-review` table its image's UTC time (its ``--json`` the local day), `analyze
SITE --json` today's UTC date as ``as_of``; the web job's result left out the scenes
`railwatch process` counted again; the report's chart drew a silence (whose ``when`` is a
day at the site, no instant) at that day's midnight taken as UTC, and the dashboard's
chart drew an event at its day's midnight UTC. All at a UTC+12 site (175°E), where an
image of 2024-02-04 22:30 UTC is of 2024-02-05 at 10:30 there, or a UTC-5 one.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from counted_site import LOCAL, UTC_DAY, add_counted_site, steady_then_rise
from counted_site import WELLINGTON as GEOM
from railwatch.cli.main import main
from railwatch.sites import SiteSpec
from railwatch.storage import Database, repo

SITE = "wellington"


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A UTC+12 site: 120 steady images every 10 days at 22:30 UTC, then 50 cars at
    :data:`LATE`, its alerts stored as of :data:`LOCAL`."""
    url = f"sqlite:///{tmp_path_factory.mktemp('local-day-small') / 'rw.db'}"
    db = Database(url)
    try:
        add_counted_site(db, SITE, GEOM, steady_then_rise())
    finally:
        db.dispose()
    assert main(["--db", url, "analyze", SITE, "--as-of", LOCAL, "--store", "--json"]) == 0
    yield url


def _spike(url: str, capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    capsys.readouterr()
    assert main(["--db", url, "alerts", SITE, "--min-severity", "info", "--json"]) == 0
    (spike,) = [a for a in json.loads(capsys.readouterr().out) if a["kind"] == "spike"]
    assert spike["day"] == LOCAL and spike["when"].startswith(UTC_DAY)
    return spike


def test_alert_ack_names_the_alerts_day_at_the_site(
    url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """'Alert 7 (spike, high, 2024-02-05) acknowledged.': the day `railwatch alerts` lists
    it under and its text names, not its image's UTC day."""
    spike = _spike(url, capsys)
    assert main(["--db", url, "alert", "ack", str(spike["id"]), "--note", "seen"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert f"Alert {spike['id']} (spike, {spike['severity']}, {LOCAL}) acknowledged." in out
    assert UTC_DAY not in out


def test_scene_to_review_table_shows_the_local_time_and_its_zone(
    url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The table gives the image's local time at the site on the report's clock
    ('acquired (UTC+12 nominal)', '2024-02-05 10:30'), whose day is --json's day."""
    monkeypatch.setenv("COLUMNS", "200")
    capsys.readouterr()
    assert main(["--db", url, "scene", "to-review", SITE, "-n", "1", "--json"]) == 0
    (first,) = json.loads(capsys.readouterr().out)
    assert first["day"] == LOCAL
    assert main(["--db", url, "scene", "to-review", SITE, "-n", "1"]) == 0
    out = capsys.readouterr().out
    assert "acquired (UTC+12 nominal)" in out, out
    assert f"{LOCAL} 10:30" in out and "22:30" not in out, out


def test_analyze_json_as_of_is_today_at_the_site(
    url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without --as-of, ``as_of`` is today at the site: at 20:00 UTC on 2024-02-05 it is
    2024-02-06 at a UTC+12 site (it gave the UTC date, 2024-02-05)."""
    import railwatch.cli.analyze as analyze_mod

    now = datetime(2024, 2, 5, 20, 0, tzinfo=UTC)
    real = analyze_mod.parse_as_of
    monkeypatch.setattr(
        analyze_mod, "parse_as_of", lambda text, **kw: now if text is None else real(text, **kw)
    )
    capsys.readouterr()
    assert main(["--db", url, "analyze", SITE, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["as_of"] == "2024-02-06"
    # a look-back's as_of stays the day it was given
    assert main(["--db", url, "analyze", SITE, "--as-of", LOCAL, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["as_of"] == LOCAL


def test_web_job_result_counts_the_scenes_counted_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The web process job's result says how many scenes were counted again because a
    reference changed (``ProcessSummary.recounted``), as `railwatch process` does."""
    pytest.importorskip("fastapi")
    import railwatch.pipeline as pipeline
    from railwatch.web.jobs import JobManager

    db = Database(f"sqlite:///{tmp_path / 'rw.db'}")
    try:
        with db.session() as s:
            repo.add_site(s, SiteSpec(name=SITE, geometry=GEOM))

        def fake_process_site(_db: Any, site: str, **_kw: Any) -> pipeline.ProcessSummary:
            summary = pipeline.ProcessSummary(site=site, detector="test", version="1")
            summary.recounted.extend([(4, "reference 2 changed"), (5, "reference 2 changed")])
            summary.processed.extend([4, 5])
            return summary

        monkeypatch.setattr(pipeline, "process_site", fake_process_site)
        jobs = JobManager(db)
        job = jobs.start(SITE)
        jobs.wait()
        done = jobs.get(job.id)
        assert done.status == "succeeded", done.error
        assert done.result is not None
        assert done.result["recounted"] == 2 and done.result["processed"] == 2
    finally:
        db.dispose()


def test_report_date_range_is_documented_as_local_days() -> None:
    """POST /api/sites/{site}/reports: date_from/date_to are local days at the site
    (build_report's since 91c015a), said in docs/web.md and the OpenAPI schema."""
    pytest.importorskip("fastapi")
    from railwatch.web.routes.reports import ReportIn

    docs = Path(__file__).resolve().parents[1] / "docs" / "web.md"
    (row,) = [
        line
        for line in docs.read_text(encoding="utf-8").splitlines()
        if line.startswith("| POST | `/api/sites/{site}/reports`")
    ]
    assert "local days at the site" in row, row
    props = ReportIn.model_json_schema()["properties"]
    for name in ("date_from", "date_to"):
        assert "local day at the site" in props[name].get("description", ""), props[name]
    jobs_row = next(
        line
        for line in docs.read_text(encoding="utf-8").splitlines()
        if line.startswith("| GET | `/api/jobs`")
    )
    assert "`recounted`" in jobs_row


def test_report_chart_draws_a_silence_at_noon_of_its_local_day() -> None:
    """A silence of 2024-02-05 at a UTC-5 site (its ``when`` 2024-02-05 05:00 UTC, local
    midnight of that day since session 32; 2024-02-05 00:00 as written before) is marked at
    noon there, 17:00 UTC, as an event of that day; it was drawn at 00:00 UTC, 19:00 the
    day before at the site."""
    import matplotlib.dates as mdates
    from matplotlib.lines import Line2D

    from railwatch.report.charts import timeseries_figure
    from railwatch.report.model import AlertRow, EventRow, SceneRow

    offset = timedelta(hours=-5)
    scenes = [
        SceneRow(
            scene_id=k,
            when=datetime(2024, 1, 1, 15, 0, tzinfo=UTC) + timedelta(days=5 * k),
            sensor=None,
            gsd=0.5,
            usable=True,
            total=10.0 + k,
            by_class={"all": 10.0 + k},
            method="objects",
        )
        for k in range(4)
    ]
    silence = AlertRow(
        key="quality:all:2024-01-16",
        kind="quality",
        severity="medium",
        when=datetime(2024, 2, 5, 5, 0, tzinfo=UTC),
        cls="all",
        value=None,
        explanation="No usable image of this site since 2024-01-16",
        utc_offset=offset,
    )
    assert silence.day == date(2024, 2, 5)
    fig = timeseries_figure(
        scenes,
        events=[EventRow(date(2024, 2, 5), "Flood")],
        alerts=[silence],
        utc_offset=offset,
    )
    (ax,) = [a for a in fig.axes if a.get_lines()]
    lines = [line for line in ax.get_lines() if isinstance(line, Line2D)]  # not the legend's
    marks = [line for line in lines if line.get_marker() == "v"]
    assert len(marks) == 1
    x = float(np.asarray(marks[0].get_xdata())[0])
    noon = float(mdates.date2num(datetime(2024, 2, 5, 17, 0, tzinfo=UTC)))
    assert x == pytest.approx(noon, abs=1e-6)
    # where the event of the same day is drawn
    events = {
        float(np.asarray(line.get_xdata())[0]) for line in lines if line.get_linestyle() == "--"
    }
    assert noon in events


@pytest.mark.slow
@pytest.mark.services
def test_dashboard_chart_draws_an_event_at_noon_of_its_local_day() -> None:
    """The site page's chart (chart.js) draws an event dated 2024-02-05 at noon of that
    day at the site, as the report's chart: 06:30 UTC at a UTC+5:30 site, 17:00 UTC at a
    UTC-5 one, 12:00 UTC at a UTC site (it was 00:00 UTC wherever the site)."""
    from helpers import chromium

    script = (
        Path(__file__).resolve().parents[1] / "src" / "railwatch" / "web" / "static" / "js"
    ) / "chart.js"
    points = [
        {"when": "2024-01-25T00:00:00+00:00", "day": "2024-01-25", "count": 10, "low": 9,
         "high": 11, "usable": True, "scene_id": 1, "long_train_present": None},
        {"when": "2024-02-14T00:00:00+00:00", "day": "2024-02-14", "count": 12, "low": 11,
         "high": 13, "usable": True, "scene_id": 2, "long_train_present": None},
    ]  # fmt: skip
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 800, "height": 400})
        page.set_content("<html><body><div id='c' style='width:640px'></div></body></html>")
        page.add_script_tag(path=str(script))
        drawn = page.evaluate(
            """(points) => ["UTC+5:30", "UTC-5", "UTC"].map((zone) => {
              const host = document.getElementById("c");
              RWChart.draw(host, points, {events: [{date: "2024-02-05", label: "Flood"}], zone});
              const xs = [...host.querySelectorAll("circle.pt")].map((c) => +c.getAttribute("cx"));
              const ev = +host.querySelector("line.event").getAttribute("x1");
              return (ev - xs[0]) / (xs[1] - xs[0]);
            })""",
            points,
        )
    # 2024-01-25 00:00 UTC to 2024-02-14 00:00 UTC: 20 days; 2024-02-05 00:00 UTC is day 11
    hours = (6.5, 17.0, 12.0)
    assert drawn == pytest.approx([(11 + h / 24) / 20 for h in hours], abs=1e-6)
