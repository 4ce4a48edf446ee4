"""kiosks: registered public kiosks and the one-use QR approvals that open a space on them

Revision ID: 77559ff4cd74
Revises: bcbff3d75853
Create Date: 2026-12-03 07:00:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import core.db

# revision identifiers, used by Alembic.
revision: str = "77559ff4cd74"
down_revision: str | Sequence[str] | None = "bcbff3d75853"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "kiosks",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("created_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("enrol_hash", sa.String(length=64), nullable=True),
        sa.Column("enrol_expires_at", core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("enrolled_at", core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", core.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("enrol_hash"),
    )
    op.create_table(
        "kiosk_handoffs",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("kiosk_id", sa.String(length=36), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("account_id", sa.String(length=36), nullable=True),
        sa.Column("approved_at", core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("used_at", core.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["kiosk_id"], ["kiosks.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_index(op.f("ix_kiosk_handoffs_kiosk_id"), "kiosk_handoffs", ["kiosk_id"], unique=False)
    op.create_index(op.f("ix_kiosk_handoffs_account_id"), "kiosk_handoffs", ["account_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_kiosk_handoffs_account_id"), table_name="kiosk_handoffs")
    op.drop_index(op.f("ix_kiosk_handoffs_kiosk_id"), table_name="kiosk_handoffs")
    op.drop_table("kiosk_handoffs")
    op.drop_table("kiosks")
