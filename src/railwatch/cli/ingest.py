"""``railwatch ingest``: register image files of a site (one scene per distinct file)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from shapely.geometry.base import BaseGeometry

from railwatch.cli._common import console, print_json, progress_bar
from railwatch.cli.site import open_db
from railwatch.errors import ImageryError, InputError, RailwatchError
from railwatch.storage import Database, repo

log = logging.getLogger(__name__)

_MAX_DUPLICATES_SHOWN = 20


@dataclass
class IngestSummary:
    """What happened to each file of one ``ingest`` run."""

    site: str
    ingested: list[dict[str, Any]] = field(default_factory=list)
    duplicates: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[dict[str, Any]] = field(default_factory=list)
    failed: list[dict[str, Any]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """At least one file is in the database (new or already there)."""
        return bool(self.ingested or self.duplicates)

    def as_dict(self) -> dict[str, Any]:
        return {
            "site": self.site,
            "ingested": self.ingested,
            "duplicates": self.duplicates,
            "skipped": self.skipped,
            "failed": self.failed,
        }


def parse_date_option(text: str | None) -> datetime | None:
    """``--date`` as an aware UTC datetime (a date alone is midnight UTC)."""
    if text is None:
        return None
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError as err:
        raise InputError(
            f"--date {text!r} is not ISO 8601: give e.g. 2023-10-05 or 2023-10-05T02:13:00Z"
        ) from err
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def ingest(
    ctx: typer.Context,
    site: Annotated[str, typer.Argument(help="Site name (see `railwatch site list`).")],
    paths: Annotated[
        list[Path],
        typer.Argument(
            help="GeoTIFF/COG files, or folders to search for them.", show_default=False
        ),
    ],
    date: Annotated[
        str | None,
        typer.Option(
            "--date",
            help="Acquisition time (ISO 8601, UTC unless a zone is given) for files whose "
            "metadata and name carry none.",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON summary.")] = False,
) -> None:
    """Register image files of a site: each distinct file (by content hash) is one scene.

    Files that do not overlap the site are skipped; a bad file never stops the
    batch: bad files are listed at the end with their reason. Exit status is 0
    when at least one file is recorded (new or already there), 1 otherwise.
    """
    from railwatch.imagery import scan_paths

    when = parse_date_option(date)
    db = open_db(ctx)
    with db.session(readonly=True) as s:
        row = repo.get_site(s, site)
        site_name, site_geom, site_area_m2 = row.name, row.geometry, row.area_km2 * 1e6

    summary = IngestSummary(site=site_name)
    existing = [p for p in paths if p.exists()]
    for p in paths:
        if not p.exists():
            summary.failed.append({"file": str(p), "reason": "no such file or folder"})
    files = scan_paths(existing) if existing else []
    if not files and not summary.failed:
        raise InputError(
            "no image files found in "
            + ", ".join(str(p) for p in paths)
            + ": ingest reads GeoTIFF/COG files (.tif, .tiff)"
        )

    with progress_bar(transient=as_json) as bar:
        task = bar.add_task(f"Ingesting into {site_name}", total=len(files))
        for path in files:
            bar.update(task, description=f"Ingesting {escape(path.name)}")
            _ingest_one(db, summary, path, when, site_geom, site_area_m2)
            bar.advance(task)
        bar.update(task, description=f"Ingested into {site_name}")

    if as_json:
        print_json(summary.as_dict())
    else:
        _report(summary)
    if not summary.ok:
        n = len(summary.skipped) + len(summary.failed)
        what = "the file was" if n == 1 else f"all {n} files were"
        raise ImageryError(
            f"nothing ingested: {what} unreadable or outside site {site_name} (listed above)"
        )


def _ingest_one(
    db: Database,
    summary: IngestSummary,
    path: Path,
    when: datetime | None,
    site_geom: BaseGeometry,
    site_area_m2: float,
) -> None:
    """Inspect and record one file, filing the outcome in ``summary``; never raises."""
    from railwatch.imagery import inspect_scene, site_coverage

    name = str(path)
    try:
        info = inspect_scene(path, date=when)
        coverage = float(site_coverage(info.footprint, site_geom))
        if coverage * site_area_m2 < info.gsd * info.gsd:
            summary.skipped.append(
                {"file": name, "reason": f"does not overlap site {summary.site} (0 pixels)"}
            )
            return
        with db.session() as s:
            scene, created = repo.add_scene(s, summary.site, info, coverage)
            entry = {
                "file": name,
                "scene_id": scene.id,
                "acquired_at": scene.acquired_at.isoformat(),
                "date_source": scene.date_source,
                "coverage": round(scene.coverage, 4),
                "gsd": scene.gsd,
            }
        if created:
            summary.ingested.append(entry)
        else:
            entry["reason"] = f"already ingested as scene {entry['scene_id']}"
            summary.duplicates.append(entry)
    except RailwatchError as err:
        summary.failed.append({"file": name, "reason": str(err)})
    except Exception as err:  # one bad file never fails the batch
        log.debug("unexpected error ingesting %s", name, exc_info=True)
        summary.failed.append(
            {"file": name, "reason": f"unexpected error: {type(err).__name__}: {err}"}
        )


def _s(n: int) -> str:
    return "" if n == 1 else "s"


def _report(summary: IngestSummary) -> None:
    n_new, n_dup = len(summary.ingested), len(summary.duplicates)
    n_skip, n_bad = len(summary.skipped), len(summary.failed)
    console.print(
        f"Ingested {n_new} new scene{_s(n_new)} into [bold]{escape(summary.site)}[/]"
        f" ({n_dup} already ingested, {n_skip} not overlapping the site, "
        f"{n_bad} bad file{_s(n_bad)}).",
        highlight=False,
    )
    for d in summary.duplicates[:_MAX_DUPLICATES_SHOWN]:
        console.print(
            f"  already ingested: {escape(d['file'])} (scene {d['scene_id']})", highlight=False
        )
    if n_dup > _MAX_DUPLICATES_SHOWN:
        console.print(f"  ... and {n_dup - _MAX_DUPLICATES_SHOWN} more already ingested")
    problems = summary.skipped + summary.failed
    if problems:
        console.print(f"Not ingested ({len(problems)}):", highlight=False)
        for d in problems:
            console.print(
                f"  {escape(d['file'])}: {escape(d['reason'])}", highlight=False, soft_wrap=True
            )


def register(root: typer.Typer) -> None:
    """Add ``ingest`` to the ``railwatch`` command."""
    root.command("ingest")(ingest)
