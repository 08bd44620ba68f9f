"""`railwatch export -f geojson -o rosario.geojson` said "wrote rosario.geojson": a
folder of five files, which a new analyst (session 33) took for one GeoJSON file. It now
says it is a folder and names its files. (Since session 41 a name ending in .geojson or
.parquet is refused for every layer, tests/test_leftovers_s41.py: a folder of another
name is said so.)"""

from __future__ import annotations

from pathlib import Path

import pytest

from railwatch.cli.main import main
from railwatch.storage import Database
from report_db import populate


@pytest.mark.parametrize(("fmt", "ext"), [("geojson", "geojson"), ("geoparquet", "parquet")])
def test_a_folder_export_says_it_is_a_folder_and_names_its_files(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    fmt: str,
    ext: str,
) -> None:
    if fmt == "geoparquet":
        pytest.importorskip("pyarrow")
    monkeypatch.delenv("COLUMNS", raising=False)
    url = f"sqlite:///{tmp_path / 'rw.db'}"
    db = Database(url)
    try:
        populate(db, tmp_path / "scenes")
    finally:
        db.dispose()
    out = tmp_path / f"yard-{fmt}"
    capsys.readouterr()
    assert main(["--db", url, "export", "testyard", "-f", fmt, "--out", str(out)]) == 0
    said = " ".join(capsys.readouterr().out.split())
    files = ", ".join(
        f"{name}.{ext}" for name in ("sites", "scenes", "detections", "occupied_track", "counts")
    )
    assert said == f"wrote {out} (a folder: {files}, one file per layer)"
    assert all((out / f"{name}.{ext}").is_file() for name in ("sites", "counts"))
