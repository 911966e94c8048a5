"""Camera addresses with credentials: the full address sealed beside the masked one.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 01:50:00

Rows written before this revision are sealed when the server next starts (it
holds the data key; a migration does not).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("cameras", schema=None) as batch_op:
        batch_op.add_column(sa.Column("source_sealed", sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("cameras", schema=None) as batch_op:
        batch_op.drop_column("source_sealed")
