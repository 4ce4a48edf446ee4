"""export: space exports (a job per zip of the whole space, the zip kept encrypted 7 days)

Revision ID: 5e7c0a2f9d14
Revises: 5c1e0a7f2d94
Create Date: 2026-12-03 09:30:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
import core.db
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "5e7c0a2f9d14"
down_revision: str | Sequence[str] | None = '5c1e0a7f2d94'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "space_exports",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("patient_id", sa.String(length=36), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("base_url", sa.String(length=200), nullable=False),
        sa.Column("asked_by", sa.String(length=36), nullable=True),
        sa.Column("done_steps", sa.Integer(), nullable=False),
        sa.Column("total_steps", sa.Integer(), nullable=False),
        sa.Column("blob_id", sa.String(length=32), nullable=True),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("started_at", core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("heartbeat_at", core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("runner", sa.String(length=200), nullable=True),
        sa.Column("finished_at", core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("expires_at", core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("downloaded_at", core.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["patient_id"], ["patients.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("space_exports", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_space_exports_patient_id"), ["patient_id"], unique=False)
        batch_op.create_index(
            "ux_space_exports_one_running",
            ["patient_id"],
            unique=True,
            sqlite_where=sa.text("status IN ('pending', 'running')"),
            postgresql_where=sa.text("status IN ('pending', 'running')"),
        )


def downgrade() -> None:
    with op.batch_alter_table("space_exports", schema=None) as batch_op:
        batch_op.drop_index("ux_space_exports_one_running")
        batch_op.drop_index(batch_op.f("ix_space_exports_patient_id"))
    op.drop_table("space_exports")
