"""Kept feed events per language (issue #19: calendars in the reader's language)

Revision ID: 5b7e0c3d91a2
Revises: d2840806960f
Create Date: 2026-12-06 18:30:00.000000

A session's VEVENT is now written in its reader's language: the events kept for the feeds are keyed by language
too. The table only holds a cache (every entry is rebuilt on the next build of a feed, and the events' format
changed anyway), so it is made anew rather than altered: no primary key to rename on SQLite.

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '5b7e0c3d91a2'
down_revision = 'd2840806960f'
branch_labels = None
depends_on = None


def _create(with_language: bool):
    columns = [
        sa.Column('intervention_id', sa.Integer(), nullable=False),
        sa.Column('variant', sa.String(length=30), nullable=False),
    ]
    if with_language:
        columns.append(sa.Column('language', sa.String(length=5), nullable=False))
    key = ['intervention_id', 'variant', 'language'] if with_language else ['intervention_id', 'variant']
    op.create_table(
        'calendar_entry',
        *columns,
        sa.Column('version', sa.String(length=80), nullable=False),
        sa.Column('vevent', sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(['intervention_id'], ['intervention.id'],
                                name=op.f('fk_calendar_entry_intervention_id_intervention'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint(*key, name=op.f('pk_calendar_entry')),
    )


def upgrade():
    op.drop_table('calendar_entry')
    _create(with_language=True)


def downgrade():
    op.drop_table('calendar_entry')
    _create(with_language=False)
