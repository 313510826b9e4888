"""vendors, products and product versions; runs attached to product versions

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07 04:50:00

The OpenStack Powered registry: ``organizations`` (vendors, each administered by the members
of its group), ``products`` and ``product_versions``; ``runs.product_version_id``; the
``registry_changes`` counter that cached registry listings are keyed by; an index of a user's
groups (read at every authenticated request); and the Foundation's
own vendor (type 0) when the Foundation group already exists.
"""

import uuid
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('organizations',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('type', sa.SmallInteger(), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('group_id', sa.Integer(), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('properties', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['group_id'], ['groups.id'], name=op.f('fk_organizations_group_id_groups'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_organizations_created_by_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_organizations')),
    sa.UniqueConstraint('group_id', name=op.f('uq_organizations_group_id')),
    )
    op.create_index('ix_group_members_user', 'group_members', ['user_id'], unique=False)
    op.create_index('ix_organizations_type_created', 'organizations', ['type', 'created_at'], unique=False)
    op.create_table('products',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('product_ref_id', sa.String(length=255), nullable=True),
    sa.Column('organization_id', sa.String(length=36), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('public', sa.Boolean(), nullable=False),
    sa.Column('properties', sa.Text(), nullable=True),
    sa.Column('type', sa.SmallInteger(), nullable=False),
    sa.Column('product_type', sa.SmallInteger(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_products_organization_id_organizations'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_products_created_by_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_products')),
    )
    op.create_index(op.f('ix_products_organization_id'), 'products', ['organization_id'], unique=False)
    op.create_index('ix_products_public_name', 'products', ['public', 'name'], unique=False)
    op.create_table('product_versions',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('product_id', sa.String(length=36), nullable=False),
    sa.Column('version', sa.String(length=36), nullable=True),
    sa.Column('cpid', sa.String(length=255), nullable=True),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['product_id'], ['products.id'], name=op.f('fk_product_versions_product_id_products'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_product_versions_created_by_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_product_versions')),
    sa.UniqueConstraint('product_id', 'version', name='uq_product_versions_product_version'),
    )
    op.create_index(op.f('ix_product_versions_product_id'), 'product_versions', ['product_id'], unique=False)
    op.create_index(op.f('ix_product_versions_cpid'), 'product_versions', ['cpid'], unique=False)
    # NOTE: a plain ADD COLUMN with its REFERENCES clause, never a batch copy of ``runs``: on SQLite
    # a copy drops the old table, and with foreign keys on that would cascade into run_tests.
    for column, table in (('product_version_id', 'product_versions'), ('vendor_id', 'organizations')):
        name = f'fk_runs_{column}_{table}'
        if op.get_bind().dialect.name == 'sqlite':
            op.execute(
                f'ALTER TABLE runs ADD COLUMN {column} VARCHAR(36) '
                f'CONSTRAINT {name} REFERENCES {table} (id)'
            )
        else:
            op.add_column('runs', sa.Column(column, sa.String(length=36), nullable=True))
            op.create_foreign_key(name, 'runs', table, [column], ['id'])
    op.create_index('ix_runs_product_version_created', 'runs', ['product_version_id', 'created_at', 'pk'], unique=False)
    run_counts = sa.table('run_counts', sa.column('name', sa.String), sa.column('count', sa.BigInteger))
    op.bulk_insert(run_counts, [{'name': 'registry_changes', 'count': 0}])
    bind = op.get_bind()
    group_id = bind.execute(sa.text("SELECT id FROM groups WHERE kind = 'foundation'")).scalar()
    if group_id is not None:
        organizations = sa.table(
            'organizations', sa.column('id', sa.String), sa.column('type', sa.SmallInteger),
            sa.column('name', sa.String), sa.column('group_id', sa.Integer), sa.column('created_at', sa.DateTime),
        )
        op.bulk_insert(organizations, [{
            'id': str(uuid.uuid4()), 'type': 0, 'name': 'OpenStack Foundation', 'group_id': group_id,
            'created_at': datetime.now(UTC).replace(tzinfo=None, microsecond=0),
        }])


def downgrade() -> None:
    op.drop_index('ix_runs_product_version_created', table_name='runs')
    if op.get_bind().dialect.name == 'sqlite':
        # NOTE: SQLite cannot drop a column with a REFERENCES clause, and a batch copy of ``runs``
        # would cascade into run_tests; the columns stay, emptied (older code never reads them).
        op.execute("UPDATE runs SET product_version_id = NULL, vendor_id = NULL")
    else:
        op.drop_column('runs', 'vendor_id')
        op.drop_column('runs', 'product_version_id')
    op.execute("DELETE FROM run_counts WHERE name = 'registry_changes'")
    op.drop_table('product_versions')
    op.drop_table('products')
    op.drop_table('organizations')
    op.drop_index('ix_group_members_user', table_name='group_members')
