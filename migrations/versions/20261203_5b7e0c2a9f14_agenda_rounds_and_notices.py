"""agenda: the times proposed on an appointment, round after round; how the holder hears of
appointments (in Carnet only, or by mail too)

Revision ID: 5b7e0c2a9f14
Revises: 1986a63dfd91
Create Date: 2026-12-03 09:40:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "5b7e0c2a9f14"
down_revision: str | Sequence[str] | None = "1986a63dfd91"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("appointments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("proposals", sa.JSON(), nullable=True))
    with op.batch_alter_table("notification_preferences", schema=None) as batch_op:
        batch_op.add_column(sa.Column("appointment", sa.String(length=10), server_default="mail", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("notification_preferences", schema=None) as batch_op:
        batch_op.drop_column("appointment")
    with op.batch_alter_table("appointments", schema=None) as batch_op:
        batch_op.drop_column("proposals")
