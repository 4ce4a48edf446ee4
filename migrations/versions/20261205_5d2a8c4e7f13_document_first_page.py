"""documents: a PDF's first page drawn at upload at each width, stored encrypted beside the file,
so that showing the document reads it instead of drawing it on every view; older rows are drawn
on view as before

Revision ID: 5d2a8c4e7f13
Revises: 4b7e2d9c1a58
Create Date: 2026-12-05 03:30:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "5d2a8c4e7f13"
down_revision: str | Sequence[str] | None = "4b7e2d9c1a58"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("documents") as batch_op:
        batch_op.add_column(sa.Column("first_page", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("documents") as batch_op:
        batch_op.drop_column("first_page")
