"""lifecycle: a postal activation letter waiting for the printer (space_life.letter_due)

Revision ID: 5e2b8c41d9a7
Revises: 7a41c0de2b15
Create Date: 2026-12-03 09:40:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "5e2b8c41d9a7"
down_revision: str | Sequence[str] | None = '7a41c0de2b15'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("space_life") as batch:
        batch.add_column(sa.Column("letter_due", sa.Boolean(), server_default=sa.false(), nullable=False))
        batch.create_index("ix_space_life_letter_due", ["letter_due"])


def downgrade() -> None:
    with op.batch_alter_table("space_life") as batch:
        batch.drop_index("ix_space_life_letter_due")
        batch.drop_column("letter_due")
