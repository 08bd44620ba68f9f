"""``railwatch report --out``: odd values give a clear error or do what a user expects,
and the paths it prints are printed as they are (session 24's report follow-ups).

``-o /dev/null --pdf`` wrote a plain file ``/dev/null.pdf``; a folder or a path below a
file failed with "Is a directory" or "File exists" and the advice to write in a folder
one can write to; ``~`` made a folder named ``~``; a symbolic link was replaced by a
plain file (the file it pointed to kept the old report); ``-o /dev/stdout`` ended the
piped HTML with "wrote /dev/stdout (0.0 MB)"; ``wrote runs[old]/r.html`` read as
``wrote runs/r.html`` (rich markup).
"""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from railwatch.cli.main import main
from railwatch.errors import InputError
from railwatch.report import build_pdf_report, build_report
from railwatch.report.output import report_target
from railwatch.storage import Database
from report_db import SITE_NAME, populate


@pytest.fixture(scope="module")
def db_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    tmp = tmp_path_factory.mktemp("out")
    url = f"sqlite:///{tmp / 'rw.db'}"
    populate(Database(url), tmp / "scenes")
    return url


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    database = Database(db_url, migrate=False)
    yield database
    database.engine.dispose()


@pytest.fixture(autouse=True)
def _no_columns(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COLUMNS", raising=False)


def test_printed_paths_keep_their_brackets(
    db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "runs[old]" / "r[v2].html"
    assert main(["--db", db_url, "report", SITE_NAME, "-o", str(out), "--pdf"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(" (")[0] for line in lines] == [
        f"wrote {out}",
        f"wrote {out.with_suffix('.pdf')}",
    ]
    assert out.is_file() and out.with_suffix(".pdf").is_file()


def test_pdf_beside_a_device_is_refused(db: Database, tmp_path: Path) -> None:
    """``-o /dev/null --pdf`` wrote a regular file /dev/null.pdf (a socket here: no
    device is touched by this test)."""
    sock_path = tmp_path / "s"
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(sock_path))
        with pytest.raises(InputError) as err:
            build_report(db, SITE_NAME, sock_path, pdf=True)
    message = str(err.value)
    assert "is not a regular file" in message and "--out NAME.pdf" in message
    assert not sock_path.with_suffix(".pdf").exists()
    with pytest.raises(InputError, match=r"/dev/null\.pdf"):
        report_target("/dev/null", SITE_NAME, pdf=True)
    assert report_target("/dev/null", SITE_NAME) == Path("/dev/null")  # HTML as it is


def test_a_folder_is_refused_with_a_file_name_to_give(db: Database, tmp_path: Path) -> None:
    with pytest.raises(InputError) as err:
        build_report(db, SITE_NAME, tmp_path)
    assert str(err.value) == (
        f"--out {tmp_path} is a folder: give the name of the report file to write in it, "
        f"e.g. --out {tmp_path / 'testyard-report.html'}"
    )
    (tmp_path / "r.pdf").mkdir()
    with pytest.raises(InputError, match="is a folder"):
        build_pdf_report(db, SITE_NAME, tmp_path / "r.pdf")
    with pytest.raises(InputError, match=r"as .*r\.pdf, which is a folder"):
        build_report(db, SITE_NAME, tmp_path / "r.html", pdf=True)
    assert not (tmp_path / "r.html").exists()


def test_a_path_below_a_file_says_so(db: Database, tmp_path: Path) -> None:
    (tmp_path / "notes").write_text("x")
    for out in (tmp_path / "notes" / "r.html", tmp_path / "notes" / "sub" / "r.pdf"):
        with pytest.raises(InputError) as err:
            (build_pdf_report if out.suffix == ".pdf" else build_report)(db, SITE_NAME, out)
        assert f"{tmp_path / 'notes'} is a file, not a folder" in str(err.value)
    assert (tmp_path / "notes").read_text() == "x"


def test_tilde_is_the_home_folder(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home, cwd = tmp_path / "home", tmp_path / "cwd"
    home.mkdir()
    cwd.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(cwd)
    assert build_report(db, SITE_NAME, "~/reports/r.html", pdf=True) == home / "reports/r.html"
    assert build_pdf_report(db, SITE_NAME, "~/p.pdf") == home / "p.pdf"
    assert (home / "reports/r.html").is_file() and (home / "reports/r.pdf").is_file()
    assert (home / "p.pdf").is_file()
    assert list(cwd.iterdir()) == []  # no folder named "~"


def test_a_symbolic_link_is_written_through(db: Database, tmp_path: Path) -> None:
    real = tmp_path / "shared" / "yard.html"
    real.parent.mkdir()
    real.write_text("old report")
    link = tmp_path / "latest.html"
    link.symlink_to(real)
    build_report(db, SITE_NAME, link)
    assert link.is_symlink() and link.resolve() == real
    assert real.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    pdf_real = tmp_path / "shared" / "yard.pdf"
    pdf_link = tmp_path / "latest.pdf"
    pdf_link.symlink_to(pdf_real)  # dangling: the file it names is written
    build_pdf_report(db, SITE_NAME, pdf_link)
    assert pdf_link.is_symlink() and pdf_real.read_bytes().startswith(b"%PDF")


def test_report_to_stdout_is_only_the_html(db_url: str) -> None:
    code = "import sys; from railwatch.cli.main import main; sys.exit(main(sys.argv[1:]))"
    argv = ["--db", db_url, "report", SITE_NAME, "-o", "/dev/stdout"]
    proc = subprocess.run(
        [sys.executable, "-c", code, *argv], capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("<!DOCTYPE html>")
    assert proc.stdout.rstrip().endswith("</html>")  # nothing after the report
    assert "wrote /dev/stdout" in proc.stderr
