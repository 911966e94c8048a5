"""The data key's fingerprint: which key this database's sealed data is under.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 02:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_UTC = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "data_key",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("rotating_to", sa.String(length=64), nullable=True),
        sa.Column("recorded_at", _UTC, nullable=False),
        sa.Column("rotated_at", _UTC, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_data_key")),
    )


def downgrade() -> None:
    op.drop_table("data_key")
