"""``railwatch simulate --scene --center LON,LAT --date D``: imagery of your own site, as
a series that ingests in date order."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from railwatch.cli.main import main


def test_scene_placed_and_dated_ingests_as_a_series(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "sim"
    for seed, day in ((1, "2024-03-01"), (2, "2024-04-15T10:30:00+02:00")):
        code = main(
            ["simulate", "--scene", "--seed", str(seed), "--cars", "4", "--size", "200x200",
             "--center", "7.64,47.53", "--date", day, "--out", str(out)]
        )  # fmt: skip
        assert code == 0, capsys.readouterr().err
    item = json.loads((out / "sim_2.json").read_text())
    assert item["properties"]["datetime"] == "2024-04-15T08:30:00Z"
    assert item["properties"]["proj:epsg"] == 32632  # Muttenz's UTM zone, not Tumangang's
    w, s, e, n = item["bbox"]
    assert w < 7.64 < e and s < 47.53 < n

    db = ["--db", f"sqlite:///{tmp_path / 'own.db'}"]
    assert main([*db, "site", "add", "own", "--bbox", "7.639,47.5295,7.641,47.5305"]) == 0
    assert main([*db, "ingest", "own", str(out)]) == 0
    capsys.readouterr()
    assert main([*db, "scene", "list", "own", "--json"]) == 0
    scenes = json.loads(capsys.readouterr().out)
    assert [d["acquired_at"] for d in scenes] == [
        "2024-03-01T11:00:00+00:00",  # noon at UTC+1 (7.64°E), a date alone (s32)
        "2024-04-15T08:30:00+00:00",
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--scene", "--center", "130.6"], "is not LON,LAT in degrees"),
        (["--scene", "--center", "42.4,130.6"], "the order is LON,LAT"),
        (["--scene", "--date", "2024-13-01"], "is not a valid calendar date: there is no month 13"),
        (["--scene", "--date", "2024-1301"], "is not ISO 8601"),
        (["--scenario", "tumangang", "--date", "2024-01-01"], "a scenario has its own"),
        # was rendered and dated year 5 (ingest --date and event add refuse it)
        (["--scene", "--date", "0005-01-01"], "--date 0005-01-01 is before 1900: check the year"),
    ],
)
def test_bad_center_or_date_is_one_line_before_rendering(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    assert main(["simulate", *args, "--out", str(tmp_path / "o")]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "o").exists()
