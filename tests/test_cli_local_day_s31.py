"""`railwatch analyze SITE` and `railwatch site list/show` name a stored site's local days
(session 31), as its alerts, `railwatch alerts` and the API do.

Since session 31 the analysis keys and dates a stored site's alerts by the site's local
day (its nominal solar zone), but ``analyze SITE`` listed each alert under its image's
UTC day (``f"{a.when:%Y-%m-%d}"``) and ``site list``/``site show`` gave the UTC days of
the first and last images: at a UTC+12 site an image of 2024-02-04 22:30 UTC, and its
alert "50 railcars on 2024-02-05", were listed under 2024-02-04. ``analyze --counts``
has no site: its alerts keep the date as written.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from counted_site import LATE, LOCAL, PATTERN, UTC_DAY, add_counted_site, steady_then_rise
from counted_site import WELLINGTON as GEOM
from railwatch.cli.main import main
from railwatch.storage import Database

SITE = "wellington"
#: the first image, 1200 days before LATE: 2020-10-22 22:30 UTC, 2020-10-23 at the site
FIRST = LATE - timedelta(days=10 * 120)


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A UTC+12 site: 120 steady images every 10 days at 22:30 UTC, then 50 cars at
    :data:`LATE` (not analysed: each test analyses as it needs)."""
    url = f"sqlite:///{tmp_path_factory.mktemp('cli-local-day') / 'rw.db'}"
    db = Database(url)
    try:
        add_counted_site(db, SITE, GEOM, steady_then_rise())
    finally:
        db.dispose()
    return url


def test_analyze_lists_an_alert_under_its_day_at_the_site(
    url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """The table of a look-back (stores nothing) lists the spike under 2024-02-05, the
    day its text names, not its image's UTC day."""
    args = ["--db", url, "analyze", SITE, "--as-of", LOCAL, "--class", "all"]
    assert main([*args, "--min-severity", "low", "--json"]) == 0
    (spike,) = [a for a in json.loads(capsys.readouterr().out)["alerts"] if a["kind"] == "spike"]
    assert f"on {LOCAL}" in spike["explanation"]  # what the table must agree with
    assert main([*args, "--min-severity", "low"]) == 0
    table = capsys.readouterr().out
    assert LOCAL in table and UTC_DAY not in table, table


def test_analyze_json_gives_each_alert_its_day(
    url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """``--json`` gives each alert's ``day`` beside its UTC ``when``, as ``railwatch
    alerts --json`` does, and the two agree on the stored alerts."""
    assert main(["--db", url, "analyze", SITE, "--as-of", LOCAL, "--store", "--json"]) == 0
    alerts = json.loads(capsys.readouterr().out)["alerts"]
    spike = next(a for a in alerts if a["key"] == f"spike:all:{LOCAL}")
    assert spike["when"].startswith(f"{UTC_DAY}T22:30") and spike["day"] == LOCAL
    assert list(spike)[list(spike).index("when") + 1] == "day"  # as `alerts --json`
    assert main(["--db", url, "alerts", SITE, "--json"]) == 0
    stored = {r["key"]: r["day"] for r in json.loads(capsys.readouterr().out)}
    assert stored and {a["key"]: a["day"] for a in alerts} == stored


def test_analyze_counts_keeps_the_date_as_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A CSV's counts have no site: the table and ``day`` give the date of the time as
    written, as before."""
    lines = ["date,count"]
    lines += [
        f"{(FIRST + timedelta(days=10 * k)).date().isoformat()},{PATTERN[k % 9]:.0f}"
        for k in range(120)
    ]
    lines.append(f"{UTC_DAY},50")
    csv = tmp_path / "counts.csv"
    csv.write_text("\n".join(lines) + "\n", encoding="utf-8")
    args = ["analyze", "--counts", str(csv), "--as-of", LOCAL, "--min-severity", "low"]
    assert main([*args, "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    spike = next(r for r in rows if r["kind"] == "spike")
    assert spike["day"] == UTC_DAY == spike["when"][:10]
    assert main(args) == 0
    assert UTC_DAY in capsys.readouterr().out


def test_site_list_and_show_give_the_days_at_the_site(
    url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """The first and last images' days are the site's (2020-10-23 .. 2024-02-05 at
    UTC+12), not their UTC days (2020-10-22 .. 2024-02-04); JSON keeps first/last (UTC
    times) and adds local_zone, first_day and last_day, as the API's sites do."""
    first_local = (FIRST + timedelta(hours=12)).date().isoformat()
    first_utc = FIRST.date().isoformat()
    assert first_local != first_utc
    assert main(["--db", url, "site", "list"]) == 0
    out = capsys.readouterr().out
    assert LOCAL in out and first_local in out, out
    assert UTC_DAY not in out and first_utc not in out, out
    assert main(["--db", url, "site", "show", SITE]) == 0
    out = capsys.readouterr().out
    assert f"{first_local} .. {LOCAL} (UTC+12)" in out, out
    assert main(["--db", url, "site", "list", "--json"]) == 0
    (listed,) = json.loads(capsys.readouterr().out)
    assert main(["--db", url, "site", "show", SITE, "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    for data in (listed, shown):
        assert data["last"].startswith(f"{UTC_DAY}T22:30")  # the UTC time as before
        assert (data["local_zone"], data["first_day"], data["last_day"]) == (
            "UTC+12",
            first_local,
            LOCAL,
        )
