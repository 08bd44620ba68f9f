"""``railwatch serve``: the REST API and dashboard over HTTP (uvicorn)."""

from __future__ import annotations

import logging
from typing import Annotated

import typer
from rich.markup import escape

from railwatch.cli._common import err_console, state
from railwatch.errors import lazy_import


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
    db = Database.from_settings(settings)
    hosts = ["127.0.0.1", "localhost", "[::1]", "::1"] if is_loopback(host) else None
    app = create_app(settings, db, open_reads=open_reads, max_body=max_body, allowed_hosts=hosts)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    shown = f"[{address}]" if ":" in address else address
    err_console.print(
        f"railwatch serving {escape(db.safe_url)} at http://{escape(shown)}:{port}/ "
        f"(reads {'open' if open_reads else 'need the token'}; writes "
        f"{'need the token' if token else 'disabled: no RAILWATCH_API_TOKEN'})"
    )
    uvicorn.run(app, host=address, port=port, log_level="info", proxy_headers=False)  # type: ignore[attr-defined]


def register(app: typer.Typer) -> None:
    """Add ``serve`` to the ``railwatch`` command."""
    app.command("serve")(serve)
