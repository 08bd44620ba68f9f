"""``read_site_window`` on a remote scene that cannot be read: an s3:// scene without
credentials, or an http(s) one the server refuses (403) or no longer has (404), was
reported as "X is corrupt or truncated ...: re-download or re-export it", which sends
the analyst after a file that is fine. It now names the HTTP status, or the
credentials GDAL needs for the bucket."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from rasterio.errors import RasterioIOError

from imagery_helpers import image_box_wgs84
from railwatch.errors import ImageryError
from railwatch.imagery import CorruptImageError, read_site_window, site_grid
from railwatch.imagery import read as read_module


class StatusHandler(BaseHTTPRequestHandler):
    """Answers GET /CODE.tif with HTTP status CODE and no body."""

    def log_message(self, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self.send_response(int(self.path.strip("/").split(".")[0]))
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_HEAD = do_GET


@pytest.fixture
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), StatusHandler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


GRID = site_grid(image_box_wgs84(0, 0, 40, 40), 0.5)


def test_http_refused_or_missing_names_the_status_and_what_to_do(server: str) -> None:
    with pytest.raises(ImageryError) as err:
        read_site_window(f"{server}/403.tif", GRID)
    msg = str(err.value)
    assert not isinstance(err.value, CorruptImageError) and "corrupt" not in msg
    assert msg.startswith(f"cannot read {server}/403.tif: the server refused it (HTTP 403)")
    assert "RAILWATCH_STAC_HEADERS" in msg and "signed URL that has expired" in msg

    with pytest.raises(ImageryError) as err:
        read_site_window(f"{server}/404.tif", GRID)
    assert str(err.value).startswith(
        f"cannot read {server}/404.tif: the server has no such file (HTTP 404)"
    )
    assert "corrupt" not in str(err.value)


def test_s3_without_credentials_names_the_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """GDAL's own message for an s3 read without credentials (no network is needed to
    get it, but GDAL may look for an instance profile first: faked here)."""
    gdal_says = (
        "AWS_SECRET_ACCESS_KEY and AWS_NO_SIGN_REQUEST configuration options not defined, "
        "and /root/.aws/credentials not filled"
    )

    def refuse(path: Any, *args: Any, **kw: Any) -> Any:
        assert str(path) == "/vsis3/bucket/scenes/a.tif"
        raise RasterioIOError(gdal_says)

    monkeypatch.setattr(read_module.rasterio, "open", refuse)
    with pytest.raises(ImageryError) as err:
        read_site_window("s3://bucket/scenes/a.tif", GRID)
    msg = str(err.value)
    assert not isinstance(err.value, CorruptImageError) and "corrupt" not in msg
    assert msg.startswith(f"cannot read s3://bucket/scenes/a.tif ({gdal_says})")
    assert "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY" in msg
    assert "AWS_NO_SIGN_REQUEST=YES for a public bucket" in msg


def test_a_remote_file_that_is_not_an_image_is_still_said_to_be_corrupt(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(path: Any, *args: Any, **kw: Any) -> Any:
        raise RasterioIOError(f"'{path}' not recognized as a supported file format.")

    monkeypatch.setattr(read_module.rasterio, "open", broken)
    with pytest.raises(CorruptImageError, match=r"a\.tif is corrupt or truncated"):
        read_site_window("https://example.invalid/a.tif", GRID)
