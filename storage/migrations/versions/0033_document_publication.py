"""document publication: the newspaper or site that published an ingested document ("Lao động Thủ đô")

Revision ID: 0033
Revises: 0032
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0033"
down_revision = "0032"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("documents") as batch:
        batch.add_column(sa.Column("publication", sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("documents") as batch:
        batch.drop_column("publication")
