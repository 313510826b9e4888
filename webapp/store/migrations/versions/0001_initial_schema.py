"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-22 01:22:29.416142
"""

import sqlalchemy as sa
from alembic import op


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('groups',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_groups')),
    sa.UniqueConstraint('name', name=op.f('uq_groups_name'))
    )
    op.create_table('guidelines',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('file', sa.String(length=255), nullable=False),
    sa.Column('family', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('guideline_id', sa.String(length=255), nullable=False),
    sa.Column('schema', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=32), nullable=True),
    sa.Column('content', sa.Text(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('source', sa.Text(), nullable=False),
    sa.Column('imported_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_guidelines')),
    sa.UniqueConstraint('file', name=op.f('uq_guidelines_file'))
    )
    run_counts = op.create_table('run_counts',
    sa.Column('name', sa.String(length=32), nullable=False),
    sa.Column('count', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_run_counts'))
    )
    op.bulk_insert(run_counts, [{'name': 'public', 'count': 0}])
    op.create_table('test_cases',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key_sha1', sa.String(length=40), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('uuid', sa.String(length=36), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_test_cases')),
    sa.UniqueConstraint('key_sha1', name=op.f('uq_test_cases_key_sha1'))
    )
    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('openid', sa.String(length=255), nullable=False),
    sa.Column('fullname', sa.String(length=255), nullable=False),
    sa.Column('email', sa.String(length=255), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('openid', name=op.f('uq_users_openid'))
    )
    op.create_table('worksheets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('content', sa.Text(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('imported_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_worksheets')),
    sa.UniqueConstraint('name', name=op.f('uq_worksheets_name'))
    )
    op.create_table('api_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('token_sha256', sa.String(length=64), nullable=False),
    sa.Column('label', sa.String(length=255), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_api_tokens_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_tokens')),
    sa.UniqueConstraint('token_sha256', name=op.f('uq_api_tokens_token_sha256'))
    )
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_tokens_user_id'), ['user_id'], unique=False)

    op.create_table('group_members',
    sa.Column('group_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['group_id'], ['groups.id'], name=op.f('fk_group_members_group_id_groups'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_group_members_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('group_id', 'user_id', name=op.f('pk_group_members'))
    )
    op.create_table('pubkeys',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('format', sa.String(length=32), nullable=False),
    sa.Column('pubkey', sa.Text(), nullable=False),
    sa.Column('comment', sa.String(length=255), nullable=False),
    sa.Column('md5_hash', sa.String(length=32), nullable=False),
    sa.Column('key_sha256', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_pubkeys_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pubkeys')),
    sa.UniqueConstraint('key_sha256', name=op.f('uq_pubkeys_key_sha256'))
    )
    with op.batch_alter_table('pubkeys', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pubkeys_md5_hash'), ['md5_hash'], unique=False)
        batch_op.create_index(batch_op.f('ix_pubkeys_user_id'), ['user_id'], unique=False)

    op.create_table('runs',
    sa.Column('pk', sa.Integer(), nullable=False),
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('cpid', sa.String(length=255), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('duration_seconds', sa.Integer(), nullable=False),
    sa.Column('verification_status', sa.SmallInteger(), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=True),
    sa.Column('pubkey_id', sa.Integer(), nullable=True),
    sa.Column('signed', sa.Boolean(), nullable=False),
    sa.Column('shared', sa.Boolean(), nullable=False),
    sa.Column('public', sa.Boolean(), nullable=False),
    sa.Column('meta', sa.JSON(), nullable=False),
    sa.Column('body_sha256', sa.String(length=64), nullable=True),
    sa.Column('test_count', sa.Integer(), nullable=False),
    sa.Column('has_extended', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['owner_id'], ['users.id'], name=op.f('fk_runs_owner_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['pubkey_id'], ['pubkeys.id'], name=op.f('fk_runs_pubkey_id_pubkeys'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('pk', name=op.f('pk_runs')),
    sa.UniqueConstraint('id', name=op.f('uq_runs_id')),
    sa.UniqueConstraint('pubkey_id', 'body_sha256', name='uq_runs_pubkey_body')
    )
    with op.batch_alter_table('runs', schema=None) as batch_op:
        batch_op.create_index('ix_runs_cpid_created', ['cpid', 'created_at', 'pk'], unique=False)
        batch_op.create_index('ix_runs_created', ['created_at', 'pk'], unique=False)
        batch_op.create_index('ix_runs_owner_created', ['owner_id', 'created_at', 'pk'], unique=False)
        batch_op.create_index('ix_runs_public_cpid', ['public', 'cpid', 'created_at', 'pk'], unique=False)
        batch_op.create_index('ix_runs_public_created', ['public', 'created_at', 'pk'], unique=False)

    op.create_table('extended_runs',
    sa.Column('run_pk', sa.Integer(), nullable=False),
    sa.Column('document', sa.LargeBinary(), nullable=False),
    sa.Column('uploaded_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['run_pk'], ['runs.pk'], name=op.f('fk_extended_runs_run_pk_runs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('run_pk', name=op.f('pk_extended_runs'))
    )
    op.create_table('run_tests',
    sa.Column('run_pk', sa.Integer(), nullable=False),
    sa.Column('packed', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['run_pk'], ['runs.pk'], name=op.f('fk_run_tests_run_pk_runs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('run_pk', name=op.f('pk_run_tests'))
    )


def downgrade() -> None:
    op.drop_table('run_tests')
    op.drop_table('extended_runs')
    with op.batch_alter_table('runs', schema=None) as batch_op:
        batch_op.drop_index('ix_runs_public_created')
        batch_op.drop_index('ix_runs_public_cpid')
        batch_op.drop_index('ix_runs_owner_created')
        batch_op.drop_index('ix_runs_created')
        batch_op.drop_index('ix_runs_cpid_created')

    op.drop_table('runs')
    with op.batch_alter_table('pubkeys', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pubkeys_user_id'))
        batch_op.drop_index(batch_op.f('ix_pubkeys_md5_hash'))

    op.drop_table('pubkeys')
    op.drop_table('group_members')
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_tokens_user_id'))

    op.drop_table('api_tokens')
    op.drop_table('worksheets')
    op.drop_table('users')
    op.drop_table('test_cases')
    op.drop_table('run_counts')
    op.drop_table('guidelines')
    op.drop_table('groups')
