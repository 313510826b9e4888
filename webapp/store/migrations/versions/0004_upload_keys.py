"""upload idempotency keys

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07 04:30:00

One row per Idempotency-Key (scoped to the body and the signer, hashed) naming the run first
stored under it, so a retried upload returns that run instead of storing a copy.
"""

import sqlalchemy as sa
from alembic import op


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('upload_keys',
    sa.Column('scope_sha256', sa.String(length=64), nullable=False),
    sa.Column('run_pk', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['run_pk'], ['runs.pk'], name=op.f('fk_upload_keys_run_pk_runs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('scope_sha256', name=op.f('pk_upload_keys'))
    )
    with op.batch_alter_table('upload_keys', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_upload_keys_run_pk'), ['run_pk'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('upload_keys', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_upload_keys_run_pk'))
    op.drop_table('upload_keys')
