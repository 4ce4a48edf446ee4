"""documents deposited by professionals: author profession and the share or grant used

Revision ID: 7a3c1e9d5b20
Revises: 58226df13e93
Create Date: 2026-11-29 09:00:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '7a3c1e9d5b20'
down_revision: Union[str, Sequence[str], None] = '58226df13e93'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """A deposited document names its author's profession and the share or grant it came through."""
    with op.batch_alter_table('documents') as batch_op:
        batch_op.add_column(sa.Column('author_profession', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('grant_id', sa.String(length=36), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('documents') as batch_op:
        batch_op.drop_column('grant_id')
        batch_op.drop_column('author_profession')
