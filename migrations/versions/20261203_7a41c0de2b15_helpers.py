"""helpers: the delegations a holder gives to helpers (proches aidants)

Revision ID: 7a41c0de2b15
Revises: 5e7c0a2f9d14
Create Date: 2026-12-03 09:50:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import core.db

# revision identifiers, used by Alembic.
revision: str = "7a41c0de2b15"
down_revision: str | Sequence[str] | None = '5e7c0a2f9d14'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "delegations",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("patient_id", sa.String(length=36), nullable=False),
        sa.Column("helper_patient_id", sa.String(length=36), nullable=True),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("scopes", sa.JSON(), nullable=False),
        sa.Column("include_hidden", sa.Boolean(), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("invited_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("answered_at", core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("ended_at", core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("ended_by", sa.String(length=10), nullable=True),
        sa.ForeignKeyConstraint(["patient_id"], ["patients.id"]),
        sa.ForeignKeyConstraint(["helper_patient_id"], ["patients.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_delegations_patient_id", "delegations", ["patient_id"])
    op.create_index("ix_delegations_helper", "delegations", ["helper_patient_id", "status"])


def downgrade() -> None:
    op.drop_index("ix_delegations_helper", table_name="delegations")
    op.drop_index("ix_delegations_patient_id", table_name="delegations")
    op.drop_table("delegations")
