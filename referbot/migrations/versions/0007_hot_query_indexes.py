"""indexes for the hot queries: thank-yous by source and kind, status history by referral

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29

- touchpoints (source_id, kind, at): "was this source thanked (or sent an update) since …" — the
  stats' thanks_owed anti-join and the nudger probe one source's contacts of one kind; with only
  (source_id, at) PostgreSQL hashed every touchpoint instead.
- touchpoints (kind, at): referrals back (and other contacts of one kind) in a stats window.
- referral_events (referral_id, status, at): the stats funnel (furthest status per referral) and
  the nudger's outcome times read only these columns, so an index-only scan serves them.
"""
from alembic import op


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('touchpoints', schema=None) as batch_op:
        batch_op.create_index('ix_touchpoints_source_kind_at', ['source_id', 'kind', 'at'], unique=False)
        batch_op.create_index('ix_touchpoints_kind_at', ['kind', 'at'], unique=False)
    with op.batch_alter_table('referral_events', schema=None) as batch_op:
        batch_op.create_index('ix_referral_events_referral_status_at', ['referral_id', 'status', 'at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('referral_events', schema=None) as batch_op:
        batch_op.drop_index('ix_referral_events_referral_status_at')
    with op.batch_alter_table('touchpoints', schema=None) as batch_op:
        batch_op.drop_index('ix_touchpoints_kind_at')
        batch_op.drop_index('ix_touchpoints_source_kind_at')
