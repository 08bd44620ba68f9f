"""``railwatch serve``: the REST API and dashboard over HTTP (uvicorn)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from railwatch.cli._common import err_console, state
from railwatch.errors import MissingDependencyError, lazy_import


def web_install_command() -> str | None:
    """The command that installs the web extra into this environment, or None when
    FastAPI and uvicorn are there (:func:`railwatch.errors.install_command`: in a
    checkout installed in editable mode, ``make demo``, ``.venv/bin/python -m pip
    install -e '.[web]'``)."""
    import importlib.util

    from railwatch.errors import install_command

    if all(importlib.util.find_spec(m) is not None for m in ("fastapi", "uvicorn")):
        return None
    return install_command("web")


def _web_missing(install: str) -> MissingDependencyError:
    """The error for a missing web extra, with the command that installs it here."""
    err = MissingDependencyError("fastapi", "web", "the web server")
    err.msg = (  # what str() of an ImportError shows
        "the web server needs the web extra (FastAPI, uvicorn), which is not installed: "
        f"run `{install}`."
    )
    err.args = (err.msg,)
    return err


def _new_sqlite_file(url: str) -> Path | None:
    """The file of a SQLite URL when it does not exist yet (opening the database will
    create it), else None (it exists, in memory, or not SQLite)."""
    from railwatch.storage.db import sqlite_path

    path = sqlite_path(url)
    return None if path is None or path.exists() else path


def loopback_hosts(address: str) -> list[str]:
    """The ``Host`` names a server listening on the loopback ``address`` answers (DNS
    rebinding: :class:`railwatch.web.security.TrustedHosts`): the usual loopback names
    and the address itself. A server on ``--host 127.0.0.2`` refused every request to
    the address it printed (a 400 naming only 127.0.0.1, localhost and [::1]) before
    session 29."""
    names = ["127.0.0.1", "localhost", "[::1]", "::1"]
    own = f"[{address.lower()}]" if ":" in address else address.lower()
    return names if own in names else [*names, own]


def serve(
    ctx: typer.Context,
    host: Annotated[
        str,
        typer.Option(help="Address to listen on; anything but loopback needs RAILWATCH_API_TOKEN."),
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="TCP port.")] = 8000,
    public_reads: Annotated[
        bool,
        typer.Option(
            "--public-reads",
            help="On a non-loopback address, let anyone read without the token.",
        ),
    ] = False,
    max_body: Annotated[
        int, typer.Option(min=1024, help="Largest request body accepted, in bytes.")
    ] = 1_048_576,
) -> None:
    """Serve the REST API (/api; OpenAPI at /openapi.json, readable at /docs) and the
    dashboard (/).

    Reads are open on 127.0.0.1; every write needs `Authorization: Bearer $RAILWATCH_API_TOKEN`.
    """
    install = web_install_command()
    if install is not None:
        raise _web_missing(install)
    lazy_import("fastapi", "web", "the web server")
    uvicorn = lazy_import("uvicorn", "web", "the web server")
    from railwatch.storage import Database
    from railwatch.web.app import create_app
    from railwatch.web.security import check_listen_address, check_serve_host, is_loopback

    settings = state(ctx).settings()
    token = settings.api_token.get_secret_value() if settings.api_token is not None else None
    address = check_listen_address(host, port)  # one clear line, not uvicorn's exit 3
    check_serve_host(host, token)
    open_reads = is_loopback(host) or public_reads
    created = _new_sqlite_file(settings.db)
    db = Database.from_settings(settings)
    hosts = loopback_hosts(address) if is_loopback(host) else None
    app = create_app(settings, db, open_reads=open_reads, max_body=max_body, allowed_hosts=hosts)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    shown = f"[{address}]" if ":" in address else address
    err_console.print(
        f"railwatch serving {escape(db.safe_url)} at http://{escape(shown)}:{port}/ "
        f"(reads {'open' if open_reads else 'need the token'}; writes "
        f"{'need the token' if token else 'disabled: no RAILWATCH_API_TOKEN'})"
    )
    from railwatch.storage import repo

    # a read: a write session waited for `railwatch process` or `analyze` of cron to
    # end their transaction, and the server did not start when that took 30 s
    with db.session(readonly=True) as session:
        no_sites = not repo.list_sites(session)
    if no_sites:  # an empty dashboard, often the default railwatch.db of another folder
        new = (
            f" It did not exist: {escape(str(created))} was created, empty (a mistyped path?)."
            if created is not None
            else ""
        )
        err_console.print(
            f"note: {escape(db.safe_url)} has no sites yet: add one with `railwatch site add`, "
            "or serve another database with --db (the demo's: --db "
            "sqlite:///railwatch-demo/railwatch-demo.db from the folder `railwatch demo` "
            f"ran in).{new}",
            highlight=False,
            soft_wrap=True,
        )
    uvicorn.run(app, host=address, port=port, log_level="info", proxy_headers=False)  # type: ignore[attr-defined]


def register(app: typer.Typer) -> None:
    """Add ``serve`` to the ``railwatch`` command."""
    app.command("serve")(serve)
