"""Benchmark of the alert rules on simulated count series (issue 5 targets).

Simulates >= 1,000 site-years of counts: irregular revisits (1-8 usable images a
month), 10-40 % unusable scenes, seasonal patterns, natural day-to-day variation
(Poisson on a lognormal level, CV 15 %) and a detector error of 7.5 % (relative,
Gaussian; the middle of the 5-10 % range). Injected events: single-image spikes of
2, 3, 5 and 10x the baseline, sustained level shifts (x1.5, x2, x3, x0.5), drops
(activity stops: x0.05) and Tumangang-like ramps (to x3.6 over 18 days, then stays).

Reports recall per event kind and size, false alarms (alerts of severity >= low)
per site-year on event-free stretches, and delay to the first alert in usable
images, for railwatch and for two naive rules (3-sigma on the trailing mean/std;
trailing maximum alone) in the same run. Thresholds were tuned with ``--seed 7``;
the reported figures use ``--seed 2026`` (the default).

Run: ``python benchmarks/bench_alerts.py [--sites 400] [--years 6] [--seed 2026]
[--no-write]``; writes between ``<!-- alerts:start -->`` and ``<!-- alerts:end -->``
in ``docs/benchmarks.md``.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from railwatch.analysis import AlertSettings, CountPoint, analyze_series

START = datetime(2018, 1, 1, 6, tzinfo=UTC)
DETECTOR_ERROR = 0.075
NATURAL_CV = 0.15
POST_EVENT_DAYS = 180
#: Chance that a site gets no sustained event, a shift, a drop or a ramp.
EVENT_MIX = (0.3, 0.4, 0.15, 0.15)
FIRST_IMAGES = 4  # a sustained event counts as found if alerted within this many images
DOCS = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"
START_MARK, END_MARK = "<!-- alerts:start -->", "<!-- alerts:end -->"


@dataclass(frozen=True)
class Injected:
    kind: str  # spike | shift | drop | ramp
    size: str  # e.g. "3x"
    start: float  # day number (days since START)
    first_index: int  # index of the first usable image affected


@dataclass
class Site:
    days: np.ndarray  # usable image days (float, days since START)
    counts: np.ndarray
    unusable_days: np.ndarray
    events: list[Injected]
    years: float
    level: float


def simulate(rng: np.random.Generator, years: int) -> Site:
    """One site's usable and unusable image days, counts and injected events."""
    level = float(np.exp(rng.uniform(np.log(10), np.log(80))))
    amp = rng.uniform(0.0, 0.3)
    phase = rng.uniform(0, 2 * np.pi)
    unusable_frac = rng.uniform(0.1, 0.4)
    usable_days: list[float] = []
    unusable_days: list[float] = []
    for month in range(12 * years):
        k = int(rng.integers(1, 9))
        total = round(k / (1 - unusable_frac))
        days = np.sort(rng.choice(30, size=min(total, 30), replace=False)) + month * 30.44
        flags = np.zeros(len(days), bool)
        flags[rng.choice(len(days), size=min(k, len(days)), replace=False)] = True
        usable_days += list(days[flags])
        unusable_days += list(days[~flags])
    days = np.array(sorted(usable_days))
    season = 1 + amp * np.sin(2 * np.pi * days / 365.25 + phase)
    mult = np.ones_like(days)
    events: list[Injected] = []
    # one sustained event (or none) in years 2.5 .. years-1
    kind = rng.choice(["none", "shift", "drop", "ramp"], p=EVENT_MIX)
    t0 = rng.uniform(2.5 * 365.25, (years - 1) * 365.25)
    i0 = int(np.searchsorted(days, t0))
    if kind == "shift":
        factor = float(rng.choice([1.5, 2.0, 3.0, 0.5]))
        mult[i0:] = factor
        events.append(Injected("shift", f"{factor:g}x", days[i0], i0))
    elif kind == "drop":
        mult[i0:] = 0.05
        events.append(Injected("drop", "to 5%", days[i0], i0))
    elif kind == "ramp":
        ramp = np.clip((days - days[i0]) / 18.0, 0, 1)
        mult = np.where(days >= days[i0], 1 + 2.6 * ramp, 1.0)
        mult[i0] = max(mult[i0], 1.3)
        events.append(Injected("ramp", "to 3.6x", days[i0], i0))
    # two isolated single-image spikes after the first year, before any sustained event
    # (a spike of 3x a stopped site's few cars is not what the goal is about)
    last = i0 - 3 if kind != "none" else len(days)
    first = int(np.searchsorted(days, 400.0))
    for _ in range(2):
        if last <= first:
            break
        j = int(rng.integers(first, last))
        factor = float(rng.choice([2.0, 3.0, 5.0, 10.0]))
        mult[j] *= factor
        events.append(Injected("spike", f"{factor:g}x", days[j], j))
    lam = level * season * mult * rng.lognormal(-(NATURAL_CV**2) / 2, NATURAL_CV, len(days))
    true = rng.poisson(lam)
    observed = np.maximum(0, np.round(true * (1 + rng.normal(0, DETECTOR_ERROR, len(days)))))
    return Site(days, observed, np.array(sorted(unusable_days)), events, float(years), level)


def to_points(site: Site) -> list[CountPoint]:
    pts = [
        CountPoint(
            when=START + timedelta(days=float(d)),
            count=float(c),
            low=float(np.floor(c * (1 - 2 * DETECTOR_ERROR))),
            high=float(np.ceil(c * (1 + 2 * DETECTOR_ERROR))),
        )
        for d, c in zip(site.days, site.counts, strict=True)
    ]
    pts += [
        CountPoint(when=START + timedelta(days=float(d)), count=None, usable=False)
        for d in site.unusable_days
    ]
    return pts


def railwatch_rule(site: Site, settings: AlertSettings) -> dict[int, set[str]]:
    """Usable-image index -> alert kinds (severity >= low) from railwatch."""
    alerts = analyze_series(to_points(site), settings=settings)
    index = {(START + timedelta(days=float(d))).date(): i for i, d in enumerate(site.days)}
    out: dict[int, set[str]] = defaultdict(set)
    for a in alerts:
        if a.kind == "quality" or a.severity == "info":
            continue
        i = index.get(a.when.date())
        if i is not None:
            out[i].add(a.kind)
    return out


def three_sigma_rule(site: Site, settings: AlertSettings) -> dict[int, set[str]]:
    """Naive: |x - mean| > 3 std of the trailing window (same window, >= 5 images)."""
    out: dict[int, set[str]] = defaultdict(set)
    d, c = site.days, site.counts
    for i in range(len(d)):
        lo = int(np.searchsorted(d, d[i] - settings.baseline_window_days))
        w = c[lo:i]
        if len(w) < 5:
            continue
        m, s = float(w.mean()), float(w.std(ddof=1))
        if s > 0 and abs(c[i] - m) > 3 * s:
            out[i].add("spike" if c[i] > m else "drop")
    return out


def trailing_max_rule(site: Site, settings: AlertSettings) -> dict[int, set[str]]:
    """Naive: count above the maximum of the previous N years (>= 5 images)."""
    out: dict[int, set[str]] = defaultdict(set)
    d, c = site.days, site.counts
    for i in range(5, len(d)):
        lo = int(np.searchsorted(d, d[i] - settings.record_years * 365.25))
        if c[i] > c[lo:i].max():
            out[i].add("record")
    return out


RULES: dict[str, Callable[[Site, AlertSettings], dict[int, set[str]]]] = {
    "railwatch": railwatch_rule,
    "3-sigma (trailing mean/std)": three_sigma_rule,
    "trailing max": trailing_max_rule,
}


@dataclass
class Tally:
    found: int = 0
    total: int = 0
    within2: int = 0
    delays: list[int] | None = None

    def add(self, found: bool, delay: int | None, within2: bool) -> None:
        self.total += 1
        self.found += int(found)
        self.within2 += int(within2)
        if self.delays is None:
            self.delays = []
        if delay is not None:
            self.delays.append(delay)


def score(sites: list[Site], rule_alerts: list[dict[int, set[str]]]) -> dict[str, object]:
    """Recall per kind/size, delays, and false alarms per event-free site-year."""
    tallies: dict[tuple[str, str], Tally] = defaultdict(Tally)
    false_alarms = 0
    free_days = 0.0
    for site, alerts in zip(sites, rule_alerts, strict=True):
        busy = np.zeros(len(site.days), bool)
        for ev in site.events:
            if ev.kind == "spike":
                busy[ev.first_index] = True
                continue
            busy |= (site.days >= ev.start) & (site.days < ev.start + POST_EVENT_DAYS)
            fired = [
                k for k in range(FIRST_IMAGES)
                if ev.first_index + k < len(site.days) and alerts.get(ev.first_index + k)
            ]  # fmt: skip
            shift_k = [
                k for k in range(FIRST_IMAGES)
                if ev.first_index + k < len(site.days)
                and alerts.get(ev.first_index + k, set()) & {"shift", "drop"}
            ]  # fmt: skip
            delay = fired[0] + 1 if fired else None
            within2 = bool(shift_k) and shift_k[0] + 1 <= 2
            tallies[(ev.kind, ev.size)].add(bool(fired), delay, within2)
        for ev in site.events:
            if ev.kind == "spike":
                found = bool(alerts.get(ev.first_index))
                tallies[(ev.kind, ev.size)].add(found, 1 if found else None, False)
        false_alarms += sum(1 for i in alerts if not busy[i])
        # event-free time: the span of the series minus post-event windows
        span = site.years * 365.25
        for ev in site.events:
            if ev.kind != "spike":
                span -= min(POST_EVENT_DAYS, site.years * 365.25 - ev.start)
        free_days += span
    return {
        "tallies": dict(tallies),
        "false_alarms": false_alarms,
        "free_years": free_days / 365.25,
    }


def fmt_table(results: dict[str, dict[str, object]], n_sites: int, years: float) -> str:
    rules = list(results)
    keys = sorted(
        {k for r in results.values() for k in r["tallies"]},  # type: ignore[attr-defined]
        key=lambda k: (["spike", "shift", "drop", "ramp"].index(k[0]), _size_key(k[1])),
    )
    lines = [
        "| event | size | n | " + " | ".join(f"recall: {r}" for r in rules) + " |",
        "|---|---|---|" + "---|" * len(rules),
    ]
    for key in keys:
        cells = []
        n = 0
        for r in rules:
            t = results[r]["tallies"].get(key)  # type: ignore[attr-defined]
            n = t.total
            cells.append(f"{t.found / t.total:.3f}")
        lines.append(f"| {key[0]} | {key[1]} | {n} | " + " | ".join(cells) + " |")
    lines += ["", "| figure | " + " | ".join(rules) + " |", "|---|" + "---|" * len(rules)]
    fa = []
    for r in rules:
        res = results[r]
        fa.append(f"{res['false_alarms'] / res['free_years']:.3f}")  # type: ignore[operator]
    lines.append("| false alarms per event-free site-year | " + " | ".join(fa) + " |")
    for kind in ("shift", "drop", "ramp"):
        med, w2 = [], []
        for r in rules:
            ts = [t for k, t in results[r]["tallies"].items() if k[0] == kind]  # type: ignore[attr-defined]
            delays = [d for t in ts for d in (t.delays or [])]
            med.append(f"{np.median(delays):.1f}" if delays else "-")
            big = [t for k, t in results[r]["tallies"].items()  # type: ignore[attr-defined]
                   if k[0] == kind and _size_key(k[1]) >= 2]  # fmt: skip
            if kind != "shift":
                big = ts
            tot = sum(t.total for t in big)
            w2.append(f"{sum(t.within2 for t in big) / tot:.3f}" if tot else "-")
        lines.append(
            f"| {kind}: median delay to first alert (usable images) | " + " | ".join(med) + " |"
        )
        label = "shift ≥ 2x" if kind == "shift" else kind
        lines.append(
            f"| {label}: shift/drop alert within 2 usable images | " + " | ".join(w2) + " |"
        )
    return "\n".join(lines)


def goals_line(res: dict[str, object]) -> str:
    """The issue's goals next to the measured railwatch figures (pooled over sizes)."""
    tallies: dict[tuple[str, str], Tally] = res["tallies"]  # type: ignore[assignment]

    def pooled(kind: str, sizes: tuple[str, ...], field: str = "found") -> tuple[int, int]:
        ts = [t for k, t in tallies.items() if k[0] == kind and k[1] in sizes]
        return sum(getattr(t, field) for t in ts), sum(t.total for t in ts)

    sp, sp_n = pooled("spike", ("3x", "5x", "10x"))
    s3, s3_n = pooled("spike", ("3x",))
    sh, sh_n = pooled("shift", ("2x", "3x"))
    w2, w2_n = pooled("shift", ("2x", "3x"), "within2")
    fa = float(res["false_alarms"]) / float(res["free_years"])  # type: ignore[arg-type]
    return (
        f"Goals (railwatch, this run): recall for spikes >= 3x (3x, 5x, 10x pooled) "
        f"{sp}/{sp_n} = {sp / sp_n:.3f}, for 3x spikes alone {s3}/{s3_n} = {s3 / s3_n:.3f} "
        f"(goal >= 0.95); for upward shifts >= 2x {sh}/{sh_n} = {sh / sh_n:.3f} (goal >= "
        f"0.95; halvings, 0.5x, in the table); false alarms {fa:.3f} per "
        f"event-free site-year (goal <= 0.2); shifts >= 2x with a shift/drop alert within "
        f"2 usable images {w2}/{w2_n} = {w2 / w2_n:.3f} (goal: all)."
    )


def _size_key(size: str) -> float:
    try:
        return float(size.rstrip("x"))
    except ValueError:
        return 0.0


def _memory_gb() -> str:
    try:
        return f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f}"
    except (ValueError, OSError, AttributeError):
        return "?"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sites", type=int, default=400)
    parser.add_argument("--years", type=int, default=6)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    settings = AlertSettings()
    rng = np.random.default_rng(args.seed)
    t0 = time.perf_counter()
    sites = [simulate(rng, args.years) for _ in range(args.sites)]
    n_images = sum(len(s.days) + len(s.unusable_days) for s in sites)
    n_usable = sum(len(s.days) for s in sites)
    results: dict[str, dict[str, object]] = {}
    timings: dict[str, float] = {}
    for name, rule in RULES.items():
        t = time.perf_counter()
        results[name] = score(sites, [rule(s, settings) for s in sites])
        timings[name] = time.perf_counter() - t
    elapsed = time.perf_counter() - t0
    table = fmt_table(results, args.sites, args.years)
    header = (
        f"Alerts benchmark (`benchmarks/bench_alerts.py --seed {args.seed}`), "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.machine()} "
        f"{os.cpu_count()}-core machine, {_memory_gb()} GB, "
        f"{platform.python_implementation()} {platform.python_version()}, one process: "
        f"{args.sites} sites x {args.years} years = {args.sites * args.years} site-years, "
        f"{n_images} images ({n_usable} usable); detector error {DETECTOR_ERROR:.1%} "
        f"(Gaussian, relative), natural variation Poisson x lognormal CV {NATURAL_CV:.0%}. "
        f"Alert = severity >= low. Thresholds tuned on seed 7, reported on seed {args.seed}. "
        f"Run time {elapsed:.0f} s (railwatch rules {timings['railwatch']:.0f} s)."
    )
    text = header + "\n\n" + table + "\n\n" + goals_line(results["railwatch"])
    print(text)
    if not args.no_write:
        write_docs(text)


def write_docs(text: str) -> None:
    block = f"{START_MARK}\n{text}\n{END_MARK}"
    if DOCS.exists():
        doc = DOCS.read_text()
        if START_MARK in doc and END_MARK in doc:
            before, rest = doc.split(START_MARK, 1)
            _, after = rest.split(END_MARK, 1)
            DOCS.write_text(before + block + after)
            return
        DOCS.write_text(doc.rstrip() + "\n\n## Alerts\n\n" + block + "\n")
    else:
        DOCS.write_text("# Benchmarks\n\n## Alerts\n\n" + block + "\n")


if __name__ == "__main__":
    main()
