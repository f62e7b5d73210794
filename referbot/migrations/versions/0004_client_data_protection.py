"""client data protection: encrypted text columns, unbounded answer columns, erasure stamp, audit log

Client-identifying and free-text columns become plain TEXT: they hold Fernet ciphertext (longer
than the answer) or, for rows written before a key was set, the old value, which still reads.
JSON columns that now hold encrypted documents become TEXT as well; their stored JSON text is kept.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29
"""
from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

#: (table, column, old type) of every column that becomes unbounded TEXT.
_TO_TEXT = (
    ('sources', 'name', sa.String(200)),
    ('sources', 'organisation', sa.String(200)),
    ('sources', 'contact', sa.String(200)),
    ('referrals', 'client_name', sa.String(120)),
    ('referrals', 'client_contact', sa.String(200)),
    ('referrals', 'answers', sa.JSON()),
    ('conversations', 'answers', sa.JSON()),
    ('conversations', 'state', sa.JSON()),
    ('outbox', 'payload', sa.JSON()),
    ('referrals', 'risk', sa.JSON()),  # screening answers and the words that raised a question
)
#: Columns that are NOT NULL (the rest are nullable).
_REQUIRED = {('referrals', 'risk')}


def _retype(columns, to_type_of) -> None:
    postgres = op.get_bind().dialect.name == 'postgresql'
    for table in dict.fromkeys(table for table, _, _ in columns):
        with op.batch_alter_table(table) as batch:
            for _, column, old in (c for c in columns if c[0] == table):
                new, previous = to_type_of(old)
                extra = {'postgresql_using': f'{column}::{"text" if isinstance(new, sa.Text) else "json"}'} \
                    if postgres else {}
                required = (table, column) in _REQUIRED
                if required and postgres:  # a JSON default cannot follow the column to TEXT by itself
                    batch.alter_column(column, server_default=None, existing_type=previous, existing_nullable=False)
                batch.alter_column(column, type_=new, existing_type=previous, existing_nullable=not required,
                                   **extra)
                if required and postgres:
                    batch.alter_column(column, server_default='[]', existing_type=new, existing_nullable=False)


def upgrade() -> None:
    _retype(_TO_TEXT, lambda old: (sa.Text(), old))
    with op.batch_alter_table('referrals') as batch:
        batch.add_column(sa.Column('erased_at', sa.DateTime(timezone=True), nullable=True))
    op.create_table('audit_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=128), nullable=False),
    sa.Column('action', sa.String(length=32), nullable=False),
    sa.Column('target', sa.String(length=128), nullable=False),
    sa.Column('channel', sa.String(length=32), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_log'))
    )
    with op.batch_alter_table('audit_log') as batch:
        batch.create_index(batch.f('ix_audit_log_at'), ['at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('audit_log') as batch:
        batch.drop_index(batch.f('ix_audit_log_at'))
    op.drop_table('audit_log')
    with op.batch_alter_table('referrals') as batch:
        batch.drop_column('erased_at')
    _retype(_TO_TEXT, lambda old: (old, sa.Text()))
