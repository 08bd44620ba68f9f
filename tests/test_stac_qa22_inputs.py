"""``ingest-stac`` with a bad ``--stac``: empty, a URL without a host, a scheme STAC
catalogs are not read over, a file:// URL of another host; and the last line of a run
where every item failed; an http(s) asset the server refuses or does not have."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("pystac")
pytest.importorskip("pystac_client")

from test_stac import site_db

GIVE = "give the URL of a STAC API root (https://...) or the path of a static catalog.json"


@pytest.mark.parametrize(
    ("url", "code", "says"),
    [
        # An empty --stac read the current folder: "it is a folder; give the catalog.json".
        ("", 2, f"error: --stac is empty: {GIVE}"),
        ("  ", 2, f"error: --stac is empty: {GIVE}"),
        # "no such file": an http URL without a host was read as a file.
        ("http://", 1, f"error: cannot open STAC catalog http://: a URL without a host; {GIVE}"),
        (
            "s3://bucket/catalog.json",
            1,
            "error: cannot open STAC catalog s3://bucket/catalog.json: STAC catalogs are read "
            "over http(s) or from a file, not s3://; give its https:// URL (most buckets serve "
            "one), or download it and give the file",
        ),
        (
            "htp://host/catalog.json",
            1,
            "error: cannot open STAC catalog htp://host/catalog.json: STAC catalogs are read "
            f"over http(s) or from a file, not htp://; {GIVE}",
        ),
        (
            "file://server/catalog.json",
            1,
            "error: cannot open STAC catalog file://server/catalog.json: a file:// URL on "
            "another host (server); give a local path",
        ),
    ],
)
def test_bad_stac_urls_say_what_to_give(
    url: str, code: int, says: str, tmp_db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from railwatch.cli.main import main

    site_db(tmp_db_url).dispose()
    capsys.readouterr()
    assert main(["--db", tmp_db_url, "ingest-stac", "yard", "--stac", url]) == code
    err = " ".join(capsys.readouterr().err.split())
    assert err.startswith(says), err


def test_when_every_item_failed_no_scene_is_said_kept(
    tmp_db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """It said "the 0 new scene(s) are kept"."""
    from railwatch.cli.main import main
    from test_stac_qa22_summary import item

    url = tmp_path / "items.json"
    url.write_text(json.dumps({"type": "FeatureCollection", "features": [item("x", "no.tif")]}))
    site_db(tmp_db_url).dispose()
    capsys.readouterr()
    assert main(["--db", tmp_db_url, "ingest-stac", "yard", "--stac", str(url)]) == 1
    err = " ".join(capsys.readouterr().err.split())
    assert err == (
        "error: 1 of 1 STAC item failed (listed above with the reason); fix what each reason "
        "says and run it again: items already registered are not registered twice"
    )


class StatusHandler(BaseHTTPRequestHandler):
    """Answers every request with the HTTP status its path names (``/403.tif``)."""

    def log_message(self, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self.send_response(int(self.path.strip("/").split(".")[0]))
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_HEAD = do_GET


def test_http_asset_refused_or_missing_says_what_to_do(
    tmp_db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An asset the server refused (401, 403: no credentials, or a signed URL that
    expired) or does not have (404) said "check that it is a GeoTIFF or JPEG 2000 GDAL
    can open"."""
    from railwatch.cli.main import main
    from test_stac_qa22_summary import item

    server = ThreadingHTTPServer(("127.0.0.1", 0), StatusHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        features = [item(code, f"{base}/{code}.tif") for code in ("401", "403", "404")]
        url = tmp_path / "items.json"
        url.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
        site_db(tmp_db_url).dispose()
        capsys.readouterr()
        assert main(["--db", tmp_db_url, "ingest-stac", "yard", "--stac", str(url), "--json"]) == 1
    finally:
        server.shutdown()
        server.server_close()
    reasons = {e["file"]: e["reason"] for e in json.loads(capsys.readouterr().out)["failed"]}
    refused = (
        "the server refused it: set the credentials it needs in RAILWATCH_STAC_HEADERS (a "
        "JSON object of HTTP headers), or, for a signed URL that has expired, search again, "
        "or pick another asset with --asset"
    )
    assert (
        reasons["-/401"]
        == f"cannot read the header of {base}/401.tif: HTTP response code: 401; {refused}"
    )
    assert reasons["-/403"].endswith(f"403; {refused}")
    assert reasons["-/404"].endswith(
        "404; the server has no such file: check the item's asset href, or pick another "
        "asset with --asset"
    )
