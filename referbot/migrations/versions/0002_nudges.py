"""nudges: relationship reminders, one row per due fact

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""
from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('nudges',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=21), nullable=False),
    sa.Column('source_id', sa.Integer(), nullable=True),
    sa.Column('referral_id', sa.Integer(), nullable=True),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('state', sa.String(length=15), nullable=False),
    sa.Column('snoozed_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('snoozes', sa.Integer(), nullable=False),
    sa.Column('notified_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('draft', sa.Text(), nullable=False),
    sa.Column('acted_by', sa.String(length=128), nullable=True),
    sa.Column('acted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['source_id'], ['sources.id'], name=op.f('fk_nudges_source_id_sources'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['referral_id'], ['referrals.id'], name=op.f('fk_nudges_referral_id_referrals'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_nudges')),
    sa.UniqueConstraint('key', name=op.f('uq_nudges_key'))
    )
    with op.batch_alter_table('nudges', schema=None) as batch_op:
        batch_op.create_index('ix_nudges_state_due', ['state', 'due_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_nudges_source_id'), ['source_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_nudges_referral_id'), ['referral_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('nudges', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_nudges_referral_id'))
        batch_op.drop_index(batch_op.f('ix_nudges_source_id'))
        batch_op.drop_index('ix_nudges_state_due')
    op.drop_table('nudges')
