"""SQLite: never hand out a deleted id again (scenes, events, alerts get AUTOINCREMENT).

Without ``AUTOINCREMENT`` SQLite gives a new row the highest id in the table plus one,
so the id of a deleted highest row went to the next new row: an alert removed by a
re-analysis lent its id to the next alert raised, and a page or script still holding
the old id acknowledged (or showed, or removed) the other one. PostgreSQL's sequences
never reuse an id: nothing changes there.

SQLite cannot add ``AUTOINCREMENT`` to a table, so each table is rebuilt: a new table
with the option, every row copied with its id, the old table dropped, the new one
renamed, its indexes made again (Alembic's batch mode). It runs inside the migration's
one transaction (all three tables or none) with foreign-key enforcement off, as SQLite
asks for rebuilding a table other tables refer to (dropping ``scenes`` would otherwise
cascade to its detections and counts), and ``railwatch.storage.migrate.upgrade`` checks
the foreign keys before it commits. The first new id of each table is one above its
highest id now; an id deleted before this migration from the top of a table can be
given once more.

Revision ID: 0002_sqlite_autoincrement
Revises: 0001_initial
Create Date: 2026-12-04
"""

from __future__ import annotations

from alembic import op

revision = "0002_sqlite_autoincrement"
down_revision = "0001_initial"
branch_labels = None
depends_on = None

#: The tables rebuilt, parents first.
TABLES = ("scenes", "events", "alerts")


def _rebuild(autoincrement: bool) -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for table in TABLES:
        with op.batch_alter_table(
            table, recreate="always", table_kwargs={"sqlite_autoincrement": autoincrement}
        ):
            pass


def upgrade() -> None:
    _rebuild(True)


def downgrade() -> None:
    _rebuild(False)
