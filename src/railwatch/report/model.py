"""Value types a report is made of.

The builder turns storage rows and analysis results into these plain, immutable
values; the renderers (charts, chips, HTML, PDF) only ever see these, so they can
be tested without a database and reused by the web layer.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

import numpy as np
from affine import Affine

from railwatch.analysis.events import alert_day, local_day, offset_text
from railwatch.analysis.series import as_utc
from railwatch.detect.base import Detection, OccupiedRun, is_presence, long_train_present

if TYPE_CHECKING:
    from railwatch.imagery.read import ItemScaling, Radiometry


def site_day(when: datetime, utc_offset: timedelta) -> date:
    """The day the report shows for the instant ``when`` (UTC): the local day at the site,
    ``utc_offset`` east of UTC (the site's nominal solar zone,
    :func:`railwatch.analysis.store.site_utc_offset`), the day the analysis groups the
    site's images, keys its alerts and dates their texts by (session 31). The one rule of
    every day a report shows (:attr:`SceneRow.day`, :attr:`AlertRow.day`, the ``--from``
    and ``--to`` filters): until 2026-12-05 the report printed UTC days beside alert texts
    dated by local days."""
    return local_day(when, utc_offset)


def clock_words(utc_offset: timedelta) -> str:
    """Whose clock the report's times of day are on: ``UTC`` at a site on UTC, else the
    site's nominal zone, ``UTC+12 nominal``."""
    return "UTC" if not utc_offset else f"{offset_text(utc_offset)} nominal"


def site_clock(when: datetime, utc_offset: timedelta) -> str:
    """The instant ``when`` as the local date and time at the site, ``2024-02-05 10:30``
    (on the clock :func:`clock_words` names; its day is :func:`site_day`'s)."""
    return f"{as_utc(when) + utc_offset:%Y-%m-%d %H:%M}"


def site_time(when: datetime, utc_offset: timedelta) -> str:
    """A time of day as the report shows it: ``2024-02-04 22:30 UTC`` at a site on UTC,
    else the local time at the site with its offset, ``2024-02-05 10:30 (UTC+12
    nominal)``."""
    if not utc_offset:
        return f"{site_clock(when, utc_offset)} UTC"
    return f"{site_clock(when, utc_offset)} ({clock_words(utc_offset)})"


@dataclass(frozen=True)
class SceneRow:
    """One image of the site: its metadata, quality and count (``total`` is None
    when the image is unusable or was not counted)."""

    scene_id: int
    when: datetime
    sensor: str | None
    gsd: float
    usable: bool
    clear_fraction: float | None = None
    coverage: float | None = None
    total: float | None = None
    low: float | None = None
    high: float | None = None
    by_class: Mapping[str, float] = field(default_factory=dict)
    covered: int | None = None
    method: str | None = None
    reasons: tuple[str, ...] = ()
    uri: str = ""
    mask_uri: str | None = None
    detector: str | None = None
    detector_version: str | None = None
    #: 1-based (red, green, blue) bands from the scene's metadata, when it names them.
    rgb_bands: tuple[int, int, int] | None = None
    #: How a coarse image was registered to the site's other images before its track
    #: centrelines were sampled (``Registration.to_meta``), when it was tried.
    registration: Mapping[str, Any] | None = None
    #: For a length or presence count: where the track lines it was read along came
    #: from, ``given`` (the site's centrelines) or ``found`` (lines found in the image
    #: itself, far less accurate), as ``railwatch.storage.repo.COARSE_KEY`` records it;
    #: None for another count, or none recorded (2026-12-07, session 48).
    tracks: str | None = None
    #: How a 16-bit or float image maps to 8 bits, from the scene's metadata (``railwatch
    #: ingest --radiometry``): its chips are read as it was counted.
    radiometry: Radiometry = "linear"
    #: The count is an analyst's (``railwatch scene review``): ``total`` is theirs, its
    #: interval the count itself; ``detector_total`` the detector's count it replaced.
    reviewed: bool = False
    detector_total: float | None = None
    #: The analyst drew or kept the cars' outlines (the chips draw them).
    review_outlines: bool = False
    review_note: str = ""
    #: The sun's elevation (degrees) when the image was taken, from its metadata
    #: (``view:sun_elevation``), None when it does not say.
    sun_elevation: float | None = None
    #: For a length count (1.5-10 m): the stretches of track read as occupied, lon/lat
    #: (:func:`railwatch.storage.repo.occupied_runs_of`); None when none were recorded
    #: (another method, or counted before session 30).
    occupied: tuple[OccupiedRun, ...] | None = None
    #: The bands' scales and offsets its STAC item declares, where the file declares
    #: none (:func:`railwatch.imagery.read.item_scaling_of`): its chips are read with them,
    #: as it was counted.
    item_scaling: ItemScaling | None = None
    #: The nodata value its STAC item declares, where the file declares none
    #: (:func:`railwatch.imagery.read.item_nodata_of`): its chips are read with it, as it
    #: was counted.
    item_nodata: float | None = None
    #: The site's local time east of UTC (:func:`site_day`): the image's day is its local
    #: day at the site.
    utc_offset: timedelta = timedelta(0)
    #: Per class stored (car types and ``covered``, where the method tells them): (count,
    #: low, high, an analyst's count), as the analysis reads them
    #: (``storage.repo.count_series``): the points of the class series a report's
    #: baselines come from (:func:`railwatch.report.data.judged_baselines`; since
    #: 2026-12-07, session 45). Empty: ``by_class`` and ``covered`` without intervals.
    class_counts: Mapping[str, tuple[float, float, float, bool]] = field(default_factory=dict)
    #: The detector's count by objects has 90 % intervals that rest on an assumed
    #: scene-to-scene spread of recall of its calibration, not a measured one (True), or
    #: on a measured one (False), as the scene's result records it
    #: (:func:`railwatch.storage.repo.spread_assumed_of`); None where not known (no
    #: calibration, another method, an analyst's count, counted before 2026-12-07,
    #: session 51).
    spread_assumed: bool | None = None

    @property
    def day(self) -> date:
        """The image's day as the report shows it: its local day at the site (:func:`site_day`)."""
        return site_day(self.when, self.utc_offset)

    @property
    def time_text(self) -> str:
        """The image's time as the report shows it, saying whose clock (:func:`site_time`)."""
        return site_time(self.when, self.utc_offset)

    @property
    def clock(self) -> str:
        """The image's local date and time at the site, for a table whose header names
        the clock (:func:`site_clock`, :func:`clock_words`)."""
        return site_clock(self.when, self.utc_offset)

    @property
    def counted(self) -> bool:
        """True when the image is usable and has a count (for a presence image, 10 m and
        coarser, its long-train flag: see :attr:`presence`)."""
        return self.usable and self.total is not None

    @property
    def presence(self) -> bool:
        """True for an image that only says whether a long train is present (10 m and
        coarser): its ``total`` is that flag (1 or 0), never a number of cars to show,
        chart or add up."""
        return is_presence(self.method)

    @property
    def counts_cars(self) -> bool:
        """True when the image has a count of cars (counted, and not a presence flag)."""
        return self.counted and not self.presence

    @property
    def long_train(self) -> bool | None:
        """A presence image's flag (a long train present or not); None for any other."""
        return long_train_present(self.method, self.total) if self.counted else None


@dataclass(frozen=True)
class BaselinePoint:
    """The baseline at one date, computed only from data before it: the centre and band
    the analysis judged the image with (``analysis.alerts.baseline_trace``; None where it
    judged none, e.g. a new level after a raised shift with too few images yet), and the
    trailing record (maximum over the previous years)."""

    when: datetime
    centre: float | None
    low: float | None
    high: float | None
    record: float | None
    #: The record a record alert at this date compares with (the chart's record line):
    #: ``record``, except within a run of records (each within ``record_episode_days`` of
    #: the last), where it stays the record before the run began, as the alerts' texts
    #: say ("against a 5-year record of 15 ..., above it since 2023-09-18"). None: as
    #: ``record``. Since 2026-12-06, session 35.
    judged_record: float | None = None

    @property
    def record_line(self) -> float | None:
        """The record the chart draws at this date: :attr:`judged_record`, else
        :attr:`record`."""
        return self.judged_record if self.judged_record is not None else self.record


@dataclass(frozen=True)
class EventRow:
    """A dated event shown on the chart (e.g. a summit)."""

    when: date
    label: str


@dataclass(frozen=True)
class AlertRow:
    """An alert as the report shows it."""

    key: str
    kind: str
    severity: str
    when: datetime
    cls: str
    value: float | None
    explanation: str
    event_label: str | None = None
    event_days: int | None = None
    scene_id: int | None = None
    acknowledged: bool = False
    #: The analyst's notes (the alert's ``ack_note``: their words only, a note a line).
    note: str | None = None
    #: For an acknowledged alert that re-analysis has changed since it was acknowledged
    #: (``metrics["changed_since_ack"]``): what was acknowledged, "changed since
    #: acknowledged: was 40 (medium)" (:func:`railwatch.report.data.changed_since_words`);
    #: None for any other alert. Until session 30 it was a line of ``note``.
    changed_since: str | None = None
    #: The site's local time east of UTC (:func:`site_day`).
    utc_offset: timedelta = timedelta(0)
    #: The counting method of the series the alert was judged on (``metrics["method"]``:
    #: ``objects``, ``length``); None for a silence, and for an alert stored before
    #: session 40 of a series of one method (named only where methods mixed until then).
    #: The headline prefers the finer method's alerts
    #: (:func:`railwatch.report.builder.top_alert`).
    method: str | None = None

    @property
    def day(self) -> date:
        """The alert's day as its text gives it and the report shows it: its image's local
        day at the site (:func:`site_day`); a silence's, the day whose local midnight its
        ``when`` is (in UTC since session 32)."""
        return alert_day(self.when, self.utc_offset)

    @property
    def settled(self) -> bool:
        """Acknowledged and not changed since: nothing for the analyst to look at."""
        return self.acknowledged and not self.changed_since

    @property
    def ack_lines(self) -> tuple[str, ...]:
        """What the report says after "Acknowledged", a line each: the analyst's notes,
        then :attr:`changed_since` when the alert has changed since (empty: neither)."""
        notes = tuple((self.note or "").splitlines())
        return notes + ((self.changed_since,) if self.changed_since else ())


SEVERITY_RANK: Mapping[str, int] = {"info": 0, "low": 1, "medium": 2, "high": 3}


@dataclass(frozen=True)
class ChipImage:
    """An image of the site on its grid, with detections in that grid's pixel
    coordinates, ready to be drawn as a chip.

    ``window`` is ``(row0, row1, col0, col1)``: the part of the grid to show; two
    chips with the same grid and window show exactly the same ground extent.
    """

    image: np.ndarray
    gsd: float
    detections: tuple[Detection, ...]
    title: str
    caption: tuple[str, ...]
    window: tuple[int, int, int, int]
    crs: str | None = None
    transform: Affine | None = None
    valid: np.ndarray | None = None
    site_outline: tuple[tuple[float, float], ...] = ()
    #: Every ring of the site's boundary in the same pixel coordinates: each part's
    #: exterior and holes (a site of two yards is a MultiPolygon). Empty: the boundary is
    #: ``site_outline`` alone. Since 2026-12-05 (session 34); before, a chip drew the
    #: exterior of a one-part site only, and a site of two yards had no boundary drawn.
    site_rings: tuple[tuple[tuple[float, float], ...], ...] = ()
    #: The analyst's outlines of a scene reviewed with outlines (``railwatch scene review
    #: --cars``), in the same pixel coordinates: drawn in their own colour.
    analyst: tuple[Detection, ...] = ()
    #: A length count's stretches of track read as occupied, polylines in the same pixel
    #: coordinates: drawn as lines along the track.
    occupied: tuple[tuple[tuple[float, float], ...], ...] = ()


@dataclass(frozen=True)
class Evidence:
    """The images behind one alert: the alert image and a before image."""

    alert: AlertRow
    after: ChipImage | None
    before: ChipImage | None
    after_row: SceneRow | None = None
    before_row: SceneRow | None = None
    notes: tuple[str, ...] = ()
    shift_m: float | None = None
    #: The before image's count was near the baseline (else it is only the most recent
    #: earlier usable image, and a note says so): what the chips' caption says of it.
    before_near: bool = True
    #: Usable images between the before image and the alert image that the before image
    #: passed over, counted another way (a 3 m image between two 0.5 m ones, or the
    #: reverse): when there are any, a before image not near the baseline is "the most
    #: recent earlier usable image counted the same way", not the most recent earlier one
    #: (until 2026-12-06, session 40, the demo's 3 m record of 2024-02-25 was shown beside
    #: 2023-11-10, "the most recent earlier usable image", with 0.5 m images between).
    before_passed: int = 0

    @property
    def before_counted_otherwise(self) -> bool:
        """The before image was counted by another method than the alert image (no
        earlier image was counted its way), so its count is on another scale."""
        if self.after_row is None or self.before_row is None:
            return False
        return counted_otherwise(self.after_row, self.before_row)


def pair_key(ev: Evidence) -> tuple[int, int | None] | None:
    """The images an alert with images is shown on, by scene (the alert image's, the
    before image's; None without images): alerts of one image (its record and its shift,
    the site total's and a class's) share them."""
    if ev.after is None or ev.after_row is None:
        return None
    before = ev.before_row.scene_id if ev.before is not None and ev.before_row else None
    return (ev.after_row.scene_id, before)


def shown_before(evidence: Sequence[Evidence]) -> dict[int, int]:
    """For each alert (its index in ``evidence``) whose images an earlier alert is shown
    on (:func:`pair_key`), that alert's index: the report draws each pair of images once
    (until 2026-12-07, session 50, the rise's PDF drew the pair of 2023-09-25 on 4 of its
    13 alert pages, one each for the record and the shift of the site total and of the
    untyped railcars)."""
    first: dict[tuple[int, int | None], int] = {}
    out: dict[int, int] = {}
    for i, ev in enumerate(evidence):
        key = pair_key(ev)
        if key is None:
            continue
        if key in first:
            out[i] = first[key]
        else:
            first[key] = i
    return out


@dataclass(frozen=True)
class Headline:
    """The first thing an analyst reads."""

    site: str
    period: tuple[date | None, date | None]
    latest: SceneRow | None
    current: float | None
    current_low: float | None
    current_high: float | None
    record: float | None
    baseline: float | None
    summary: str
    #: Within a run of records (a rise), the record before it, which the rise's record
    #: alerts compare with and the chart draws (:attr:`BaselinePoint.judged_record`);
    #: None where it is ``record`` (session 35: the headline gave 92 above a chart whose
    #: record line stood at 15, the alerts' "5-year record of 15").
    judged_record: float | None = None
    #: Why there is no ``record`` (``report.data.no_record_reason``: "no earlier image of
    #: this site", "all 3 earlier images were unusable", ...); empty where there is one.
    #: Since 2026-12-06 (session 39): the dash stood alone.
    no_record: str = ""
    #: Why there is no ``baseline`` (``report.data.no_headline_baseline_reason``: "only 2
    #: earlier days with a count; a baseline needs 5", or after a raised shift "a new
    #: level since the shift from 2023-09-18 raised on 2023-09-25: 2 images of it before
    #: this one; a baseline needs 5"); empty where there is one.
    no_baseline: str = ""
    #: How the report names :attr:`latest` (:func:`latest_car_words`): "latest usable
    #: image", or "latest image with a count" where usable 10 m images came after it.
    latest_words: str = "latest usable image"

    @property
    def unit(self) -> str:
        """`` car equivalents`` where the latest image was counted by occupied track length
        (its count, record and baseline are its method's, not cars seen one by one), else
        nothing. Until 2026-12-07 (session 45) the facts read "Current count 13.3 [6.7–26.8]",
        "Previous record 17.2" under a chart whose record line was the cars' 7."""
        if self.latest is not None and self.latest.method == "length":
            return " car equivalents"
        return ""

    @property
    def record_words(self) -> str:
        """``92``, within a rise ``92 (15 before this rise)``, without a record
        ``– (no earlier image of this site)``; with :attr:`unit`."""
        from railwatch.report.format import fmt_num

        if self.record is None and self.no_record:
            return f"{fmt_num(None)} ({self.no_record})"
        if self.judged_record is None:
            return fmt_num(self.record) + self.unit
        return f"{fmt_num(self.record)}{self.unit} ({fmt_num(self.judged_record)} before this rise)"

    @property
    def baseline_words(self) -> str:
        """``15``, with :attr:`unit`; a dash without a baseline."""
        from railwatch.report.format import fmt_num

        return fmt_num(self.baseline) + (self.unit if self.baseline is not None else "")

    @property
    def current_words(self) -> str:
        """``73 [62–88]``: the current count with its interval, as the alerts word it
        (:func:`railwatch.analysis.types.whole_car_bounds`), with :attr:`unit`."""
        from railwatch.report.format import fmt_count

        method = self.latest.method if self.latest is not None else None
        words = fmt_count(self.current, self.current_low, self.current_high, method)
        return words + (self.unit if self.current is not None else "")


@dataclass(frozen=True)
class ReportData:
    """Everything a report shows, renderer-independent."""

    site: str
    description: str
    generated: datetime
    headline: Headline
    scenes: tuple[SceneRow, ...]
    baseline: tuple[BaselinePoint, ...]
    events: tuple[EventRow, ...]
    alerts: tuple[AlertRow, ...]
    evidence: tuple[Evidence, ...]
    caveats: tuple[str, ...]
    method: tuple[tuple[str, str], ...]
    classes: tuple[str, ...]
    #: Alerts of single classes not listed because they repeat the site total's (same
    #: kind, image and value: that class was the whole count).
    repeats: int = 0
    #: What the chart leaves out and why (images and events dated before 1900, a
    #: mistyped year an older database may hold), with what to do; also in ``caveats``.
    off_chart: tuple[str, ...] = ()
    #: The site's local time east of UTC (:func:`site_day`): every day the report shows,
    #: and its ``--from``/``--to``, is a local day at the site.
    utc_offset: timedelta = timedelta(0)
    #: When the stored alerts are not those that analysing the stored results now gives
    #: (new results processed since the last analysis), a note that says so and what to
    #: run (``builder.stale_alerts_note``; also in the headline); None when they are.
    #: Since 2026-12-05, session 33.
    stale_alerts: str | None = None
    #: The latest image with a count of cars, its cars outlined, when no alert has images
    #: (``builder.lone_image``; a site with one image raises none): the HTML and the PDF
    #: draw it after the chart. Since 2026-12-06, session 39 (such a report had no image).
    lone_image: ChipImage | None = None
    #: What kept that image from being drawn (it could not be read), if anything.
    lone_notes: tuple[str, ...] = ()
    #: How much history the month's seasonal factor needs before the baseline is
    #: multiplied by it ("a year", "2 years": ``AlertSettings.seasonal_min_years``), for
    #: the chart's captions (HTML and PDF), which said "a year" or nothing (session 50).
    seasonal_from: str = "a year"


def lone_image_words(data: ReportData) -> str:
    """Why the report draws its latest usable image (:attr:`ReportData.lone_image`), in
    the HTML and the PDF."""
    chip = data.lone_image
    row = latest_car_image(data.scenes)
    if chip is not None and chip.occupied:
        drawn = "the stretches of track it read as occupied drawn"
    elif row is not None and row.reviewed and chip is not None and not chip.analyst:
        # an analyst's count without outlines: the picture shows the detector's cars,
        # not those counted (2026-12-07, session 46: it said "the railcars it counted")
        from railwatch.report.format import fmt_num

        drawn = (
            f"the detector's cars outlined (its count {fmt_num(row.detector_total)}); the"
            f" count of {fmt_num(row.total)} is an analyst's, who drew no outlines"
        )
    elif row is not None and row.reviewed:
        drawn = "the analyst's outlines (the cars counted) drawn over the detector's"
    else:
        drawn = "the railcars it counted outlined"
    if len(data.scenes) == 1:
        return f"The only image of this report, with {drawn}."
    return (
        f"No alert of this report has images, so its {latest_car_words(data.scenes)} is "
        f"shown, with {drawn}."
    )


def n_acknowledged(data: ReportData) -> int:
    """How many of the report's alerts an analyst has acknowledged."""
    return sum(1 for a in data.alerts if a.acknowledged)


def n_changed_since(data: ReportData) -> int:
    """How many of the acknowledged ones re-analysis has changed since (to look at again)."""
    return sum(1 for a in data.alerts if a.acknowledged and a.changed_since)


def acknowledged_words(data: ReportData) -> str:
    """ "3 acknowledged" or "3 acknowledged, 1 changed since"; empty for none."""
    acked = n_acknowledged(data)
    if not acked:
        return ""
    changed = n_changed_since(data)
    return f"{acked} acknowledged" + (f", {changed} changed since" if changed else "")


def latest_car_image(rows: Sequence[SceneRow]) -> SceneRow | None:
    """The latest image of ``rows`` with a count of cars (:attr:`SceneRow.counts_cars`;
    a 10 m presence image has none), None without one: the image a report draws when
    none of its alerts has images (``builder.lone_image``) and the one its caveats speak
    of then (``caveats.build_caveats``). One rule since 2026-12-06, session 41: the
    caveats took the latest image with any count, a presence image too, and could name
    another image than the one drawn."""
    counted = [r for r in rows if r.counts_cars]
    return max(counted, key=lambda r: r.when) if counted else None


def later_flags(rows: Sequence[SceneRow]) -> list[SceneRow]:
    """The usable 10 m (and coarser) images of ``rows`` after :func:`latest_car_image`,
    oldest first: long-train flags, no count (all of them where no image has a count)."""
    latest = latest_car_image(rows)
    flags = [r for r in rows if r.counted and r.presence]
    return sorted(
        (r for r in flags if latest is None or r.when > latest.when), key=lambda r: r.when
    )


def latest_car_words(rows: Sequence[SceneRow]) -> str:
    """How a report names :func:`latest_car_image`: "latest usable image", or "latest
    image with a count" where a usable 10 m image (a long-train flag, no count) came after
    it (2026-12-07, session 48: a 3 m image of 2024-12-10 was "the latest usable image"
    above a table whose 10 m image of 2024-12-20 was usable)."""
    if latest_car_image(rows) is not None and later_flags(rows):
        return "latest image with a count"
    return "latest usable image"


def may_get_images(alert: AlertRow, after: SceneRow | None) -> bool:
    """Whether an alert is one a report shows with images, within its limit of them
    (``builder._with_images``): above info and tied to a counted image. An info alert
    never gets images."""
    return (
        after is not None
        and after.counted
        and SEVERITY_RANK.get(alert.severity, 0) > SEVERITY_RANK["info"]
    )


def counted_otherwise(after: SceneRow, before: SceneRow) -> bool:
    """Were the two images counted by different methods (cars one by one, car
    equivalents from track length, ...)? Their counts are then on different scales."""
    return (after.method or "objects") != (before.method or "objects")


def method_words(method: str | None) -> str:
    """How an image's count was made, in words (``analysis.series.METHOD_WORDS``)."""
    from railwatch.analysis.series import METHOD_WORDS

    return METHOD_WORDS.get(method or "objects", f"method {method}")
