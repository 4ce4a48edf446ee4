"""audit chain keyed: each trace's position in the chain, under the HMAC

Traces written before this revision keep seq NULL (plain SHA-256 chain); the first keyed trace
records their head and count under the audit key (core/audit.py). A downgrade leaves keyed traces that the code of the
revision before cannot verify.

Revision ID: f704076e6777
Revises: 3b9f4e2c7a1d
Create Date: 2026-12-02 20:00:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = 'f704076e6777'
down_revision: Union[str, Sequence[str], None] = '3b9f4e2c7a1d'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('audit_events') as batch_op:
        batch_op.add_column(sa.Column('seq', sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('audit_events') as batch_op:
        batch_op.drop_column('seq')
