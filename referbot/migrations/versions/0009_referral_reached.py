"""referral reached: each referral's furthest funnel stage on its row

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01

The stats' costliest part was the furthest funnel stage of every referral in the window, found by
grouping its status history (all of it, for an all-time report: 8 of 10 s at 1M referrals). The
column holds it (`referbot.domain.funnel_stage`, from the last forced correction on); the backfill
computes it once from the history, and `record_change` keeps it from then on.
"""
from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

#: Each referral's furthest stage from its history, in SQL both databases run. `bench.history` runs
#: it too, after generating its history straight into the tables.
BACKFILL = """
UPDATE referrals SET reached = COALESCE((
  SELECT max(CASE e.status WHEN 'contacted' THEN 1 WHEN 'consult_booked' THEN 2 WHEN 'became_client' THEN 3
                  ELSE 0 END)
  FROM referral_events e
  WHERE e.referral_id = referrals.id
    AND e.id >= COALESCE((SELECT max(f.id) FROM referral_events f
                          WHERE f.referral_id = referrals.id AND f.forced), 0)), 0)
"""


def upgrade() -> None:
    with op.batch_alter_table('referrals', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reached', sa.Integer(), nullable=False, server_default='0'))
    op.execute(BACKFILL)


def downgrade() -> None:
    with op.batch_alter_table('referrals', schema=None) as batch_op:
        batch_op.drop_column('reached')
