"""reimbursements: the last payment of a space found by one index seek, whatever its history's length

Revision ID: 3f8a6d2c1e95
Revises: 9c4e1f2a7b30
Create Date: 2026-12-03 22:45:00.000000

"""

from collections.abc import Sequence

from alembic import op

# revision identifiers, used by Alembic.
revision: str = "3f8a6d2c1e95"
down_revision: str | Sequence[str] | None = "9c4e1f2a7b30"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_reimbursements_patient_paid", "reimbursements", ["patient_id", "status", "paid_on", "id"]
    )


def downgrade() -> None:
    op.drop_index("ix_reimbursements_patient_paid", table_name="reimbursements")
