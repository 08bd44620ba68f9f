"""Piped alert tables and site list print each row on one line, and `analyze SITE`
shows the stored alerts' ids (session 37, a new analyst's walkthrough).

Before, `railwatch alerts SITE | cat` and `railwatch analyze SITE | cat` gave each alert
three lines (day / class · kind / severity), so `grep 2024-04-18` lost its kind and
severity; `railwatch site list | cat` gave each tag a line of its own, where it read like
a site's name; and `analyze SITE` listed its alerts without the ids `alert ack` takes.
On a terminal (here: COLUMNS set, a width to lay out to) the narrow stacked cells stay.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from railwatch.cli.main import main
from test_cli_analyze import _store_counts

pytestmark = pytest.mark.xdist_group("cli_one_line_rows_s37")


@pytest.fixture
def url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A database of site "yard" (121 counts, a spike of 50 on 2024-04-18), piped output
    (no COLUMNS)."""
    monkeypatch.delenv("COLUMNS", raising=False)
    url = f"sqlite:///{tmp_path / 'rw.db'}"
    _store_counts(url)
    return url


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    assert main(list(args)) == 0
    return capsys.readouterr().out


def _stored(capsys: pytest.CaptureFixture[str], url: str) -> list[dict[str, object]]:
    alerts = json.loads(_run(capsys, "--db", url, "alerts", "yard", "--json"))
    assert len(alerts) >= 3
    return list(alerts)


def _line_of(out: str, alert: dict[str, object], *, with_id: bool) -> str:
    """The one line of ``out`` that holds all of what ``alert`` is and its explanation."""
    head = f"{alert['day']}  {alert['cls']} · {alert['kind']}  {alert['severity']}"
    if with_id:
        head = f"#{alert['id']}  {head}"
    found = [line for line in out.splitlines() if head in line]
    assert len(found) == 1, (head, out)
    assert str(alert["explanation"])[:60] in found[0]
    return found[0]


def test_analyze_site_piped_gives_each_alert_one_line_with_its_id(
    url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    out = _run(capsys, "--db", url, "analyze", "yard")
    for alert in _stored(capsys, url):
        _line_of(out, alert, with_id=True)
    # no line of the table holds a kind or a severity alone (the stacked cell's lines)
    assert not re.search(r"│ (all · \w+|info|low|medium|high)\s+│", out)


def test_alerts_piped_gives_each_alert_and_its_note_one_line(
    url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    _run(capsys, "--db", url, "analyze", "yard")
    alerts = _stored(capsys, url)
    spike = next(a for a in alerts if a["kind"] == "spike")
    _run(capsys, "--db", url, "alert", "ack", str(spike["id"]), "--note", "train seen")
    out = _run(capsys, "--db", url, "alerts", "yard")
    for alert in alerts:
        line = _line_of(out, alert, with_id=True)
        assert ("note: train seen" in line) == (alert["id"] == spike["id"])


def test_analyze_site_on_a_width_stacks_the_cell_and_shows_ids(
    url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Laid out to a width (a terminal, COLUMNS): id and day, class · kind and severity
    on lines of their own, as before, the id now among them."""
    monkeypatch.setenv("COLUMNS", "100")
    out = _run(capsys, "--db", url, "analyze", "yard")
    for alert in _stored(capsys, url):
        lines = out.splitlines()
        at = next(i for i, line in enumerate(lines) if f"#{alert['id']}  {alert['day']}" in line)
        assert f"{alert['cls']} · {alert['kind']}" in lines[at + 1]
        assert str(alert["severity"]) in lines[at + 2]


def test_look_back_and_counts_file_show_no_ids(
    url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A look-back that stores nothing, and a CSV's counts, have no stored alerts: no
    ids, still one line an alert."""
    out = _run(capsys, "--db", url, "analyze", "yard", "--as-of", "2024-05-01")
    spike_line = next(line for line in out.splitlines() if "· spike" in line)
    assert "2024-04-18  all · spike  high" in spike_line and "#" not in spike_line
    counts = tmp_path / "counts.csv"
    rows = ["date,count"] + [f"2021-{m:02d}-{d:02d},10" for m in range(1, 13) for d in (5, 20)]
    counts.write_text("\n".join([*rows, "2022-01-05,60"]) + "\n")
    out = _run(capsys, "analyze", "--counts", str(counts))
    alert_lines = [line for line in out.splitlines() if re.search(r"│ \d{4}-\d\d-\d\d  ", line)]
    assert alert_lines and not any("#" in line for line in alert_lines)
    assert any("2022-01-05  all · spike  high" in line for line in alert_lines), out


def test_site_list_piped_gives_tags_on_the_sites_line(
    url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _run(capsys, "--db", url, "site", "edit", "yard", "--tag", "russia", "--tag", "freight")
    out = _run(capsys, "--db", url, "site", "list")
    (row,) = [line for line in out.splitlines() if "yard" in line]
    assert "yard (russia, freight)" in row and "121" in row
    assert not any("russia" in line for line in out.splitlines() if line != row)
    # on a width, under the name, one a line, as before
    monkeypatch.setenv("COLUMNS", "100")
    out = _run(capsys, "--db", url, "site", "list")
    lines = out.splitlines()
    at = next(i for i, line in enumerate(lines) if "│ yard" in line)
    assert "russia" in lines[at + 1] and "freight" in lines[at + 2]
