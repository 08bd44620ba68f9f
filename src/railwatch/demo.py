"""The built-in demo: the whole pipeline on a simulated scenario (Tumangang by default).

Renders the scenario's imagery (cached under ``Settings.cache_dir``), creates the
site and its events, ingests every scene, detects and counts, analyses the series
and writes the report. Every step is incremental, so a second run only redoes what
changed. Nothing is downloaded.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from railwatch.errors import DetectionError
from railwatch.settings import Settings, get_settings

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from railwatch.analysis.types import Alert
    from railwatch.sim.scenario import Scenario
    from railwatch.storage import Database
    from railwatch.storage.models import Scene

__all__ = [
    "DEMO_DB",
    "DemoAlert",
    "DemoResult",
    "EarlierRun",
    "added_as_of_today",
    "demo_alert_rows",
    "earlier_run",
    "ensure_site",
    "run_demo",
]

#: The demo's database file, in its output folder.
DEMO_DB = "railwatch-demo.db"

#: ``on_stage(stage, done, total)``: progress of the current stage (total 0 = unknown).
#: The report's stage is named by its step, ``report: drawing the chart`` (the report
#: builder's ``on_step``; since 2026-12-06, session 37: the report was ~100 s unreported).
StageCallback = Callable[[str, int, int], None]


class DemoAlert(NamedTuple):
    """One of the site total's alerts, as the demo's summary shows it."""

    when: str  #: the alert's day at the site (ISO), as the CLI, API and report give it
    kind: str
    severity: str
    text: str  #: the whole explanation
    #: the method of the counts it was judged on (``objects`` or ``length``): the two
    #: series are judged apart, each against its own record
    method: str = "objects"


def demo_alert_rows(alerts: Sequence[Alert], utc_offset: timedelta) -> list[DemoAlert]:
    """The site total's alerts as the demo's summary lists them, each dated by its day at
    the site (``utc_offset``, the site's nominal zone; :func:`~railwatch.analysis.events.
    alert_day`): a silence's ``when`` is local midnight, the day before in UTC east of
    Greenwich. Per-class alerts are in the report and ``railwatch alerts``."""
    from railwatch.analysis.events import alert_day

    return [
        DemoAlert(
            alert_day(a.when, utc_offset).isoformat(),
            a.kind,
            a.severity,
            a.explanation,
            str(a.metrics.get("method", "objects")),
        )
        for a in alerts
        if a.cls == "all"
    ]


def added_as_of_today(
    session: Session, site: str, alerts: Sequence[Alert], now: datetime | None = None
) -> list[Alert]:
    """The alerts of ``site`` that analysing it as of ``now`` (default: now), as
    ``railwatch analyze SITE`` does, raises and ``alerts`` (an analysis as of its last
    image, as the demo's) has not: a silence since the last image, "no usable image of
    this site since ..." (nothing is stored). The demo says them, since 2026-12-06
    (session 41): its summary listed the alerts as of its last image (2024-07-28) without
    saying so, and a `railwatch analyze tumangang` after it stored one more, medium, that
    the summary and the README's figures do not have."""
    from railwatch.analysis.store import analyze_site

    have = {a.key for a in alerts}
    when = now if now is not None else datetime.now(UTC)
    fresh = analyze_site(session, site, as_of=when, store=False).alerts
    return [a for a in fresh if a.key not in have]


@dataclass
class DemoResult:
    """What the demo did, for the summary printed by ``railwatch demo``."""

    out_dir: Path
    db_url: str
    site: str
    scenes: int = 0
    counted: int = 0
    unusable: int = 0
    #: Unusable scenes by their main cause ("cloud", "haze", "snow", "partial coverage").
    unusable_causes: dict[str, int] = field(default_factory=dict)
    failed: int = 0
    count_min: float | None = None
    count_max: float | None = None
    count_max_date: str | None = None
    methods: dict[str, int] = field(default_factory=dict)
    alerts: list[DemoAlert] = field(default_factory=list)
    #: The day at the site the alerts are judged as of: the last image's (the demo's
    #: history is simulated up to it), not today as `railwatch analyze` judges them
    as_of: str | None = None
    #: The site total's alerts `railwatch analyze` (as of today) adds to :attr:`alerts`:
    #: the silence since the last image (:func:`added_as_of_today`)
    added_today: list[DemoAlert] = field(default_factory=list)
    report: Path | None = None
    missing: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class EarlierRun:
    """What an earlier run left in the demo's folder (it is continued, not redone)."""

    scenes: int  # scenes of the scenario's site in the database
    counted: int  # of which processed (counted, or judged unusable)


def earlier_run(out_dir: str | Path, *, scenario: str = "tumangang") -> EarlierRun | None:
    """What an earlier ``run_demo`` into ``out_dir`` left (its database, with the site's
    scenes), or None when there is none: a run then starts from nothing."""
    from railwatch.errors import NotFoundError
    from railwatch.storage import Database, repo

    path = Path(out_dir).resolve() / DEMO_DB
    if not path.is_file():
        return None
    db = Database(f"sqlite:///{path}")
    try:
        with db.session() as s:
            try:
                scenes = repo.list_scenes(s, scenario)
            except NotFoundError:
                return EarlierRun(0, 0)
            done = sum(1 for x in scenes if x.status in ("processed", "unusable"))
            return EarlierRun(len(scenes), done)
    finally:
        db.dispose()


def _main_cause(scene: Scene) -> str:
    """Why an unusable scene is unusable, in one word or two: the largest of its cloud,
    haze and snow fractions and the part of the site it does not cover."""
    coverage = scene.quality_coverage if scene.quality_coverage is not None else 1.0
    parts = {
        "cloud": scene.cloud_fraction or 0.0,
        "haze": scene.haze_fraction or 0.0,
        "snow": scene.snow_fraction or 0.0,
        "partial coverage": 1.0 - coverage,
    }
    cause, share = max(parts.items(), key=lambda kv: kv[1])
    return cause if share > 0.0 else "other"


def ensure_site(db: Database, scenario: Scenario) -> None:
    """Create the scenario's site and events unless they exist already."""
    from railwatch.errors import NotFoundError
    from railwatch.sites import SiteSpec
    from railwatch.storage import repo

    with db.session() as s:
        try:
            repo.get_site(s, scenario.name)
        except NotFoundError:
            repo.add_site(
                s,
                SiteSpec(
                    name=scenario.name,
                    geometry=scenario.aoi,
                    description=scenario.description,
                    tags=("demo", "simulated"),
                    tracks=scenario.tracks_wgs84(),
                ),
            )
        # labels compared as the repository compares those of one day (letter case and
        # surrounding spaces aside): an event the user renamed "kim–putin summit" is the
        # demo's "Kim–Putin summit", which add_event would refuse as a duplicate
        known = {(e.date, _event_key(e.label)) for e in repo.list_events(s, scenario.name)}
        for when, label in scenario.events:
            if (when, _event_key(label)) not in known:
                repo.add_event(s, scenario.name, when, label)


def _event_key(label: str) -> str:
    """A label as two of one day are compared: casefolded and stripped."""
    return label.strip().casefold()


def run_demo(
    out_dir: str | Path = "railwatch-demo",
    *,
    scenario: str = "tumangang",
    settings: Settings | None = None,
    workers: int = 2,
    on_stage: StageCallback | None = None,
) -> DemoResult:
    """Run the whole pipeline on a built-in scenario; see the module docs."""
    from railwatch.analysis.events import local_day
    from railwatch.analysis.series import as_utc
    from railwatch.analysis.store import analyze_site, site_utc_offset
    from railwatch.ingest import ingest_paths
    from railwatch.pipeline import process_site
    from railwatch.sim.io import prepare_out_dir
    from railwatch.sim.scenario import get_scenario, render_scenario
    from railwatch.storage import Database, repo

    settings = settings or get_settings()
    sc = get_scenario(scenario)  # an unknown name creates no folder
    # A file named so, or a read-only folder, is said now, not after rendering.
    out = prepare_out_dir(Path(out_dir).resolve())
    db_url = f"sqlite:///{out / DEMO_DB}"
    result = DemoResult(out_dir=out, db_url=db_url, site=sc.name)

    def stage(name: str) -> Callable[[int, int], None]:
        def report(done: int, total: int) -> None:
            if on_stage is not None:
                on_stage(name, done, total)

        return report

    t0 = time.perf_counter()
    imagery_dir = Path(settings.cache_dir) / "scenarios" / sc.name
    paths = render_scenario(sc, imagery_dir, progress=stage("render"), workers=workers)
    result.timings["render"] = time.perf_counter() - t0

    db = Database(db_url)
    ensure_site(db, sc)
    t0 = time.perf_counter()
    ingest_report = stage("ingest")
    summary = ingest_paths(
        db,
        sc.name,
        [p.image for p in paths],
        on_file=lambda i, n, _p: ingest_report(i, n),
    )
    ingest_report(len(paths), len(paths))  # complete, counted in files (was shown as 1/1)
    result.scenes = len(summary.ingested) + len(summary.duplicates)
    result.failed = len(summary.failed) + len(summary.skipped)
    result.timings["ingest"] = time.perf_counter() - t0

    from railwatch.detect.registry import get_detector

    try:
        detector = get_detector("default")
    except DetectionError as err:
        result.missing.append(f"detection: {err}")
        return result

    t0 = time.perf_counter()
    process_report = stage("detect")
    reported = [0]

    def on_progress(i: int, n: int, _u: object) -> None:
        reported[0] = n
        process_report(i, n)

    process_site(
        db,
        sc.name,
        detector=detector,
        usable_threshold=settings.usable_threshold,
        on_progress=on_progress,
    )
    if not reported[0]:  # every scene up to date (a re-run): not "0/?"
        process_report(result.scenes, result.scenes)
    result.timings["detect"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    with db.session() as s:
        analysis = analyze_site(s, sc.name)
        zone = site_utc_offset(repo.get_site(s, sc.name))
        scenes = repo.list_scenes(s, sc.name)
        result.counted = sum(1 for x in scenes if x.status == "processed")
        unusable = [x for x in scenes if x.status == "unusable"]
        result.unusable = len(unusable)
        for x in unusable:
            cause = _main_cause(x)
            result.unusable_causes[cause] = result.unusable_causes.get(cause, 0) + 1
        result.failed += sum(1 for x in scenes if x.status == "failed")
        series = repo.count_series(s, sc.name)
        points = [p for p in series if p.count is not None]
        if series:  # the end of the analysis without an as-of: the last image
            result.as_of = local_day(as_utc(max(p.when for p in series)), zone).isoformat()
        added = added_as_of_today(s, sc.name, analysis.alerts)
    if points:
        lo = min(points, key=lambda p: p.count or 0.0)
        hi = max(points, key=lambda p: p.count or 0.0)
        result.count_min, result.count_max = lo.count, hi.count
        # days at the site, as the CLI, the API and the report date them
        result.count_max_date = local_day(as_utc(hi.when), zone).isoformat()
        for p in points:
            result.methods[p.method] = result.methods.get(p.method, 0) + 1
    # The site total's alerts; per-class alerts are in the report and `railwatch alerts`.
    result.alerts = demo_alert_rows(analysis.alerts, zone)
    result.added_today = demo_alert_rows(added, zone)
    result.timings["analyze"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    from railwatch.report.builder import build_report

    def on_report_step(step: str, done: int, total: int) -> None:
        if on_stage is not None:
            on_stage(f"report: {step}", done, total)

    result.report = build_report(
        db, sc.name, out / f"{sc.name}-report.html", on_step=on_report_step
    )
    result.timings["report"] = time.perf_counter() - t0
    return result
