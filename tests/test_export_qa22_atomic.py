"""An export that fails part way leaves the previous file as it was: the old code
deleted an existing export before writing the new one, so a failed write (disk full, a
bad value, Ctrl-C) left no file at all, or half of one."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from railwatch.export import gis
from railwatch.storage import Database
from report_db import populate


@pytest.fixture()
def db(tmp_path: Path) -> Database:
    database = Database(f"sqlite:///{tmp_path / 'rw.db'}")
    populate(database, tmp_path / "scenes")
    return database


@pytest.mark.parametrize(
    ("fmt", "name", "inner"),
    [
        ("csv", "yard.csv", None),
        ("gpkg", "yard.gpkg", None),
        ("geojson", "yard-geojson", f"{gis.LAYER_NAMES[0]}.geojson"),
        ("geoparquet", "yard-parquet", f"{gis.LAYER_NAMES[0]}.parquet"),
    ],
)
def test_a_failed_export_keeps_the_previous_one(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fmt: str, name: str,
    inner: str | None,
) -> None:  # fmt: skip
    pytest.importorskip("pyogrio")
    pytest.importorskip("pyarrow")
    out = tmp_path / "out" / name
    gis.export_site(db, "testyard", fmt, out)
    target = out / inner if inner else out
    before = target.read_bytes()
    assert before

    def full(path: Any) -> None:  # half a file written, then the disk is full
        Path(path).write_bytes(before[: len(before) // 2])
        raise OSError(28, "No space left on device")

    real_write_text = Path.write_text

    def write_text(self: Path, *args: Any, **kwargs: Any) -> int:
        if self.suffix == ".geojson":
            full(self)
        return real_write_text(self, *args, **kwargs)

    def to_parquet(_frame: Any, path: Any, *args: Any, **kwargs: Any) -> None:
        full(path)

    def write_dataframe(_frame: Any, path: Any, **kwargs: Any) -> None:
        full(path)

    def csv_value(_value: Any) -> str:
        raise OSError(28, "No space left on device")  # after the header row was written

    import geopandas
    import pandas
    import pyogrio

    monkeypatch.setattr(gis, "_csv_value", csv_value)
    monkeypatch.setattr(Path, "write_text", write_text)
    monkeypatch.setattr(pandas.DataFrame, "to_parquet", to_parquet)
    monkeypatch.setattr(geopandas.GeoDataFrame, "to_parquet", to_parquet)
    monkeypatch.setattr(pyogrio, "write_dataframe", write_dataframe)
    with pytest.raises(Exception, match="No space left"):
        gis.export_site(db, "testyard", fmt, out)
    assert target.read_bytes() == before
    leftovers = [p.name for p in target.parent.iterdir() if ".tmp" in p.name]
    assert leftovers == []
