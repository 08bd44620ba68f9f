"""A CSV export's name must end in .csv (or .txt): ``export -f csv -o r2.html`` replaced
an HTML report with the counts table (session 33). Other endings are refused before
anything is written, with the name to give; a link to such a file too."""

from __future__ import annotations

from pathlib import Path

import pytest

from railwatch.cli.main import main
from railwatch.storage import Database
from report_db import populate


@pytest.fixture
def url(tmp_path: Path) -> str:
    db_url = f"sqlite:///{tmp_path / 'rw.db'}"
    populate(Database(db_url), tmp_path / "scenes")
    return db_url


@pytest.mark.parametrize("name", ["r2.html", "report.pdf", "counts", "chart.png"])
def test_a_csv_export_over_a_file_of_another_kind_is_refused(
    url: str, tmp_path: Path, name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    other = tmp_path / name
    other.write_text("<html>the report</html>")
    assert main(["--db", url, "export", "testyard", "-f", "csv", "-o", str(other)]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "a CSV export's name must end in .csv or .txt" in err
    stem = name.split(".")[0]
    assert f"give --out {tmp_path / stem}.csv (or --out - for standard output)" in err
    assert other.read_text() == "<html>the report</html>"  # untouched


def test_a_link_named_csv_to_another_kind_of_file_is_refused(
    url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = tmp_path / "r2.html"
    report.write_text("<html>the report</html>")
    link = tmp_path / "counts.csv"
    link.symlink_to(report)
    assert main(["--db", url, "export", "testyard", "-f", "csv", "-o", str(link)]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert f"--out {link} is a link to {report}" in err
    assert report.read_text() == "<html>the report</html>"
    # the endings of its own format are written
    for name in ("counts.CSV", "counts.txt"):
        out = tmp_path / name
        assert main(["--db", url, "export", "testyard", "-f", "csv", "-o", str(out)]) == 0
        assert out.read_text(encoding="utf-8").startswith("date,")
