"""``railwatch alerts`` (list) and ``railwatch alert list|ack``: stored alerts."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Any

import typer
from rich.markup import escape

from railwatch.cli._common import (
    check_record_id,
    console,
    left_out_by_limit,
    plural_s,
    print_json,
    print_table,
    say_left_out,
)

app = typer.Typer(help="Stored alerts: list them, acknowledge them.", no_args_is_help=True)


#: The members of an alert in `alerts --json` (and `alert ack --json`), in their order:
#: those of :func:`railwatch.storage.serialize.alert_dict` but ``created_at``
JSON_MEMBERS = (
    "id",
    # what it says, as a token: `railwatch alert ack ID --expect VERSION`
    "version",
    "site",
    "key",
    "kind",
    "severity",
    "when",
    # its image's local day at the site: the day its key and text name (session 31)
    "day",
    # its class, as `--class` names it (since 2026-12-06, session 38); `cls`, the
    # same value, its name before, kept for scripts that read it
    "class",
    "cls",
    "value",
    "explanation",
    "metrics",
    # judged on an analyst's count (a scene review): metrics["reviewed"]
    "reviewed",
    "event_label",
    "event_days",
    "scene_id",
    "active",
    "acknowledged",
    "ack_note",
    "ack_at",
    # when `railwatch analyze` first stored it, and when it last stored a change to it
    # (raised again saying something else, retired): the time --changed-since compares
    # with; an acknowledgement changes neither. ISO 8601 UTC, as the web API's
    # created_at (2026-12-07, session 48: a script had no time of either)
    "created_at",
    "updated_at",
    # what was acknowledged, when the alert says something else since (else null)
    "changed_since_ack",
)


def _row(a: Any, day: date | None = None) -> dict[str, Any]:
    from railwatch.storage.serialize import alert_dict

    every = alert_dict(a, day)
    return {name: every[name] for name in JSON_MEMBERS}


def list_alerts(
    ctx: typer.Context,
    site: Annotated[str | None, typer.Argument(help="Only this site.")] = None,
    since: Annotated[
        str | None,
        typer.Option(
            "--since",
            help="Only alerts on or after DATE (YYYY-MM-DD), a day at each alert's site (the "
            "day its text names); a time with its zone (2024-02-05T00:00Z) is an instant.",
        ),
    ] = None,
    unacked: Annotated[
        bool,
        typer.Option(
            "--unacked",
            help="Only alerts that need an analyst's eyes: not yet acknowledged, or "
            "acknowledged but changed since (another count, explanation or image; shown "
            "with what was acknowledged).",
        ),
    ] = False,
    include_retired: Annotated[
        bool,
        typer.Option("--all", help="Also acknowledged alerts that re-analysis no longer raises."),
    ] = False,
    min_severity: Annotated[
        str,
        typer.Option(
            "--min-severity", help="Only alerts from this severity up: info, low, medium, high."
        ),
    ] = "info",
    cls: Annotated[
        str | None,
        typer.Option(
            "--class",
            help="Only alerts of this series: all (the site total), covered or a car class.",
        ),
    ] = None,
    until: Annotated[
        str | None,
        typer.Option(
            "--until",
            help="Only alerts on or before DATE (YYYY-MM-DD, the day included), a day at each "
            "alert's site; a time with its zone is an instant.",
        ),
    ] = None,
    kind: Annotated[
        list[str] | None,
        typer.Option(
            "--kind",
            help="Only alerts of this kind: record, spike, shift, drop or quality; repeat the "
            "option or separate kinds with commas (--kind record,shift).",
        ),
    ] = None,
    changed_since: Annotated[
        str | None,
        typer.Option(
            "--changed-since",
            metavar="TIME",
            help="Only alerts stored at or after TIME (ISO 8601, UTC unless a zone is "
            "given): raised by `railwatch analyze`, or changed by it (another count, "
            "explanation, severity or image), since then, whatever day their image is "
            "of. A daily job gives the time its previous run listed the alerts, to see "
            "each new alert once, those of images delivered late too (--since is the "
            "image's day).",
        ),
    ] = None,
    limit: Annotated[
        int | None,
        typer.Option(
            "--limit",
            "-n",
            min=1,
            help="Only the N newest alerts (after the other filters); the list says how "
            "many more matched (--json: on stderr).",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List stored alerts, newest first.

    [b]railwatch alerts SITE --min-severity low --class all[/] lists what the demo's
    summary shows: the site total's alerts above info.
    """
    from railwatch.analysis.events import alert_day, site_utc_offset
    from railwatch.cli.analyze import alert_cell, cell_lines, empty_alert_table
    from railwatch.cli.site import open_db
    from railwatch.storage import repo
    from railwatch.storage.alert_filter import (
        AlertFilter,
        check_min_severity,
        check_series,
        check_when_range,
        parse_changed_since,
        parse_kinds,
        parse_when,
    )

    # read by the rules the web API's alert lists read their query by (session 35); a bad
    # value is said before the database is opened
    check_min_severity(min_severity, "--min-severity")
    check_series(cls, "--class")
    since_at, until_at = parse_when(since, "--since"), parse_when(until, "--until")
    check_when_range(since_at, until_at, ("--since", "--until"))
    # when the alert was stored, not its image's day (2026-12-07, session 47: a daily job
    # had only --since, and the alerts of an image delivered days late were never listed)
    changed_at = parse_changed_since(changed_since, "--changed-since")
    filters = AlertFilter(
        since=since_at,
        until=until_at,
        min_severity=min_severity,
        cls=cls,
        kinds=parse_kinds(kind or [], "--kind"),
        changed_since=changed_at,
    )
    offsets: dict[int, timedelta] = {}
    rows = []
    with open_db(ctx) as db, db.session(readonly=True) as s:
        # a day is each alert's local day at its site, the day its key and text name; the
        # filters are applied in SQL (a day by each site's zone)
        if limit is None:
            found = repo.list_alerts(
                s, site, active_only=not include_retired, open_only=unacked, filters=filters
            )
            matched = len(found)
        else:  # the newest N in SQL, and how many matched (the web API's pages alike)
            found, matched = repo.alert_page(
                s,
                site,
                active_only=not include_retired,
                open_only=unacked,
                filters=filters,
                limit=limit,
            )
        for a in found:
            if a.site_id not in offsets:
                offsets[a.site_id] = site_utc_offset(a.site)
            rows.append(_row(a, alert_day(a.when, offsets[a.site_id])))
    more = left_out_by_limit(matched, len(rows), limit, "alert", older="older")
    if as_json:
        print_json(rows)
        say_left_out(more, as_json=True)
        return
    if not rows:
        filtered = unacked or filters.narrows
        console.print(
            "No alerts"
            + (" matching the filters." if filtered else ".")
            + (
                ""
                if site or filtered
                else " Alerts are stored by `railwatch analyze SITE`: run it for each site "
                "if you have not (a site with nothing unusual has none)."
            )
        )
        return
    # what the alert is, stacked in one narrow column, so that the explanation keeps
    # most of the width (eight columns side by side left it 9 characters at 80 columns)
    one_site = len({r["site"] for r in rows}) == 1
    newest = f"the {len(rows)} newest of {matched} alerts" if more else ""
    title = (newest or f"{len(rows)} alert{plural_s(len(rows))}") + (
        f" of {escape(rows[0]['site'])}" if one_site else ""
    )
    table = empty_alert_table(title, marked=any(r["reviewed"] for r in rows))
    for r in rows:
        notes = [f"[dim]note: {escape(r['ack_note'])}[/]"] if r["ack_note"] else []
        if r["changed_since_ack"]:
            text = repo.changed_since_words(
                r["changed_since_ack"],
                value=r["value"],
                severity=r["severity"],
                scene_id=r["scene_id"],
            )
            notes.append(f"[dim]{escape(text)}[/]")
        head = alert_cell(
            r["day"],  # the day at the site, as the alert's text (its UTC day before session 31)
            str(r["class"]),
            r["kind"],
            r["severity"],
            alert_id=r["id"],
            site=None if one_site else r["site"],
            acknowledged=bool(r["acknowledged"]),
            reviewed=r["reviewed"],
        )
        # the note under the explanation on a terminal, after it where rows are one line
        table.add_row(head, cell_lines([escape(r["explanation"]), *notes]))
    print_table(table)
    say_left_out(more, as_json=False)


def ack(
    ctx: typer.Context,
    alert_id: Annotated[
        int, typer.Argument(metavar="ID", help="Alert id (see `railwatch alerts`).")
    ],
    note: Annotated[str, typer.Option("--note", "-n", help="Why, who, what was checked.")] = "",
    expect: Annotated[
        str | None,
        typer.Option(
            "--expect",
            metavar="VERSION",
            help="Acknowledge only the alert as you read it: its `version` in "
            "`railwatch alerts --json`. When re-analysis has changed it since (another "
            "count, explanation, severity or image), nothing is acknowledged and the "
            "error says what it says now.",
        ),
    ] = None,
    as_json: Annotated[
        bool,
        typer.Option(
            "--json",
            help="Print the alert as JSON once acknowledged (the keys of `alerts --json`).",
        ),
    ] = False,
) -> None:
    """Acknowledge an alert with a note; re-analysis keeps the acknowledgement.

    An acknowledged alert that re-analysis has changed since (`railwatch alerts` shows
    "changed since acknowledged: was ...") is acknowledged again to mark it as seen,
    with or without a note; its notes are kept.

    [b]railwatch alert ack 7 --note "train in the sidings" --expect 3f0c9a1e2b4d5c6f[/]
    acknowledges alert 7 only if it still says what version 3f0c9a1e2b4d5c6f said.
    """
    from railwatch.analysis.events import alert_day, site_utc_offset
    from railwatch.cli.analyze import fmt_value
    from railwatch.cli.site import open_db
    from railwatch.storage import repo
    from railwatch.storage.serialize import changed_since_ack

    check_record_id(
        alert_id,
        "alert",
        "a re-analysis removes the alerts it no longer raises (acknowledged ones are "
        "kept); see `railwatch alerts`",
    )
    with open_db(ctx) as db, db.session() as s:
        before = repo.get_alert(s, alert_id, lock=True)
        was = (before.ack_at, before.ack_note) if before.acknowledged else None
        mark = changed_since_ack(before.metrics)
        # any acknowledgement clears the mark (repo.acknowledge_alert): say what it was
        seen = (
            f"had changed since (was {fmt_value(mark.get('value'))}, "
            f"{mark.get('severity')}): marked as seen"
            if mark is not None
            else ""
        )
        try:
            a = repo.acknowledge_alert(s, alert_id, note, expect=expect)
        except repo.AlertChangedError as err:
            again = f"railwatch alert ack {alert_id} --expect {repo.alert_version(err.alert)}"
            raise repo.AlertChangedError(f"{err} (`{again}` once checked)", err.alert) from err
        # the alert's day at its site, as `railwatch alerts` lists it (session 31)
        day = alert_day(a.when, site_utc_offset(a.site))
        text = f"Alert {a.id} ({a.kind}, {a.severity}, {day:%Y-%m-%d}) acknowledged."
        if was is not None:  # a second acknowledgement keeps the notes (repo.acknowledge_alert)
            at, old = was
            when = f" on {at:%Y-%m-%d %H:%M} UTC" if at is not None else ""
            text += f" It was already acknowledged{when} " + (
                _quoted_note("with the note", old) if old else "with no note"
            )
            if a.ack_note != old:
                text += "; note added, " + _quoted_note("the notes now read:", a.ack_note or "")
            else:  # before session 30 "nothing changed." though the mark was cleared
                text += f"; it {seen}." if seen else "; nothing changed."
                seen = ""
        if seen:  # on a line of its own after notes listed one a line (it ended the
            # last note's line until 2026-12-07, session 47: "...: still real It had changed")
            text += ("\n" if "\n" in text else " ") + f"It {seen}."
        if as_json:
            print_json(_row(a, day))
            return
    console.print(escape(text))


def _quoted_note(lead: str, note: str) -> str:
    """``lead`` and an acknowledgement's note: quoted on the line when it is one line,
    else one stored line a line, indented (``!r`` printed a literal ``\\n`` between the
    notes of a second acknowledgement until 2026-12-06, session 37)."""
    lines = note.splitlines()
    if len(lines) <= 1:
        return f"{lead} {note!r}"
    return lead.rstrip(":") + ":" + "".join(f"\n  {line}" for line in lines)


app.command("list")(list_alerts)
app.command("ack")(ack)


def register(root: typer.Typer) -> None:
    """Add ``alerts`` (list) and the ``alert`` group (list, ack)."""
    root.command("alerts")(list_alerts)
    root.add_typer(app, name="alert")
