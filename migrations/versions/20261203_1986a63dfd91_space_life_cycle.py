"""lifecycle: the dates of a space's life (opposition, closure, deletion), oppositions kept as a
keyed hash of the NIR, and the guardians of a child's space

Revision ID: 1986a63dfd91
Revises: 3f8c2a9d6b71
Create Date: 2026-12-03 07:10:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
import core.db
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "1986a63dfd91"
down_revision: str | Sequence[str] | None = "3f8c2a9d6b71"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "space_life",
        sa.Column("patient_id", sa.String(length=36), nullable=False),
        sa.Column("postal_address", sa.Text(), nullable=True),
        sa.Column("opposition_until", core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("closed_at", core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("delete_after", core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("deletion_requested_at", core.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["patient_id"], ["patients.id"]),
        sa.PrimaryKeyConstraint("patient_id"),
    )
    op.create_table(
        "oppositions",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("nir_hash", sa.String(length=64), nullable=False),
        sa.Column("receipt", sa.String(length=20), nullable=False),
        sa.Column("recorded_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("nir_hash"),
        sa.UniqueConstraint("receipt"),
    )
    op.create_table(
        "guardianships",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("patient_id", sa.String(length=36), nullable=False),
        sa.Column("guardian_patient_id", sa.String(length=36), nullable=False),
        sa.Column("created_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ended_at", core.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["guardian_patient_id"], ["patients.id"]),
        sa.ForeignKeyConstraint(["patient_id"], ["patients.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("patient_id", "guardian_patient_id"),
    )
    op.create_index("ix_guardianships_patient_id", "guardianships", ["patient_id"])
    op.create_index("ix_guardianships_guardian_patient_id", "guardianships", ["guardian_patient_id"])


def downgrade() -> None:
    op.drop_index("ix_guardianships_guardian_patient_id", table_name="guardianships")
    op.drop_index("ix_guardianships_patient_id", table_name="guardianships")
    op.drop_table("guardianships")
    op.drop_table("oppositions")
    op.drop_table("space_life")
