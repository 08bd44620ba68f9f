"""A PostgreSQL user that may not create railwatch's tables (a new database owned by
another user: PostgreSQL 15 lets only the owner create in ``public``) or use them got
"migrating the database failed (URL): permission denied for schema public", which says
what is wrong but not what to do; the message now says which user, and to connect as the
tables' owner or have the administrator grant it (the SQL to run). Found in review r2 of
session 39 (2026-12-06)."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from railwatch.cli.main import main

pytestmark = pytest.mark.services


def test_a_user_without_privileges_is_told_what_to_do(
    postgres_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    role = f"rw_role_{uuid.uuid4().hex[:8]}"
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f"CREATE ROLE {role} LOGIN"))
            conn.execute(text("REVOKE CREATE ON SCHEMA public FROM PUBLIC"))  # as PG >= 15
        url = make_url(postgres_url).set(username=role).render_as_string(False)
        code = main(["--db", url, "site", "list"])
        err = " ".join(capsys.readouterr().err.split())
        assert code != 0
        assert "Traceback" not in err
        assert "permission denied" in err
        assert f"PostgreSQL's user {role} may not do this" in err, err
        assert f"GRANT CREATE ON SCHEMA public TO {role}" in err
        assert "nothing was written" in err
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP OWNED BY {role}"))
            conn.execute(text(f"DROP ROLE IF EXISTS {role}"))
        admin.dispose()
