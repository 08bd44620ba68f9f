"""Leftovers of the 2026-12-07 (session 46) walkthroughs: a counts CSV's gsd of 50 (cm
meant) taken as 50 m; negative int16 values called under-exposed at "-2.9 %"; a
FeatureCollection of named yards merged into one site without a word; ``--counts
<(...)`` titled "63:"; ``AlertSettings`` raising pydantic's ValidationError; ``export``
creating a missing folder without a word."""

from __future__ import annotations

import json
import os
from pathlib import Path
from types import SimpleNamespace

import pytest
from pydantic import ValidationError

from railwatch.analysis.settings import AlertSettings
from railwatch.cli.main import main
from railwatch.errors import InputError
from railwatch.imagery.quality import _under_exposed
from railwatch.imagery.read import Exposure


def test_a_count_at_a_gsd_of_50_asks_whether_centimetres_were_meant(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "g.csv"
    path.write_text("date,count,gsd\n2024-01-01,10,50\n")
    rc = main(["analyze", "--counts", str(path), "--as-of", "2024-02-01"])
    err = capsys.readouterr().err
    assert rc == 2, err
    assert "line 2: count 10 at gsd 50 m per pixel" in err
    assert "if you meant 50 cm, write 0.5" in err


def test_a_gap_at_a_coarse_gsd_and_a_count_at_10_m_are_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An export's row of a 30 m image stored unusable has no count: it is a gap."""
    path = tmp_path / "g.csv"
    path.write_text("date,count,gsd\n2024-01-01,,30\n2024-01-08,3,10\n")
    rc = main(["analyze", "--counts", str(path), "--as-of", "2024-02-01"])
    out, err = capsys.readouterr()
    assert rc == 0, err
    assert "1 usable count" in out


def test_negative_int16_values_are_not_called_under_exposed() -> None:
    said = _under_exposed(SimpleNamespace(exposure=Exposure(p99=-117.0, bits=12)))  # type: ignore[arg-type]
    assert said is not None
    assert "under-exposed" not in said and "%" not in said
    assert "values are negative" in said and "-117" in said
    assert "gdal_edit.py -offset" in said
    dark = _under_exposed(SimpleNamespace(exposure=Exposure(p99=89.0, bits=12)))  # type: ignore[arg-type]
    assert dark is not None and dark.startswith("the image is under-exposed")


def _square(x: float, name: str | None) -> dict[str, object]:
    ring = [[x, 42.28], [x + 0.001, 42.28], [x + 0.001, 42.281], [x, 42.281], [x, 42.28]]
    return {
        "type": "Feature",
        "properties": {"name": name} if name else {},
        "geometry": {"type": "Polygon", "coordinates": [ring]},
    }


def test_site_add_says_a_feature_collection_of_named_yards_is_merged(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = ["--db", f"sqlite:///{tmp_path / 'r.db'}"]
    many = tmp_path / "many.geojson"
    feats = [_square(130.6 + 0.002 * i, f"yard {i}") for i in range(5)]
    many.write_text(json.dumps({"type": "FeatureCollection", "features": feats}))
    rc = main([*db, "site", "add", "s", "--geojson", str(many)])
    out, err = capsys.readouterr()
    assert rc == 0, err
    assert "Added site s" in out
    assert "has 5 polygon features: they are merged into this one site" in err
    assert "names ('yard 0', 'yard 1', 'yard 2', ...) are not used" in err
    assert "ogr2ogr -where \"name = 'yard 0'\"" in err
    one = tmp_path / "one.geojson"
    one.write_text(json.dumps({"type": "FeatureCollection", "features": feats[:1]}))
    rc = main([*db, "site", "add", "t", "--geojson", str(one)])
    out, err = capsys.readouterr()
    assert rc == 0, err
    assert "merged" not in err


def test_analyze_counts_from_a_pipe_is_not_titled_by_its_descriptor(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    read, write = os.pipe()
    os.write(write, b"date,count\n2024-01-01,10\n")
    os.close(write)
    try:
        rc = main(["analyze", "--counts", f"/dev/fd/{read}", "--as-of", "2024-02-01"])
    finally:
        os.close(read)
    out, err = capsys.readouterr()
    assert rc == 0, err
    assert out.startswith(f"the piped input /dev/fd/{read}: "), out


def test_alert_settings_refuse_with_an_input_error() -> None:
    with pytest.raises(InputError, match="record_years=0: input should be greater") as info:
        AlertSettings(record_years=0)
    assert isinstance(info.value, ValueError)
    assert isinstance(info.value.__cause__, ValidationError)
    assert "pydantic.dev" not in str(info.value)
    with pytest.raises(InputError, match="no field 'recrod_years': did you mean record_years"):
        AlertSettings(recrod_years=3)  # type: ignore[call-arg]


def test_analyze_still_names_the_record_years_option(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "c.csv"
    path.write_text("date,count\n2024-01-01,3\n")
    rc = main(["analyze", "--counts", str(path), "--record-years", "0"])
    err = capsys.readouterr().err
    assert rc == 2, err
    assert "--record-years 0: input should be greater than or equal to 1" in err


def test_export_says_it_created_a_missing_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = ["--db", f"sqlite:///{tmp_path / 'r.db'}"]
    assert main([*db, "site", "add", "s", "--bbox", "130.60,42.28,130.66,42.31"]) == 0
    capsys.readouterr()
    out = tmp_path / "new" / "sub" / "e.csv"
    rc = main([*db, "export", "s", "-f", "csv", "-o", str(out)])
    err = capsys.readouterr().err
    assert rc == 0, err
    assert out.is_file()
    assert f"created the folder {tmp_path / 'new'}, which did not exist" in err
    rc = main([*db, "export", "s", "-f", "csv", "-o", str(out)])
    assert rc == 0
    assert "created" not in capsys.readouterr().err
