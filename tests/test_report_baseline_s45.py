"""The report's baselines are the ones the analysis judged each image with (session 45).

The alert loop (``analysis.alerts.count_alerts``) judges each image against a baseline
that restarts after a raised level shift (the new level is the baseline from there on,
once it has ``regime_min_points`` images), is deseasonalised by month factors once the
history is long enough, and has the series' own noise in its spread. The report
recomputed a plain median of its own: on a Tumangang-like series the shift alert said
"the new level is the baseline from here on" while the headline said "Baseline 15" and
the chart's band stayed at the old level. Now the chart's band, the headline's baseline
(and why there is none) and the evidence's baseline come from
``analysis.alerts.baseline_trace``, the same loop as the alerts, whose alerts are
unchanged.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from railwatch.analysis.alerts import analyze_series, baseline_trace, count_alerts
from railwatch.analysis.baseline import robust_baseline
from railwatch.analysis.series import CountSeries, at_site, build_series, split_by_method
from railwatch.analysis.settings import AlertSettings
from railwatch.analysis.types import Alert, CountPoint
from railwatch.report.builder import _headline
from railwatch.report.data import (
    baseline_track,
    judged_baselines,
    no_baseline_reason,
    no_headline_baseline_reason,
    spread_at,
)
from railwatch.report.model import SceneRow

T0 = datetime(2020, 1, 3, 2, 30, tzinfo=UTC)
UTC9 = timedelta(hours=9)


def _row(k: int, day: float, total: float, offset: timedelta = UTC9) -> SceneRow:
    low, high = round(total * 0.85), round(total * 1.2) + 1
    return SceneRow(
        scene_id=k, when=T0 + timedelta(days=day), sensor=None, gsd=0.5, usable=True,
        total=total, low=float(low), high=float(high), method="objects", utc_offset=offset,
    )  # fmt: skip


def _points(rows: list[SceneRow]) -> list[CountPoint]:
    """The rows as the analysis reads them from storage (``repo.count_series``)."""
    return [
        CountPoint(
            when=r.when,
            count=r.total,
            low=r.low,
            high=r.high,
            method="objects",
            scene_id=r.scene_id,
            gsd=r.gsd,
        )
        for r in rows
    ]


def _alerts(rows: list[SceneRow]) -> list[Alert]:
    return analyze_series(_points(rows), utc_offset=rows[0].utc_offset)


def shifted() -> list[SceneRow]:
    """Two years of 8-12 cars every 9 days, then 40 cars for good (a raised shift), then
    one image at 4 cars (a drop against the new level)."""
    rng = np.random.default_rng(45)
    rows = [_row(k, 9 * k, float(rng.integers(8, 13))) for k in range(80)]
    rows += [_row(80 + k, 720 + 9 * k, float(38 + k % 5)) for k in range(12)]
    rows.append(_row(200, 720 + 9 * 12, 4.0))
    return rows


def test_the_new_level_has_no_baseline_until_it_has_images_enough() -> None:
    rows = shifted()
    (shift,) = [a for a in _alerts(rows) if a.kind == "shift" and a.severity != "info"]
    assert "the new level is the baseline from here on" in shift.explanation
    cfg = AlertSettings()
    track = baseline_track(rows)
    by_id = {r.scene_id: b for r, b in zip(rows, track, strict=True)}
    raised = next(r for r in rows if r.scene_id == shift.scene_id)
    after = [r for r in rows if r.when > raised.when]
    # the images of the new level before it has regime_min_points of its own: no baseline
    # (the old report kept the old level's median there, about 10 cars)
    young = [r for r in after if by_id[r.scene_id].centre is None]
    assert young and young == after[: len(young)]
    assert len(young) <= cfg.regime_min_points
    latest = young[-1]
    h = _headline("s", (None, None), rows[: rows.index(latest) + 1], track, [])
    assert h.baseline is None
    why = no_headline_baseline_reason(rows, latest)
    assert why.startswith("a new level since the shift from ")
    assert f"raised on {raised.day}" in why
    assert why.endswith(f"before this one; a baseline needs {cfg.regime_min_points}")
    assert h.no_baseline == why
    # then the new level's: near 40, no longer the old level's 10
    settled = [by_id[r.scene_id] for r in after[len(young) :] if r.total and r.total > 30]
    assert settled and all(b.centre is not None and 36 <= b.centre <= 42 for b in settled)


def test_the_report_baseline_is_the_one_the_drop_was_judged_against() -> None:
    rows = shifted()
    (drop,) = [a for a in _alerts(rows) if a.kind == "drop"]
    assert drop.scene_id == 200
    (point,) = [b for r, b in zip(rows, baseline_track(rows), strict=True) if r.scene_id == 200]
    assert point.centre is not None and point.high is not None
    assert round(point.centre, 3) == drop.metrics["baseline"]
    assert round((point.high - point.centre) / 2.0, 3) == drop.metrics["spread"]
    # the evidence's baseline is the same
    got = spread_at(rows, rows[-1].when, method="objects")
    assert got is not None and got[0] == point.centre
    assert got[1] == pytest.approx((point.high - point.centre) / 2.0)


def test_the_evidence_of_a_young_level_takes_the_baseline_before_the_shift() -> None:
    """Where the new level has too few images, the evidence looks for an image of the
    usual state before the change: the last baseline the analysis judged with."""
    rows = shifted()
    track = baseline_track(rows)
    young = [i for i, b in enumerate(track) if i >= 80 and b.centre is None]
    before = track[young[0] - 1]
    assert before.centre is not None and before.centre < 15
    got = spread_at(rows, rows[young[0]].when, method="objects")
    assert got is not None and got[0] == before.centre
    assert no_baseline_reason(rows, rows[young[0]].when, method="objects") is None


def test_the_baselines_are_the_analysis_trace_of_the_same_series() -> None:
    """Every image's centre and band is ``baseline_trace``'s of the series the analysis
    builds (local days, one point a day, split by method)."""
    rows = shifted()
    # two images of one local day: the analysis keeps one point
    rows.insert(10, _row(999, 9 * 10 + 0.1, 30.0))
    series = build_series(at_site(_points(rows), UTC9))["all"]
    (part,) = split_by_method(series).values()
    trace = {b.when.date(): b for b in baseline_trace(part, AlertSettings())}
    assert judged_baselines(rows)["objects"] == trace
    for r, b in zip(rows, baseline_track(rows), strict=True):
        assert b.centre == trace[r.day].centre
        spread = trace[r.day].spread
        assert b.high == (None if spread is None or b.centre is None else b.centre + 2 * spread)


def test_a_seasonal_series_is_judged_with_its_month_factors() -> None:
    """Three years of a weekly series, busy in summer and quiet in winter: past the first
    year the analysis deseasonalises its window, and the report's band follows it, not a
    plain median of the last 120 days."""
    rows = []
    for k in range(156):
        day = 7 * k
        season = 1 + 0.8 * np.sin(2 * np.pi * (day - 80) / 365.25)
        rows.append(_row(k, day, float(round(15 * season))))
    track = baseline_track(rows)
    trace = judged_baselines(rows)["objects"]
    factors = [trace[r.day].seasonal_factor for r in rows]
    assert any(abs(f - 1.0) > 0.05 for f in factors)
    days = np.array([(r.when + UTC9).timestamp() / 86400.0 for r in rows])
    values = np.array([r.total or 0.0 for r in rows])
    cfg = AlertSettings()
    differ = 0
    for i, b in enumerate(track):
        assert b.centre == trace[rows[i].day].centre
        plain = robust_baseline(days, values, i, 0, cfg.baseline_min_points, cfg)
        if plain is not None and b.centre is not None and abs(plain.centre - b.centre) > 0.5:
            differ += 1
    assert differ > 20


# --------------------------------------------------------------- the alerts unchanged


def _digest(alerts: list[Alert]) -> str:
    text = "\n".join(
        f"{a.key}|{a.severity}|{a.value}|{a.explanation}|{sorted(a.metrics.items())}"
        for a in alerts
    )
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _tumangang_like() -> CountSeries:
    """≤ 20 cars for 5 years, then 24, 46 and 73 in autumn 2023 (the demo's rise)."""
    rng = np.random.default_rng(2023)
    points = []
    when = datetime(2018, 9, 1, 2, tzinfo=UTC)
    while when < datetime(2023, 9, 10, tzinfo=UTC):
        n = float(min(20, max(0, round(rng.normal(12, 3)))))
        points.append(CountPoint(when=when, count=n, low=n * 0.85, high=n * 1.2 + 1))
        when += timedelta(days=int(rng.integers(6, 16)))
    for day, n in ((18, 24.0), (25, 46.0)):
        points.append(CountPoint(when=datetime(2023, 9, day, 2, tzinfo=UTC), count=n))
    points.append(CountPoint(when=datetime(2023, 10, 5, 2, tzinfo=UTC), count=73.0))
    return build_series(points)["all"]


def _noisy(seed: int) -> CountSeries:
    rng = np.random.default_rng(seed)
    level, day, points = float(rng.integers(5, 40)), 0.0, []
    for k in range(220):
        day += float(rng.integers(3, 20))
        if rng.random() < 0.02:
            level *= float(rng.choice([0.3, 2.5, 4.0]))
        c = float(rng.poisson(max(level * (1 + 0.4 * np.sin(2 * np.pi * day / 365.25)), 0.1)))
        c *= 4 if rng.random() < 0.03 else 1
        points.append(
            CountPoint(
                when=datetime(2017, 1, 1, 3, tzinfo=UTC) + timedelta(days=day),
                count=c,
                low=c * 0.9,
                high=c * (1.1 + rng.random()),
                scene_id=k + 1,
                gsd=float(rng.choice([0.5, 1.2])),
                reviewed=bool(rng.random() < 0.03),
            )
        )
    return build_series(points)["all"]


#: ``count_alerts`` of these series before session 45's refactor (sha256 of the alerts'
#: keys, severities, values, texts and metrics): the alerts are unchanged. Updated on
#: 2026-12-07 (session 47) for explanations reworded only (a shift's spreads, a note's
#: reasons, the spike's pooled spread): :data:`BEFORE_NO_TEXT` holds the rest. Updated
#: on 2026-12-08 (session 53) for ", from N MONTH images in Y years" after a seasonal
#: factor and the spike's two metrics of it: with those taken out again, the texts and
#: metrics hashed to the digests before (b0f7af42847117d4, d6dadd0b7a9ff294).
BEFORE = {
    "tumangang": "42d627e4d1b7357a",
    "noisy-3": "6335f57ce0d67c3e",
    "noisy-8": "5f1e3522051c46a5",
}

#: The same series' alerts without their texts (sha256 of the keys, kinds, severities,
#: values and metrics), as before session 47 (its base db68b5f4) and after: its
#: rewording changed no alert. Session 53 added the spike's metrics ``seasonal_images``
#: and ``seasonal_years`` (without them: 73091c07a5bae854, 62beec98ea13defc as before).
BEFORE_NO_TEXT = {
    "tumangang": "6b4c107cb202ec45",
    "noisy-3": "98aef614ecd2c96b",
    "noisy-8": "0bbb6fa83e38510c",
}


@pytest.mark.parametrize("name", sorted(BEFORE_NO_TEXT))
def test_the_alerts_but_their_texts_are_those_of_before_session_47(name: str) -> None:
    series = _tumangang_like() if name == "tumangang" else _noisy(int(name.split("-")[1]))
    rows = [
        [a.key, a.kind, a.severity, a.value, json.dumps(a.metrics, sort_keys=True, default=str)]
        for a in count_alerts(series, AlertSettings())
    ]
    digest = hashlib.sha256(json.dumps(rows).encode()).hexdigest()[:16]
    assert digest == BEFORE_NO_TEXT[name]


@pytest.mark.parametrize("name", sorted(BEFORE))
def test_the_alerts_are_those_of_before_the_refactor(name: str) -> None:
    series = _tumangang_like() if name == "tumangang" else _noisy(int(name.split("-")[1]))
    alerts = count_alerts(series, AlertSettings())
    assert alerts and _digest(alerts) == BEFORE[name]
    # and the trace comes from the same pass: one baseline per usable image
    assert len(baseline_trace(series, AlertSettings())) == len(series.usable)


def test_the_tumangang_like_report_says_why_there_is_no_baseline() -> None:
    """The walkthrough's case: 73 cars on 2023-10-05 after a shift raised on 2023-09-25
    from 2023-09-18; the headline said "Baseline 15"."""
    series = _tumangang_like()
    rows = [
        SceneRow(
            scene_id=k,
            when=p.when,
            sensor=None,
            gsd=0.5,
            usable=True,
            total=p.count,
            low=p.low,
            high=p.high,
            method="objects",
        )
        for k, p in enumerate(series.points)
    ]
    alerts = count_alerts(series, AlertSettings())
    assert any(a.kind == "shift" and a.severity != "info" for a in alerts)
    track = baseline_track(rows)
    assert track[-1].centre is None and track[-1].low is None
    h = _headline("tumangang", (None, None), rows, track, [])
    assert h.baseline is None
    assert h.no_baseline == (
        "a new level since the shift from 2023-09-18 raised on 2023-09-25: 2 images of it "
        "before this one; a baseline needs 5"
    )


def test_the_chart_draws_no_baseline_over_the_young_level() -> None:
    """The band and centre line stop at the first image of the new level without a
    baseline and start again at its first image with one (they were held across)."""
    from matplotlib.dates import date2num

    from railwatch.report.charts import timeseries_figure
    from railwatch.report.style import BASELINE_COLOUR

    rows = shifted()
    track = baseline_track(rows)
    young = [i for i, b in enumerate(track) if i >= 80 and b.centre is None]
    resumed = young[-1] + 1
    assert track[resumed].centre is not None
    ax = timeseries_figure(rows, track).axes[0]
    lines = sorted(
        (ln for ln in ax.get_lines() if ln.get_color() == BASELINE_COLOUR),
        key=lambda ln: float(np.min(np.asarray(ln.get_xdata(), dtype=float))),
    )
    assert len(lines) == 2
    first, second = (np.asarray(ln.get_xdata(), dtype=float) for ln in lines)
    assert first.max() == pytest.approx(date2num(rows[young[0]].when))
    assert second.min() == pytest.approx(date2num(rows[resumed].when))
    (band,) = [c for c in ax.collections if c.get_label() == "baseline band"]
    xs = np.concatenate([np.asarray(p.vertices, dtype=float)[:, 0] for p in band.get_paths()])
    assert xs.max() == pytest.approx(date2num(rows[young[0]].when))


def test_a_stored_site_gives_the_analysis_its_own_points(tmp_path: Path) -> None:
    """From storage, the report's baselines of every class and method are the analysis's
    (``analysis.store.site_points``, as ``analyze_site`` reads them): types with their
    own intervals, covered loads, 3 m images counted by track length apart, and a local
    day with an image of each method (the analysis keeps the finer one)."""
    from railwatch.analysis.store import site_points, site_utc_offset
    from railwatch.report.data import scene_rows
    from railwatch.sites import SiteSpec
    from railwatch.storage import Database, repo
    from report_db import SITE_UTM, FakeCount, add_counted_scene, to_wgs84

    rng = np.random.default_rng(7)
    db = Database(f"sqlite:///{tmp_path / 'rw.db'}")
    with db.session() as s:
        site = repo.add_site(s, SiteSpec(name="mixed", geometry=to_wgs84(SITE_UTM)))
        for k in range(90):
            n = float(rng.integers(8, 13)) if k < 65 else float(rng.integers(36, 42))
            tank = float(rng.integers(0, 4))
            count = FakeCount(n, n - 2, n + 3, {"tank": (tank, tank, tank + 1)}, int(n // 3))
            add_counted_scene(s, site, T0 + timedelta(days=7 * k), 0.5, count, key=k)
            if k % 4 == 0:  # a 3 m image the same local day, and one on a day of its own
                coarse = FakeCount(n * 1.3, n * 0.8, n * 1.9, {}, 0, method="length")
                when = T0 + timedelta(days=7 * k, hours=3)
                add_counted_scene(s, site, when, 3.0, coarse, key=100 + k)
                add_counted_scene(s, site, when + timedelta(days=3), 3.0, coarse, key=200 + k)
    cfg = AlertSettings()
    with db.session(readonly=True) as s:
        row = repo.get_site(s, "mixed")
        rows = scene_rows(s, row)
        series = build_series(at_site(site_points(s, "mixed"), site_utc_offset(row)))
    assert {"all", "tank", "covered"} <= set(series)
    compared = 0
    for cls, one in series.items():
        mine = judged_baselines(rows, cls, cfg)
        for method, part in split_by_method(one).items():
            want = {b.when.date(): b for b in baseline_trace(part, cfg)}
            assert mine[method] == want, (cls, method)
            compared += 1
    assert compared >= 4
    # the chart's band is the main method's (cars one by one)
    objects = judged_baselines(rows, "all", cfg)["objects"]
    track = baseline_track(rows)
    counted = [r for r in rows if r.method == "objects"]
    assert [b.centre for b in track] == [objects[r.day].centre for r in counted]
