"""notifications: one card per professional and day (latest activity, alarm, muted), and the
holder's choice of how to be told; respiratory rates keep their decimal (the dedup key, which
the charts read values from, is written with one decimal now)

Revision ID: c5e8a1f4b9d2
Revises: f15719243234
Create Date: 2026-12-02 20:30:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa

import core.db


# revision identifiers, used by Alembic.
revision: str = 'c5e8a1f4b9d2'
down_revision: Union[str, Sequence[str], None] = 'f15719243234'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('notifications') as batch_op:
        batch_op.add_column(sa.Column('last_at', core.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('alarm', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('muted', sa.Boolean(), server_default=sa.false(), nullable=False))
    # Emergency accesses already told stay marked as the alarms they are.
    op.execute("UPDATE notifications SET alarm = true WHERE kind = 'emergency'")
    op.create_table(
        'notification_preferences',
        sa.Column('patient_id', sa.String(length=36), nullable=False),
        sa.Column('access', sa.String(length=10), nullable=False),
        sa.Column('deposit', sa.String(length=10), nullable=False),
        sa.Column('updated_at', core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['patient_id'], ['patients.id'], ),
        sa.PrimaryKeyConstraint('patient_id'),
    )
    _respiratory_dedup("{:.1f}")


def _respiratory_dedup(fmt: str) -> None:
    """Rewrite the respiratory rates' dedup key ("14" -> "14.5") as kinds.dedup_key writes it."""
    bind = op.get_bind()
    rows = bind.execute(sa.text("SELECT id, value, context FROM measures WHERE kind = 'respiratory_rate'")).all()
    for ident, value, context in rows:
        key = fmt.format(value) + (f"|{context}" if context else "")
        bind.execute(sa.text("UPDATE measures SET dedup = :k WHERE id = :i"), {"k": key, "i": ident})


def downgrade() -> None:
    _respiratory_dedup("{:.0f}")
    op.drop_table('notification_preferences')
    with op.batch_alter_table('notifications') as batch_op:
        batch_op.drop_column('muted')
        batch_op.drop_column('alarm')
        batch_op.drop_column('last_at')
