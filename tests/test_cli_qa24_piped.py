"""QA: the command line's output when it is piped, logged or scripted.

Rich laid every console out to 80 columns when stdout was not a terminal (cron, CI, a
pipe to ``grep`` or a file), so one-line summaries and file paths were broken across
lines, alert explanations wrapped, and table cells (site names, dates) were cut with an
ellipsis. Now text is never broken by railwatch, and tables are laid out to ``COLUMNS``
when it is set, else to the terminal, else as wide as their rows need. The progress bar,
which printed its last state as a line of bar characters into logs, is shown only on a
terminal.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from shapely.geometry import box

from railwatch.analysis.types import Alert
from railwatch.cli import _common
from railwatch.cli.main import main
from railwatch.sites import SiteSpec
from railwatch.storage import Database, repo

BBOX = "130.6072,42.4208,130.6090,42.4220"
NAME = "yard_with_a_rather_long_name_as_analysts_give_them_" + "x" * 10
EXPLANATION = (
    "30 railcars (interval 27-57) on 2024-03-18, against a 5-year record of 15 set on "
    "2019-08-05: 2.0x the record, above it since 2024-03-16, for the first time in 5 years "
    "of history [see /data/imagery/tumangang/very/long/folder/scene_2024-03-18.tif]"
)


@pytest.fixture(autouse=True)
def _no_columns(monkeypatch: pytest.MonkeyPatch) -> None:
    """As cron and most CI runners start a command: COLUMNS is not in the environment."""
    monkeypatch.delenv("COLUMNS", raising=False)
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    monkeypatch.delenv("TTY_COMPATIBLE", raising=False)


def _site(url: str) -> None:
    assert main(["--db", url, "site", "add", NAME, "--bbox", BBOX, "--tag", "dprk"]) == 0


def test_a_summary_line_is_one_line_when_piped(
    tmp_db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    _site(tmp_db_url)
    out = capsys.readouterr().out
    assert out.startswith(f"Added site {NAME}: 0.020 km², bounds 130.60720,42.42080,")
    assert out.count("\n") == 1 and out.rstrip().endswith("local grid EPSG:32652")


def test_a_summary_line_is_one_line_at_any_columns(
    tmp_db_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """COLUMNS lays tables out; a message is never broken by railwatch (a terminal
    wraps it on the screen, and a copied path stays whole)."""
    monkeypatch.setenv("COLUMNS", "50")
    _site(tmp_db_url)
    assert capsys.readouterr().out.count("\n") == 1


def test_force_color_in_a_log_does_not_break_lines(
    tmp_db_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """CI runners set FORCE_COLOR for coloured logs; the log is still no terminal."""
    monkeypatch.setenv("FORCE_COLOR", "1")
    _alert(tmp_db_url)
    assert main(["--db", tmp_db_url, "alerts"]) == 0
    out = capsys.readouterr().out
    assert any(
        "2019-08-05: 2.0x the record, above it since 2024-03-16" in line
        for line in out.splitlines()
    )


def test_a_table_is_not_cut_when_piped(tmp_db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    _site(tmp_db_url)
    capsys.readouterr()
    assert main(["--db", tmp_db_url, "site", "list"]) == 0
    out = capsys.readouterr().out
    assert "…" not in out
    row = next(line for line in out.splitlines() if NAME in line)
    assert [cell.strip() for cell in row.split("│")[2:8]] == ["0.020", "0", "0", "-", "-", "0"]


def test_a_site_table_at_80_columns_folds_the_name_and_cuts_nothing(
    tmp_db_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every column was `no_wrap`: at 80 columns a long name and the dates beside it were
    cut with an ellipsis (`yard_with_a_long_na…`, `2024-03-…`)."""
    _site(tmp_db_url)
    monkeypatch.setenv("COLUMNS", "80")
    capsys.readouterr()
    assert main(["--db", tmp_db_url, "site", "list"]) == 0
    out = capsys.readouterr().out
    assert "…" not in out and max(len(line) for line in out.splitlines()) <= 80
    names = [line.split("│")[1].strip() for line in out.splitlines() if line.startswith("│")]
    assert "".join(names) == NAME + "dprk"


def _alert(url: str) -> None:
    db = Database(url)
    with db.session() as s:
        site = repo.add_site(s, SiteSpec(name="yard", geometry=box(130.6, 42.42, 130.61, 42.43)))
        when = datetime(2024, 3, 18, tzinfo=UTC)
        alert = Alert("record:all:2024-03-18", "record", "high", when, "all", 30.0, EXPLANATION)
        repo.replace_alerts(s, site, [alert])


def test_an_alert_explanation_is_one_line_when_piped(
    tmp_db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """`railwatch alerts | grep` sees each explanation whole, on its row's first line; the
    table (which fills a terminal's width) is as wide as its rows, not 100,000 columns."""
    _alert(tmp_db_url)
    assert main(["--db", tmp_db_url, "alerts"]) == 0
    out = capsys.readouterr().out
    row = next(line for line in out.splitlines() if "30 railcars" in line)
    assert EXPLANATION in row
    assert max(len(line) for line in out.splitlines()) == len(row)


def test_an_alert_table_fits_columns(
    tmp_db_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _alert(tmp_db_url)
    monkeypatch.setenv("COLUMNS", "72")
    assert main(["--db", tmp_db_url, "alerts"]) == 0
    out = capsys.readouterr().out
    assert {len(line) for line in out.splitlines() if "│" in line} == {72}  # fills it
    # a word longer than the column (a path) is folded onto the next line, not cut
    assert "…" not in out and ".tif]" in out


def test_a_width_put_back_as_it_was_follows_columns_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Tests fix the width with `monkeypatch.setattr(console, "width", N)`, which puts back
    the width it read (the unbounded one): that must not pin it for the tests after."""
    with monkeypatch.context() as m:
        m.setattr(_common.console, "width", 120)
        assert _common.console.width == 120
    monkeypatch.setenv("COLUMNS", "90")
    assert _common.console.width == 90


def test_simulated_paths_are_whole_when_piped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "imagery_with_a_rather_long_folder_name" / "and_a_subfolder_of_images"
    argv = ["simulate", "--scene", "--cars", "2", "--size", "120x120", "--out", str(folder)]
    assert main([*argv, "--name", "a_scene_name_as_long_as_those_providers_give"]) == 0
    listed = [line.strip() for line in capsys.readouterr().out.splitlines()[1:]]
    assert listed and all(Path(line).is_file() for line in listed), listed


def test_no_progress_bar_in_a_log(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`process 2> log`: rich printed the bar's last state (`yard ━━━━━ 1/1 0:00:00`)."""
    images = tmp_path / "img"
    argv = ["simulate", "--scene", "--cars", "2", "--size", "120x120", "--out", str(images)]
    assert main([*argv, "--center", "130.6081,42.4214", "--date", "2024-03-01"]) == 0
    db = ["--db", f"sqlite:///{tmp_path / 'rw.db'}"]
    assert main([*db, "site", "add", "yard", "--bbox", "130.6075,42.4210,130.6087,42.4218"]) == 0
    assert main([*db, "ingest", "yard", str(images)]) == 0
    capsys.readouterr()
    assert main([*db, "process", "yard"]) == 0
    out, err = capsys.readouterr()
    assert "━" not in err and "1/1" not in err, err
    assert "yard" in out
