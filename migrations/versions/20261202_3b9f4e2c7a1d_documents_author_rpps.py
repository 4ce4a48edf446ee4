"""documents deposited by professionals: the author's RPPS, so a hidden document stays
visible to its author

Revision ID: 3b9f4e2c7a1d
Revises: 7a3c1e9d5b20
Create Date: 2026-12-02 04:00:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '3b9f4e2c7a1d'
down_revision: Union[str, Sequence[str], None] = '7a3c1e9d5b20'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('documents') as batch_op:
        batch_op.add_column(sa.Column('author_rpps', sa.String(length=11), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('documents') as batch_op:
        batch_op.drop_column('author_rpps')
