"""Walk of ``ingest-stac`` and ``export`` as a GIS analyst (2026-12-07, session 47).

* A server that accepts the connection and never answers (an API root, a static
  catalog's item link, an asset's header) held ``ingest-stac`` forever: no timeout was
  set on pystac-client's, pystac's or GDAL's requests. Each now fails after
  ``stac.HTTP_READ_TIMEOUT_S`` with what happened and what to do.
* An asset on a server without HTTP range requests (``python -m http.server``) said
  "check that it is a GeoTIFF or JPEG 2000 GDAL can open"; it says the server is why.
* An item outside ``--since``/``--until`` said "outside the --since/--until range"; it
  names the bound it misses.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable, Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("pystac")
pytest.importorskip("pystac_client")

from test_stac import make_cog, site_db
from test_stac_qa22_summary import item, write_items

#: How long a call may take before the test calls it a hang (far above the 1 s timeout
#: the tests set; without the fix the calls never return).
HANG_S = 60.0


@pytest.fixture
def silent_server() -> Iterator[str]:
    """``http://127.0.0.1:PORT``: accepts every connection and never answers."""
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except (TimeoutError, OSError):
                continue
            held.append(conn)

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        thread.join(5)
        for conn in held:
            conn.close()
        listener.close()


@pytest.fixture
def short_timeouts(monkeypatch: pytest.MonkeyPatch) -> None:
    import railwatch.stac as stac

    monkeypatch.setattr(stac, "HTTP_READ_TIMEOUT_S", 1.0, raising=False)
    monkeypatch.setattr(stac, "HTTP_CONNECT_TIMEOUT_S", 2.0, raising=False)


def finished(call: Callable[[], Any]) -> Any:
    """``call()``'s result (or its exception, raised here), or a failure when it is
    still waiting after :data:`HANG_S` (it hangs: no timeout)."""
    out: dict[str, Any] = {}

    def run() -> None:
        try:
            out["value"] = call()
        except BaseException as err:
            out["error"] = err

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(HANG_S)
    assert not thread.is_alive(), f"still waiting after {HANG_S:g} s: no timeout"
    if "error" in out:
        raise out["error"]
    return out["value"]


UNANSWERED = "the server accepted the connection but sent nothing for 1 s"


@pytest.mark.usefixtures("short_timeouts")
def test_an_api_root_that_never_answers_is_a_clear_error(
    silent_server: str, tmp_db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from railwatch.cli.main import main

    site_db(tmp_db_url).dispose()
    url = f"{silent_server}/v1"
    capsys.readouterr()
    code = finished(partial(main, ["--db", tmp_db_url, "ingest-stac", "yard", "--stac", url]))
    assert code == 1
    err = " ".join(capsys.readouterr().err.split())
    assert err == (
        f"error: cannot open STAC catalog {url}: {UNANSWERED} (it may be down or "
        "overloaded); run it again later, or check the URL"
    )


@pytest.mark.usefixtures("short_timeouts")
def test_a_static_catalogs_item_on_a_server_that_never_answers_fails_after_the_timeout(
    silent_server: str, tmp_db_url: str, tmp_path: Path
) -> None:
    """Since 2026-12-07 (session 48) a link to another server than the catalog's is left
    out, the catalog's other links read (it stopped the walk: one dead mirror kept every
    other item out; tests/test_leftovers_s48.py)."""
    from railwatch.stac import ingest_stac

    href = f"{silent_server}/item.json"
    catalog = {
        "type": "Catalog", "id": "c", "stac_version": "1.0.0", "description": "d",
        "links": [{"rel": "root", "href": "./catalog.json"}, {"rel": "item", "href": href}],
    }  # fmt: skip
    (tmp_path / "catalog.json").write_text(json.dumps(catalog))
    db = site_db(tmp_db_url)
    summary = finished(partial(ingest_stac, db, "yard", str(tmp_path / "catalog.json")))
    [failed] = summary.failed
    host = silent_server.removeprefix("http://")
    assert failed == {
        "file": href,
        "reason": f"its server {host} accepted the connection but sent nothing for 1 s: this "
        "item was left out and the catalog's other links read; run `railwatch ingest-stac` "
        "again when that server answers (the items registered are kept, and not registered "
        "twice)",
    }


@pytest.mark.usefixtures("short_timeouts")
def test_an_asset_on_a_server_that_never_answers_fails_its_item(
    silent_server: str, tmp_db_url: str, tmp_path: Path
) -> None:
    from railwatch.stac import ingest_stac

    href = f"{silent_server}/a.tif"
    items = write_items(tmp_path / "items.json", [item("a", href)])
    summary = finished(partial(ingest_stac, site_db(tmp_db_url), "yard", items))
    [failed] = summary.failed
    assert failed["reason"].startswith(f"cannot read the header of {href}: ")
    assert failed["reason"].endswith(
        "; the server sent nothing for 1 s (it may be down or overloaded): run `railwatch "
        "ingest-stac` again later, or pick another asset with --asset"
    )


def test_an_asset_on_a_server_without_range_requests_says_so(
    tmp_db_url: str, tmp_path: Path
) -> None:
    """``python -m http.server`` answers a range request with the whole file: GDAL
    refuses it, and the reason said to check that the file is a GeoTIFF."""
    from railwatch.stac import ingest_stac

    root = tmp_path / "www"
    root.mkdir()
    make_cog(root / "a.tif", 1)

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(Quiet, directory=str(root)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        href = f"http://127.0.0.1:{server.server_address[1]}/a.tif"
        items = write_items(tmp_path / "items.json", [item("a", href)])
        summary = ingest_stac(site_db(tmp_db_url), "yard", items)
    finally:
        server.shutdown()
        server.server_close()
    [failed] = summary.failed
    assert "GeoTIFF or JPEG 2000 GDAL can open" not in failed["reason"]
    assert failed["reason"].endswith(
        "; the server does not answer HTTP range requests, which reading a Cloud-Optimized "
        "GeoTIFF over http(s) needs: serve the files from a server that does (object "
        "storage, nginx, Apache; not `python -m http.server`), or give the catalog and its "
        "images as local files, or pick another asset with --asset"
    )


def test_an_item_outside_the_dates_names_the_bound_it_misses(
    tmp_db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from railwatch.cli.main import main

    cog = make_cog(tmp_path / "a.tif", 1)
    items = write_items(tmp_path / "items.json", [item("a", str(cog))])  # 2023-10-01 02:13Z
    site_db(tmp_db_url).dispose()
    reasons = []
    for dates in (["--since", "2023-10-05"], ["--until", "2023-09-30"]):
        capsys.readouterr()
        args = ["--db", tmp_db_url, "ingest-stac", "yard", "--stac", items, "--json", *dates]
        assert main(args) == 0
        [skipped] = json.loads(capsys.readouterr().out)["skipped"]
        reasons.append(skipped["reason"])
    assert reasons == [
        "acquired 2023-10-01 02:13 UTC, before --since 2023-10-05 00:00 UTC",
        "acquired 2023-10-01 02:13 UTC, after --until 2023-09-30 23:59:59 UTC",
    ]


def qa_pixel(path: Path) -> Path:
    """A Landsat-style ``QA_PIXEL``: uint16 bit fields (21824: clear land) over the
    test COG's grid."""
    import numpy as np
    import rasterio
    from affine import Affine

    from test_stac import GSD, ORIGIN, SIZE

    with rasterio.open(
        path, "w", driver="GTiff", width=SIZE, height=SIZE, count=1, dtype="uint16",
        crs="EPSG:32652", transform=Affine(GSD, 0, ORIGIN[0], 0, -GSD, ORIGIN[1]),
    ) as dst:  # fmt: skip
        dst.write(np.full((1, SIZE, SIZE), 21824, np.uint16))
    return path


#: Landsat's qa_pixel asset as stactools and the big catalogs describe it.
QA_ASSET = {
    "type": "image/tiff; application=geotiff; profile=cloud-optimized",
    "roles": ["cloud", "cloud-shadow", "snow-ice", "water-mask"],
    "classification:bitfields": [
        {"name": "fill", "offset": 0, "length": 1, "classes": [{"value": 1, "name": "fill"}]}
    ],
    "raster:bands": [{"data_type": "uint16", "nodata": 1}],
}


def test_a_bit_field_quality_band_is_not_read_as_railwatchs_mask(
    tmp_db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A Landsat ``qa_pixel`` (role ``cloud``) was taken as the quality mask and read as
    codes 0-4: a clear image was unusable, "the quality mask marks over 99 % of the site
    as no data". It is left out, the item's warning says why, and a scene that took it
    before drops it at the next run."""
    from railwatch.cli.main import main
    from railwatch.storage import repo

    cog = make_cog(tmp_path / "a.tif", 1)
    qa = qa_pixel(tmp_path / "a_qa.tif")
    doc = item("a", str(cog))
    doc["assets"]["qa_pixel"] = {"href": str(qa), **QA_ASSET}
    items = write_items(tmp_path / "items.json", [doc])
    db = site_db(tmp_db_url)
    capsys.readouterr()
    assert main(["--db", tmp_db_url, "ingest-stac", "yard", "--stac", items, "--json"]) == 0
    [new] = json.loads(capsys.readouterr().out)["ingested"]
    assert new["warning"] == (
        "its asset 'qa_pixel' is a bit-field mask (classification:bitfields): not read as a "
        "quality mask (railwatch reads one 8-bit band of codes 0 clear, 1 cloud, 2 haze, 3 "
        "snow, 4 shadow, 255 no data, or Planet's 8-band UDM2), so `railwatch process` "
        "estimates the clouds from the pixels"
    )
    with db.session() as s:
        [scene] = repo.list_scenes(s, "yard")
        assert scene.mask_uri is None
        scene.mask_uri = str(qa)  # as registered before session 47: the band as its mask
    capsys.readouterr()
    assert main(["--db", tmp_db_url, "ingest-stac", "yard", "--stac", items, "--json"]) == 0
    [there] = json.loads(capsys.readouterr().out)["duplicates"]
    assert "the item names no quality mask now" in there["reason"]
    assert there["reason"].endswith("estimates the clouds from the pixels")
    with db.session(readonly=True) as s:
        assert repo.list_scenes(s, "yard")[0].mask_uri is None


@pytest.mark.parametrize(
    ("fields", "why"),
    [
        ({"raster:bands": [{"data_type": "uint8"}]}, None),
        ({"raster:bands": [{"data_type": "uint16"}]}, "of data type uint16"),
        ({"bands": [{"data_type": "float32"}]}, "of data type float32"),
        ({"classification:classes": [{"value": 0}, {"value": 1}, {"value": 255}]}, None),
        (
            {"classification:classes": [{"value": v} for v in range(12)]},
            "a classification of its own (classification:classes)",
        ),
        ({}, None),
    ],
)
def test_which_masks_are_of_a_coding_of_their_own(fields: dict[str, Any], why: str | None) -> None:
    import pystac

    from railwatch.stac import _foreign_mask

    asset = pystac.Asset("m.tif", roles=["cloud"], extra_fields=fields)
    assert _foreign_mask(asset) == why


@pytest.mark.parametrize(
    ("fmt", "out", "layer", "says"),
    [
        (
            "geoparquet",
            "d.geojson",
            "detections",
            "use --format geojson, or an --out name ending in .parquet (e.g. d.parquet)",
        ),
        (
            "geojson",
            "d.parquet",
            "scenes",
            "use --format geoparquet, or an --out name ending in .geojson (e.g. d.geojson)",
        ),
        # every layer: a folder, as before
        (
            "geojson",
            "d.parquet",
            None,
            "use --format geoparquet, or an --out folder for the geojson files (e.g. d-geojson)",
        ),
    ],
)
def test_a_layer_file_of_the_wrong_ending_is_told_the_file_name_to_give(
    fmt: str, out: str, layer: str | None, says: str
) -> None:
    """``export -f geoparquet --layer detections -o d.geojson`` was told to give "an --out
    folder for the geoparquet files (e.g. d-geoparquet)", which --layer refuses."""
    from railwatch.errors import InputError
    from railwatch.export.gis import check_suffix

    with pytest.raises(InputError) as caught:
        check_suffix(fmt, Path(out), layer)
    assert str(caught.value).endswith(says)


def test_an_image_without_a_crs_is_told_the_command_that_writes_its_items_crs(
    tmp_db_url: str, tmp_path: Path
) -> None:
    """A TIFF without georeferencing whose item declares ``proj:code`` and
    ``proj:transform`` failed with "has no CRS: it cannot be placed on the site" alone,
    after rasterio's NotGeoreferencedWarning with its source line."""
    import warnings

    import numpy as np
    import rasterio
    from rasterio.errors import NotGeoreferencedWarning

    from railwatch.stac import ingest_stac
    from test_stac import GSD, ORIGIN, SIZE

    tif = tmp_path / "plain.tif"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NotGeoreferencedWarning)
        with rasterio.open(
            tif, "w", driver="GTiff", width=SIZE, height=SIZE, count=3, dtype="uint8"
        ) as dst:
            dst.write(np.zeros((3, SIZE, SIZE), np.uint8))
    doc = item("a", str(tif))
    doc["properties"]["proj:code"] = "EPSG:32652"
    doc["properties"]["proj:transform"] = [GSD, 0, ORIGIN[0], 0, -GSD, ORIGIN[1]]
    other = item("b", str(tif))
    other["id"] = "b"
    items = write_items(tmp_path / "items.json", [doc, other])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        summary = ingest_stac(site_db(tmp_db_url), "yard", items)
    assert not [w for w in caught if issubclass(w.category, NotGeoreferencedWarning)]
    reasons = [f["reason"] for f in summary.failed]
    lrx, lry = ORIGIN[0] + GSD * SIZE, ORIGIN[1] - GSD * SIZE
    assert reasons == [
        f"{tif} has no CRS: it cannot be placed on the site; its item declares EPSG:32652 "
        f"and proj:transform: write them into the file (`gdal_edit.py -a_srs EPSG:32652 "
        f"-a_ullr {ORIGIN[0]:.12g} {ORIGIN[1]:.12g} {lrx:.12g} {lry:.12g} {tif}`), or pick "
        "another asset with --asset",
        f"{tif} has no CRS: it cannot be placed on the site; georeference the file (a "
        "GeoTIFF with its CRS and geotransform, or a .aux.xml or world file beside it), or "
        "pick another asset with --asset",
    ]
