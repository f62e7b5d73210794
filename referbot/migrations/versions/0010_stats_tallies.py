"""stats tallies: running counts of every referral, per source, per channel and verdict, per wait

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01

An all-time report read every referral ever (4 s at 1M referrals, growing with history). These
tables hold what it sums (see `referbot.store.tallies`): the backfill counts the referrals once,
set-based, and the writes keep the counts from then on.
"""
from alembic import op
import sqlalchemy as sa


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

#: Each contacted referral's whole minutes from arrival to first contact, rounded down
#: (`referbot.store.tallies.wait_minutes`), as a subquery with one column, `minutes`. PostgreSQL
#: subtracts exactly; SQLite's julianday reads times to the millisecond (so there a wait within a
#: millisecond of a whole minute may land in the next one) and may lack floor(), hence the integers.
WAITS = {
    "postgresql": """SELECT floor(extract(epoch FROM first_contact_at - created_at) / 60)::integer AS minutes
                     FROM referrals WHERE first_contact_at IS NOT NULL""",
    "sqlite": """SELECT CASE WHEN ms >= 0 THEN ms / 60000 ELSE -((59999 - ms) / 60000) END AS minutes
                 FROM (SELECT CAST(round((julianday(first_contact_at) - julianday(created_at)) * 86400000)
                                   AS INTEGER) AS ms
                       FROM referrals WHERE first_contact_at IS NOT NULL) milliseconds""",
}


def backfill(dialect: str) -> list[str]:
    """The tallies counted from the referrals, in SQL `dialect` runs. `bench.history` runs it too,
    after generating its history straight into the tables."""
    return [
        """INSERT INTO source_tallies (source_key, referrals, good_fit, contacted, consult_booked, became_client,
                                       good_fit_clients, referred_back)
           SELECT source_key, sum(referrals), sum(good_fit), sum(contacted), sum(consult_booked), sum(became_client),
                  sum(good_fit_clients), sum(referred_back)
           FROM (SELECT COALESCE(source_id, 0) AS source_key, 1 AS referrals,
                        CASE WHEN verdict = 'good_fit' THEN 1 ELSE 0 END AS good_fit,
                        CASE WHEN reached >= 1 THEN 1 ELSE 0 END AS contacted,
                        CASE WHEN reached >= 2 THEN 1 ELSE 0 END AS consult_booked,
                        CASE WHEN reached >= 3 THEN 1 ELSE 0 END AS became_client,
                        CASE WHEN verdict = 'good_fit' AND reached >= 3 THEN 1 ELSE 0 END AS good_fit_clients,
                        0 AS referred_back
                 FROM referrals
                 UNION ALL
                 SELECT source_id, 0, 0, 0, 0, 0, 0, 1 FROM touchpoints WHERE kind = 'referred_back') counted
           GROUP BY source_key""",
        """INSERT INTO channel_tallies (channel, verdict, referrals)
           SELECT channel, verdict, count(*) FROM referrals GROUP BY channel, verdict""",
        f"INSERT INTO wait_tallies (minutes, referrals) SELECT minutes, count(*) FROM ({WAITS[dialect]}) waits "
        "GROUP BY minutes",
    ]


def upgrade() -> None:
    counts = ('referrals', 'good_fit', 'contacted', 'consult_booked', 'became_client', 'good_fit_clients',
              'referred_back')
    op.create_table('source_tallies',
                    sa.Column('source_key', sa.Integer(), autoincrement=False, nullable=False),
                    *(sa.Column(name, sa.Integer(), nullable=False) for name in counts),
                    sa.PrimaryKeyConstraint('source_key', name=op.f('pk_source_tallies')))
    op.create_table('channel_tallies',
                    sa.Column('channel', sa.String(length=32), nullable=False),
                    sa.Column('verdict', sa.String(length=20), nullable=False),
                    sa.Column('referrals', sa.Integer(), nullable=False),
                    sa.PrimaryKeyConstraint('channel', 'verdict', name=op.f('pk_channel_tallies')))
    op.create_table('wait_tallies',
                    sa.Column('minutes', sa.Integer(), autoincrement=False, nullable=False),
                    sa.Column('referrals', sa.Integer(), nullable=False),
                    sa.PrimaryKeyConstraint('minutes', name=op.f('pk_wait_tallies')))
    for statement in backfill(op.get_bind().dialect.name):
        op.execute(statement)


def downgrade() -> None:
    for table in ('wait_tallies', 'channel_tallies', 'source_tallies'):
        op.drop_table(table)
