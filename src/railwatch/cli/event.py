"""``railwatch event``: dated events (summits, sanctions, floods) that alerts refer to."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from railwatch.cli._common import (
    check_record_id,
    confirm,
    console,
    left_out_by_limit,
    parse_day,
    print_json,
    print_table,
    say_left_out,
)
from railwatch.errors import NotFoundError

if TYPE_CHECKING:
    from railwatch.storage.models import Event

app = typer.Typer(
    help="Dated events at a site; alerts name the latest one before them.",
    no_args_is_help=True,
)

#: Where an unknown event id is sent (as ``repo.update_event`` says it).
EVENT_IDS = "see `railwatch event list SITE`"


@app.command("add")
def add(
    ctx: typer.Context,
    site: Annotated[str, typer.Argument(help="Site name.")],
    when: Annotated[
        str,
        typer.Argument(
            metavar="DATE",
            help="Event date, YYYY-MM-DD, the local day at the site (alerts name it by "
            "their image's local day; at most a year ahead).",
        ),
    ],
    label: Annotated[str, typer.Argument(help="Short label, e.g. 'Kim–Putin summit'.")],
    description: Annotated[
        str, typer.Option("--description", "-d", help="Longer description.")
    ] = "",
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the new event as JSON (its id, for a script).")
    ] = False,
) -> None:
    """Record an event at a site (re-run `railwatch analyze SITE` to link alerts to it)."""
    from railwatch.cli.site import open_db
    from railwatch.storage import repo

    day = parse_day(when, "event date")
    with open_db(ctx) as db, db.session() as s:
        ev = repo.add_event(s, site, day, label, description)
        data = _event_dict(ev)
    if as_json:
        print_json(data)
        return
    console.print(
        f"Event {data['id']}: {escape(label)} on {day.isoformat()} at {escape(data['site'])}."
    )


def _event_dict(ev: Event) -> dict[str, Any]:
    """An event as ``event add --json`` and ``event edit --json`` print it: the keys of
    ``event list --json``, with the site's name."""
    return {
        "id": ev.id,
        "site": ev.site.name,
        "date": ev.date.isoformat(),
        "label": ev.label,
        "description": ev.description,
    }


@app.command("list")
def list_(
    ctx: typer.Context,
    site: Annotated[str, typer.Argument(help="Site name.")],
    limit: Annotated[
        int | None,
        typer.Option(
            "--limit",
            "-n",
            min=1,
            help="Only the N latest events, still by date; the list says how many more "
            "there are (--json: on stderr).",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List the events of a site by date."""
    from railwatch.cli.site import open_db
    from railwatch.storage import repo

    with open_db(ctx) as db, db.session() as s:
        rows = [
            {"id": e.id, "date": e.date.isoformat(), "label": e.label, "description": e.description}
            for e in repo.list_events(s, site)
        ]
    matched = len(rows)
    if limit is not None:  # the latest N, as `alerts --limit` (session 50)
        rows = rows[-limit:]
    more = left_out_by_limit(matched, len(rows), limit, "event", older="earlier", of="in all")
    if as_json:
        print_json(rows)
        say_left_out(more, as_json=True)
        return
    if not rows:
        console.print(f"No events at {escape(site)}: add one with `railwatch event add`.")
        return
    what = f"the {len(rows)} latest of {matched} events" if more else "events"
    table = Table(title=f"{site}: {what}")
    # the id and date never cut; a long word of a label (a URL) folds, never cut
    table.add_column("id", justify="right", no_wrap=True)
    table.add_column("date", no_wrap=True)
    table.add_column("label", overflow="fold")
    table.add_column("description", overflow="fold")
    for r in rows:
        table.add_row(
            str(r["id"]), str(r["date"]), escape(str(r["label"])), escape(str(r["description"]))
        )
    print_table(table)
    say_left_out(more, as_json=False)


@app.command("edit")
def edit(
    ctx: typer.Context,
    event_id: Annotated[int, typer.Argument(metavar="ID", help="Event id (see `event list`).")],
    when: Annotated[
        str | None,
        typer.Option(
            "--date", help="New date, YYYY-MM-DD, the local day at the site (at most a year ahead)."
        ),
    ] = None,
    label: Annotated[str | None, typer.Option("--label", help="New short label.")] = None,
    description: Annotated[
        str | None, typer.Option("--description", "-d", help="New longer description.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the event as JSON.")] = False,
) -> None:
    """Change an event's date, label or description (what is not given stays).

    Alerts keep naming the event as it was until the site is analysed again: run
    `railwatch analyze SITE` afterwards (acknowledgements are kept)."""
    from railwatch.cli.site import open_db
    from railwatch.errors import InputError
    from railwatch.storage import repo

    check_record_id(event_id, "event", EVENT_IDS)
    if when is None and label is None and description is None:
        raise InputError("nothing to change: give --date, --label or --description")
    day = parse_day(when, "--date") if when is not None else None
    with open_db(ctx) as db, db.session() as s:
        ev = repo.update_event(s, event_id, when=day, label=label, description=description)
        data = _event_dict(ev)
    if as_json:
        print_json(data)
        return
    site, text, on = data["site"], data["label"], data["date"]
    console.print(
        f"Event {event_id}: {escape(text)} on {on} at {escape(site)}. Run `railwatch "
        f"analyze {escape(site)}` for its alerts to name it so.",
        highlight=False,
    )


@app.command("remove")
def remove(
    ctx: typer.Context,
    event_id: Annotated[int, typer.Argument(metavar="ID", help="Event id (see `event list`).")],
    yes: Annotated[
        bool,
        typer.Option(
            "--yes", "-y", help="Delete without asking (needed when not run from a terminal)."
        ),
    ] = False,
    as_json: Annotated[
        bool,
        typer.Option(
            "--json",
            help="Print the event deleted as JSON (the keys of `event add --json`), with "
            "removed (false when not confirmed) and the stored alerts that still name it.",
        ),
    ] = False,
) -> None:
    """Delete an event.

    Without --yes it asks for confirmation when run from a terminal; it is
    refused (status 2) when standard input is not a terminal (a script, a
    pipe)."""
    from railwatch.analysis.store import alerts_naming_event
    from railwatch.cli.site import open_db
    from railwatch.storage import repo
    from railwatch.storage.models import Event

    check_record_id(event_id, "event", EVENT_IDS)
    with open_db(ctx) as db:
        with db.session(readonly=True) as s:  # an unknown id is said before asking
            ev = s.get(Event, event_id)
            if ev is None:
                raise NotFoundError(f"no event with id {event_id}: {EVENT_IDS}")
            site = ev.site.name
            data = _event_dict(ev)
            what = f"{ev.label!r} on {ev.date.isoformat()} at {site}"
            # alerts keep their link (and "N days after: LABEL" in their explanation)
            # until the site is analysed again
            linked = alerts_naming_event(s, event_id)
        if not yes and not confirm(
            f"Delete event {event_id} ({what})?",
            f"removing event {event_id} ({what}) cannot be undone; pass --yes to confirm",
        ):
            # "n" is an answer, not an interruption: say so and exit 0
            if as_json:  # the keys of a removal (the alerts naming it still do)
                print_json({**data, "removed": False, "alerts_naming_it": linked})
                return
            console.print(f"Nothing removed: event {event_id} kept.")
            return
        with db.session() as s:
            repo.remove_event(s, event_id)
    if as_json:
        print_json({**data, "removed": True, "alerts_naming_it": linked})
        return
    console.print(f"Event {event_id} removed.")
    if linked:
        alerts = "alert" if linked == 1 else "alerts"
        names = "names" if linked == 1 else "name"
        console.print(
            f"{linked} {alerts} of {escape(site)} still {names} it: run "
            f"`railwatch analyze {escape(site)}` to judge them without it.",
            highlight=False,
        )


def register(root: typer.Typer) -> None:
    """Add the ``event`` group to the ``railwatch`` command."""
    root.add_typer(app, name="event")
