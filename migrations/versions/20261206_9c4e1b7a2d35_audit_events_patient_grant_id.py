"""audit: what was done through a space's shares, found by share whatever the trail's length

Revision ID: 9c4e1b7a2d35
Revises: 5d2a8c4e7f13
Create Date: 2026-12-06 01:00:00.000000

"""

from collections.abc import Sequence

from alembic import op

# revision identifiers, used by Alembic.
revision: str = "9c4e1b7a2d35"
down_revision: str | Sequence[str] | None = "5d2a8c4e7f13"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_audit_events_patient_grant_id", "audit_events", ["patient_id", "grant_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_audit_events_patient_grant_id", table_name="audit_events")
