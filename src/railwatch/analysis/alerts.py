"""Alert rules: record, spike, shift, drop and quality, each explained from its numbers.

Every rule judges one usable image against data before it (a shift at an image also
uses the images just before it that confirm it, never later ones), so re-running on
the same input, or on the same input plus later images, gives the same earlier
alerts. See ``docs/alerts.md``.
"""

from __future__ import annotations

import bisect
import calendar
import numbers
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import TypeVar

import numpy as np

from railwatch.analysis.baseline import (
    DAYS_PER_YEAR,
    SEASON_OFFSET,
    Baseline,
    Record,
    SeasonalFactors,
    SeasonRef,
    SeriesNoise,
    WindowBaselines,
    month_of,
    pooled_spike_spread,
    quietest,
    rolling_medians,
    same_season,
    spans_years,
    spread_floor,
    trailing_levels,
    trailing_records,
    with_series_noise,
    year_of,
    years_before,
)
from railwatch.analysis.events import link_events, local_day
from railwatch.analysis.series import (
    METHOD_WORDS,
    CountSeries,
    as_utc,
    at_site,
    build_series,
    day_number,
    split_by_method,
)
from railwatch.analysis.settings import BAND_FIELDS, LENGTH_FIELDS, LENGTH_METHOD, AlertSettings
from railwatch.analysis.types import (
    ALERT_KINDS,
    Alert,
    CountPoint,
    Event,
    lower_severity,
    severity_rank,
    whole_car_bounds,
)
from railwatch.detect.base import (
    CAR_CLASSES,
    GENERIC_CLASS,
    cars_words,
    is_presence,
    tells_class,
)
from railwatch.errors import InputError, plural

_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December")  # fmt: skip

_V = TypeVar("_V")  #: the type of the items :func:`_checked_list` checks

#: The farthest a site's local time is from UTC (Kiribati's UTC+14; nominal solar zones
#: are within 12 hours).
MAX_UTC_OFFSET = timedelta(hours=14)


def analyze_series(
    points: Iterable[CountPoint],
    events: Iterable[Event] = (),
    settings: AlertSettings | None = None,
    *,
    as_of: datetime | None = None,
    utc_offset: timedelta = timedelta(0),
    unread: Iterable[tuple[datetime, str]] = (),
) -> list[Alert]:
    """All alerts for one site's count points, sorted by time.

    ``as_of`` is the moment the analysis is made: points of later local days at the site
    are ignored, and an ongoing silence (no usable image since) is judged up to its day.
    Points of its own day are in even when timed after it (since session 33: an image
    ingested with ``--date`` of today is stored at local noon, and a morning's analysis
    left it out as "after" today). Without it, the last
    point (usable or not) is the end; the CLI passes today's date.

    ``utc_offset``: the site's local time east of UTC (stored sites: their nominal solar
    zone, :func:`railwatch.sites.nominal_utc_offset`). A day is the site's local
    day everywhere (since session 31): the images of one local day are one point of the
    series, alert keys and the dates in texts and metrics are local days, a silence
    counts local days, and events (dated by local days) are related from them. An
    alert's ``when`` is still its image's time in UTC; a silence's is the UTC instant of
    local midnight at the site of its day (until 2026-12-05, session 32, that day's
    midnight written as if it were UTC, which readers had to take apart from the others:
    storage migration 0005 moves the stored ones). With no offset (hand counts) the days
    are those the counts give.

    ``unread``: the site's images that the points do not hold, as (time, status) with
    status ``"failed"`` (processing failed) or ``"ingested"`` (not processed yet). They
    judge nothing; a silence's explanation names them (since 2026-12-07, session 49: a
    silence whose later images had all failed processing said "the site has no later
    image").
    """
    if settings is not None and not isinstance(settings, AlertSettings):
        raise InputError(
            f"settings {_shown(settings)} is a {type(settings).__name__}, not an "
            "AlertSettings; give railwatch.AlertSettings(...) with the thresholds to change "
            "(a dict d: AlertSettings(**d)), or None for the defaults"
        )
    settings = settings or AlertSettings()
    # an int (9 for UTC+9) or None was an internal TypeError, and 30 hours moved every
    # image to another day (session 40)
    check_utc_offset(utc_offset)
    points = _checked_points(points)
    events = _checked_events(events)
    unread = list(unread)
    if as_of is not None and not isinstance(as_of, datetime):
        raise InputError(
            f"as_of {as_of!r} is a {type(as_of).__name__}, not a datetime; give a datetime "
            "(naive is UTC), or call railwatch.analyze_counts, which takes a date"
        )
    if as_of is not None:
        end = as_utc(as_of)
        # the analysis is by days at the site: every image of as_of's local day is in,
        # also one timed after the moment (a date-only image is stored at local noon)
        last = local_day(end, utc_offset)
        points = [p for p in points if local_day(p.when, utc_offset) <= last]
        unread = [(t, st) for t, st in unread if local_day(t, utc_offset) <= last]
        as_of = end + utc_offset
    unread = [(as_utc(t) + utc_offset, st) for t, st in unread]  # at the site, as at_site
    points = at_site(points, utc_offset)  # judged at the site's local time
    series = build_series(points)
    alerts: list[Alert] = []
    for one in series.values():
        parts = split_by_method(one)
        for method, part in parts.items():
            found = count_alerts(part, settings)
            if one.cls == "all" and len(parts) > 1:
                found = _across_methods(found, part, one, method, settings)
            if method in settings.confirm_methods:
                found = _confirmed_only(found, part, method)
            found = _settled(found, part)
            # every count alert names its method (metrics["method"]) and says where other
            # methods' earlier counts were not compared. Since 2026-12-06 (session 40) of a
            # one-method series too: named only where the series held several methods,
            # the first image made another way (a 3 m image after years of 0.5 m counts)
            # rewrote every earlier alert of the site, with a new version each
            mine = sorted(as_utc(p.when) for p in part.usable)
            # a presence image (10 m and coarser: a long train or not) is no count made
            # another way
            others = sorted(
                as_utc(p.when) for p in one.usable if p.method not in (method, "presence")
            )
            found = [_method_note(a, method, mine, others) for a in found]
            if method == "objects" and one.cls in CAR_CLASSES:
                found = [_typed_note(a, part) for a in found]
            elif method == "objects" and one.cls == GENERIC_CLASS:
                found = [replace(a, explanation=a.explanation + UNTYPED_NOTE) for a in found]
            alerts.extend(found)
    alerts.extend(quality_alerts(points, settings, as_of=as_of, unread=unread))
    if utc_offset:  # back to UTC: each image's time, a silence's local midnight
        alerts = [replace(a, when=a.when - utc_offset) for a in alerts]
    alerts = link_events(alerts, events, settings.event_window_days, utc_offset=utc_offset)
    return sorted(alerts, key=lambda a: (a.when, ALERT_KINDS.index(a.kind), a.cls))


def check_utc_offset(utc_offset: object, *, none: str | None = None) -> None:
    """Raise an :class:`InputError` unless ``utc_offset`` is a timedelta within
    :data:`MAX_UTC_OFFSET` of UTC, saying what to give (``none``: what None means where
    None is taken, said with the advice; None is refused where it is not given). One
    check for :func:`analyze_series` and ``railwatch.analyze_counts`` (which crashed
    with an internal TypeError on ``utc_offset=9`` until 2026-12-06, session 40)."""
    if isinstance(utc_offset, timedelta) and abs(utc_offset) <= MAX_UTC_OFFSET:
        return
    raise InputError(
        f"utc_offset {_shown(utc_offset)} is not a site's offset from UTC: give a "
        "timedelta from -14 to +14 hours, e.g. timedelta(hours=9) for UTC+9 "
        "(railwatch.sites.nominal_utc_offset gives a site's), or "
        + (f"None for {none}" if none is not None else "timedelta(0) for the days the times give")
    )


# --------------------------------------------------------------------------- helpers


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _checked_list(
    values: Iterable[object],
    name: str,
    kind: type[_V],
    *,
    a_kind: str,
    text_advice: str,
    item_advice: str,
    each: Callable[[int, _V], None] | None = None,
) -> list[_V]:
    """``values`` (the argument ``name``) as a list, read once: text is refused, saying
    ``text_advice``, and so is each item that is not a ``kind`` (``a_kind``: its name
    with its article), saying ``item_advice``; ``each`` checks an item further, before
    the next item is looked at. One rule for :func:`_checked_points` and
    :func:`_checked_events`."""
    if isinstance(values, str | bytes):
        raise InputError(f"{name} {_shown(values)} is text; {text_advice}")
    if not isinstance(values, Iterable):  # None, a number: "'NoneType' object is not iterable"
        raise InputError(
            f"{name} {_shown(values)} is not a list of {a_kind.split(' ', 1)[1]} values "
            f"(its type is {type(values).__name__}); {text_advice}"
            + (" (an empty list for none)" if name == "events" else "")
        )
    out: list[_V] = []
    for k, value in enumerate(list(values)):  # all read before any is checked
        if not isinstance(value, kind):
            raise InputError(
                f"{name}[{k}]: {_shown(value)} is a {type(value).__name__}, not {a_kind}; "
                f"{item_advice}"
            )
        if each is not None:
            each(k, value)
        out.append(value)
    return out


def _checked_points(points: Iterable[CountPoint]) -> list[CountPoint]:
    """``points`` as a list, each checked to be a :class:`CountPoint` timed by a datetime:
    plain ``(date, count)`` pairs failed deep in NumPy ("ufunc 'isfinite' not
    supported"), a ``date`` as ``when`` with ``AttributeError: tzinfo`` (session 36)."""
    return _checked_list(
        points,
        "points",
        CountPoint,
        a_kind="a CountPoint",
        text_advice="give railwatch.CountPoint values, or call railwatch.analyze_counts for "
        "a CSV file or (date, count) pairs",
        item_advice="give railwatch.CountPoint values (when=datetime, count=...), or call "
        "railwatch.analyze_counts for (date, count) pairs",
        each=_check_point,
    )


def _check_point(k: int, p: CountPoint) -> None:
    """Point ``k`` of :func:`_checked_points`: timed by a datetime, its numbers numbers."""
    if not isinstance(p.when, datetime):
        raise InputError(
            f"points[{k}]: when {_shown(p.when)} is a {type(p.when).__name__}, not a "
            "datetime; give a datetime (naive is UTC), or call railwatch.analyze_counts, "
            "which takes dates"
        )
    for field_name in ("count", "low", "high", "gsd"):  # NumPy's "isfinite" error
        value = getattr(p, field_name)
        if value is not None and not isinstance(value, numbers.Real):
            raise InputError(
                f"points[{k}]: {field_name} {_shown(value)} is a {type(value).__name__}, "
                "not a number; give a number (None for no value: count None is an image "
                "with no usable view)"
            )
        # an interval bound or gsd of NaN or infinity: "ValueError: cannot convert float
        # NaN to integer" from the explanation's interval, or a gsd of nan judged as a
        # fine image (session 40); a count's own check says more (validate_point)
        if field_name != "count" and value is not None and not np.isfinite(float(value)):
            raise InputError(
                f"points[{k}]: {field_name} {value} on {p.when:%Y-%m-%d} is not a finite "
                "number; give a finite number, or None for no value (no interval, no gsd)"
            )
    # a flag given as text ("false") was true: an unusable image's 0 was judged as a count
    # (a 'high' drop), "no" reviewed an analyst's count; a class or method of None or a
    # number was an internal TypeError from sorting the series (session 40)
    for field_name in ("usable", "reviewed"):
        value = getattr(p, field_name)
        if not isinstance(value, bool | np.bool_):
            raise InputError(
                f"points[{k}]: {field_name} {_shown(value)} on {p.when:%Y-%m-%d} is "
                f"{_a(type(value).__name__)}, not True or False; give a bool (usable False: an "
                "image with no usable view, a gap whatever its count)"
            )
    for field_name in ("cls", "method"):
        value = getattr(p, field_name)
        if not isinstance(value, str):
            raise InputError(
                f"points[{k}]: {field_name} {_shown(value)} on {p.when:%Y-%m-%d} is "
                f"{_a(type(value).__name__)}, not text; give its name ('all' for the total; "
                "method 'objects', 'length', 'presence' or 'manual')"
            )


def _a(noun: str) -> str:
    """``noun`` with its article: "a str", "an int"."""
    return f"{'an' if noun[:1].lower() in 'aeiou' else 'a'} {noun}"


def _checked_events(events: Iterable[Event]) -> list[Event]:
    """``events`` as a list, each checked to be an :class:`Event` (a ``(day, label)`` pair
    or a date failed as "'tuple' object has no attribute 'when'", r4's review)."""
    advice = (
        "give railwatch.Event(day, label) values, or call railwatch.analyze_counts, which "
        "takes (day, label) pairs"
    )
    return _checked_list(
        events,
        "events",
        Event,
        a_kind="an Event",
        text_advice=advice,
        item_advice=advice,
        each=_check_event,
    )


def _check_event(k: int, event: Event) -> None:
    """Event ``k`` of :func:`_checked_events`: dated by a date (a day at the site), labelled
    by text. An Event of a datetime or of text ("2023-09-13") was an internal "unsupported
    operand type(s) for -: 'datetime.date' and 'datetime.datetime'", one labelled None
    "'NoneType' object has no attribute 'casefold'" (session 40)."""
    when = event.when
    if isinstance(when, datetime) or not isinstance(when, date):
        kind = "a datetime" if isinstance(when, datetime) else f"a {type(when).__name__}"
        raise InputError(
            f"events[{k}]: when {_shown(when)} is {kind}, not a date; give the event's day "
            "(its local day at the site) as a date, e.g. Event(date(2023, 9, 13), 'summit')"
        )
    if not isinstance(event.label, str):
        raise InputError(
            f"events[{k}]: label {_shown(event.label)} is a {type(event.label).__name__}, "
            "not text; give the event's label, e.g. Event(date(2023, 9, 13), 'summit')"
        )


def _confirmed_only(alerts: list[Alert], part: CountSeries, method: str) -> list[Alert]:
    """Record and spike alerts of ``part`` (counts by one ``method``) above 'info' stay so
    only when the usable image before them raised a record or spike too; others become
    notes that say why (``AlertSettings.confirm_methods``). An alert judged on an
    analyst's count (``metrics["reviewed"]``) stays as it is: the rule distrusts the
    method's estimate, and that image's count is no estimate."""
    kinds = ("record", "spike")
    raised = {as_utc(a.when) for a in alerts if a.kind in kinds and a.severity != "info"}
    usable = sorted(as_utc(p.when) for p in part.usable)
    words = METHOD_WORDS.get(method, f"counts by method '{method}'")
    out = []
    for a in alerts:
        when = as_utc(a.when)
        # an analyst's count is not the estimate this rule distrusts (it is exact)
        if a.kind not in kinds or a.severity == "info" or a.metrics.get("reviewed"):
            out.append(a)
            continue
        before = bisect.bisect_left(usable, when)  # the usable images before it
        if before and usable[before - 1] in raised:
            out.append(a)
            continue
        note = (
            f" Raised as a note only: one image of {words} is not enough (such estimates are "
            f"several times off in some scenes), and the image before it "
            f"{'did not stand out' if before else 'does not exist'}; it would be "
            f"'{a.severity}' if the next image confirms it."
        )
        out.append(
            replace(
                a,
                severity="info",
                explanation=a.explanation + note,
                metrics={**a.metrics, "unconfirmed_severity": a.severity},
            )
        )
    return out


#: The end of a note's text that waits for the next image (:func:`_confirmed_only`,
#: :func:`_unconfirmed_drop`), while no next image is in the series.
_WAITING = "it would be '{severity}' if the next image confirms it."


def _settled(alerts: list[Alert], part: CountSeries) -> list[Alert]:
    """``alerts`` of ``part`` whose note waits for the next image to confirm it
    (``metrics["unconfirmed_severity"]``) say, once the series holds that image, whether
    it did: the next usable image raised a record, spike or upward shift (a drop or a
    downward shift, for a drop) above 'info' or not (``metrics["next_image"]``, its day;
    ``metrics["confirmed_next"]``).
    That is the rule's confirmation: a next image as high that is neither (a record
    within the rise under 1.2x it, and no spike) raises no alert and confirms nothing.
    Until 2026-12-07 (session 48) a note said "it would be 'medium' if the next image
    confirms it" for ever, also after an image that did not."""
    usable = sorted(as_utc(p.when) for p in part.usable)
    raised: dict[tuple[bool, datetime], Alert] = {}
    for a in alerts:  # (downward?, time): what an image raised above info, a shift too
        down = a.kind == "drop" or (a.kind == "shift" and a.metrics.get("direction") == "down")
        if a.severity != "info" and a.kind in ("record", "spike", "drop", "shift"):
            raised.setdefault((down, as_utc(a.when)), a)
    out = []
    for a in alerts:
        severity = a.metrics.get("unconfirmed_severity")
        waiting = _WAITING.format(severity=severity)
        k = bisect.bisect_right(usable, as_utc(a.when))
        if severity is None or k >= len(usable) or waiting not in a.explanation:
            out.append(a)
            continue
        after = usable[k]  # the site's local time (analyze_series: at_site)
        day = after.date().isoformat()
        confirming = raised.get((a.kind == "drop", after))
        wanted = "a drop or shift alert" if a.kind == "drop" else "a record, spike or shift alert"
        if confirming is not None:
            settled = (
                f"it would have been '{severity}': the next image, of {day}, confirmed it "
                f"and raised its own {confirming.kind} alert ('{confirming.severity}')."
            )
        else:
            settled = (
                f"it would have been '{severity}' had the next image raised {wanted} above "
                f"'info' too; the next image, of {day}, did not."
            )
        out.append(
            replace(
                a,
                explanation=a.explanation.replace(waiting, settled, 1),
                metrics={**a.metrics, "next_image": day, "confirmed_next": confirming is not None},
            )
        )
    return out


def _across_methods(
    alerts: list[Alert],
    part: CountSeries,
    whole: CountSeries,
    method: str,
    settings: AlertSettings,
) -> list[Alert]:
    """``alerts`` of ``part`` (the total's counts by one ``method``) with a record alert
    for each count whose own kind has too little history to call a record (fewer than
    ``record_min_points`` earlier counts, or less than ``record_min_history_days``) but
    whose interval's **lower end** beats the record of the total's counts made another
    way, where those are established (as many and as long). A site watched for years
    at 0.5 m and then only at 3 m (a change of provider, at the very moment of a rise)
    had its first 3 m counts judged against nothing: four times the 0.5 m record raised
    no alert at all. The lower end keeps the length estimate's bias (tens of per cent)
    from making a record; presence is never compared."""
    usable = part.usable
    others = [p for p in whole.usable if p.method not in (method, "presence")]
    if not usable or not others:
        return alerts
    keys = {a.key: k for k, a in enumerate(alerts)}
    out = list(alerts)
    years = settings.record_years
    other_days = np.array([day_number(p.when) for p in others])  # (sorted, as others)
    for i, point in enumerate(usable):
        when = as_utc(point.when)
        own_days = (when - as_utc(usable[0].when)).days if i else 0
        if i >= settings.record_min_points and own_days >= settings.record_min_history_days:
            continue  # its own kind judges it
        if any(float(p.count or 0.0) >= float(point.count or 0.0) for p in usable[:i]):
            continue  # not a new high of its own kind either
        # the record window as the methods' own rules count it (years_before: to the
        # second; its edge was by float day numbers there before session 31)
        day = day_number(when)
        first = int(years_before(other_days, day, years))
        before = [p for p in others[first:] if as_utc(p.when) < when]
        if len(before) < settings.record_min_points:
            continue
        span = (when - as_utc(before[0].when)).days
        if span < settings.record_min_history_days:
            continue
        best = max(before, key=lambda p: (float(p.count or 0.0), -day_number(p.when)))
        record = float(best.count or 0.0)
        exact = point.reviewed or point.low is None  # an analyst's count is its own low
        low = float(point.count or 0.0) if exact else float(point.low or 0.0)
        ratio = low / max(record, 1.0)
        if ratio < settings.record_low_ratio or low - record < settings.record_min_excess:
            continue
        severity = (
            "high"
            if ratio >= settings.record_high_ratio
            else "medium"
            if ratio >= settings.record_medium_ratio
            else "low"
        )
        reasons = []
        if not _covers_years(day_number(before[0].when), day, years):
            reasons.append(
                f"that history ({_span(span)}) is shorter than the "
                f"{settings.record_years}-year window"
            )
        severity, why = _lowered(severity, reasons)
        obs = _Obs(point, float(point.count or 0.0), point.low, point.high)
        words = METHOD_WORDS.get(method, f"counts by method '{method}'")
        kinds = sorted({p.method for p in before})
        other = " and ".join(METHOD_WORDS.get(m, f"counts by method '{m}'") for m in kinds)
        # an analyst's count is exact: its lower end is the count, not an allowance
        lower_end, by_what = (
            ("it is", "its count, exact (an analyst's), with no error of its method to allow for")
            if point.reviewed
            else (
                f"even its interval's lower end, {_n(low)}, is",
                "its lower end, which allows for the error of its method",
            )
        )
        # no ratio against a record under one car (it is taken against at least 1 car)
        times = f"{ratio:.1f}× the record" if record >= 1.0 else "above the record"
        text = (
            f"{obs.text(whole.cls, length=method == LENGTH_METHOD)}: {lower_end} "
            f"{times} of {_n(record)} set on {_d(best.when)} by the "
            f"{len(before)} counts made another way ({other}) over the previous "
            f"{_span(span)}. Counts of its own kind ({words}) have too little history "
            f"to judge it ({i} earlier), so it is judged against the others' record by "
            f"{by_what}.{why}"
        )
        alert = _make(
            "record",
            severity,
            obs,
            whole.cls,
            text,
            {
                "record": record,
                "record_date": _d(best.when),
                "ratio": round(ratio, 3),
                "lower_end": low,
                "across_methods": ",".join(kinds),
                "history_images": float(len(before)),
            },
        )
        # its image's gsd and thresholds, as every count alert's (session 40: only the
        # alerts of count_alerts had them, and one of these replacing its own kind's note
        # took them away)
        if point.gsd is not None:
            alert = _band_note(alert, point.gsd, settings, method == LENGTH_METHOD)
        if method == LENGTH_METHOD:
            alert = _length_note(alert, settings)
        k = keys.get(alert.key)
        if k is None:
            keys[alert.key] = len(out)
            out.append(alert)
        elif severity_rank(out[k].severity) < severity_rank(severity):
            out[k] = alert  # its own kind's record was a note for too little history
    return sorted(out, key=lambda a: (a.when, ALERT_KINDS.index(a.kind)))


def _method_note(
    alert: Alert, method: str, mine: Sequence[datetime], others: Sequence[datetime]
) -> Alert:
    """``alert`` with a sentence saying it was judged against its own method's counts
    (an alert judged against the other methods' record, :func:`_across_methods`, says
    so itself). ``mine`` and ``others`` are the times (UTC, sorted) of the usable counts
    of that method and of the counts made another way."""
    if "across_methods" in alert.metrics:
        return replace(alert, metrics={**alert.metrics, "method": method})
    n_mine = bisect.bisect_left(mine, alert.when)  # earlier counts of each kind
    n_others = bisect.bisect_left(others, alert.when)
    if not n_others:
        # nothing made another way came before it (the series' other method has later
        # counts only, or, on a type's series, only images that cannot tell types): no
        # sentence that "0 earlier counts made another way were not compared"
        return replace(alert, metrics={**alert.metrics, "method": method})
    words = METHOD_WORDS.get(method, f"counts by method '{method}'")
    mine_text = "count" if n_mine == 1 else "counts"
    others_text = "count made another way was" if n_others == 1 else "counts made another way were"
    note = (
        f" Judged against the {n_mine} earlier {mine_text} of the same kind ({words}) only; "
        f"{n_others} earlier {others_text} not compared."
    )
    return replace(
        alert,
        explanation=alert.explanation + note,
        metrics={**alert.metrics, "method": method},
    )


#: Said of every alert on one type's series counted by a detector (method ``objects``).
TYPED_NOTE = (
    " A type's count is the cars the detector named as that type where it was confident "
    "of it (the others are 'railcar'): a lower bound of that type, which also moves when "
    "more or fewer cars are named."
)


#: Said of every alert on the series of cars of no type (``railcar``, method ``objects``;
#: since 2026-12-06, session 40: they read like the site total's, "127 railcars" beside
#: the total's "133 railcars", with no note of what they count).
UNTYPED_NOTE = (
    " Untyped railcars are the cars counted without a type (the detector names a type "
    "only where it is confident of it; the others are 'railcar'), not every car: the site "
    "total's series counts them all. Their count also moves when more or fewer cars are "
    "named a type."
)


#: Said instead of :data:`TYPED_NOTE` of an alert judged on an analyst's count of a type
#: (a scene review): that count is every car of the type, the earlier ones are not.
TYPED_REVIEWED_NOTE = (
    " This image's count of the type is an analyst's (every car of that type), but the "
    "counts it is judged against are the detector's, which name a type only where it was "
    "confident of it (the others are 'railcar'): lower bounds of that type, so part of "
    "the difference may be the naming, not the site."
)


def _typed_note(alert: Alert, part: CountSeries) -> Alert:
    """``alert`` on a type's detector counts (``part``, the series it was judged on), with
    :data:`TYPED_NOTE` (hand counts by type, method ``manual``, are the type's counts and
    get no such note); judged on an analyst's count of the type against the detector's
    counts, with :data:`TYPED_REVIEWED_NOTE` (against earlier analysts' counts only, as
    hand counts: none)."""
    reviewed = bool(alert.metrics.get("reviewed"))
    if reviewed and alert.kind == "shift":  # only a streak of analysts' counts alone
        reviewed = alert.metrics.get("reviewed_images") == alert.metrics.get("confirm_images")
    if not reviewed:
        return replace(alert, explanation=alert.explanation + TYPED_NOTE)
    when = as_utc(alert.when)
    if all(p.reviewed for p in part.usable if as_utc(p.when) < when):
        return alert  # every count it is judged against is an analyst's too
    if alert.severity == "info":
        return replace(alert, explanation=alert.explanation + TYPED_REVIEWED_NOTE)
    # every car of a type against the detector's confident few stands out by the naming
    # alone (35 flat cars against a record of 0 on the demo's 2023-10-05 once reviewed):
    # a note, never an alert of its own; the total's series judges the site
    return replace(
        alert,
        severity="info",
        explanation=alert.explanation
        + TYPED_REVIEWED_NOTE
        + f" Raised as a note only (it would be '{alert.severity}'): the total's series, "
        "where the analyst's count and the detector's count the same cars, says whether "
        "the site changed.",
        metrics={**alert.metrics, "typed_reviewed_severity": alert.severity},
    )


def _n(value: float) -> str:
    """A count as text: whole numbers without decimals."""
    if abs(value - round(value)) < 0.05:
        return str(round(value))
    return f"{value:.1f}"


def _d(day: float | datetime | date) -> str:
    if isinstance(day, datetime | date):
        return day.strftime("%Y-%m-%d")
    return str(np.datetime64(int(np.floor(day)), "D"))


def _cars(cls: str, n: float | None = None, *, length: bool = False) -> str:
    """The cars of a series in words, singular for exactly one car (``n``). ``length``:
    counts from occupied track length (method ``length``, 1.5–10 m imagery), which are
    car equivalents (occupied length / 14 m), not cars seen one by one: "car
    equivalents" (since 2026-12-05, session 33; before, "railcars" as for the others).
    Such counts tell only the total (:func:`railwatch.detect.base.tells_class`); a type's
    series of them (a CSV may give one) is that type's car equivalents."""
    one = n is not None and n == 1.0
    if length:
        what = "car equivalent" if one else "car equivalents"
        return what if cls in ("all", "railcar") else f"{cls} {what}"
    return cars_words(cls, one=one)


def _min_excess(cls: str, general: float, settings: AlertSettings) -> float:
    """Cars above the reference a ``cls`` series needs: ``general`` for the total; per
    type (and covered) at least ``settings.type_min_excess``, because a car's type or
    tarpaulin call can change from one image to the next."""
    return general if cls == "all" else max(general, settings.type_min_excess)


def _ratio(value: float, reference: float) -> float:
    return value / max(reference, 1.0)


def _times(ratio: float) -> str:
    """A ratio in words ("3.6×"): one decimal, or as many more (up to three) as it takes
    not to say "1.0×" of a count that is not the reference's (204 railcars against a
    record of 200 read "1.0× the record" until 2026-12-06, session 39: "1.02×")."""
    text = f"{ratio:.1f}"
    for digits in (2, 3):
        if ratio == 1.0 or float(text) != 1.0:
            break
        text = f"{ratio:.{digits}f}"
    return f"{text}×"


def _times_under(ratio: float, limit: float) -> str:
    """A ratio under ``limit`` in words, with two decimals and never rounded up to it:
    1.199 against a limit of 1.2 is "1.19×", not "1.2×" beside "needs 1.2×"."""
    text = f"{ratio:.2f}"
    if float(text) >= limit:
        text = f"{np.floor(ratio * 100.0) / 100.0:.2f}"
    return f"{text}×"


def _every(n_days: float) -> str:
    """How often, in words: "every day", "every 10 days", "every 12.5 days" ("every 1
    days" of a site imaged daily before session 39; a median gap of 12.5 days, the
    middle of an even number of gaps, read "every 12 days" beside "more than 45 days",
    3.6 times it, before session 47)."""
    if n_days < 0.75:  # "every 0 days" of a site imaged several times a day (review)
        return "more than once a day"
    days = round(float(n_days) * 2) / 2
    return "every day" if days == 1 else f"every {days:g} days"


def _span(n_days: float) -> str:
    """A length of history in words: days under two months, else years."""
    if n_days < 60:
        return plural(round(float(n_days)), "day")
    return f"{n_days / DAYS_PER_YEAR:.1f} years"


def _covers_years(first: float, day: float, years: int) -> bool:
    """Does a history from day number ``first`` to ``day`` span ``years`` years? By the
    record window (``years`` x 365.25 days) or by the calendar: the first image's UTC day
    ``years`` years on (29 February on to 28 February) is on or before ``day``'s. Five
    calendar years are 1,826 or 1,827 days: a history from 2019-01-01 to 2024-01-01, or
    from 2024-02-29 to 2029-02-28, was "shorter than the 5-year window" (its records
    lowered a step), although that window held every image of it."""
    if spans_years(first, day, years):  # to the second, as the window (years_before)
        return True
    start = np.datetime64(int(np.floor(first)), "D").astype(object)
    end = np.datetime64(int(np.floor(day)), "D").astype(object)
    if start.year + years > end.year:
        return False  # (and no year past 9999 is made)
    if start.month == 2 and start.day == 29 and not calendar.isleap(start.year + years):
        start = start.replace(day=28)
    return bool(start.replace(year=start.year + years) <= end)


def _history(days: np.ndarray, i: int) -> tuple[float, str]:
    span = float(days[i] - days[0]) if i > 0 else 0.0
    unit = "image" if i == 1 else "images"
    return span / DAYS_PER_YEAR, f"history: {_span(span)}, {i} usable {unit}"


#: How an explanation names an analyst's count (``CountPoint.reviewed``).
REVIEWED_WORDS = "counted by an analyst (scene review)"


@dataclass(frozen=True)
class _Obs:
    """The image being judged, with the series' usual interval width.

    ``usual`` is the median relative width (high - low) / count of the earlier counts
    of the series (0 when they have no intervals). The part of an interval that every
    count of the series has (a detector's usual error) is already in the series' own
    spread, so only the part beyond it (the **excess**) widens a test or lowers a
    severity: an interval as wide as usual changes nothing, a count without usual
    intervals (hand counts) is judged on its whole interval.

    An analyst's count (``point.reviewed``, a scene review) is exact: its interval is the
    count itself, so it has no excess, no lower or upper bound short of its value and is
    never "uncertain", whatever interval it carries; the series' noise still judges it.
    """

    point: CountPoint
    value: float
    low: float | None
    high: float | None
    usual: float = 0.0

    def text(self, cls: str, *, length: bool) -> str:
        """The count, its interval and day. ``length``: the series' counts are car
        equivalents (:func:`_cars`), except an analyst's count (a scene review), which is
        of the railcars themselves (``railwatch scene review ID --count N``)."""
        interval = ""
        if self.point.reviewed:
            interval = f", {REVIEWED_WORDS},"
        elif self.low is not None and self.high is not None and self.high > self.low:
            interval = f" (interval {self.bounds()})"
        cars = _cars(cls, self.value, length=length and not self.point.reviewed)
        return f"{_n(self.value)} {cars}{interval} on {_d(self.point.when)}"

    def bounds(self) -> str:
        """The interval in words, "84–170": a count of whole cars (by objects) has its
        bounds rounded outward to whole cars ("84–169.4" until 2026-12-06, session 39,
        where haze had widened one bound); car equivalents keep one decimal."""
        low, high = whole_car_bounds(
            self.value, self.low or 0.0, self.high or 0.0, self.point.method
        )
        return f"{_n(low)}–{_n(high)}"

    def _width(self) -> float:
        if self.low is None or self.high is None or self.point.reviewed:
            return 0.0
        return max(self.high - self.low, 0.0)

    def excess(self) -> float:
        """Fraction (0-1) of the interval beyond the series' usual width, in quadrature."""
        width = self._width()
        if width <= 0.0:
            return 0.0
        usual = self.usual * max(self.value, 1.0)
        return float(np.sqrt(max(0.0, 1.0 - (usual / width) ** 2)))

    def sigma(self) -> float:
        """The count's own standard error beyond the series' usual: the excess of its
        interval read as ±2 sigma (0 without an interval or with a usual one)."""
        return self._width() * self.excess() / 4.0

    def lower(self) -> float | None:
        """The lower bound allowing for the excess uncertainty only (None: no interval)."""
        if self.low is None or self.excess() <= 0.0:
            return None
        return self.value - (self.value - min(self.low, self.value)) * self.excess()

    def upper(self) -> float | None:
        """The upper bound allowing for the excess uncertainty only (None: no interval)."""
        if self.high is None or self.excess() <= 0.0:
            return None
        return self.value + (max(self.high, self.value) - self.value) * self.excess()

    def wide(self, settings: AlertSettings) -> str | None:
        """Why the count is uncertain (interval wide for a count and for this series)."""
        width = self._width()
        if width <= 0.0:
            return None
        rel = width / max(self.value, 1.0)
        if rel <= settings.wide_interval or rel <= settings.wide_vs_usual * self.usual:
            return None
        usual = (
            f", against a usual {100 * self.usual:.0f} % for this site" if self.usual > 0 else ""
        )
        return (
            f"the count is uncertain (interval {self.bounds()} is "
            f"{100 * rel:.0f} % of the count{usual})"
        )


def _usual_widths(usable: Sequence[CountPoint], settings: AlertSettings) -> np.ndarray:
    """Per image, the median relative interval width of the ``interval_history``
    usable images before it that have an interval (0 when none has); an analyst's count
    has none (its interval is the count itself, not the detector's error)."""
    # an analyst's count (low == high == count) is not the detector's usual width: left
    # out, or a few reviews would make every detector interval after them look wide
    rel = np.array(
        [
            (p.high - p.low) / max(float(p.count or 0.0), 1.0)
            if p.low is not None and p.high is not None and not p.reviewed
            else np.nan
            for p in usable
        ],
        dtype=float,
    )
    m = settings.interval_history
    starts = [max(0, i - m) for i in range(len(usable))]
    medians = rolling_medians(rel, starts, settings.interval_min_points)
    return np.array([0.0 if w is None else w for w in medians], dtype=float)


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


def _noted_or_lowered(severity: str, note: str | None, reasons: list[str]) -> tuple[str, str]:
    """Info with ``note`` when there is one (a precedent, too little history), else the
    severity lowered for ``reasons`` (:func:`_lowered`), and the sentence that says why."""
    if note is not None:
        return "info", f" Info only: {note}."
    return _lowered(severity, reasons)


def _judged(
    severity: str, note: str | None, reasons: list[str], obs: _Obs, settings: AlertSettings
) -> tuple[str, str]:
    """:func:`_noted_or_lowered` of a one-image alert (spike, drop), with the count's
    wider-than-usual interval among the reasons."""
    if (wide := obs.wide(settings)) is not None:
        reasons.append(wide)
    return _noted_or_lowered(severity, note, reasons)


def _against_baseline(base: Baseline, z: float, ratio: float) -> dict[str, float | str]:
    """The metrics a one-image alert (spike, drop) shares: its baseline, spread, z-score
    and ratio to the baseline."""
    return {
        "baseline": round(base.centre, 3),
        "spread": round(base.spread, 3),
        "z": round(z, 2),
        "ratio": round(ratio, 3),
    }


def _make(
    kind: str, severity: str, obs: _Obs, cls: str, text: str, metrics: dict[str, float | str]
) -> Alert:
    if obs.point.reviewed:  # judged on an analyst's count (absent otherwise: keys as before)
        metrics = {**metrics, "reviewed": 1.0}
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


@dataclass
class _Cusum:
    """Two-sided CUSUM of clipped robust z-scores (mutable loop state of one series)."""

    up: float = 0.0
    down: float = 0.0
    # after a change noted as info (the baseline is kept), no new note in that direction
    # until the sum has come back to zero (the images are back in the usual range); the
    # level tests still judge each image, and a change they raise (above info) is raised
    # (:func:`_level_change`; since session 31: until then the hold stopped them)
    hold_up: bool = False
    hold_down: bool = False
    # the new level of the latest upward change noted as info (0: none): a rise far above
    # it is a new change, which the hold must not hide (see :func:`_trigger`)
    noted_up: float = 0.0

    def add(self, z: float, settings: AlertSettings) -> None:
        zc = min(max(float(z), -settings.shift_clip), settings.shift_clip)  # np.clip
        # capped, so a sum the confirmation rejected does not grow stale without bound
        cap = settings.shift_h + settings.shift_clip
        self.up = min(cap, max(0.0, self.up + zc - settings.shift_k))
        self.down = min(cap, max(0.0, self.down - zc - settings.shift_k))
        self.hold_up = self.hold_up and self.up > 0.0
        self.hold_down = self.hold_down and self.down > 0.0

    def alarm(self, up: bool, settings: AlertSettings) -> float | None:
        """The sum in that direction when it signals a change, else None (held or not:
        a held direction's change is raised only above info, :func:`_level_change`)."""
        total = self.up if up else self.down
        return total if total >= settings.shift_h else None

    def held(self, up: bool) -> bool:
        """Is that direction held (a change there was just noted as info)?"""
        return self.hold_up if up else self.hold_down

    def past_noted(self, up: bool, settings: AlertSettings) -> float:
        """While upward changes are held after a change noted as info, the count each image
        of a confirming streak must reach (:func:`_shift`'s ``above``): ``shift_each_ratio``
        x the noted level (0: no such hold)."""
        if not (up and self.hold_up and self.noted_up > 0.0):
            return 0.0
        return settings.shift_each_ratio * self.noted_up

    def reset(self) -> None:
        self.up = self.down = 0.0
        self.hold_up = self.hold_down = False
        self.noted_up = 0.0

    def hold(self, up: bool, level: float = 0.0) -> None:
        """A change noted as info (to ``level``): restart that direction and hold it."""
        if up:
            self.up, self.hold_up, self.noted_up = 0.0, True, level
        else:
            self.down, self.hold_down = 0.0, True


@dataclass(frozen=True)
class JudgedBaseline:
    """The baseline the count rules judged one usable image of a series with
    (:func:`baseline_trace`): its centre and spread as the spike, drop and level tests
    took them, after a raised shift from the new level's images only, deseasonalised by
    month factors once the history is long enough and with the series' own noise in the
    spread. ``centre`` and ``spread`` are None where the image was not judged: fewer than
    ``min_points`` images of its level before it (``level_images``), or those it needs
    older than twice the baseline window."""

    #: The image's time as the series gives it (a stored site's: its local time).
    when: datetime
    scene_id: int | None
    centre: float | None
    #: The baseline's robust spread (the series' noise folded in): the band's.
    spread: float | None
    #: The scale the image's z-score used: ``spread``, or the count's own uncertainty
    #: where its interval is wider than the series' usual (never below ``spread``).
    scale: float | None
    #: The first image of the level the image was judged in: the start of the change of
    #: the last raised shift before it (None: no raised shift before it, the series'
    #: first level).
    level_from: datetime | None
    #: The image at which that shift was raised (None with ``level_from``).
    level_raised: datetime | None
    #: Usable images of that level before this one, and how many a baseline needs there
    #: (``baseline_min_points``; ``regime_min_points`` after a raised shift).
    level_images: int
    min_points: int
    #: The month factor the centre was reseasonalised by (1: none).
    seasonal_factor: float = 1.0

    @property
    def judged(self) -> bool:
        """Was the image judged against a baseline?"""
        return self.centre is not None

    @property
    def too_few(self) -> bool:
        """Not judged for too few images of its level before it (else, not judged: those
        it needs are older than twice the baseline window)."""
        return self.centre is None and self.level_images < self.min_points


@dataclass
class _Trace:
    """What the count loop keeps per usable image for :func:`baseline_trace` (arrays
    filled as the loop goes; read once at the end)."""

    centres: np.ndarray
    spreads: np.ndarray
    scales: np.ndarray
    factors: np.ndarray
    regimes: list[int]
    #: per image, the image at which its level's shift was raised (0: none)
    raised: list[int]
    min_points: list[int]


def count_alerts(series: CountSeries, settings: AlertSettings) -> list[Alert]:
    """Record, spike, shift and drop alerts of one class series (usable images only).

    The explanations call the counts "car equivalents" where every usable count of the
    series is one by occupied track length (method ``length``), else "railcars"
    (:func:`_cars`; since 2026-12-05, session 33)."""
    return _judge_series(series, settings)[0]


def baseline_trace(series: CountSeries, settings: AlertSettings) -> tuple[JudgedBaseline, ...]:
    """Per usable image of one class series of one counting method (as
    :func:`analyze_series` gives :func:`count_alerts` each part of
    ``split_by_method``), the baseline the count rules judged it with
    (:class:`JudgedBaseline`), from the same loop as the alerts: the one source of the
    baseline a report or chart shows (since 2026-12-07, session 45; before, the report
    computed a plain median of its own, which after a raised shift still showed the old
    level the shift alert had left)."""
    usable = series.usable
    trace = _judge_series(series, settings)[1]
    out = []
    for i, p in enumerate(usable):
        judged = bool(np.isfinite(trace.centres[i]))
        regime = trace.regimes[i]
        out.append(
            JudgedBaseline(
                when=p.when,
                scene_id=p.scene_id,
                centre=float(trace.centres[i]) if judged else None,
                spread=float(trace.spreads[i]) if judged else None,
                scale=float(trace.scales[i]) if judged else None,
                level_from=usable[regime].when if regime > 0 else None,
                level_raised=usable[trace.raised[i]].when if regime > 0 else None,
                level_images=i - regime,
                min_points=trace.min_points[i],
                seasonal_factor=float(trace.factors[i]) if judged else 1.0,
            )
        )
    return tuple(out)


def _judge_series(series: CountSeries, settings: AlertSettings) -> tuple[list[Alert], _Trace]:
    """The alerts of :func:`count_alerts` and the per-image baselines of
    :func:`baseline_trace`, from one pass over the series."""
    usable = series.usable
    days, counts = series.arrays()
    n = len(usable)
    trace = _Trace(
        centres=np.full(n, np.nan),
        spreads=np.full(n, np.nan),
        scales=np.full(n, np.nan),
        factors=np.ones(n),
        regimes=[0] * n,
        raised=[0] * n,
        min_points=[0] * n,
    )
    if n == 0:
        return [], trace
    # the texts' noun: car equivalents where every count is one (occupied track length);
    # analyze_series gives each method's counts apart (a mixed series says "railcars")
    length = all(p.method == LENGTH_METHOD for p in usable)
    months, years = month_of(days), year_of(days)
    usual = _usual_widths(usable, settings)
    ratios = np.full(n, np.nan)
    # per judged image: log((count + 1) / (centre + 1)), from which the series' own noise
    resid = np.full(n, np.nan)
    # per image: baseline centre and the scale its z-score used (NaN: not judged)
    centres, scales = trace.centres, trace.scales
    # per image: the segment test's reference, a baseline over a longer window (less
    # noisy than the level tests' own; deseasonalised alike), NaN where there is none
    long_centres = np.full(n, np.nan)
    long_settings = settings.model_copy(
        update={"baseline_window_days": settings.shift_segment_window_days}
    )
    zs = np.full(n, np.nan)  # per judged image: the z-score the level tests use
    judged = np.zeros(n, dtype=bool)  # judged against the current level (since the last shift)
    regime = 0  # index where the current level began (after the last shift)
    raised = 0  # index where that shift was raised
    cusum = _Cusum()
    # (day of the last record alert, the standing record, day of the rise's first record)
    episode: tuple[float, Record, float] | None = None
    dropped = False
    alerts: list[Alert] = []
    # per calendar month: the month factors, and what the judged month's rests on
    season_cache: dict[int, tuple[np.ndarray, tuple[int, int]]] = {}
    seasons = SeasonalFactors(months, years, settings)
    # per image, the past year's median and the trailing record (as trailing_level with
    # first 0 and trailing_record give them)
    levels = trailing_levels(days, counts)
    records = trailing_records(days, counts, settings.record_years)
    windows = WindowBaselines(days, counts, months, settings)
    long_windows = WindowBaselines(days, counts, months, long_settings)
    noises = SeriesNoise(settings)  # the series' noise from the residuals before i
    seasonal_from = days[0] + settings.seasonal_min_years * DAYS_PER_YEAR
    # the thresholds per resolution band and count method: each image is judged with its
    # own gsd's and method's
    bands: dict[tuple[bool, bool], AlertSettings] = {}
    below = 0  # judged images in a row at or below the drop line (drop confirmation)
    # the arrays' values as Python floats, read one at a time below
    day_list, count_list, usual_list = days.tolist(), counts.tolist(), usual.tolist()
    reviewed = [p.reviewed for p in usable]  # per image: an analyst's count
    month_list, year_list = months.tolist(), years.tolist()
    for i in range(n):
        p = usable[i]
        obs = _Obs(p, count_list[i], p.low, p.high, usual_list[i])
        key = (settings.is_coarse(p.gsd), p.method == LENGTH_METHOD)
        if key not in bands:
            bands[key] = settings.for_image(p.gsd, p.method)
            # (and the band's own, without the method's: for a rise that waits, below)
            bands[(key[0], False)] = settings.for_gsd(p.gsd)
        judge = bands[key]
        n_before = len(alerts)
        factors = None
        support = (0, 0)
        if day_list[i] >= seasonal_from:
            # Month factors are refreshed once per calendar month, from images before it.
            month_key = year_list[i] * 12 + month_list[i]
            if month_key not in season_cache:
                season_cache[month_key] = (
                    seasons.at(ratios, i),
                    seasons.support(month_list[i]),
                )
            factors, support = season_cache[month_key]
        level = levels[i]  # the past year's median (all levels)
        min_pts = settings.baseline_min_points if regime == 0 else settings.regime_min_points
        trace.regimes[i], trace.raised[i], trace.min_points[i] = regime, raised, min_pts
        base = windows.at(i, regime, min_pts, factors, support)
        if base is not None:
            long = long_windows.centre(i, regime, min_pts, factors)
            long_centres[i] = base.centre if long is None else long
        noise = noises.value()  # series_noise(resid[:i])
        if base is not None:
            base = with_series_noise(base, noise, settings)
            resid[i] = np.log((obs.value + SEASON_OFFSET) / (base.centre + SEASON_OFFSET))
            noises.add(float(resid[i]))
        shift: Alert | None = None
        pending = False  # a rise that waits for its confirming image (see below)
        if base is None:
            cusum.reset()
        else:
            centres[i] = base.centre
            trace.spreads[i], trace.factors[i] = base.spread, base.seasonal_factor
            scales[i] = max(base.spread, obs.sigma())
            judged[i] = True
            zs[i] = (obs.value - base.centre) / scales[i]
            cusum.add(zs[i], judge)

            for up in (True, False):
                found = _level_change(series.cls, up, i, cusum, judged, zs, counts, centres,
                                      long_centres, scales, noise, usable, usual, days,
                                      judge, length=length)  # fmt: skip
                if found is not None:
                    shift = found[0]
                    if shift.severity == "info":
                        # a seasonal or first-year change: noted once, baseline kept
                        cusum.hold(up, float(shift.metrics.get("new_level", 0.0)))
                    else:
                        regime = found[1]  # the new level is the baseline from here on
                        raised = i
                        cusum.reset()
                        judged[:] = False
                    break
            if shift is None and judge.shift_confirm_points > settings.shift_confirm_points:
                # a rise that the plain shift_confirm_points would confirm but these counts'
                # thresholds do not yet: a new level waiting for its next image, or two
                # far-out images in a row; either way not one image that stands out (spike)
                pending = _level_change(series.cls, True, i, cusum, judged, zs, counts,
                                        centres, long_centres, scales, noise, usable, usual,
                                        days, bands[(key[0], False)],
                                        length=length) is not None  # fmt: skip
        if shift is not None:
            alerts.append(shift)
            dropped = False
            below = 0
        # the image judged on its own (spike): unless a raised shift explains it or a rise
        # waits for its confirming image; a change only noted (seasonal, first years; the
        # baseline is kept) does not stop it (``spike_after_noted_shift``)
        if shift is None:
            judge_spike = not pending
        else:
            judge_spike = shift.severity == "info" and judge.spike_after_noted_shift
        if base is not None and judge_spike:
            lull = _lull(base, level, factors, month_list[i], settings)
            spike = _spike(series.cls, obs, lull, days, counts, i, judge, noise, length=length)
            if spike is not None:
                alerts.append(spike)
        if shift is None and base is not None:  # a drop (a raised shift explains it)
            if obs.value > judge.drop_ratio * base.centre:
                dropped = False
                below = 0
            else:
                below += 1
                if not dropped:
                    drop = _drop(
                        series.cls, obs, base, days, counts, i, judge, noise, below, length=length
                    )
                    if drop is not None and below < judge.drop_confirm_points and not p.reviewed:
                        # one image at the drop line is a note until the next confirms it
                        # (a confirmed drop is raised then; the note does not end the episode);
                        # an analyst's count is no estimate that needs confirming
                        alerts.append(_unconfirmed_drop(drop, below, judge, p.method))
                    elif drop is not None:
                        alerts.append(drop)
                        dropped = True
        elif shift is None:
            below = 0
        record = records[i]
        if record is not None and obs.value > record.value:
            if episode is None or day_list[i] - episode[0] > settings.record_episode_days:
                episode = (day_list[i], record, day_list[i])
            episode = (day_list[i], episode[1], episode[2])
            # were the rise's counts all above the record it is judged against? (its text
            # says "have been above that record since" only then)
            rise_from = int(np.searchsorted(days, episode[2], side="left"))
            held_above = bool(np.all(counts[rise_from:i] > episode[1].value))
            found_record = _record(series.cls, obs, record, episode[1], days, i, judge, noise,
                                   episode[2], reviewed=reviewed, held_above=held_above,
                                   length=length)  # fmt: skip
            alerts.append(found_record)
        if level is not None:
            ratios[i] = (obs.value + SEASON_OFFSET) / (level + SEASON_OFFSET)
        if p.gsd is not None:
            alerts[n_before:] = [_band_note(a, p.gsd, settings, key[1]) for a in alerts[n_before:]]
        if key[1]:
            alerts[n_before:] = [_length_note(a, settings) for a in alerts[n_before:]]
    return alerts, trace


def _unconfirmed_drop(alert: Alert, below: int, judge: AlertSettings, method: str) -> Alert:
    """A drop seen in fewer than ``judge.drop_confirm_points`` images in a row: a note that
    keeps the severity it would have had (``metrics["unconfirmed_severity"]``)."""
    if alert.severity == "info":
        return alert
    words = METHOD_WORDS.get(method, f"counts by method '{method}'")
    need = judge.drop_confirm_points
    images = "one image" if below == 1 else f"{below} images"
    note = (
        f" Raised as a note only: {images} of {words} at the drop line "
        f"{'is' if below == 1 else 'are'} not enough (such estimates are several times off "
        f"in some scenes; {need} in a row are needed); it would be '{alert.severity}' if "
        f"the next image confirms it."
    )
    return replace(
        alert,
        severity="info",
        explanation=alert.explanation + note,
        metrics={**alert.metrics, "unconfirmed_severity": alert.severity},
    )


def _length_note(alert: Alert, settings: AlertSettings) -> Alert:
    """``alert`` of an occupied-length count with ``method_thresholds`` in its metrics and,
    for the rules that have ``length_`` thresholds (shift, drop), a sentence naming them."""
    metrics: dict[str, float | str] = {**alert.metrics, "method_thresholds": LENGTH_METHOD}
    text = alert.explanation
    fields = [f for f in LENGTH_FIELDS if f.startswith(f"{alert.kind}_")]
    if alert.metrics.get("reviewed") and alert.kind == "drop":
        fields = []  # an analyst's count at the drop line waits for no confirming image
    if fields and alert.kind != "quality":
        used = ", ".join(f"{f} {getattr(settings, f'length_{f}'):g}" for f in fields)
        text += (
            f" Judged with the thresholds for counts from occupied track length (their "
            f"errors are heavy-tailed): {used}."
        )
    return replace(alert, explanation=text, metrics=metrics)


def _band_note(alert: Alert, gsd: float, settings: AlertSettings, length: bool = False) -> Alert:
    """``alert`` with the judged image's gsd and resolution band in its metrics, and, when
    the image is coarse and the alert's rule has thresholds per band, a sentence naming
    the coarse values that judged it (``coarse_from_gsd``); for an occupied-length count
    (``length``) without those its ``length_`` values replaced (:func:`_length_note`)."""
    coarse = settings.is_coarse(gsd)
    metrics: dict[str, float | str] = {
        **alert.metrics,
        "gsd": gsd,
        "thresholds": "coarse" if coarse else "fine",
    }
    text = alert.explanation
    fields = [
        f
        for f in BAND_FIELDS
        if f.startswith(f"{alert.kind}_")
        and not (length and f in LENGTH_FIELDS)
        # the doubled-pair ratio judges only shifts of the two-image test
        and (f != "shift_pair_ratio" or alert.metrics.get("test") == "two-image")
    ]
    if coarse and fields:
        used = ", ".join(f"{f} {getattr(settings, f'coarse_{f}'):g}" for f in fields)
        text += (
            f" Judged with the thresholds for imagery of {settings.coarse_from_gsd:g} m and "
            f"coarser (this image: {gsd:g} m; its counts vary more): {used}."
        )
    return replace(alert, explanation=text, metrics=metrics)


#: The level tests that can signal a shift, tried in this order at each image.
SHIFT_TESTS = ("cusum", "two-image", "segment")


def _level_change(
    cls: str,
    up: bool,
    i: int,
    cusum: _Cusum,
    judged: np.ndarray,
    zs: np.ndarray,
    counts: np.ndarray,
    centres: np.ndarray,
    long_centres: np.ndarray,
    scales: np.ndarray,
    noise: float | None,
    usable: Sequence[CountPoint],
    usual: np.ndarray,
    days: np.ndarray,
    settings: AlertSettings,
    *,
    length: bool,
) -> tuple[Alert, int] | None:
    """The shift at image ``i`` in that direction from the first level test
    (:data:`SHIFT_TESTS`) that :func:`_shift` confirms with ``settings``, and its change
    index; None when there is none.

    While that direction is held after a change noted as info (:meth:`_Cusum.hold`), a
    change the tests find is returned only when it is above info: a note of the same
    change is not repeated, but a level the note does not explain (say a doubling that
    follows a seasonal rise, or that began inside the noted streak, whose median then held
    images from before it) is raised. Until session 31 the hold stopped the CUSUM and
    segment tests outright (and the two-image test but for a pair far above the noted
    level), and such a doubling went unraised for 8 to 22 images."""
    held = cusum.held(up)
    for test in SHIFT_TESTS:
        ref = long_centres if test == "segment" else centres
        total, start = _trigger(test, up, i, cusum, judged, zs, counts, ref, scales, noise,
                                settings)  # fmt: skip
        if total is not None:
            # past the hold of a noted rise (:meth:`_Cusum.past_noted`), the streak is the images
            # above that rise's level: the noted images before them are not the new level
            above = cusum.past_noted(up, settings)
            found = _shift(cls, up, days, counts, usable, i, judged, ref, scales, total,
                           settings, usual, test=test, noise=noise, start=start,
                           above=above, length=length)  # fmt: skip
            if found is not None and not (held and found[0].severity == "info"):
                return found
    return None


def _trigger(
    test: str,
    up: bool,
    i: int,
    cusum: _Cusum,
    judged: np.ndarray,
    zs: np.ndarray,
    counts: np.ndarray,
    centres: np.ndarray,
    scales: np.ndarray,
    noise: float | None,
    settings: AlertSettings,
) -> tuple[float | None, int | None]:
    """One level test at image ``i``: its statistic when it signals a change in that
    direction (else None) and, for the segment test, the first image of the segment."""
    if test == "cusum":
        return cusum.alarm(up, settings), None
    if test == "two-image":
        return _pair(up, i, judged, zs, counts, centres, settings), None
    found = _segment(up, i, judged, counts, centres, scales, noise, settings)
    return (None, None) if found is None else found


def _pair(
    up: bool,
    i: int,
    judged: np.ndarray,
    zs: np.ndarray,
    counts: np.ndarray,
    centres: np.ndarray,
    settings: AlertSettings,
) -> float | None:
    """The two-image level test: the sum of the last two images' robust z-scores (same
    baseline regime, same direction, each at least ``shift_each_z``) when that sum / sqrt(2)
    reaches ``shift_pair_z``, or, upwards, when the two images are on average at least
    ``shift_pair_ratio`` x their baseline (:func:`_pair_doubled`); else None. Two images
    far beyond the usual range are a new level as soon as the second arrives, where the
    CUSUM (allowance ``shift_k`` per image) may need a third; the streak rule in
    :func:`_shift` still confirms it."""
    if i < 1 or not judged[i - 1] or settings.shift_pair_z <= 0:
        return None
    if (1.0 if up else -1.0) * zs[i] < settings.shift_each_z:
        return None  # (the test below, on the last image alone: most images stop here)
    z = (1.0 if up else -1.0) * zs[i - 1 : i + 1]
    if float(z.min()) < settings.shift_each_z:
        return None
    if float(z.sum()) / np.sqrt(2) < settings.shift_pair_z and not (
        up and _pair_doubled(counts[i - 1 : i + 1], centres[i - 1 : i + 1], settings)
    ):
        return None
    return float(z.sum())


def _pair_doubled(seg: np.ndarray, ref: np.ndarray, settings: AlertSettings) -> bool:
    """Are two images on average (geometric mean of (count + 1) / (centre + 1)) at least
    ``shift_pair_ratio`` x their baseline? Such a pair needs only
    ``shift_pair_ratio_level_z`` (instead of ``shift_level_z``) times the series' noise in
    the streak's level test: the goal is a doubling raised at its second image, and a pair
    that large is rarely chance even at a noisy site; smaller pairs keep the stricter test.
    Not where the baseline is under ``shift_pair_ratio_min_level`` cars (3 to 7 cars in two
    images is no new level)."""
    if settings.shift_pair_ratio <= 0 or len(seg) != 2:
        return False
    if float(np.mean(ref)) < settings.shift_pair_ratio_min_level:
        return False  # on a few cars a ratio is mostly counting noise
    return _geo_ratio(seg, ref) >= settings.shift_pair_ratio


def _geo_ratio(seg: np.ndarray, ref: np.ndarray) -> float:
    """The geometric mean of (count + 1) / (centre + 1) over the images of ``seg``."""
    return float(np.exp(np.mean(np.log((seg + SEASON_OFFSET) / (ref + SEASON_OFFSET)))))


def _segment(
    up: bool,
    i: int,
    judged: np.ndarray,
    counts: np.ndarray,
    centres: np.ndarray,
    scales: np.ndarray,
    noise: float | None,
    settings: AlertSettings,
) -> tuple[float, int] | None:
    """The segment level test (upward changes only): the last k images (3 <= k <=
    ``shift_segment_images``, same baseline regime) against the baseline at the first of
    them, computed from the images before it over ``shift_segment_window_days`` (a longer
    window than the level tests', so a less noisy reference). Every image must be above
    that baseline and at least ``shift_confirm_points`` of them beyond its usual range (a
    change confirmed by more than one image); the mean log ratio
    log((count + 1) / (centre + 1)), in units of the series' own noise and each clipped at
    ``shift_segment_clip``, x sqrt(k) must reach ``shift_segment_z``. Returns that
    statistic and the first image of the best segment, or None.

    Why: the CUSUM works on z-scores against the moving baseline, whose spread is the
    trailing window's, and the streak rule asks every image to be 1.5x beyond; at a noisy
    site a 2x step seen as 1.6x, 1.7x, 1.3x, 1.8x passes neither, though by the series'
    own noise it is a new level within four images (a baseline estimated a little high
    makes such a step look like 1.4-1.6x image after image). Not applied where the
    baseline is under ``shift_segment_min_level`` cars (there a log ratio is mostly
    counting noise), nor downwards (the drop rule and the CUSUM judge falls; a log test on
    a few cars' fall is dominated by the long lower tail of small counts), nor on two
    images (the two-image test's, :func:`_pair`, whose confirmation asks ``shift_level_z``:
    on two images the log test alone let chance pairs through). :func:`_shift` then
    applies its other checks (level ratio, cars of change, seasonal precedent) against the
    same reference."""
    if not up or noise is None or noise <= 0 or settings.shift_segment_images < 3:
        return None
    best: tuple[float, int] | None = None
    for k in range(3, settings.shift_segment_images + 1):
        s = i - k + 1
        if s < 0 or not judged[s : i + 1].all():
            break
        ref, scale = float(centres[s]), float(scales[s])
        if ref < settings.shift_segment_min_level:
            continue
        seg = counts[s : i + 1]
        # every image above the baseline, at least shift_confirm_points of them beyond its
        # usual range (a new level confirmed by more than one image)
        if float(seg.min()) <= ref:
            continue  # (an earlier start has another reference: go on)
        beyond = [_beyond(True, float(c), ref, scale, settings) for c in seg]
        if sum(beyond) < settings.shift_confirm_points:
            continue
        # each image adds at most shift_segment_clip noise units: a spike is not a level
        units = np.log((seg + SEASON_OFFSET) / (ref + SEASON_OFFSET)) / noise
        stat = float(np.mean(np.minimum(units, settings.shift_segment_clip))) * np.sqrt(k)
        if stat >= settings.shift_segment_z and (best is None or stat > best[0]):
            best = (stat, s)
    return best


def _lull(
    base: Baseline,
    level: float | None,
    factors: np.ndarray | None,
    month: int,
    settings: AlertSettings,
) -> Baseline:
    """The baseline for spikes: at least ``lull_floor`` x the site's (seasonal) level of
    the past year (``level``), so a return from a quiet spell is not a spike."""
    if level is None or settings.lull_floor <= 0:
        return base
    factor = float(factors[month]) if factors is not None else 1.0
    floor = settings.lull_floor * level * factor
    if floor <= base.centre:
        return base
    return replace(
        base,
        centre=floor,
        spread=max(base.spread, spread_floor(floor, settings)),
        note=(
            f"; the recent images are a lull, so the usual is taken as "
            f"{100 * settings.lull_floor:.0f} % of the past year's median {_n(level)}"
        ),
    )


def _season_support(base: Baseline, month: str) -> str:
    """What a month's seasonal factor rests on, said after it: ", from 11 July images in
    5 years" (nothing where it is not known). A factor of a few images over two or
    three years is the season as far as seen, not yet a sure one (session 53: the
    explanation gave the factor alone, e.g. the demo's 1.45 for July on 11 images)."""
    if base.season_images <= 0:
        return ""
    years = base.season_years
    return (
        f", from {base.season_images} {month} image{'s' if base.season_images != 1 else ''} "
        f"in {years} year{'s' if years != 1 else ''}"
    )


def _baseline_text(base: Baseline, d: float) -> str:
    season = ""
    month = _MONTHS[int(month_of(np.array([d]))[0])]
    if abs(base.seasonal_factor - 1.0) > 0.005:
        season = (
            f", seasonal factor {base.seasonal_factor:.2f} for {month}"
            f"{_season_support(base, month)}"
        )
    elif base.adjusted:
        # the window's counts were taken out of their own months' seasons: the centre is
        # not their plain median (until session 24 nothing said so, and a median checked
        # by hand against the images listed came out different)
        season = (
            f", each taken out of its own month's season (seasonal factor "
            f"{base.seasonal_factor:.2f} for {month})"
        )
    noise = ""
    if base.window_spread > 0:  # the spike test's pooled spread (session 43)
        # what it was pooled with, in cars, and when that was the count floor, so (since
        # 2026-12-07, session 47): "pooled with this site's own image-to-image variation of
        # ±13 %" alone was said of a spread pooled with the floor, ±3.6 where the 13 % was
        # ±1.6, and the spread could not be had by hand
        noise = (
            f", the window's own ±{_n(base.window_spread)} pooled with this site's own "
            f"image-to-image variation of ±{100 * base.series_noise:.0f} %"
        )
        if base.pool_ref > base.pool_noise:
            noise += (
                f" (±{_n(base.pool_noise)} at this level) raised to ±{_n(base.pool_ref)}, "
                f"the least a count of about {_n(base.centre)} varies by"
            )
        elif base.pool_ref > 0:
            noise += f" (±{_n(base.pool_ref)} at this level)"
    elif base.series_noise > 0:
        noise = (
            f", from this site's own image-to-image variation of ±{100 * base.series_noise:.0f} %"
        )
    return (
        f"the usual {_n(base.centre)} (median of {base.n_points} usable images over the previous "
        f"{base.window_days:.0f} days{season}{base.note}; typical spread ±{_n(base.spread)}"
        f"{noise})"
    )


def _first_year(days: np.ndarray, i: int, settings: AlertSettings) -> str | None:
    """Why a change of level cannot be judged yet: no full year of seasons seen."""
    span = float(days[i] - days[0])
    if span < settings.short_history_days:
        return (
            f"the history is short ({_span(span)}) and no season has been seen twice, "
            "so a change of level may be the season"
        )
    return None


def _seasons_once(days: np.ndarray, i: int, settings: AlertSettings) -> str | None:
    """Why a change of level is only a note: less than ``shift_season_days`` of history,
    so each season has been seen at most once (a site's season varies from year to year)."""
    first = _first_year(days, i, settings)
    span = float(days[i] - days[0])
    if first is not None or span >= settings.shift_season_days:
        return first
    return (
        f"the history is short ({_span(span)}): each season has been seen only once, so a "
        "change of level may be this year's season"
    )


def _precedent(
    refs: list[SeasonRef],
    stat: str,
    value: float,
    up: bool,
    ratio: float,
    cls: str,
    *,
    length: bool,
) -> str | None:
    """Why ``value`` is not new for the season: an earlier year's same weeks reached it
    (``stat`` of those weeks >= ``ratio`` x value, or <= value / ``ratio`` going down;
    both as count + 1)."""
    if stat == "median":
        refs = [r for r in refs if r.n_points >= 3]

    def key(r: SeasonRef) -> float:
        return {"median": r.median, "high": r.high, "low": r.low}[stat]

    # compared as (count + 1), like the seasonal factors, so empty seasons compare sanely
    v = value + SEASON_OFFSET
    if up:
        hits = [r for r in refs if key(r) + SEASON_OFFSET >= ratio * v]
    else:
        hits = [r for r in refs if (key(r) + SEASON_OFFSET) * ratio <= v]
    if not hits:
        return None
    ref = max(hits, key=key) if up else min(hits, key=key)
    word = {"median": "had about", "high": "had up to", "low": "had as few as"}[stat]
    images = "image" if ref.n_points == 1 else "images"
    return (
        f"the same weeks of {ref.year} {word} {_n(key(ref))} {_cars(cls, length=length)} "
        f"({ref.n_points} usable {images}), so {_n(value)} is not new for the season"
    )


def _record(
    cls: str,
    obs: _Obs,
    record: Record,
    standing: Record,
    days: np.ndarray,
    i: int,
    settings: AlertSettings,
    noise: float | None = None,
    rise_start: float | None = None,
    *,
    reviewed: Sequence[bool] = (),
    held_above: bool = True,
    length: bool,
) -> Alert:
    """A record alert for image ``i``: ``record`` is the trailing record it beats,
    ``standing`` the record before the rise it continues (``record`` itself for a
    rise's first record), ``rise_start`` the day of that rise's first record;
    ``reviewed[j]``: image j's count is an analyst's (a record set by one says so);
    ``held_above``: every usable count since ``rise_start`` was above ``standing``."""

    def whose(rec: Record) -> str:
        return " (an analyst's count)" if rec.index < len(reviewed) and reviewed[rec.index] else ""

    years, history = _history(days, i)
    ratio = _ratio(obs.value, standing.value)
    excess = obs.value - standing.value
    history_days = float(days[i] - days[0])
    n_years = settings.record_years
    short = not _covers_years(float(days[0]), float(days[i]), n_years)
    if ratio >= settings.record_high_ratio:
        severity = "high"
    elif ratio >= settings.record_medium_ratio:
        severity = "medium"
    elif ratio >= settings.record_low_ratio:
        severity = "low"
    else:
        severity = "info"
    notes: list[str] = []
    # why a record is a note is said of every rule that makes it one (until 2026-12-07,
    # session 47, the ratio and the cars of excess made notes without a word: "10 covered
    # cars ... 2.0× the record, the first time above it in 5 years", info, no reason)
    if severity == "info" and standing.value >= 1.0:
        notes.append(
            f"it is only {_times_under(ratio, settings.record_low_ratio)} the record (a "
            f"record needs {settings.record_low_ratio:g}× it to be more than a note)"
        )
    min_excess = _min_excess(cls, settings.record_min_excess, settings)
    if excess < min_excess:
        severity = "info"
        notes.append(
            f"it beats the record by {_n(excess)} {_cars(cls, excess, length=length)} (a "
            f"record needs to beat it by {_n(min_excess)} or more to be more than a note)"
        )
    # a count at least record_high_ratio x the record is never a chance record
    beyond = _beyond_noise(obs.value, standing.value, noise, settings.record_noise_z)
    if severity != "info" and ratio < settings.record_high_ratio and beyond is not None:
        severity = "info"
        notes.append(beyond.replace("NAME", "the record"))
    marginal = obs.value < settings.record_low_ratio * max(record.value, 1.0)
    if standing.index != record.index and marginal:
        severity = "info"
        low_ratio = settings.record_low_ratio
        # the ratio it falls short with ("it barely beats" said nothing of 1.19×)
        notes.append(
            f"it is only {_times_under(_ratio(obs.value, record.value), low_ratio)} the "
            f"rise's latest record, {_n(record.value)} (a record within a rise needs "
            f"{low_ratio:g}× it to be more than a note)"
            if record.value >= 1.0
            else f"it is under {low_ratio:g} {_cars(cls, length=length)} (a record within a "
            f"rise needs {low_ratio:g}× the rise's latest record, taken as at least one car, "
            "to be more than a note)"
        )
    if i < settings.record_min_points or history_days < settings.record_min_history_days:
        severity = "info"
        notes.append("too little history to call it a record beyond a note")
    reasons: list[str] = []
    if short:
        reasons.append(
            f"the history ({_span(history_days)}) is shorter than the {n_years}-year window"
        )
    if (low := obs.lower()) is not None and low <= standing.value:
        reasons.append(
            f"allowing for its interval (wider than usual), the count's lower bound {_n(low)} "
            "does not clear the record"
        )
    if (wide := obs.wide(settings)) is not None:
        reasons.append(wide)
    severity, why = _lowered(severity, reasons) if severity != "info" else ("info", "")
    scope = f"{n_years}-year record" if not short else "record"
    window = plural(n_years, "year")
    # "11.0× the record" of a record of 0 (the ratio is taken against at least 1 car)
    # was no ratio at all: below one car the explanation gives the two counts only
    times = f"{_times(ratio)} the record" if standing.value >= 1.0 else ""
    against = f"a {scope} of {_n(standing.value)}"
    if not short and standing.index < int(years_before(days[:i], days[i], n_years)):
        # a rise's record measured against the record before the rise, set more than N
        # years before this image: not this image's N-year record (until 2026-12-07,
        # session 47, "230 railcars on 2024-06-17, against a 5-year record of 15 set on
        # 2018-09-18")
        against = f"the {scope} before this rise, {_n(standing.value)}"
    head = (
        f"{obs.text(cls, length=length)}, against {against} set on "
        f"{_d(standing.day)}{whose(standing)}"
    )
    if short:
        what = f"the highest in all the history there is ({history}; the record window is {window})"
    else:
        what = f"the first time above it in {window} ({history})"
    first = f"{head}: {times + ', ' if times else ''}{what}"
    if standing.index == record.index or rise_start is None:  # a rise's first record
        text = f"{first}."
    else:
        # a later record of a rise: one story, the rise since its first record and this
        # image past the rise's latest one. Until session 39 it read "above it since
        # 2023-09-18, for the first time in 5 years (...). It continues a rise: ...", the
        # first time and a continuing rise side by side in one paragraph.
        if short:
            lead = first
        else:
            lead = f"{head}: {times} ({history})" if times else f"{head} ({history})"
        since = (
            f"The counts have been above that record since {_d(rise_start)}"
            if held_above
            else f"The counts first went above that record on {_d(rise_start)}"
        )
        first_time = "" if short else f", for the first time in {window}"
        which = "first" if record.day == rise_start else "latest"
        text = (
            f"{lead}. {since}{first_time}, and this image continues that rise past its "
            f"{which} record, {_n(record.value)} on {_d(record.day)}{whose(record)}."
        )
    if notes:  # each reason (until session 47 only the first: a record of 14 days and
        # 2 images read "Info only: it is only 1.18× the rise's latest record", as if 1.2×
        # would have made it more than a note)
        text += f" Info only: {'; '.join(notes)}."
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
    if whose(standing):  # the record it is judged against is an analyst's count
        metrics["record_reviewed"] = 1.0
    return _make("record", severity, obs, cls, text, metrics)


def _beyond_noise(value: float, reference: float, noise: float | None, z: float) -> str | None:
    """Why ``value`` is within this series' own image-to-image noise of ``reference``
    (log((value + 1) / (reference + 1)) below ``z`` x ``noise``), or None when it is beyond
    it (or the noise is not known yet). NAME stands for what ``reference`` is."""
    if noise is None or z <= 0:
        return None
    log_ratio = float(np.log((value + SEASON_OFFSET) / (reference + SEASON_OFFSET)))
    if log_ratio >= z * noise:
        return None
    return (
        f"{_ratio(value + SEASON_OFFSET, reference + SEASON_OFFSET):.2f}× NAME (on count + 1) "
        f"is within {z:g} times this site's image-to-image variation of "
        f"±{100 * noise:.0f} % (log {log_ratio:.2f} < {z * noise:.2f})"
    )


def _spike(
    cls: str,
    obs: _Obs,
    base: Baseline,
    days: np.ndarray,
    counts: np.ndarray,
    i: int,
    settings: AlertSettings,
    noise: float | None = None,
    *,
    length: bool,
) -> Alert | None:
    base = pooled_spike_spread(base, noise, settings)
    z = base.z(obs.value)
    ratio = _ratio(obs.value, base.centre)
    if _beyond_noise(obs.value, base.centre, noise, settings.spike_log_z) is not None:
        return None
    strong = obs.value >= settings.spike_strong_ratio * base.centre and z >= settings.spike_strong_z
    if (
        (z < settings.spike_z and not strong)
        or obs.value < settings.spike_min_ratio * base.centre
        or obs.value - base.centre < _min_excess(cls, settings.spike_min_excess, settings)
    ):
        return None
    if ratio >= settings.spike_high_ratio:
        severity = "high"
    elif ratio >= settings.spike_medium_ratio:
        severity = "medium"
    else:
        severity = "low"
    seasonal = _seen_before(days, counts, i, obs.value, True, cls, settings, length=length)
    reasons = _short(days, i, settings)
    if (low := obs.lower()) is not None and base.z(low) < settings.uncertain_z:
        reasons.append(
            f"allowing for its interval (wider than usual), its lower bound {_n(low)} is only "
            f"{base.z(low):.1f} spreads above the usual"
        )
    severity, why = _judged(severity, seasonal, reasons, obs, settings)
    _, history = _history(days, i)
    # "12.0× the usual 0" was no ratio at all (it is taken against at least one car):
    # below one car the explanation gives the two counts only, as a record's does
    times = f"{ratio:.1f}×" if base.centre >= 1.0 else "against"
    text = (
        f"{obs.text(cls, length=length)}, {times} {_baseline_text(base, days[i])}: "
        f"{z:.1f} spreads above normal ({history}).{why}"
    )
    metrics: dict[str, float | str] = {
        **_against_baseline(base, z, ratio),
        "seasonal_factor": round(base.seasonal_factor, 3),
        "seasonal_images": float(base.season_images),
        "seasonal_years": float(base.season_years),
        "baseline_images": float(base.n_points),
    }
    return _make("spike", severity, obs, cls, text, metrics)


def _drop(
    cls: str,
    obs: _Obs,
    base: Baseline,
    days: np.ndarray,
    counts: np.ndarray,
    i: int,
    settings: AlertSettings,
    noise: float | None = None,
    below: int = 1,
    *,
    length: bool,
) -> Alert | None:
    """A drop at image ``i``, the ``below``-th image in a row at the drop line. The images
    of that run that confirm it (up to ``drop_confirm_points`` - 1 before it) are the same
    episode, not a precedent."""
    z = base.z(obs.value)
    beyond = z <= -settings.drop_z
    if noise is not None and noise > 0 and settings.drop_log_z > 0:
        # once the series' noise is known, a fall is also measured on logs (detector error
        # is multiplicative: a fall to a few cars is far more than its linear z-score says)
        log_z = float(np.log((obs.value + SEASON_OFFSET) / (base.centre + SEASON_OFFSET))) / noise
        beyond = beyond or log_z <= -settings.drop_log_z
    if base.centre < settings.drop_min_baseline or not beyond:
        return None
    ratio = obs.value / base.centre
    severity = "high" if ratio <= settings.drop_high_ratio else "medium"
    run = min(below, settings.drop_confirm_points) - 1  # confirming images before i
    note = _first_year(days, i, settings) or _seen_before(
        days, counts, i, obs.value, False, cls, settings, stop=i - run, length=length
    )
    reasons: list[str] = []
    if (high := obs.upper()) is not None and high > settings.drop_ratio * base.centre:
        reasons.append(
            f"allowing for its interval, its upper bound {_n(high)} is not far below normal"
        )
    severity, why = _judged(severity, note, reasons, obs, settings)
    _, history = _history(days, i)
    text = (
        f"{obs.text(cls, length=length)}, {100 * ratio:.0f} % of {_baseline_text(base, days[i])}: "
        f"activity has dropped at a busy site ({history}).{why}"
    )
    metrics: dict[str, float | str] = {
        **_against_baseline(base, z, ratio),
        "baseline_images": float(base.n_points),
    }
    return _make("drop", severity, obs, cls, text, metrics)


def _seen_before(
    days: np.ndarray,
    counts: np.ndarray,
    i: int,
    value: float,
    up: bool,
    cls: str,
    settings: AlertSettings,
    stop: int | None = None,
    *,
    length: bool,
) -> str | None:
    """A note when earlier images reached ``value``: for a spike (``up``), at least
    ``precedent_images`` in the same weeks of the previous N years (one earlier spike is
    not a precedent); for a drop, ``drop_precedent_images`` at any time of them, before
    image ``stop`` (default ``i``: the images that confirm a drop are not its precedent)."""
    start = int(years_before(days[:i], days[i], settings.record_years))
    if up:
        w = float(settings.season_window_days)
        sel = np.zeros(i, dtype=bool)
        for k in range(1, settings.record_years + 1):
            centre = days[i] - k * DAYS_PER_YEAR
            sel |= (days[:i] >= centre - w) & (days[:i] <= centre + w)
        # as (count + 1) within season_precedent_ratio, like the shift rule
        bar = settings.season_precedent_ratio * (value + SEASON_OFFSET) - SEASON_OFFSET
        hits = np.flatnonzero(sel & (counts[:i] >= bar))
        where = "in the same weeks of earlier years"
    else:
        bar = (value + SEASON_OFFSET) / settings.season_precedent_ratio - SEASON_OFFSET
        end = i if stop is None else stop
        hits = start + np.flatnonzero(counts[start:end] <= bar)
        where = f"in the previous {plural(settings.record_years, 'year')}"
    if len(hits) < (settings.precedent_images if up else settings.drop_precedent_images):
        return None
    last = int(hits[-1])
    # whole counts (cars seen one by one) reach the bar at its next whole number: "had 0.3
    # railcars or fewer" of a drop to 0 said "had 0 railcars" (before session 39)
    if np.all(counts[:i] == np.round(counts[:i])):
        bar = float(np.ceil(bar - 1e-9) if up else np.floor(bar + 1e-9))
    cars = _cars(cls, bar, length=length)
    had = (
        f"had no {_cars(cls, length=length)}"
        if not up and bar <= 0.0
        else f"had {_n(bar)} {cars} or {'more' if up else 'fewer'}"
    )
    images = "earlier image" if len(hits) == 1 else "earlier images"
    latest = "latest " if len(hits) > 1 else ""
    return (
        f"{len(hits)} {images} {where} {had} ({latest}{_d(days[last])}: "
        f"{_n(float(counts[last]))}), so this is not new"
    )


def _quiet_before(
    days: np.ndarray,
    counts: np.ndarray,
    s: int,
    level: float,
    cls: str,
    settings: AlertSettings,
    *,
    length: bool,
) -> str | None:
    """A note when the site had a stretch as quiet as ``level`` in the previous N years."""
    found = quietest(days, counts, s, settings)
    if found is None:
        return None
    median, day, n = found
    if (median + SEASON_OFFSET) * settings.season_precedent_ratio > level + SEASON_OFFSET:
        return None
    return (
        f"the site has been this quiet before: the {n} usable images around {_d(day)} "
        f"had a median of {_n(median)} {_cars(cls, length=length)}"
    )


def _back_from_lull(
    days: np.ndarray,
    counts: np.ndarray,
    s: int,
    before: float,
    level: float,
    cls: str,
    settings: AlertSettings,
    *,
    length: bool,
) -> str | None:
    """A note when a rise only brings the site back from a lull: the level before it was
    under ``lull_floor`` x the median of the year before the change, and the new level is
    within that year's upper quartile (as for spikes, a return from a quiet spell is not
    news)."""
    start = int(np.searchsorted(days[:s], days[s] - DAYS_PER_YEAR, side="left"))
    year = counts[start:s]
    if len(year) < settings.baseline_min_points or settings.lull_floor <= 0:
        return None
    median, upper = float(np.median(year)), float(np.quantile(year, 0.75))
    if before >= settings.lull_floor * median or level > upper:
        return None
    return (
        f"it only brings the site back from a lull: over the year before, its median was "
        f"{_n(median)} and a quarter of its {len(year)} usable images had {_n(upper)} "
        f"{_cars(cls, length=length)} or more"
    )


def _beyond(up: bool, value: float, centre: float, scale: float, settings: AlertSettings) -> bool:
    """Is one image beyond the usual range in the direction of a shift?"""
    z = (value - centre) / scale
    r = _ratio(value, centre)
    if up:
        return z >= settings.shift_each_z and r >= settings.shift_each_ratio
    return z <= -settings.shift_each_z and r * settings.shift_each_ratio <= 1.0


#: What follows a shift's evidence: a raised one restarts the baseline at its change
#: date; a noted one (info: seasonal, first years, a return from a lull) does not
#: (:meth:`_Cusum.hold`), so the next images are judged against the images before it
#: too. Until session 24 a noted shift also said the new level was the baseline, and
#: the next image could then be a spike against the old level.
SHIFT_RAISED = "Raised once; the new level is the baseline from here on."
SHIFT_NOTED = (
    "Noted once; the baseline is not restarted at the change (a shift above info would "
    "restart it), so the next images are still judged against one that holds the images "
    "before it."
)


def _shift(
    cls: str,
    up: bool,
    days: np.ndarray,
    counts: np.ndarray,
    usable: Sequence[CountPoint],
    i: int,
    judged: np.ndarray,
    centres: np.ndarray,
    scales: np.ndarray,
    cusum: float,
    settings: AlertSettings,
    usual: np.ndarray,
    *,
    test: str = "cusum",
    noise: float | None = None,
    start: int | None = None,
    above: float = 0.0,
    length: bool,
) -> tuple[Alert, int] | None:
    """A shift the CUSUM signals at image ``i``, confirmed by the streak of images before
    it that are each beyond the usual range, or None.

    ``judged`` marks the images judged against the current level (since the last
    shift). The change date is the first image of the streak; the new level is the
    median of the streak, compared with the median of their baselines. With ``start``
    (the segment level test), the streak is ``start`` .. ``i`` as :func:`_segment` chose
    it, and ``centres[start]`` is the reference for all of its images. With ``above``
    (cars), the streak takes no image under it (a rise past a noted one), image ``i``
    included: an ``i`` under it confirms nothing (since session 32).
    """
    if start is not None:
        s = start
        ref = np.full(i - s + 1, centres[s])
    else:
        s = i
        while (
            s - 1 >= 0
            and judged[s - 1]
            and counts[s - 1] >= above
            and _beyond(
                up, float(counts[s - 1]), float(centres[s - 1]), float(scales[s - 1]), settings
            )
        ):
            s -= 1
        # the image that signals is held to the same bar as the streak before it: past a
        # noted rise, an image under the bar is the noted level (until session 32 only the
        # earlier images were, and one spike then an image at the noted level was a shift)
        if counts[i] < above or not _beyond(
            up, float(counts[i]), float(centres[i]), float(scales[i]), settings
        ):
            return None
        ref = centres[s : i + 1]
    k = i - s + 1
    if k < settings.shift_confirm_points:
        return None
    seg = counts[s : i + 1]
    ratio = float(np.median(seg / np.maximum(ref, 1.0)))
    excess = float(np.median(seg - ref))
    min_excess = _min_excess(cls, settings.shift_min_excess, settings)
    if up and (ratio < settings.shift_min_ratio or excess < min_excess):
        return None
    if not up and (ratio * settings.shift_min_ratio > 1.0 or -excess < min_excess):
        return None
    doubled = test == "two-image" and up and k == 2 and _pair_doubled(seg, ref, settings)
    level_z = settings.shift_pair_ratio_level_z if doubled else settings.shift_level_z
    if start is None and noise is not None and noise > 0 and level_z > 0:
        # the streak's mean log ratio must be beyond the series' noise for k images (a
        # two-image streak at shift_pair_ratio x its baseline or more: shift_pair_ratio_level_z)
        logs = np.log((seg + SEASON_OFFSET) / (ref + SEASON_OFFSET))
        if (1.0 if up else -1.0) * float(np.mean(logs)) * np.sqrt(k) < level_z * noise:
            return None
    factor = ratio if up else 1.0 / max(ratio, 1e-6)
    if factor >= settings.shift_high_ratio:
        severity = "high"
    elif factor >= settings.shift_medium_ratio:
        severity = "medium"
    else:
        severity = "low"
    before = float(np.median(ref))
    level = float(np.median(seg))
    spread = float(scales[s] if start is not None else np.median(scales[s : i + 1]))
    refs = same_season(days, counts, days[s], days[i], s, settings)
    note = _seasons_once(days, i, settings) or _precedent(
        refs, "median", level, up, settings.season_precedent_ratio, cls, length=length
    )
    if note is None and not up:
        note = _quiet_before(days, counts, s, level, cls, settings, length=length)
    if note is None and up:
        note = _back_from_lull(days, counts, s, before, level, cls, settings, length=length)
    obs = [
        _Obs(usable[j], float(counts[j]), usable[j].low, usable[j].high, float(usual[j]))
        for j in range(s, i + 1)
    ]
    wide = [w for o in obs if (w := o.wide(settings)) is not None]
    reasons = [wide[0].replace("the count is", "a confirming count is")] if wide else []
    severity, why = _noted_or_lowered(severity, note, reasons)
    _, history = _history(days, i)
    seen = ", ".join(
        f"{_d(o.point.when)}: {_n(o.value)}" + (" (an analyst's count)" if o.point.reviewed else "")
        for o in obs
    )
    direction = "up" if up else "down"
    change = f"{factor:.1f}×" if up else f"to {100 * ratio:.0f} %"
    if up and before < 1.0:  # the ratio is taken against at least one car: none to give
        one = "car equivalent" if length else "car"
        change = f"from under one {one}: no ratio"
    if test == "segment":
        evidence = (
            f"their mean log ratio to it is {cusum:.1f} times what {k} images of this site "
            f"vary by chance (its image-to-image noise ±{100 * (noise or 0.0):.0f} %; segment "
            f"level test)"
        )
    elif test == "two-image" and doubled:
        evidence = (
            f"on average {_geo_ratio(seg, ref):.1f}× it, a doubling "
            f"seen in two images (two-image level test)"
        )
    elif test == "two-image":
        evidence = f"the last two together {cusum:.1f} spreads beyond it (two-image level test)"
    else:
        # the streak's own spreads beyond its baselines, unclipped: the CUSUM statistic
        # (``cusum``, in the metrics) clips each image at ``shift_clip``, takes ``shift_k``
        # off each and is capped, so until 2026-12-07 (session 47) "7.5 spreads in all" was
        # said of two images 7.6 and 8.6 spreads beyond it
        sign = 1.0 if up else -1.0
        spreads = sign * (seg - ref) / np.maximum(scales[s : i + 1], 1e-9)
        evidence = f"{float(np.sum(spreads)):.1f} spreads in all beyond it (cumulative-sum test)"
    side = "above" if up else "below"
    where = f"are {side} the usual range ({_n(before)} ± {_n(spread)})"
    if start is not None:
        n_beyond = sum(
            _beyond(up, float(c), float(centres[s]), float(scales[s]), settings) for c in seg
        )
        if n_beyond < k:
            where = (
                f"are {side} the level before them, {n_beyond} of them {side} its usual range "
                f"({_n(before)} ± {_n(spread)})"
            )
    text = (
        f"The level of {_cars(cls, length=length)} shifted {direction} from about "
        f"{_n(before)} to about {_n(level)} ({change}) from {_d(days[s])}: {k} usable images "
        f"in a row ({seen}) {where}, "
        f"{evidence}, so this is a sustained change, not one image "
        f"({history}). {SHIFT_NOTED if severity == 'info' else SHIFT_RAISED}{why}"
    )
    metrics: dict[str, float | str] = {
        "baseline": round(before, 3),
        "spread": round(spread, 3),
        "new_level": round(level, 3),
        "ratio": round(ratio, 3),
        "cusum": round(cusum, 2),
        "test": test,
        "direction": direction,
        "change_date": _d(days[s]),
        "confirm_images": float(k),
    }
    if n_reviewed := sum(o.point.reviewed for o in obs):  # analysts' counts in the streak
        metrics["reviewed_images"] = float(n_reviewed)
    return _make("shift", severity, obs[-1], cls, text, metrics), s


# --------------------------------------------------------------------------- quality


def _seen(point: CountPoint) -> bool:
    """Whether ``point``'s image showed the site: a usable count, or a usable image whose
    method cannot tell the point's class (a type at 3 m: no count, and no gap either;
    a one-class series of a site with 3 m images, as the web API's counts CSV of a type
    gives it to ``analyze --counts``, raised silences over them)."""
    return point.is_usable or (
        point.usable and point.count is None and not tells_class(point.cls, point.method)
    )


@dataclass(frozen=True)
class _Gap:
    """A gap between two days of a list (``nxt`` None: the list's last day, up to the
    analysis's end) longer than expected from the list's earlier gaps."""

    start: date
    nxt: date | None
    gap: int
    median_gap: float
    expected: float


def _long_gaps(days: Sequence[date], end: date, settings: AlertSettings) -> list[_Gap]:
    """The gaps after each of ``days`` (sorted) from the ``quality_min_points``-th on that
    are longer than max(``quality_gap_factor`` x the median gap so far,
    ``quality_min_gap_days``)."""
    out: list[_Gap] = []
    gaps: list[int] = []  # sorted gaps between the days so far
    for idx, start in enumerate(days):
        if idx > 0:
            bisect.insort(gaps, (start - days[idx - 1]).days)
        if idx + 1 < settings.quality_min_points:
            continue
        nxt = days[idx + 1] if idx + 1 < len(days) else None
        gap = ((nxt if nxt is not None else end) - start).days
        # statistics.median(gaps) of the sorted list, without sorting it again every day
        half = len(gaps) // 2
        median_gap = float(gaps[half] if len(gaps) % 2 else (gaps[half - 1] + gaps[half]) / 2)
        expected = max(
            settings.quality_gap_factor * median_gap, float(settings.quality_min_gap_days)
        )
        if gap > expected:
            out.append(_Gap(start, nxt, gap, median_gap, expected))
    return out


def quality_alerts(
    points: Sequence[CountPoint],
    settings: AlertSettings,
    *,
    as_of: datetime | None = None,
    unread: Iterable[tuple[datetime, str]] = (),
) -> list[Alert]:
    """Alerts for silences: no usable image for longer than expected.

    Expected gap = max(``quality_gap_factor`` x median gap between earlier usable images,
    ``quality_min_gap_days``). A day counts as usable when any class has a usable count,
    or a usable image has a class its method cannot tell (:func:`_seen`).
    Days are those of the points' times as given (and ``as_of``'s): :func:`analyze_series`
    gives them at the site's local time, so a stored site's silences count its local days.

    A presence image (10 m and coarser: whether a long train is present, no count) shows
    the site but counts no car: once the site has a count, such images do not end a
    silence of counts (:func:`_count_silences`, since 2026-12-06, session 35; before, ten
    weekly counts then fourteen weekly 10 m images raised nothing), unless
    ``quality_presence_ends_silence``.

    ``unread``: the site's images the points do not hold, (time, ``"failed"`` or
    ``"ingested"``): a silence's explanation and metrics (``failed_images``,
    ``unprocessed_images``) count those of its days, so that it never says "the site has
    no later image" of a site whose later images failed processing or wait for it.
    """
    if not points:
        return []
    failed_days = sorted(as_utc(t).date() for t, st in unread if st == "failed")
    pending_days = sorted(as_utc(t).date() for t, st in unread if st != "failed")
    usable_days = sorted({as_utc(p.when).date() for p in points if _seen(p)})
    all_days = sorted({as_utc(p.when).date() for p in points})
    # images a day: each class has a point per image (two images of one day were one);
    # of them presence images that showed the site (the class with the most images)
    per_class: dict[tuple[date, str], tuple[int, int]] = {}
    for p in points:
        k = (as_utc(p.when).date(), p.cls)
        n, flags = per_class.get(k, (0, 0))
        per_class[k] = (n + 1, flags + (_seen(p) and is_presence(p.method)))
    images: dict[date, int] = {}
    presence: dict[date, int] = {}
    for (d, _), (n, flags) in per_class.items():
        if n > images.get(d, 0):
            images[d], presence[d] = n, flags
    end = as_utc(as_of).date() if as_of is not None else all_days[-1]
    tz = as_utc(points[0].when).tzinfo
    counted = (
        []
        if settings.quality_presence_ends_silence
        else _count_silences(points, all_days, images, presence, end, settings)
    )
    # one alert a stretch: a silence of any image within a silence of counts is told by it
    stretches = [(a, date.fromisoformat(str(a.metrics["last_usable"]))) for a in counted]
    alerts: list[Alert] = list(counted)

    def told(day: date) -> bool:
        for a, start in stretches:
            until = a.metrics["gap_until"] if a.metrics["ongoing"] == "no" else None
            if start <= day and (until is None or day < date.fromisoformat(str(until))):
                return True
        return False

    for g in _long_gaps(usable_days, end, settings):
        start, nxt, gap, median_gap, expected = g.start, g.nxt, g.gap, g.median_gap, g.expected
        if told(start):
            continue
        lo = bisect.bisect_right(all_days, start)
        # the days strictly between start and the next usable one; of an ongoing silence
        # every later day (the as-of day's images included), none of them usable
        between = (
            all_days[lo : bisect.bisect_left(all_days, nxt)] if nxt is not None else all_days[lo:]
        )
        unusable = sum(images[d] for d in between)
        # stored images the points do not hold (failed, not processed yet) in between
        failed = _within(failed_days, start, nxt, end)
        pending = _within(pending_days, start, nxt, end)
        severity = "medium" if gap >= 2 * expected else "low"
        if nxt is not None:  # a silence that has ended is history: one step lower
            severity = lower_severity(severity)
        when = datetime(start.year, start.month, start.day, tzinfo=tz)
        when = as_utc(when) + timedelta(days=int(np.ceil(expected)))
        usual = (
            f"the site is usually seen {_every(median_gap)} (median gap), so more than "
            f"{expected:.0f} days of silence is unexpected and must not be read as calm."
        )
        if nxt is not None:
            tried = ""
            if unusable:
                were = "image in that time was" if unusable == 1 else "images in that time were"
                tried = f"; {unusable} {were} unusable"
            tried += "".join(
                f"; {w}" for w in _unread_words(failed, pending, unusable, how="in that time")
            )
            text = (
                f"No usable image of this site for {gap} days (from {_d(start)} until "
                f"{_d(nxt)}{tried}); {usual}{_ended(severity, 'the usable image', nxt)}"
            )
            length, until = gap, _d(nxt)
        else:
            so_far, length, last_day = _silence_so_far(start, expected, severity)
            text = (
                f"No usable image of this site since {_d(start)}: {so_far}, and none since "
                f"{_images_since(unusable, between, failed, pending)}; {usual}"
            )
            until = _d(last_day)
        metrics: dict[str, float | str] = {
            "gap_days": float(length),
            "gap_until": until,
            "expected_days": round(expected, 1),
            "median_gap_days": median_gap,
            "unusable_images": float(unusable),
            "last_usable": _d(start),
            "ongoing": "yes" if nxt is None else "no",
        }
        metrics.update(_unread_metrics(failed, pending))
        if nxt is None:
            metrics["latest_image"] = _d(between[-1]) if between else ""
        alerts.append(_silence_alert(start, severity, when, text, metrics))
    if len(usable_days) < settings.quality_min_points:
        alerts.extend(
            a
            for a in _silence_unestablished(
                usable_days, images, end, settings, failed_days, pending_days
            )
            if not told(date.fromisoformat(a.key.rpartition(":")[2]))
        )
    return sorted(alerts, key=lambda a: a.key)


def _count_silences(
    points: Sequence[CountPoint],
    all_days: Sequence[date],
    images: dict[date, int],
    presence: dict[date, int],
    end: date,
    settings: AlertSettings,
) -> list[Alert]:
    """Silences of counts: longer than expected without an image able to count cars,
    where presence images (10 m and coarser) came meanwhile (without them the silence is
    one of any usable image, which :func:`quality_alerts` tells as before).

    The expected gap is that of the ordinary silence, from the gaps between the earlier
    days with a count (an image of another method than presence that showed the site,
    :func:`_seen`); a site with fewer than ``quality_min_points`` of them is judged on its
    ongoing silence against ``quality_min_gap_days``, as :func:`_silence_unestablished`.
    Severity as for a silence of unusable images (low, medium at twice the expected gap,
    one step lower once a count came): a presence flag says whether a long train stands
    in the yard, not how many cars, so every count rule is as blind over such images as
    over cloud. A site with no count at all (seen at 10 m from its first image) has none
    to miss: only the ordinary rule judges it."""
    counts = [p for p in points if _seen(p) and not is_presence(p.method)]
    days = sorted({as_utc(p.when).date() for p in counts})
    if not days:
        return []
    found = _long_gaps(days, end, settings)
    established = len(days) >= settings.quality_min_points
    if not established and (end - days[-1]).days > settings.quality_min_gap_days:
        gap = (end - days[-1]).days
        found.append(_Gap(days[-1], None, gap, 0.0, float(settings.quality_min_gap_days)))
    tz = as_utc(points[0].when).tzinfo
    alerts: list[Alert] = []
    for g in found:
        start, nxt, expected = g.start, g.nxt, g.expected
        lo = bisect.bisect_right(all_days, start)
        between = all_days[lo : bisect.bisect_left(all_days, nxt) if nxt is not None else None]
        flags = sum(presence[d] for d in between)
        if not flags:  # no presence image: an ordinary silence
            continue
        unusable = sum(images[d] for d in between) - flags
        severity = "medium" if g.gap >= 2 * expected else "low"
        if nxt is not None:
            severity = lower_severity(severity)
        when = as_utc(datetime(start.year, start.month, start.day, tzinfo=tz)) + timedelta(
            days=int(np.ceil(expected))
        )
        if established:
            usual = (
                f"the site is usually counted {_every(g.median_gap)} (median gap), so "
                f"more than {expected:.0f} days without a count is unexpected and must not "
                "be read as calm."
            )
        else:
            usual = (
                f"with {len(days)} {'image' if len(days) == 1 else 'images'} able to count "
                f"(fewer than the {settings.quality_min_points} that tell how often the site "
                f"is counted), more than {expected:.0f} days without a count is unexpected "
                "and must not be read as calm."
            )
        last, count = _last_count(counts, start)
        if nxt is not None:
            text = (
                f"No image able to count cars for {g.gap} days (from {_d(start)} until "
                f"{_d(nxt)}): {_presence_images(flags, unusable, ended=True)}; {last}; {usual}"
                f"{_ended(severity, 'the count', nxt)}"
            )
            length, until = g.gap, _d(nxt)
        else:
            so_far, length, last_day = _silence_so_far(start, expected, severity)
            latest = between[-1]
            span = (latest - start).days
            ago = f"{span // 7} weeks" if span >= 14 else f"{span} days"
            text = (
                f"No image able to count cars since {_d(start)} ({ago} to the latest image, "
                f"on {_d(latest)}): {_presence_images(flags, unusable, ended=False)}; {last}; "
                f"without a count for {so_far}; {usual}"
            )
            until = _d(last_day)
        metrics: dict[str, float | str] = {
            "gap_days": float(length),
            "gap_until": until,
            "expected_days": round(expected, 1),
            "presence_images": float(flags),
            "unusable_images": float(unusable),
            "last_usable": _d(start),
            "last_count": count,
            "ongoing": "yes" if nxt is None else "no",
        }
        if established:
            metrics["median_gap_days"] = g.median_gap
        else:
            metrics["counted_images"] = float(len(days))
        if nxt is None:
            metrics["latest_image"] = _d(between[-1])
        alerts.append(_silence_alert(start, severity, when, text, metrics))
    return alerts


def _ended(severity: str, what: str, day: date) -> str:
    """Why a silence that has ended is one step lower (it said nothing of it until
    2026-12-07, session 47: a silence of 54 days was 'info' without a word why)."""
    why = (
        f"it ended with {what} of {_d(day)} (a silence that has ended is one step lower "
        "than one going on)"
    )
    if severity == "info":
        return f" Info only: {why}."
    return f" Severity lowered to {severity} because {why}."


def _presence_images(flags: int, unusable: int, *, ended: bool) -> str:
    """The images of a silence of counts in words: "the 14 images since are 10 m ones,
    which only tell whether long trains are present" (``ended``: "in that time were")."""
    are, were = ("were", "were") if ended else ("are", "were")
    since = "in that time" if ended else "since"
    what = "which only tell whether long trains are present"
    if not unusable:
        if flags == 1:
            return (
                f"the 1 image {since} {'was' if ended else 'is'} a 10 m one, which only "
                "tells whether long trains are present"
            )
        return f"the {flags} images {since} {are} 10 m ones, {what}"
    ones = "a 10 m one, which only tells" if flags == 1 else "10 m ones, which only tell"
    verb = ("was" if ended else "is") if flags == 1 else are
    return (
        f"of the {flags + unusable} images {since}, {flags} {verb} {ones} whether long "
        f"trains are present, and {unusable} {'was' if unusable == 1 else were} unusable"
    )


def _last_count(counts: Sequence[CountPoint], day: date) -> tuple[str, float | str]:
    """The count of ``day`` (the last before a silence of counts) in words and as a
    metric: the site total where the day has one, else the class the points count."""
    series = build_series(p for p in counts if as_utc(p.when).date() == day)
    for cls in sorted(series, key=lambda c: c != "all"):
        point = series[cls].points[0]
        if point.is_usable and point.count is not None:
            n = float(point.count)
            cars = _cars(cls, n, length=point.method == LENGTH_METHOD)
            return f"last count {_n(n)} {cars} on {_d(day)}", n
    return f"last image able to count cars on {_d(day)}", ""


def _silence_unestablished(
    usable_days: Sequence[date],
    images: dict[date, int],
    end: date,
    settings: AlertSettings,
    failed_days: Sequence[date] = (),
    pending_days: Sequence[date] = (),
) -> list[Alert]:
    """The ongoing silence of a site with fewer than ``quality_min_points`` usable images,
    whose usual gap is not known yet: more than ``quality_min_gap_days`` without a usable
    image (since the last one, or since the first image when none was usable) up to
    ``end``. Before session 24 such a site raised nothing at all: thirty cloudy images
    in a row, or three usable images years ago and none since, looked calm."""
    start = usable_days[-1] if usable_days else min(images)
    gap = (end - start).days
    expected = float(settings.quality_min_gap_days)
    if gap <= expected:
        return []
    days = sorted(d for d in images if (d > start if usable_days else d >= start) and d <= end)
    tried = sum(images[d] for d in days)
    # of a site with no usable image, those before its first point too (all unread)
    after = start if usable_days else date.min
    failed = _within(failed_days, after, None, end)
    pending = _within(pending_days, after, None, end)
    n = len(usable_days)
    severity = "medium" if gap >= 2 * expected else "low"
    so_far, length, last_day = _silence_so_far(
        start, expected, severity, ", " if n else " and for "
    )
    if n:
        head = (
            f"No usable image of this site since {_d(start)}: {so_far}, and none since "
            f"{_images_since(tried, days, failed, pending)}"
        )
    else:
        which = "its one image" if tried == 1 else f"all {tried} of its images"
        span = f"on {_d(start)}" if len(days) == 1 else f"from {_d(start)} to {_d(days[-1])}"
        head = (
            f"No usable image of this site at all: {which} {span} "
            f"{'was' if tried == 1 else 'were'} unusable, so it had not been seen for {so_far}"
        )
        others = _unread_words(failed, pending, 0, how="other")
        if others:
            head += f" ({'; '.join(others)})"
    text = (
        f"{head}; with {n} usable {'image' if n == 1 else 'images'} (fewer than the "
        f"{settings.quality_min_points} that tell how often the site is seen), more than "
        f"{expected:.0f} days of silence is unexpected and must not be read as calm."
    )
    when = datetime(start.year, start.month, start.day, tzinfo=UTC) + timedelta(
        days=int(np.ceil(expected))
    )
    return [
        _silence_alert(
            start,
            severity,
            when,
            text,
            {
                "gap_days": float(length),
                "gap_until": _d(last_day),
                "expected_days": round(expected, 1),
                "unusable_images": float(tried),
                "usable_images": float(n),
                "last_usable": _d(start) if n else "",
                "latest_image": _d(days[-1]) if days else "",
                "ongoing": "yes",
                **_unread_metrics(failed, pending),
            },
        )
    ]


def _silence_so_far(
    start: date, expected: float, severity: str, joiner: str = ", "
) -> tuple[str, int, date]:
    """What an ongoing silence from ``start`` had come to on the days its alert rests on:
    ``ceil(expected)`` days on the alert's date, and for a medium one twice the expected on
    the day it reached that (``joiner`` between the two); as text, with the days and the
    last of those dates.

    Stated on those fixed days, never as of the analysis: until session 28 it said "for 860
    days (from ... as of 2026-12-05)", a number that grew each day, so a plain ``analyze``
    rewrote the stored alert every day although nothing about the site had changed."""
    first = int(np.ceil(expected))
    on = start + timedelta(days=first)
    text = f"{first} days on {_d(on)} (the alert's date)"
    if severity != "medium":
        return text, first, on
    twice = int(np.ceil(2 * expected))
    later = start + timedelta(days=twice)
    return f"{text}{joiner}{twice} days (twice that) on {_d(later)}", twice, later


def _images_since(
    unusable: int,
    days: Sequence[date],
    failed: Sequence[date] = (),
    pending: Sequence[date] = (),
) -> str:
    """The images of an ongoing silence, by their dates: "(3 later images were unusable,
    the latest on 2024-09-30)", "(2 later images failed processing, the latest on ...)",
    or "(the site has no later image)" when it has none at all (before session 49 also
    of a site whose later images had failed processing or waited for it)."""
    words = _unread_words(failed, pending, unusable)
    if not unusable:
        return f"({'; '.join(words)})" if words else "(the site has no later image)"
    if unusable == 1:
        first = f"1 later image was unusable, on {_d(days[-1])}"
    else:
        first = f"{unusable} later images were unusable, the latest on {_d(days[-1])}"
    return f"({'; '.join([first, *words])})"


def _within(days: Sequence[date], start: date, nxt: date | None, end: date) -> list[date]:
    """Of ``days`` (sorted), those after ``start`` and before ``nxt`` (of an ongoing
    silence, ``nxt`` None: up to ``end``)."""
    lo = bisect.bisect_right(days, start)
    hi = bisect.bisect_left(days, nxt) if nxt is not None else bisect.bisect_right(days, end)
    return list(days[lo:hi])


def _unread_words(
    failed: Sequence[date], pending: Sequence[date], unusable: int, *, how: str = "later"
) -> list[str]:
    """A silence's images that were not judged, in words: "2 later images failed
    processing, the latest on 2024-09-30", "1 is not processed yet, on ...". The first
    named (where no unusable image was named before them) says which images: ``how``
    "later", "other" (before the noun) or "in that time" (after it). Facts only: the
    explanation is stored and shown by the API, the dashboard and reports, where a
    command line is no help (session 49 review: it named `railwatch scene list --status
    failed` and `railwatch process` without the site, commands that fail as written);
    `railwatch analyze` says what to run for such scenes (``repo.uncounted_scenes``)."""
    out: list[str] = []
    for days, did in ((failed, "failed processing"), (pending, "not processed yet")):
        if not days:
            continue
        n = len(days)
        noun = "image" if n == 1 else "images"
        if unusable or out:
            head = str(n)
        elif how == "in that time":
            head = f"{n} {noun} {how}"
        else:
            head = f"{n} {how} {noun}"
        verb = "" if did.startswith("failed") else (" is" if n == 1 else " are")
        when = f"on {_d(days[-1])}" if n == 1 else f"the latest on {_d(days[-1])}"
        out.append(f"{head}{verb} {did}, {when}")
    return out


def _unread_metrics(failed: Sequence[date], pending: Sequence[date]) -> dict[str, float | str]:
    """A silence's ``failed_images`` and ``unprocessed_images`` where any (absent when
    none, so that the metrics of a silence without them are as before session 49)."""
    out: dict[str, float | str] = {}
    if failed:
        out["failed_images"] = float(len(failed))
    if pending:
        out["unprocessed_images"] = float(len(pending))
    return out


def _silence_alert(
    start: date,
    severity: str,
    when: datetime,
    text: str,
    metrics: dict[str, float | str],
) -> Alert:
    """A quality (silence) alert of the site total, keyed by the silence's first day."""
    return Alert(
        key=f"quality:all:{_d(start)}",
        kind="quality",
        severity=severity,
        when=when,
        cls="all",
        value=None,
        explanation=text,
        metrics=metrics,
    )
