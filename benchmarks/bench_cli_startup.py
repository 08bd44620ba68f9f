"""How long ``railwatch`` takes to start: ``--version``, ``--help`` and ``site list`` on
an empty database (in a temporary folder), then ``site list``, ``alerts`` and ``event
list`` on a database with one site and one event (since session 39), each run RUNS
times in a fresh process; prints the median wall time and CPU time (user + system) of
each, and the heavy packages each run imported.

``--before SRC`` runs the same with another tree's ``src`` first on ``PYTHONPATH`` (a
``git worktree`` of an older commit), alternating the two run by run so that the load
of a shared machine falls on both alike.

    .venv/bin/python benchmarks/bench_cli_startup.py [--runs 5] [--before /path/to/tree/src]
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from time import perf_counter

#: What the console script runs (pyproject.toml's [project.scripts]); the modules the
#: run imported are written to the file RW_MODULES names.
PROBE = """
import os, sys
sys.argv[0] = "railwatch"
from railwatch.cli.main import main
try:
    code = main()
finally:
    with open(os.environ["RW_MODULES"], "w") as file:
        file.write("\\n".join(sorted(sys.modules)))
sys.exit(code)
"""
HEAVY = ("numpy", "sqlalchemy", "alembic", "shapely", "pyproj", "cv2", "scipy", "rasterio")
HEAVY += ("onnxruntime", "matplotlib", "torch", "pydantic")


def _run(src: str | None, args: list[str], cwd: Path) -> tuple[float, float, list[str]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAILWATCH_")}
    if src is not None:
        env["PYTHONPATH"] = src
    env["RW_MODULES"] = str(cwd / "modules.txt")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = perf_counter()
    run = subprocess.run(
        [sys.executable, "-c", PROBE, *args], capture_output=True, text=True, cwd=cwd, env=env
    )
    wall = perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if run.returncode != 0:
        raise SystemExit(f"railwatch {' '.join(args)} failed ({run.returncode}): {run.stderr}")
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    modules = set((cwd / "modules.txt").read_text().split())
    return wall, cpu, [name for name in HEAVY if name in modules]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="runs of each command (default 5)")
    parser.add_argument("--before", help="another tree's src folder to measure alongside")
    args = parser.parse_args()
    trees: dict[str, str | None] = {"this tree": None}
    if args.before:
        trees = {"before": args.before, "this tree": None}

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        db = f"sqlite:///{folder / 'railwatch.db'}"
        subprocess.run(
            [sys.executable, "-c", f"from railwatch.storage.db import Database; Database({db!r})"],
            check=True,
        )
        yard = f"sqlite:///{folder / 'yard.db'}"
        for setup in (
            ["site", "add", "yard", "--bbox", "8.58,47.52,8.60,47.54"],
            ["event", "add", "yard", "2024-03-01", "summit"],
        ):
            subprocess.run(
                [sys.executable, "-m", "railwatch.cli.main", "--db", yard, *setup],
                check=True,
                capture_output=True,
            )
        commands = {
            "--version": ["--version"],
            "--help": ["--help"],
            "site list (empty db)": ["--db", db, "site", "list"],
            "site list (1 site)": ["--db", yard, "site", "list"],
            "alerts (1 site)": ["--db", yard, "alerts"],
            "event list (1 site)": ["--db", yard, "event", "list", "yard"],
        }
        print(
            f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
            f"load average {os.getloadavg()[0]:.1f}; median of {args.runs} runs"
        )
        for label, command in commands.items():
            results: dict[str, list[tuple[float, float, list[str]]]] = {t: [] for t in trees}
            for _ in range(args.runs):
                for tree, src in trees.items():
                    results[tree].append(_run(src, command, folder))
            for tree, runs in results.items():
                wall = statistics.median(r[0] for r in runs)
                cpu = statistics.median(r[1] for r in runs)
                heavy = ", ".join(runs[-1][2]) or "none"
                print(
                    f"{label:22s} {tree:10s} wall {wall:5.2f} s  cpu {cpu:5.2f} s  "
                    f"heavy packages imported: {heavy}"
                )


if __name__ == "__main__":
    main()
