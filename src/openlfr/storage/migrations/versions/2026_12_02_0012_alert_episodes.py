"""Alert episodes (one queue item per subject's repeat sightings) with two-person verification;
a sealed scene thumbnail per alert; subjects' queue priority; deployments' two-person setting.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 06:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

_UTC = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "alert_episodes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("deployment_id", sa.Integer(), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=True),
        sa.Column("subject_reference", sa.String(length=64), nullable=False),
        sa.Column("category", sa.String(length=64), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("opened_at", _UTC, nullable=False),
        sa.Column("first_seen_at", _UTC, nullable=False),
        sa.Column("last_seen_at", _UTC, nullable=False),
        sa.Column("looks", sa.Integer(), nullable=False),
        sa.Column("best_score", sa.Float(), nullable=False),
        sa.Column("best_alert_id", sa.Integer(), nullable=True),
        sa.Column("cameras", sa.Text(), nullable=False),
        sa.Column("decided_at", _UTC, nullable=True),
        sa.Column("decision", sa.String(length=16), nullable=True),
        sa.Column("verification", sa.String(length=16), nullable=True),
        sa.Column("proposed_at", _UTC, nullable=True),
        sa.Column("proposed_by", sa.String(length=100), nullable=True),
        sa.Column("proposed_by_id", sa.Integer(), nullable=True),
        sa.Column("proposed_by_person", sa.String(length=200), nullable=True),
        sa.Column("checked_at", _UTC, nullable=True),
        sa.Column("checked_by", sa.String(length=100), nullable=True),
        sa.Column("checked_by_id", sa.Integer(), nullable=True),
        sa.Column("checked_by_person", sa.String(length=200), nullable=True),
        sa.Column("checked_decision", sa.String(length=16), nullable=True),
        sa.ForeignKeyConstraint(
            ["deployment_id"],
            ["deployments.id"],
            name=op.f("fk_alert_episodes_deployment_id_deployments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["subject_id"],
            ["subjects.id"],
            name=op.f("fk_alert_episodes_subject_id_subjects"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_episodes")),
    )
    op.create_index(
        op.f("ix_alert_episodes_deployment_id"), "alert_episodes", ["deployment_id"], unique=False
    )
    op.create_index(
        op.f("ix_alert_episodes_subject_id"), "alert_episodes", ["subject_id"], unique=False
    )
    op.create_index(
        op.f("ix_alert_episodes_opened_at"), "alert_episodes", ["opened_at"], unique=False
    )
    with op.batch_alter_table("alerts") as batch:
        batch.add_column(sa.Column("episode_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("scene_blob_id", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("scene_media_type", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("scene_sha256", sa.String(length=64), nullable=True))
        batch.create_foreign_key(
            op.f("fk_alerts_episode_id_alert_episodes"),
            "alert_episodes",
            ["episode_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch.create_index(op.f("ix_alerts_episode_id"), ["episode_id"], unique=False)
        batch.create_unique_constraint(op.f("uq_alerts_scene_blob_id"), ["scene_blob_id"])
    with op.batch_alter_table("subjects") as batch:
        batch.add_column(sa.Column("priority", sa.Integer(), server_default="0", nullable=False))
    _backfill_episodes()
    with op.batch_alter_table("deployments") as batch:
        batch.add_column(
            sa.Column("two_person", sa.Boolean(), server_default=sa.true(), nullable=False)
        )


def _backfill_episodes() -> None:
    """Give every alert stored before episodes existed an episode of its own.

    The queue lists episodes, so without this an upgrade would hide every alert
    still waiting for a decision. Each earlier alert becomes its own item (decided
    if it was): grouping them after the fact would merge looks an operator may
    already have judged apart.
    """
    op.execute(
        """
        INSERT INTO alert_episodes (
            deployment_id, subject_id, subject_reference, category, priority, opened_at,
            first_seen_at, last_seen_at, looks, best_score, best_alert_id, cameras,
            decided_at, decision
        )
        SELECT a.deployment_id, a.subject_id, a.subject_reference, COALESCE(s.category, ''), 0,
               a.created_at, a.captured_at, a.captured_at, 1, a.score, a.id, a.camera,
               j.decided_at, j.decision
        FROM alerts a
        LEFT JOIN subjects s ON s.id = a.subject_id
        LEFT JOIN adjudications j ON j.alert_id = a.id
        WHERE a.episode_id IS NULL
        """
    )
    op.execute(
        """
        UPDATE alerts SET episode_id = (
            SELECT e.id FROM alert_episodes e WHERE e.best_alert_id = alerts.id
        )
        WHERE episode_id IS NULL
        """
    )


def downgrade() -> None:
    with op.batch_alter_table("deployments") as batch:
        batch.drop_column("two_person")
    with op.batch_alter_table("subjects") as batch:
        batch.drop_column("priority")
    with op.batch_alter_table("alerts") as batch:
        batch.drop_constraint(op.f("uq_alerts_scene_blob_id"), type_="unique")
        batch.drop_index(op.f("ix_alerts_episode_id"))
        batch.drop_constraint(op.f("fk_alerts_episode_id_alert_episodes"), type_="foreignkey")
        batch.drop_column("scene_sha256")
        batch.drop_column("scene_media_type")
        batch.drop_column("scene_blob_id")
        batch.drop_column("episode_id")
    op.drop_index(op.f("ix_alert_episodes_opened_at"), table_name="alert_episodes")
    op.drop_index(op.f("ix_alert_episodes_subject_id"), table_name="alert_episodes")
    op.drop_index(op.f("ix_alert_episodes_deployment_id"), table_name="alert_episodes")
    op.drop_table("alert_episodes")
