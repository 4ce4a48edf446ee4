"""measure imports: the process running the job (host, boot, pid, start time), so that a
job whose process died is taken over at once instead of after a stale heartbeat

Revision ID: f15719243234
Revises: f704076e6777
Create Date: 2026-12-02 20:10:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = 'f15719243234'
down_revision: Union[str, Sequence[str], None] = 'f704076e6777'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('measure_imports') as batch_op:
        batch_op.add_column(sa.Column('runner', sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('measure_imports') as batch_op:
        batch_op.drop_column('runner')
