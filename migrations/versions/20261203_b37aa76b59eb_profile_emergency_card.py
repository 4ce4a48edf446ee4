"""profile_facts: what the holder chose to print on the emergency card (codes, comma-separated;
NULL: the default choice)

Revision ID: b37aa76b59eb
Revises: 3c9e51a0d7b2
Create Date: 2026-12-03 07:00:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "b37aa76b59eb"
down_revision: str | Sequence[str] | None = "3c9e51a0d7b2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("profile_facts") as batch_op:
        batch_op.add_column(sa.Column("card_items", sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("profile_facts") as batch_op:
        batch_op.drop_column("card_items")
