"""indexes that began another index of their table: the trail's by space and by account alone,
a document's and an appointment's by space alone

Revision ID: 3f8a1c6e0b27
Revises: 9c4e1b7a2d35
Create Date: 2026-12-06 18:30:00.000000

"""

from collections.abc import Sequence

from alembic import op

# revision identifiers, used by Alembic.
revision: str = "3f8a1c6e0b27"
down_revision: str | Sequence[str] | None = "9c4e1b7a2d35"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DROPPED = (
    ("ix_audit_events_patient_id", "audit_events", "patient_id"),
    ("ix_audit_events_account_id", "audit_events", "account_id"),
    ("ix_documents_patient_id", "documents", "patient_id"),
    ("ix_appointments_patient_id", "appointments", "patient_id"),
)


def upgrade() -> None:
    for name, table, _column in DROPPED:
        op.drop_index(name, table_name=table)


def downgrade() -> None:
    for name, table, column in DROPPED:
        op.create_index(name, table, [column])
