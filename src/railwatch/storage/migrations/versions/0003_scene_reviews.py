"""Scene reviews: an analyst's count (and outlines) of one scene.

A new table; nothing else changes. See ``railwatch.storage.models.SceneReview``.

Revision ID: 0003_scene_reviews
Revises: 0002_sqlite_autoincrement
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_scene_reviews"
down_revision = "0002_sqlite_autoincrement"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "scene_reviews",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scene_id", sa.Integer(), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.Column("machine", sa.JSON(), nullable=False),
        sa.Column("cars", sa.JSON(), nullable=True),
        sa.Column("native_crs", sa.Text(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["scene_id"],
            ["scenes.id"],
            name=op.f("fk_scene_reviews_scene_id_scenes"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scene_reviews")),
        sa.UniqueConstraint("scene_id", name=op.f("uq_scene_reviews_scene_id")),
    )


def downgrade() -> None:
    op.drop_table("scene_reviews")
