"""referral risk: crisis kind, urgent review, and the risk record of the intake

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29
"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('referrals', schema=None) as batch_op:
        batch_op.add_column(sa.Column('crisis_kind', sa.String(length=19), nullable=True))
        batch_op.add_column(sa.Column('urgent_review', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('risk', sa.JSON(), nullable=False, server_default='[]'))
    # Crises recorded before this revision keep crisis_kind empty: their kind was never recorded.


def downgrade() -> None:
    with op.batch_alter_table('referrals', schema=None) as batch_op:
        batch_op.drop_column('risk')
        batch_op.drop_column('urgent_review')
        batch_op.drop_column('crisis_kind')
