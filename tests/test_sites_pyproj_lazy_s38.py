"""Reading sites imports no pyproj (2026-12-06, session 38).

``railwatch.sites`` and ``railwatch.storage.records`` imported pyproj when loaded
(about 0.1 s of CPU), so every command that opened the database paid for it:
``site list``, ``site show``, ``alerts``, ``event list`` read no CRS and measure nothing.
pyproj is now imported where a CRS is read, a geometry reprojected or a length
measured; ``sites._GEOD`` (the WGS84 geodesic calculator, which tests use) is made when
first asked for."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from railwatch import sites
from railwatch.cli.main import main

#: Prints whether pyproj was imported once the code given as argv[1] ran.
PROBE = "import sys; exec(sys.argv[1]); print('pyproj' in sys.modules)"
#: The console script, then whether pyproj was imported (on stderr, after the output).
CLI_PROBE = """
import sys
sys.argv[0] = "railwatch"
from railwatch.cli.main import main
try:
    code = main()
finally:
    print("pyproj imported:", "pyproj" in sys.modules, file=sys.stderr)
sys.exit(code)
"""


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("RAILWATCH_")}


def test_the_storage_layer_and_sites_load_without_pyproj(tmp_path: Path) -> None:
    code = (
        "import railwatch.sites, railwatch.storage, railwatch.storage.repo, "
        "railwatch.storage.serialize, railwatch.storage.records"
    )
    run = subprocess.run(
        [sys.executable, "-c", PROBE, code],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=_env(),
        timeout=300,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.strip() == "False"


@pytest.fixture(scope="module")
def one_site(tmp_path_factory: pytest.TempPathFactory) -> str:
    folder = tmp_path_factory.mktemp("db")
    url = f"sqlite:///{folder / 'rw.db'}"
    assert main(["--db", url, "site", "add", "yard", "--bbox", "130.6,42.42,130.61,42.43"]) == 0
    return url


@pytest.mark.parametrize(
    "args",
    [
        ["site", "list", "--json"],
        ["site", "show", "yard", "--json"],
        ["alerts", "--json"],
        ["event", "list", "yard", "--json"],
    ],
)
def test_reading_a_site_imports_no_pyproj(args: list[str], one_site: str, tmp_path: Path) -> None:
    run = subprocess.run(
        [sys.executable, "-c", CLI_PROBE, "--db", one_site, *args],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=_env(),
        timeout=300,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    data = json.loads(run.stdout)
    if args[0] == "site":
        site = data[0] if isinstance(data, list) else data
        assert site["name"] == "yard" and site["area_km2"] > 0
    assert run.stderr.strip().splitlines()[-1] == "pyproj imported: False"


def test_the_geodesic_calculator_is_still_there() -> None:
    geod = sites._GEOD
    assert geod is sites._GEOD  # made once
    _, _, metres = geod.inv(130.0, 42.0, 130.0, 43.0)
    assert 110_000 < metres < 112_000
    with pytest.raises(AttributeError, match="no attribute '_NOTHING'"):
        _ = sites._NOTHING


def test_a_crs_member_is_still_read_and_reprojected() -> None:
    square = [[[500000, 4700000], [500500, 4700000], [500500, 4700500], [500000, 4700500]]]
    spec = sites.site_from_geojson(
        "yard",
        {
            "type": "Polygon",
            "coordinates": [[*square[0], square[0][0]]],
            "crs": {"type": "name", "properties": {"name": "EPSG:32652"}},
        },
    )
    w, s, e, n = spec.geometry.bounds
    assert 128.9 < w < e < 129.1 and 42.4 < s < n < 42.5
    assert spec.area_km2 == pytest.approx(0.25, rel=0.01)
