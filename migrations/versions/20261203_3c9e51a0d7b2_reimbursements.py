"""reimbursements: the insurer's statement lines, one per act, amounts in integer cents

Revision ID: 3c9e51a0d7b2
Revises: a7d3e9b1c4f6
Create Date: 2026-12-03 07:00:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "3c9e51a0d7b2"
down_revision: str | Sequence[str] | None = "a7d3e9b1c4f6"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "reimbursements",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("patient_id", sa.String(36), sa.ForeignKey("patients.id"), nullable=False),
        sa.Column("reference", sa.String(80), nullable=False),
        sa.Column("source", sa.String(8), nullable=False),
        sa.Column("care_date", sa.Date(), nullable=False),
        sa.Column("paid_on", sa.Date(), nullable=True),
        sa.Column("nature", sa.String(16), nullable=False),
        sa.Column("act", sa.String(200), nullable=False),
        sa.Column("provider", sa.String(200), nullable=False),
        sa.Column("status", sa.String(8), nullable=False),
        sa.Column("rejection", sa.String(300), nullable=True),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("charged", sa.Integer(), nullable=False),
        sa.Column("base", sa.Integer(), nullable=False),
        sa.Column("rate", sa.SmallInteger(), nullable=False),
        sa.Column("amo", sa.Integer(), nullable=False),
        sa.Column("participation", sa.Integer(), nullable=False),
        sa.Column("franchise", sa.Integer(), nullable=False),
        sa.Column("amc", sa.Integer(), nullable=False),
        sa.Column("remainder", sa.Integer(), nullable=False),
        sa.Column("unmapped", sa.JSON(), nullable=True),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("digest", sa.String(40), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("import_id", sa.String(36), nullable=True),
        sa.Column("document_id", sa.String(36), sa.ForeignKey("documents.id", ondelete="SET NULL"), nullable=True),
        sa.Column("search_text", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ux_reimbursements_patient_reference", "reimbursements", ["patient_id", "reference"], unique=True)
    op.create_index("ix_reimbursements_patient_care", "reimbursements", ["patient_id", "care_date", "id"])
    op.create_index("ix_reimbursements_patient_provider", "reimbursements", ["patient_id", "provider"])
    op.create_index("ix_reimbursements_document_id", "reimbursements", ["document_id"])


def downgrade() -> None:
    op.drop_table("reimbursements")
