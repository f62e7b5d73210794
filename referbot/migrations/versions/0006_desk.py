"""desk: colleagues apart from sources, old names and codes of merged or renamed sources, recorded edits

Revision ID: 0006
Revises: 0004
Create Date: 2026-11-29
"""
from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('sources', schema=None) as batch_op:
        batch_op.add_column(sa.Column('colleague', sa.Boolean(), nullable=False, server_default=sa.false()))
    op.create_table('source_aliases',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=True),
    sa.Column('code', sa.String(length=64), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['source_id'], ['sources.id'], name=op.f('fk_source_aliases_source_id_sources'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_source_aliases')),
    sa.UniqueConstraint('code', name=op.f('uq_source_aliases_code'))
    )
    with op.batch_alter_table('source_aliases', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_source_aliases_source_id'), ['source_id'], unique=False)
    with op.batch_alter_table('referral_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('field', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('old_value', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('new_value', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('forced', sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table('referral_events', schema=None) as batch_op:
        batch_op.drop_column('forced')
        batch_op.drop_column('new_value')
        batch_op.drop_column('old_value')
        batch_op.drop_column('field')
    with op.batch_alter_table('source_aliases', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_source_aliases_source_id'))
    op.drop_table('source_aliases')
    with op.batch_alter_table('sources', schema=None) as batch_op:
        batch_op.drop_column('colleague')
