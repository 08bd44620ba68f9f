"""QA (session 22): database URLs an operator moving to PostgreSQL types, and a server
that never answers.

Before: ``postgres://user:secret@host/db`` (the Heroku spelling) was refused with the
password in the message; a port that is not a number (``host:port``) was an internal
error (a ``ValueError`` traceback hint, status 70); ``postgresql+psycopg2://`` and
``mysql://`` were told to ``pip install 'railwatch[postgres]'``, which installs neither
driver; a host name that does not resolve was "migrating the database failed" without
what to check; and a server that accepts the connection but never answers (a firewall,
another service on the port) held every command for ever."""

from __future__ import annotations

import socket
import subprocess
import sys
import textwrap

import pytest
from sqlalchemy.exc import OperationalError

from railwatch.cli.main import main
from railwatch.errors import ConfigError, StorageError
from railwatch.storage import Database
from railwatch.storage.db import explain_db_error, is_memory_url, mask_password

pytest.importorskip("psycopg")


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("postgres://rw:s3cret@db.example.org/railwatch", "write postgresql://, not postgres://"),
        ("postgresql+psycopg://rw:s3cret@db.example.org:port/railwatch", "invalid literal"),
        ("mysql://rw:s3cret@db.example.org/railwatch", "SQLite or PostgreSQL"),
        ("postgresql+psycopg2://rw:s3cret@db.example.org/railwatch", "through psycopg 3"),
    ],
)
def test_bad_urls_are_config_errors_without_the_password(url: str, says: str) -> None:
    with pytest.raises(ConfigError) as err:
        Database(url)
    message = str(err.value)
    assert says in message
    assert "s3cret" not in message and "rw:***@db.example.org" in message
    assert "pip install" not in message  # no extra installs these drivers


def test_cli_bad_port_is_one_line_not_an_internal_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert not is_memory_url("postgresql+psycopg://rw:pw@h:port/db")
    status = main(["--db", "postgresql+psycopg://rw:s3cret@h:port/db", "site", "list"])
    err = capsys.readouterr().err
    assert status == 1, err
    assert "invalid database URL" in err and "internal error" not in err
    assert "s3cret" not in err


def test_mask_password_also_masks_unparseable_urls() -> None:
    assert mask_password("postgresql://u:p@ss@h/db") == "postgresql://u:***@h/db"
    assert mask_password("postgresql://u@h/db") == "postgresql://u@h/db"
    assert mask_password("sqlite:///a:b.db") == "sqlite:///a:b.db"


def test_unresolvable_host_says_what_to_check() -> None:
    err = OperationalError(
        "connect", {}, Exception("failed to resolve host 'db.exmaple.org': Name not known")
    )
    message = explain_db_error(err, "postgresql+psycopg://rw@db.exmaple.org/rw", "migrating")
    assert message.startswith("cannot connect to database")
    assert "check that the server is running and the database URL" in message
    assert "--db URL on the command line" in message


SILENT_OPEN = textwrap.dedent(
    """
    import sys
    import railwatch.storage.db as dbmod
    from railwatch.errors import StorageError

    dbmod.CONNECT_TIMEOUT_S = 1
    try:
        dbmod.Database(sys.argv[1])
    except StorageError as err:
        print(err)
    """
)


def test_server_that_never_answers_is_a_timeout_not_a_hang() -> None:
    """A listening socket that never answers: opening the database gives up after the
    connect timeout with the usual one line (before: it waited for ever; the
    subprocess limit only turns such a hang into a failure)."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        port = silent.getsockname()[1]
        url = f"postgresql+psycopg://rw:s3cret@127.0.0.1:{port}/railwatch"
        out = subprocess.run(
            [sys.executable, "-c", SILENT_OPEN, url],
            capture_output=True, text=True, timeout=60, check=True,
        )  # fmt: skip
    assert out.stdout.startswith("cannot connect to database"), out
    assert "timeout" in out.stdout and "s3cret" not in out.stdout


def test_the_url_can_set_its_own_connect_timeout() -> None:
    with pytest.raises(StorageError, match="cannot connect"):
        Database("postgresql+psycopg://rw@127.0.0.1:1/railwatch?connect_timeout=2")
