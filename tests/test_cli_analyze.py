"""CLI: analyze --counts (no database), analyze SITE with stored counts, alerts, ack, events."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from railwatch.cli.main import main


def _csv(tmp_path: Path) -> Path:
    lines = ["date,count,low,high"]
    day = datetime(2021, 1, 4, tzinfo=UTC)
    pattern = [10, 11, 9, 12, 8, 10, 10, 12, 8]
    for k in range(120):
        lines.append(f"{(day + timedelta(days=10 * k)).date()},{pattern[k % 9]},,")
    lines.append(f"{(day + timedelta(days=1200)).date()},50,45,55")
    path = tmp_path / "counts.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_analyze_counts_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _csv(tmp_path)
    rc = main(["analyze", "--counts", str(path), "--json", "--event", "2024-04-01=Test event"])
    assert rc == 0
    alerts = json.loads(capsys.readouterr().out)
    spikes = [a for a in alerts if a["kind"] == "spike"]
    assert len(spikes) == 1 and spikes[0]["severity"] == "high"
    assert spikes[0]["event_label"] == "Test event"
    rc = main(["analyze", "--counts", str(path), "--json", "--min-severity", "high"])
    assert rc == 0
    assert {a["severity"] for a in json.loads(capsys.readouterr().out)} == {"high"}


def test_analyze_counts_table(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["analyze", "--counts", str(_csv(tmp_path))]) == 0
    out = capsys.readouterr().out
    assert "spike" in out and "50 railcars" in out


def test_analyze_counts_bad_csv(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("date,count\n2023-01-01,4\n2023-01-02,-1\n")
    assert main(["analyze", "--counts", str(bad)]) == 2
    assert "line 3: count -1 is negative" in capsys.readouterr().err


def test_analyze_needs_site_or_counts(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["analyze"]) == 2
    assert "--counts" in capsys.readouterr().err


def _store_counts(url: str) -> None:
    """A site with stored scenes and counts, written through the storage layer's models."""
    from shapely.geometry import box

    from railwatch.sites import SiteSpec
    from railwatch.storage import Database, repo
    from railwatch.storage.models import Count, Scene, to_wkb

    db = Database(url)
    with db.session() as s:
        site = repo.add_site(s, SiteSpec(name="yard", geometry=box(130.6, 42.42, 130.61, 42.43)))
        day = datetime(2021, 1, 4, tzinfo=UTC)
        pattern = [10, 11, 9, 12, 8, 10, 10, 12, 8]
        values = [pattern[k % 9] for k in range(120)] + [50]
        for k, v in enumerate(values):
            sc = Scene(
                site_id=site.id,
                uri=f"/x/{k}.tif",
                content_hash=f"{k:064x}",
                acquired_at=day + timedelta(days=10 * k),
                crs="EPSG:32652",
                footprint_wkb=to_wkb(box(130.6, 42.42, 130.61, 42.43)),
                date_source="option",
                gsd=0.5,
                width=10,
                height=10,
                band_count=3,
                dtype="uint8",
                coverage=1.0,
                status="processed",
                usable=True,
                clear_fraction=1.0,
            )
            s.add(sc)
            s.flush()
            s.add(
                Count(
                    scene_id=sc.id,
                    cls="all",
                    count=float(v),
                    low=v * 0.9,
                    high=v * 1.1,
                    method="objects",
                    detector="hand",
                    version="1",
                )
            )
    db.dispose()


def test_analyze_site_idempotent_with_ack_and_events(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'rw.db'}"
    _store_counts(url)
    base = ["--db", url]
    assert main([*base, "event", "add", "yard", "2024-04-10", "Test summit"]) == 0
    assert main([*base, "event", "list", "yard", "--json"]) == 0
    out = capsys.readouterr().out
    events = json.loads(out[out.index("[") :])
    assert events[0]["label"] == "Test summit"
    assert main([*base, "analyze", "yard", "--json"]) == 0
    first = json.loads(capsys.readouterr().out)["alerts"]
    spike = next(a for a in first if a["kind"] == "spike")
    assert spike["event_label"] == "Test summit"
    assert main([*base, "alerts", "yard", "--json"]) == 0
    stored = json.loads(capsys.readouterr().out)
    sid = next(a["id"] for a in stored if a["kind"] == "spike")
    assert main([*base, "alert", "ack", str(sid), "--note", "checked by hand"]) == 0
    assert "acknowledged" in capsys.readouterr().out
    assert main([*base, "analyze", "yard", "--json"]) == 0
    second = json.loads(capsys.readouterr().out)["alerts"]
    assert [a["key"] for a in first if a["kind"] != "quality"] == [
        a["key"] for a in second if a["kind"] != "quality"
    ]
    assert main([*base, "alerts", "yard", "--since", "2024-01-01", "--json"]) == 0
    again = json.loads(capsys.readouterr().out)
    acked = next(a for a in again if a["id"] == sid)
    assert acked["acknowledged"] and acked["ack_note"] == "checked by hand"
    assert all(a["when"] >= "2024-01-01" for a in again)
    assert main([*base, "event", "remove", str(events[0]["id"]), "--yes"]) == 0
    capsys.readouterr()
    # an unknown id asked 'Delete event 999? [y/N]' first and only then said it is unknown
    assert main([*base, "event", "remove", "999"]) == 1
    assert "no event with id 999" in capsys.readouterr().err


def test_alerts_filter_by_severity_and_class(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`alerts --min-severity low --class all` lists what an analyst acts on (the demo's
    summary); before, the list had every severity of every class (76 on the demo since
    2023-09-01) and no way to narrow it."""
    url = f"sqlite:///{tmp_path / 'rw.db'}"
    _store_counts(url)
    base = ["--db", url]
    assert main([*base, "analyze", "yard", "--json"]) == 0
    capsys.readouterr()
    assert main([*base, "alerts", "yard", "--json"]) == 0
    every = json.loads(capsys.readouterr().out)
    assert main([*base, "alerts", "yard", "--min-severity", "medium", "--json"]) == 0
    serious = json.loads(capsys.readouterr().out)
    assert serious and all(a["severity"] in ("medium", "high") for a in serious)
    assert serious == [a for a in every if a["severity"] in ("medium", "high")]
    assert main([*base, "alerts", "yard", "--class", "tank", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []  # the yard only has totals
    assert main([*base, "alerts", "yard", "--class", "tank"]) == 0
    assert "No alerts matching the filters." in capsys.readouterr().out
    monkeypatch.setenv("COLUMNS", "80")  # piped, the table is as wide as its rows
    assert main([*base, "alerts", "yard"]) == 0
    table = capsys.readouterr().out
    # one stacked "alert" column leaves the explanation most of an 80-column terminal
    assert f"{len(every)} alerts of yard" in table and "explanat…" not in table
    assert f"#{every[0]['id']}  {every[0]['day']}" in table
    assert max(len(line) for line in table.splitlines()) <= 80
    assert main([*base, "alerts", "--min-severity", "urgent"]) == 2
    assert "use one of info, low, medium, high" in capsys.readouterr().err
    assert main([*base, "alerts", "--class", "tanks"]) == 2
    assert "is not a railcar class" in capsys.readouterr().err
    # analyze shows the same subset (it analyses and stores everything either way)
    assert main([*base, "analyze", "yard", "--min-severity", "medium", "--class", "all",
                 "--json"]) == 0  # fmt: skip
    shown = json.loads(capsys.readouterr().out)["alerts"]
    assert [a["key"] for a in shown] == [a["key"] for a in reversed(serious)]
    assert main([*base, "analyze", "yard", "--class", "tank"]) == 0
    out = capsys.readouterr().out
    assert f"{len(every)} alerts (" in out and "yard: alerts" not in out  # no tank alert
    assert main([*base, "alerts", "yard", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == every  # all still stored
    assert main([*base, "analyze", "yard", "--class", "tanks"]) == 2


def test_analyze_counts_as_of(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The CSV ends 2024-04-18: as of 2024-05-01 there is no silence, as of 2024-08-01
    there is one (ongoing), and the same as-of date gives the same alerts."""
    path = _csv(tmp_path)
    assert main(["analyze", "--counts", str(path), "--json", "--as-of", "2024-05-01"]) == 0
    early = json.loads(capsys.readouterr().out)
    assert not [a for a in early if a["kind"] == "quality"]
    runs = []
    for _ in range(2):
        assert main(["analyze", "--counts", str(path), "--json", "--as-of", "2024-08-01"]) == 0
        runs.append(json.loads(capsys.readouterr().out))
    assert runs[0] == runs[1]
    quality = [a for a in runs[0] if a["kind"] == "quality"]
    assert len(quality) == 1 and quality[0]["metrics"]["ongoing"] == "yes"
    # stated on fixed days, not as of 2024-08-01 (session 28)
    assert quality[0]["explanation"].startswith(
        "No usable image of this site since 2024-04-18: 45 days on 2024-06-02 (the alert's "
        "date), 90 days (twice that) on 2024-07-17, and none since"
    )
    # points after the as-of date are ignored: the 50-car spike is not seen yet
    assert main(["analyze", "--counts", str(path), "--json", "--as-of", "2024-04-17"]) == 0
    assert not [a for a in json.loads(capsys.readouterr().out) if a["kind"] == "spike"]
    # the summary line counted every usable point, also those the analysis left out
    assert main(["analyze", "--counts", str(path), "--as-of", "2020-01-01"]) == 0
    line = " ".join(capsys.readouterr().out.split())
    assert "no alerts (0 usable counts; 121 after 2020-01-01 left out)" in line
    assert main(["analyze", "--counts", str(path), "--as-of", "2024-13-01"]) == 2
    assert "--as-of '2024-13-01' is not a valid calendar date: there is no month 13" in (
        capsys.readouterr().err
    )


def test_alerts_on_an_empty_database_says_where_alerts_come_from(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """It said "Run `railwatch analyze SITE` first." also after analyze had run and found
    nothing unusual (the database keeps no record of analysis runs)."""
    from railwatch.storage import Database

    url = f"sqlite:///{tmp_path / 'rw.db'}"
    Database(url).dispose()  # a database there, with no alerts (none is refused)
    assert main(["--db", url, "alerts"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "No alerts." in out and "stored by `railwatch analyze SITE`" in out
    assert "a site with nothing unusual has none" in out


@pytest.mark.parametrize(
    ("option", "value", "says"),
    [
        ("--record-years", "0", "--record-years 0: input should be greater than or equal to 1"),
        ("--event-window", "-1", "--event-window -1: input should be greater than or equal to 0"),
    ],
)
def test_analyze_out_of_range_setting_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], option: str, value: str, says: str
) -> None:
    """--record-years 0 printed pydantic's validation error: five lines naming the field
    record_years (not the option) and a link to pydantic's documentation."""
    assert main(["analyze", "--counts", str(_csv(tmp_path)), option, value]) == 2
    err = capsys.readouterr().err
    assert says in err and "pydantic" not in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("text", "says"),
    [
        (
            "date,count\n2023-01-01,5,3\n",
            "line 2: 3 fields, expected 2: the header declares date,count; give one value per "
            "column",
        ),
        (
            "date,count,low,high\n2023-01-01,5,9,2\n",
            "line 2: low 9 is greater than high 2; the interval must hold the count: "
            "low <= count <= high",
        ),
        (
            "date,count,low,high\n2023-01-01,5,1,4\n",
            "line 2: high 4 is less than count 5; the interval must hold the count",
        ),
        # was read silently (the last date column won)
        (
            "date,count,date\n2023-01-01,5,2023-02-01\n",
            "line 1: duplicate column(s) date in the header of",
        ),
        (None, "is a folder: give a CSV file of counts (a header line date,count"),
    ],
)
def test_analyze_counts_errors_say_what_to_do(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str | None, says: str
) -> None:
    """Messages said what was wrong ("3 fields, expected 2", "low 9 is greater than high
    2", "cannot read adir: Is a directory") but not what to do; a repeated column was
    accepted."""
    path = tmp_path / "counts.csv"
    if text is None:
        path.mkdir()
    else:
        path.write_text(text)
    assert main(["analyze", "--counts", str(path)]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert says in err and "Errno" not in err


def test_analyze_site_with_counts_without_a_site_column(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`analyze SITE --counts FILE` with no site column said "sites there: ''"."""
    path = _csv(tmp_path)
    assert main(["analyze", "tum", "--counts", str(path)]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert f"{path} has no site column, so its counts are of one site: leave SITE out" in err
    assert "''" not in err
    by_site = tmp_path / "sites.csv"
    by_site.write_text("date,count,site\n2023-01-01,5,khasan\n")
    assert main(["analyze", "tum", "--counts", str(by_site)]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "site 'tum' is not in the site column of" in err and "(sites there: 'khasan')" in err
    assert "leave SITE out to analyse each site" in err
