"""Stored calibrations and the evidence each deployment's threshold cites (or its override).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 02:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

_UTC = sa.DateTime(timezone=True)

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "calibrations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("model_id", sa.String(length=64), nullable=False),
        sa.Column("pack", sa.String(length=64), nullable=False),
        sa.Column("dataset", sa.String(length=200), nullable=False),
        sa.Column("threshold", sa.Float(), nullable=False),
        sa.Column("target_fpir", sa.Float(), nullable=False),
        sa.Column("watchlist_size", sa.Integer(), nullable=False),
        sa.Column("resolved", sa.Boolean(), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_at", _UTC, nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calibrations")),
        sa.UniqueConstraint("sha256", name=op.f("uq_calibrations_sha256")),
    )
    with op.batch_alter_table("calibrations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_calibrations_model_id"), ["model_id"], unique=False)
    with op.batch_alter_table("deployments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("calibration_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("calibration_sha256", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("evidence_override", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("evidence_override_threshold", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("evidence_override_by", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("evidence_override_at", _UTC, nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_deployments_calibration_id_calibrations"),
            "calibrations",
            ["calibration_id"],
            ["id"],
            ondelete="RESTRICT",
        )


def downgrade() -> None:
    with op.batch_alter_table("deployments", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_deployments_calibration_id_calibrations"), type_="foreignkey"
        )
        batch_op.drop_column("evidence_override_at")
        batch_op.drop_column("evidence_override_by")
        batch_op.drop_column("evidence_override_threshold")
        batch_op.drop_column("evidence_override")
        batch_op.drop_column("calibration_sha256")
        batch_op.drop_column("calibration_id")
    with op.batch_alter_table("calibrations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_calibrations_model_id"))
    op.drop_table("calibrations")
