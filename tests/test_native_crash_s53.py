"""Session 53 (2026-12-08): native failures other than the empty ring's
(tests/test_empty_hole_s53.py) found by probing shapely 2.2.0 / GEOS 3.14.1 with
degenerate geometries, each in its own process, and reached through railwatch's
entry points.

- WKT whose GEOMETRYCOLLECTIONs nest 40,000 deep (800 KB of text): GEOS' WKT reader
  goes one level down its C stack per bracket, and ``railwatch site add --geojson
  FILE`` (``--tracks FILE``, ``detect --tracks FILE`` read it the same way) died with
  SIGSEGV; 10,000 deep it ended on an internal error (RecursionError). Refused now
  before GEOS reads it (``sites.MAX_WKT_DEPTH``).
- A STAC item's geometry was not checked as lon/lat: latitudes to ±1,000,000 were
  stored as the scene's footprint, and with ``--coverage footprint`` its outline
  densified to a vertex every 0.005° took memory without bound (8e8 vertices); a NaN
  was stored as it was. The item fails now, with the reason (``stac._item_geometry``).

Each runs in a child process, so that a crash is a status, not the end of the tests."""

from __future__ import annotations

import json
import resource
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from pyproj import Transformer

from helpers import make_geotiff
from railwatch.storage import Database, repo

#: How a script runs the command line.
RUN = "import sys; from railwatch.cli.main import main; sys.exit(main())"
#: A yard-sized square near Tumangang, as WKT.
SQUARE = "POLYGON ((130.60 42.42, 130.61 42.42, 130.61 42.43, 130.60 42.43, 130.60 42.42))"
#: Deep enough that GEOS 3.14.1's WKT reader overflowed an 8 MB stack (40,000 did).
DEPTH = 60_000


def _cli(db: str, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", RUN, "--db", db, *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=300,
    )


def _said(done: subprocess.CompletedProcess[str]) -> str:
    return " ".join((done.stdout + done.stderr).split())


def test_wkt_nested_too_deep_is_refused_not_a_crash(tmp_path: Path, tmp_db_url: str) -> None:
    deep = tmp_path / "deep.wkt"
    deep.write_text("GEOMETRYCOLLECTION (" * DEPTH + SQUARE + ")" * DEPTH)
    done = _cli(tmp_db_url, "site", "add", "deep", "--geojson", str(deep))
    # before the fix: status -11 (SIGSEGV in GEOS' WKT reader)
    assert done.returncode == 2, (done.returncode, done.stderr[-2000:])
    said = _said(done)
    assert f"site GeoJSON {deep} is WKT whose brackets nest more than 32 deep" in said
    assert "not collections nested in collections" in said

    # left open (the reader goes down before it finds a bracket missing), piped in
    done = _cli(
        tmp_db_url, "site", "add", "deep", "--geojson", "-", stdin="GEOMETRYCOLLECTION (" * DEPTH
    )
    assert done.returncode == 2, (done.returncode, done.stderr[-2000:])
    assert "from standard input is WKT whose brackets nest more than 32 deep" in _said(done)

    # 2,000 deep: an internal error (RecursionError) before the fix
    less = tmp_path / "less.wkt"
    less.write_text("GEOMETRYCOLLECTION (" * 2000 + SQUARE + ")" * 2000)
    done = _cli(tmp_db_url, "site", "add", "deep", "--geojson", str(less))
    assert done.returncode == 2, (done.returncode, done.stderr[-2000:])
    assert "internal error" not in _said(done)
    assert "WKT whose brackets nest more than 32 deep" in _said(done)

    # the track lines are read by the same reader
    done = _cli(
        tmp_db_url, "site", "add", "yard", "--bbox", "130.60,42.42,130.61,42.43",
        "--tracks", str(deep),
    )  # fmt: skip
    assert done.returncode == 2, (done.returncode, done.stderr[-2000:])
    assert "WKT whose brackets nest more than 32 deep" in _said(done)
    with Database(tmp_db_url).session() as session:
        assert repo.list_sites(session) == []

    # a MULTIPOLYGON in a collection in a collection: 5 deep, taken as before
    nested = tmp_path / "nested.wkt"
    nested.write_text(f"GEOMETRYCOLLECTION (GEOMETRYCOLLECTION (MULTIPOLYGON ({SQUARE[8:]})))")
    done = _cli(tmp_db_url, "site", "add", "yard", "--geojson", str(nested))
    assert done.returncode == 0, (done.returncode, done.stderr[-2000:])
    assert "Added site yard" in done.stdout


LON, LAT = 4.90, 52.38  # Amsterdam's yard


def _item(item_id: str, ring: list[list[float]]) -> dict[str, Any]:
    return {
        "type": "Feature",
        "stac_version": "1.0.0",
        "id": item_id,
        "collection": "yards",
        "geometry": {"type": "Polygon", "coordinates": [ring]},
        "bbox": [LON - 1, LAT - 1, LON + 1, LAT + 1],
        "properties": {"datetime": "2023-10-05T02:30:00Z", "gsd": 1.0},
        "assets": {"image": {"href": "ams.tif", "type": "image/tiff", "roles": ["data"]}},
        "links": [],
    }


def _limit_memory() -> None:  # pragma: no cover - runs in the child before exec
    # before the fix the child asked GEOS for 8e8 vertices; 3 GB of address space keeps
    # that from taking the machine's memory (it failed on std::bad_alloc)
    resource.setrlimit(resource.RLIMIT_AS, (3 * 2**30, 3 * 2**30))


def test_stac_item_geometry_out_of_lonlat_range_fails_the_item(
    tmp_path: Path, tmp_db_url: str
) -> None:
    pytest.importorskip("pystac")
    x, y = Transformer.from_crs("EPSG:4326", "EPSG:32631", always_xy=True).transform(LON, LAT)
    make_geotiff(
        tmp_path / "ams.tif", crs="EPSG:32631", origin=(x - 300.0, y + 300.0), gsd=1.0,
        width=600, height=600, tags={"TIFFTAG_DATETIME": "2023:10:05 02:30:00"},
    )  # fmt: skip
    w, e, s, n = LON - 0.01, LON + 0.01, LAT - 0.01, LAT + 0.01
    far = 1e6  # metres, or a typo, taken for degrees
    doc = {
        "type": "FeatureCollection",
        "features": [
            _item("far", [[w, -far], [e, -far], [e, far], [w, far], [w, -far]]),
            _item("nan", [[w, s], [float("nan"), s], [e, n], [w, n], [w, s]]),
            _item("ok", [[w, s], [e, s], [e, n], [w, n], [w, s]]),
        ],
    }
    (tmp_path / "items.json").write_text(json.dumps(doc))  # NaN as JSON's NaN, as Python reads
    added = _cli(tmp_db_url, "site", "add", "ams", "--bbox", "4.898,52.378,4.902,52.382")
    assert added.returncode == 0, added.stderr
    done = subprocess.run(
        [sys.executable, "-c", RUN, "--db", tmp_db_url, "ingest-stac", "ams", "--stac",
         str(tmp_path / "items.json"), "--coverage", "footprint", "--json"],
        capture_output=True, text=True, timeout=300, preexec_fn=_limit_memory,
    )  # fmt: skip
    assert done.returncode == 1, (done.returncode, done.stderr[-2000:])
    summary = json.loads(done.stdout)
    reasons = {Path(f["file"]).name: " ".join(f["reason"].split()) for f in summary["failed"]}
    assert set(reasons) == {"far", "nan"}, reasons
    assert reasons["far"].startswith(
        "item far has a geometry with the position (4.89, -1000000), out of range for WGS84 "
        "longitude/latitude (latitude within ±90°"
    )
    assert "reproject them to EPSG:4326" in reasons["far"]
    assert reasons["nan"].startswith(
        "item nan has a geometry with the position (nan, 52.37), which is not two finite numbers"
    )
    with Database(tmp_db_url).session() as session:
        scenes = repo.list_scenes(session, "ams")
        assert len(scenes) == 1  # the item "ok" only
        assert scenes[0].footprint.bounds == pytest.approx((w, s, e, n))
