"""``railwatch analyze``: explained alerts from the database or from a CSV of hand counts."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from pydantic import ValidationError
from rich.markup import escape
from rich.table import Table

# the value types alone: `railwatch alerts` imports this module's table helpers, and the
# analysis (its settings a pydantic model) is imported when analysing (session 39)
from railwatch.analysis.types import Alert, CountPoint, Event
from railwatch.cli._common import (
    console,
    err_console,
    parse_day,
    plural_s,
    print_json,
    print_table,
)
from railwatch.errors import InputError
from railwatch.limits import check_event_date, check_event_label, check_year
from railwatch.sites import normalise_name

if TYPE_CHECKING:
    from railwatch.analysis.settings import AlertSettings
    from railwatch.analysis.store import SiteAnalysis

_STYLE = {"info": "dim", "low": "cyan", "medium": "yellow", "high": "bold red"}


def parse_event_option(text: str) -> Event:
    """``--event 2023-09-13=Kim–Putin summit`` as an :class:`Event`, its date and label
    checked as `railwatch event add` checks them (from 1900, at most a year ahead; a
    label on one line, of at most 200 characters): before, ``--event 1800-01-01=x`` and
    a label with a line break (which split the one-line explanations) were taken."""
    day, sep, label = text.partition("=")
    if not sep or not label.strip():
        raise InputError(f"--event {text!r}: write DATE=LABEL, e.g. 2023-09-13='Kim–Putin summit'")
    when = parse_day(day, f"--event {text!r}: date")
    try:
        return Event(when=check_event_date(when), label=check_event_label(label))
    except InputError as err:
        raise InputError(f"--event {text!r}: {err}") from err


#: The mark of an alert judged on an analyst's count, and the caption that explains it.
REVIEWED_MARK = "✓ analyst's count"
REVIEWED_CAPTION = "✓ analyst's count: judged on a count an analyst gave (railwatch scene review)"


def is_reviewed(metrics: Mapping[str, object] | None) -> bool:
    """Was the alert with these metrics judged on an analyst's count (a scene review)?"""
    return bool((metrics or {}).get("reviewed"))


def changed_since_ack(metrics: Mapping[str, object] | None) -> dict[str, Any] | None:
    """What the analyst acknowledged of a stored alert that has said something else since,
    else None (:func:`railwatch.storage.serialize.changed_since_ack`)."""
    from railwatch.storage.serialize import changed_since_ack as acknowledged_then

    return acknowledged_then(metrics)


def fmt_value(value: object) -> str:
    """An alert's value as the CLI words it: '40', '36.5', 'no count' (None)."""
    if not isinstance(value, int | float):
        return "no count"
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.1f}"


def alert_day_text(alert: Alert, utc_offset: timedelta | None = None) -> str:
    """The ISO date an alert is listed under: for a stored site (``utc_offset`` its
    :func:`~railwatch.analysis.store.site_utc_offset`) its day at the site, the day its
    key and text name (:func:`~railwatch.analysis.events.alert_day`, as `railwatch
    alerts` and the API give it; the UTC day before session 31); for a CSV's counts (no
    site, None) the date of its time as written."""
    if utc_offset is None:
        return f"{alert.when:%Y-%m-%d}"
    from railwatch.analysis.events import alert_day

    return alert_day(alert.when, utc_offset).isoformat()


def alert_json(
    alert: Alert, utc_offset: timedelta | None = None, alert_id: int | None = None
) -> dict[str, object]:
    """An alert as the --json outputs give it: ``id`` first (``alert_id``: the stored
    alert's id, which `railwatch alert ack ID` takes, as `railwatch alerts --json` gives
    it; null for alerts not stored, those of ``--counts`` and of a look-back without
    ``--store``), then :meth:`Alert.to_dict` with ``day`` (:func:`alert_day_text`, after
    ``when`` as in `railwatch alerts --json`) and ``reviewed``. Until 2026-12-06
    (session 38) there was no ``id``: the table showed it, the JSON did not."""
    out: dict[str, object] = {"id": alert_id}
    for key, value in alert.to_dict().items():
        out[key] = value
        if key == "when":
            out["day"] = alert_day_text(alert, utc_offset)
    out["reviewed"] = is_reviewed(alert.metrics)
    return out


def one_line_rows() -> bool:
    """Whether the alert tables print each row on one line: when stdout is not laid out
    to a width (piped, redirected, cron: :attr:`CliConsole.unbounded`), so that ``grep
    2024-07-01`` finds an alert's id, day, class, kind and severity on one line. On a
    terminal (or with ``COLUMNS``) the first column stacks them, one item a line, so
    that the wrapped explanation keeps most of the width. Until 2026-12-06 (session 37)
    piped tables stacked them too, three lines an alert."""
    return console.unbounded


def cell_lines(items: Sequence[str]) -> str:
    """``items`` (console markup) as one table cell: one a line on a terminal, side by
    side (two spaces apart) where rows are printed on one line (:func:`one_line_rows`)."""
    return ("  " if one_line_rows() else "\n").join(items)


def empty_alert_table(title: str, *, marked: bool) -> Table:
    """The alerts' table, without rows: what the alert is in one narrow column, its
    explanation in the rest; ``marked``: some row is an analyst's count (the caption
    says what the mark means). Rows are ruled apart on a terminal, where their cells
    take several lines; not where each row is one line (:func:`one_line_rows`)."""
    table = Table(
        title=title,
        show_lines=not one_line_rows(),
        expand=not console.unbounded,
        caption=REVIEWED_CAPTION if marked else None,
        caption_justify="left",
    )
    table.add_column("alert", no_wrap=True)
    table.add_column("explanation", ratio=1, overflow="fold")
    return table


def alert_table(
    alerts: Sequence[Alert],
    title: str,
    utc_offset: timedelta | None = None,
    ids: Mapping[str, int] | None = None,
) -> Table:
    """A rich table of alerts, one row each: what the alert is stacked in one narrow
    column (id, date, class and kind, severity), as `railwatch alerts` shows them, so
    that the wrapped explanation keeps most of the width (on one line where rows are:
    :func:`one_line_rows`). The date is :func:`alert_day_text`'s: a stored site's
    (``utc_offset``) local day, the day the text names. ``ids``: the stored alerts' ids
    by key (`railwatch alert ack ID` takes them; none for a CSV's counts or a look-back
    that stored nothing). An alert judged on an analyst's count is marked
    (:data:`REVIEWED_MARK`) and the caption says what the mark means."""
    table = empty_alert_table(title, marked=any(is_reviewed(a.metrics) for a in alerts))
    for a in alerts:
        cell = alert_cell(
            alert_day_text(a, utc_offset),
            a.cls,
            a.kind,
            a.severity,
            alert_id=None if ids is None else ids.get(a.key),
            reviewed=is_reviewed(a.metrics),
        )
        table.add_row(cell, escape(a.explanation))
    return table


def alert_cell(
    day: str,
    cls: str,
    kind: str,
    severity: str,
    *,
    alert_id: int | None = None,
    site: str | None = None,
    acknowledged: bool = False,
    reviewed: bool = False,
) -> str:
    """What an alert is, one item a line (its id and date, the site when given, class and
    kind, severity, and :data:`REVIEWED_MARK` when it was judged on an analyst's count),
    for the narrow first column of an alert table; the items side by side where rows are
    printed on one line (:func:`cell_lines`)."""
    style = _STYLE.get(severity, "")
    lines = [day if alert_id is None else f"#{alert_id}  {day}"]
    lines += [escape(site)] if site is not None else []
    lines += [f"{escape(cls)} · {kind}"]
    lines += [f"[{style}]{severity}[/]" + ("  [dim]acked[/]" if acknowledged else "")]
    lines += [f"[green]{REVIEWED_MARK}[/]"] if reviewed else []
    return cell_lines(lines)


def parse_as_of(text: str | None, *, today: date | None = None, at_site: bool = False) -> datetime:
    """``--as-of DATE``: the end of that day in UTC (``analyze SITE`` moves it to the end
    of that day at the site, its local day); without it, now (UTC). A date before 1900
    is an :class:`InputError`, and so is one after ``today``: by default the later of
    today in UTC and on this machine's clock (for analysts east of Greenwich), the rule
    for ``--counts``, whose dates are UTC days. With ``at_site`` (``analyze SITE``) the
    date is only read here: whether it is after today *at the site* is checked once the
    site's zone is known (:func:`check_as_of_at_site`). The analysis looks back; a
    future date would only report a silence up to it."""
    if text is None:
        return datetime.now(UTC)
    day = parse_day(text, "--as-of")
    check_year(day, "--as-of")
    if not at_site:
        today = today if today is not None else max(datetime.now(UTC).date(), date.today())
        _check_not_after(day, today, today.isoformat())
    return datetime.combine(day, time(23, 59, 59), tzinfo=UTC)


def check_as_of_at_site(day: date, site: str, utc_offset: timedelta) -> None:
    """An :class:`InputError` when ``--as-of``'s ``day`` is after today at ``site``
    (``utc_offset`` east of UTC, its nominal zone), the day its look-back ends on.

    Since 2026-12-05 (session 31); before, the limit was today in UTC or on this
    machine's clock, so each local morning at a UTC+12 site its today was refused on a
    machine running on UTC, and at a UTC-10 site its next day was taken from 14:00
    there (midnight UTC), a silence judged up to a time still to come."""
    from railwatch.analysis.events import local_day, offset_text

    today = local_day(datetime.now(UTC), utc_offset)
    _check_not_after(
        day, today, f"{today.isoformat()} at {site}, {offset_text(utc_offset)} nominal"
    )


def _check_not_after(day: date, today: date, said: str) -> None:
    if day > today:
        raise InputError(
            f"--as-of {day.isoformat()} is after today ({said}): it looks back "
            "at what was known on a past date; leave it out to judge as of now"
        )


def _file_label(path: Path) -> str:
    """How ``--counts``'s file is named in what analyze prints: its name, or for a pipe
    (``--counts <(cut ... f.csv)``, ``/dev/stdin``) what it is: its name was "63"
    (/dev/fd/63), which read as a number (2026-12-07, session 46)."""
    text = str(path)
    if text in ("/dev/stdin", "/dev/fd/0", "/proc/self/fd/0"):
        return "standard input"
    if re.fullmatch(r"/dev/fd/\d+|/proc/(?:self|\d+)/fd/\d+", text):
        return f"the piped input {text}"
    return path.name


def _settings(record_years: int | None, event_window: int | None) -> AlertSettings:
    from railwatch.analysis.settings import AlertSettings

    overrides: dict[str, Any] = {}
    if record_years is not None:
        overrides["record_years"] = record_years
    if event_window is not None:
        overrides["event_window_days"] = event_window
    try:
        return AlertSettings(**overrides)
    except InputError as refused:  # chained to pydantic's ValidationError, worded per option
        err = refused.__cause__
        if not isinstance(err, ValidationError):
            raise
        first = err.errors()[0]
        field = str(first["loc"][0]) if first["loc"] else ""
        option = {"record_years": "--record-years", "event_window_days": "--event-window"}
        raise InputError(
            f"{option.get(field, field)} {first.get('input')!r}: {first['msg'].lower()}"
        ) from err


def analyze(
    ctx: typer.Context,
    site: Annotated[
        str | None,
        typer.Argument(help="Site to analyse from the database (or to pick from a CSV)."),
    ] = None,
    counts: Annotated[
        Path | None,
        typer.Option(
            "--counts",
            help="CSV of counts (date,count[,low,high,usable,class,site,gsd,method]; "
            "separated by commas, semicolons or tabs), e.g. the counts of `railwatch export "
            "SITE --format csv`; no database. Of an export only the total (count) is "
            "analysed: its per-class columns (count_<class>, covered) are not read, so the "
            "alerts of single classes that `railwatch analyze SITE` gives are not raised "
            "(a class column, one line per class and image, gives them).",
        ),
    ] = None,
    events: Annotated[
        list[str] | None,
        typer.Option("--event", help="With --counts: an event as DATE=LABEL (repeat for several)."),
    ] = None,
    zone: Annotated[
        str | None,
        typer.Option(
            "--zone",
            help="With --counts: the site's nominal zone, e.g. UTC-7 (whole hours; "
            "`railwatch site show SITE --json` and the export's sites layer give it as "
            "local_zone). The counts' days, --as-of's day and a silence's time are then "
            "the site's, as `railwatch analyze SITE` gives them. Not needed for an export "
            "made since 2026-12-05: its local_zone column gives each site's zone (--zone "
            "must then agree). Without either, a file's days are those of its day column "
            "(an export's) or UTC days.",
        ),
    ] = None,
    record_years: Annotated[
        int | None, typer.Option("--record-years", help="N of the N-year record (default 5).")
    ] = None,
    event_window: Annotated[
        int | None,
        typer.Option("--event-window", help="Days after an event that alerts name it (60)."),
    ] = None,
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of",
            help="Look back: the alerts as of the end of this past date (YYYY-MM-DD; "
            "default now): for a SITE its day at the site (the site's local day, as alert "
            "dates are), for --counts the day in UTC (with --zone, the day in that zone); "
            "later counts ignored and a silence up "
            "to it reported. Printed only: the stored alerts are left as they are (see "
            "--store).",
        ),
    ] = None,
    store: Annotated[
        bool,
        typer.Option(
            "--store",
            help="With --as-of: store these alerts in place of the site's stored ones (the "
            "dashboard, `railwatch alerts` and reports then show the site as of that date "
            "until the next plain analyze). Unacknowledged alerts the look-back does not "
            "raise are deleted: the next plain analyze raises them again under new ids "
            "(acknowledged alerts keep theirs).",
        ),
    ] = False,
    min_severity: Annotated[
        str, typer.Option("--min-severity", help="Show alerts from this severity up.")
    ] = "info",
    cls: Annotated[
        str | None,
        typer.Option(
            "--class",
            help="Show only the alerts of this series: all (the site total), covered or a car "
            "class (all are analysed and stored either way).",
        ),
    ] = None,
    as_json: Annotated[
        bool,
        typer.Option(
            "--json",
            help="Print the alerts as JSON (for a SITE, with what the summary line says: "
            "images, alerts in all and the changes to the stored alerts, changed_since_ack "
            "among them).",
        ),
    ] = False,
) -> None:
    """Judge every image against its own history and raise explained alerts.

    [b]railwatch analyze SITE[/] analyses the stored counts and events of a site and
    stores the alerts (re-running gives the same alerts; acknowledgements are kept).
    [b]railwatch analyze --counts FILE.csv[/] works on hand counts alone, no database.
    Both judge as of now unless [b]--as-of DATE[/] is given: a look-back at a past date
    (the same date gives the same alerts) that prints the alerts and stores nothing; the
    stored alerts and acknowledgements stay as they are unless [b]--store[/] is given.
    """
    from railwatch.analysis.types import SEVERITIES

    if min_severity not in SEVERITIES:
        raise InputError(f"--min-severity {min_severity!r}: use one of {', '.join(SEVERITIES)}")
    floor = SEVERITIES.index(min_severity)
    check_class_option(cls)
    settings = _settings(record_years, event_window)
    offset = None if zone is None else parse_zone(zone)
    if offset is not None and counts is None:
        raise InputError(
            "--zone is for --counts: a stored site's zone is its own (from its longitude)"
        )
    # a stored site's today is its own: checked once its zone is read (_analyze_db); so
    # is that of --counts, once the file is read (--zone's, or its local_zone column's)
    end = parse_as_of(as_of, at_site=True)
    if counts is not None:
        if store:
            raise InputError("--store is for a site's stored alerts; --counts stores nothing")
        look_back = as_of is not None
        _analyze_csv(
            counts, site, events or [], settings, (floor, cls), as_json, end, (offset, look_back)
        )
        return
    if site is None:
        raise InputError("give a SITE to analyse from the database, or --counts FILE.csv")
    if events:
        raise InputError("--event is for --counts; add site events with `railwatch event add`")
    # a plain run judges as of now and stores; a look-back stores only when asked
    look_back = as_of is not None
    _analyze_db(
        ctx,
        site,
        settings,
        (floor, cls),
        as_json,
        end,
        look_back=look_back,
        store=not look_back or store,
    )


def parse_zone(text: str) -> timedelta:
    """``--zone``: a site's nominal zone, ``UTC-7``, ``UTC+12``, ``UTC`` (as
    :func:`~railwatch.analysis.events.offset_text` writes it), ``-7`` or ``+05:00``:
    whole hours from UTC-12 to UTC+12, as :func:`railwatch.sites.nominal_utc_offset`
    gives them (:func:`railwatch.analysis.csvio.zone_offset`, which also reads an
    export's ``local_zone``)."""
    from railwatch.analysis.csvio import zone_offset

    offset = zone_offset(text)
    if offset is None:
        raise InputError(
            f"--zone {text!r}: give the site's nominal zone as UTC-7, UTC+12 or UTC (whole "
            "hours from UTC-12 to UTC+12, its longitude / 15 rounded): `railwatch site show "
            "SITE --json` gives it as local_zone, and so does `railwatch export`'s sites layer"
        )
    return offset


def check_class_option(cls: str | None) -> None:
    """An InputError unless ``cls`` (a --class value) is None or a series that exists:
    :func:`railwatch.storage.alert_filter.check_series`, by which `railwatch alerts` and
    the web API's alert lists read theirs (session 35)."""
    from railwatch.storage.alert_filter import check_series

    check_series(cls, "--class")


def _read_along_found_lines(session: Any, site: str, until: datetime | None) -> int:
    """How many of ``site``'s usable images (acquired up to ``until``, UTC, when given)
    have a count read along track lines found in the image itself (``tracks`` ``found`` in
    the scene's ``repo.COARSE_KEY``), not an analyst's: `railwatch analyze` says its
    alerts rest on them (2026-12-07, session 48: only `railwatch process` said so, once)."""
    from sqlalchemy import select

    from railwatch.storage import repo
    from railwatch.storage.models import ANALYST, Count, Scene

    query = (
        select(Scene.meta)
        .join(Count, Count.scene_id == Scene.id)
        .where(
            Scene.site_id == repo.get_site(session, site).id,
            Scene.status == "processed",
            Scene.usable.is_(True),
            Count.cls == "all",
            Count.method == "length",
            Count.detector != ANALYST,
        )
    )
    if until is not None:
        query = query.where(Scene.acquired_at <= until)
    return sum(1 for meta in session.scalars(query) if repo.tracks_read(meta) == "found")


def _shown(alerts: Sequence[Alert], show: tuple[int, str | None]) -> list[Alert]:
    """The alerts from severity index ``show[0]`` up, of series ``show[1]`` (any: None)."""
    from railwatch.analysis.types import SEVERITIES

    floor, cls = show
    return [
        a for a in alerts if SEVERITIES.index(a.severity) >= floor and (cls is None or a.cls == cls)
    ]


def _analyze_csv(
    path: Path,
    site: str | None,
    event_texts: list[str],
    settings: AlertSettings,
    show: tuple[int, str | None],
    as_json: bool,
    as_of: datetime,
    zone: tuple[timedelta | None, bool] = (None, False),
) -> None:
    """``analyze --counts``; ``zone``: ``--zone``'s offset (None: not given) and whether
    ``--as-of`` was given (then ``as_of`` is the end of that day in UTC, moved to the end
    of that day in each site's zone, and checked not to be after today there). An
    export's ``local_zone`` column (since 2026-12-05, session 33) is each site's zone as
    ``--zone`` would give it, so an export analysed back needs no flag."""
    from railwatch.analysis.alerts import analyze_series
    from railwatch.analysis.csvio import read_counts_file
    from railwatch.analysis.events import local_day
    from railwatch.imagery.dates import local_noon

    offset, look_back = zone
    file_label = _file_label(path)
    read = read_counts_file(
        path,
        warn=lambda line: err_console.print(
            f"[bold yellow]warning:[/] {escape(line)}", highlight=False, soft_wrap=True
        ),
        utc_offset=offset,
        keep_misfits=True,
    )
    by_site = read.series
    if read.class_columns:  # said in csvio's docstring alone before session 40
        n_cols = len(read.class_columns)
        err_console.print(
            f"note: {escape(file_label)}: its per-class column{plural_s(n_cols)} "
            f"({escape(', '.join(read.class_columns))}) {'is' if n_cols == 1 else 'are'} not "
            "read: only the total (count) is analysed, so the alerts of single classes (a "
            "type, untyped railcars, covered loads) that `railwatch analyze SITE` gives on "
            "the database are not raised here (the export has no per-class intervals, which "
            "those alerts are judged with). For them, analyse the site in its database, or "
            "give a class column, one line per class and image, with low and high.",
            highlight=False,
            soft_wrap=True,
        )
    # an export's day column: each line's local day at its site, in the zones it fits
    zones, spans = read.zones, read.zone_spans
    misfits = read.zone_misfits  # --zone's: a day column of a site in another zone
    stated = read.stated_zones  # the zone an export's local_zone gives, by site
    if site is not None:
        # the file's site names are read in NFC (csvio); a SITE typed or pasted in
        # another Unicode form (macOS: NFD) is the same name
        site = normalise_name(site)
        if set(by_site) == {""}:
            raise InputError(
                f"{path} has no site column, so its counts are of one site: leave SITE out "
                f"(`railwatch analyze --counts {path}`), or add a site column"
            )
        if site not in by_site:
            names = ", ".join(repr(s) for s in sorted(by_site) if s)
            raise InputError(
                f"site {site!r} is not in the site column of {path} (sites there: {names}): "
                "give one of them, or leave SITE out to analyse each site"
            )
        by_site = {site: by_site[site]}
    if offset is not None:
        if len(by_site) > 1:
            names = ", ".join(repr(s) for s in sorted(by_site))
            raise InputError(
                f"--zone is one site's zone, and {path} holds the counts of {len(by_site)} "
                f"sites ({names}): give the SITE whose zone it is"
            )
        for name in by_site:  # the others' days may follow their own zones
            if name in misfits:  # (or its local_zone is another)
                raise InputError(misfits[name])
        zones = {name: offset for name in by_site}
    # each site's zone, known from --zone or the file's local_zone (not guessed)
    known = {name: zones[name] for name in by_site if offset is not None or name in stated}
    # a date given alone is that day at the site: its noon there, as ingest dates an
    # image of a known day (its 00:00 UTC was the day before west of Greenwich)
    by_site = {
        name: [
            replace(p, when=local_noon(p.when.date(), known[name]))
            if p.date_only and name in known
            else p
            for p in pts
        ]
        for name, pts in by_site.items()
    }
    if look_back:  # not after today at the site, as `analyze SITE --as-of`; else in UTC
        for name in sorted(by_site):
            if name in known:
                check_as_of_at_site(as_of.date(), name or file_label, known[name])
            else:
                today = max(datetime.now(UTC).date(), date.today())
                _check_not_after(as_of.date(), today, today.isoformat())
    # --as-of's day is a day in each site's zone (--zone's, else the one its day column
    # fits, else UTC): the end of that day there, as `analyze SITE --as-of`; the analysis
    # takes every line of that day (analyze_series cuts by day), and so do the summaries
    ends = {name: as_of - zones.get(name, timedelta(0)) if look_back else as_of for name in by_site}
    evs = [parse_event_option(t) for t in event_texts]
    results = {
        name: analyze_series(
            pts, evs, settings, as_of=ends[name], utc_offset=zones.get(name, timedelta(0))
        )
        for name, pts in sorted(by_site.items())
    }
    for name, alerts in results.items():
        _warn_zone_unknown(name or file_label, alerts, spans.get(name) if offset is None else None)
    if as_json:
        # the table says how many counts were left out; JSON alone said nothing of them
        for name, pts in sorted(by_site.items()):
            z = zones.get(name, timedelta(0))
            later = sum(1 for p in _counted(pts) if not _within(p, ends[name], z))
            if later:
                label = f"site {name}" if name else file_label
                err_console.print(
                    f"[bold yellow]warning:[/] {escape(label)}: {later} "
                    f"count{plural_s(later)} after "
                    f"{_end_said(local_day(ends[name], z), z, name in zones)} left out",
                    highlight=False,
                    soft_wrap=True,
                )
        print_json(
            [
                {"site": name or None, **alert_json(a, zones.get(name))}
                for name, alerts in results.items()
                for a in _shown(alerts, show)
            ]
        )
        return
    for name, alerts in results.items():
        z = zones.get(name, timedelta(0))
        day = local_day(ends[name], z)  # the day --as-of names (or today) in the site's zone
        totals = _counted(by_site[name])
        n_usable = sum(1 for p in totals if _within(p, ends[name], z))
        later = len(totals) - n_usable  # left out by the analysis: say so, not "usable"
        of = _of_classes(totals, ends[name], z)
        counted = (
            f"{n_usable} usable count{plural_s(n_usable)}{of}"
            + (f"; {later} after {day:%Y-%m-%d} left out" if later else "")
            + _single_classes(by_site[name], ends[name], z)
        )
        label = f"site {name}" if name else file_label
        shown = _shown(alerts, show)
        if not shown:
            if alerts:  # raised, and the filter shows none (session 46: "no alerts")
                console.print(f"{escape(label)}: {_none_shown(len(alerts), show)}; {counted}.")
            else:
                console.print(f"{escape(label)}: no alerts ({counted}).")
            continue
        # the site comes from the file: "[/]" in it was rich markup (an internal error)
        n_shown = len(shown)
        print_table(
            alert_table(
                shown,
                f"{escape(label)}: {n_shown} alert{plural_s(n_shown)}, {counted}",
                zones.get(name),
            )
        )


def _warn_zone_unknown(
    label: str, alerts: Sequence[Alert], span: tuple[timedelta, timedelta] | None
) -> None:
    """Say that a file's silences are timed in a zone the file does not pin: an export's
    day column fits every zone of ``span`` (images at one time of day fit many), the
    analysis took the middle one, and a silence's ``when`` (local midnight of its day)
    is hours off where the site's zone is another (its days are right in any of them).
    Since 2026-12-05 (session 33): the zone was taken silently."""
    from railwatch.analysis.events import offset_text

    silences = sum(1 for a in alerts if a.kind == "quality")
    if span is None or span[0] == span[1] or not silences:
        return
    first, last = span
    middle = timedelta(hours=(first + last) // timedelta(hours=1) // 2)
    err_console.print(
        f"[bold yellow]warning:[/] {escape(label)}: the day column fits every zone from "
        f"{offset_text(first)} to {offset_text(last)}, and the file does not say which is "
        f"the site's: the days are the column's, but {silences} "
        f"silence{plural_s(silences)} {'is' if silences == 1 else 'are'} timed at local "
        f"midnight in {offset_text(middle)}, hours off if the site's zone is another; give "
        "it with --zone (e.g. --zone UTC-7; `railwatch site show SITE` shows it) for "
        "the times `railwatch analyze SITE` gives, or export the site again (an export "
        "since 2026-12-05 says it, local_zone)",
        highlight=False,
        soft_wrap=True,
    )


def _counted(points: Sequence[CountPoint]) -> list[CountPoint]:
    """The usable counts a summary counts: the site total's, or, in a file that counts
    no total (only tank cars, say), those of every class it counts (a file of tank
    counts said "0 usable counts" above the tank alerts it raised)."""
    usable = [p for p in points if p.is_usable]
    totals = [p for p in usable if p.cls == "all"]
    return totals or usable


def _none_shown(n_alerts: int, show: tuple[int, str | None]) -> str:
    """That ``--min-severity`` and ``--class`` (``show``) leave none of the ``n_alerts``
    raised: ``none of its 7 alerts is low or above (--min-severity info shows them
    all)`` (2026-12-07, session 46: a look-back with ``--min-severity low`` said "7
    alerts" and showed nothing, and ``--counts`` said "no alerts" of a file that raised
    some)."""
    from railwatch.analysis.types import SEVERITIES

    floor, cls = show
    words = ", ".join(
        ([f"of {escape(cls)}"] if cls is not None else [])
        + ([f"{SEVERITIES[floor]} or above"] if floor > 0 else [])
    )
    how = (["--min-severity info"] if floor > 0 else []) + (
        ["no --class"] if cls is not None else []
    )
    verb = "shows" if len(how) == 1 else "show"
    if n_alerts == 1:
        return f"its one alert is not {words} ({' and '.join(how)} {verb} it)"
    return f"none of its {n_alerts} alerts is {words} ({' and '.join(how)} {verb} them all)"


def _single_classes(points: Sequence[CountPoint], as_of: datetime, utc_offset: timedelta) -> str:
    """The usable counts of single classes in a file that counts the total too (those
    :func:`_counted` leaves out), up to ``as_of``'s day at the site: ``"; of single
    classes: boxcar 1, tank 3"``, else "" (2026-12-07, session 46: a file of one total
    and four tank and boxcar lines said "1 usable count" above the tank alerts)."""
    usable = [p for p in points if p.is_usable and _within(p, as_of, utc_offset)]
    if not any(p.cls == "all" for p in points if p.is_usable):
        return ""  # no total: _of_classes names the classes
    classes = sorted({p.cls for p in usable} - {"all"})
    if not classes:
        return ""
    each = ", ".join(f"{escape(c)} {sum(1 for p in usable if p.cls == c)}" for c in classes)
    return f"; of single classes: {each}"


def _within(point: CountPoint, as_of: datetime, utc_offset: timedelta) -> bool:
    """``point`` is in an analysis as of ``as_of``: of that moment's day or earlier at its
    site (``utc_offset``), as :func:`~railwatch.analysis.alerts.analyze_series` cuts."""
    from railwatch.analysis.events import local_day

    return local_day(point.when, utc_offset) <= local_day(as_of, utc_offset)


def _end_said(day: date, utc_offset: timedelta, known: bool) -> str:
    """The end of ``day`` a warning names: ``2021-01-02 23:59 UTC`` for a file of UTC
    dates alone, ``2021-01-02 (days at UTC-7)`` in a zone (``--zone``'s, or the one the
    file's day column fits)."""
    from railwatch.analysis.events import offset_text

    if not known:
        return f"{day:%Y-%m-%d} 23:59 UTC"
    return f"{day:%Y-%m-%d} (days at {offset_text(utc_offset)})"


def _of_classes(points: Sequence[CountPoint], as_of: datetime, utc_offset: timedelta) -> str:
    """Which classes :func:`_counted`'s ``points`` are of, when not the total: " of tank",
    ": hopper 20, tank 40" (the counts of each up to ``as_of``'s day at the site,
    ``utc_offset``), else ""."""
    classes = sorted({p.cls for p in points})
    if not classes or classes == ["all"]:
        return ""
    if len(classes) == 1:
        return f" of {escape(classes[0])}"
    shown = [p for p in points if _within(p, as_of, utc_offset)]
    return ": " + ", ".join(f"{c} {sum(1 for p in shown if p.cls == c)}" for c in classes)


#: What ``analyze SITE --json`` gives of the stored alerts' changes, as the summary line
#: and ``POST /api/sites/{site}/analyze`` say them.
CHANGE_KEYS = (
    "created",
    "unchanged",
    "updated",
    "removed",
    "retired",
    "reopened",
    "changed_since_ack",
)


def _summary_json(result: SiteAnalysis) -> dict[str, int | None]:
    """What the summary line of ``analyze SITE`` says, for ``--json`` (which gave the
    alerts shown alone before session 30): ``points`` (images, ``after``'s too),
    ``usable`` (usable images judged: up to the as-of date; since 2026-12-06, session
    40, before those after it too), ``after`` (images after the as-of date, left out),
    ``alerts_total`` (every alert raised; ``alerts`` lists those --min-severity and
    --class show) and the changes to the
    stored alerts (:data:`CHANGE_KEYS`; ``reopened``: acknowledged alerts whose severity
    rose, acknowledged no longer; ``changed_since_ack``: acknowledged alerts that say
    something else at the same or a lower severity, still acknowledged, marked), each
    null for a look-back that stored nothing."""
    return {
        "points": result.points,
        "usable": result.usable,
        "after": result.after,
        "alerts_total": len(result.alerts),
        **{k: getattr(result, k) if result.stored else None for k in CHANGE_KEYS},
    }


def _analyze_db(
    ctx: typer.Context,
    site: str,
    settings: AlertSettings,
    show: tuple[int, str | None],
    as_json: bool,
    as_of: datetime,
    *,
    look_back: bool,
    store: bool,
) -> None:
    from railwatch.analysis.centrelines import found_lines_next_step
    from railwatch.analysis.events import local_day
    from railwatch.analysis.store import analyze_and_store, analyze_site, site_utc_offset
    from railwatch.cli.site import open_db
    from railwatch.storage import repo

    with open_db(ctx) as db:
        # read only: SQLite's write lock is taken to store the alerts alone, once they
        # are computed (analyze_and_store, session 35: before, it was held from the
        # first read, and `railwatch process`, acknowledgements and events waited)
        with db.session(readonly=True) as session:
            # the site's days: the alerts are listed under the days their texts name
            offset = site_utc_offset(repo.get_site(session, site))
            # --as-of's day as given; else today at the site, the day its alerts are
            # judged as of (session 31: today in UTC, a day behind at a UTC+12 site)
            day = f"{as_of:%Y-%m-%d}" if look_back else local_day(as_of, offset).isoformat()
            if look_back:  # the end of that day at the site (its local day), not in UTC
                check_as_of_at_site(as_of.date(), site, offset)
                as_of -= offset
            # images not processed yet or failed (up to --as-of): in no count, so in no
            # analysis (session 45: a site ingested and not processed was "0 usable of 0
            # images", silently)
            pending, failed = repo.uncounted_scenes(session, site, as_of if look_back else None)
            found = _read_along_found_lines(session, site, as_of if look_back else None)
            # the site's centrelines now: given since those counts were made (session 49)
            tracks_given = repo.get_site(session, site).tracks_wkb is not None
            if not store:  # a look-back that stores nothing
                result = analyze_site(session, site, settings, as_of=as_of, store=False)
        ids: dict[str, int] | None = None
        if store:
            result = analyze_and_store(db, site, settings, as_of=as_of)
            # the stored alerts' ids, which `railwatch alert ack ID` takes (the table
            # showed none before session 37, the JSON none before session 38)
            with db.session(readonly=True) as session:
                ids = {a.key: a.id for a in repo.list_alerts(session, site)}
    shown = _shown(result.alerts, show)
    if as_json:
        print_json(
            {
                "site": site,
                "as_of": day,
                "stored": result.stored,
                **_summary_json(result),
                "not_processed": pending,
                "failed": failed,
                # counts read along track lines found in the image (session 48)
                "found_lines": found,
                "alerts": [
                    alert_json(a, offset, None if ids is None else ids.get(a.key)) for a in shown
                ],
            }
        )
        return
    # the images analysed, and apart from them those after the day (session 40: "121
    # usable of 121 images, 84 of them after ... left out" counted the 84 as usable)
    judged = result.points - result.after
    counted = f"{result.usable} usable of {judged} image{plural_s(judged)}" + (
        f" up to {day}; {result.after} image{plural_s(result.after)} after it left out"
        if result.after
        else ""
    )
    if store:
        console.print(
            # the day judged as of, also on a plain run (session 41: only a look-back
            # said it, and a plain run after the demo's, which judges as of its last
            # image, added a "no usable image since" alert without saying why)
            f"{escape(site)} as of {day}{'' if look_back else ' (today at the site)'}: "
            f"{counted}; "
            f"{len(result.alerts)} alert{plural_s(len(result.alerts))} ({result.created} new, "
            f"{result.unchanged} "
            f"unchanged, {result.updated} updated, {result.removed} removed, "
            # "1 acknowledged ones retired" until 2026-12-07 (session 45)
            f"{result.retired} acknowledged alert{plural_s(result.retired)} retired)."
            + (
                f" {result.reopened} acknowledged alert{plural_s(result.reopened)} rose in "
                f"severity and {'is' if result.reopened == 1 else 'are'} acknowledged no "
                "longer (notes kept): see `railwatch alerts`."
                if result.reopened
                else ""
            )
            + (
                f" {result.changed_since_ack} acknowledged "
                f"alert{plural_s(result.changed_since_ack)} now "
                f"{'says' if result.changed_since_ack == 1 else 'say'} something else "
                "(another count, explanation or image) at the same or a lower severity: "
                f"still acknowledged, marked (`railwatch alerts {escape(site)} --unacked` "
                "lists them with what was acknowledged; changed_since_ack in --json); "
                "`railwatch alert ack ID` once checked."
                if result.changed_since_ack
                else ""
            )
        )
    else:
        console.print(
            f"{escape(site)} as of {day} (a look-back, not stored): {counted}; "
            f"{len(result.alerts)} alert{plural_s(len(result.alerts))}. The stored alerts and "
            "acknowledgements are "
            "unchanged (--store stores these in their place)."
        )
    if pending:
        console.print(
            f"{pending} image{plural_s(pending)} of {escape(site)} "
            f"{'are' if pending != 1 else 'is'} not processed yet, so in no count and not "
            f"in this analysis: `railwatch process {escape(site)}` counts them, then "
            "analyse again.",
            highlight=False,
        )
    if failed:
        console.print(
            f"{failed} image{plural_s(failed)} of {escape(site)} failed when processed, so "
            f"{'are' if failed != 1 else 'is'} in no count and not in this analysis: "
            f"`railwatch scene list {escape(site)}` says why; fix what the reason says "
            "(processing again alone gives the same failure), then process and analyse "
            "again.",
            highlight=False,
        )
    if found:
        console.print(
            f"note: {found} count{plural_s(found)} of {escape(site)} (1.5–10 m) "
            f"{'were' if found != 1 else 'was'} read along track lines found in the image "
            "itself (the site had no track centrelines when they were counted), far less "
            "accurate than along drawn centrelines, and its alerts rest on them: "
            f"{escape(found_lines_next_step(site, tracks_given=tracks_given))}, then "
            "analyse again.",
            highlight=False,
        )
    if not shown and result.alerts:
        # a filter that shows none printed the count of alerts and nothing else (session 46)
        console.print(f"{escape(site)}: {_none_shown(len(result.alerts), show)}.", highlight=False)
    if shown:
        title = (
            f"{site}: alerts"
            + (f" as of {day}" if look_back else "")
            + (
                f" ({len(shown)} of {len(result.alerts)} shown)"
                if len(shown) < len(result.alerts)
                else ""
            )
        )
        print_table(alert_table(shown, title, offset, ids))


def register(app: typer.Typer) -> None:
    """Add ``analyze`` to the ``railwatch`` command."""
    app.command("analyze")(analyze)
