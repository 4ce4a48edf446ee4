"""audit: what a notice card's people consulted, found by space, action and time, whatever the trail's length

Revision ID: 9c4e1f2a7b30
Revises: 5e2b8c41d9a7
Create Date: 2026-12-03 16:45:00.000000

"""

from collections.abc import Sequence

from alembic import op

# revision identifiers, used by Alembic.
revision: str = "9c4e1f2a7b30"
down_revision: str | Sequence[str] | None = "5e2b8c41d9a7"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_audit_events_patient_action_at", "audit_events", ["patient_id", "action", "at"])


def downgrade() -> None:
    op.drop_index("ix_audit_events_patient_action_at", table_name="audit_events")
