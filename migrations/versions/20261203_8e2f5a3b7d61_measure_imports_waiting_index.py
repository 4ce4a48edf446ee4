"""measure_imports: the jobs nobody runs found by index, whatever the number of imports ever made

Revision ID: 8e2f5a3b7d61
Revises: 6b1d4e7a9c28
Create Date: 2026-12-03 23:40:00.000000

"""

from collections.abc import Sequence

from alembic import op

# revision identifiers, used by Alembic.
revision: str = "8e2f5a3b7d61"
down_revision: str | Sequence[str] | None = "6b1d4e7a9c28"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_measure_imports_status_created", "measure_imports", ["status", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_measure_imports_status_created", table_name="measure_imports")
