"""``railwatch simulate --scene --date DAY`` with a date alone dates the image noon that
day at the scene's centre (its nominal zone, ``railwatch.sites.nominal_utc_offset``), as
``ingest --date DAY`` dates a day since 14e1dde (session 32).

Before, the day was midnight UTC: a scene rendered over a site at 118°W with ``--date
2024-04-10`` ingested as 2024-04-10T00:00Z, the 9th at the site.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from railwatch.cli.main import main


def _datetime(tmp_path: Path, *extra: str) -> str:
    out = tmp_path / "sim"
    code = main(
        ["simulate", "--scene", "--seed", "1", "--cars", "2", "--size", "120x120",
         "--out", str(out), *extra]
    )  # fmt: skip
    assert code == 0
    return str(json.loads((out / "sim_1.json").read_text())["properties"]["datetime"])


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        # 118.25°W: UTC-8, noon there is 20:00Z the same day
        (("--center", "-118.25,34.05", "--date", "2024-04-10"), "2024-04-10T20:00:00Z"),
        # the default centre, Tumangang (130.6°E, UTC+9): 03:00Z
        (("--date", "2024-04-10"), "2024-04-10T03:00:00Z"),
        # 179.9°E: UTC+12, 00:00Z
        (("--center", "179.9,-16.5", "--date", "2024-04-10"), "2024-04-10T00:00:00Z"),
    ],
)
def test_a_date_alone_is_noon_at_the_scene(
    tmp_path: Path, extra: tuple[str, ...], expected: str
) -> None:
    assert _datetime(tmp_path, *extra) == expected


def test_a_date_and_time_is_kept(tmp_path: Path) -> None:
    got = _datetime(tmp_path, "--center", "-118.25,34.05", "--date", "2024-04-10T17:00Z")
    assert got == "2024-04-10T17:00:00Z"
