"""Bytes `railwatch ingest-stac` reads of a remote COG per item (session 38: the site's
coverage is measured on the pixels over the site, no longer taken from the footprint).

Serves a COG (``--size`` px a side, 0.5 m pixels, 3 bands, 512 px tiles, overviews) on
loopback with HTTP range requests, and ingests one STAC item over it for a site of
``--site`` metres a side at its centre, and one for a site outside the footprint; prints
the bytes served for each ingest and the file's size.

    python benchmarks/bench_stac_ingest_bytes.py --size 8192 --site 400
"""

from __future__ import annotations

import argparse
import json
import tempfile
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import numpy as np
import rasterio
from affine import Affine
from pyproj import Transformer

from railwatch.sites import site_from_bbox
from railwatch.stac import ingest_stac
from railwatch.storage import Database, repo

ORIGIN = (500_000.0, 4_680_000.0)
GSD = 0.5
TO_WGS = Transformer.from_crs("EPSG:32652", "EPSG:4326", always_xy=True)


class _Ranges(SimpleHTTPRequestHandler):
    """Static files with HTTP Range support; counts the bytes served."""

    served = 0

    def log_message(self, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        path = Path(self.translate_path(self.path))
        rng = self.headers.get("Range")
        data = path.read_bytes()
        if rng is None:
            chunk, status = data, 200
        else:
            start_s, _, end_s = rng.removeprefix("bytes=").partition("-")
            start, end = int(start_s), min(int(end_s or len(data) - 1), len(data) - 1)
            chunk, status = data[start : end + 1], 206
        self.send_response(status)
        if status == 206:
            self.send_header("Content-Range", f"bytes {start}-{end}/{len(data)}")
        self.send_header("Content-Length", str(len(chunk)))
        self.end_headers()
        self.wfile.write(chunk)
        type(self).served += len(chunk)


def _cog(path: Path, size: int) -> None:
    import cv2

    rng = np.random.default_rng(1)
    # smooth ground and a little noise: every overview level compresses about alike, as
    # imagery does (deflate to about half)
    ground = rng.integers(40, 200, (size // 16, size // 16, 3), dtype=np.uint8)
    smooth = cv2.resize(ground, (size, size), interpolation=cv2.INTER_LINEAR)
    noise = rng.integers(0, 8, smooth.shape, dtype=np.uint8)
    data = np.moveaxis(smooth + noise, 2, 0)
    with rasterio.open(
        path, "w", driver="COG", width=size, height=size, count=3, dtype="uint8",
        crs="EPSG:32652", transform=Affine(GSD, 0, ORIGIN[0], 0, -GSD, ORIGIN[1]),
        blocksize=512, compress="deflate",
    ) as dst:  # fmt: skip
        dst.write(data)


def _ring(x0: float, y0: float, x1: float, y1: float) -> list[list[float]]:
    corners = ((x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0))
    return [list(TO_WGS.transform(x, y)) for x, y in corners]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=8192, help="COG side in pixels")
    parser.add_argument("--site", type=float, default=400.0, help="site side in metres")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        _cog(root / "a.tif", args.size)
        side = args.size * GSD
        server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_Ranges, directory=str(root)))
        threading.Thread(target=server.serve_forever, daemon=True).start()
        base = f"http://127.0.0.1:{server.server_address[1]}"
        item = {
            "type": "Feature", "stac_version": "1.0.0", "id": "a", "collection": "c",
            "geometry": {"type": "Polygon", "coordinates": [_ring(
                ORIGIN[0], ORIGIN[1] - side, ORIGIN[0] + side, ORIGIN[1])]},
            "properties": {"datetime": "2023-10-01T02:13:00Z", "gsd": GSD},
            "assets": {"image": {"href": f"{base}/a.tif", "type": "image/tiff"}}, "links": [],
        }  # fmt: skip
        (root / "items.json").write_text(
            json.dumps({"type": "FeatureCollection", "features": [item]})
        )
        cx, cy = ORIGIN[0] + side / 2, ORIGIN[1] - side / 2
        h = args.site / 2
        sites = {
            "inside": (cx - h, cy - h, cx + h, cy + h),
            "outside": (cx + side, cy - h, cx + side + 2 * h, cy + h),
        }
        db = Database(f"sqlite:///{root / 'rw.db'}")
        print(f"COG {args.size} px a side, {(root / 'a.tif').stat().st_size:,} bytes")
        for name, (x0, y0, x1, y1) in sites.items():
            (lon0, lat0), (lon1, lat1) = TO_WGS.transform(x0, y0), TO_WGS.transform(x1, y1)
            with db.session() as s:
                repo.add_site(s, site_from_bbox(name, [lon0, lat0, lon1, lat1]))
            _Ranges.served = 0
            summary = ingest_stac(db, name, str(root / "items.json"))
            done = "ingested" if summary.ingested else "skipped"
            coverage = summary.ingested[0]["coverage"] if summary.ingested else None
            print(
                f"site {name} ({args.site:g} m): {done}, coverage {coverage}, "
                f"{_Ranges.served:,} bytes served"
            )
        server.shutdown()
        db.dispose()


if __name__ == "__main__":
    main()
