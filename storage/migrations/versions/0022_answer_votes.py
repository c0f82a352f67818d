"""answer votes: 👍/👎 on the bot's answers, counted for statistics (no text, no person)

Revision ID: 0022
Revises: 0011
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "answer_votes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("vote", sa.String(length=8), nullable=False),
        sa.Column("intent", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_answer_votes")),
    )
    op.create_index(op.f("ix_answer_votes_at"), "answer_votes", ["at"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_answer_votes_at"), table_name="answer_votes")
    op.drop_table("answer_votes")
