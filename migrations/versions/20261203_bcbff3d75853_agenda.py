"""agenda: appointments, prevention calendar marks, agenda settings (calendar switch and
the private calendar feed)

Revision ID: bcbff3d75853
Revises: 96361f42437a
Create Date: 2026-12-03 07:00:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa

import core.db


# revision identifiers, used by Alembic.
revision: str = 'bcbff3d75853'
down_revision: Union[str, Sequence[str], None] = "96361f42437a"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        'appointments',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('patient_id', sa.String(length=36), nullable=False),
        sa.Column('professional_id', sa.String(length=36), nullable=True),
        sa.Column('with_name', sa.String(length=200), nullable=False),
        sa.Column('starts_at', core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('duration_minutes', sa.Integer(), nullable=False),
        sa.Column('place', sa.String(length=300), nullable=True),
        sa.Column('reason', sa.String(length=300), nullable=True),
        sa.Column('notes', sa.Text(), nullable=True),
        sa.Column('reminder_minutes', sa.Integer(), nullable=True),
        sa.Column('status', sa.String(length=12), nullable=False),
        sa.Column('proposed_by', sa.String(length=12), nullable=False),
        sa.Column('counter_starts_at', core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('reminded_at', core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('sequence', sa.Integer(), nullable=False),
        sa.Column('created_at', core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('updated_at', core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['patient_id'], ['patients.id'], ),
        sa.ForeignKeyConstraint(['professional_id'], ['professionals.id'], ),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_appointments_patient_id', 'appointments', ['patient_id'], unique=False)
    op.create_index('ix_appointments_professional_id', 'appointments', ['professional_id'], unique=False)
    op.create_index('ix_appointments_patient_start', 'appointments', ['patient_id', 'starts_at'], unique=False)
    op.create_index('ix_appointments_reminder', 'appointments', ['status', 'reminded_at', 'starts_at'], unique=False)
    op.create_table(
        'prevention_marks',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('patient_id', sa.String(length=36), nullable=False),
        sa.Column('item', sa.String(length=80), nullable=False),
        sa.Column('status', sa.String(length=10), nullable=False),
        sa.Column('done_on', sa.Date(), nullable=True),
        sa.Column('document_id', sa.String(length=36), nullable=True),
        sa.Column('vaccination_id', sa.String(length=36), nullable=True),
        sa.Column('created_at', core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['patient_id'], ['patients.id'], ),
        sa.ForeignKeyConstraint(['document_id'], ['documents.id'], ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['vaccination_id'], ['profile_vaccinations.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('patient_id', 'item', name='uq_prevention_marks_patient_item'),
    )
    op.create_index('ix_prevention_marks_patient_id', 'prevention_marks', ['patient_id'], unique=False)
    op.create_table(
        'agenda_settings',
        sa.Column('patient_id', sa.String(length=36), nullable=False),
        sa.Column('prevention_off', sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column('feed_hash', sa.String(length=64), nullable=True),
        sa.Column('feed_details', sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column('feed_created_at', core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('feed_read_at', core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('updated_at', core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['patient_id'], ['patients.id'], ),
        sa.PrimaryKeyConstraint('patient_id'),
        sa.UniqueConstraint('feed_hash'),
    )


def downgrade() -> None:
    op.drop_table('agenda_settings')
    op.drop_index('ix_prevention_marks_patient_id', table_name='prevention_marks')
    op.drop_table('prevention_marks')
    op.drop_index('ix_appointments_reminder', table_name='appointments')
    op.drop_index('ix_appointments_patient_start', table_name='appointments')
    op.drop_index('ix_appointments_professional_id', table_name='appointments')
    op.drop_index('ix_appointments_patient_id', table_name='appointments')
    op.drop_table('appointments')
