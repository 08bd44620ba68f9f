"""QA: `railwatch report SITE -o rep/yard.pdf` wrote HTML into yard.pdf (a PDF came
only with --pdf, beside an HTML file): a .pdf name now gets the PDF alone."""

from __future__ import annotations

from pathlib import Path

import pytest

from railwatch.cli.main import main
from railwatch.storage import Database
from report_db import populate


@pytest.fixture(scope="module")
def db_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    tmp = tmp_path_factory.mktemp("qa-report")
    url = f"sqlite:///{tmp / 'rw.db'}"
    populate(Database(url), tmp / "scenes")
    return url


@pytest.mark.parametrize(("name", "extra"), [("yard.pdf", []), ("Yard.PDF", ["--pdf"])])
def test_out_ending_in_pdf_writes_a_pdf(
    db_url: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    name: str,
    extra: list[str],
) -> None:
    out = tmp_path / "rep" / name
    assert main(["--db", db_url, "report", "testyard", "-o", str(out), *extra]) == 0
    assert out.read_bytes()[:5] == b"%PDF-"
    assert [p.name for p in out.parent.iterdir()] == [name]  # no HTML beside it
    # without whitespace: the console wraps long paths at its width
    shown = "".join(capsys.readouterr().out.split())
    assert shown.startswith(f"wrote{out}(") and shown.count("wrote") == 1


def test_html_with_pdf_beside_it_is_unchanged(
    db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "yard.html"
    assert main(["--db", db_url, "report", "testyard", "-o", str(out), "--pdf"]) == 0
    assert out.read_text().lstrip().lower().startswith("<!doctype html")
    assert out.with_suffix(".pdf").read_bytes()[:5] == b"%PDF-"
    shown = "".join(capsys.readouterr().out.split())  # the console wraps long paths
    assert f"wrote{out}(" in shown and f"wrote{out.with_suffix('.pdf')}(" in shown


def test_unwritable_pdf_is_one_line(
    db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert main(["--db", db_url, "report", "testyard", "-o", str(blocker / "r.pdf")]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "cannot write the report to" in err and "Traceback" not in err
