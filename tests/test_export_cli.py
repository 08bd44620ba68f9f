"""The report, export, export-labels and import-labels commands end to end."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from railwatch.cli.main import main
from railwatch.storage import Database
from report_db import populate


@pytest.fixture(scope="module")
def db_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    tmp = tmp_path_factory.mktemp("cli")
    url = f"sqlite:///{tmp / 'rw.db'}"
    populate(Database(url), tmp / "scenes")
    return url


def test_report_command(db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "r.html"
    rc = main(["--db", db_url, "report", "testyard", "--out", str(out), "--from", "2022-06-01"])
    assert rc == 0
    assert out.is_file() and "wrote" in capsys.readouterr().out
    assert "2022-06-01 to 2023-02-04" in out.read_text()
    rc = main(["--db", db_url, "report", "testyard", "--from", "June"])
    assert rc == 2 and "YYYY-MM-DD" in capsys.readouterr().err
    assert main(["--db", db_url, "report", "nowhere", "--out", str(out)]) == 1


def test_export_command(db_url: str, tmp_path: Path) -> None:
    pd = pytest.importorskip("pandas")
    path = tmp_path / "c.csv"
    assert main(["--db", db_url, "export", "testyard", "--format", "csv", "--out", str(path)]) == 0
    assert len(pd.read_csv(path, parse_dates=["date"])) == 15
    assert main(["--db", db_url, "export", "testyard", "--format", "kml", "--out", "x"]) == 2


def test_unwritable_outputs_are_input_errors(
    db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An --out under a file was an internal error (status 70: FileExistsError, or
    pyogrio's DataSourceError for gpkg); now status 2 naming the path and the reason."""
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    formats = ["csv", "geojson"]
    if all(importlib.util.find_spec(m) for m in ("pyogrio", "geopandas")):
        formats.append("gpkg")
    for fmt in formats:
        out = str(blocker / f"out.{fmt}")
        assert main(["--db", db_url, "export", "testyard", "-f", fmt, "--out", out]) == 2
        err = capsys.readouterr().err
        assert f"cannot write the {fmt} export to" in err and "internal error" not in err
    out = str(blocker / "r.html")
    assert main(["--db", db_url, "report", "testyard", "--out", out]) == 2
    err = capsys.readouterr().err
    assert f"cannot write the report to {out}: " in err and str(blocker) in err
    assert blocker.read_text() == "x"


def test_label_commands(db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    labels = tmp_path / "labels"
    rc = main(["--db", db_url, "export-labels", "testyard", "--format", "yolo-obb",
               "--out", str(labels), "--chip", "512", "--json"])  # fmt: skip
    assert rc == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["chips"] > 0 and summary["objects"] >= 96
    train = tmp_path / "train"
    rc = main(["--db", db_url, "import-labels", str(labels), "--format", "yolo-obb",
               "--site", "testyard", "--out", str(train), "--json"])  # fmt: skip
    assert rc == 0
    imported = json.loads(capsys.readouterr().out)
    assert imported["objects"] == summary["objects"] and imported["images"] == summary["chips"]
    assert (train / "dataset.yaml").is_file()
    rc = main(["--db", db_url, "import-labels", str(labels), "--format", "yolo-obb",
               "--site", "nowhere", "--out", str(tmp_path / "t2")])  # fmt: skip
    assert rc == 1
    bad = labels / "labels" / sorted(p.name for p in (labels / "labels").glob("*.txt"))[0]
    bad.write_text("0 5 5 6 5 6 6 5 6\n")
    rc = main(["--db", db_url, "import-labels", str(labels), "--format", "yolo-obb",
               "--out", str(tmp_path / "t3")])  # fmt: skip
    assert rc == 2
    err = " ".join(capsys.readouterr().err.split())
    # corners of 5-6 on a 0-1 scale: pixels, as the message says (import-labels QA)
    assert f"{bad.name}:1:" in err and "YOLO-OBB wants them divided by the image" in err
    assert not (tmp_path / "t3").exists()


def test_report_leaves_dates_before_1900_off_the_chart(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An event or image dated 0023 (a mistyped year an older railwatch stored: such
    dates are refused at input now) made `railwatch report` fail with an internal error
    (status 70: matplotlib cannot draw year 23). Now the chart leaves them out, and a
    warning line and a caveat of the report say so and what to do."""
    from datetime import UTC, date, datetime

    from railwatch.storage.models import Event, Scene

    url = f"sqlite:///{tmp_path / 'old.db'}"
    db = Database(url)
    info = populate(db, tmp_path / "scenes", with_alert=False)
    first = info["scene_ids"][0]
    with db.session() as s:
        s.get_one(Scene, first).acquired_at = datetime(23, 1, 10, 3, tzinfo=UTC)
        for ev in s.query(Event):
            ev.date = date(23, 1, 20)
    out = tmp_path / "r.html"
    assert main(["--db", url, "report", "testyard", "--out", str(out), "--pdf"]) == 0
    err = " ".join(capsys.readouterr().err.split())
    assert "internal error" not in err
    assert f"warning: The image of scene {first} is dated 0023-01-10, before 1900" in err
    assert f"`railwatch scene show {first}`" in err
    assert "warning: The event 'Summit' is dated 0023-01-20, before 1900" in err
    assert "`railwatch event remove ID`" in err
    html = out.read_text()
    assert "left off the chart" in html and html.count("<tr class=") == 15  # still listed
    assert out.with_suffix(".pdf").is_file()
