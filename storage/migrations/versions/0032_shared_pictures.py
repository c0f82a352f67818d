"""shared pictures: charts the bot drew, served at an unguessable, short-lived address (Zalo's sendPhoto takes a URL)

Revision ID: 0032
Revises: 0031
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0032"
down_revision = "0031"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "shared_pictures",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("content_type", sa.String(length=64), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shared_pictures")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_shared_pictures_token_hash")),
    )
    with op.batch_alter_table("shared_pictures", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_shared_pictures_expires_at"), ["expires_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("shared_pictures", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_shared_pictures_expires_at"))
    op.drop_table("shared_pictures")
