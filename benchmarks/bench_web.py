"""Web API and dashboard speed on a long series with thousands of detections per scene.

Builds a site with SCENES images over six years (every one pointing at the same tiny
GeoTIFF), DETS detections on each of the last 10 images, then times the API calls the
site page makes and, when Chromium and Playwright are present, the page itself.

    .venv/bin/python benchmarks/bench_web.py [SCENES] [DETS]
"""

from __future__ import annotations

import socket
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from railwatch.storage import Database
from web_db import populate_many


def main() -> None:
    n_scenes = int(sys.argv[1]) if len(sys.argv) > 1 else 300
    n_dets = int(sys.argv[2]) if len(sys.argv) > 2 else 3000
    from fastapi.testclient import TestClient

    from railwatch.settings import Settings
    from railwatch.web.app import create_app

    tmp = Path(tempfile.mkdtemp(prefix="rwbench-"))
    db = Database(f"sqlite:///{tmp / 'b.db'}")
    t = time.perf_counter()
    ids = populate_many(db, tmp, n_scenes=n_scenes, n_dets=n_dets, site="bench")
    print(f"built {n_scenes} scenes, {10 * n_dets} detections in {time.perf_counter() - t:.1f} s")
    app = create_app(Settings(db=db.url, cache_dir=tmp), db)
    c = TestClient(app)
    for label, url in [
        ("site", "/api/sites/bench"),
        ("scenes (all, footprints)", "/api/sites/bench/scenes?footprint=true&limit=1000"),
        ("counts", "/api/sites/bench/counts"),
        (f"detections ({n_dets})", f"/api/scenes/{ids[-1]}/detections?limit=50000"),
    ]:
        c.get(url)
        times = []
        for _ in range(3):
            t = time.perf_counter()
            r = c.get(url)
            times.append(time.perf_counter() - t)
        print(f"GET {label}: {min(times) * 1000:.0f} ms, {len(r.content) / 1024:.0f} KiB")
    page_timing(app, ids, n_dets)


def page_timing(app: object, ids: list[int], n_dets: int) -> None:
    try:
        import uvicorn
        from playwright.sync_api import sync_playwright
    except ImportError:
        print("playwright not installed: page timing skipped")
        return
    with socket.socket() as sk:
        sk.bind(("127.0.0.1", 0))
        port = sk.getsockname()[1]
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))  # type: ignore[arg-type]
    threading.Thread(target=srv.run, daemon=True).start()
    while not srv.started:
        time.sleep(0.05)
    args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run"]  # fmt: skip
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=args)
        page = b.new_page(viewport={"width": 1400, "height": 900})
        t = time.perf_counter()
        page.goto(f"http://127.0.0.1:{port}/sites/bench")
        page.wait_for_selector("body[data-ready='1']", timeout=120_000)
        print(f"site page ready (latest image with {n_dets} detections drawn): "
              f"{(time.perf_counter() - t) * 1000:.0f} ms")  # fmt: skip
        times, fetches = [], []
        for k in range(2, 6):
            t = time.perf_counter()
            page.click(f"button.scene[data-scene='{ids[-k]}']")
            page.wait_for_function(
                f"document.getElementById('det-count').textContent.includes('{n_dets} detections')"
            )
            page.evaluate("() => new Promise(requestAnimationFrame)")
            times.append(time.perf_counter() - t)
            fetches.append(page.evaluate(
                "() => ['rw:detections-load', 'rw:detections-draw'].map("
                "(n) => performance.getEntriesByName(n).pop().duration)"
            ))  # fmt: skip
        med = sorted(times)[len(times) // 2]
        load = sorted(f[0] for f in fetches)[len(fetches) // 2]
        draw = sorted(f[1] for f in fetches)[len(fetches) // 2]
        print(f"step to another image and draw its {n_dets} detections: median {med * 1000:.0f} ms "
              f"(in the page: request, download and JSON parse {load:.0f} ms, "
              f"draw {draw:.0f} ms)")  # fmt: skip
        b.close()
    srv.should_exit = True


if __name__ == "__main__":
    main()
