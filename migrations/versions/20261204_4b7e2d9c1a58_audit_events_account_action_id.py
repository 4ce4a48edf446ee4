"""audit: an account's logins found by account and action, newest first, whatever the trail's length

Revision ID: 4b7e2d9c1a58
Revises: 8e2f5a3b7d61
Create Date: 2026-12-04 11:05:00.000000

"""

from collections.abc import Sequence

from alembic import op

# revision identifiers, used by Alembic.
revision: str = "4b7e2d9c1a58"
down_revision: str | Sequence[str] | None = "8e2f5a3b7d61"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_audit_events_account_action_id", "audit_events", ["account_id", "action", "id"])


def downgrade() -> None:
    op.drop_index("ix_audit_events_account_action_id", table_name="audit_events")
