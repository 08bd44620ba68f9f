"""STAC ingest against a real STAC API (rustac's stac-server, in-memory backend) and a
static catalog, both served on loopback, with COGs made here and read over HTTP
range requests."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pytest
from pyproj import Transformer

from railwatch.sites import site_from_bbox
from railwatch.storage import Database, repo

pystac = pytest.importorskip("pystac")
pytest.importorskip("pystac_client")

ORIGIN = (500_000.0, 4_680_000.0)
SIZE, GSD = 512, 0.5
TO_WGS = Transformer.from_crs("EPSG:32652", "EPSG:4326", always_xy=True)


class RangeHandler(SimpleHTTPRequestHandler):
    """Static files with HTTP Range support (what GDAL /vsicurl/ needs); records
    bytes served and the Authorization headers seen."""

    served: ClassVar[dict[str, int]] = {}
    auth: ClassVar[list[str]] = []

    def log_message(self, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self.auth.append(self.headers.get("Authorization", ""))
        path = Path(self.translate_path(self.path))
        rng = self.headers.get("Range")
        if not path.is_file() or not rng:
            super().do_GET()
            if path.is_file():
                self.served[path.name] = self.served.get(path.name, 0) + path.stat().st_size
            return
        data = path.read_bytes()
        start_s, _, end_s = rng.removeprefix("bytes=").partition("-")
        start = int(start_s)
        end = min(int(end_s) if end_s else len(data) - 1, len(data) - 1)
        chunk = data[start : end + 1]
        self.send_response(206)
        self.send_header("Content-Type", "image/tiff")
        self.send_header("Content-Range", f"bytes {start}-{end}/{len(data)}")
        self.send_header("Content-Length", str(len(chunk)))
        self.send_header("Accept-Ranges", "bytes")
        self.end_headers()
        self.wfile.write(chunk)
        self.served[path.name] = self.served.get(path.name, 0) + len(chunk)

    def do_HEAD(self) -> None:
        self.auth.append(self.headers.get("Authorization", ""))
        super().do_HEAD()


@pytest.fixture
def files_server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    root = tmp_path / "www"
    root.mkdir()
    RangeHandler.served, RangeHandler.auth = {}, []

    def handler(*args: Any, **kwargs: Any) -> RangeHandler:
        return RangeHandler(*args, directory=str(root), **kwargs)

    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", root
    finally:
        server.shutdown()
        server.server_close()


def make_cog(path: Path, seed: int) -> Path:
    import rasterio
    from affine import Affine

    rng = np.random.default_rng(seed)
    data = rng.integers(0, 255, (3, SIZE, SIZE), dtype=np.uint8)
    with rasterio.open(
        path, "w", driver="COG", width=SIZE, height=SIZE, count=3, dtype="uint8",
        crs="EPSG:32652", transform=Affine(GSD, 0, ORIGIN[0], 0, -GSD, ORIGIN[1]),
        blocksize=128, compress="deflate",
    ) as dst:  # fmt: skip
        dst.write(data)
    return path


def footprint(dx: float = 0.0) -> dict[str, Any]:
    x0, y1 = ORIGIN[0] + dx, ORIGIN[1]
    x1, y0 = x0 + SIZE * GSD, y1 - SIZE * GSD
    ring = [TO_WGS.transform(x, y) for x, y in ((x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0))]
    return {"type": "Polygon", "coordinates": [[list(p) for p in ring]]}


def site_db(url: str) -> Database:
    lon0, lat0 = TO_WGS.transform(ORIGIN[0] + 20, ORIGIN[1] - 60)
    lon1, lat1 = TO_WGS.transform(ORIGIN[0] + 60, ORIGIN[1] - 20)
    db = Database(url)
    with db.session() as s:
        repo.add_site(s, site_from_bbox("yard", [lon0, lat0, lon1, lat1]))
    return db


# (id, day, cloud, x offset in metres): "far" does not reach the site.
ITEMS = [("a", 1, 5.0, 0.0), ("b", 8, 80.0, 0.0), ("c", 15, 10.0, -100.0), ("far", 22, 0.0, 5000.0)]


def make_items(base: str, root: Path) -> list[dict[str, Any]]:
    docs = []
    for k, (ident, day, cloud, dx) in enumerate(ITEMS):
        make_cog(root / f"{ident}.tif", k)
        shutil.copy(root / f"{ident}.tif", root / f"{ident}.mask.tif")
        geom = footprint(dx)
        xs = [p[0] for p in geom["coordinates"][0]]
        ys = [p[1] for p in geom["coordinates"][0]]
        docs.append({
            "type": "Feature", "stac_version": "1.0.0", "id": ident, "collection": "yards",
            "geometry": geom, "bbox": [min(xs), min(ys), max(xs), max(ys)],
            "properties": {
                "datetime": f"2023-10-{day:02d}T02:13:00Z", "gsd": GSD,
                "eo:cloud_cover": cloud, "view:off_nadir": 12.5, "view:sun_elevation": 40.0,
                "platform": "SkySat-sim",
            },
            "assets": {
                "image": {"href": f"{base}/{ident}.tif", "roles": ["data"],
                          "type": "image/tiff; application=geotiff; profile=cloud-optimized"},
                "mask": {"href": f"{base}/{ident}.mask.tif", "roles": ["quality"],
                         "type": "image/tiff; application=geotiff"},
                "thumbnail": {"href": f"{base}/{ident}.png", "roles": ["thumbnail"],
                              "type": "image/png"},
            },
            "links": [],
        })  # fmt: skip
    return docs


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def stac_api(tmp_path: Path, files_server: tuple[str, Path]) -> Iterator[str]:
    """A real STAC API (``rustac serve``, memory backend) holding the test items."""
    exe = shutil.which("rustac", path=str(Path(sys.executable).parent)) or shutil.which("rustac")
    if exe is None:
        from helpers import require_service

        require_service("rustac STAC server", "pip install rustac")
    base, root = files_server
    items = make_items(base, root)
    (tmp_path / "items.json").write_text(
        json.dumps({"type": "FeatureCollection", "features": items})
    )
    collection = {
        "type": "Collection", "stac_version": "1.0.0", "id": "yards", "description": "test",
        "license": "other", "links": [],
        "extent": {"spatial": {"bbox": [[-180, -90, 180, 90]]},
                   "temporal": {"interval": [[None, None]]}},
    }  # fmt: skip
    (tmp_path / "collection.json").write_text(json.dumps(collection))
    port = free_port()
    proc = subprocess.Popen(
        [str(exe), "serve", "-a", f"127.0.0.1:{port}",
         str(tmp_path / "collection.json"), str(tmp_path / "items.json")],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120  # a bound on a stuck start (was 30 s, s43)
        while True:
            try:
                urllib.request.urlopen(url + "/", timeout=10).read()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    proc.kill()  # one still starting: its stderr ends only when it does
                    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
                    pytest.fail(f"STAC server did not start: {err}")
                time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def scenes(db: Database) -> dict[str, Any]:
    with db.session(readonly=True) as s:
        return {sc.meta["stac_id"]: sc for sc in repo.list_scenes(s, "yard")}


def test_stac_api_search_registers_intersecting_items_with_metadata(
    stac_api: str, tmp_db_url: str
) -> None:
    from railwatch.stac import ingest_stac

    db = site_db(tmp_db_url)
    summary = ingest_stac(db, "yard", stac_api, collections=["yards"], max_cloud=50)
    got = scenes(db)
    assert sorted(got) == ["a", "c"], summary.as_dict()  # b too cloudy, far outside the site
    assert any("cloud cover 80%" in e["reason"] for e in summary.skipped)
    a = got["a"]
    assert a.uri.startswith("http://127.0.0.1:") and a.uri.endswith("/a.tif")
    assert a.mask_uri is not None and a.mask_uri.endswith("/a.mask.tif")
    assert a.acquired_at == datetime(2023, 10, 1, 2, 13, tzinfo=UTC)
    assert (a.gsd, a.width, a.height, a.band_count, a.crs) == (GSD, SIZE, SIZE, 3, "EPSG:32652")
    assert a.date_source == "stac" and a.sensor == "SkySat-sim"
    assert a.meta["cloud_cover"] == 5.0 and a.meta["off_nadir"] == 12.5
    assert 0.99 <= a.coverage <= 1.0
    # Idempotent; date range narrows the search.
    again = ingest_stac(db, "yard", stac_api, collections=["yards"], max_cloud=50)
    assert not again.ingested and len(again.duplicates) == 2
    ranged = ingest_stac(
        db, "yard", stac_api, since=datetime(2023, 10, 5, tzinfo=UTC),
        until=datetime(2023, 10, 10, tzinfo=UTC),
    )  # fmt: skip
    assert [e["file"] for e in ranged.ingested] == ["yards/b"]


def test_static_catalog_over_http_with_auth_headers_and_range_reads(
    files_server: tuple[str, Path], tmp_db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from railwatch.imagery import site_grid
    from railwatch.imagery.inspect import gdal_path
    from railwatch.stac import gdal_http_env, ingest_stac

    base, root = files_server
    catalog = pystac.Catalog("yards-static", "test catalog")
    for doc in make_items(base, root):
        catalog.add_item(pystac.Item.from_dict(doc))
    catalog.normalize_hrefs(str(root / "catalog"))
    catalog.save(pystac.CatalogType.SELF_CONTAINED)
    monkeypatch.setenv("RAILWATCH_STAC_HEADERS", json.dumps({"Authorization": "Bearer s3cret"}))
    db = site_db(tmp_db_url)
    summary = ingest_stac(db, "yard", f"{base}/catalog/catalog.json")
    assert sorted(scenes(db)) == ["a", "b", "c"], summary.as_dict()
    assert "Bearer s3cret" in RangeHandler.auth  # sent to the catalog and to GDAL
    assert "s3cret" not in json.dumps(summary.as_dict())
    assert all(h == "Bearer s3cret" for h in RangeHandler.auth)
    # Header reads only: far less than the files.
    assert RangeHandler.served.get("a.tif", 0) < (root / "a.tif").stat().st_size / 4
    # A site window read through /vsicurl/ matches the local file, reading a fraction.
    import rasterio
    from rasterio.vrt import WarpedVRT

    uri = scenes(db)["a"].uri
    with db.session(readonly=True) as s:
        geom = repo.get_site(s, "yard").geometry
    grid = site_grid(geom, GSD)
    before = RangeHandler.served.get("a.tif", 0)
    opts = {"crs": grid.crs, "transform": grid.transform, "width": grid.width,
            "height": grid.height}  # fmt: skip
    with gdal_http_env(), rasterio.open(gdal_path(uri)) as src, WarpedVRT(src, **opts) as vrt:
        remote = vrt.read()
    with rasterio.open(root / "a.tif") as src, WarpedVRT(src, **opts) as vrt:
        local = vrt.read()
    np.testing.assert_array_equal(remote, local)
    assert RangeHandler.served["a.tif"] - before < (root / "a.tif").stat().st_size / 2


def test_bad_inputs_are_clear(tmp_db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from railwatch.errors import ConfigError, InputError
    from railwatch.stac import StacError, ingest_stac

    db = site_db(tmp_db_url)
    with pytest.raises(InputError, match="max-cloud"):
        ingest_stac(db, "yard", "http://127.0.0.1:9/", max_cloud=150)
    with pytest.raises(StacError, match="cannot open STAC catalog"):
        ingest_stac(db, "yard", f"http://127.0.0.1:{free_port()}/catalog.json")
    monkeypatch.setenv("RAILWATCH_STAC_HEADERS", "not json")
    with pytest.raises(ConfigError, match="RAILWATCH_STAC_HEADERS"):
        ingest_stac(db, "yard", "http://127.0.0.1:9/")


def test_ingest_stac_then_process_reads_windows_over_http(
    files_server: tuple[str, Path],
    tmp_db_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from railwatch.pipeline import process_site
    from railwatch.stac import ingest_stac
    from test_distributed import FAKE_SOURCE

    (tmp_path / "rw_fake_rects.py").write_text(FAKE_SOURCE)
    monkeypatch.syspath_prepend(str(tmp_path))
    import rw_fake_rects

    base, root = files_server
    catalog = pystac.Catalog("c", "d")
    for doc in make_items(base, root):
        catalog.add_item(pystac.Item.from_dict(doc))
    catalog.normalize_hrefs(str(root / "catalog"))
    catalog.save(pystac.CatalogType.SELF_CONTAINED)
    monkeypatch.setenv("RAILWATCH_STAC_HEADERS", json.dumps({"Authorization": "Bearer x"}))
    db = site_db(tmp_db_url)
    assert len(ingest_stac(db, "yard", f"{base}/catalog/catalog.json").ingested) == 3
    RangeHandler.auth.clear()
    before = dict(RangeHandler.served)
    summary = process_site(db, "yard", detector=rw_fake_rects.BrightRects())
    assert summary.total == 3 and not summary.failed, summary.failed
    assert set(RangeHandler.auth) == {"Bearer x"}  # GDAL sent the headers
    read = RangeHandler.served["a.tif"] - before.get("a.tif", 0)
    assert 0 < read < (root / "a.tif").stat().st_size / 2  # only the site window


def test_cli_ingest_stac(
    stac_api: str, tmp_db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from railwatch.cli.main import main

    site_db(tmp_db_url).dispose()
    capsys.readouterr()
    args = ["--db", tmp_db_url, "ingest-stac", "yard", "--stac", stac_api, "--collection",
            "yards", "--since", "2023-10-01", "--until", "2023-10-08", "--json"]  # fmt: skip
    assert main(args) == 0
    out = json.loads(capsys.readouterr().out)
    assert sorted(e["file"] for e in out["ingested"]) == ["yards/a", "yards/b"]
    assert main([*args[:-1], "--max-cloud", "50"]) == 0
    text = capsys.readouterr().out
    assert "0 new scenes, 1 already there" in text and "cloud cover 80%" in text


def test_cli_ingest_stac_errors_say_what_to_do(
    tmp_db_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A missing file, a folder, bad JSON or a refused connection said what was wrong
    (the library's text, the connection error cut at "[Errno...") but not what to do;
    urllib3 printed a WARNING line for each of its five retries before the error."""
    import logging

    from railwatch.cli.main import main

    site_db(tmp_db_url).dispose()
    monkeypatch.setattr(logging.getLogger("urllib3"), "level", logging.NOTSET)  # restored
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    cases = [
        (tmp_path / "nope.json", "no such file; check the path, or give the URL of a STAC API"),
        (tmp_path, "it is a folder; give the catalog.json (or item JSON) in it"),
        (bad, "not valid JSON (line 1, column 2: Expecting property name"),
        (
            f"http://127.0.0.1:{free_port()}/stac",
            "cannot reach the server (Connection refused); check the URL and the network",
        ),
    ]
    for url, says in cases:
        capsys.readouterr()
        assert main(["--db", tmp_db_url, "ingest-stac", "yard", "--stac", str(url)]) == 1
        err = " ".join(capsys.readouterr().err.split())
        assert f"cannot open STAC catalog {url}: {says}" in err, err
    assert logging.getLogger("urllib3").level == logging.ERROR  # no retry WARNING lines
