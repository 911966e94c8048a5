"""Deployment record fields: a deployment's borough/area and each period of use's counts.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 07:15:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("deployments", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("area", sa.String(length=200), server_default="", nullable=False)
        )
    with op.batch_alter_table("deployment_runs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("frames_processed", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("face_detections", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("faces_seen", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("deployment_runs", schema=None) as batch_op:
        batch_op.drop_column("faces_seen")
        batch_op.drop_column("face_detections")
        batch_op.drop_column("frames_processed")
    with op.batch_alter_table("deployments", schema=None) as batch_op:
        batch_op.drop_column("area")
