"""each département names its préfecture (chef-lieu) (issue #18, a demo that looks real)

Revision ID: f3a8d2c61e47
Revises: a7e3c91f5b20
Create Date: 2026-12-06 16:00:00

The demo and the units place people at the préfecture: « Lyon », not « Rhône (préfecture) ». The names are filled
from the reference file shipped with this version (app/data/departements.csv), as `flask reference-data` would.
"""
import csv
from pathlib import Path

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'f3a8d2c61e47'
down_revision = 'a7e3c91f5b20'
branch_labels = None
depends_on = None

DEPARTEMENTS_CSV = Path(__file__).resolve().parents[2] / "app" / "data" / "departements.csv"


def upgrade():
    with op.batch_alter_table('departement', schema=None) as batch_op:
        batch_op.add_column(sa.Column('prefecture', sa.String(length=80), server_default='', nullable=False))
    with DEPARTEMENTS_CSV.open(encoding="utf-8", newline="") as handle:
        rows = [{"code": row["code"], "prefecture": row["prefecture"]} for row in csv.DictReader(handle)]
    op.get_bind().execute(sa.text("UPDATE departement SET prefecture = :prefecture WHERE code = :code"), rows)


def downgrade():
    with op.batch_alter_table('departement', schema=None) as batch_op:
        batch_op.drop_column('prefecture')
