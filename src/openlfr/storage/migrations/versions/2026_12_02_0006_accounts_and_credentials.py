"""Service accounts, temporary passwords, TOTP, no lockout; the credential of each audit event.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 02:20:00

Accounts without a password were machine accounts: they become service
accounts, the only ones that may hold API tokens. Sign-in throttling replaces
the per-account lockout, so its columns go.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_UTC = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("service_account", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(
            sa.Column(
                "must_change_password", sa.Boolean(), server_default=sa.false(), nullable=False
            )
        )
        batch_op.add_column(sa.Column("totp_sealed", sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column("totp_confirmed_at", _UTC, nullable=True))
        batch_op.add_column(sa.Column("totp_last_step", sa.Integer(), nullable=True))
        batch_op.drop_column("failed_logins")
        batch_op.drop_column("locked_until")
    op.execute("UPDATE users SET service_account = TRUE WHERE password_hash IS NULL")
    # Not a batch operation: SQLite adds the column in place, keeping the append-only
    # triggers (a batch would copy the table and lose them).
    op.add_column("audit_events", sa.Column("credential", sa.String(length=40), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("failed_logins", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(sa.Column("locked_until", _UTC, nullable=True))
        batch_op.drop_column("totp_last_step")
        batch_op.drop_column("totp_confirmed_at")
        batch_op.drop_column("totp_sealed")
        batch_op.drop_column("must_change_password")
        batch_op.drop_column("service_account")
    # SQLite before 3.35 cannot drop a column in place; the audit column stays there.
    if op.get_bind().dialect.name == "postgresql":
        op.drop_column("audit_events", "credential")
