"""Time the dashboard's ``GET /api/sites/{site}/baseline`` on a long series.

Builds a site of SCENES images over six years (``tests/web_db.populate_many``, as
``bench_web.py``; about 160 s for 10,000 on a loaded 2-core VM), or reuses the database
``--db`` names when it exists, then asks for the site total's baseline ``--runs`` times
and prints the fastest and median wall and CPU times and the SHA-256 of the answer's body
(``--save FILE`` writes the body), so that two versions of the code can be compared on
one database, their answers byte for byte:

    .venv/bin/python benchmarks/bench_baseline_api.py 10000 --db /tmp/b10k.db
    PYTHONPATH=<older tree>/src .venv/bin/python benchmarks/bench_baseline_api.py \\
        10000 --db /tmp/b10k.db

``--site NAME`` asks of another site of an existing database (the demo's ``tumangang``).
"""

from __future__ import annotations

import argparse
import hashlib
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenes", type=int, nargs="?", default=10_000)
    parser.add_argument("--db", type=Path, help="database file to build, or reuse when there")
    parser.add_argument("--site", default="bench", help="the site to ask of (default bench)")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--save", type=Path, help="write the answer's body here")
    args = parser.parse_args()

    from fastapi.testclient import TestClient

    import railwatch
    from railwatch.settings import Settings
    from railwatch.storage import Database
    from railwatch.web.app import create_app

    tmp = Path(tempfile.mkdtemp(prefix="rwbase-"))
    path = args.db or tmp / "b.db"
    db = Database(f"sqlite:///{path}")
    if not path.exists() or path.stat().st_size == 0:
        from web_db import populate_many

        t = time.perf_counter()
        populate_many(db, tmp, n_scenes=args.scenes, n_dets=10, site=args.site)
        print(f"built {args.scenes} scenes in {time.perf_counter() - t:.0f} s")
    client = TestClient(create_app(Settings(db=db.url, cache_dir=tmp), db))
    url = f"/api/sites/{args.site}/baseline"
    first = client.get(url)
    if first.status_code != 200:
        raise SystemExit(f"GET {url}: {first.status_code} {first.text}")
    walls, cpus = [], []
    body = first.content
    for _ in range(args.runs):
        t, c = time.perf_counter(), time.process_time()
        body = client.get(url).content
        walls.append(time.perf_counter() - t)
        cpus.append(time.process_time() - c)
    if args.save is not None:
        args.save.write_bytes(body)
    print(
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, railwatch from "
        f"{Path(railwatch.__file__).parent}: GET {url} ({len(first.json()['items'])} "
        f"points), {args.runs} runs: wall {min(walls):.2f} s fastest, "
        f"{statistics.median(walls):.2f} s median; CPU {min(cpus):.2f} s fastest, "
        f"{statistics.median(cpus):.2f} s median; body sha256 "
        f"{hashlib.sha256(body).hexdigest()[:16]}"
    )
    db.dispose()


if __name__ == "__main__":
    main()
