"""reimbursements: the claim an AMO's EOB answers, and the complementary insurer's EOB that
filled a line's AMC share (to match a mutuelle's EOB with the AMO's line of the same act)

Revision ID: 5c1e0a7f2d94
Revises: 5b7e0c2a9f14
Create Date: 2026-12-03 09:40:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "5c1e0a7f2d94"
down_revision: str | Sequence[str] | None = '5b7e0c2a9f14'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("reimbursements") as batch:
        batch.add_column(sa.Column("claim_ref", sa.String(length=120), nullable=True))
        batch.add_column(sa.Column("amc_reference", sa.String(length=80), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("reimbursements") as batch:
        batch.drop_column("amc_reference")
        batch.drop_column("claim_ref")
