"""documents: a PDF's layout (page count, page sizes, whether it needs a password), read once
at upload so that showing its page reads no blob; older rows are read on their first view

Revision ID: a7d3e9b1c4f6
Revises: c5e8a1f4b9d2
Create Date: 2026-12-03 04:30:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "a7d3e9b1c4f6"
down_revision: str | Sequence[str] | None = "c5e8a1f4b9d2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("documents") as batch_op:
        batch_op.add_column(sa.Column("pdf_layout", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("documents") as batch_op:
        batch_op.drop_column("pdf_layout")
