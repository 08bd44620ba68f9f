"""Alert rules: record, spike, shift, drop and quality, each explained from its numbers.

Every rule judges one usable image against data strictly before it (a shift also
uses the images that confirm it), so re-running on the same input, or on the
same input plus later images, gives the same earlier alerts. See ``docs/alerts.md``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import numpy as np

from railwatch.analysis.baseline import (
    DAYS_PER_YEAR,
    Baseline,
    Record,
    month_of,
    robust_baseline,
    seasonal_factors,
    trailing_level,
    trailing_record,
    year_of,
)
from railwatch.analysis.events import link_events
from railwatch.analysis.series import CountSeries, as_utc, build_series
from railwatch.analysis.settings import AlertSettings
from railwatch.analysis.types import ALERT_KINDS, Alert, CountPoint, Event, lower_severity

_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December")  # fmt: skip


def analyze_series(
    points: Iterable[CountPoint],
    events: Iterable[Event] = (),
    settings: AlertSettings | None = None,
    *,
    as_of: datetime | None = None,
) -> list[Alert]:
    """All alerts for one site's count points, sorted by time.

    ``as_of`` (default: the last point) is the moment an ongoing silence is judged at.
    """
    settings = settings or AlertSettings()
    points = list(points)
    series = build_series(points)
    alerts: list[Alert] = []
    for one in series.values():
        alerts.extend(count_alerts(one, settings))
    alerts.extend(quality_alerts(points, settings, as_of=as_of))
    alerts = link_events(alerts, events, settings.event_window_days)
    return sorted(alerts, key=lambda a: (a.when, ALERT_KINDS.index(a.kind), a.cls))


# --------------------------------------------------------------------------- helpers


def _n(value: float) -> str:
    """A count as text: whole numbers without decimals."""
    if abs(value - round(value)) < 0.05:
        return str(round(value))
    return f"{value:.1f}"


def _d(day: float | datetime | date) -> str:
    if isinstance(day, datetime | date):
        return day.strftime("%Y-%m-%d")
    return str(np.datetime64(int(np.floor(day)), "D"))


def _cars(cls: str) -> str:
    return "railcars" if cls in ("all", "railcar") else f"{cls} cars"


def _ratio(value: float, reference: float) -> float:
    return value / max(reference, 1.0)


def _span(n_days: float) -> str:
    """A length of history in words: days under two months, else years."""
    if n_days < 60:
        return f"{n_days:.0f} days"
    return f"{n_days / DAYS_PER_YEAR:.1f} years"


def _history(days: np.ndarray, i: int) -> tuple[float, str]:
    span = float(days[i] - days[0]) if i > 0 else 0.0
    unit = "image" if i == 1 else "images"
    return span / DAYS_PER_YEAR, f"history: {_span(span)}, {i} usable {unit}"


@dataclass(frozen=True)
class _Obs:
    """The image being judged."""

    point: CountPoint
    value: float
    low: float | None
    high: float | None

    def text(self, cls: str) -> str:
        interval = ""
        if self.low is not None and self.high is not None and self.high > self.low:
            interval = f" (interval {_n(self.low)}–{_n(self.high)})"
        return f"{_n(self.value)} {_cars(cls)}{interval} on {_d(self.point.when)}"

    def wide(self, settings: AlertSettings) -> str | None:
        """Why the count is uncertain (wide interval), or None."""
        if self.low is None or self.high is None:
            return None
        width = self.high - self.low
        if width > settings.wide_interval * max(self.value, 1.0):
            return (
                f"the count is uncertain (interval {_n(self.low)}–{_n(self.high)} is "
                f"{100 * width / max(self.value, 1.0):.0f} % of the count)"
            )
        return None


def _short(days: np.ndarray, i: int, settings: AlertSettings) -> list[str]:
    """A reason to lower the severity when the history is shorter than a year of seasons."""
    span = float(days[i] - days[0])
    if span < settings.short_history_days:
        return [f"the history is short ({_span(span)}; seasons unknown)"]
    return []


def _lowered(severity: str, reasons: list[str]) -> tuple[str, str]:
    """Severity lowered one step when there are reasons, and the sentence that says why."""
    if not reasons:
        return severity, ""
    new = lower_severity(severity)
    return new, f" Severity lowered to {new} because {' and '.join(reasons)}."


def _make(
    kind: str, severity: str, obs: _Obs, cls: str, text: str, metrics: dict[str, float | str]
) -> Alert:
    return Alert(
        key=f"{kind}:{cls}:{_d(obs.point.when)}",
        kind=kind,
        severity=severity,
        when=as_utc(obs.point.when),
        cls=cls,
        value=obs.value,
        explanation=text,
        metrics=metrics,
        scene_id=obs.point.scene_id,
    )


# --------------------------------------------------------------------------- count rules


def count_alerts(series: CountSeries, settings: AlertSettings) -> list[Alert]:
    """Record, spike, shift and drop alerts of one class series (usable images only)."""
    usable = series.usable
    days, counts = series.arrays()
    n = len(usable)
    if n == 0:
        return []
    months, years = month_of(days), year_of(days)
    ratios = np.full(n, np.nan)
    regime = 0  # index where the current level began (after the last shift)
    episode: tuple[float, Record] | None = None  # (day of last record alert, standing record)
    dropped = False
    alerts: list[Alert] = []
    season_cache: dict[int, np.ndarray] = {}
    seasonal_from = days[0] + settings.seasonal_min_years * DAYS_PER_YEAR
    for i in range(n):
        p = usable[i]
        obs = _Obs(p, float(counts[i]), p.low, p.high)
        factors = None
        if days[i] >= seasonal_from:
            # Month factors are refreshed once per calendar month, from images before it.
            month_key = int(years[i]) * 12 + int(months[i])
            if month_key not in season_cache:
                season_cache[month_key] = seasonal_factors(ratios[:i], months[:i], settings)
            factors = season_cache[month_key]
        min_pts = settings.baseline_min_points if regime == 0 else settings.regime_min_points
        shift = _shift(series.cls, days, counts, usable, i, regime, min_pts, factors, months,
                       settings)  # fmt: skip
        if shift is not None:
            alert, regime = shift
            alerts.append(alert)
            dropped = False
        else:
            base = robust_baseline(days, counts, i, regime, min_pts, settings, factors, months)
            if base is not None:
                spike = _spike(series.cls, obs, base, days, i, settings)
                if spike is not None:
                    alerts.append(spike)
                drop_line = settings.drop_ratio * base.centre
                if obs.value > drop_line:
                    dropped = False
                elif not dropped:
                    drop = _drop(series.cls, obs, base, days, i, settings)
                    if drop is not None:
                        alerts.append(drop)
                        dropped = True
        record = trailing_record(days, counts, i, settings.record_years)
        if record is not None and obs.value > record.value:
            if episode is None or days[i] - episode[0] > settings.record_episode_days:
                episode = (float(days[i]), record)
            episode = (float(days[i]), episode[1])
            alerts.append(_record(series.cls, obs, record, episode[1], days, i, settings))
        level = trailing_level(days, counts, i, regime)
        if level is not None:
            ratios[i] = obs.value / max(level, 1.0)
    return alerts


def _baseline_text(base: Baseline, d: float) -> str:
    season = ""
    if abs(base.seasonal_factor - 1.0) > 0.005:
        month = _MONTHS[int(month_of(np.array([d]))[0])]
        season = f", seasonal factor {base.seasonal_factor:.2f} for {month}"
    return (
        f"the usual {_n(base.centre)} (median of {base.n_points} usable images over the previous "
        f"{base.window_days:.0f} days{season}; typical spread ±{_n(base.spread)})"
    )


def _record(
    cls: str,
    obs: _Obs,
    record: Record,
    standing: Record,
    days: np.ndarray,
    i: int,
    settings: AlertSettings,
) -> Alert:
    years, history = _history(days, i)
    ratio = _ratio(obs.value, standing.value)
    excess = obs.value - standing.value
    history_days = float(days[i] - days[0])
    n_years = settings.record_years
    short = history_days < n_years * DAYS_PER_YEAR
    if ratio >= settings.record_high_ratio:
        severity = "high"
    elif ratio >= settings.record_medium_ratio:
        severity = "medium"
    elif ratio >= settings.record_low_ratio:
        severity = "low"
    else:
        severity = "info"
    notes: list[str] = []
    if excess < settings.record_min_excess:
        severity = "info"
    marginal = obs.value < settings.record_low_ratio * max(record.value, 1.0)
    if standing.index != record.index and marginal:
        severity = "info"
        notes.append("it barely beats the latest record of this ongoing rise")
    if i < settings.record_min_points or history_days < settings.record_min_history_days:
        severity = "info"
        notes.append("too little history to call it a record beyond a note")
    reasons: list[str] = []
    if history_days < settings.short_history_days:
        reasons.append(f"the history is short ({_span(history_days)})")
    if obs.low is not None and obs.low <= standing.value:
        reasons.append(f"the count's lower bound {_n(obs.low)} does not clear the record")
    if (wide := obs.wide(settings)) is not None:
        reasons.append(wide)
    severity, why = _lowered(severity, reasons) if severity != "info" else ("info", "")
    scope = f"{n_years}-year record" if not short else "record"
    first = (
        f"the first time above it in {n_years} years ({history})"
        if not short
        else f"the highest in all the history there is ({history}; "
        f"the record window is {n_years} years)"
    )
    text = (
        f"{obs.text(cls)}, against a {scope} of {_n(standing.value)} set on {_d(standing.day)}: "
        f"{ratio:.1f}× the record, {first}."
    )
    if standing.index != record.index:
        text += (
            f" It continues a rise: the latest record before it was {_n(record.value)} "
            f"on {_d(record.day)}."
        )
    if notes:
        text += f" Info only: {notes[0]}."
    text += why
    metrics: dict[str, float | str] = {
        "record": standing.value,
        "record_date": _d(standing.day),
        "previous_record": record.value,
        "previous_record_date": _d(record.day),
        "ratio": round(ratio, 3),
        "history_years": round(years, 2),
        "history_images": float(i),
        "record_years": float(n_years),
    }
    return _make("record", severity, obs, cls, text, metrics)


def _spike(
    cls: str, obs: _Obs, base: Baseline, days: np.ndarray, i: int, settings: AlertSettings
) -> Alert | None:
    z = base.z(obs.value)
    ratio = _ratio(obs.value, base.centre)
    strong = obs.value >= settings.spike_strong_ratio * base.centre and z >= settings.spike_strong_z
    if (
        (z < settings.spike_z and not strong)
        or obs.value < settings.spike_min_ratio * base.centre
        or obs.value - base.centre < settings.spike_min_excess
    ):
        return None
    if ratio >= settings.spike_high_ratio:
        severity = "high"
    elif ratio >= settings.spike_medium_ratio:
        severity = "medium"
    else:
        severity = "low"
    reasons = _short(days, i, settings)
    if obs.low is not None and base.z(obs.low) < settings.uncertain_z:
        reasons.append(
            f"its lower bound {_n(obs.low)} is only {base.z(obs.low):.1f} spreads above the usual"
        )
    if (wide := obs.wide(settings)) is not None:
        reasons.append(wide)
    severity, why = _lowered(severity, reasons)
    _, history = _history(days, i)
    text = (
        f"{obs.text(cls)}, {ratio:.1f}× {_baseline_text(base, days[i])}: "
        f"{z:.1f} spreads above normal ({history}).{why}"
    )
    metrics: dict[str, float | str] = {
        "baseline": round(base.centre, 3),
        "spread": round(base.spread, 3),
        "z": round(z, 2),
        "ratio": round(ratio, 3),
        "seasonal_factor": round(base.seasonal_factor, 3),
        "baseline_images": float(base.n_points),
    }
    return _make("spike", severity, obs, cls, text, metrics)


def _drop(
    cls: str, obs: _Obs, base: Baseline, days: np.ndarray, i: int, settings: AlertSettings
) -> Alert | None:
    z = base.z(obs.value)
    if base.centre < settings.drop_min_baseline or z > -settings.drop_z:
        return None
    ratio = obs.value / base.centre
    severity = "high" if ratio <= settings.drop_high_ratio else "medium"
    reasons = _short(days, i, settings)
    if obs.high is not None and obs.high > settings.drop_ratio * base.centre:
        reasons.append(f"its upper bound {_n(obs.high)} is not far below normal")
    if (wide := obs.wide(settings)) is not None:
        reasons.append(wide)
    severity, why = _lowered(severity, reasons)
    _, history = _history(days, i)
    text = (
        f"{obs.text(cls)}, {100 * ratio:.0f} % of {_baseline_text(base, days[i])}: "
        f"activity has dropped at a busy site ({history}).{why}"
    )
    metrics: dict[str, float | str] = {
        "baseline": round(base.centre, 3),
        "spread": round(base.spread, 3),
        "z": round(z, 2),
        "ratio": round(ratio, 3),
        "baseline_images": float(base.n_points),
    }
    return _make("drop", severity, obs, cls, text, metrics)


@dataclass(frozen=True)
class _ShiftTest:
    up: bool
    base: Baseline
    start: int
    seg: np.ndarray
    mean_z: float
    factor: float


def _shift_test(
    days: np.ndarray,
    counts: np.ndarray,
    i: int,
    k: int,
    regime: int,
    min_pts: int,
    factors: np.ndarray | None,
    months: np.ndarray,
    settings: AlertSettings,
) -> _ShiftTest | None:
    """Do the last ``k`` images (ending at ``i``) sit at a new level? Two-window median test."""
    s = i - k + 1
    if s - regime < min_pts:
        return None
    base = robust_baseline(days, counts, s, regime, min_pts, settings, factors, months)
    if base is None:
        return None
    seg = counts[s : i + 1]
    mean = float(seg.mean())
    mean_z = (mean - base.centre) / (base.spread / np.sqrt(k))
    each = (seg - base.centre) / base.spread
    ratio_each = seg / max(base.centre, 1e-9)
    up = (
        bool(np.all(each >= settings.shift_each_z))
        and bool(np.all(ratio_each >= settings.shift_each_ratio))
        and mean_z >= settings.shift_z
        and mean >= settings.shift_min_ratio * base.centre
        and mean - base.centre >= settings.shift_min_excess
    )
    down = (
        bool(np.all(each <= -settings.shift_each_z))
        and bool(np.all(ratio_each * settings.shift_each_ratio <= 1.0))
        and mean_z <= -settings.shift_z
        and mean * settings.shift_min_ratio <= base.centre
        and base.centre - mean >= settings.shift_min_excess
    )
    if not (up or down):
        return None
    factor = _ratio(mean, base.centre) if up else base.centre / max(mean, 1e-9)
    return _ShiftTest(up=up, base=base, start=s, seg=seg, mean_z=float(mean_z), factor=factor)


def _shift(
    cls: str,
    days: np.ndarray,
    counts: np.ndarray,
    usable: Sequence[CountPoint],
    i: int,
    regime: int,
    min_pts: int,
    factors: np.ndarray | None,
    months: np.ndarray,
    settings: AlertSettings,
) -> tuple[Alert, int] | None:
    """A shift confirmed at image ``i`` by the last images, or None.

    ``shift_confirm_points`` images confirm a shift of at least ``shift_fast_ratio``;
    a smaller one, or one those images do not yet confirm, needs
    ``shift_small_extra_points`` more.
    """
    k = settings.shift_confirm_points
    test = _shift_test(days, counts, i, k, regime, min_pts, factors, months, settings)
    if test is None or test.factor < settings.shift_fast_ratio:
        k += settings.shift_small_extra_points
        test = _shift_test(days, counts, i, k, regime, min_pts, factors, months, settings)
    if test is None:
        return None
    up, base, s, seg, factor = test.up, test.base, test.start, test.seg, test.factor
    mean = float(seg.mean())
    if factor >= settings.shift_high_ratio:
        severity = "high"
    elif factor >= settings.shift_medium_ratio:
        severity = "medium"
    else:
        severity = "low"
    reasons = _short(days, i, settings)
    obs = [
        _Obs(usable[j], float(counts[j]), usable[j].low, usable[j].high) for j in range(s, i + 1)
    ]
    wide = [w for o in obs if (w := o.wide(settings)) is not None]
    if wide:
        reasons.append(wide[0].replace("the count is", "a confirming count is"))
    severity, why = _lowered(severity, reasons)
    _, history = _history(days, i)
    seen = ", ".join(f"{_d(o.point.when)}: {_n(o.value)}" for o in obs)
    direction = "up" if up else "down"
    change = f"{factor:.1f}×" if up else f"to {100 * mean / max(base.centre, 1e-9):.0f} %"
    text = (
        f"The level of {_cars(cls)} shifted {direction} from about {_n(base.centre)} to about "
        f"{_n(float(np.median(seg)))} ({change}) from {_d(days[s])}: {k} usable images in a row "
        f"({seen}) are {'above' if up else 'below'} the usual range "
        f"({_n(base.centre)} ± {_n(base.spread)}), so this is a sustained change, not one "
        f"image ({history}). Raised once; the new level is the baseline from here on.{why}"
    )
    metrics: dict[str, float | str] = {
        "baseline": round(base.centre, 3),
        "spread": round(base.spread, 3),
        "new_level": round(float(np.median(seg)), 3),
        "ratio": round(mean / max(base.centre, 1e-9), 3),
        "z": round(test.mean_z, 2),
        "direction": direction,
        "change_date": _d(days[s]),
        "confirm_images": float(k),
    }
    return _make("shift", severity, obs[-1], cls, text, metrics), s


# --------------------------------------------------------------------------- quality


def quality_alerts(
    points: Sequence[CountPoint], settings: AlertSettings, *, as_of: datetime | None = None
) -> list[Alert]:
    """Alerts for silences: no usable image for longer than expected.

    Expected gap = max(``quality_gap_factor`` x median gap between earlier usable images,
    ``quality_min_gap_days``). A day counts as usable when any class has a usable count.
    """
    if not points:
        return []
    usable_days = sorted({as_utc(p.when).date() for p in points if p.is_usable})
    all_days = sorted({as_utc(p.when).date() for p in points})
    end = as_utc(as_of).date() if as_of is not None else all_days[-1]
    alerts: list[Alert] = []
    for idx, start in enumerate(usable_days):
        if idx + 1 < settings.quality_min_points:
            continue
        nxt = usable_days[idx + 1] if idx + 1 < len(usable_days) else None
        stop = nxt if nxt is not None else end
        gap = (stop - start).days
        earlier = np.diff(np.array([d.toordinal() for d in usable_days[: idx + 1]]))
        median_gap = float(np.median(earlier))
        expected = max(
            settings.quality_gap_factor * median_gap, float(settings.quality_min_gap_days)
        )
        if gap <= expected:
            continue
        unusable = sum(1 for d in all_days if start < d < stop and d not in usable_days)
        severity = "medium" if gap >= 2 * expected else "low"
        when = datetime(start.year, start.month, start.day, tzinfo=as_utc(points[0].when).tzinfo)
        when = as_utc(when) + timedelta(days=int(np.ceil(expected)))
        tried = ""
        if unusable:
            were = "image in that time was" if unusable == 1 else "images in that time were"
            tried = f"; {unusable} {were} unusable"
        until = f"until {_d(nxt)}" if nxt is not None else f"as of {_d(end)}"
        text = (
            f"No usable image of this site for {gap} days (from {_d(start)} {until}{tried}); "
            f"the site is usually seen every {median_gap:.0f} days (median gap), so more than "
            f"{expected:.0f} days of silence is unexpected and must not be read as calm."
        )
        alerts.append(
            Alert(
                key=f"quality:all:{_d(start)}",
                kind="quality",
                severity=severity,
                when=when,
                cls="all",
                value=None,
                explanation=text,
                metrics={
                    "gap_days": float(gap),
                    "expected_days": round(expected, 1),
                    "median_gap_days": median_gap,
                    "unusable_images": float(unusable),
                    "last_usable": _d(start),
                    "ongoing": "yes" if nxt is None else "no",
                },
            )
        )
    return alerts
