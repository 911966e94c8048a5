"""A deployment's legal record: basis category, authority and reference, FRIA, registration,
signage, an urgent start's clock, and why the law stopped it.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 06:00:00
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

_TZ = sa.DateTime(timezone=True)
COLUMNS: tuple[tuple[str, sa.types.TypeEngine[Any]], ...] = (
    ("legal_basis_category", sa.String(length=64)),
    ("authority", sa.Text()),
    ("authority_reference", sa.Text()),
    ("authority_recorded_by", sa.String(length=100)),
    ("authority_recorded_at", _TZ),
    ("authority_refused_at", _TZ),
    ("authority_refused_by", sa.String(length=100)),
    ("authority_refusal", sa.Text()),
    ("impact_assessment_reference", sa.Text()),
    ("registration_reference", sa.Text()),
    ("signage_confirmed_at", _TZ),
    ("signage_confirmed_by", sa.String(length=100)),
    ("urgent_started_at", _TZ),
    ("urgent_deadline", _TZ),
    ("urgent_reason", sa.Text()),
    ("revoked_reason", sa.Text()),
)


def upgrade() -> None:
    with op.batch_alter_table("deployments", schema=None) as batch_op:
        for name, kind in COLUMNS:
            batch_op.add_column(sa.Column(name, kind, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("deployments", schema=None) as batch_op:
        for name, _ in reversed(COLUMNS):
            batch_op.drop_column(name)
