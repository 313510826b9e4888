"""count changes of the public runs

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-07 04:10:00

A second maintained counter, ``public_changes``, bumped whenever a run becomes public or
stops being public: cached summaries of the public runs (the scoring page) are keyed by it.
"""

import sqlalchemy as sa
from alembic import op


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_counts = sa.table('run_counts', sa.column('name', sa.String), sa.column('count', sa.BigInteger))
    op.bulk_insert(run_counts, [{'name': 'public_changes', 'count': 0}])


def downgrade() -> None:
    op.execute("DELETE FROM run_counts WHERE name = 'public_changes'")
