"""notifications: the home card's newest and unread ones found by index, whatever the space's years

Revision ID: 6b1d4e7a9c28
Revises: 3f8a6d2c1e95
Create Date: 2026-12-03 23:10:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "6b1d4e7a9c28"
down_revision: str | Sequence[str] | None = "3f8a6d2c1e95"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_notifications_patient_latest",
        "notifications",
        ["patient_id", sa.text("coalesce(last_at, created_at)"), "created_at"],
    )
    op.create_index(
        "ix_notifications_patient_unread",
        "notifications",
        ["patient_id", "read_at", "alarm", sa.text("coalesce(last_at, created_at)"), "created_at"],
    )


def downgrade() -> None:
    op.drop_index("ix_notifications_patient_unread", table_name="notifications")
    op.drop_index("ix_notifications_patient_latest", table_name="notifications")
