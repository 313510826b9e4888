"""run filter columns

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07 05:40:00

The list's filters on meta ``guideline`` and ``target`` read two columns copied out of
``meta`` (without a ``.json`` suffix), and three indexes serve the filters by guideline,
target and verification, newest first. Existing runs get their columns filled here.
"""

import json

import sqlalchemy as sa
from alembic import op


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

FILTERED = {'guideline': 'meta_guideline', 'target': 'meta_target'}


def _value(value: object) -> str | None:
    # the same rule as webapp.store.runs.filter_value, kept here so the migration never changes
    if not isinstance(value, str) or len(value) > 255:
        return None
    return value.removesuffix('.json')


def upgrade() -> None:
    with op.batch_alter_table('runs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('meta_guideline', sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column('meta_target', sa.String(length=255), nullable=True))
    runs = sa.table(
        'runs', sa.column('pk', sa.Integer), sa.column('meta', sa.JSON),
        sa.column('meta_guideline', sa.String), sa.column('meta_target', sa.String),
    )
    connection = op.get_bind()
    changes: list[dict[str, object]] = []
    for pk, meta in connection.execute(sa.select(runs.c.pk, runs.c.meta)):
        if isinstance(meta, str):
            meta = json.loads(meta)
        values = {column: _value((meta or {}).get(key)) for key, column in FILTERED.items()}
        if any(v is not None for v in values.values()):
            changes.append({'run_pk': pk, **values})
    for start in range(0, len(changes), 5000):
        connection.execute(
            runs.update().where(runs.c.pk == sa.bindparam('run_pk')).values(
                meta_guideline=sa.bindparam('meta_guideline'), meta_target=sa.bindparam('meta_target')
            ),
            changes[start:start + 5000],
        )
    with op.batch_alter_table('runs', schema=None) as batch_op:
        batch_op.create_index('ix_runs_public_guideline', ['public', 'meta_guideline', 'created_at', 'pk'], unique=False)
        batch_op.create_index('ix_runs_public_target', ['public', 'meta_target', 'created_at', 'pk'], unique=False)
        batch_op.create_index('ix_runs_public_verified', ['public', 'verification_status', 'created_at', 'pk'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('runs', schema=None) as batch_op:
        batch_op.drop_index('ix_runs_public_verified')
        batch_op.drop_index('ix_runs_public_target')
        batch_op.drop_index('ix_runs_public_guideline')
        batch_op.drop_column('meta_target')
        batch_op.drop_column('meta_guideline')
