"""Two railwatch databases in two schemas of one PostgreSQL database (docs/storage.md:
a schema of railwatch's own, ``?options=-csearch_path=NAME``) hold their sites apart: a
site being processed in one no longer refuses the site of the same name in the other
("site 'yard' is being processed by another railwatch run (held by PostgreSQL backend
pid N)", from an advisory lock keyed by the site's name alone, which the whole
database shares). A second run in the same schema is still refused. Found in review r2
of session 39 (2026-12-06)."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from railwatch.pipeline import processing_lock, removal_lock
from railwatch.sites import site_from_bbox
from railwatch.storage import Database, repo
from railwatch.storage.db import BusyError

pytestmark = pytest.mark.services


def _in_schema(url: str, schema: str) -> str:
    parsed = make_url(url)
    return parsed.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(
        hide_password=False
    )


def test_sites_of_one_name_in_two_schemas_are_held_apart(postgres_url: str) -> None:
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text("CREATE SCHEMA depot_a"))
            conn.execute(text("CREATE SCHEMA depot_b"))
    finally:
        admin.dispose()
    a, b = (
        Database(_in_schema(postgres_url, "depot_a")),
        Database(_in_schema(postgres_url, "depot_b")),
    )
    for db in (a, b):
        with db.session() as s:
            repo.add_site(s, site_from_bbox("yard", (130.60, 42.40, 130.61, 42.41)))
    with processing_lock(a, ["yard"]):
        with processing_lock(b, ["yard"]):  # another deployment's site: not held
            pass
        with removal_lock(b, "yard"):
            pass
        other = Database(_in_schema(postgres_url, "depot_a"))
        with (
            pytest.raises(BusyError, match="is being processed by another railwatch"),
            processing_lock(other, ["yard"]),  # the same site: refused as before
        ):
            pass
        other.dispose()
    a.dispose()
    b.dispose()
