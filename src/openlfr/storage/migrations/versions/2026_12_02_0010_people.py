"""People behind accounts: rank and collar or staff number beside the name, and the person
who decided each alert as they were named then.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 06:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("rank", sa.String(length=40), server_default="", nullable=False))
        batch.add_column(
            sa.Column("staff_number", sa.String(length=20), server_default="", nullable=False)
        )
    with op.batch_alter_table("adjudications") as batch:
        batch.add_column(sa.Column("decided_by_person", sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("adjudications") as batch:
        batch.drop_column("decided_by_person")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("staff_number")
        batch.drop_column("rank")
