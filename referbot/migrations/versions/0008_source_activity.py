"""source activity: each source's latest contacts and referral, and what its nudges have settled, on its row

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01

The nudger and the stats used to look up, per source and per tick, its last contact of several
kinds and its last referral: ten index lookups for each of 50,000 sources at 1M referrals. These
columns hold the answers (see `referbot.nudges.scope`); the backfill computes them once from the
history, and from then on the writes keep them. What the nudger remembers (ended anchors, settled
instants) starts empty: its first tick after the upgrade writes it, so that tick still looks at
every source with a nudge due or done before.
"""
from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

ACTIVITY = ('last_touch_at', 'last_thanked_at', 'last_referred_back_at', 'last_update_sent_at', 'last_referral_at')
REMEMBERED = ('stay_in_touch_ended_anchor', 'reciprocity_ended_anchor', 'lapsed_source_ended_anchor',
              'thank_source_settled_through', 'close_loop_settled_through')

#: The activity columns from the history, in SQL both databases run. `bench.history` runs it too,
#: after generating its history straight into the tables.
BACKFILL = """
UPDATE sources SET
  last_touch_at = (SELECT max(t.at) FROM touchpoints t WHERE t.source_id = sources.id),
  last_thanked_at = (SELECT max(t.at) FROM touchpoints t WHERE t.source_id = sources.id AND t.kind = 'thanked'),
  last_referred_back_at = (SELECT max(t.at) FROM touchpoints t
                           WHERE t.source_id = sources.id AND t.kind = 'referred_back'),
  last_update_sent_at = (SELECT max(t.at) FROM touchpoints t
                         WHERE t.source_id = sources.id AND t.kind = 'update_sent'),
  last_referral_at = (SELECT max(r.created_at) FROM referrals r WHERE r.source_id = sources.id)
"""


def upgrade() -> None:
    with op.batch_alter_table('sources', schema=None) as batch_op:
        for name in (*ACTIVITY, *REMEMBERED):
            batch_op.add_column(sa.Column(name, sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('story_revision', sa.Integer(), nullable=False, server_default='0'))
    op.execute(BACKFILL)


def downgrade() -> None:
    with op.batch_alter_table('sources', schema=None) as batch_op:
        for name in ('story_revision', *reversed(REMEMBERED), *reversed(ACTIVITY)):
            batch_op.drop_column(name)
